package gcpsm_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/gcpsm"
)

var indexKey = []byte("gcpsm test index key, not secret")

func newStore(t testing.TB, b tokenstore.Backend, ns string) *tokenstore.Store {
	t.Helper()
	s, err := tokenstore.New(b, tokenstore.Options{Namespace: ns, IndexKey: indexKey, Codec: codec.Plain()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func token(n int) *tokenstore.Token {
	return &tokenstore.Token{
		UserName:     fmt.Sprintf("user%d@example.com:600%d", n, n),
		ClientID:     "1000.CLIENT",
		ClientSecret: "client-secret",
		RefreshToken: fmt.Sprintf("1000.refresh%d", n),
		AccessToken:  fmt.Sprintf("1000.access%d", n),
		Expiry:       time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

// secretName is the name the backend with default options gives a token.
func secretName(ns, id string) string {
	return "projects/" + project + "/secrets/" + gcpsm.DefaultPrefix + ns + "_" + id
}

// versions returns the states of the secret's versions, newest first.
func (f *fake) versions(t testing.TB, secret string) []secretmanagerpb.SecretVersion_State {
	t.Helper()
	it := f.client.ListSecretVersions(t.Context(), &secretmanagerpb.ListSecretVersionsRequest{Parent: secret})
	var states []secretmanagerpb.SecretVersion_State
	for {
		v, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return states
		}
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, v.State)
	}
}

// billed counts the versions Google bills for: enabled and disabled ones.
func billed(states []secretmanagerpb.SecretVersion_State) (enabled, billed int) {
	for _, s := range states {
		switch s {
		case secretmanagerpb.SecretVersion_ENABLED:
			enabled++
			billed++
		case secretmanagerpb.SecretVersion_DISABLED:
			billed++
		}
	}
	return enabled, billed
}

func TestSupersededVersionsAreDestroyed(t *testing.T) {
	f := newFake(t)
	s := newStore(t, f.backend(t, gcpsm.Options{}), "billing")
	tok := token(1)
	if err := s.SaveToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		// A refresh: a new access token and expiry, the refresh token kept.
		err := s.SaveToken(t.Context(), &tokenstore.Token{ID: tok.ID, AccessToken: fmt.Sprintf("1000.refreshed%d", i), Expiry: tok.Expiry.Add(time.Duration(i+1) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
	}
	states := f.versions(t, secretName("billing", tok.ID))
	enabled, n := billed(states)
	t.Logf("after 10 refreshes: %d versions, %d enabled, %d billed", len(states), enabled, n)
	if len(states) != 11 || enabled != 1 || n != 1 {
		t.Errorf("after 10 refreshes: %d versions %v; want 11 with 1 enabled and 1 billed", len(states), states)
	}
	got, err := s.FindTokenByID(t.Context(), tok.ID)
	if err != nil || got.AccessToken != "1000.refreshed9" || got.RefreshToken != tok.RefreshToken {
		t.Errorf("FindTokenByID = %v, %v; want the last refresh", got, err)
	}
}

func TestHalfCreatedSecretIsCompleted(t *testing.T) {
	ctx := t.Context()
	f := newFake(t)
	b := f.backend(t, gcpsm.Options{})
	s := newStore(t, b, "half")
	tok := token(1)
	// Save once to learn the derived ID, then put a half-created secret
	// (created, a version added, the alias never set) in its place, as a
	// creator that died between its calls leaves it.
	if err := s.SaveToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err := f.client.CreateSecret(ctx, &secretmanagerpb.CreateSecretRequest{
		Parent:   "projects/" + project,
		SecretId: gcpsm.DefaultPrefix + "half_" + tok.ID,
		Secret: &secretmanagerpb.Secret{
			Replication: &secretmanagerpb.Replication{Replication: &secretmanagerpb.Replication_Automatic_{Automatic: &secretmanagerpb.Replication_Automatic{}}},
			Labels:      map[string]string{"tokenstore_ns": "half", "tokenstore_inc": "0123456789abcdef"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	name := secretName("half", tok.ID)
	if _, err := f.client.AddSecretVersion(ctx, &secretmanagerpb.AddSecretVersionRequest{Parent: name, Payload: &secretmanagerpb.SecretPayload{Data: []byte("a dead creator's value")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "half", tok.ID); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("Get of a half-created secret = %v, want ErrNotFound", err)
	}
	if all, err := s.GetTokens(ctx); err != nil || len(all) != 0 {
		t.Errorf("GetTokens with a half-created secret = %d tokens, %v; want none", len(all), err)
	}
	saved := token(1)
	if err := s.SaveToken(ctx, saved); err != nil {
		t.Fatalf("SaveToken over a half-created secret: %v", err)
	}
	if saved.ID != tok.ID {
		t.Errorf("SaveToken gave ID %s, want the derived %s", saved.ID, tok.ID)
	}
	got, err := s.FindTokenByID(ctx, tok.ID)
	if err != nil || got.AccessToken != tok.AccessToken {
		t.Errorf("FindTokenByID after completion = %v, %v", got, err)
	}
	if enabled, n := billed(f.versions(t, name)); enabled != 1 || n != 1 {
		t.Errorf("after completion %d versions enabled, %d billed; want 1 and 1 (the stray destroyed)", enabled, n)
	}
	// The completed secret carries the index.
	if got, err := s.FindToken(ctx, &tokenstore.Token{AccessToken: tok.AccessToken}); err != nil || got.ID != tok.ID {
		t.Errorf("FindToken by access token after completion = %v, %v", got, err)
	}
}

func TestCreateOfExistingIsConflict(t *testing.T) {
	f := newFake(t)
	b := f.backend(t, gcpsm.Options{})
	e := &tokenstore.Entry{ID: "e1", Value: []byte("one")}
	if err := b.Create(t.Context(), "ns", e); err != nil {
		t.Fatal(err)
	}
	if err := b.Create(t.Context(), "ns", e); !errors.Is(err, tokenstore.ErrConflict) {
		t.Errorf("second Create = %v, want ErrConflict", err)
	}
	if enabled, n := billed(f.versions(t, secretName("ns", "e1"))); enabled != 1 || n != 1 {
		t.Errorf("a refused Create left %d enabled, %d billed versions; want 1 and 1", enabled, n)
	}
}

// TestRecreatedSecretIsNotMistaken: version numbers restart at 1 when a
// secret is deleted and created again; a write based on a read of the old
// secret must still fail.
func TestRecreatedSecretIsNotMistaken(t *testing.T) {
	ctx := t.Context()
	f := newFake(t)
	b := f.backend(t, gcpsm.Options{})
	other := f.backend(t, gcpsm.Options{}) // another process: its own cache
	if err := b.Create(ctx, "ns", &tokenstore.Entry{ID: "e1", Value: []byte("old")}); err != nil {
		t.Fatal(err)
	}
	old, err := b.Get(ctx, "ns", "e1")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Delete(ctx, "ns", "e1"); err != nil {
		t.Fatal(err)
	}
	if err := other.Create(ctx, "ns", &tokenstore.Entry{ID: "e1", Value: []byte("new")}); err != nil {
		t.Fatal(err)
	}
	cur, err := other.Get(ctx, "ns", "e1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Split(cur.Version, ":")[0] != strings.Split(old.Version, ":")[0] {
		t.Fatalf("versions %s and %s: the test needs equal version numbers", old.Version, cur.Version)
	}
	for _, be := range []*gcpsm.Backend{b, f.backend(t, gcpsm.Options{})} {
		upd := &tokenstore.Entry{ID: "e1", Value: []byte("built on the old secret"), Version: old.Version}
		if err := be.Update(ctx, "ns", upd); !errors.Is(err, tokenstore.ErrConflict) {
			t.Errorf("Update with a version of the deleted secret = %v, want ErrConflict", err)
		}
	}
	if got, err := other.Get(ctx, "ns", "e1"); err != nil || string(got.Value) != "new" {
		t.Errorf("after the refused updates Get = %v, %v; want the new value", got, err)
	}
}

// TestUpdateAcrossProcesses races writers with caches and locks of their
// own, so that only the etag keeps them apart.
func TestUpdateAcrossProcesses(t *testing.T) {
	const processes, goroutines = 4, 4
	ctx := t.Context()
	f := newFake(t)
	a := token(1)
	a.Extra = map[string]string{"n": "0"}
	if err := newStore(t, f.backend(t, gcpsm.Options{}), "race").SaveToken(ctx, a); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range processes {
		s := newStore(t, f.backend(t, gcpsm.Options{}), "race")
		for range goroutines {
			wg.Go(func() {
				_, err := s.Update(ctx, a.ID, func(t *tokenstore.Token) (*tokenstore.Token, error) {
					n, err := strconv.Atoi(t.Extra["n"])
					t.Extra["n"] = strconv.Itoa(n + 1)
					return t, err
				})
				if err != nil {
					t.Errorf("Update: %v", err)
				}
			})
		}
	}
	wg.Wait()
	got, err := newStore(t, f.backend(t, gcpsm.Options{}), "race").FindTokenByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Extra["n"] != strconv.Itoa(processes*goroutines) {
		t.Errorf("counter = %s after %d increments", got.Extra["n"], processes*goroutines)
	}
	if enabled, n := billed(f.versions(t, secretName("race", a.ID))); enabled != 1 || n != 1 {
		t.Errorf("after the race %d versions enabled, %d billed; want 1 and 1", enabled, n)
	}
}

// TestLabels: user names of any alphabet and case become label values the
// API accepts (the fake enforces its label rules), and finds by index work.
func TestLabels(t *testing.T) {
	ctx := t.Context()
	f := newFake(t)
	s := newStore(t, f.backend(t, gcpsm.Options{}), "labels")
	names := []string{
		"Jane.Doe@Example.COM:60001234",
		"o'brien+tag@example.com",
		"Zoë.Ünïcödé@例え.jp:1",
		"ВАСЯ@почта.рф",
		"user with spaces & symbols !#$%",
	}
	for i, u := range names {
		tok := &tokenstore.Token{UserName: u, AccessToken: fmt.Sprintf("1000.Access.%d.ÄÖ", i), ClientID: "c", ClientSecret: "s", RefreshToken: fmt.Sprintf("1000.R@fresh.%d", i)}
		if err := s.SaveToken(ctx, tok); err != nil {
			t.Fatalf("SaveToken(%q): %v", u, err)
		}
		sec, err := f.client.GetSecret(ctx, &secretmanagerpb.GetSecretRequest{Name: secretName("labels", tok.ID)})
		if err != nil {
			t.Fatal(err)
		}
		keys := slices.Sorted(maps.Keys(sec.Labels))
		want := []string{"tokenstore_access", "tokenstore_inc", "tokenstore_ns", "tokenstore_refresh", "tokenstore_user"}
		if !slices.Equal(keys, want) {
			t.Errorf("labels %v, want %v", keys, want)
		}
		for k, v := range sec.Labels {
			if k != "tokenstore_ns" && k != "tokenstore_inc" && (len(v) != 52 || strings.Trim(v, "abcdefghijklmnopqrstuvwxyz234567") != "") {
				t.Errorf("label %s=%q: want 52 characters of lowercase base32", k, v)
			}
		}
		// Another key than the creating one goes through the label filter.
		got, err := s.FindToken(ctx, &tokenstore.Token{AccessToken: tok.AccessToken})
		if err != nil || got.UserName != u {
			t.Errorf("FindToken by access token of %q = %v, %v", u, got, err)
		}
		got, err = s.FindToken(ctx, &tokenstore.Token{UserName: u})
		if err != nil || got.ID != tok.ID {
			t.Errorf("FindToken(%q) = %v, %v", u, got, err)
		}
	}
}

// TestForeignLabelsAndAliasesSurvive: labels and aliases that users put on
// a token's secret are kept by writes.
func TestForeignLabelsAndAliasesSurvive(t *testing.T) {
	ctx := t.Context()
	f := newFake(t)
	s := newStore(t, f.backend(t, gcpsm.Options{}), "keep")
	tok := token(1)
	if err := s.SaveToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	name := secretName("keep", tok.ID)
	sec, err := f.client.GetSecret(ctx, &secretmanagerpb.GetSecretRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	sec.Labels["team"] = "crm"
	sec.VersionAliases["pinned"] = 1
	if _, err := f.client.UpdateSecret(ctx, &secretmanagerpb.UpdateSecretRequest{Secret: sec, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"labels", "version_aliases"}}}); err != nil {
		t.Fatal(err)
	}
	// A process that cached the state before the edit: its etag is stale
	// though the current version is not, and the write goes through.
	if err := s.SaveToken(ctx, &tokenstore.Token{ID: tok.ID, AccessToken: "1000.new"}); err != nil {
		t.Fatal(err)
	}
	sec, err = f.client.GetSecret(ctx, &secretmanagerpb.GetSecretRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if sec.Labels["team"] != "crm" || sec.VersionAliases["pinned"] != 1 || sec.VersionAliases["tokenstore-current"] != 2 {
		t.Errorf("after a write: labels %v, aliases %v; want the user's kept", sec.Labels, sec.VersionAliases)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	f := newFake(t)
	long := strings.Repeat("p", 87)
	bad := "bad/prefix"
	for _, opts := range []gcpsm.Options{
		{},
		{Project: "a/b"},
		{Project: "p", Location: "Europe West"},
		{Project: "p", Prefix: &long},
		{Project: "p", Prefix: &bad},
	} {
		if _, err := gcpsm.New(f.client, opts); !errors.Is(err, tokenstore.ErrInvalidOptions) {
			t.Errorf("New(%+v) = %v, want ErrInvalidOptions", opts, err)
		}
	}
	if _, err := gcpsm.New(nil, gcpsm.Options{Project: "p"}); !errors.Is(err, tokenstore.ErrInvalidOptions) {
		t.Errorf("New(nil client) = %v, want ErrInvalidOptions", err)
	}
}

// TestDisabledCurrentVersion: a current version someone disabled by hand
// is an error of its own, neither absent (a save would try to create) nor
// a conflict (a save would retry in vain).
func TestDisabledCurrentVersion(t *testing.T) {
	ctx := t.Context()
	f := newFake(t)
	b := f.backend(t, gcpsm.Options{})
	if err := b.Create(ctx, "ns", &tokenstore.Entry{ID: "e1", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.DisableSecretVersion(ctx, &secretmanagerpb.DisableSecretVersionRequest{Name: secretName("ns", "e1") + "/versions/1"}); err != nil {
		t.Fatal(err)
	}
	_, err := b.Get(ctx, "ns", "e1")
	if err == nil || errors.Is(err, tokenstore.ErrNotFound) || errors.Is(err, tokenstore.ErrConflict) {
		t.Errorf("Get of a disabled current version = %v, want an error that is neither ErrNotFound nor ErrConflict", err)
	}
}

// TestRetriesUnavailable: the client's retryer, not a loop of ours, rides
// out a service that is briefly unavailable.
func TestRetriesUnavailable(t *testing.T) {
	f := newFake(t)
	b := f.backend(t, gcpsm.Options{})
	f.srv.FailNext(2, "AccessSecretVersion", codes.Unavailable)
	if _, err := b.Get(t.Context(), "ns", "missing"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("Get after 2 UNAVAILABLE answers = %v, want ErrNotFound from the third try", err)
	}
	if c := f.calls.take()["AccessSecretVersion"]; c != 3 {
		t.Errorf("%d AccessSecretVersion calls, want 3", c)
	}
}

// blockingClient holds UpdateSecret calls, once armed, until released.
type blockingClient struct {
	gcpsm.Client
	armed   chan struct{} // closed: hold the next UpdateSecret
	held    chan struct{} // closed when an UpdateSecret is held
	release chan struct{}
}

func (c *blockingClient) UpdateSecret(ctx context.Context, req *secretmanagerpb.UpdateSecretRequest, opts ...gax.CallOption) (*secretmanagerpb.Secret, error) {
	select {
	case <-c.armed:
		close(c.held)
		<-c.release
	default:
	}
	return c.Client.UpdateSecret(ctx, req, opts...)
}

// TestReadDuringCommit: a read that starts while this process commits a
// write of the token returns the committed value, not the one it replaces.
func TestReadDuringCommit(t *testing.T) {
	ctx := t.Context()
	f := newFake(t)
	c := &blockingClient{Client: f.client, armed: make(chan struct{}), held: make(chan struct{}), release: make(chan struct{})}
	b, err := gcpsm.New(c, gcpsm.Options{Project: project})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Create(ctx, "ns", &tokenstore.Entry{ID: "e1", Value: []byte("old")}); err != nil {
		t.Fatal(err)
	}
	old, err := b.Get(ctx, "ns", "e1")
	if err != nil {
		t.Fatal(err)
	}
	close(c.armed)
	updated := make(chan error, 1)
	go func() {
		updated <- b.Update(ctx, "ns", &tokenstore.Entry{ID: "e1", Value: []byte("new"), Version: old.Version})
	}()
	<-c.held // the commit is under way, its UpdateSecret held
	read := make(chan *tokenstore.Entry, 1)
	go func() {
		e, err := b.Get(ctx, "ns", "e1")
		if err != nil {
			t.Error(err)
		}
		read <- e
	}()
	// Give the read time to start; if it starts later it reads the new
	// value from the service, and the test passes for that reason instead.
	time.Sleep(20 * time.Millisecond)
	close(c.release)
	if err := <-updated; err != nil {
		t.Fatal(err)
	}
	if e := <-read; e == nil || string(e.Value) != "new" || e.Version == old.Version {
		t.Errorf("a read during the commit returned %+v, want the committed value", e)
	}
}

// TestPrefixesStayApart: backends of different prefixes share the
// namespace label but not their tokens.
func TestPrefixesStayApart(t *testing.T) {
	ctx := t.Context()
	f := newFake(t)
	pa, pb := "a-", "b-"
	a := f.backend(t, gcpsm.Options{Prefix: &pa})
	b := f.backend(t, gcpsm.Options{Prefix: &pb})
	ix := tokenstore.Index{UserName: strings.Repeat("u", 52)}
	for _, be := range []*gcpsm.Backend{a, b} {
		if err := be.Create(ctx, "ns", &tokenstore.Entry{ID: "e1", Value: []byte("v"), Index: ix}); err != nil {
			t.Fatal(err)
		}
	}
	for _, be := range []*gcpsm.Backend{a, b} {
		if all, err := be.List(ctx, "ns"); err != nil || len(all) != 1 {
			t.Errorf("List = %d entries, %v; want its own 1", len(all), err)
		}
		if found, err := be.Lookup(ctx, "ns", tokenstore.IndexUserName, ix.UserName); err != nil || len(found) != 1 {
			t.Errorf("Lookup = %d entries, %v; want its own 1", len(found), err)
		}
	}
}

// TestTooLargeBeforeAnyCall: the header counts against the payload limit,
// and a value that does not fit fails before any call.
func TestTooLargeBeforeAnyCall(t *testing.T) {
	ctx := t.Context()
	f := newFake(t)
	b := f.backend(t, gcpsm.Options{})
	if err := b.Create(ctx, "ns", &tokenstore.Entry{ID: "e1", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	cur, err := b.Get(ctx, "ns", "e1")
	if err != nil {
		t.Fatal(err)
	}
	f.calls.take()
	big := []byte(strings.Repeat("x", gcpsm.MaxPayloadSize-10))
	if err := b.Create(ctx, "ns", &tokenstore.Entry{ID: "e2", Value: big}); !errors.Is(err, tokenstore.ErrTooLarge) {
		t.Errorf("Create of a value that fits only without the header = %v, want ErrTooLarge", err)
	}
	if err := b.Update(ctx, "ns", &tokenstore.Entry{ID: "e1", Value: big, Version: cur.Version}); !errors.Is(err, tokenstore.ErrTooLarge) {
		t.Errorf("Update with it = %v, want ErrTooLarge", err)
	}
	if c := f.calls.take(); total(c) != 0 {
		t.Errorf("oversized writes made calls %v", c)
	}
}
