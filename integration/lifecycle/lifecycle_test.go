package lifecycle_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/memstore"
)

const user = "ada@example.com:60001"

// world is what the "processes" of one case share: a backend, and a codec
// with its keys.
type world struct {
	backend tokenstore.Backend
	codec   tokenstore.Codec
}

// with returns w over another backend, such as a wrapper of w.backend.
func (w world) with(b tokenstore.Backend) world {
	w.backend = b
	return w
}

// worlds are what every case runs over: memstore with the plain and the
// sealed codec, the lease and the tokens being as safe under encryption.
// The cloud backends follow: AWS on moto, GCP on gcpsmtest's fake, Vault
// on the real server.
var worlds = []struct {
	name string
	open func(t *testing.T) world
}{
	{"memstore/plain", func(*testing.T) world { return world{memstore.New(), codec.Plain()} }},
	{"memstore/sealed", func(t *testing.T) world {
		key := make([]byte, 32)
		rand.Read(key)
		w, err := codec.NewLocalKeyWrapperBase64(base64.StdEncoding.EncodeToString(key))
		if err != nil {
			t.Fatal(err)
		}
		c, err := codec.New(codec.Options{Wrappers: []codec.KeyWrapper{w}})
		if err != nil {
			t.Fatal(err)
		}
		return world{memstore.New(), c}
	}},
	{"awssm/plain", awssmWorld},
	{"gcpsm/plain", gcpsmWorld},
	{"hashivault/plain", hashivaultWorld},
}

func forEachBackend(t *testing.T, f func(t *testing.T, w world)) {
	for _, w := range worlds {
		t.Run(w.name, func(t *testing.T) { f(t, w.open(t)) })
	}
}

