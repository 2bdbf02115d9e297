package codec

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenstore-go/tokenstore"
)

// testKey is the local key of the golden values below: bytes 0 to 31.
func testKey() []byte {
	k := make([]byte, keySize)
	for i := range k {
		k[i] = byte(i)
	}
	return k
}

// Sealed values written by the first release of the format (v1) with
// testKey, for bindCRM: fullToken and an empty token. They must open
// forever.
const (
	goldenSealedFull  = "tokenstore-sealed:ARZsb2NhbC1hODdhODU4YWM3MjFlYmViPPyzgUqIrrRG6hcnd7E4QH-_Zd0WYNr1oEhFrg2ra6Qoh-sqrinqqBCHhEopXSkluVBTkOIfeTeQmLkSsgNjcm0DazN40QLhQAxv-wjevJvT9EYCtV3XeqrtgVm7AZI7YYHdbWFgHb45O0q8dUbmfLfMCKZpPUYRzTWP2JtA8Wsu7Oc5uCkMUD1ZAiB57-g8Sp3Sl7-VwRagtr_bV--epFcWAc4HPD0G3BQwkSNdWzBjAnavwARq6Z3mwhTjsvW_H9VxLmvtyj-wptgxo3ywDNaY8R2JHdoyiz4H0FQ9e2tFhjZnj4jVz3ARL5JWGsE94LK6irCffAn-KYlp8p5nNlKbNDTKE19ZR8sfJgXktt6Ttro5Oiyj5C84qru-Yf87JFBJJd6tVWwMbLRc0PjbnyKdQD3q6gy5Tg3ff4hv-Gzw3Twv2RRvGbPlgnMZ7OXzJIaIvykgu6d88ms47aoNoo1Jn1TT7ZWUftb7mAp5dDzgj2E1Iro0EaYy_m6NQpcrgirdvO912ny9w9yBNL564qoYe9AlZgAj"
	goldenSealedEmpty = "tokenstore-sealed:ARZsb2NhbC1hODdhODU4YWM3MjFlYmViPPyzgUqIrrRG6hcnd7E4QH-_Zd0WYNr1oEhFrg2ra6Qoh-sqrinqqBCHhEopXSkluVBTkOIfeTeQmLkSsgNjcm0DazN4HItciQ8GXe1pp04d3qKCfu-nj8H245exyFX5swE"
	goldenKeyID       = "local-a87a858ac721ebeb"
)

// withID returns t with its ID set, as Decode returns it.
func withID(t *tokenstore.Token, id string) *tokenstore.Token {
	t.ID = id
	return t
}

