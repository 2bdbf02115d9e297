package lifecycle_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/storage"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"
)

// The client the tests register with the authorization server.
const (
	clientID     = "tokenstore-test"
	clientSecret = "tokenstore-test-secret"
	redirectURL  = "https://app.example/callback"
)

// authServer is ory/fosite serving the authorization-code and refresh-token
// grants, with refresh-token rotation and fosite's built-in reuse detection
// (a used refresh token presented again revokes the whole token family),
// plus revocation (RFC 7009) and an API that accepts only active access
// tokens. The handlers around fosite only count, slow down or fail requests.
type authServer struct {
	t        *testing.T
	srv      *httptest.Server
	provider fosite.OAuth2Provider

	// Counters of token requests by grant, as they reach fosite.
	exchanges, refreshes atomic.Int32
	// reuses counts refresh requests fosite rejected as a reuse: a token
	// already spent, or one revoked by an earlier reuse.
	reuses atomic.Int32
	// refreshedAt is when the first refresh reached fosite (Unix ms).
	refreshedAt atomic.Int64

	refreshDelay atomic.Int64 // nanoseconds each refresh waits before fosite sees it
	down         atomic.Bool  // token requests fail with 503, as in an outage
	// afterExchange runs once fosite answered a code exchange.
	afterExchange atomic.Pointer[func()]
}

func newAuthServer(t *testing.T) *authServer {
	t.Helper()
	// The client secret is stored hashed; the lowest bcrypt cost keeps 32
	// concurrent client authentications fast under the race detector.
	hash, err := bcrypt.GenerateFromPassword([]byte(clientSecret), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	store := storage.NewMemoryStore()
	store.Clients[clientID] = &fosite.DefaultClient{
		ID:            clientID,
		Secret:        hash,
		RedirectURIs:  []string{redirectURL},
		GrantTypes:    []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"},
		Scopes:        []string{"offline", "crm"},
	}
	config := &fosite.Config{
		AccessTokenLifespan:   time.Hour,
		RefreshTokenLifespan:  30 * 24 * time.Hour,
		AuthorizeCodeLifespan: 10 * time.Minute,
		GlobalSecret:          []byte("a global secret of at least 32 bytes!"),
		// Refresh tokens are issued for the "offline" scope (fosite's
		// default RefreshTokenScopes), and rotate on every refresh:
		// fosite's refresh handler revokes the used one and treats a
		// second use as theft (handleRefreshTokenReuse).
	}
	s := &authServer{t: t}
	s.provider = compose.Compose(config, store, compose.NewOAuth2HMACStrategy(config),
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
	)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/auth", s.authorize)
	mux.HandleFunc("POST /oauth/token", s.token)
	mux.HandleFunc("POST /oauth/revoke", func(w http.ResponseWriter, r *http.Request) {
		s.provider.WriteRevocationResponse(r.Context(), w, s.provider.NewRevocationRequest(r.Context(), r))
	})
	mux.HandleFunc("GET /api/me", s.api)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// config is the client's view of the server. AuthStyleInHeader is the
// client_secret_basic that fosite's clients use by default.
func (s *authServer) config() *oauth2.Config {
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		RedirectURL:  redirectURL,
		Scopes:       []string{"offline", "crm"},
		Endpoint: oauth2.Endpoint{
			AuthURL:   s.srv.URL + "/oauth/auth",
			TokenURL:  s.srv.URL + "/oauth/token",
			AuthStyle: oauth2.AuthStyleInHeader,
		},
	}
}

// authorize is the user consenting: fosite issues an authorization code
// and redirects to the client.
func (s *authServer) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := s.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	for _, scope := range ar.GetRequestedScopes() {
		ar.GrantScope(scope)
	}
	resp, err := s.provider.NewAuthorizeResponse(ctx, ar, &fosite.DefaultSession{Subject: "ada"})
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	s.provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// token is fosite's token endpoint behind the counting, slowing and failing
// wrapper. Responses carry api_domain, as Zoho's do.
func (s *authServer) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if s.down.Load() {
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	r.ParseForm()
	grant := r.PostForm.Get("grant_type")
	switch grant {
	case "authorization_code":
		s.exchanges.Add(1)
	case "refresh_token":
		if d := time.Duration(s.refreshDelay.Load()); d > 0 {
			time.Sleep(d)
		}
		s.refreshes.Add(1)
		s.refreshedAt.CompareAndSwap(0, time.Now().UnixMilli())
	}
	ar, err := s.provider.NewAccessRequest(ctx, r, &fosite.DefaultSession{})
	if err != nil {
		if grant == "refresh_token" && errors.Is(err, fosite.ErrInactiveToken) {
			s.reuses.Add(1)
		}
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	resp.SetExtra("api_domain", s.srv.URL)
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
	if f := s.afterExchange.Load(); f != nil && grant == "authorization_code" {
		(*f)()
	}
}

// api answers 200 to an active access token and 401 otherwise.
func (s *authServer) api(w http.ResponseWriter, r *http.Request) {
	_, _, err := s.provider.IntrospectToken(r.Context(), fosite.AccessTokenFromRequest(r), fosite.AccessToken, &fosite.DefaultSession{})
	if err != nil {
		http.Error(w, "inactive token", http.StatusUnauthorized)
		return
	}
	w.Write([]byte("ok"))
}

// authorizeCode runs the user's consent and returns the authorization code
// (Zoho's grant token) from the redirect.
func (s *authServer) authorizeCode() string {
	s.t.Helper()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(s.config().AuthCodeURL("state-0123456789"))
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		s.t.Fatalf("authorization: status %s, redirect %q", resp.Status, resp.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

// active reports whether the API accepts the access token.
func (s *authServer) active(accessToken string) bool {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// refreshDirectly spends refreshToken with x/oauth2 alone, as a second,
// uncoordinated client would.
func (s *authServer) refreshDirectly(refreshToken string) (*oauth2.Token, error) {
	return s.config().TokenSource(s.t.Context(), &oauth2.Token{RefreshToken: refreshToken}).Token()
}
