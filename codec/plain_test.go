package codec

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tokenstore-go/tokenstore"
)

var bindCRM = tokenstore.Binding{Namespace: "crm", ID: "k3x"}

// fullToken sets every field, with values that are easy to find in output:
// each secret contains "SECRET" so tests can check no error leaks one.
func fullToken() *tokenstore.Token {
	return &tokenstore.Token{
		UserName:     "ada@example.com:123",
		ClientID:     "1000.CLIENTID",
		ClientSecret: "SECRET-client",
		RefreshToken: "1000.SECRET-refresh",
		AccessToken:  "1000.SECRET-access",
		GrantToken:   "1000.SECRET-grant",
		Expiry:       time.UnixMilli(1767225600123).UTC(),
		RedirectURL:  "https://example.com/cb?a=1&b=<2>",
		APIDomain:    "https://www.zohoapis.com",
		TokenType:    "Bearer",
		Scope:        "ZohoCRM.modules.ALL ZohoCRM.settings.READ",
		IDToken:      "eyJ.SECRET-idtoken.sig",
		Extra:        map[string]string{"expires_in_sec": "3600", "x-SECRET": "SECRET-extra", "": "empty key"},
	}
}

// token1KB is a realistic token of about 1 KB: a JWT-like access token, a
// Zoho-style refresh token, client credentials, an API domain, scope and
// expiry.
func token1KB() *tokenstore.Token {
	jwt := "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IjE2In0." +
		strings.Repeat("eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFkYSBMb3ZlbGFjZSIsImlhdCI6MTUxNjIzOTAyMn0", 6) +
		".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c_SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	return &tokenstore.Token{
		UserName:     "ada.lovelace@example.com:20071234567",
		ClientID:     "1000.7Y5NQ0S8FJ2ZJ6Y5S1J3VQW0J8ZKQH",
		ClientSecret: "5a9c1e1f7d3b4c2a8e6f0d9b7c5a3e1f2d4b6a8c0e",
		RefreshToken: "1000.3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d.5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f",
		AccessToken:  jwt,
		Expiry:       time.UnixMilli(1767225600123).UTC(),
		APIDomain:    "https://www.zohoapis.eu",
		TokenType:    "Bearer",
		Scope:        "ZohoCRM.modules.ALL ZohoCRM.settings.ALL ZohoCRM.users.READ ZohoCRM.org.READ",
	}
}

func TestToken1KBSize(t *testing.T) {
	data, err := Plain().Encode(context.Background(), token1KB(), bindCRM)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(data); n < 900 || n > 1200 {
		t.Errorf("token1KB encodes to %d bytes, want about 1 KB", n)
	}
}

func TestPlainRoundTrip(t *testing.T) {
	ctx := context.Background()
	sub := time.Date(2026, 1, 2, 3, 4, 5, 678_901_234, time.FixedZone("X", 3600))
	for _, tc := range []struct {
		name string
		tok  *tokenstore.Token
		want *tokenstore.Token // nil: the same as tok
	}{
		{name: "full", tok: fullToken()},
		{name: "1KB", tok: token1KB()},
		{name: "empty", tok: &tokenstore.Token{}},
		{name: "zero expiry", tok: &tokenstore.Token{UserName: "u"}},
		{name: "expiry at the epoch", tok: &tokenstore.Token{UserName: "u", Expiry: time.Unix(0, 0)}},
		{name: "expiry before the epoch", tok: &tokenstore.Token{UserName: "u", Expiry: time.UnixMilli(-1234567)}},
		{
			name: "expiry kept to the millisecond",
			tok:  &tokenstore.Token{UserName: "u", Expiry: sub},
			want: &tokenstore.Token{UserName: "u", Expiry: sub.Truncate(time.Millisecond)},
		},
		{name: "only extra", tok: &tokenstore.Token{Extra: map[string]string{"a": "", "b": "\x00\"\\\u2028"}}},
		{name: "ID is ignored", tok: &tokenstore.Token{ID: "other", UserName: "u"}, want: &tokenstore.Token{UserName: "u"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.tok.Clone()
			data, err := Plain().Encode(ctx, tc.tok, bindCRM)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.tok.Equal(in) {
				t.Error("Encode changed its argument")
			}
			got, err := Plain().Decode(ctx, data, bindCRM)
			if err != nil {
				t.Fatalf("Decode(%s): %v", data, err)
			}
			want := tc.want
			if want == nil {
				want = tc.tok.Clone()
			}
			want.ID = bindCRM.ID
			if !got.Equal(want) {
				t.Errorf("round trip of %s:\n got %#v %v\nwant %#v %v", data, got, got.Extra, want, want.Extra)
			}
			if got.Expiry.IsZero() != want.Expiry.IsZero() {
				t.Errorf("Expiry.IsZero() = %v, want %v", got.Expiry.IsZero(), want.Expiry.IsZero())
			}
			if Plain().Stale(data) {
				t.Error("Stale is true for what Encode just wrote")
			}
		})
	}
}