// newStore opens one "process's" Store in w. Stores of one test share a
// namespace of their own, so tests may share a server.
func newStore(t *testing.T, w world, ns string) *tokenstore.Store {
	t.Helper()
	s, err := tokenstore.New(w.backend, tokenstore.Options{
		Namespace: ns,
		IndexKey:  []byte("lifecycle tests' index key"),
		Codec:     w.codec,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newNamespace() string {
	var b [6]byte
	rand.Read(b[:])
	return "lc-" + hex.EncodeToString(b[:])
}

func newSource(t *testing.T, ctx context.Context, s tokenstore.TokenStore, as *authServer, q *tokenstore.Token, opts tokenstore.TokenSourceOptions) *tokenstore.TokenSource {
	t.Helper()
	ts, err := tokenstore.NewTokenSource(ctx, s, as.config(), q, opts)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// grantQuery is what an app knows after the user's consent.
func grantQuery(code string) *tokenstore.Token {
	return &tokenstore.Token{UserName: user, ClientID: clientID, ClientSecret: clientSecret, GrantToken: code, RedirectURL: redirectURL}
}

// authorizedStore returns a store holding the user's tokens, obtained by a
// grant exchange through a TokenSource.
func authorizedStore(t *testing.T, as *authServer, w world, ns string) (*tokenstore.Store, *tokenstore.Token) {
	t.Helper()
	s := newStore(t, w, ns)
	ts := newSource(t, t.Context(), s, as, grantQuery(as.authorizeCode()), tokenstore.TokenSourceOptions{})
	tok, err := ts.StoredToken(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return s, tok
}

// expire makes the stored token's access token expired.
func expire(t *testing.T, s *tokenstore.Store, id string) *tokenstore.Token {
	t.Helper()
	tok, err := s.Update(t.Context(), id, func(cur *tokenstore.Token) (*tokenstore.Token, error) {
		cur.Expiry = time.Now().Add(-time.Second)
		return cur, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestReuseDetectionFires proves the server revokes a token family when a
// used refresh token comes back, so that the race test's "no reuse" means
// something.
func TestReuseDetectionFires(t *testing.T) {
	as := newAuthServer(t)
	first, err := as.config().Exchange(t.Context(), as.authorizeCode())
	if err != nil {
		t.Fatal(err)
	}
	second, err := as.refreshDirectly(first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == first.RefreshToken {
		t.Fatal("the server does not rotate refresh tokens")
	}
	_, err = as.refreshDirectly(first.RefreshToken) // a second process with the old token
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("reused refresh token: %v, want invalid_grant", err)
	}
	if as.reuses.Load() != 1 {
		t.Errorf("%d reuses counted, want 1", as.reuses.Load())
	}
	if as.active(second.AccessToken) {
		t.Error("the family's access token survived the reuse")
	}
	if _, err := as.refreshDirectly(second.RefreshToken); err == nil {
		t.Error("the family's newest refresh token survived the reuse")
	}
}

func TestGrantExchangeThenReuseFromNewStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w world) {
		as := newAuthServer(t)
		ns := newNamespace()
		q := grantQuery(as.authorizeCode())
		first, err := newSource(t, t.Context(), newStore(t, w, ns), as, q, tokenstore.TokenSourceOptions{}).Token()
		if err != nil {
			t.Fatal(err)
		}
		if first.Extra("api_domain") != as.srv.URL {
			t.Errorf("api_domain %v not kept", first.Extra("api_domain"))
		}
		// A new process starts with the same configuration, spent grant
		// token included: it must find the stored tokens, not exchange.
		s2 := newStore(t, w, ns)
		client, err := tokenstore.NewClient(t.Context(), s2, as.config(), q, tokenstore.TokenSourceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Get(as.srv.URL + "/api/me")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("API call of the new process: %s", resp.Status)
		}
		if n := as.exchanges.Load(); n != 1 {
			t.Errorf("%d exchanges, want 1", n)
		}
		stored, err := s2.FindToken(t.Context(), &tokenstore.Token{UserName: user})
		if err != nil {
			t.Fatal(err)
		}
		if stored.AccessToken != first.AccessToken || stored.RefreshToken == "" || stored.APIDomain != as.srv.URL {
			t.Errorf("stored token %v: want the exchanged tokens and api_domain", stored)
		}
	})
}

func TestRefreshAtExpiry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w world) {
		as := newAuthServer(t)
		s, tok := authorizedStore(t, as, w, newNamespace())
		var offset atomic.Int64
		clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		ts := newSource(t, t.Context(), s, as, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{Clock: clock, Skew: time.Minute})
		got, err := ts.Token()
		if err != nil || got.AccessToken != tok.AccessToken || as.refreshes.Load() != 0 {
			t.Fatalf("before expiry: %v, refreshes %d; want the stored token, no refresh", err, as.refreshes.Load())
		}
		// 30 seconds before expiry: inside Skew.
		offset.Store(int64(time.Until(tok.Expiry) - 30*time.Second))
		got, err = ts.Token()
		if err != nil {
			t.Fatal(err)
		}
		if as.refreshes.Load() != 1 || got.AccessToken == tok.AccessToken || !as.active(got.AccessToken) {
			t.Fatalf("at expiry: %d refreshes; want 1 and a new, active access token", as.refreshes.Load())
		}
		stored, err := s.FindTokenByID(t.Context(), tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.AccessToken != got.AccessToken || stored.RefreshToken == tok.RefreshToken || stored.APIDomain != as.srv.URL {
			t.Errorf("stored after refresh: %v; want the new tokens, a rotated refresh token and api_domain", stored)
		}
		if _, ok := stored.Extra["tokenstore.lease"]; ok {
			t.Error("lease left in the stored token")
		}
		if _, err := ts.Token(); err != nil || as.refreshes.Load() != 1 {
			t.Errorf("after the refresh: %v, %d refreshes; want no other", err, as.refreshes.Load())
		}
	})
}

// flaky is a backend whose writes fail while down is set.
type flaky struct {
	tokenstore.Backend
	down atomic.Bool
}

var errStoreDown = errors.New("store unavailable")

func (f *flaky) Create(ctx context.Context, ns string, e *tokenstore.Entry) error {
	if f.down.Load() {
		return errStoreDown
	}
	return f.Backend.Create(ctx, ns, e)
}

func (f *flaky) Update(ctx context.Context, ns string, e *tokenstore.Entry) error {
	if f.down.Load() {
		return errStoreDown
	}
	return f.Backend.Update(ctx, ns, e)
}

func TestSaveFailureAfterGrantExchangeLosesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w world) {
		as := newAuthServer(t)
		fb := &flaky{Backend: w.backend}
		ns := newNamespace()
		s := newStore(t, w.with(fb), ns)
		// The store goes down right after the server answers the exchange.
		storeDown := func() { fb.down.Store(true) }
		as.afterExchange.Store(&storeDown)
		ts := newSource(t, t.Context(), s, as, grantQuery(as.authorizeCode()), tokenstore.TokenSourceOptions{})
		if _, err := ts.Token(); !errors.Is(err, errStoreDown) {
			t.Fatalf("Token with the store down: %v, want errStoreDown", err)
		}
		as.afterExchange.Store(nil)
		fb.down.Store(false)
		got, err := ts.Token()
		if err != nil {
			t.Fatal(err)
		}
		if n := as.exchanges.Load(); n != 1 {
			t.Fatalf("%d exchanges, want 1", n)
		}
		if !as.active(got.AccessToken) {
			t.Error("the kept access token is not active")
		}
		// Another process finds the tokens the first obtained, and its
		// refresh token works.
		stored, err := newStore(t, w, ns).FindToken(t.Context(), &tokenstore.Token{UserName: user})
		if err != nil {
			t.Fatal(err)
		}
		if stored.AccessToken != got.AccessToken {
			t.Fatal("the stored token is not the one the exchange obtained")
		}
		if _, err := as.refreshDirectly(stored.RefreshToken); err != nil {
			t.Errorf("stored refresh token: %v", err)
		}
	})
}

