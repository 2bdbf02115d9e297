// Command quickstart shows tokenstore end to end with no setup: an in-memory
// backend, tokens sealed with a local key, two users, what the backend
// holds, a token refresh, finds by user name, refresh token and
// ID, a listing, and deletes.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/memstore"
)

func main() {
	ctx := context.Background()

	// Tokens are sealed with envelope encryption. Here the key is made up on
	// the spot and lives in memory only; in production it is a KMS key
	// (awssm.KMSKeyWrapper, gcpsm.KMSKeyWrapper, hashivault.TransitKeyWrapper)
	// or a key from your secret configuration, like the index key.
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		log.Fatal(err)
	}
	wrapper, err := codec.NewLocalKeyWrapper(key)
	check(err)
	sealing, err := codec.New(codec.Options{Wrappers: []codec.KeyWrapper{wrapper}})
	check(err)

	// The backend is memstore here; awssm, gcpsm or hashivault in
	// production. Everything below is the same for each.
	backend := memstore.New()
	store, err := tokenstore.New(backend, tokenstore.Options{
		Namespace: "quickstart",
		IndexKey:  []byte("quickstart index key: not secret"),
		Codec:     sealing,
	})
	check(err)

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

	// What the secret manager holds: a sealed value, and index tags that are
	// keyed hashes. No token, secret or user name is in clear.
	raw, err := backend.Get(ctx, store.Namespace(), ada.ID)
	check(err)
	fmt.Printf("the backend holds for ada:\n  value %.72s... (%d bytes)\n", raw.Value, len(raw.Value))
	for kind, hash := range raw.Index.All() {
		fmt.Printf("  index %-7s %s\n", kind, hash)
	}
	fmt.Printf("  refresh token in clear anywhere: %t\n",
		strings.Contains(string(raw.Value)+raw.ID+fmt.Sprint(raw.Index), ada.RefreshToken))

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
