package tokenstore

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Token is one user's OAuth 2.0 credentials: the fields of the Zoho SDKs'
// OAuthToken (Zoho's names in brackets) plus the provider extras that
// golang.org/x/oauth2 keeps unexported.
//
// A Token never prints a secret: String, GoString, every fmt verb and
// LogValue show only the ID, the user name, the expiry and which secrets are
// set.
type Token struct {
	ID           string    // [id] assigned by SaveToken when empty
	UserName     string    // [user_name] the Zoho SDK writes "email:orgId"
	ClientID     string    // [client_id]
	ClientSecret string    // [client_secret]
	RefreshToken string    // [refresh_token]
	AccessToken  string    // [access_token]
	GrantToken   string    // [grant_token] single-use authorization code
	Expiry       time.Time // [expiry_time] of the access token; kept to the millisecond
	RedirectURL  string    // [redirect_url]
	APIDomain    string    // [api_domain] Zoho's per-account API host

	// Provider extras from the token response.
	TokenType string // token_type, usually "Bearer"
	Scope     string // scope
	IDToken   string // id_token (OpenID Connect)

	// Extra holds any other string fields of the token response. Its values
	// are treated as secrets and never printed.
	Extra map[string]string
}

// Clone returns a deep copy of t.
func (t *Token) Clone() *Token {
	if t == nil {
		return nil
	}
	c := *t
	c.Extra = maps.Clone(t.Extra)
	return &c
}

// Equal reports whether t and u hold the same values. Expiry is compared
// as an instant; an empty Extra equals a nil one.
func (t *Token) Equal(u *Token) bool {
	if t == nil || u == nil {
		return t == u
	}
	return t.ID == u.ID && t.UserName == u.UserName &&
		t.ClientID == u.ClientID && t.ClientSecret == u.ClientSecret &&
		t.RefreshToken == u.RefreshToken && t.AccessToken == u.AccessToken &&
		t.GrantToken == u.GrantToken && t.Expiry.Equal(u.Expiry) &&
		t.RedirectURL == u.RedirectURL && t.APIDomain == u.APIDomain &&
		t.TokenType == u.TokenType && t.Scope == u.Scope && t.IDToken == u.IDToken &&
		maps.Equal(t.Extra, u.Extra)
}

// merge returns stored updated by the non-zero fields of t: Zoho merges the
// fields a save leaves empty from the stored row, so a refresh response
// without a refresh token keeps the old one.
func merge(stored, t *Token) *Token {
	m := stored.Clone()
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&m.UserName, t.UserName)
	set(&m.ClientID, t.ClientID)
	set(&m.ClientSecret, t.ClientSecret)
	set(&m.RefreshToken, t.RefreshToken)
	set(&m.AccessToken, t.AccessToken)
	set(&m.GrantToken, t.GrantToken)
	set(&m.RedirectURL, t.RedirectURL)
	set(&m.APIDomain, t.APIDomain)
	set(&m.TokenType, t.TokenType)
	set(&m.Scope, t.Scope)
	set(&m.IDToken, t.IDToken)
	if !t.Expiry.IsZero() {
		m.Expiry = t.Expiry
	}
	for k, v := range t.Extra {
		// Reserved keys (the refresh lease) change only through Update: a
		// save of a stale copy must not bring back a released lease.
		if strings.HasPrefix(k, ReservedExtraPrefix) {
			continue
		}
		if m.Extra == nil {
			m.Extra = make(map[string]string, len(t.Extra))
		}
		m.Extra[k] = v
	}
	return m
}

// size is a lower bound of t's encoded size, cheap enough to reject an
// oversize token before any backend call.
func (t *Token) size() int {
	n := len(t.ID) + len(t.UserName) + len(t.ClientID) + len(t.ClientSecret) +
		len(t.RefreshToken) + len(t.AccessToken) + len(t.GrantToken) +
		len(t.RedirectURL) + len(t.APIDomain) + len(t.TokenType) + len(t.Scope) +
		len(t.IDToken)
	for k, v := range t.Extra {
		n += len(k) + len(v)
	}
	return n
}

