package tokenstore

import (
	"context"
	"net/http"

	"golang.org/x/oauth2"
)

// NewClient returns an HTTP client that authenticates every request with
// the stored token query identifies, renewing it as a TokenSource does; see
// NewTokenSource for the arguments. Its transport is that of ctx's
// oauth2.HTTPClient, or http.DefaultTransport.
//
// Keep the client for as long as the user's requests go on: its source
// caches the token in memory, while a client made per request reads the
// store on every request.
//
// It returns an error rather than a client that fails every request, so
// that a misconfiguration shows at startup. Unlike oauth2.NewClient it does
// not wrap the source in oauth2.ReuseTokenSource, whose fixed 10-second
// expiry margin would override TokenSourceOptions.Skew.
func NewClient(ctx context.Context, store TokenStore, cfg *oauth2.Config, query *Token, opts TokenSourceOptions) (*http.Client, error) {
	ts, err := NewTokenSource(ctx, store, cfg, query, opts)
	if err != nil {
		return nil, err
	}
	return ts.Client(ctx), nil
}

// Client returns an HTTP client that authenticates every request with the
// source's token. Its transport is that of ctx's oauth2.HTTPClient, or
// http.DefaultTransport; see NewClient.
func (ts *TokenSource) Client(ctx context.Context) *http.Client {
	base := http.DefaultClient
	if c, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok {
		base = c
	}
	return &http.Client{
		Transport:     &oauth2.Transport{Source: ts, Base: base.Transport},
		CheckRedirect: base.CheckRedirect,
		Jar:           base.Jar,
		Timeout:       base.Timeout,
	}
}