// TestPlainGolden pins the documented format: a change here breaks every
// value already stored.
func TestPlainGolden(t *testing.T) {
	const golden = `{"v":1,"ns":"crm","id":"k3x","user_name":"ada@example.com:123",` +
		`"client_id":"1000.CLIENTID","client_secret":"SECRET-client",` +
		`"refresh_token":"1000.SECRET-refresh","access_token":"1000.SECRET-access",` +
		`"grant_token":"1000.SECRET-grant","expiry_time":1767225600123,` +
		`"redirect_url":"https://example.com/cb?a=1&b=<2>","api_domain":"https://www.zohoapis.com",` +
		`"token_type":"Bearer","scope":"ZohoCRM.modules.ALL ZohoCRM.settings.READ",` +
		`"id_token":"eyJ.SECRET-idtoken.sig",` +
		`"extra":{"":"empty key","expires_in_sec":"3600","x-SECRET":"SECRET-extra"}}`
	data, err := Plain().Encode(context.Background(), fullToken(), bindCRM)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != golden {
		t.Errorf("Encode:\n got %s\nwant %s", data, golden)
	}
	got, err := Plain().Decode(context.Background(), []byte(golden), bindCRM)
	if err != nil {
		t.Fatal(err)
	}
	want := fullToken()
	want.ID = bindCRM.ID
	if !got.Equal(want) {
		t.Errorf("Decode(golden) = %#v, want %#v", got, want)
	}
}

// TestPlainDecodeAccepts lists inputs that are valid though Encode would
// not write them so: JSON's freedoms that the format keeps.
func TestPlainDecodeAccepts(t *testing.T) {
	for _, in := range []string{
		`{"v":1,"ns":"crm","id":"k3x"}`,
		`{"id":"k3x","ns":"crm","v":1}`,
		"{ \"v\" : 1 ,\n\"ns\":\"crm\",\"id\":\"k3x\"}\n",
		`{"v":1,"ns":"crm","id":"\u006b3x","user_name":"\u00e9"}`,
		`{"v":1,"ns":"crm","id":"k3x","extra":{}}`,
		`{"v":1,"ns":"crm","id":"k3x","expiry_time":0}`,
		`{"v":1,"ns":"crm","id":"k3x","expiry_time":-9223372036854775808}`,
		`{"v":1,"ns":"crm","id":"k3x","expiry_time":9223372036854775807}`,
		`{"\u0076":1,"ns":"crm","id":"k3x"}`,
		`{"v":1,"ns":"crm","id":"k3x","scope":"a\"b\\c\/\ud83d\ude00"}`,
		"{\"v\":1,\"ns\":\"crm\",\"id\":\"k3x\",\"scope\":\"\xff\"}", // read as U+FFFD, as any JSON reader does
	} {
		if _, err := Plain().Decode(context.Background(), []byte(in), bindCRM); err != nil {
			t.Errorf("Decode(%s): %v", in, err)
		}
	}
}