func mustLocal(t testing.TB, key []byte) *LocalKeyWrapper {
	t.Helper()
	w, err := NewLocalKeyWrapper(key)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// randomKey returns a distinct, valid local key per call.
func randomKey(t testing.TB, n byte) []byte {
	k := testKey()
	k[0] = n
	k[31] = 0xA5
	return k
}

func mustNew(t testing.TB, opts Options) *Codec {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sealer(t testing.TB, ws ...KeyWrapper) *Codec {
	if len(ws) == 0 {
		ws = []KeyWrapper{mustLocal(t, testKey())}
	}
	return mustNew(t, Options{Wrappers: ws})
}

// countingWrapper counts the calls that reach the key service.
type countingWrapper struct {
	KeyWrapper
	wraps, unwraps atomic.Int64
}

func (w *countingWrapper) Wrap(ctx context.Context, dek, aad []byte) ([]byte, error) {
	w.wraps.Add(1)
	return w.KeyWrapper.Wrap(ctx, dek, aad)
}

func (w *countingWrapper) Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error) {
	w.unwraps.Add(1)
	return w.KeyWrapper.Unwrap(ctx, wrapped, aad)
}

func (w *countingWrapper) calls() int64 { return w.wraps.Load() + w.unwraps.Load() }

// renamedWrapper gives a wrapper another key ID: a key swapped under a name.
type renamedWrapper struct {
	KeyWrapper
	id string
}

func (w renamedWrapper) KeyID() string { return w.id }

// failingWrapper fails like a key service that cannot be reached.
type failingWrapper struct {
	KeyWrapper
	err error
}

func (w failingWrapper) Wrap(context.Context, []byte, []byte) ([]byte, error) { return nil, w.err }
func (w failingWrapper) Unwrap(context.Context, []byte, []byte) ([]byte, error) {
	return nil, w.err
}

// binaryOf returns the decoded bytes of a sealed value.
func binaryOf(t testing.TB, v []byte) []byte {
	t.Helper()
	b, err := b64.DecodeString(strings.TrimPrefix(string(v), sealedPrefix))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func textOf(bin []byte) []byte {
	return []byte(sealedPrefix + b64.EncodeToString(bin))
}

func TestSealedRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := sealer(t)
	for _, tc := range []struct {
		name string
		tok  *tokenstore.Token
	}{
		{"full", fullToken()},
		{"1KB", token1KB()},
		{"empty", &tokenstore.Token{}},
		{"epoch", &tokenstore.Token{Expiry: time.Unix(0, 0)}},
		{"before the epoch", &tokenstore.Token{Expiry: time.UnixMilli(-1234567)}},
		// The sealed format holds bytes: no UTF-8 needed.
		{"binary", &tokenstore.Token{RefreshToken: "\xff\x00SECRET", Extra: map[string]string{"\xfe": "", "k": "\x80"}}},
		{"long", &tokenstore.Token{AccessToken: strings.Repeat("SECRET", 5000)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := c.Encode(ctx, tc.tok, bindCRM)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(v, []byte(sealedPrefix)) {
				t.Fatalf("value %.40q... lacks the prefix %q", v, sealedPrefix)
			}
			for _, ch := range v {
				// Text-safe: base64url after an ASCII prefix.
				if ch <= ' ' || ch > '~' {
					t.Fatalf("value has the byte %#x; want printable ASCII", ch)
				}
			}
			if bytes.Contains(v, []byte("SECRET")) || bytes.Contains(binaryOf(t, v), []byte("SECRET")) {
				t.Error("a secret is in clear in the sealed value")
			}
			got, err := c.Decode(ctx, v, bindCRM)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.tok.Clone()
			want.ID = bindCRM.ID
			if !got.Equal(want) {
				t.Errorf("round trip: got %#v, want %#v", got, want)
			}
			if c.Stale(v) {
				t.Error("Stale is true for what Encode just wrote")
			}
			v2, _ := c.Encode(ctx, tc.tok, bindCRM)
			if bytes.Equal(v, v2) {
				t.Error("two seals of one token are equal: the nonce is not fresh")
			}
		})
	}
}

// TestSealedLayout checks the documented layout of a value, field by field.
func TestSealedLayout(t *testing.T) {
	w := mustLocal(t, testKey())
	v, err := sealer(t, w).Encode(context.Background(), token1KB(), bindCRM)
	if err != nil {
		t.Fatal(err)
	}
	bin := binaryOf(t, v)
	if bin[0] != 1 {
		t.Fatalf("version %d, want 1", bin[0])
	}
	i := 1
	field := func() []byte {
		n, w := binary.Uvarint(bin[i:])
		i += w
		f := bin[i : i+int(n)]
		i += int(n)
		return f
	}
	if id := field(); string(id) != w.KeyID() {
		t.Errorf("key ID %q, want %q", id, w.KeyID())
	}
	if wrapped := field(); len(wrapped) != 12+keySize+16 {
		t.Errorf("wrapped DEK of %d bytes, want %d", len(wrapped), 12+keySize+16)
	}
	if ns := field(); string(ns) != bindCRM.Namespace {
		t.Errorf("namespace %q", ns)
	}
	if id := field(); string(id) != bindCRM.ID {
		t.Errorf("ID %q", id)
	}
	n, wn := binary.Uvarint(bin[i:])
	i += wn
	if want := 12 + payloadSize(token1KB()) + 16; int(n) != want || len(bin)-i != want {
		t.Errorf("sealed length %d, rest %d, want %d", n, len(bin)-i, want)
	}
	// 1 KB of token fits well within a secret: base64 adds a third.
	if len(v) > 1600 {
		t.Errorf("a 1 KB token seals to %d bytes", len(v))
	}
}

func TestSealedEncodeErrors(t *testing.T) {
	ctx := context.Background()
	c := sealer(t)
	if _, err := c.Encode(ctx, nil, bindCRM); !errors.Is(err, tokenstore.ErrInvalidToken) {
		t.Errorf("Encode(nil) = %v, want ErrInvalidToken", err)
	}
	far := &tokenstore.Token{Expiry: time.Date(300_000_000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := c.Encode(ctx, far, bindCRM); !errors.Is(err, ErrInvalidField) {
		t.Errorf("Encode(expiry out of range) = %v, want ErrInvalidField", err)
	}
}

// TestSealedTrailingSpace: a value pasted through a console or a CLI may
// gain a final newline; like the plain format, the sealed one allows it.
func TestSealedTrailingSpace(t *testing.T) {
	c := sealer(t, mustLocal(t, testKey()))
	for _, suffix := range []string{"\n", "\r\n", " \t\n"} {
		in := []byte(goldenSealedFull + suffix)
		if _, err := c.Decode(context.Background(), in, bindCRM); err != nil {
			t.Errorf("Decode(golden+%q): %v", suffix, err)
		}
		if c.Stale(in) {
			t.Errorf("Stale(golden+%q)", suffix)
		}
	}
}

func TestSealedGolden(t *testing.T) {
	c := sealer(t, mustLocal(t, testKey()))
	for _, tc := range []struct {
		in   string
		want *tokenstore.Token
	}{
		{goldenSealedFull, fullToken()},
		{goldenSealedEmpty, &tokenstore.Token{}},
	} {
		got, err := c.Decode(context.Background(), []byte(tc.in), bindCRM)
		if err != nil {
			t.Fatalf("Decode(golden): %v", err)
		}
		tc.want.ID = bindCRM.ID
		if !got.Equal(tc.want) {
			t.Errorf("Decode(golden) = %#v, want %#v", got, tc.want)
		}
		if c.Stale([]byte(tc.in)) {
			t.Error("Stale(golden) under its own key")
		}
	}
	if id := mustLocal(t, testKey()).KeyID(); id != goldenKeyID {
		t.Errorf("local key ID %q, want %q: the fingerprint changed", id, goldenKeyID)
	}
}

func TestSealedDecodeErrors(t *testing.T) {
	ctx := context.Background()
	w := mustLocal(t, testKey())
	c := sealer(t, w)
	valid := []byte(goldenSealedFull)
	bin := binaryOf(t, valid)
	// Offsets of the header fields in bin, for targeted damage.
	keyIDAt := 2                        // after version and a 1-byte length
	wrappedAt := 2 + len(w.KeyID()) + 1 // after the key ID and a 1-byte length
	nsAt := wrappedAt + 60 + 1
	last := len(bin) - 1
	flip := func(i int) []byte {
		b := bytes.Clone(bin)
		b[i] ^= 0x01
		return textOf(b)
	}
	edit := func(f func([]byte) []byte) []byte { return textOf(f(bytes.Clone(bin))) }
	other := sealer(t, mustLocal(t, randomKey(t, 9)))
	underOther, err := other.Encode(ctx, fullToken(), bindCRM)
	if err != nil {
		t.Fatal(err)
	}
	toB, err := c.Encode(ctx, fullToken(), tokenstore.Binding{Namespace: "crm", ID: "k3y"})
	if err != nil {
		t.Fatal(err)
	}
	toY, err := c.Encode(ctx, fullToken(), tokenstore.Binding{Namespace: "erp", ID: "k3x"})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		in      []byte
		want    error
		corrupt bool
	}{
		{"empty", nil, ErrTruncated, true},
		{"prefix cut", []byte("tokenstore-se"), ErrTruncated, true},
		{"prefix only", []byte(sealedPrefix), ErrTruncated, true},
		{"cut in the header", valid[:len(sealedPrefix)+10], ErrTruncated, true},
		{"cut in the ciphertext", valid[:len(valid)-30], ErrTruncated, true},
		{"last byte cut", valid[:len(valid)-1], ErrTruncated, true},
		{"garbage after the prefix", []byte(sealedPrefix + "!!!!"), ErrMalformed, true},
		{"padding", append(bytes.Clone(valid), '='), ErrMalformed, true},
		{"trailing data", append(bytes.Clone(valid), "AAAA"...), ErrMalformed, true},
		{"a trailing character", append(bytes.Clone(valid), 'A'), ErrMalformed, true},
		{"other prefix", []byte("tokenstore-sealer:" + goldenSealedFull[len(sealedPrefix):]), ErrMalformed, true},
		{"varint overflow", textOf(append([]byte{1}, bytes.Repeat([]byte{0xff}, 11)...)), ErrMalformed, true},
		{"empty key ID", textOf([]byte{1, 0, 0, 0, 0, 28}), ErrMalformed, true},
		{"sealed length too short", edit(func(b []byte) []byte {
			e, _ := parseEnvelope(valid)
			b = b[:e.hdrLen-len(sealedPrefix)-2]
			return append(binary.AppendUvarint(b, 27), make([]byte, 27)...)
		}), ErrMalformed, true},
		{"version 0", flip(0), ErrUnknownVersion, true},
		{"version 3", edit(func(b []byte) []byte { b[0] = 3; return b }), ErrUnknownVersion, true},
		{"version 2 otherwise unreadable", textOf([]byte{2, 0xff}), ErrUnknownVersion, true},
		{"bit flipped in the ciphertext", flip(last - 20), ErrTampered, true},
		{"bit flipped in the tag", flip(last), ErrTampered, true},
		{"bit flipped in the nonce", flip(nsAt + 4 + 4 + 2), ErrTampered, true},
		{"bit flipped in the wrapped key", flip(wrappedAt + 20), ErrWrongKey, true},
		{"bit flipped in the key ID", flip(keyIDAt + 10), ErrUnknownKey, false},
		{"bit flipped in the namespace", flip(nsAt + 1), ErrWrongSecret, true},
		{"from secret k3y", toB, ErrWrongSecret, true},
		{"from namespace erp", toY, ErrWrongSecret, true},
		{"from k3y, header edited to k3x", textOf(bytes.Replace(binaryOf(t, toB), []byte("\x03k3y"), []byte("\x03k3x"), 1)), ErrTampered, true},
		{"from erp, header edited to crm", textOf(bytes.Replace(binaryOf(t, toY), []byte("\x03erp"), []byte("\x03crm"), 1)), ErrWrongKey, true}, // the data key is erp's
		{"sealed under another key", underOther, ErrUnknownKey, false},
		{"plain without AllowPlain", []byte(`{"v":1,"ns":"crm","id":"k3x"}`), ErrNotSealed, false},
		{"neither format", []byte("SECRET"), ErrMalformed, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := c.Decode(ctx, tc.in, bindCRM)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode = %v, want %v", err, tc.want)
			}
			if got := errors.Is(err, tokenstore.ErrCorrupt); got != tc.corrupt {
				t.Errorf("errors.Is(%v, ErrCorrupt) = %v, want %v", err, got, tc.corrupt)
			}
			if tok != nil {
				t.Error("Decode returned a token with its error")
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q contains a token value", err)
			}
		})
	}
}

