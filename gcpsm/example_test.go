package gcpsm_test

import (
	"context"
	"fmt"
	"log"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/gcpsm"
	"github.com/tokenstore-go/tokenstore/gcpsm/gcpsmtest"
)

// A Store over Secret Manager; here the fake stands in for the service. In
// production the client comes from secretmanager.NewClient(ctx).
func Example() {
	ctx := context.Background()
	srv, err := gcpsmtest.NewServer()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client, err := srv.NewClient(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	b, err := gcpsm.New(client, gcpsm.Options{Project: "my-project"})
	if err != nil {
		log.Fatal(err)
	}
	store, err := tokenstore.New(b, tokenstore.Options{
		Namespace: "crm-prod",
		IndexKey:  []byte("use 32 random bytes, not this!!!"),
		Codec:     codec.Plain(),
	})
	if err != nil {
		log.Fatal(err)
	}
	tok := &tokenstore.Token{UserName: "jane@example.com:6000", RefreshToken: "1000.r", ClientID: "1000.c", ClientSecret: "s"}
	if err := store.SaveToken(ctx, tok); err != nil {
		log.Fatal(err)
	}
	got, err := store.FindToken(ctx, &tokenstore.Token{UserName: "jane@example.com:6000"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.RefreshToken)
	// Output: 1000.r
}
