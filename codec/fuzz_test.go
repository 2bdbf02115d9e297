package codec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenstore-go/tokenstore"
)

// fuzzSeed is a seed of a fuzz target, committed also as
// testdata/fuzz/<target>/<name>; go test -run TestFuzzSeedFiles -update
// writes the files.
type fuzzSeed struct {
	name string
	data []byte
}

var update = flag.Bool("update", false, "rewrite the committed fuzz seed files")

func plainSeeds(t testing.TB) []fuzzSeed {
	valid, err := Plain().Encode(context.Background(), fullToken(), bindCRM)
	if err != nil {
		t.Fatal(err)
	}
	return []fuzzSeed{
		{"plain-full", valid},
		{"plain-minimal", []byte(`{"v":1,"ns":"crm","id":"k3x"}`)},
		{"plain-epoch-extra", []byte(`{"v":1,"ns":"crm","id":"k3x","expiry_time":0,"extra":{"a":"\u00e9\ud800"}}`)},
		{"plain-v2", []byte(`{"v":2,"ns":"crm","id":"k3x"}`)},
		{"plain-duplicate", []byte(`{"v":1,"ns":"crm","id":"k3x","id":"k3x"}`)},
		{"plain-trailing-space", []byte(`{"v":1,"ns":"crm","id":"k3x"} `)},
		{"plain-truncated", []byte(`{"v":1`)},
		{"empty", []byte{}},
	}
}

// sealedSeeds derive from the golden values, so that they are the same on
// every run although sealing draws random nonces.
func sealedSeeds(t testing.TB) []fuzzSeed {
	bin, err := b64.DecodeString(goldenSealedFull[len(sealedPrefix):])
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(b []byte)) []byte {
		b := bytes.Clone(bin)
		f(b)
		return textOf(b)
	}
	return []fuzzSeed{
		{"sealed-full", []byte(goldenSealedFull)},
		{"sealed-empty", []byte(goldenSealedEmpty)},
		{"sealed-truncated", []byte(goldenSealedFull[:len(goldenSealedFull)/2])},
		{"sealed-v2", edit(func(b []byte) { b[0] = 2 })},
		{"sealed-unknown-key", edit(func(b []byte) { b[10] ^= 1 })},
		{"sealed-flipped", edit(func(b []byte) { b[len(b)-20] ^= 1 })},
		{"sealed-other-id", edit(func(b []byte) { b[92] = 'y' })},
		{"sealed-header-only", textOf(bin[:100])},
	}
}