// TestSealedEveryCutAndFlip damages a value in every possible way one cut
// or one bit can, and checks each gives a typed error.
func TestSealedEveryCutAndFlip(t *testing.T) {
	ctx := context.Background()
	c := sealer(t, mustLocal(t, testKey()))
	valid := []byte(goldenSealedFull)
	for i := range len(valid) {
		if _, err := c.Decode(ctx, valid[:i], bindCRM); !errors.Is(err, ErrTruncated) {
			t.Fatalf("Decode(first %d bytes) = %v, want ErrTruncated", i, err)
		}
	}
	bin := binaryOf(t, valid)
	typed := []error{ErrTampered, ErrWrongKey, ErrUnknownKey, ErrWrongSecret, ErrUnknownVersion, ErrTruncated, ErrMalformed}
	for i := range len(bin) {
		for bit := range 8 {
			b := bytes.Clone(bin)
			b[i] ^= 1 << bit
			_, err := c.Decode(ctx, textOf(b), bindCRM)
			if err == nil {
				t.Fatalf("flipping bit %d of byte %d: Decode succeeded", bit, i)
			}
			if !slicesContainsIs(typed, err) {
				t.Fatalf("flipping bit %d of byte %d: untyped error %v", bit, i, err)
			}
		}
	}
}

func slicesContainsIs(targets []error, err error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

func TestSealedWrongKey(t *testing.T) {
	ctx := context.Background()
	// A different key given the golden key's ID: a key mixed up in
	// configuration, or a KMS refusing a tampered wrapped key.
	c := sealer(t, renamedWrapper{mustLocal(t, randomKey(t, 7)), goldenKeyID})
	_, err := c.Decode(ctx, []byte(goldenSealedFull), bindCRM)
	if !errors.Is(err, ErrWrongKey) || !errors.Is(err, tokenstore.ErrCorrupt) {
		t.Fatalf("Decode = %v, want ErrWrongKey", err)
	}
	if !strings.Contains(err.Error(), goldenKeyID) {
		t.Errorf("error %q does not name the key", err)
	}
}

func TestSealedUnknownKeyNamesIt(t *testing.T) {
	_, err := sealer(t, mustLocal(t, randomKey(t, 3))).Decode(context.Background(), []byte(goldenSealedFull), bindCRM)
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), goldenKeyID) {
		t.Fatalf("Decode = %v, want ErrUnknownKey naming %s", err, goldenKeyID)
	}
}

