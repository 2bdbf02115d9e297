package awssm

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/tokenstore-go/tokenstore"
)

var testIndex = tokenstore.Index{
	UserName:    strings.Repeat("u", 52),
	AccessToken: strings.Repeat("a", 52),
}

func TestValueRoundTrip(t *testing.T) {
	for _, v := range []string{
		`{"v":1,"ns":"crm","id":"x","user_name":"o'brien \u003c\u0026\u003e"}`, // plain codec: embedded
		"tokenstore-sealed:AAECAw", // sealed text: a JSON string
		`"a JSON string"`,          // valid JSON, not an object
		`{"v":1} `,                 // an object with trailing space
		"not \"json\" \x00 \u2028", // anything else
		`{"broken":`,               // invalid JSON that looks like an object
		``,                         // empty
	} {
		e := &tokenstore.Entry{ID: "x", Value: []byte(v), Index: testIndex}
		s, err := formatValue(e, writeID{1})
		if err != nil {
			t.Fatal(err)
		}
		got, ix := parseValue([]byte(s))
		if !bytes.Equal(got, e.Value) || ix != testIndex {
			t.Errorf("round trip of %q via %s = %q, %+v", v, s, got, ix)
		}
	}
	plain := `{"v":1,"ns":"crm"}`
	s, _ := formatValue(&tokenstore.Entry{Value: []byte(plain)}, writeID{})
	if !strings.Contains(s, `"token":`+plain) {
		t.Errorf("plain codec output not embedded readably: %s", s)
	}
}

func TestForeignValue(t *testing.T) {
	for _, v := range []string{"garbage", `{"tokenstore":"other/1","token":{}}`, `{"v":1}`, `{"tokenstore":"awssm/1"}`} {
		got, ix := parseValue([]byte(v))
		if string(got) != v || ix != (tokenstore.Index{}) {
			t.Errorf("parseValue(%q) = %q, %+v; want the value whole, no index", v, got, ix)
		}
	}
}

func TestValueTooLarge(t *testing.T) {
	big := bytes.Repeat([]byte("x"), maxSecretString-200)
	if _, err := formatValue(&tokenstore.Entry{Value: big, Index: testIndex}, writeID{}); !errors.Is(err, tokenstore.ErrTooLarge) {
		t.Errorf("formatValue of %d bytes = %v, want ErrTooLarge", len(big), err)
	}
}

func TestVersion(t *testing.T) {
	v := makeVersion("ab-cd", testIndex)
	id, state, ok := parseVersion(v)
	if !ok || id != "ab-cd" || state != tagStateOf(testIndex) {
		t.Errorf("parseVersion(%q) = %q, %q, %v", v, id, state, ok)
	}
	if m, ok := maskOf(state); !ok || m != 0b11 {
		t.Errorf("mask = %b, %v; want user and access", m, ok)
	}
	other := testIndex
	other.AccessToken = strings.Repeat("b", 52)
	if tagStateOf(other) == state {
		t.Error("a changed index value kept the tag state")
	}
	if _, _, ok := parseVersion("no-separator"); ok {
		t.Error("parseVersion accepted a version without index state")
	}
}

func TestCASToken(t *testing.T) {
	a, b := casToken("p/ns/id", "v1"), casToken("p/ns/id", "v2")
	if a == b || a != casToken("p/ns/id", "v1") || casToken("p/ns/other", "v1") == a {
		t.Error("casToken is not a function of name and version alone")
	}
	if len(a) != 36 || a[14] != '4' {
		t.Errorf("casToken = %q, want a UUID", a)
	}
}
