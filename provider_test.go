package tokenstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/memstore"
)

// fakeProvider is a small OAuth 2.0 token endpoint for unit tests: codes and
// refresh tokens are single use, refresh tokens rotate, and a reused refresh
// token revokes its family, as careful providers do. The integration tests
// run the same cases against a real server (ory/fosite).
type fakeProvider struct {
	srv *httptest.Server

	mu        sync.Mutex
	codes     map[string]bool   // unused authorization codes
	refresh   map[string]string // refresh token → family; present while active
	spent     map[string]string // used refresh token → family
	revoked   map[string]bool   // revoked families
	n         int
	noRotate  bool   // omit refresh_token from refresh responses
	apiDomain string // api_domain of responses
	fail      atomic.Bool

	// before and after run around each token request.
	before, after atomic.Pointer[func()]

	exchanges, refreshes, reuses, revocations atomic.Int32
	lastRevoked                               atomic.Value // string
}

func newFakeProvider(t *testing.T) *fakeProvider {
	p := &fakeProvider{
		codes:     map[string]bool{},
		refresh:   map[string]string{},
		spent:     map[string]string{},
		revoked:   map[string]bool{},
		apiDomain: "https://www.zohoapis.eu",
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if f := p.before.Load(); f != nil {
			(*f)()
		}
		p.token(w, r)
		if f := p.after.Load(); f != nil {
			(*f)()
		}
	})
	mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		p.revocations.Add(1)
		p.lastRevoked.Store(r.Form.Get("token"))
		p.mu.Lock()
		if fam, ok := p.refresh[r.Form.Get("token")]; ok {
			p.revoked[fam] = true
		}
		p.mu.Unlock()
	})
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s", r.Header.Get("Authorization"))
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakeProvider) config() *oauth2.Config {
	return &oauth2.Config{
		ClientID: "client", ClientSecret: "secret",
		Endpoint: oauth2.Endpoint{TokenURL: p.srv.URL + "/token", AuthStyle: oauth2.AuthStyleInParams},
	}
}

// code issues an authorization code.
func (p *fakeProvider) code() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	c := fmt.Sprintf("code-%d", p.n)
	p.codes[c] = true
	return c
}

func (p *fakeProvider) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if p.fail.Load() {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	if r.Form.Get("client_id") != "client" || r.Form.Get("client_secret") != "secret" {
		oauthError(w, "invalid_client")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var family string
	switch r.Form.Get("grant_type") {
	case "authorization_code":
		p.exchanges.Add(1)
		c := r.Form.Get("code")
		if !p.codes[c] {
			oauthError(w, "invalid_grant")
			return
		}
		delete(p.codes, c)
		family = c
	case "refresh_token":
		p.refreshes.Add(1)
		rt := r.Form.Get("refresh_token")
		if fam, ok := p.spent[rt]; ok {
			p.reuses.Add(1)
			p.revoked[fam] = true
			oauthError(w, "invalid_grant")
			return
		}
		fam, ok := p.refresh[rt]
		if !ok || p.revoked[fam] {
			oauthError(w, "invalid_grant")
			return
		}
		family = fam
		if !p.noRotate {
			delete(p.refresh, rt)
			p.spent[rt] = fam
		}
	default:
		oauthError(w, "unsupported_grant_type")
		return
	}
	p.n++
	resp := map[string]any{
		"access_token": fmt.Sprintf("at-%d", p.n),
		"token_type":   "Bearer",
		"expires_in":   3600,
		"api_domain":   p.apiDomain,
	}
	if !p.noRotate || r.Form.Get("grant_type") == "authorization_code" {
		rt := fmt.Sprintf("rt-%d", p.n)
		p.refresh[rt] = family
		resp["refresh_token"] = rt
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

func oauthError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}

// active reports whether refresh token rt can still be used.
func (p *fakeProvider) active(rt string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	fam, ok := p.refresh[rt]
	return ok && !p.revoked[fam]
}

// flakyBackend is a memstore whose writes fail while failWrites is set.
type flakyBackend struct {
	*memstore.Backend
	failWrites atomic.Bool
}

var errStoreDown = errors.New("store unavailable")

func (b *flakyBackend) Create(ctx context.Context, ns string, e *tokenstore.Entry) error {
	if b.failWrites.Load() {
		return errStoreDown
	}
	return b.Backend.Create(ctx, ns, e)
}

func (b *flakyBackend) Update(ctx context.Context, ns string, e *tokenstore.Entry) error {
	if b.failWrites.Load() {
		return errStoreDown
	}
	return b.Backend.Update(ctx, ns, e)
}

func newStore(t *testing.T, b tokenstore.Backend) *tokenstore.Store {
	t.Helper()
	s, err := tokenstore.New(b, tokenstore.Options{
		Namespace: "crm",
		IndexKey:  []byte("an index key of 16 bytes or more"),
		Codec:     codec.Plain(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