// TestSealedWrapperFailure: a key service that cannot be reached is neither
// a corrupt value nor a wrong key, and its error is kept for the caller.
func TestSealedWrapperFailure(t *testing.T) {
	ctx := context.Background()
	down := errors.New("kms: connection refused")
	c := sealer(t, failingWrapper{mustLocal(t, testKey()), down})
	_, err := c.Decode(ctx, []byte(goldenSealedFull), bindCRM)
	if !errors.Is(err, down) || errors.Is(err, tokenstore.ErrCorrupt) || errors.Is(err, ErrWrongKey) {
		t.Errorf("Decode = %v, want the wrapper's error and not ErrCorrupt", err)
	}
	_, err = c.Encode(ctx, fullToken(), bindCRM)
	if !errors.Is(err, down) {
		t.Errorf("Encode = %v, want the wrapper's error", err)
	}
	// A failed unwrap is not cached: the next read tries again.
	good := sealer(t, mustLocal(t, testKey()))
	if _, err := good.Decode(ctx, []byte(goldenSealedFull), bindCRM); err != nil {
		t.Fatal(err)
	}
}

func TestSealedPlainCodecOnSealed(t *testing.T) {
	ctx := context.Background()
	_, err := Plain().Decode(ctx, []byte(goldenSealedFull), bindCRM)
	if !errors.Is(err, ErrUnknownKey) || errors.Is(err, tokenstore.ErrCorrupt) {
		t.Errorf("Plain().Decode(sealed) = %v, want ErrUnknownKey", err)
	}
	if _, err := Plain().Decode(ctx, []byte(goldenSealedFull), tokenstore.Binding{Namespace: "crm", ID: "other"}); !errors.Is(err, ErrWrongSecret) {
		t.Errorf("Plain().Decode(sealed, other ID) = %v, want ErrWrongSecret", err)
	}
	if _, err := Plain().Decode(ctx, []byte(goldenSealedFull[:40]), bindCRM); !errors.Is(err, ErrTruncated) {
		t.Errorf("Plain().Decode(cut sealed) = %v, want ErrTruncated", err)
	}
	if !Plain().Stale([]byte(goldenSealedFull)) {
		t.Error("Plain().Stale(sealed) is false")
	}
}