func TestProviderOutageLeavesStoredTokenUntouched(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w world) {
		as := newAuthServer(t)
		s, tok := authorizedStore(t, as, w, newNamespace())
		before := expire(t, s, tok.ID)
		as.down.Store(true)
		ts := newSource(t, t.Context(), s, as, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{})
		_, err := ts.Token()
		if err == nil || errors.Is(err, tokenstore.ErrReauthorize) {
			t.Fatalf("Token during the outage: %v; want an error other than ErrReauthorize", err)
		}
		if !strings.Contains(err.Error(), "503") {
			t.Errorf("error %q does not tell the provider failed", err)
		}
		if strings.Contains(err.Error(), before.RefreshToken) || strings.Contains(err.Error(), before.AccessToken) {
			t.Error("error holds a token")
		}
		after, err := s.FindTokenByID(t.Context(), tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !after.Equal(before) {
			t.Errorf("stored token changed by the outage: %v, was %v", after, before)
		}
		as.down.Store(false)
		got, err := ts.Token()
		if err != nil || !as.active(got.AccessToken) || as.refreshes.Load() != 1 {
			t.Errorf("after the outage: %v, %d refreshes; want one refresh and an active token", err, as.refreshes.Load())
		}
	})
}

func TestRevokeAtServer(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w world) {
		as := newAuthServer(t)
		s, tok := authorizedStore(t, as, w, newNamespace())
		ts := newSource(t, t.Context(), s, as, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{
			Revocation: &tokenstore.Revocation{URL: as.srv.URL + "/oauth/revoke"},
		})
		if err := ts.Revoke(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := as.refreshDirectly(tok.RefreshToken); err == nil {
			t.Error("the refresh token works after Revoke")
		}
		if as.active(tok.AccessToken) {
			t.Error("the access token works after Revoke")
		}
		if _, err := s.FindTokenByID(t.Context(), tok.ID); !errors.Is(err, tokenstore.ErrNotFound) {
			t.Errorf("stored token after Revoke: %v, want ErrNotFound", err)
		}
	})
}

// dyingTransport stands for a process that dies while its refresh request
// is on the way: the request never reaches the server, and from then on the
// process's store calls fail, so it cannot release its lease.
type dyingTransport struct {
	dead *atomic.Bool
}

func (d dyingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	d.dead.Store(true)
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// deadable is a backend that fails every call once its process died.
type deadable struct {
	tokenstore.Backend
	dead *atomic.Bool
}

func (d deadable) Get(ctx context.Context, ns, id string) (*tokenstore.Entry, error) {
	if d.dead.Load() {
		return nil, errors.New("process died")
	}
	return d.Backend.Get(ctx, ns, id)
}

func (d deadable) Update(ctx context.Context, ns string, e *tokenstore.Entry) error {
	if d.dead.Load() {
		return errors.New("process died")
	}
	return d.Backend.Update(ctx, ns, e)
}

func TestLeaseOfDeadHolderIsTakenOver(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w world) {
		as := newAuthServer(t)
		ns := newNamespace()
		s, tok := authorizedStore(t, as, w, ns)
		expire(t, s, tok.ID)
		const ttl = 600 * time.Millisecond
		opts := tokenstore.TokenSourceOptions{LeaseTTL: ttl, PollInterval: 5 * time.Millisecond}

		var dead atomic.Bool
		dyingCtx := context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Transport: dyingTransport{&dead}})
		dying := newSource(t, dyingCtx, newStore(t, w.with(deadable{w.backend, &dead}), ns), as, &tokenstore.Token{UserName: user}, opts)
		dyingErr := make(chan error, 1)
		go func() {
			_, err := dying.Token()
			dyingErr <- err
		}()
		for !dead.Load() {
			time.Sleep(time.Millisecond)
		}
		held, err := s.FindTokenByID(t.Context(), tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		leaseEnd := leaseExpiry(t, held)

		got, err := newSource(t, t.Context(), newStore(t, w, ns), as, &tokenstore.Token{UserName: user}, opts).Token()
		if err != nil {
			t.Fatalf("the process taking over: %v", err)
		}
		if as.refreshes.Load() != 1 || as.reuses.Load() != 0 || !as.active(got.AccessToken) {
			t.Errorf("%d refreshes, %d reuses; want 1, 0 and an active token", as.refreshes.Load(), as.reuses.Load())
		}
		if at := as.refreshedAt.Load(); at < leaseEnd.UnixMilli() {
			t.Errorf("refreshed %d ms before the dead holder's lease expired", leaseEnd.UnixMilli()-at)
		}
		if err := <-dyingErr; err == nil {
			t.Error("the dying process's Token succeeded")
		}
		stored, err := s.FindTokenByID(t.Context(), tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.AccessToken != got.AccessToken {
			t.Error("the new token was not stored")
		}
		if _, ok := stored.Extra["tokenstore.lease"]; ok {
			t.Error("a lease is left in the stored token")
		}
	})
}

