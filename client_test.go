package tokenstore_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/memstore"
)

func TestNewClientAuthenticatesAndRenews(t *testing.T) {
	p := newFakeProvider(t)
	s := newStore(t, memstore.New())
	saveUser(t, s, p, time.Now().Add(-time.Minute))
	// The HTTP client in the context carries the provider's and the API's
	// requests.
	var calls int
	base := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls++
		return http.DefaultTransport.RoundTrip(r)
	})}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, base)
	client, err := tokenstore.NewClient(ctx, s, p.config(), &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(p.srv.URL + "/api")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	stored, err := s.FindToken(t.Context(), &tokenstore.Token{UserName: user})
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != "Bearer "+stored.AccessToken {
		t.Errorf("API saw Authorization %q, want the refreshed stored token", body)
	}
	if calls != 2 {
		t.Errorf("%d requests through the context's client, want 2 (refresh, API)", calls)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewClientRejectsBadArguments(t *testing.T) {
	if _, err := tokenstore.NewClient(t.Context(), nil, &oauth2.Config{}, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{}); err == nil {
		t.Error("NewClient without a store succeeded")
	}
}