// TestSealedMigration: a sealing codec with AllowPlain reads plain values,
// calls them stale, and writes them sealed.
func TestSealedMigration(t *testing.T) {
	ctx := context.Background()
	plain, err := Plain().Encode(ctx, fullToken(), bindCRM)
	if err != nil {
		t.Fatal(err)
	}
	c := mustNew(t, Options{Wrappers: []KeyWrapper{mustLocal(t, testKey())}, AllowPlain: true})
	got, err := c.Decode(ctx, plain, bindCRM)
	if err != nil {
		t.Fatal(err)
	}
	want := fullToken()
	want.ID = bindCRM.ID
	if !got.Equal(want) {
		t.Errorf("Decode(plain) = %#v", got)
	}
	if !c.Stale(plain) {
		t.Error("Stale(plain) is false for a sealing codec")
	}
	if _, err := c.Decode(ctx, []byte(`{"v":1,"ns":"crm","id":"k3y"}`), bindCRM); !errors.Is(err, ErrWrongSecret) {
		t.Errorf("a copied plain value: %v, want ErrWrongSecret", err)
	}
	sealed, err := c.Encode(ctx, got, bindCRM)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(sealed, []byte(sealedPrefix)) || c.Stale(sealed) {
		t.Error("a migrating codec does not write fresh sealed values")
	}
}

func TestSealedRotation(t *testing.T) {
	ctx := context.Background()
	oldKey, newKey := mustLocal(t, randomKey(t, 1)), mustLocal(t, randomKey(t, 2))
	if oldKey.KeyID() == newKey.KeyID() {
		t.Fatal("two keys share an ID")
	}
	before := sealer(t, oldKey)
	oldValue, err := before.Encode(ctx, fullToken(), bindCRM)
	if err != nil {
		t.Fatal(err)
	}

	after := sealer(t, newKey, oldKey)
	got, err := after.Decode(ctx, oldValue, bindCRM)
	if err != nil {
		t.Fatalf("the old key does not open after rotation: %v", err)
	}
	if want := withID(fullToken(), bindCRM.ID); !got.Equal(want) {
		t.Errorf("Decode = %#v", got)
	}
	if !after.Stale(oldValue) {
		t.Error("Stale is false for a value under the old key")
	}
	newValue, err := after.Encode(ctx, got, bindCRM)
	if err != nil {
		t.Fatal(err)
	}
	e, err := parseEnvelope(newValue)
	if err != nil {
		t.Fatal(err)
	}
	if string(e.keyID) != newKey.KeyID() {
		t.Errorf("new write under key %q, want the primary %q", e.keyID, newKey.KeyID())
	}
	if after.Stale(newValue) {
		t.Error("Stale is true for a value under the primary")
	}
	// The codec that only knows the old key cannot read it, and says why.
	if _, err := before.Decode(ctx, newValue, bindCRM); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old codec on a new value: %v, want ErrUnknownKey", err)
	}
	// Once the old key is retired, old values no longer open.
	if _, err := sealer(t, newKey).Decode(ctx, oldValue, bindCRM); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("retired key: %v, want ErrUnknownKey", err)
	}
}

// tokenN is a distinct token per n, of realistic size.
func tokenN(n int) *tokenstore.Token {
	t := token1KB()
	t.UserName = fmt.Sprintf("user%d@example.com:1", n)
	t.RefreshToken = fmt.Sprintf("1000.%032d.refresh", n)
	return t
}

func bindN(n int) tokenstore.Binding {
	return tokenstore.Binding{Namespace: "crm", ID: fmt.Sprintf("id%d", n)}
}

// TestSealedWrapperCalls: within one data-key lifetime, 1,000 writes and
// 1,000 reads of distinct tokens cost one Wrap, and a second process
// reading them all one Unwrap.
func TestSealedWrapperCalls(t *testing.T) {
	ctx := context.Background()
	cw := &countingWrapper{KeyWrapper: mustLocal(t, testKey())}
	opts := Options{Wrappers: []KeyWrapper{cw}, DataKeyMaxUses: 1000, DataKeyMaxAge: time.Hour}
	writer := mustNew(t, opts)
	values := make([][]byte, 1000)
	for i := range values {
		v, err := writer.Encode(ctx, tokenN(i), bindN(i))
		if err != nil {
			t.Fatal(err)
		}
		values[i] = v
	}
	for i, v := range values {
		got, err := writer.Decode(ctx, v, bindN(i))
		if err != nil {
			t.Fatal(err)
		}
		if want := withID(tokenN(i), bindN(i).ID); !got.Equal(want) {
			t.Fatalf("token %d differs", i)
		}
	}
	t.Logf("one process, 1,000 writes then 1,000 reads: %d wraps, %d unwraps", cw.wraps.Load(), cw.unwraps.Load())
	if cw.wraps.Load() != 1 || cw.unwraps.Load() != 0 {
		t.Errorf("wrapper calls: %d wraps, %d unwraps; want 1 and 0", cw.wraps.Load(), cw.unwraps.Load())
	}

	reader := mustNew(t, opts)
	for i, v := range values {
		if _, err := reader.Decode(ctx, v, bindN(i)); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("and another process reading them: %d calls in all", cw.calls())
	if cw.calls() > 10 || cw.unwraps.Load() != 1 {
		t.Errorf("wrapper calls: %d wraps, %d unwraps; want 1 and 1", cw.wraps.Load(), cw.unwraps.Load())
	}
}

// fakeClock is a settable clock for the codec's key lifetimes.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func withClock(c *Codec) *fakeClock {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	c.now = clk.now
	return clk
}

