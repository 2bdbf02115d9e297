package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tokenstore-go/tokenstore"
)

// Test tokens carry distinctive values so that a leak of any of them into a
// name, an index value or an error string can be searched for.
const (
	clientID     = "1000.CLIENTIDSTORETEST"
	clientSecret = "clientsecret-storetest-5f2c9a"
)

// user returns a complete token for user n, every field set and unique to n.
func user(n int) *tokenstore.Token {
	return &tokenstore.Token{
		UserName:     fmt.Sprintf("user%d@example.com:6000%d", n, n),
		ClientID:     clientID,
		ClientSecret: clientSecret,
		RefreshToken: fmt.Sprintf("1000.refresh%d.9c1f27b4e8", n),
		AccessToken:  fmt.Sprintf("1000.access%d.77d0b1a3f2", n),
		GrantToken:   fmt.Sprintf("1000.grant%d.0a9e6c55d1", n),
		Expiry:       time.Date(2031, 5, 6, 7, 8, 9, 123_000_000, time.UTC).Add(time.Duration(n) * time.Minute),
		RedirectURL:  "https://app.example.com/oauth/callback",
		APIDomain:    "https://www.zohoapis.eu",
		TokenType:    "Bearer",
		Scope:        "ZohoCRM.modules.ALL ZohoCRM.settings.READ",
		IDToken:      fmt.Sprintf("eyJhbGciOiJSUzI1NiJ9.idtoken%d.sig", n),
		Extra:        map[string]string{"location": "eu", "session": fmt.Sprintf("sess%d", n)},
	}
}

// secrets lists the values of t that must never appear in clear outside a
// stored value.
func secrets(t *tokenstore.Token) []string {
	out := []string{t.UserName, t.ClientSecret, t.RefreshToken, t.AccessToken, t.GrantToken, t.IDToken}
	for _, v := range t.Extra {
		out = append(out, v)
	}
	var nonEmpty []string
	for _, s := range out {
		if len(s) >= 6 {
			nonEmpty = append(nonEmpty, s)
		}
	}
	return nonEmpty
}

// leaks reports the first secret that s contains, in any letter case.
func leaks(s string, secrets []string) (string, bool) {
	ls := strings.ToLower(s)
	for _, sec := range secrets {
		if strings.Contains(ls, strings.ToLower(sec)) {
			return sec, true
		}
	}
	return "", false
}

// sameFields fails t unless got holds want's fields; Expiry must match to the
// millisecond.
func sameFields(t *testing.T, got, want *tokenstore.Token) {
	t.Helper()
	if got == nil {
		t.Fatalf("got nil token, want %v", want)
	}
	w := want.Clone()
	w.Expiry = w.Expiry.Truncate(time.Millisecond)
	g := got.Clone()
	if w.ID == "" {
		g.ID = ""
	}
	if !g.Equal(w) {
		t.Errorf("token differs:\n got %s\nwant %s", describe(g), describe(w))
	}
}

// describe shows every field; for test failures only, where the values are
// test data.
func describe(t *tokenstore.Token) string {
	type plain tokenstore.Token // drops the redacting methods
	return fmt.Sprintf("%+v", plain(*t))
}

func saveAll(t *testing.T, s tokenstore.TokenStore, tokens ...*tokenstore.Token) {
	t.Helper()
	for _, tok := range tokens {
		if err := s.SaveToken(t.Context(), tok); err != nil {
			t.Fatalf("SaveToken(%v): %v", tok, err)
		}
	}
}