// leaseExpiry reads the lease's expiry from the stored token (its format is
// "<expiry epoch ms>;<nonce>;<owner>").
func leaseExpiry(t *testing.T, tok *tokenstore.Token) time.Time {
	t.Helper()
	v, ok := tok.Extra["tokenstore.lease"]
	if !ok {
		t.Fatal("no lease in the stored token")
	}
	ms, err := strconv.ParseInt(strings.SplitN(v, ";", 2)[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.UnixMilli(ms)
}

// raceStats gathers the race test's figures over -count runs, by world;
// TestMain prints them.
var raceStats = struct {
	mu sync.Mutex
	m  map[string]*raceFigures
}{m: map[string]*raceFigures{}}

type raceFigures struct {
	refreshes map[int]int // refreshes the server saw per expiry → expiries
	latencies []time.Duration
}

func recordRace(name string, refreshes int, latencies []time.Duration) {
	raceStats.mu.Lock()
	defer raceStats.mu.Unlock()
	f := raceStats.m[name]
	if f == nil {
		f = &raceFigures{refreshes: map[int]int{}}
		raceStats.m[name] = f
	}
	f.refreshes[refreshes]++
	f.latencies = append(f.latencies, latencies...)
}

func TestMain(m *testing.M) {
	code := m.Run()
	raceStats.mu.Lock()
	defer raceStats.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(raceStats.m)) {
		f := raceStats.m[name]
		slices.Sort(f.latencies)
		fmt.Printf("%s: refreshes per expiry {refreshes: expiries} %v; %d callers; latency min %v, p50 %v, p99 %v, max %v\n",
			name, f.refreshes, len(f.latencies),
			f.latencies[0].Round(100*time.Microsecond), percentile(f.latencies, 50), percentile(f.latencies, 99), percentile(f.latencies, 100))
	}
	os.Exit(code)
}

func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, (len(sorted)*p+99)/100-1)].Round(100 * time.Microsecond)
}