func TestSealedDataKeyLifetime(t *testing.T) {
	ctx := context.Background()
	cw := &countingWrapper{KeyWrapper: mustLocal(t, testKey())}
	c := mustNew(t, Options{Wrappers: []KeyWrapper{cw}, DataKeyMaxUses: 10, DataKeyMaxAge: time.Minute})
	clk := withClock(c)
	keys := map[string]bool{}
	seal := func(n int) {
		v, err := c.Encode(ctx, tokenN(n), bindN(n))
		if err != nil {
			t.Fatal(err)
		}
		e, err := parseEnvelope(v)
		if err != nil {
			t.Fatal(err)
		}
		keys[string(e.wrapped)] = true
	}
	for n := range 100 {
		seal(n)
	}
	if got := cw.wraps.Load(); got != 10 {
		t.Errorf("100 writes with DataKeyMaxUses 10: %d wraps, want 10", got)
	}
	if len(keys) != 10 {
		t.Errorf("100 writes with DataKeyMaxUses 10 used %d data keys, want 10", len(keys))
	}
	clk.advance(59 * time.Second)
	seal(100) // a fresh key's first use
	seal(101)
	if got := cw.wraps.Load(); got != 11 {
		t.Errorf("wraps = %d, want 11", got)
	}
	clk.advance(time.Minute)
	seal(102)
	if got := cw.wraps.Load(); got != 12 {
		t.Errorf("after DataKeyMaxAge: wraps = %d, want 12", got)
	}
	// Namespaces have their own data keys, wrapped with their own AAD.
	if _, err := c.Encode(ctx, tokenN(0), tokenstore.Binding{Namespace: "erp", ID: "x"}); err != nil {
		t.Fatal(err)
	}
	if got := cw.wraps.Load(); got != 13 {
		t.Errorf("a new namespace: wraps = %d, want 13", got)
	}
}

// TestSealedWrapAAD: the data key is wrapped for its purpose and namespace,
// so a key service sees both, and a wrapped key moved to another
// namespace's values does not unwrap.
func TestSealedWrapAAD(t *testing.T) {
	ctx := context.Background()
	var seen [][]byte
	var mu sync.Mutex
	rec := &recordingWrapper{KeyWrapper: mustLocal(t, testKey()), record: func(aad []byte) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, bytes.Clone(aad))
	}}
	c := sealer(t, rec)
	v, err := c.Encode(ctx, fullToken(), bindCRM)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || string(seen[0]) != "tokenstore/codec/v1 data key; namespace=crm" {
		t.Fatalf("wrap AAD %q", seen)
	}
	// Graft the crm data key into a value for namespace erp, as an attacker
	// who can write secrets but not use the key might.
	e, _ := parseEnvelope(v)
	var bin []byte
	bin = append(bin, 1)
	bin = appendString(bin, string(e.keyID))
	bin = appendString(bin, string(e.wrapped))
	bin = appendString(bin, "erp")
	bin = appendString(bin, "k3x")
	bin = binary.AppendUvarint(bin, uint64(len(e.sealed())))
	bin = append(bin, e.sealed()...)
	reader := sealer(t, mustLocal(t, testKey())) // cold cache
	_, err = reader.Decode(ctx, textOf(bin), tokenstore.Binding{Namespace: "erp", ID: "k3x"})
	if !errors.Is(err, ErrWrongKey) {
		t.Errorf("a crm data key in an erp value: %v, want ErrWrongKey", err)
	}
}

type recordingWrapper struct {
	KeyWrapper
	record func(aad []byte)
}

func (w *recordingWrapper) Wrap(ctx context.Context, dek, aad []byte) ([]byte, error) {
	w.record(aad)
	return w.KeyWrapper.Wrap(ctx, dek, aad)
}

