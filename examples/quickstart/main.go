// Command quickstart shows tokenstore end to end with no setup: an in-memory
// backend, two users, a token refresh, finds by user name, refresh token and
// ID, a listing, and deletes.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/memstore"
)

func main() {
	ctx := context.Background()

	// In production the index key comes from your secret configuration and
	// the backend is awssm, gcpsm or hashivault; everything below is the same.
	store, err := tokenstore.New(memstore.New(), tokenstore.Options{
		Namespace: "quickstart",
		IndexKey:  []byte("quickstart index key: not secret"),
		Codec:     codec.Plain(),
	})
	if err != nil {
		log.Fatal(err)
	}

	// What a grant-token exchange returns, for two users.
	const clientID, clientSecret = "1000.QUICKSTARTCLIENT", "quickstart-client-secret"
	now := time.Now()
	ada := &tokenstore.Token{
		UserName: "ada@example.com:60001", ClientID: clientID, ClientSecret: clientSecret,
		RefreshToken: "1000.ada-refresh", AccessToken: "1000.ada-access-1",
		Expiry: now.Add(time.Hour), APIDomain: "https://www.zohoapis.com",
	}
	bob := &tokenstore.Token{
		UserName: "bob@example.com:60001", ClientID: clientID, ClientSecret: clientSecret,
		RefreshToken: "1000.bob-refresh", AccessToken: "1000.bob-access-1",
		Expiry: now.Add(time.Hour), APIDomain: "https://www.zohoapis.eu",
	}
	for _, t := range []*tokenstore.Token{ada, bob} {
		check(store.SaveToken(ctx, t))
		fmt.Printf("saved             %v\n", t) // a Token prints no secret
	}

	// A refresh response has a new access token and expiry but no refresh
	// token: the save keeps the stored one.
	check(store.SaveToken(ctx, &tokenstore.Token{
		UserName: ada.UserName, AccessToken: "1000.ada-access-2", Expiry: now.Add(2 * time.Hour),
	}))
	fmt.Println("refreshed         ada's access token")

	byUser, err := store.FindToken(ctx, &tokenstore.Token{UserName: ada.UserName})
	check(err)
	fmt.Printf("by user name      %v (access token is the new one: %t, refresh token kept: %t)\n",
		byUser, byUser.AccessToken == "1000.ada-access-2", byUser.RefreshToken == ada.RefreshToken)

	byRefresh, err := store.FindToken(ctx, &tokenstore.Token{
		ClientID: clientID, ClientSecret: clientSecret, RefreshToken: bob.RefreshToken,
	})
	check(err)
	fmt.Printf("by refresh token  %v\n", byRefresh)

	byID, err := store.FindTokenByID(ctx, ada.ID)
	check(err)
	fmt.Printf("by ID             %v\n", byID)

	all, err := store.GetTokens(ctx)
	check(err)
	fmt.Printf("listed            %d tokens\n", len(all))

	check(store.DeleteToken(ctx, bob.ID))
	_, err = store.FindTokenByID(ctx, bob.ID)
	fmt.Printf("deleted bob; finding him now: %v\n", err)

	check(store.DeleteTokens(ctx))
	all, err = store.GetTokens(ctx)
	check(err)
	fmt.Printf("deleted all; %d tokens left\n", len(all))
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
