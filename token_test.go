package tokenstore_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokenstore-go/tokenstore"
)

func fullToken() *tokenstore.Token {
	return &tokenstore.Token{
		ID:           "tok-1",
		UserName:     "ada@example.com:601",
		ClientID:     "1000.CLIENTIDVALUE",
		ClientSecret: "SECRET-client-secret",
		RefreshToken: "SECRET-refresh-token",
		AccessToken:  "SECRET-access-token",
		GrantToken:   "SECRET-grant-token",
		Expiry:       time.Date(2030, 1, 2, 3, 4, 5, 6_000_000, time.UTC),
		RedirectURL:  "https://app.example.com/cb",
		APIDomain:    "https://www.zohoapis.com",
		TokenType:    "Bearer",
		Scope:        "ZohoCRM.modules.ALL",
		IDToken:      "SECRET-id-token",
		Extra:        map[string]string{"k": "SECRET-extra-value"},
	}
}

func TestTokenNeverPrintsSecrets(t *testing.T) {
	tok := fullToken()
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%10.3v"} {
		outputs = append(outputs,
			fmt.Sprintf(verb, tok), fmt.Sprintf(verb, *tok),
			fmt.Sprintf(verb, []*tokenstore.Token{tok}), fmt.Sprintf(verb, struct{ T tokenstore.Token }{*tok}),
			fmt.Sprintf(verb, map[string]*tokenstore.Token{"a": tok}))
	}
	outputs = append(outputs, fmt.Sprint(tok), fmt.Sprintln(*tok), tok.String(), tok.GoString())
	for _, newHandler := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(newHandler(&buf)).Info("saved", "token", tok, "value", *tok)
		outputs = append(outputs, buf.String())
	}
	for _, out := range outputs {
		if strings.Contains(out, "SECRET") {
			t.Errorf("output reveals a secret: %s", out)
		}
	}
	// What is shown is useful.
	for _, want := range []string{"tok-1", "ada@example.com:601", "2030-01-02T03:04:05Z", "refresh_token"} {
		if !strings.Contains(tok.String(), want) {
			t.Errorf("String() = %s, want it to show %q", tok, want)
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("saved", "token", tok)
	if !strings.Contains(buf.String(), `"token":{"id":"tok-1","user_name":"ada@example.com:601"`) {
		t.Errorf("slog output %s lacks the token's ID and user name", buf.String())
	}
	if s := fmt.Sprint((*tokenstore.Token)(nil)); s != "<nil>" {
		t.Errorf("nil *Token prints %q", s)
	}
}

func TestCloneAndEqual(t *testing.T) {
	a := fullToken()
	b := a.Clone()
	if !a.Equal(b) {
		t.Fatal("a clone is not Equal")
	}
	b.Extra["k"] = "other"
	if a.Extra["k"] != "SECRET-extra-value" {
		t.Error("Clone shares Extra")
	}
	if a.Equal(b) {
		t.Error("Equal ignores Extra")
	}
	c := a.Clone()
	c.Expiry = a.Expiry.In(time.FixedZone("Z", 3600))
	if !a.Equal(c) {
		t.Error("Equal compares Expiry's zone, want the instant")
	}
	if (&tokenstore.Token{}).Equal(&tokenstore.Token{Extra: map[string]string{}}) != true {
		t.Error("nil and empty Extra differ")
	}
}

func TestOAuth2RoundTrip(t *testing.T) {
	ot := (&oauth2.Token{
		AccessToken:  "at",
		TokenType:    "Bearer",
		RefreshToken: "rt",
		Expiry:       time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	}).WithExtra(map[string]any{
		"scope": "a b", "id_token": "idt", "api_domain": "https://www.zohoapis.in",
		"expires_in": float64(3600), "custom": "c",
	})
	tok := tokenstore.FromOAuth2(ot, "custom", "expires_in", "absent")
	want := &tokenstore.Token{
		AccessToken: "at", TokenType: "Bearer", RefreshToken: "rt", Expiry: ot.Expiry,
		Scope: "a b", IDToken: "idt", APIDomain: "https://www.zohoapis.in",
		Extra: map[string]string{"custom": "c", "expires_in": "3600"},
	}
	if !tok.Equal(want) {
		t.Fatalf("FromOAuth2 = %+v, want %+v", *tok, *want)
	}
	back := tok.OAuth2Token()
	if back.AccessToken != "at" || back.RefreshToken != "rt" || back.TokenType != "Bearer" || !back.Expiry.Equal(ot.Expiry) {
		t.Errorf("OAuth2Token fields = %+v", back)
	}
	for k, v := range map[string]string{"scope": "a b", "id_token": "idt", "api_domain": "https://www.zohoapis.in", "custom": "c"} {
		if got := back.Extra(k); got != v {
			t.Errorf("OAuth2Token().Extra(%q) = %v, want %q", k, got, v)
		}
	}
	if again := tokenstore.FromOAuth2(back, "custom", "expires_in"); !again.Equal(want) {
		t.Errorf("second round trip = %+v, want %+v", *again, *want)
	}
	if tokenstore.FromOAuth2(nil) != nil {
		t.Error("FromOAuth2(nil) != nil")
	}
}