func TestSealedCacheBounds(t *testing.T) {
	ctx := context.Background()
	key := mustLocal(t, testKey())
	// Five values under five data keys.
	writer := mustNew(t, Options{Wrappers: []KeyWrapper{key}, DataKeyMaxUses: 1})
	values := make([][]byte, 5)
	for i := range values {
		var err error
		if values[i], err = writer.Encode(ctx, tokenN(i), bindN(i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := writer.cache.len(); n != 5 {
		t.Errorf("writer caches %d of its 5 data keys", n)
	}

	cw := &countingWrapper{KeyWrapper: key}
	reader := mustNew(t, Options{Wrappers: []KeyWrapper{cw}, CacheSize: 3, CacheTTL: time.Minute})
	clk := withClock(reader)
	read := func(i int) {
		t.Helper()
		if _, err := reader.Decode(ctx, values[i], bindN(i)); err != nil {
			t.Fatal(err)
		}
		if n := reader.cache.len(); n > 3 {
			t.Fatalf("cache holds %d keys, CacheSize 3", n)
		}
	}
	for i := range 5 {
		read(i)
	}
	if got := cw.unwraps.Load(); got != 5 {
		t.Fatalf("unwraps = %d, want 5", got)
	}
	// 2, 3, 4 are cached; 4 most recently used.
	read(2)
	read(3)
	read(4)
	if got := cw.unwraps.Load(); got != 5 {
		t.Errorf("cached keys were unwrapped again: %d unwraps", got)
	}
	read(0) // evicts 2, the least recently used
	read(3)
	read(4)
	if got := cw.unwraps.Load(); got != 6 {
		t.Errorf("unwraps = %d, want 6", got)
	}
	read(2)
	if got := cw.unwraps.Load(); got != 7 {
		t.Errorf("the least recently used key was not evicted: %d unwraps, want 7", got)
	}

	// TTL: entries expire after CacheTTL, used or not.
	clk.advance(59 * time.Second)
	read(2)
	if got := cw.unwraps.Load(); got != 7 {
		t.Errorf("within the TTL: %d unwraps, want 7", got)
	}
	clk.advance(time.Second)
	read(2)
	if got := cw.unwraps.Load(); got != 8 {
		t.Errorf("after the TTL: %d unwraps, want 8", got)
	}
	// Expired entries make room before live ones are evicted.
	clk.advance(30 * time.Second)
	read(1) // 2 is 30 s old; the other two have expired
	read(2)
	if got := cw.unwraps.Load(); got != 9 {
		t.Errorf("a live entry was evicted before expired ones: %d unwraps, want 9", got)
	}
}

// TestSealedConcurrent seals and opens from many goroutines on one codec,
// with data keys turning over all the time; run with -race.
func TestSealedConcurrent(t *testing.T) {
	ctx := context.Background()
	cw := &countingWrapper{KeyWrapper: mustLocal(t, testKey())}
	c := mustNew(t, Options{Wrappers: []KeyWrapper{cw}, DataKeyMaxUses: 7, CacheSize: 4})
	reader := mustNew(t, Options{Wrappers: []KeyWrapper{cw}, CacheSize: 4})
	const goroutines, each = 16, 100
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				n := g*each + i
				b := bindN(n)
				if i%3 == 0 {
					b.Namespace = "ns" + fmt.Sprint(g%3)
				}
				v, err := c.Encode(ctx, tokenN(n), b)
				if err != nil {
					errs <- err
					return
				}
				for _, r := range []*Codec{c, reader} {
					got, err := r.Decode(ctx, v, b)
					if err != nil {
						errs <- err
						return
					}
					if want := withID(tokenN(n), b.ID); !got.Equal(want) {
						errs <- fmt.Errorf("token %d differs", n)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d seals and %d opens: %d wraps, %d unwraps", goroutines*each, 2*goroutines*each, cw.wraps.Load(), cw.unwraps.Load())
}

// blockingWrapper holds every Unwrap until released.
type blockingWrapper struct {
	KeyWrapper
	release chan struct{}
	unwraps atomic.Int64
}

func (w *blockingWrapper) Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error) {
	w.unwraps.Add(1)
	select {
	case <-w.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return w.KeyWrapper.Unwrap(ctx, wrapped, aad)
}

// TestSealedConcurrentMiss: readers that miss one data key at once share
// one Unwrap; a reader whose context ends stops waiting without failing the
// others.
func TestSealedConcurrentMiss(t *testing.T) {
	bw := &blockingWrapper{KeyWrapper: mustLocal(t, testKey()), release: make(chan struct{})}
	c := sealer(t, bw)
	const readers = 20
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		wg.Go(func() {
			_, err := c.Decode(context.Background(), []byte(goldenSealedFull), bindCRM)
			errs <- err
		})
	}
	// One impatient reader gives up.
	impatient, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := c.Decode(impatient, []byte(goldenSealedFull), bindCRM); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("impatient reader: %v, want DeadlineExceeded", err)
	}
	close(bw.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	// The impatient reader may have led the unwrap and given up, leaving
	// one more for the others.
	if n := bw.unwraps.Load(); n > 2 {
		t.Errorf("%d concurrent misses made %d Unwrap calls, want 1 (2 if the first gave up)", readers+1, n)
	}
}

// TestSealedLeaderGivesUp: when the reader whose Unwrap the others wait
// for gives up, a waiter with time left unwraps for itself rather than
// fail with the other's cancellation.
func TestSealedLeaderGivesUp(t *testing.T) {
	bw := &blockingWrapper{KeyWrapper: mustLocal(t, testKey()), release: make(chan struct{})}
	c := sealer(t, bw)
	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := c.Decode(leaderCtx, []byte(goldenSealedFull), bindCRM)
		leaderErr <- err
	}()
	for bw.unwraps.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	waiterErr := make(chan error, 1)
	go func() {
		_, err := c.Decode(context.Background(), []byte(goldenSealedFull), bindCRM)
		waiterErr <- err
	}()
	time.Sleep(10 * time.Millisecond) // let the waiter find the call in flight
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) || errors.Is(err, tokenstore.ErrCorrupt) {
		t.Errorf("leader: %v, want Canceled and not ErrCorrupt", err)
	}
	for bw.unwraps.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	close(bw.release)
	if err := <-waiterErr; err != nil {
		t.Errorf("waiter: %v", err)
	}
}

func TestNewOptions(t *testing.T) {
	w := mustLocal(t, testKey())
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"no wrapper", Options{}},
		{"nil wrapper", Options{Wrappers: []KeyWrapper{w, nil}}},
		{"duplicate key ID", Options{Wrappers: []KeyWrapper{w, mustLocal(t, testKey())}}},
		{"empty key ID", Options{Wrappers: []KeyWrapper{renamedWrapper{w, ""}}}},
		{"long key ID", Options{Wrappers: []KeyWrapper{renamedWrapper{w, strings.Repeat("k", 256)}}}},
		{"negative uses", Options{Wrappers: []KeyWrapper{w}, DataKeyMaxUses: -1}},
		{"negative age", Options{Wrappers: []KeyWrapper{w}, DataKeyMaxAge: -time.Second}},
		{"negative cache size", Options{Wrappers: []KeyWrapper{w}, CacheSize: -1}},
		{"negative cache TTL", Options{Wrappers: []KeyWrapper{w}, CacheTTL: -time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.opts); !errors.Is(err, tokenstore.ErrInvalidOptions) {
				t.Errorf("New = %v, want ErrInvalidOptions", err)
			}
		})
	}
	c := mustNew(t, Options{Wrappers: []KeyWrapper{w}})
	if c.maxUses != DefaultDataKeyMaxUses || c.maxAge != DefaultDataKeyMaxAge ||
		c.cache.size != DefaultCacheSize || c.cache.ttl != DefaultCacheTTL || c.allowPlain {
		t.Errorf("defaults: %d %v %d %v %v", c.maxUses, c.maxAge, c.cache.size, c.cache.ttl, c.allowPlain)
	}
	// New copies the wrappers: the caller's slice may change.
	ws := []KeyWrapper{w}
	c = mustNew(t, Options{Wrappers: ws})
	ws[0] = nil
	if _, err := c.Encode(context.Background(), fullToken(), bindCRM); err != nil {
		t.Error(err)
	}
}

