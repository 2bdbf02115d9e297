package hashivault_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/hashivault"
)

// vaultEnv is the server servers/vault.sh started.
type vaultEnv struct {
	addr, token, mount, transit string
}

func getEnv(t testing.TB) vaultEnv {
	t.Helper()
	var e vaultEnv
	for _, v := range []struct {
		name string
		dst  *string
	}{
		{"TOKENSTORE_VAULT_ADDR", &e.addr},
		{"TOKENSTORE_VAULT_TOKEN", &e.token},
		{"TOKENSTORE_VAULT_MOUNT", &e.mount},
		{"TOKENSTORE_VAULT_TRANSIT", &e.transit},
	} {
		*v.dst = os.Getenv(v.name)
		if *v.dst == "" {
			t.Fatalf("%s is not set: run the tests through integration/run.sh, which starts Vault", v.name)
		}
	}
	return e
}

// counter counts the HTTP requests of a Vault client, by method and path.
type counter struct {
	base http.RoundTripper
	mu   sync.Mutex
	reqs []string
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	method := r.Method
	if r.URL.Query().Get("list") == "true" {
		method = "LIST"
	}
	c.mu.Lock()
	c.reqs = append(c.reqs, method+" "+strings.TrimPrefix(r.URL.Path, "/v1/"))
	c.mu.Unlock()
	return c.base.RoundTrip(r)
}

// take returns the requests since the last take.
func (c *counter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.reqs
	c.reqs = nil
	return r
}

// summary counts requests by method and the kind of path.
func summary(reqs []string) string {
	n := map[string]int{}
	for _, r := range reqs {
		method, p, _ := strings.Cut(r, " ")
		what := "token"
		if strings.Contains(p, "/index/") {
			what = "index"
		}
		if strings.Contains(p, "/metadata/") && method != "LIST" && method != "DELETE" {
			what += "-metadata"
		}
		n[method+" "+what]++
	}
	var parts []string
	for k, v := range n {
		parts = append(parts, fmt.Sprintf("%d %s", v, k))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// client returns a Vault client with the given token and a request counter.
func (e vaultEnv) client(t testing.TB, token string) (*api.Client, *counter) {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = e.addr
	// Conformance races 128 goroutines on one token: keep connections for
	// them all (the default keeps GOMAXPROCS+1 idle, and the others are
	// closed and opened again on every request).
	cfg.HttpClient.Transport.(*http.Transport).MaxIdleConnsPerHost = 256
	c := &counter{base: cfg.HttpClient.Transport}
	cfg.HttpClient.Transport = c
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client.SetToken(token)
	return client, c
}

func (e vaultEnv) root(t testing.TB) *api.Client {
	c, _ := e.client(t, e.token)
	return c
}

func (e vaultEnv) backend(t testing.TB, client *api.Client, opts hashivault.Options) *hashivault.Backend {
	t.Helper()
	if opts.Mount == "" {
		opts.Mount = e.mount
	}
	b, err := hashivault.New(client, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var indexKey = []byte("integration index key, not secret")

func newStore(t testing.TB, b tokenstore.Backend, ns string) *tokenstore.Store {
	t.Helper()
	s, err := tokenstore.New(b, tokenstore.Options{Namespace: ns, IndexKey: indexKey, Codec: codec.Plain()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// unique returns name and random hex, for namespaces, prefixes, key names.
func unique(t testing.TB, name string) string {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return name + "-" + hex.EncodeToString(b[:])
}

func user(n int) *tokenstore.Token {
	return &tokenstore.Token{
		UserName:     fmt.Sprintf("user%d@example.com:6000%d", n, n),
		ClientID:     "1000.CLIENT",
		ClientSecret: "client-secret-value",
		RefreshToken: fmt.Sprintf("1000.refresh-%d.secret", n),
		AccessToken:  fmt.Sprintf("1000.access-%d.secret", n),
		GrantToken:   fmt.Sprintf("1000.grant-%d.secret", n),
	}
}
