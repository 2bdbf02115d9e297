package tokenstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/memstore"
)

func Example() {
	ctx := context.Background()
	store, err := tokenstore.New(memstore.New(), tokenstore.Options{
		Namespace: "crm",
		IndexKey:  []byte("an index key of 16 bytes or more"),
		Codec:     codec.Plain(),
	})
	if err != nil {
		log.Fatal(err)
	}
	tok := &tokenstore.Token{
		UserName:     "ada@example.com:60001",
		ClientID:     "1000.CLIENT",
		ClientSecret: "client-secret",
		RefreshToken: "1000.refresh",
		AccessToken:  "1000.access",
		Expiry:       time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	if err := store.SaveToken(ctx, tok); err != nil {
		log.Fatal(err)
	}
	found, err := store.FindToken(ctx, &tokenstore.Token{UserName: "ada@example.com:60001"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(found)
	_, err = store.FindToken(ctx, &tokenstore.Token{UserName: "bob@example.com:60001"})
	fmt.Println(errors.Is(err, tokenstore.ErrNotFound))
	// Output:
	// Token{ID: "ajlyosmem7wgllr6l54cd5n2di", UserName: "ada@example.com:60001", Expiry: 2030-01-01T00:00:00Z, Set: client_secret,refresh_token,access_token}
	// true
}

// Update is a compare-and-swap read-modify-write: concurrent updates of one
// token, in any number of processes, are never lost.
func ExampleStore_Update() {
	ctx := context.Background()
	store, err := tokenstore.New(memstore.New(), tokenstore.Options{
		IndexKey: []byte("an index key of 16 bytes or more"),
		Codec:    codec.Plain(),
	})
	if err != nil {
		log.Fatal(err)
	}
	tok := &tokenstore.Token{UserName: "ada@example.com:60001", AccessToken: "old", RefreshToken: "r1"}
	if err := store.SaveToken(ctx, tok); err != nil {
		log.Fatal(err)
	}
	updated, err := store.Update(ctx, tok.ID, func(cur *tokenstore.Token) (*tokenstore.Token, error) {
		if cur.AccessToken != "old" {
			return nil, nil // someone else refreshed it already: change nothing
		}
		cur.AccessToken, cur.RefreshToken = "new", "r2"
		return cur, nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(updated.AccessToken, updated.RefreshToken)
	// Output: new r2
}
