package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
)

// IndexKey is the index key of the stores RunBackend makes.
var IndexKey = []byte("storetest index key, not secret!")

// RunBackend runs the conformance suite on Stores over the backends
// newBackend makes, then the driver contract and the checks that need to see
// the calls a Store makes: what reaches the backend, how many calls each
// operation costs, compare-and-swap under contention, lookups that return
// stale or foreign candidates.
func RunBackend(t *testing.T, newBackend BackendMaker) {
	Run(t, func(ctx context.Context, t *testing.T) (Harness, error) {
		b, err := newBackend(ctx, t)
		if err != nil {
			return nil, err
		}
		return &backendHarness{rec: newRecorder(b)}, nil
	})
	tests := []struct {
		name string
		fn   func(*testing.T, *backendEnv)
	}{
		{"Driver", testDriver},
		{"DriverNamespaces", testDriverNamespaces},
		{"CallCounts", testCallCounts},
		{"NoWriteWhenUnchanged", testNoWriteWhenUnchanged},
		{"RejectsBeforeBackend", testRejectsBeforeBackend},
		{"IndexHoldsNoSecrets", testIndexHoldsNoSecrets},
		{"Update", testUpdate},
		{"UpdateUnderContention", testUpdateUnderContention},
		{"ForeignEntries", testForeignEntries},
		{"LookupCandidatesAreVerified", testLookupCandidatesAreVerified},
		{"StaleIndex", testStaleIndex},
		{"Sealed", testSealed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := newBackend(t.Context(), t)
			if err != nil {
				t.Fatalf("making backend: %v", err)
			}
			tc.fn(t, &backendEnv{t: t, b: b, ns: newNamespace(t)})
		})
	}
}

type backendHarness struct{ rec *recorder }

func (h *backendHarness) MakeStore(_ context.Context, ns string) (tokenstore.TokenStore, error) {
	return newStore(h.rec, ns)
}

func (h *backendHarness) Close() {}

func newStore(b tokenstore.Backend, ns string) (*tokenstore.Store, error) {
	return tokenstore.New(b, tokenstore.Options{Namespace: ns, IndexKey: IndexKey, Codec: codec.Plain()})
}

// backendEnv is what one driver-level test works with.
type backendEnv struct {
	t  *testing.T
	b  tokenstore.Backend
	ns string
}

// store returns a Store in the test's namespace over b.
func (e *backendEnv) store(b tokenstore.Backend) *tokenstore.Store {
	e.t.Helper()
	s, err := newStore(b, e.ns)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// recorder counts calls and keeps every name and index value a backend
// receives.
type recorder struct {
	tokenstore.Backend
	mu    sync.Mutex
	calls map[string]int
	seen  []string
}

func newRecorder(b tokenstore.Backend) *recorder {
	return &recorder{Backend: b, calls: make(map[string]int)}
}

func (r *recorder) note(op string, strs ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[op]++
	r.seen = append(r.seen, strs...)
}

func (r *recorder) noteEntry(op, ns string, e *tokenstore.Entry) {
	strs := []string{ns, e.ID, e.Version}
	for kind, v := range e.Index.All() {
		strs = append(strs, string(kind), v)
	}
	r.note(op, strs...)
}

// count returns the calls made since the last count, by method.
func (r *recorder) count() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = make(map[string]int)
	return c
}

func total(calls map[string]int) int {
	n := 0
	for _, c := range calls {
		n += c
	}
	return n
}

func (r *recorder) Get(ctx context.Context, ns, id string) (*tokenstore.Entry, error) {
	r.note("Get", ns, id)
	return r.Backend.Get(ctx, ns, id)
}

func (r *recorder) Create(ctx context.Context, ns string, e *tokenstore.Entry) error {
	r.noteEntry("Create", ns, e)
	return r.Backend.Create(ctx, ns, e)
}

