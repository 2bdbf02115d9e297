package hashivault_test

import (
	"context"
	"log"
	"os"

	"github.com/hashicorp/vault/api"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/hashivault"
)

// A store in Vault's KV v2 engine, sealing tokens under a Transit key
// created with `vault write -f transit/keys/tokenstore derived=true`.
func Example() {
	ctx := context.Background()
	client, err := api.NewClient(api.DefaultConfig()) // reads VAULT_ADDR, VAULT_TOKEN
	if err != nil {
		log.Fatal(err)
	}
	backend, err := hashivault.New(client, hashivault.Options{Mount: "secret", Prefix: "tokenstore"})
	if err != nil {
		log.Fatal(err)
	}
	transit, err := hashivault.NewTransitKeyWrapper(client, "tokenstore", hashivault.TransitOptions{})
	if err != nil {
		log.Fatal(err)
	}
	sealed, err := codec.New(codec.Options{Wrappers: []codec.KeyWrapper{transit}})
	if err != nil {
		log.Fatal(err)
	}
	store, err := tokenstore.New(backend, tokenstore.Options{
		Namespace: "crm",
		IndexKey:  []byte(os.Getenv("TOKENSTORE_INDEX_KEY")), // ≥ 16 bytes, the same in every process
		Codec:     sealed,
	})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := store.FindToken(ctx, &tokenstore.Token{UserName: "ada@example.com:60001"})
	if err != nil {
		log.Fatal(err)
	}
	log.Print(tok.ID)
}
