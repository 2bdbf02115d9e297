package tokenstore

import (
	"regexp"
	"strings"
	"testing"
)

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"a": true, "A-b_9": true, strings.Repeat("x", 128): true,
		"": false, strings.Repeat("x", 129): false, "../x": false, "a/b": false, "a.b": false,
		"a b": false, "é": false, "a\x00": false, "a%2f": false, "a=b": false,
	} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestIndexValues(t *testing.T) {
	h := newHasher([]byte("0123456789abcdef"))
	key := lookupKey{IndexUserName, "ada@example.com:1"}
	v := h.indexValue("ns", key)
	// GCP label values: lowercase [a-z0-9_-], at most 63 characters.
	if !regexp.MustCompile(`^[a-z2-7]{52}$`).MatchString(v) {
		t.Errorf("index value %q is not 52 characters of lowercase base32", v)
	}
	others := []string{
		h.indexValue("ns2", key),
		h.indexValue("ns", lookupKey{IndexAccessToken, key.value}),
		h.indexValue("ns", lookupKey{IndexUserName, "ada@example.com:2"}),
		newHasher([]byte("another key, 16+")).indexValue("ns", key),
		h.derivedID("ns", key, 0),
	}
	for _, o := range others {
		if o == v {
			t.Errorf("index value does not depend on namespace, kind, value and key")
		}
	}
	if h.indexValue("ns", key) != v {
		t.Error("index value is not deterministic")
	}
	// Length prefixes keep part boundaries: ("ab","c") is not ("a","bc").
	if h.indexValue("ab", lookupKey{"c", "x"}) == h.indexValue("a", lookupKey{"bc", "x"}) {
		t.Error("parts run into each other")
	}
	id := h.derivedID("ns", key, 0)
	if !ValidID(id) || len(id) != 26 || id == h.derivedID("ns", key, 1) {
		t.Errorf("derived IDs %q: want 26 valid characters, one per slot", id)
	}
}