func (r *recorder) Update(ctx context.Context, ns string, e *tokenstore.Entry) error {
	r.noteEntry("Update", ns, e)
	return r.Backend.Update(ctx, ns, e)
}

func (r *recorder) Delete(ctx context.Context, ns, id string) error {
	r.note("Delete", ns, id)
	return r.Backend.Delete(ctx, ns, id)
}

func (r *recorder) Lookup(ctx context.Context, ns string, kind tokenstore.IndexKind, value string) ([]*tokenstore.Entry, error) {
	r.note("Lookup", ns, string(kind), value)
	return r.Backend.Lookup(ctx, ns, kind, value)
}

func (r *recorder) List(ctx context.Context, ns string) ([]*tokenstore.Entry, error) {
	r.note("List", ns)
	return r.Backend.List(ctx, ns)
}

// entry returns a driver-level entry with the given index values.
func entry(id, value string, ix tokenstore.Index) *tokenstore.Entry {
	return &tokenstore.Entry{ID: id, Value: []byte(value), Index: ix}
}

// hashLike returns an index value of the form Store writes.
func hashLike(seed string) string {
	v := fmt.Sprintf("%052s", seed)
	return v[len(v)-52:]
}

func testDriver(t *testing.T, e *backendEnv) {
	ctx, b, ns := t.Context(), e.b, e.ns
	if _, err := b.Get(ctx, ns, "missing"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("Get(missing) = %v, want ErrNotFound", err)
	}
	ix := tokenstore.Index{UserName: hashLike("u1"), RefreshToken: hashLike("r1"), GrantToken: hashLike("g1"), AccessToken: hashLike("a1")}
	if err := b.Create(ctx, ns, entry("e1", `{"v":"one"}`, ix)); err != nil {
		t.Fatalf("Create: %v", err)
	}
	got, err := b.Get(ctx, ns, "e1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.ID != "e1" || string(got.Value) != `{"v":"one"}` || got.Index != ix || got.Version == "" {
		t.Errorf("Get = %+v, want the created entry with a version", got)
	}
	if err := b.Create(ctx, ns, entry("e1", `{"v":"two"}`, ix)); !errors.Is(err, tokenstore.ErrConflict) {
		t.Errorf("Create of an existing ID = %v, want ErrConflict", err)
	}
	for kind, v := range ix.All() {
		found, err := b.Lookup(ctx, ns, kind, v)
		if err != nil {
			t.Fatalf("Lookup(%s): %v", kind, err)
		}
		if len(found) != 1 || found[0].ID != "e1" || string(found[0].Value) != `{"v":"one"}` {
			t.Errorf("Lookup(%s) = %d entries, want e1", kind, len(found))
		}
	}
	if found, err := b.Lookup(ctx, ns, tokenstore.IndexUserName, hashLike("nobody")); err != nil || len(found) != 0 {
		t.Errorf("Lookup(unknown) = %d entries, %v; want none", len(found), err)
	}

	// Compare-and-swap: the version read wins once, then is stale.
	v1 := got.Version
	ix2 := tokenstore.Index{UserName: hashLike("u1"), AccessToken: hashLike("a2")}
	upd := entry("e1", `{"v":"two"}`, ix2)
	upd.Version = v1
	if err := b.Update(ctx, ns, upd); err != nil {
		t.Fatalf("Update with the current version: %v", err)
	}
	got, err = b.Get(ctx, ns, "e1")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Value) != `{"v":"two"}` || got.Index != ix2 || got.Version == v1 {
		t.Errorf("after Update, Get = %+v; want the new value, index and version", got)
	}
	stale := entry("e1", `{"v":"three"}`, ix2)
	stale.Version = v1
	if err := b.Update(ctx, ns, stale); !errors.Is(err, tokenstore.ErrConflict) {
		t.Errorf("Update with a stale version = %v, want ErrConflict", err)
	}
	if got, _ := b.Get(ctx, ns, "e1"); got == nil || string(got.Value) != `{"v":"two"}` {
		t.Errorf("a failed Update changed the entry")
	}
	found, err := b.Lookup(ctx, ns, tokenstore.IndexAccessToken, hashLike("a2"))
	if err != nil || len(found) != 1 || found[0].ID != "e1" {
		t.Errorf("Lookup(new access hash) = %d entries, %v; want e1", len(found), err)
	}
	missing := entry("missing", `{}`, ix2)
	missing.Version = v1
	if err := b.Update(ctx, ns, missing); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("Update(missing) = %v, want ErrNotFound", err)
	}

	if err := b.Create(ctx, ns, entry("e2", `{"v":"e2"}`, tokenstore.Index{})); err != nil {
		t.Fatal(err)
	}
	all, err := b.List(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, e := range all {
		ids[e.ID] = string(e.Value)
	}
	if len(all) != 2 || ids["e1"] != `{"v":"two"}` || ids["e2"] != `{"v":"e2"}` {
		t.Errorf("List = %v, want e1 and e2 with their values", ids)
	}

	if err := b.Delete(ctx, ns, "e1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := b.Get(ctx, ns, "e1"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := b.Delete(ctx, ns, "e1"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
	// A deleted ID can be created again at once.
	if err := b.Create(ctx, ns, entry("e1", `{"v":"again"}`, ix)); err != nil {
		t.Errorf("Create after Delete: %v", err)
	}
}

func testDriverNamespaces(t *testing.T, e *backendEnv) {
	ctx, b := t.Context(), e.b
	ns1, ns2 := e.ns, newNamespace(t)
	ix := tokenstore.Index{UserName: hashLike("shared")}
	if err := b.Create(ctx, ns1, entry("same", `{"ns":1}`, ix)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, ns2, "same"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("Get in another namespace = %v, want ErrNotFound", err)
	}
	if found, err := b.Lookup(ctx, ns2, tokenstore.IndexUserName, ix.UserName); err != nil || len(found) != 0 {
		t.Errorf("Lookup in another namespace = %d entries, %v; want none", len(found), err)
	}
	if all, err := b.List(ctx, ns2); err != nil || len(all) != 0 {
		t.Errorf("List of another namespace = %d entries, %v; want none", len(all), err)
	}
	if err := b.Delete(ctx, ns2, "same"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("Delete in another namespace = %v, want ErrNotFound", err)
	}
	// One ID in two namespaces is two entries.
	if err := b.Create(ctx, ns2, entry("same", `{"ns":2}`, ix)); err != nil {
		t.Fatalf("Create of one ID in a second namespace: %v", err)
	}
	for ns, want := range map[string]string{ns1: `{"ns":1}`, ns2: `{"ns":2}`} {
		got, err := b.Get(ctx, ns, "same")
		if err != nil || string(got.Value) != want {
			t.Errorf("Get(%s) = %v, %v; want %s", ns, got, err, want)
		}
	}
	// Namespaces that are prefixes of each other stay apart too.
	ns3 := ns1 + "-x"
	if err := b.Create(ctx, ns3, entry("x", `{"ns":3}`, ix)); err != nil {
		t.Fatal(err)
	}
	if all, err := b.List(ctx, ns1); err != nil || len(all) != 1 {
		t.Errorf("List(%s) = %d entries, %v; want its 1", ns1, len(all), err)
	}
	if err := b.Delete(ctx, ns1, "x"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("Delete of a longer namespace's entry = %v, want ErrNotFound", err)
	}
}

// testCallCounts pins the backend calls of each Store operation: they are
// what users pay for on a cloud service.
func testCallCounts(t *testing.T, e *backendEnv) {
	ctx := t.Context()
	rec := newRecorder(e.b)
	s := e.store(rec)
	a := user(1)
	byUser := &tokenstore.Token{UserName: a.UserName}
	byRefresh := &tokenstore.Token{ClientID: clientID, ClientSecret: clientSecret, RefreshToken: a.RefreshToken}
	steps := []struct {
		op   string
		max  int
		call func() error
	}{
		{"SaveToken (new user)", 3, func() error { return s.SaveToken(ctx, a) }},
		{"SaveToken (unchanged)", 1, func() error { return s.SaveToken(ctx, user(1)) }},
		{"SaveToken (update found by user name)", 2, func() error {
			return s.SaveToken(ctx, &tokenstore.Token{UserName: a.UserName, AccessToken: "1000.new"})
		}},
		{"SaveToken (update by ID)", 2, func() error {
			return s.SaveToken(ctx, &tokenstore.Token{ID: a.ID, AccessToken: "1000.newer"})
		}},
		{"FindToken (by the key it was created with)", 1, func() error { _, err := s.FindToken(ctx, byUser); return err }},
		{"FindToken (by another key)", 2, func() error { _, err := s.FindToken(ctx, byRefresh); return err }},
		{"FindTokenByID", 1, func() error { _, err := s.FindTokenByID(ctx, a.ID); return err }},
		{"Update", 2, func() error {
			_, err := s.Update(ctx, a.ID, func(t *tokenstore.Token) (*tokenstore.Token, error) {
				t.Scope = "changed"
				return t, nil
			})
			return err
		}},
		{"GetTokens", 1, func() error { _, err := s.GetTokens(ctx); return err }},
		{"DeleteToken", 1, func() error { return s.DeleteToken(ctx, a.ID) }},
		{"DeleteTokens (2 tokens)", 3, func() error {
			saveAll(t, s, user(2), user(3))
			rec.count()
			return s.DeleteTokens(ctx)
		}},
	}
	rec.count()
	for _, st := range steps {
		if err := st.call(); err != nil {
			t.Fatalf("%s: %v", st.op, err)
		}
		calls := rec.count()
		t.Logf("%-45s %d backend calls %v", st.op, total(calls), calls)
		if total(calls) > st.max {
			t.Errorf("%s made %d backend calls %v, want at most %d", st.op, total(calls), calls, st.max)
		}
	}
}

func testNoWriteWhenUnchanged(t *testing.T, e *backendEnv) {
	ctx := t.Context()
	rec := newRecorder(e.b)
	s := e.store(rec)
	a := user(1)
	saveAll(t, s, a)
	rec.count()
	for _, tok := range []*tokenstore.Token{
		user(1), // the same token again
		{UserName: a.UserName, AccessToken: a.AccessToken}, // a subset of it
		{ID: a.ID, RefreshToken: a.RefreshToken},           // by ID
		{UserName: a.UserName, Expiry: a.Expiry.Add(1e5)},  // the same millisecond
	} {
		saveAll(t, s, tok)
		if c := rec.count(); c["Create"]+c["Update"] != 0 {
			t.Errorf("SaveToken of an unchanged token wrote: %v", c)
		}
	}
	if _, err := s.Update(ctx, a.ID, func(t *tokenstore.Token) (*tokenstore.Token, error) { return t, nil }); err != nil {
		t.Fatal(err)
	}
	if c := rec.count(); c["Update"] != 0 {
		t.Errorf("Update that changed nothing wrote: %v", c)
	}
}

func testRejectsBeforeBackend(t *testing.T, e *backendEnv) {
	ctx := t.Context()
	rec := newRecorder(e.b)
	s := e.store(rec)
	for _, id := range invalidIDs {
		s.FindTokenByID(ctx, id)
		s.DeleteToken(ctx, id)
		if id != "" {
			tok := user(1)
			tok.ID = id
			s.SaveToken(ctx, tok)
		}
		s.Update(ctx, id, func(t *tokenstore.Token) (*tokenstore.Token, error) { return t, nil })
	}
	big := user(1)
	big.AccessToken = oversize
	s.SaveToken(ctx, big)
	s.SaveToken(ctx, nil)
	s.SaveToken(ctx, &tokenstore.Token{RefreshToken: "1000.no-client"})
	s.FindToken(ctx, &tokenstore.Token{AccessToken: "x", ClientID: clientID})
	s.FindToken(ctx, nil)
	if c := rec.count(); total(c) != 0 {
		t.Errorf("invalid calls reached the backend: %v", c)
	}
}

func testIndexHoldsNoSecrets(t *testing.T, e *backendEnv) {
	ctx := t.Context()
	rec := newRecorder(e.b)
	s := e.store(rec)
	var sec []string
	for i := range 3 {
		u := user(i)
		sec = append(sec, secrets(u)...)
		saveAll(t, s, u)
		s.FindToken(ctx, &tokenstore.Token{ClientID: clientID, ClientSecret: clientSecret, GrantToken: u.GrantToken, RefreshToken: u.RefreshToken})
		s.FindToken(ctx, &tokenstore.Token{AccessToken: u.AccessToken})
	}
	saveAll(t, s, &tokenstore.Token{ClientID: clientID, ClientSecret: clientSecret, RefreshToken: "1000.refresh-only.5d1e"})
	saveAll(t, s, &tokenstore.Token{AccessToken: "1000.access-only.8b2c"})
	sec = append(sec, "1000.refresh-only.5d1e", "1000.access-only.8b2c")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.seen) == 0 {
		t.Fatal("recorded nothing")
	}
	for _, v := range rec.seen {
		if leaked, ok := leaks(v, sec); ok {
			t.Errorf("the backend received %q, which holds the secret %q", v, leaked)
		}
	}
}