func TestPlainDecodeErrors(t *testing.T) {
	valid, err := Plain().Encode(context.Background(), fullToken(), bindCRM)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   string
		want error
	}{
		{"empty", ``, ErrTruncated},
		{"open brace", `{`, ErrTruncated},
		{"truncated after version", `{"v":1`, ErrTruncated},
		{"truncated in a string", `{"v":1,"ns":"crm","id":"k3`, ErrTruncated},
		{"truncated after a comma", `{"v":1,"ns":"crm",`, ErrTruncated},
		{"truncated value", string(valid[:len(valid)-1]), ErrTruncated},
		{"truncated in extra", `{"v":1,"ns":"crm","id":"k3x","extra":{"a":"b"`, ErrTruncated},
		{"garbage", `garbage`, ErrMalformed},
		{"binary", "\x00\xff\x01", ErrMalformed},
		{"leading space", ` {"v":1,"ns":"crm","id":"k3x"}`, ErrMalformed},
		{"array", `[1]`, ErrMalformed},
		{"not JSON inside", `{v:1}`, ErrMalformed},
		{"trailing comma", `{"v":1,"ns":"crm","id":"k3x",}`, ErrMalformed},
		{"missing v", `{"ns":"crm","id":"k3x"}`, ErrMalformed},
		{"v zero", `{"v":0,"ns":"crm","id":"k3x"}`, ErrMalformed},
		{"v string", `{"v":"1","ns":"crm","id":"k3x"}`, ErrMalformed},
		{"v fraction", `{"v":1.0,"ns":"crm","id":"k3x"}`, ErrMalformed},
		{"v null", `{"v":null,"ns":"crm","id":"k3x"}`, ErrMalformed},
		{"unknown member", `{"v":1,"ns":"crm","id":"k3x","password":"x"}`, ErrMalformed},
		{"member in other case", `{"v":1,"ns":"crm","id":"k3x","User_Name":"x"}`, ErrMalformed},
		{"version in other case", `{"V":1,"ns":"crm","id":"k3x"}`, ErrMalformed},
		{"duplicate member", `{"v":1,"ns":"crm","id":"k3x","id":"k3x"}`, ErrMalformed},
		{"duplicate extra key", `{"v":1,"ns":"crm","id":"k3x","extra":{"a":"1","a":"2"}}`, ErrMalformed},
		{"null field", `{"v":1,"ns":"crm","id":"k3x","user_name":null}`, ErrMalformed},
		{"number field", `{"v":1,"ns":"crm","id":"k3x","user_name":1}`, ErrMalformed},
		{"null extra", `{"v":1,"ns":"crm","id":"k3x","extra":null}`, ErrMalformed},
		{"extra value not a string", `{"v":1,"ns":"crm","id":"k3x","extra":{"a":1}}`, ErrMalformed},
		{"expiry string", `{"v":1,"ns":"crm","id":"k3x","expiry_time":"1767225600123"}`, ErrMalformed},
		{"expiry fraction", `{"v":1,"ns":"crm","id":"k3x","expiry_time":1.5}`, ErrMalformed},
		{"expiry overflow", `{"v":1,"ns":"crm","id":"k3x","expiry_time":99999999999999999999}`, ErrMalformed},
		{"trailing data", `{"v":1,"ns":"crm","id":"k3x"}x`, ErrMalformed},
		{"second object", `{"v":1,"ns":"crm","id":"k3x"}{}`, ErrMalformed},
		{"v 2", `{"v":2,"ns":"crm","id":"k3x"}`, ErrUnknownVersion},
		{"v 2 with new members", `{"v":2,"ns":"crm","id":"k3x","new":{"x":[1]}}`, ErrUnknownVersion},
		{"v 2 after new members", `{"new":[1,{"a":2}],"v":2}`, ErrUnknownVersion},
		{"v 2 truncated", `{"v":2,"ns":"crm","id":"k3x","new":`, ErrUnknownVersion},
		{"v 2 after deep nesting", `{"new":` + strings.Repeat("[", 50) + strings.Repeat("]", 50) + `,"v":2}`, ErrUnknownVersion},
		{"nesting too deep to skip", `{"v":1,"new":` + strings.Repeat("[", 101) + strings.Repeat("]", 101) + `}`, ErrMalformed},
		{"unknown member, literal", `{"v":1,"ns":"crm","id":"k3x","x":true}`, ErrMalformed},
		{"unknown member, number", `{"v":1,"ns":"crm","id":"k3x","x":-0.5e+3}`, ErrMalformed},
		{"unknown member, bad literal", `{"v":1,"ns":"crm","id":"k3x","x":nul}`, ErrMalformed},
		{"truncated literal", `{"v":1,"x":tru`, ErrTruncated},
		{"truncated number", `{"v":1,"x":1.`, ErrTruncated},
		{"truncated escape", `{"v":1,"ns":"\`, ErrTruncated},
		{"bad escape", `{"v":1,"ns":"crm","id":"k3x","user_name":"\x"}`, ErrMalformed},
		{"control character", "{\"v\":1,\"ns\":\"crm\",\"id\":\"k3x\",\"user_name\":\"a\nb\"}", ErrMalformed},
		{"leading zero", `{"v":01,"ns":"crm","id":"k3x"}`, ErrMalformed},
		{"v minus", `{"v":-,"ns":"crm","id":"k3x"}`, ErrMalformed},
		{"expiry leading zero", `{"v":1,"ns":"crm","id":"k3x","expiry_time":012}`, ErrMalformed},
		{"expiry just over int64", `{"v":1,"ns":"crm","id":"k3x","expiry_time":9223372036854775808}`, ErrMalformed},
		{"missing colon", `{"v" 1}`, ErrMalformed},
		{"missing comma", `{"v":1 "ns":"crm"}`, ErrMalformed},
		{"other ID", `{"v":1,"ns":"crm","id":"k3y"}`, ErrWrongSecret},
		{"other namespace", `{"v":1,"ns":"erp","id":"k3x"}`, ErrWrongSecret},
		{"no binding", `{"v":1}`, ErrWrongSecret},
		{"copied value", strings.Replace(string(valid), `"id":"k3x"`, `"id":"k3y"`, 1), ErrWrongSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Plain().Decode(context.Background(), []byte(tc.in), bindCRM)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode(%q) = %v, want %v", tc.in, err, tc.want)
			}
			if !errors.Is(err, tokenstore.ErrCorrupt) {
				t.Errorf("error %v does not match tokenstore.ErrCorrupt", err)
			}
			if tok != nil {
				t.Errorf("Decode returned a token with its error")
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q contains a token value", err)
			}
		})
	}
}

// TestPlainErrorsHideValues feeds values full of secrets that fail in every
// way and checks no error text carries any part of them.
func TestPlainErrorsHideValues(t *testing.T) {
	valid, err := Plain().Encode(context.Background(), fullToken(), bindCRM)
	if err != nil {
		t.Fatal(err)
	}
	inputs := [][]byte{
		bytes.Replace(valid, []byte(`"v":1`), []byte(`"v":7`), 1),
		bytes.Replace(valid, []byte(`"client_secret"`), []byte(`"SECRET-member"`), 1),
		bytes.Replace(valid, []byte(`"refresh_token":"`), []byte(`"refresh_token":`), 1),
		bytes.Replace(valid, []byte(`"expiry_time":1767225600123`), []byte(`"expiry_time":"SECRET"`), 1),
		append(bytes.Clone(valid), "SECRET"...),
	}
	for i := range len(valid) {
		inputs = append(inputs, valid[:i])
	}
	for _, in := range inputs {
		for _, b := range []tokenstore.Binding{bindCRM, {Namespace: "crm", ID: "other"}} {
			_, err := Plain().Decode(context.Background(), in, b)
			if err == nil {
				t.Fatalf("Decode(%s) succeeded", in)
			}
			if s := err.Error(); strings.Contains(s, "SECRET") || strings.Contains(s, "1000.") {
				t.Errorf("Decode(%s): error %q contains a token value", in, s)
			}
		}
	}
}

func TestPlainEncodeErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Plain().Encode(ctx, nil, bindCRM); !errors.Is(err, tokenstore.ErrInvalidToken) {
		t.Errorf("Encode(nil) = %v, want ErrInvalidToken", err)
	}
	for _, tc := range []struct {
		name string
		tok  *tokenstore.Token
	}{
		// encoding/json would silently replace the bytes with U+FFFD.
		{"invalid UTF-8", &tokenstore.Token{RefreshToken: "SECRET\xff"}},
		{"invalid UTF-8 extra key", &tokenstore.Token{Extra: map[string]string{"SECRET\xff": "x"}}},
		{"invalid UTF-8 extra value", &tokenstore.Token{Extra: map[string]string{"k": "SECRET\xff"}}},
		{"expiry beyond int64 milliseconds", &tokenstore.Token{Expiry: time.Date(300_000_000, 1, 1, 0, 0, 0, 0, time.UTC)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Plain().Encode(ctx, tc.tok, bindCRM)
			if !errors.Is(err, ErrInvalidField) {
				t.Fatalf("Encode = %v, want ErrInvalidField", err)
			}
			if errors.Is(err, tokenstore.ErrCorrupt) {
				t.Errorf("Encode error %v matches ErrCorrupt, which is for stored values", err)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q contains a token value", err)
			}
		})
	}
}

func TestPlainStale(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{`{"v":1,"ns":"crm","id":"k3x"}`, false},
		{``, true},
		{`x`, true},
	} {
		if got := Plain().Stale([]byte(tc.in)); got != tc.want {
			t.Errorf("Stale(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func BenchmarkEncodePlain1KB(b *testing.B) {
	ctx, c, tok := context.Background(), Plain(), token1KB()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Encode(ctx, tok, bindCRM); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePlain1KB(b *testing.B) {
	ctx, c := context.Background(), Plain()
	data, err := c.Encode(ctx, token1KB(), bindCRM)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decode(ctx, data, bindCRM); err != nil {
			b.Fatal(err)
		}
	}
}
