package gcpsm_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/gcpsm"
	"github.com/tokenstore-go/tokenstore/gcpsm/gcpsmtest"
)

// TestAPICallsPerOperation counts the Secret Manager calls of each Store
// operation on the client, with a gRPC interceptor: they are what users pay
// for and wait on.
func TestAPICallsPerOperation(t *testing.T) {
	ctx := t.Context()
	f := newFake(t)
	b := f.backend(t, gcpsm.Options{})
	s := newStore(t, b, "calls")
	a := token(1)
	steps := []struct {
		op   string
		max  int
		call func() error
	}{
		{"SaveToken (new user)", 5, func() error { return s.SaveToken(ctx, a) }},
		{"SaveToken (unchanged)", 1, func() error { return s.SaveToken(ctx, token(1)) }},
		{"SaveToken (changed, same index)", 4, func() error {
			return s.SaveToken(ctx, &tokenstore.Token{ID: a.ID, Expiry: a.Expiry.Add(time.Hour)})
		}},
		{"SaveToken (refresh: index changes)", 4, func() error {
			return s.SaveToken(ctx, &tokenstore.Token{ID: a.ID, AccessToken: "1000.refreshed"})
		}},
		{"SaveToken (changed, by another process)", 5, func() error {
			other := newStore(t, f.backend(t, gcpsm.Options{}), "calls")
			return other.SaveToken(ctx, &tokenstore.Token{ID: a.ID, AccessToken: "1000.refreshed-elsewhere"})
		}},
		{"FindTokenByID", 1, func() error { _, err := s.FindTokenByID(ctx, a.ID); return err }},
		{"FindToken (by the creating key)", 1, func() error {
			_, err := s.FindToken(ctx, &tokenstore.Token{UserName: a.UserName})
			return err
		}},
		{"FindToken (by another key)", 3, func() error {
			_, err := s.FindToken(ctx, &tokenstore.Token{ClientID: a.ClientID, ClientSecret: a.ClientSecret, RefreshToken: a.RefreshToken})
			return err
		}},
		{"DeleteToken", 1, func() error { return s.DeleteToken(ctx, a.ID) }},
	}
	f.calls.take()
	for _, st := range steps {
		if err := st.call(); err != nil {
			t.Fatalf("%s: %v", st.op, err)
		}
		calls := f.calls.take()
		t.Logf("%-42s %d calls %v", st.op, total(calls), calls)
		if total(calls) > st.max {
			t.Errorf("%s made %d calls %v, want at most %d", st.op, total(calls), calls, st.max)
		}
	}

	// GetTokens over 100 tokens: one page of ListSecrets, one access each.
	for i := range 100 {
		if err := s.SaveToken(ctx, token(100+i)); err != nil {
			t.Fatal(err)
		}
	}
	f.calls.take()
	all, err := s.GetTokens(ctx)
	if err != nil || len(all) != 100 {
		t.Fatalf("GetTokens = %d tokens, %v", len(all), err)
	}
	calls := f.calls.take()
	t.Logf("%-42s %d calls %v", "GetTokens (100 tokens)", total(calls), calls)
	if calls["ListSecrets"] != 1 || calls["AccessSecretVersion"] != 100 || total(calls) != 101 {
		t.Errorf("GetTokens of 100 tokens made %v, want 1 ListSecrets and 100 AccessSecretVersion", calls)
	}
}

// BenchmarkGetTokens100 lists 100 tokens from a fake that takes 5 ms a
// call, as a nearby region does: sequentially and with the default
// parallelism. Compare the ns/op of the two.
func BenchmarkGetTokens100(b *testing.B) {
	f := newFake(b, gcpsmtest.WithLatency(5*time.Millisecond))
	seed := newStore(b, f.backend(b, gcpsm.Options{}), "bench")
	for i := range 100 {
		if err := seed.SaveToken(b.Context(), token(i)); err != nil {
			b.Fatal(err)
		}
	}
	for _, p := range []int{1, gcpsm.DefaultParallelism, 32} {
		b.Run(fmt.Sprintf("parallelism=%d", p), func(b *testing.B) {
			s := newStore(b, f.backend(b, gcpsm.Options{Parallelism: p}), "bench")
			for b.Loop() {
				if all, err := s.GetTokens(b.Context()); err != nil || len(all) != 100 {
					b.Fatal(len(all), err)
				}
			}
		})
	}
}

// BenchmarkFindByID reads one token by ID from a fake without latency.
func BenchmarkFindByID(b *testing.B) {
	f := newFake(b)
	s := newStore(b, f.backend(b, gcpsm.Options{}), "bench")
	tok := token(1)
	if err := s.SaveToken(b.Context(), tok); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.FindTokenByID(b.Context(), tok.ID); err != nil {
			b.Fatal(err)
		}
	}
}
