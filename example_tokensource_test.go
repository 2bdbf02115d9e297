package tokenstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"golang.org/x/oauth2"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/memstore"
)

// fakeZoho plays Zoho's accounts server and API in the examples: a grant
// token is exchanged once, and the API greets the bearer of a valid token.
func fakeZoho() *httptest.Server {
	mux := http.NewServeMux()
	var srv *httptest.Server
	used := false
	mux.HandleFunc("POST /oauth/v2/token", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("code") != "1000.grant" || used {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		used = true
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"access_token": "1000.access", "refresh_token": "1000.refresh",
			"token_type": "Bearer", "expires_in": 3600, "api_domain": srv.URL,
		})
	})
	mux.HandleFunc("GET /crm/v8/users", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer 1000.access" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "hello, Ada")
	})
	srv = httptest.NewServer(mux)
	return srv
}

// A user authorized the app; the redirect brought a grant token. The token
// source exchanges it once, keeps the tokens in the store, and from then on
// refreshes them there, in every process that shares the store.
func ExampleNewTokenSource() {
	ctx := context.Background()
	zoho := fakeZoho()
	defer zoho.Close()

	store, err := tokenstore.New(memstore.New(), tokenstore.Options{
		Namespace: "crm",
		IndexKey:  []byte("an index key of 16 bytes or more"),
		Codec:     codec.Plain(),
	})
	if err != nil {
		log.Fatal(err)
	}
	cfg := &oauth2.Config{
		ClientID:     "1000.CLIENT",
		ClientSecret: "client-secret",
		RedirectURL:  "https://app.example/callback",
		// In production: tokenstore.ZohoEU, or the endpoint of the
		// redirect's accounts-server from tokenstore.ZohoEndpoint.
		Endpoint: oauth2.Endpoint{TokenURL: zoho.URL + "/oauth/v2/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	user := &tokenstore.Token{
		UserName:     "ada@example.com:60001",
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		GrantToken:   "1000.grant", // the code from the redirect
	}
	ts, err := tokenstore.NewTokenSource(ctx, store, cfg, user, tokenstore.TokenSourceOptions{})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := ts.StoredToken(ctx) // exchanges the grant token and saves the result
	if err != nil {
		log.Fatal(err)
	}
	resp, err := ts.Client(ctx).Get(tok.APIDomain + "/crm/v8/users?type=CurrentUser")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status, string(body))

	// Any process, later: one line from the stored user to a client.
	client, err := tokenstore.NewClient(ctx, store, cfg, &tokenstore.Token{UserName: "ada@example.com:60001"}, tokenstore.TokenSourceOptions{})
	if err != nil {
		log.Fatal(err)
	}
	resp, err = client.Get(tok.APIDomain + "/crm/v8/users?type=CurrentUser")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)

	stored, err := store.FindToken(ctx, &tokenstore.Token{UserName: "ada@example.com:60001"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(stored.RefreshToken != "", stored.APIDomain == zoho.URL)
	// Output:
	// 200 OK hello, Ada
	// 200 OK
	// true true
}