func testUpdate(t *testing.T, e *backendEnv) {
	ctx := t.Context()
	rec := newRecorder(e.b)
	s := e.store(rec)
	called := false
	_, err := s.Update(ctx, "missing", func(t *tokenstore.Token) (*tokenstore.Token, error) { called = true; return t, nil })
	if !errors.Is(err, tokenstore.ErrNotFound) || called {
		t.Errorf("Update(missing) = %v, fn called %v; want ErrNotFound without calling fn", err, called)
	}
	a := user(1)
	saveAll(t, s, a)
	errStop := errors.New("stop")
	_, err = s.Update(ctx, a.ID, func(t *tokenstore.Token) (*tokenstore.Token, error) {
		t.AccessToken = "lost"
		return t, errStop
	})
	if err != errStop {
		t.Errorf("Update returned %v, want fn's error as it is", err)
	}
	got, err := s.Update(ctx, a.ID, func(cur *tokenstore.Token) (*tokenstore.Token, error) {
		sameFields(t, cur, a)
		return &tokenstore.Token{ID: "ignored", UserName: cur.UserName, AccessToken: "1000.replaced"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := &tokenstore.Token{ID: a.ID, UserName: a.UserName, AccessToken: "1000.replaced"}
	sameFields(t, got, want)
	stored, err := s.FindTokenByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameFields(t, stored, want)
	// Update replaces: fields fn leaves out are gone, and so is their index.
	if _, err := s.FindToken(ctx, &tokenstore.Token{AccessToken: a.AccessToken}); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("FindToken(replaced access token) = %v, want ErrNotFound", err)
	}
	rec.count()
	got, err = s.Update(ctx, a.ID, func(*tokenstore.Token) (*tokenstore.Token, error) { return nil, nil })
	if err != nil || got == nil || got.AccessToken != "1000.replaced" {
		t.Errorf("Update returning nil = %v, %v; want the stored token", got, err)
	}
	if c := rec.count(); c["Update"] != 0 {
		t.Errorf("Update returning nil wrote: %v", c)
	}
}

// testUpdateUnderContention increments a counter from many stores at once:
// compare-and-swap must lose no increment.
func testUpdateUnderContention(t *testing.T, e *backendEnv) {
	const stores, goroutines = 4, 8
	ctx := t.Context()
	a := user(1)
	a.Extra["n"] = "0"
	saveAll(t, e.store(e.b), a)
	var wg sync.WaitGroup
	errs := make(chan error, stores*goroutines)
	for range stores {
		s := e.store(e.b)
		for range goroutines {
			wg.Go(func() {
				_, err := s.Update(ctx, a.ID, func(t *tokenstore.Token) (*tokenstore.Token, error) {
					n, err := strconv.Atoi(t.Extra["n"])
					if err != nil {
						return nil, err
					}
					t.Extra["n"] = strconv.Itoa(n + 1)
					return t, nil
				})
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Update: %v", err)
		}
	}
	got, err := e.store(e.b).FindTokenByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Extra["n"] != strconv.Itoa(stores*goroutines) {
		t.Errorf("counter = %s after %d concurrent increments", got.Extra["n"], stores*goroutines)
	}
}

// testForeignEntries plants entries that are not this store's tokens — a
// garbage value, and a real value copied under another ID — in its
// namespace: reads pass over them, and nothing deletes them.
func testForeignEntries(t *testing.T, e *backendEnv) {
	ctx := t.Context()
	s := e.store(e.b)
	a := user(1)
	saveAll(t, s, a)
	stored, err := e.b.Get(ctx, e.ns, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.b.Create(ctx, e.ns, entry("garbage", "not a token", tokenstore.Index{})); err != nil {
		t.Fatal(err)
	}
	copied := entry("copied", string(stored.Value), stored.Index)
	if err := e.b.Create(ctx, e.ns, copied); err != nil {
		t.Fatal(err)
	}
	all, err := s.GetTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].ID != a.ID {
		t.Errorf("GetTokens = %v, want only %s", all, a.ID)
	}
	for _, id := range []string{"garbage", "copied"} {
		if _, err := s.FindTokenByID(ctx, id); !errors.Is(err, tokenstore.ErrCorrupt) {
			t.Errorf("FindTokenByID(%s) = %v, want ErrCorrupt", id, err)
		}
	}
	// The copy shares a's index values; the finds still return a.
	got, err := s.FindToken(ctx, &tokenstore.Token{AccessToken: a.AccessToken})
	if err != nil || got.ID != a.ID {
		t.Errorf("FindToken(access token) = %v, %v; want %s", got, err, a.ID)
	}
	if err := s.DeleteTokens(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"garbage", "copied"} {
		if _, err := e.b.Get(ctx, e.ns, id); err != nil {
			t.Errorf("DeleteTokens deleted the foreign entry %s: %v", id, err)
		}
	}
	if _, err := e.b.Get(ctx, e.ns, a.ID); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("DeleteTokens left the store's own token: %v", err)
	}
}

// noisyIndex answers every Lookup with every entry of the namespace, like a
// prefix-matching tag filter at its worst.
type noisyIndex struct{ tokenstore.Backend }

func (n noisyIndex) Lookup(ctx context.Context, ns string, _ tokenstore.IndexKind, _ string) ([]*tokenstore.Entry, error) {
	return n.Backend.List(ctx, ns)
}

func testLookupCandidatesAreVerified(t *testing.T, e *backendEnv) {
	ctx := t.Context()
	s := e.store(noisyIndex{e.b})
	a, b := user(1), user(2)
	saveAll(t, s, a, b)
	creds := func(q *tokenstore.Token) *tokenstore.Token {
		q.ClientID, q.ClientSecret = clientID, clientSecret
		return q
	}
	for _, tc := range []struct {
		query *tokenstore.Token
		want  string
	}{
		{&tokenstore.Token{AccessToken: b.AccessToken}, b.ID},
		{creds(&tokenstore.Token{RefreshToken: b.RefreshToken}), b.ID},
		{creds(&tokenstore.Token{GrantToken: b.GrantToken}), b.ID},
		{creds(&tokenstore.Token{GrantToken: "1000.unknown", RefreshToken: a.RefreshToken}), a.ID},
		{&tokenstore.Token{AccessToken: "1000.unknown"}, ""},
	} {
		got, err := s.FindToken(ctx, tc.query)
		switch {
		case tc.want == "" && !errors.Is(err, tokenstore.ErrNotFound):
			t.Errorf("FindToken(%v) = %v, %v; want ErrNotFound", tc.query, got, err)
		case tc.want != "" && (err != nil || got.ID != tc.want):
			t.Errorf("FindToken(%v) = %v, %v; want %s", tc.query, got, err, tc.want)
		}
	}
}

// blindIndex sees nothing through Lookup and List, like AWS's eventually
// consistent ListSecrets right after a write.
type blindIndex struct{ tokenstore.Backend }

func (blindIndex) Lookup(context.Context, string, tokenstore.IndexKind, string) ([]*tokenstore.Entry, error) {
	return nil, nil
}

func (blindIndex) List(context.Context, string) ([]*tokenstore.Entry, error) { return nil, nil }

// testStaleIndex: with a search that lags, a token is still found by the key
// it was created with, and racing saves still make one token.
func testStaleIndex(t *testing.T, e *backendEnv) {
	ctx := t.Context()
	var wg sync.WaitGroup
	for i := range 8 {
		s := e.store(blindIndex{e.b})
		wg.Go(func() {
			tok := user(1)
			tok.AccessToken = fmt.Sprintf("1000.access-%d", i)
			if err := s.SaveToken(ctx, tok); err != nil {
				t.Errorf("SaveToken: %v", err)
			}
		})
	}
	wg.Wait()
	s := e.store(blindIndex{e.b})
	if _, err := s.FindToken(ctx, &tokenstore.Token{UserName: user(1).UserName}); err != nil {
		t.Errorf("FindToken by the creating key with a blind index: %v", err)
	}
	refreshOnly := &tokenstore.Token{ClientID: clientID, ClientSecret: clientSecret, RefreshToken: "1000.refresh-only"}
	saveAll(t, s, refreshOnly)
	if got, err := s.FindToken(ctx, refreshOnly.Clone()); err != nil || got.ID != refreshOnly.ID {
		t.Errorf("FindToken(refresh token) with a blind index = %v, %v", got, err)
	}
	all, err := e.store(e.b).GetTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Errorf("saves with a blind index left %d tokens, want 2", len(all))
	}
}

// testSealed runs a store that seals its tokens: sealed values are longer
// and of another alphabet than plain ones, and must round-trip as well.
func testSealed(t *testing.T, e *backendEnv) {
	ctx := t.Context()
	w, err := codec.NewLocalKeyWrapper([]byte("storetest sealing key, 32 bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(codec.Options{Wrappers: []codec.KeyWrapper{w}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := tokenstore.New(e.b, tokenstore.Options{Namespace: e.ns, IndexKey: IndexKey, Codec: c})
	if err != nil {
		t.Fatal(err)
	}
	a := user(1)
	saveAll(t, s, a)
	raw, err := e.b.Get(ctx, e.ns, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if leaked, ok := leaks(string(raw.Value), secrets(a)); ok {
		t.Errorf("the sealed value holds %q in clear", leaked)
	}
	got, err := s.FindToken(ctx, &tokenstore.Token{ClientID: clientID, ClientSecret: clientSecret, RefreshToken: a.RefreshToken})
	if err != nil {
		t.Fatal(err)
	}
	sameFields(t, got, a)
	saveAll(t, s, &tokenstore.Token{UserName: a.UserName, AccessToken: "1000.sealed-new"})
	all, err := s.GetTokens(ctx)
	if err != nil || len(all) != 1 || all[0].AccessToken != "1000.sealed-new" {
		t.Errorf("GetTokens = %v, %v; want the one updated token", all, err)
	}
}
