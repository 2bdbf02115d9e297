package hashivault_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/hashivault"
)

// countKinds counts requests by method and whether they touch index entries
// or metadata.
func countKinds(reqs []string) (tokenReads, tokenWrites, lists, other int) {
	for _, r := range reqs {
		method, p, _ := strings.Cut(r, " ")
		switch {
		case method == "LIST":
			lists++
		case strings.Contains(p, "/index/") || strings.Contains(p, "/metadata/"):
			other++
		case method == "GET":
			tokenReads++
		default:
			tokenWrites++
		}
	}
	return
}

// TestRequestsPerOperation counts the HTTP requests each Store operation
// makes to Vault, logs them as a table and asserts the bounds of the
// package doc.
func TestRequestsPerOperation(t *testing.T) {
	e := getEnv(t)
	ctx := t.Context()
	client, cnt := e.client(t, e.token)
	prefix := unique(t, "calls")
	b := e.backend(t, client, hashivault.Options{Prefix: prefix})
	s := newStore(t, b, "ns")
	a := user(1)
	byRefresh := &tokenstore.Token{ClientID: a.ClientID, ClientSecret: a.ClientSecret, RefreshToken: a.RefreshToken}

	steps := []struct {
		op    string
		max   int // requests in all
		check func(t *testing.T, reqs []string)
		call  func() error
	}{
		{"SaveToken (new user: 4 index values)", 8, nil, func() error { return s.SaveToken(ctx, a) }},
		{"FindTokenByID", 1, nil, func() error { _, err := s.FindTokenByID(ctx, a.ID); return err }},
		{"FindToken (by the creation key, user name)", 1, nil, func() error {
			_, err := s.FindToken(ctx, &tokenstore.Token{UserName: a.UserName})
			return err
		}},
		// Store first reads the ID the refresh token would have derived
		// (404), then searches: LIST of the index folder, read of the token.
		{"FindToken (by another key, refresh token)", 3, func(t *testing.T, reqs []string) {
			if _, _, lists, _ := countKinds(reqs); lists != 1 {
				t.Errorf("%d LISTs, want 1", lists)
			}
		}, func() error { _, err := s.FindToken(ctx, byRefresh); return err }},
		{"SaveToken (existing, by ID, index unchanged)", 2, noIndexWrites, func() error {
			return s.SaveToken(ctx, &tokenstore.Token{ID: a.ID, Expiry: time.UnixMilli(1e12)})
		}},
		{"SaveToken (existing, by user name, index unchanged)", 2, noIndexWrites, func() error {
			return s.SaveToken(ctx, &tokenstore.Token{UserName: a.UserName, Expiry: time.UnixMilli(2e12)})
		}},
		{"SaveToken (unchanged)", 1, noIndexWrites, func() error {
			return s.SaveToken(ctx, &tokenstore.Token{UserName: a.UserName, Expiry: time.UnixMilli(2e12)})
		}},
		// A refresh: new access token. Read and cas write, then the
		// custom_metadata copy, the new access entry, the old one's
		// delete, and the read that guards the delete.
		{"SaveToken (existing, new access token)", 6, func(t *testing.T, reqs []string) {
			if r, w, _, _ := countKinds(reqs); r+w > 3 {
				t.Errorf("%d token reads and writes, want at most 3", r+w)
			}
		}, func() error {
			return s.SaveToken(ctx, &tokenstore.Token{UserName: a.UserName, AccessToken: "1000.access-refreshed"})
		}},
		{"DeleteToken (4 index values)", 6, nil, func() error { return s.DeleteToken(ctx, a.ID) }},
	}
	cnt.take()
	t.Logf("%-55s %s", "operation", "requests")
	for _, st := range steps {
		if err := st.call(); err != nil {
			t.Fatalf("%s: %v", st.op, err)
		}
		reqs := cnt.take()
		t.Logf("%-55s %d: %s", st.op, len(reqs), summary(reqs))
		if len(reqs) > st.max {
			t.Errorf("%s made %d requests, want at most %d: %v", st.op, len(reqs), st.max, reqs)
		}
		if st.check != nil {
			st.check(t, reqs)
		}
	}

	// GetTokens over 100 tokens: 1 LIST and 100 reads, in parallel.
	const n = 100
	saveMany(t, s, n)
	cnt.take()
	all, err := s.GetTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reqs := cnt.take()
	r, w, lists, other := countKinds(reqs)
	t.Logf("%-55s %d: %s", fmt.Sprintf("GetTokens (%d tokens)", n), len(reqs), summary(reqs))
	if len(all) != n || lists != 1 || r != n || w+other != 0 {
		t.Errorf("GetTokens of %d tokens: %d tokens, %d LIST, %d reads, %d other requests; want 1 LIST and %d reads", n, len(all), lists, r, w+other, n)
	}
	seq := newStore(t, e.backend(t, client, hashivault.Options{Prefix: prefix, Parallelism: 1}), "ns")
	par, one := bestOf(t, 3, s), bestOf(t, 3, seq)
	t.Logf("GetTokens of %d tokens: %v with Parallelism %d, %v sequential: %.1fx faster (best of 3)",
		n, par, hashivault.DefaultParallelism, one, float64(one)/float64(par))
}

func noIndexWrites(t *testing.T, reqs []string) {
	if _, _, _, other := countKinds(reqs); other != 0 {
		t.Errorf("%d index or metadata requests, want none: %v", other, reqs)
	}
}

// saveMany saves n new tokens, 8 at a time.
func saveMany(t testing.TB, s *tokenstore.Store, n int) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.SaveToken(t.Context(), user(1000+i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// bestOf times GetTokens k times and returns the fastest.
func bestOf(t testing.TB, k int, s *tokenstore.Store) time.Duration {
	var best time.Duration
	for range k {
		start := time.Now()
		if _, err := s.GetTokens(t.Context()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); best == 0 || d < best {
			best = d
		}
	}
	return best
}

func BenchmarkGetTokens100(b *testing.B) {
	e := getEnv(b)
	prefix := unique(b, "bench")
	saveMany(b, newStore(b, e.backend(b, e.root(b), hashivault.Options{Prefix: prefix}), "ns"), 100)
	for _, p := range []int{1, 4, 8, 16} {
		b.Run(fmt.Sprintf("parallelism=%d", p), func(b *testing.B) {
			s := newStore(b, e.backend(b, e.root(b), hashivault.Options{Prefix: prefix, Parallelism: p}), "ns")
			for b.Loop() {
				if _, err := s.GetTokens(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFindByID(b *testing.B) {
	e := getEnv(b)
	s := newStore(b, e.backend(b, e.root(b), hashivault.Options{Prefix: unique(b, "bench")}), "ns")
	a := user(1)
	if err := s.SaveToken(b.Context(), a); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.FindTokenByID(b.Context(), a.ID); err != nil {
			b.Fatal(err)
		}
	}
}
