package tokenstore_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/memstore"
)

const user = "ada@example.com:60001"

// saveUser stores a refreshable token for user that expires at expiry.
func saveUser(t *testing.T, s tokenstore.TokenStore, p *fakeProvider, expiry time.Time) *tokenstore.Token {
	t.Helper()
	ctx := t.Context()
	// Get a real refresh token from the provider.
	ot, err := p.config().Exchange(ctx, p.code())
	if err != nil {
		t.Fatal(err)
	}
	tok := tokenstore.FromOAuth2(ot)
	tok.UserName = user
	tok.Expiry = expiry
	if err := s.SaveToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	p.exchanges.Store(0)
	return tok
}

func newSource(t *testing.T, s tokenstore.TokenStore, p *fakeProvider, q *tokenstore.Token, opts tokenstore.TokenSourceOptions) *tokenstore.TokenSource {
	t.Helper()
	ts, err := tokenstore.NewTokenSource(t.Context(), s, p.config(), q, opts)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestTokenSourceReturnsStoredTokenWhileFresh(t *testing.T) {
	p := newFakeProvider(t)
	s := newStore(t, memstore.New())
	stored := saveUser(t, s, p, time.Now().Add(time.Hour))
	ts := newSource(t, s, p, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{})
	for range 3 {
		got, err := ts.Token()
		if err != nil {
			t.Fatal(err)
		}
		if got.AccessToken != stored.AccessToken {
			t.Fatalf("got another access token than the stored one")
		}
	}
	if n := p.refreshes.Load(); n != 0 {
		t.Errorf("%d refreshes of a fresh token, want 0", n)
	}
}

func TestTokenSourceRefreshesWithinSkew(t *testing.T) {
	ctx := t.Context()
	p := newFakeProvider(t)
	p.noRotate = true // the response has no refresh token: the stored one stays
	s := newStore(t, memstore.New())
	stored := saveUser(t, s, p, time.Now().Add(30*time.Second))
	ts := newSource(t, s, p, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{Skew: time.Minute})
	got, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken == stored.AccessToken || p.refreshes.Load() != 1 {
		t.Fatalf("token within Skew of its expiry not refreshed (%d refreshes)", p.refreshes.Load())
	}
	if got.Extra("api_domain") != "https://www.zohoapis.eu" {
		t.Errorf("api_domain = %v, want it kept", got.Extra("api_domain"))
	}
	for _, k := range []string{"tokenstore.lease"} {
		if got.Extra(k) != nil {
			t.Errorf("reserved extra %q leaked into the oauth2.Token", k)
		}
	}
	now, err := s.FindToken(ctx, &tokenstore.Token{UserName: user})
	if err != nil {
		t.Fatal(err)
	}
	if now.AccessToken != got.AccessToken || now.RefreshToken != stored.RefreshToken || now.APIDomain != "https://www.zohoapis.eu" {
		t.Errorf("stored after refresh: %v; want the new access token, the old refresh token and api_domain", now)
	}
	if _, ok := now.Extra["tokenstore.lease"]; ok {
		t.Errorf("lease left in the stored token after the refresh")
	}
}

func TestTokenSourceExchangesGrantTokenOnce(t *testing.T) {
	ctx := t.Context()
	p := newFakeProvider(t)
	b := memstore.New()
	q := &tokenstore.Token{UserName: user, ClientID: "client", ClientSecret: "secret", GrantToken: p.code()}
	ts := newSource(t, newStore(t, b), p, q, tokenstore.TokenSourceOptions{})
	first, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	// A new process, with the same configuration, finds the token.
	ts2 := newSource(t, newStore(t, b), p, q, tokenstore.TokenSourceOptions{})
	second, err := ts2.TokenContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first.AccessToken != second.AccessToken || first.RefreshToken == "" {
		t.Errorf("second process got another token")
	}
	if n := p.exchanges.Load(); n != 1 {
		t.Errorf("%d exchanges of one grant token, want 1", n)
	}
}

func TestTokenSourceKeepsTokenWhenSaveFails(t *testing.T) {
	ctx := t.Context()
	p := newFakeProvider(t)
	b := &flakyBackend{Backend: memstore.New()}
	s := newStore(t, b)
	q := &tokenstore.Token{UserName: user, ClientID: "client", ClientSecret: "secret", GrantToken: p.code()}
	if err := s.SaveToken(ctx, q.Clone()); err != nil {
		t.Fatal(err)
	}
	ts := newSource(t, s, p, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{})
	// The store goes down while the code is exchanged.
	storeDown := func() { b.failWrites.Store(true) }
	p.after.Store(&storeDown)
	_, err := ts.Token()
	if !errors.Is(err, errStoreDown) {
		t.Fatalf("Token with the store down after the exchange: %v, want errStoreDown", err)
	}
	if _, err := ts.Token(); !errors.Is(err, errStoreDown) {
		t.Fatalf("Token with the store still down: %v, want errStoreDown", err)
	}
	p.after.Store(nil)
	b.failWrites.Store(false)
	got, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if n := p.exchanges.Load(); n != 1 {
		t.Fatalf("%d exchanges, want 1: the obtained token was dropped", n)
	}
	stored, err := newStore(t, b).FindToken(ctx, &tokenstore.Token{UserName: user})
	if err != nil {
		t.Fatal(err)
	}
	if stored.AccessToken != got.AccessToken || !p.active(stored.RefreshToken) {
		t.Errorf("stored token is not the one obtained by the exchange")
	}
}

func TestTokenSourceInvalidGrantMeansReauthorize(t *testing.T) {
	p := newFakeProvider(t)
	s := newStore(t, memstore.New())
	saveUser(t, s, p, time.Now().Add(-time.Hour))
	p.mu.Lock()
	for _, fam := range p.refresh {
		p.revoked[fam] = true // the user withdrew consent
	}
	p.mu.Unlock()
	ts := newSource(t, s, p, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{})
	_, err := ts.Token()
	if !errors.Is(err, tokenstore.ErrReauthorize) {
		t.Fatalf("Token after revocation: %v, want ErrReauthorize", err)
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("error does not carry the provider's invalid_grant: %v", err)
	}
}

func TestTokenSourceProviderOutageLeavesTokenUntouched(t *testing.T) {
	ctx := t.Context()
	p := newFakeProvider(t)
	s := newStore(t, memstore.New())
	saveUser(t, s, p, time.Now().Add(-time.Minute))
	before, err := s.FindToken(ctx, &tokenstore.Token{UserName: user})
	if err != nil {
		t.Fatal(err)
	}
	p.fail.Store(true)
	ts := newSource(t, s, p, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{})
	_, err = ts.Token()
	if err == nil || errors.Is(err, tokenstore.ErrReauthorize) {
		t.Fatalf("Token during an outage: %v, want an error that is not ErrReauthorize", err)
	}
	if strings.Contains(err.Error(), before.RefreshToken) {
		t.Errorf("error holds the refresh token")
	}
	after, err := s.FindToken(ctx, &tokenstore.Token{UserName: user})
	if err != nil {
		t.Fatal(err)
	}
	if !after.Equal(before) {
		t.Errorf("stored token changed by a failed refresh: %v, was %v", after, before)
	}
	p.fail.Store(false)
	if _, err := ts.Token(); err != nil {
		t.Errorf("Token after the outage: %v", err)
	}
}

func TestTokenSourceConcurrentCallersRefreshOnce(t *testing.T) {
	p := newFakeProvider(t)
	b := memstore.New()
	saveUser(t, newStore(t, b), p, time.Now().Add(-time.Minute))
	stores := []*tokenstore.Store{newStore(t, b), newStore(t, b), newStore(t, b)}
	var wg sync.WaitGroup
	start := make(chan struct{})
	tokens := make(chan string, 48)
	for i := range 48 {
		wg.Go(func() {
			ts := newSource(t, stores[i%len(stores)], p, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{PollInterval: time.Millisecond})
			<-start
			tok, err := ts.Token()
			if err != nil {
				t.Error(err)
				return
			}
			tokens <- tok.AccessToken
		})
	}
	close(start)
	wg.Wait()
	close(tokens)
	seen := map[string]bool{}
	for at := range tokens {
		seen[at] = true
	}
	if n := p.refreshes.Load(); n != 1 || p.reuses.Load() != 0 || len(seen) != 1 {
		t.Errorf("%d refreshes, %d reuses, %d distinct tokens; want 1, 0, 1", n, p.reuses.Load(), len(seen))
	}
}

// hideUpdate hides Store.Update: a custom TokenStore.
type hideUpdate struct{ tokenstore.TokenStore }

func TestTokenSourceOverCustomStore(t *testing.T) {
	ctx := t.Context()
	p := newFakeProvider(t)
	s := &hideUpdate{newStore(t, memstore.New())}
	stored := saveUser(t, s, p, time.Now().Add(-time.Minute))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ts := newSource(t, s, p, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{})
			if _, err := ts.Token(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := p.refreshes.Load(); n != 1 {
		t.Errorf("%d refreshes by one process over a custom store, want 1", n)
	}
	now, err := s.FindToken(ctx, &tokenstore.Token{UserName: user})
	if err != nil {
		t.Fatal(err)
	}
	if now.RefreshToken == stored.RefreshToken || !p.active(now.RefreshToken) {
		t.Errorf("rotated refresh token not stored")
	}
}

func TestTokenSourceTakesOverExpiredLease(t *testing.T) {
	ctx := t.Context()
	p := newFakeProvider(t)
	s := newStore(t, memstore.New())
	stored := saveUser(t, s, p, time.Now().Add(-time.Minute))
	// A process took the lease and died.
	leaseEnd := time.Now().Add(300 * time.Millisecond)
	_, err := s.Update(ctx, stored.ID, func(cur *tokenstore.Token) (*tokenstore.Token, error) {
		cur.Extra = map[string]string{"tokenstore.lease": strconv.FormatInt(leaseEnd.UnixMilli(), 10) + ";dead;p-dead"}
		return cur, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var refreshedAt atomic.Int64
	mark := func() { refreshedAt.CompareAndSwap(0, time.Now().UnixMilli()) }
	p.before.Store(&mark)
	ts := newSource(t, s, p, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{PollInterval: 5 * time.Millisecond})
	if _, err := ts.Token(); err != nil {
		t.Fatal(err)
	}
	if p.refreshes.Load() != 1 {
		t.Fatalf("%d refreshes, want 1", p.refreshes.Load())
	}
	if at := refreshedAt.Load(); at < leaseEnd.UnixMilli() {
		t.Errorf("refreshed %d ms before the dead holder's lease expired", leaseEnd.UnixMilli()-at)
	}
}

func TestTokenSourceWaitTimeout(t *testing.T) {
	ctx := t.Context()
	p := newFakeProvider(t)
	s := newStore(t, memstore.New())
	stored := saveUser(t, s, p, time.Now().Add(-time.Minute))
	_, err := s.Update(ctx, stored.ID, func(cur *tokenstore.Token) (*tokenstore.Token, error) {
		cur.Extra = map[string]string{"tokenstore.lease": strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10) + ";n;p-slow"}
		return cur, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := newSource(t, s, p, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{WaitTimeout: 50 * time.Millisecond, PollInterval: time.Millisecond})
	if _, err := ts.Token(); !errors.Is(err, tokenstore.ErrWaitTimeout) {
		t.Fatalf("Token while another process holds the lease: %v, want ErrWaitTimeout", err)
	}
	if p.refreshes.Load() != 0 {
		t.Errorf("refreshed while another process held the lease")
	}
}

func TestTokenSourceNoStoredToken(t *testing.T) {
	p := newFakeProvider(t)
	ts := newSource(t, newStore(t, memstore.New()), p, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{})
	_, err := ts.Token()
	if !errors.Is(err, tokenstore.ErrReauthorize) || !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("Token without a stored token: %v, want ErrReauthorize and ErrNotFound", err)
	}
}

func TestNewTokenSourceRejects(t *testing.T) {
	p := newFakeProvider(t)
	s := newStore(t, memstore.New())
	for _, tc := range []struct {
		name  string
		store tokenstore.TokenStore
		cfg   *oauth2.Config
		query *tokenstore.Token
		want  error
	}{
		{"nil store", nil, p.config(), &tokenstore.Token{UserName: user}, tokenstore.ErrInvalidOptions},
		{"nil config", s, nil, &tokenstore.Token{UserName: user}, tokenstore.ErrInvalidOptions},
		{"no token URL", s, &oauth2.Config{}, &tokenstore.Token{UserName: user}, tokenstore.ErrInvalidOptions},
		{"nil query", s, p.config(), nil, tokenstore.ErrInvalidToken},
		{"query identifies nothing", s, p.config(), &tokenstore.Token{ClientID: "c"}, tokenstore.ErrInvalidToken},
		{"bad ID", s, p.config(), &tokenstore.Token{ID: "../x"}, tokenstore.ErrInvalidID},
	} {
		if _, err := tokenstore.NewTokenSource(t.Context(), tc.store, tc.cfg, tc.query, tokenstore.TokenSourceOptions{}); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// countingBackend counts backend calls.
type countingBackend struct {
	*memstore.Backend
	reads, writes atomic.Int32
}

func (b *countingBackend) Get(ctx context.Context, ns, id string) (*tokenstore.Entry, error) {
	b.reads.Add(1)
	return b.Backend.Get(ctx, ns, id)
}

func (b *countingBackend) Update(ctx context.Context, ns string, e *tokenstore.Entry) error {
	b.writes.Add(1)
	return b.Backend.Update(ctx, ns, e)
}

// TestTokenSourceBackendCalls pins what the README promises: a refresh
// costs 3 reads and 2 writes (take the lease; store the tokens and release
// it), and a fresh cached token costs nothing.
func TestTokenSourceBackendCalls(t *testing.T) {
	p := newFakeProvider(t)
	b := &countingBackend{Backend: memstore.New()}
	s := newStore(t, b)
	stored := saveUser(t, s, p, time.Now().Add(-time.Minute))
	ts := newSource(t, s, p, &tokenstore.Token{ID: stored.ID}, tokenstore.TokenSourceOptions{})
	b.reads.Store(0)
	b.writes.Store(0)
	if _, err := ts.Token(); err != nil {
		t.Fatal(err)
	}
	if r, w := b.reads.Load(), b.writes.Load(); r != 3 || w != 2 {
		t.Errorf("refresh: %d reads, %d writes; want 3, 2", r, w)
	}
	if _, err := ts.Token(); err != nil {
		t.Fatal(err)
	}
	if r, w := b.reads.Load(), b.writes.Load(); r != 3 || w != 2 {
		t.Errorf("cached token: %d more reads, %d more writes; want none", r-3, w-2)
	}
}

func TestTokenSourceKeepsRefreshedTokenWhenSaveFails(t *testing.T) {
	ctx := t.Context()
	p := newFakeProvider(t)
	b := &flakyBackend{Backend: memstore.New()}
	s := newStore(t, b)
	stored := saveUser(t, s, p, time.Now().Add(-time.Minute))
	storeDown := func() { b.failWrites.Store(true) }
	p.after.Store(&storeDown)
	ts := newSource(t, s, p, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{})
	if _, err := ts.Token(); !errors.Is(err, errStoreDown) {
		t.Fatalf("Token with the store down after the refresh: %v, want errStoreDown", err)
	}
	p.after.Store(nil)
	b.failWrites.Store(false)
	// A new source in the same process saves the kept token first.
	got, err := newSource(t, s, p, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if n := p.refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes, want 1: the rotated refresh token was dropped", n)
	}
	now, err := s.FindTokenByID(ctx, stored.ID)
	if err != nil {
		t.Fatal(err)
	}
	if now.AccessToken != got.AccessToken || now.RefreshToken == stored.RefreshToken || !p.active(now.RefreshToken) {
		t.Errorf("stored token is not the refreshed one")
	}
	if _, ok := now.Extra["tokenstore.lease"]; ok {
		t.Error("lease left in the stored token")
	}
}

func TestTokenSourceTokenDeletedDuringRefresh(t *testing.T) {
	ctx := t.Context()
	p := newFakeProvider(t)
	s := newStore(t, memstore.New())
	stored := saveUser(t, s, p, time.Now().Add(-time.Minute))
	remove := func() { s.DeleteToken(ctx, stored.ID) }
	p.before.Store(&remove)
	ts := newSource(t, s, p, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{})
	for i := range 2 {
		if _, err := ts.Token(); !errors.Is(err, tokenstore.ErrReauthorize) || !errors.Is(err, tokenstore.ErrNotFound) {
			t.Fatalf("call %d after the token was deleted: %v, want ErrReauthorize and ErrNotFound", i, err)
		}
	}
	if _, err := s.FindTokenByID(ctx, stored.ID); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("the deleted token came back: %v", err)
	}
}