func TestLocalKeyWrapper(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewLocalKeyWrapper(make([]byte, n)); err == nil {
			t.Errorf("a %d-byte key was accepted", n)
		}
	}
	key := testKey()
	w := mustLocal(t, key)
	for _, s := range []string{
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		" AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
	} {
		b, err := NewLocalKeyWrapperBase64(s)
		if err != nil {
			t.Fatalf("NewLocalKeyWrapperBase64(%q): %v", s, err)
		}
		if b.KeyID() != w.KeyID() {
			t.Errorf("base64 key has ID %s, want %s", b.KeyID(), w.KeyID())
		}
	}
	// URL-safe alphabet: a key with - and _.
	urlKey := bytes.Repeat([]byte{0xfb, 0xff}, 16)
	for _, s := range []string{base64.URLEncoding.EncodeToString(urlKey), base64.RawURLEncoding.EncodeToString(urlKey)} {
		if !strings.ContainsAny(s, "-_") {
			t.Fatalf("%s is not URL-safe base64", s)
		}
		if b, err := NewLocalKeyWrapperBase64(s); err != nil || b.KeyID() != mustLocal(t, urlKey).KeyID() {
			t.Errorf("URL-safe base64 %s: %v", s, err)
		}
	}
	for _, s := range []string{"", "SECRET!!", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg=="} {
		_, err := NewLocalKeyWrapperBase64(s)
		if err == nil {
			t.Errorf("NewLocalKeyWrapperBase64(%q) succeeded", s)
		} else if strings.Contains(err.Error(), "SECRET") || (s != "" && strings.Contains(err.Error(), s)) {
			t.Errorf("error %q quotes the key", err)
		}
	}
	key[0] ^= 1 // the wrapper keeps no reference to the caller's key
	if w.KeyID() == mustLocal(t, key).KeyID() {
		t.Error("different keys have the same ID")
	}
	dek := bytes.Repeat([]byte{7}, keySize)
	wrapped, err := w.Wrap(ctx, dek, []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.Unwrap(ctx, wrapped, []byte("aad"))
	if err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("Unwrap = %x, %v", got, err)
	}
	if _, err := w.Unwrap(ctx, wrapped, []byte("other aad")); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Unwrap with other AAD: %v, want ErrWrongKey", err)
	}
	if _, err := mustLocal(t, key).Unwrap(ctx, wrapped, []byte("aad")); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Unwrap under another key: %v, want ErrWrongKey", err)
	}
	if _, err := w.Unwrap(ctx, wrapped[:10], []byte("aad")); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Unwrap of a cut key: %v, want ErrWrongKey", err)
	}
}

func BenchmarkSeal1KB(b *testing.B) {
	ctx := context.Background()
	c := sealer(b)
	tok := token1KB()
	if _, err := c.Encode(ctx, tok, bindCRM); err != nil { // warm: a data key exists
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Encode(ctx, tok, bindCRM); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen1KB(b *testing.B) {
	ctx := context.Background()
	c := sealer(b)
	v, err := c.Encode(ctx, token1KB(), bindCRM)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(v)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decode(ctx, v, bindCRM); err != nil {
			b.Fatal(err)
		}
	}
}