// String describes t without any secret.
func (t Token) String() string {
	var b strings.Builder
	b.WriteString("Token{")
	fmt.Fprintf(&b, "ID: %q, UserName: %q", t.ID, t.UserName)
	if !t.Expiry.IsZero() {
		fmt.Fprintf(&b, ", Expiry: %s", t.Expiry.UTC().Format(time.RFC3339))
	}
	if set := t.secretsSet(); set != "" {
		fmt.Fprintf(&b, ", Set: %s", set)
	}
	b.WriteString("}")
	return b.String()
}

// GoString makes %#v as safe as %v.
func (t Token) GoString() string { return "tokenstore." + t.String() }

// Format prints String for every verb: without it, verbs such as %d or %t
// would make fmt print the raw fields.
func (t Token) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, t.GoString())
		return
	}
	io.WriteString(f, t.String())
}

// LogValue makes slog record the same safe fields as String.
func (t Token) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("id", t.ID), slog.String("user_name", t.UserName)}
	if !t.Expiry.IsZero() {
		attrs = append(attrs, slog.Time("expiry", t.Expiry))
	}
	if set := t.secretsSet(); set != "" {
		attrs = append(attrs, slog.String("set", set))
	}
	return slog.GroupValue(attrs...)
}

// secretsSet names the secret fields that are present, which helps debugging
// without revealing anything.
func (t *Token) secretsSet() string {
	var names []string
	for _, f := range []struct {
		name, v string
	}{
		{"client_secret", t.ClientSecret}, {"refresh_token", t.RefreshToken},
		{"access_token", t.AccessToken}, {"grant_token", t.GrantToken},
		{"id_token", t.IDToken},
	} {
		if f.v != "" {
			names = append(names, f.name)
		}
	}
	return strings.Join(names, ",")
}

// Extras of the token response that FromOAuth2 and OAuth2Token map to Token fields.
const (
	extraScope     = "scope"
	extraIDToken   = "id_token"
	extraAPIDomain = "api_domain"
)

// FromOAuth2 converts an x/oauth2 token, keeping the extras scope, id_token
// and api_domain and any extraKeys the caller names (x/oauth2 cannot list
// them). Non-string extras are kept in their fmt form.
func FromOAuth2(ot *oauth2.Token, extraKeys ...string) *Token {
	if ot == nil {
		return nil
	}
	t := &Token{
		AccessToken:  ot.AccessToken,
		TokenType:    ot.TokenType,
		RefreshToken: ot.RefreshToken,
		Expiry:       ot.Expiry,
		Scope:        extraString(ot, extraScope),
		IDToken:      extraString(ot, extraIDToken),
		APIDomain:    extraString(ot, extraAPIDomain),
	}
	for _, k := range extraKeys {
		if v := extraString(ot, k); v != "" {
			if t.Extra == nil {
				t.Extra = make(map[string]string)
			}
			t.Extra[k] = v
		}
	}
	return t
}

func extraString(ot *oauth2.Token, key string) string {
	switch v := ot.Extra(key).(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// OAuth2Token converts t for use with x/oauth2, with Scope, IDToken,
// APIDomain and Extra available through its Extra method.
func (t *Token) OAuth2Token() *oauth2.Token {
	ot := &oauth2.Token{
		AccessToken:  t.AccessToken,
		TokenType:    t.TokenType,
		RefreshToken: t.RefreshToken,
		Expiry:       t.Expiry,
	}
	extra := make(map[string]any, len(t.Extra)+3)
	for k, v := range t.Extra {
		if !strings.HasPrefix(k, ReservedExtraPrefix) { // tokenstore's own, not the provider's
			extra[k] = v
		}
	}
	for k, v := range map[string]string{extraScope: t.Scope, extraIDToken: t.IDToken, extraAPIDomain: t.APIDomain} {
		if v != "" {
			extra[k] = v
		}
	}
	if t.TokenType != "" {
		extra["token_type"] = t.TokenType
	}
	return ot.WithExtra(extra)
}
