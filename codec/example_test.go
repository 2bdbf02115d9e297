package codec_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/memstore"
)

// The plain format is JSON, readable in a secret manager's console.
func ExamplePlain() {
	ctx := context.Background()
	tok := &tokenstore.Token{
		UserName:     "ada@example.com:123",
		RefreshToken: "1000.refresh",
		Expiry:       time.UnixMilli(1767225600123),
	}
	secret := tokenstore.Binding{Namespace: "crm", ID: "k3x"}
	value, err := codec.Plain().Encode(ctx, tok, secret)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(value))

	back, err := codec.Plain().Decode(ctx, value, secret)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(back.RefreshToken, back.Expiry.UTC().Format(time.RFC3339Nano))

	// A value copied into another secret does not decode.
	_, err = codec.Plain().Decode(ctx, value, tokenstore.Binding{Namespace: "crm", ID: "other"})
	fmt.Println(err)
	// Output:
	// {"v":1,"ns":"crm","id":"k3x","user_name":"ada@example.com:123","refresh_token":"1000.refresh","expiry_time":1767225600123}
	// 1000.refresh 2026-01-01T00:00:00.123Z
	// codec: value belongs to another secret: stored token is corrupt
}

// Sealing with a local key: what the backend holds is ciphertext, bound to
// its secret.
func ExampleNew() {
	ctx := context.Background()
	// In production the key comes from the environment or a mounted
	// secret; this one is for the example only.
	w, err := codec.NewLocalKeyWrapperBase64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		log.Fatal(err)
	}
	c, err := codec.New(codec.Options{Wrappers: []codec.KeyWrapper{w}})
	if err != nil {
		log.Fatal(err)
	}
	backend := memstore.New()
	store, err := tokenstore.New(backend, tokenstore.Options{
		Namespace: "crm",
		IndexKey:  []byte("an index key of 16 bytes or more"),
		Codec:     c,
	})
	if err != nil {
		log.Fatal(err)
	}
	tok := &tokenstore.Token{UserName: "ada@example.com:123", RefreshToken: "1000.refresh"}
	if err := store.SaveToken(ctx, tok); err != nil {
		log.Fatal(err)
	}

	// What the secret manager holds:
	e, err := backend.Get(ctx, "crm", tok.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(string(e.Value), "tokenstore-sealed:"))
	fmt.Println(strings.Contains(string(e.Value), "1000.refresh"), strings.Contains(string(e.Value), "ada@"))

	found, err := store.FindToken(ctx, &tokenstore.Token{UserName: "ada@example.com:123"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(found.RefreshToken)
	// Output:
	// true
	// false false
	// 1000.refresh
}

// Rotating keys: the new key seals, the old one still opens, and Stale tells
// the Store which values to re-seal.
func ExampleOptions_rotation() {
	ctx := context.Background()
	oldKey, _ := codec.NewLocalKeyWrapper([]byte("an old key of exactly 32 bytes!!"))
	newKey, _ := codec.NewLocalKeyWrapper([]byte("a new key, also exactly 32 bytes"))
	secret := tokenstore.Binding{Namespace: "crm", ID: "k3x"}

	before, _ := codec.New(codec.Options{Wrappers: []codec.KeyWrapper{oldKey}})
	value, _ := before.Encode(ctx, &tokenstore.Token{RefreshToken: "1000.refresh"}, secret)

	after, _ := codec.New(codec.Options{Wrappers: []codec.KeyWrapper{newKey, oldKey}})
	tok, err := after.Decode(ctx, value, secret)
	fmt.Println(tok.RefreshToken, err, after.Stale(value))

	resealed, _ := after.Encode(ctx, tok, secret)
	fmt.Println(after.Stale(resealed))
	// Output:
	// 1000.refresh <nil> true
	// false
}
