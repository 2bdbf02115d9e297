package hashivault

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/tokenstore-go/tokenstore"
)

// The behaviour against a real Vault server is tested in
// integration/hashivault; these are the rules that need none.

func TestVersionRoundTrip(t *testing.T) {
	h := func(c string) string { return strings.Repeat(c, 52) }
	for _, ix := range []tokenstore.Index{
		{},
		{UserName: h("a")},
		{UserName: h("a"), AccessToken: h("b"), GrantToken: h("c"), RefreshToken: h("d")},
		{RefreshToken: h("d")},
	} {
		v := formatVersion(42, ix)
		n, got, err := parseVersion(v)
		if err != nil || n != 42 || got != ix {
			t.Errorf("parseVersion(%q) = %d, %+v, %v; want 42, %+v", v, n, got, err, ix)
		}
	}
	for _, bad := range []string{"", "1", "x::::", "0::::", "-1::::", "1:::", "1:::::"} {
		if _, _, err := parseVersion(bad); err == nil {
			t.Errorf("parseVersion(%q) accepted", bad)
		}
	}
}

func TestOptions(t *testing.T) {
	b, err := newBackend(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.mount != DefaultMount || b.prefix != DefaultPrefix || b.maxVersions != DefaultMaxVersions || b.parallelism != DefaultParallelism {
		t.Errorf("defaults: %+v", b)
	}
	if got := b.tokenPath("data", "ns", "id"); got != "secret/data/tokenstore/ns/tokens/id" {
		t.Errorf("tokenPath = %s", got)
	}
	b, err = newBackend(nil, Options{Mount: "/kv/", Prefix: "team/tokens/"})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.indexFolder("ns", tokenstore.IndexUserName, "h"); got != "kv/metadata/team/tokens/ns/index/user/h/" {
		t.Errorf("indexFolder = %s", got)
	}
	for _, opts := range []Options{
		{Prefix: "a/../b"},
		{Prefix: "a//b"},
		{Prefix: "a b"},
		{Mount: "."},
		{Mount: "kv?x"},
		{MaxVersions: -1},
	} {
		if _, err := newBackend(nil, opts); !errors.Is(err, tokenstore.ErrInvalidOptions) {
			t.Errorf("newBackend(%+v) = %v, want ErrInvalidOptions", opts, err)
		}
	}
	if _, err := New(nil, Options{}); !errors.Is(err, tokenstore.ErrInvalidOptions) {
		t.Errorf("New(nil) = %v", err)
	}
}

func TestMapError(t *testing.T) {
	for _, tc := range []struct {
		status int
		msgs   []string
		want   error
	}{
		{404, nil, tokenstore.ErrNotFound},
		{400, []string{"check-and-set parameter did not match the current version"}, tokenstore.ErrConflict},
		{400, []string{"no data provided"}, nil},
		{403, []string{"1 error occurred:\n\t* permission denied\n\n"}, ErrPermissionDenied},
		{413, []string{"http: request body too large"}, tokenstore.ErrTooLarge},
		{500, []string{"internal error"}, nil},
	} {
		re := &api.ResponseError{HTTPMethod: "PUT", URL: "http://127.0.0.1/v1/kv/data/p/ns/tokens/id", StatusCode: tc.status, Errors: tc.msgs}
		err := mapError("update token", "kv/data/p/ns/tokens/id", re)
		for _, sentinel := range []error{tokenstore.ErrNotFound, tokenstore.ErrConflict, ErrPermissionDenied, tokenstore.ErrTooLarge} {
			if got := errors.Is(err, sentinel); got != (sentinel == tc.want) {
				t.Errorf("%d %v: errors.Is(%v) = %v", tc.status, tc.msgs, sentinel, got)
			}
		}
		var got *api.ResponseError
		if !errors.As(err, &got) || got != re {
			t.Errorf("%d: the client's error is not kept", tc.status)
		}
		if !strings.Contains(err.Error(), "update token kv/data/p/ns/tokens/id") {
			t.Errorf("%d: %q names no operation and path", tc.status, err)
		}
	}
	if mapError("x", "y", nil) != nil {
		t.Error("mapError(nil) != nil")
	}
}

func TestNewTransitKeyWrapper(t *testing.T) {
	client, err := api.NewClient(api.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewTransitKeyWrapper(client, "tokens", TransitOptions{})
	if err != nil || w.KeyID() != "vault-transit:transit/tokens" {
		t.Errorf("NewTransitKeyWrapper = %v, %v", w, err)
	}
	w, err = NewTransitKeyWrapper(client, "tokens", TransitOptions{Mount: "/kms/", VaultNamespace: "team/"})
	if err != nil || w.KeyID() != "vault-transit:team/kms/tokens" {
		t.Errorf("NewTransitKeyWrapper in a namespace = %v, %v", w, err)
	}
	for _, tc := range []struct {
		key  string
		opts TransitOptions
	}{
		{"", TransitOptions{}},
		{"a/b", TransitOptions{}},
		{"..", TransitOptions{}},
		{"k", TransitOptions{Mount: "a b"}},
	} {
		if _, err := NewTransitKeyWrapper(client, tc.key, tc.opts); !errors.Is(err, tokenstore.ErrInvalidOptions) {
			t.Errorf("NewTransitKeyWrapper(%q, %+v) = %v, want ErrInvalidOptions", tc.key, tc.opts, err)
		}
	}
	if _, err := NewTransitKeyWrapper(nil, "k", TransitOptions{}); !errors.Is(err, tokenstore.ErrInvalidOptions) {
		t.Errorf("NewTransitKeyWrapper(nil client) = %v", err)
	}
}

// The Vault Enterprise namespace goes with every request, as the header
// Vault reads it from. (The test server is Vault OSS, which has none.)
func TestVaultNamespaceHeader(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("X-Vault-Namespace"))
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	cfg := api.DefaultConfig()
	cfg.Address = srv.URL
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(client, Options{VaultNamespace: "team-a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(t.Context(), "ns", "id"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("Get = %v, want ErrNotFound", err)
	}
	w, err := NewTransitKeyWrapper(client, "k", TransitOptions{VaultNamespace: "team-b"})
	if err != nil {
		t.Fatal(err)
	}
	w.Wrap(t.Context(), make([]byte, 32), []byte("aad"))
	if _, err := New(client, Options{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != "team-a" || got[1] != "team-b" {
		t.Errorf("X-Vault-Namespace of the requests = %q, want [team-a team-b]", got)
	}
	if client.Namespace() != "" {
		t.Errorf("New changed the caller's client: namespace %q", client.Namespace())
	}
}