// TestExpiredTokenRace is the case the lease exists for: 4 processes (Stores
// over one backend) × 8 goroutines, each with its own TokenSource, all find
// the stored token expired at once. Every caller must get the one new
// token, the server must see one refresh, and its reuse detection must
// never fire.
func TestExpiredTokenRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w world) {
		const processes, goroutines = 4, 8
		as := newAuthServer(t)
		ns := newNamespace()
		s, tok := authorizedStore(t, as, w, ns)
		expire(t, s, tok.ID)
		// A slow refresh keeps every caller arriving while it is in flight.
		as.refreshDelay.Store(int64(50 * time.Millisecond))

		stores := make([]*tokenstore.Store, processes)
		for i := range stores {
			stores[i] = newStore(t, w, ns)
		}
		var (
			wg        sync.WaitGroup
			start     = make(chan struct{})
			mu        sync.Mutex
			tokens    = map[string]int{}
			latencies []time.Duration
		)
		for i := range processes * goroutines {
			wg.Go(func() {
				ts := newSource(t, t.Context(), stores[i%processes], as, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{})
				<-start
				began := time.Now()
				got, err := ts.Token()
				took := time.Since(began)
				if err != nil {
					t.Errorf("caller %d: %v", i, err)
					return
				}
				mu.Lock()
				tokens[got.AccessToken]++
				latencies = append(latencies, took)
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()

		refreshes := int(as.refreshes.Load())
		recordRace(t.Name(), refreshes, latencies)
		slices.Sort(latencies)
		t.Logf("refreshes %d, callers %d, latency p50 %v p99 %v", refreshes, len(latencies), percentile(latencies, 50), percentile(latencies, 99))

		if refreshes != 1 {
			t.Errorf("the server saw %d refreshes, want 1", refreshes)
		}
		if n := as.reuses.Load(); n != 0 {
			t.Errorf("reuse detection fired %d times", n)
		}
		if len(tokens) != 1 {
			t.Errorf("callers got %d distinct access tokens, want 1", len(tokens))
		}
		stored, err := s.FindTokenByID(t.Context(), tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		if tokens[stored.AccessToken] != processes*goroutines {
			t.Errorf("%d callers got the stored token, want %d", tokens[stored.AccessToken], processes*goroutines)
		}
		if !as.active(stored.AccessToken) {
			t.Error("the stored access token is not active: the family was revoked")
		}
		if _, err := as.refreshDirectly(stored.RefreshToken); err != nil {
			t.Errorf("the stored refresh token no longer works: %v", err)
		}
	})
}

// spendingTransport stands for a process that dies after its refresh
// request reached the server: the server rotates the refresh token, and the
// response is lost with the process.
type spendingTransport struct {
	dead *atomic.Bool
}

func (d spendingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		resp.Body.Close()
	}
	d.dead.Store(true)
	return nil, errors.New("process died")
}

// TestHolderDiedAfterSpendingRefreshToken shows the limit of any client-side
// coordination: once the only copy of a rotated refresh token is lost, the
// next refresh can only present the spent one, and the server revokes the
// family. The process that takes over must then say so clearly.
func TestHolderDiedAfterSpendingRefreshToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w world) {
		as := newAuthServer(t)
		ns := newNamespace()
		s, tok := authorizedStore(t, as, w, ns)
		expire(t, s, tok.ID)
		opts := tokenstore.TokenSourceOptions{LeaseTTL: 300 * time.Millisecond, PollInterval: 5 * time.Millisecond}
		var dead atomic.Bool
		dyingCtx := context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Transport: spendingTransport{&dead}})
		if _, err := newSource(t, dyingCtx, newStore(t, w.with(deadable{w.backend, &dead}), ns), as, &tokenstore.Token{UserName: user}, opts).Token(); err == nil {
			t.Fatal("the dying process's Token succeeded")
		}
		_, err := newSource(t, t.Context(), newStore(t, w, ns), as, &tokenstore.Token{UserName: user}, opts).Token()
		if !errors.Is(err, tokenstore.ErrReauthorize) {
			t.Fatalf("after the only new refresh token was lost: %v, want ErrReauthorize", err)
		}
		if as.reuses.Load() != 1 {
			t.Errorf("%d reuses, want 1", as.reuses.Load())
		}
	})
}

// TestGrantExchangeRace: 4 processes × 8 goroutines start at once with the
// same new grant token and nothing stored. The single-use code must be
// exchanged once, and every caller must get its tokens.
func TestGrantExchangeRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w world) {
		const processes, goroutines = 4, 8
		as := newAuthServer(t)
		ns := newNamespace()
		q := grantQuery(as.authorizeCode())
		stores := make([]*tokenstore.Store, processes)
		for i := range stores {
			stores[i] = newStore(t, w, ns)
		}
		var (
			wg     sync.WaitGroup
			start  = make(chan struct{})
			mu     sync.Mutex
			tokens = map[string]int{}
		)
		for i := range processes * goroutines {
			wg.Go(func() {
				ts := newSource(t, t.Context(), stores[i%processes], as, q, tokenstore.TokenSourceOptions{})
				<-start
				got, err := ts.Token()
				if err != nil {
					t.Errorf("caller %d: %v", i, err)
					return
				}
				mu.Lock()
				tokens[got.AccessToken]++
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		if n := as.exchanges.Load(); n != 1 {
			t.Errorf("the server saw %d exchanges, want 1", n)
		}
		if len(tokens) != 1 {
			t.Errorf("callers got %d distinct access tokens, want 1", len(tokens))
		}
		all, err := stores[0].GetTokens(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 1 || !as.active(all[0].AccessToken) {
			t.Errorf("%d stored tokens, want 1 with an active access token", len(all))
		}
	})
}
