package memstore_test

import (
	"context"
	"fmt"
	"log"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/memstore"
)

// Two stores share one Backend, as two services share one cloud account:
// each sees only its own namespace.
func Example() {
	ctx := context.Background()
	backend := memstore.New()
	open := func(ns string) *tokenstore.Store {
		s, err := tokenstore.New(backend, tokenstore.Options{
			Namespace: ns,
			IndexKey:  []byte("an index key of 16 bytes or more"),
			Codec:     codec.Plain(),
		})
		if err != nil {
			log.Fatal(err)
		}
		return s
	}
	crm, books := open("crm"), open("books")
	if err := crm.SaveToken(ctx, &tokenstore.Token{UserName: "ada@example.com:1", AccessToken: "a"}); err != nil {
		log.Fatal(err)
	}
	inCRM, _ := crm.GetTokens(ctx)
	inBooks, _ := books.GetTokens(ctx)
	fmt.Println(len(inCRM), len(inBooks))
	// Output: 1 0
}