func payloadSeeds(t testing.TB) []fuzzSeed {
	return []fuzzSeed{
		{"full", appendPayload(nil, fullToken())},
		{"1KB", appendPayload(nil, token1KB())},
		{"empty", []byte{}},
		{"extra-only", appendPayload(nil, &tokenstore.Token{Extra: map[string]string{"": "", "k": "\xff"}})},
		{"out-of-order", []byte{2, 1, 'a', 1, 1, 'b'}},
		{"overlong", []byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	}
}

// fuzzTargets are the fuzz targets and their seeds.
func fuzzTargets(t testing.TB) map[string][]fuzzSeed {
	return map[string][]fuzzSeed{
		"FuzzDecode":  append(plainSeeds(t), sealedSeeds(t)...),
		"FuzzPayload": payloadSeeds(t),
	}
}

// fuzzCodecs are the codecs FuzzDecode runs each input through.
func fuzzCodecs(t testing.TB) map[string]*Codec {
	w := mustLocal(t, testKey())
	return map[string]*Codec{
		"plain":     Plain(),
		"sealed":    mustNew(t, Options{Wrappers: []KeyWrapper{w}}),
		"migrating": mustNew(t, Options{Wrappers: []KeyWrapper{w}, AllowPlain: true}),
	}
}

// FuzzDecode checks that Decode, plain or sealing, never panics, fails only
// with the package's errors, and that whatever it accepts survives a round
// trip unchanged. Sealed inputs that open are rare under mutation (GCM
// authenticates them); FuzzPayload covers what they hold.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzTargets(f)["FuzzDecode"] {
		f.Add(s.data)
	}
	codecs := fuzzCodecs(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		for name, c := range codecs {
			tok, err := c.Decode(ctx, data, bindCRM)
			if err != nil {
				if tok != nil {
					t.Fatalf("%s: Decode returned a token with its error", name)
				}
				if !errors.Is(err, tokenstore.ErrCorrupt) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrNotSealed) {
					t.Fatalf("%s: Decode error %v is none of the package's", name, err)
				}
				continue
			}
			if tok.ID != bindCRM.ID {
				t.Fatalf("%s: Decode set ID %q, want %q", name, tok.ID, bindCRM.ID)
			}
			if data[0] == '{' {
				// The strict reader accepts only what encoding/json reads
				// the same way.
				ref, err := refDecodePlain(data)
				if err != nil {
					t.Fatalf("%s: Decode accepted %q, which encoding/json rejects: %v", name, data, err)
				}
				if !ref.Equal(tok) {
					t.Fatalf("%s: Decode(%q) = %#v, encoding/json reads %#v", name, data, tok, ref)
				}
			}
			again, err := c.Encode(ctx, tok, bindCRM)
			if err != nil {
				t.Fatalf("%s: Encode of a decoded token: %v", name, err)
			}
			tok2, err := c.Decode(ctx, again, bindCRM)
			if err != nil {
				t.Fatalf("%s: Decode(Encode(Decode(%q))) = %v", name, data, err)
			}
			if !tok2.Equal(tok) {
				t.Fatalf("%s: round trip changed the token: %#v != %#v", name, tok2, tok)
			}
			if c.Stale(again) {
				t.Fatalf("%s: Stale is true for what Encode wrote", name)
			}
		}
	})
}

// refDecodePlain reads the plain format with encoding/json, a reference for
// what the strict reader returns.
func refDecodePlain(data []byte) (*tokenstore.Token, error) {
	var p plainV1
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, err
	}
	t := &tokenstore.Token{
		ID: p.ID, UserName: p.UserName, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		RefreshToken: p.RefreshToken, AccessToken: p.AccessToken, GrantToken: p.GrantToken,
		RedirectURL: p.RedirectURL, APIDomain: p.APIDomain, TokenType: p.TokenType,
		Scope: p.Scope, IDToken: p.IDToken, Extra: p.Extra,
	}
	if p.ExpiryTime != nil {
		t.Expiry = time.UnixMilli(*p.ExpiryTime)
	}
	return t, nil
}

// FuzzPayload checks the binary encoding inside sealed values: parsing
// never panics, and what parses encodes back to an equal token.
func FuzzPayload(f *testing.F) {
	for _, s := range fuzzTargets(f)["FuzzPayload"] {
		f.Add(s.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := parsePayload(data)
		if err != nil {
			return
		}
		p := appendPayload(nil, tok)
		if len(p) != payloadSize(tok) {
			t.Fatalf("payloadSize %d, encoded %d bytes", payloadSize(tok), len(p))
		}
		tok2, err := parsePayload(p)
		if err != nil {
			t.Fatalf("parsePayload(appendPayload(parsePayload(%q))): %v", data, err)
		}
		if !tok2.Equal(tok) {
			t.Fatalf("round trip changed the token: %#v != %#v", tok2, tok)
		}
	})
}

// TestFuzzSeedFiles keeps the committed corpora in step with the seeds in
// code, so that plain `go test` and the fuzzer start from the same inputs.
func TestFuzzSeedFiles(t *testing.T) {
	for target, seeds := range fuzzTargets(t) {
		dir := filepath.Join("testdata", "fuzz", target)
		for _, s := range seeds {
			want := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", s.data)
			path := filepath.Join(dir, s.name)
			if *update {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("seed %s/%s is not committed (go test -run TestFuzzSeedFiles -update): %v", target, s.name, err)
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the seed in code; run go test -run TestFuzzSeedFiles -update", path)
			}
		}
	}
}
