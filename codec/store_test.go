package codec_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/memstore"
)

// These tests run the codec under a real Store: what a user of the library
// sees when sealing is turned on, keys rotate, or a value is moved.

var indexKey = []byte("an index key of 16 bytes or more")

func localKey(t *testing.T, b byte) *codec.LocalKeyWrapper {
	t.Helper()
	w, err := codec.NewLocalKeyWrapper(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func newStore(t *testing.T, b *memstore.Backend, ns string, c tokenstore.Codec) *tokenstore.Store {
	t.Helper()
	s, err := tokenstore.New(b, tokenstore.Options{Namespace: ns, IndexKey: indexKey, Codec: c})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newCodec(t *testing.T, opts codec.Options) *codec.Codec {
	t.Helper()
	c, err := codec.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ada() *tokenstore.Token {
	return &tokenstore.Token{UserName: "ada@example.com:1", ClientID: "cid", ClientSecret: "SECRET-c", RefreshToken: "SECRET-r", AccessToken: "SECRET-a"}
}

func value(t *testing.T, b *memstore.Backend, ns, id string) []byte {
	t.Helper()
	e, err := b.Get(context.Background(), ns, id)
	if err != nil {
		t.Fatal(err)
	}
	return e.Value
}

func TestStoreMigratesAndRotates(t *testing.T) {
	ctx := context.Background()
	b := memstore.New()
	tok := ada()
	if err := newStore(t, b, "crm", codec.Plain()).SaveToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	id := tok.ID
	if v := value(t, b, "crm", id); !bytes.Contains(v, []byte("SECRET-r")) {
		t.Fatalf("plain value %s", v)
	}

	// Sealing on, without AllowPlain: the plain token is refused, loudly.
	k1, k2 := localKey(t, 1), localKey(t, 2)
	strict := newStore(t, b, "crm", newCodec(t, codec.Options{Wrappers: []codec.KeyWrapper{k1}}))
	if _, err := strict.FindTokenByID(ctx, id); !errors.Is(err, codec.ErrNotSealed) {
		t.Fatalf("FindTokenByID = %v, want ErrNotSealed", err)
	}

	// With AllowPlain, an unchanged save re-seals it.
	migrating := newStore(t, b, "crm", newCodec(t, codec.Options{Wrappers: []codec.KeyWrapper{k1}, AllowPlain: true}))
	if err := migrating.SaveToken(ctx, ada()); err != nil {
		t.Fatal(err)
	}
	v1 := value(t, b, "crm", id)
	if !bytes.HasPrefix(v1, []byte("tokenstore-sealed:")) {
		t.Fatalf("the save did not seal: %.30s", v1)
	}
	if got, err := strict.FindTokenByID(ctx, id); err != nil || got.RefreshToken != "SECRET-r" {
		t.Fatalf("FindTokenByID after migration = %v, %v", got, err)
	}

	// Rotate to k2: the old value opens, and an unchanged save re-seals it.
	rotated := newStore(t, b, "crm", newCodec(t, codec.Options{Wrappers: []codec.KeyWrapper{k2, k1}}))
	if got, err := rotated.FindToken(ctx, &tokenstore.Token{UserName: "ada@example.com:1"}); err != nil || got.ID != id {
		t.Fatalf("FindToken after rotation = %v, %v", got, err)
	}
	if err := rotated.SaveToken(ctx, ada()); err != nil {
		t.Fatal(err)
	}
	v2 := value(t, b, "crm", id)
	if bytes.Equal(v1, v2) {
		t.Fatal("a value under the old key was not re-sealed")
	}
	// Now only k2 is needed.
	onlyNew := newStore(t, b, "crm", newCodec(t, codec.Options{Wrappers: []codec.KeyWrapper{k2}}))
	if _, err := onlyNew.FindTokenByID(ctx, id); err != nil {
		t.Fatalf("after re-sealing, the new key alone: %v", err)
	}
	// An unchanged save under the primary writes nothing.
	if err := onlyNew.SaveToken(ctx, ada()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v2, value(t, b, "crm", id)) {
		t.Error("an unchanged, fresh value was rewritten")
	}
}

// TestStoreSwapAttack moves sealed values between secrets and namespaces
// the way someone with write access to the secret manager, but not to the
// key, could.
func TestStoreSwapAttack(t *testing.T) {
	ctx := context.Background()
	b := memstore.New()
	c := newCodec(t, codec.Options{Wrappers: []codec.KeyWrapper{localKey(t, 1)}})
	crm, erp := newStore(t, b, "crm", c), newStore(t, b, "erp", c)
	victim, attacker := ada(), &tokenstore.Token{UserName: "mallory@example.com:1", RefreshToken: "SECRET-m"}
	if err := crm.SaveToken(ctx, victim); err != nil {
		t.Fatal(err)
	}
	if err := crm.SaveToken(ctx, attacker); err != nil {
		t.Fatal(err)
	}
	otherNS := ada()
	if err := erp.SaveToken(ctx, otherNS); err != nil {
		t.Fatal(err)
	}

	overwrite := func(ns, id string, v []byte) {
		t.Helper()
		e, err := b.Get(ctx, ns, id)
		if err != nil {
			t.Fatal(err)
		}
		e.Value = v
		if err := b.Update(ctx, ns, e); err != nil {
			t.Fatal(err)
		}
	}
	// The attacker's value put in the victim's secret.
	overwrite("crm", victim.ID, value(t, b, "crm", attacker.ID))
	_, err := crm.FindTokenByID(ctx, victim.ID)
	if !errors.Is(err, codec.ErrWrongSecret) || !errors.Is(err, tokenstore.ErrCorrupt) {
		t.Errorf("a value from another secret: %v, want ErrWrongSecret", err)
	}
	if err != nil && strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error %q holds a token value", err)
	}
	// A value from namespace erp put in crm, under the same ID.
	overwrite("crm", attacker.ID, value(t, b, "erp", otherNS.ID))
	if otherNS.ID == attacker.ID {
		t.Fatal("test tokens share an ID")
	}
	if _, err := crm.FindTokenByID(ctx, attacker.ID); !errors.Is(err, codec.ErrWrongSecret) {
		t.Errorf("a value from another namespace: %v, want ErrWrongSecret", err)
	}
	// Lists skip both rather than return another secret's token.
	toks, err := crm.GetTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != 0 {
		t.Errorf("GetTokens returned %d moved tokens", len(toks))
	}
}
