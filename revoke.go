package tokenstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// Revocation is a provider's token revocation endpoint (RFC 7009).
type Revocation struct {
	// URL of the endpoint, such as "https://accounts.zoho.com/oauth/v2/token/revoke".
	URL string
	// TokenInQuery sends the token in the URL's query instead of the form
	// body. RFC 7009 wants the body, where proxies do not log it; Zoho
	// documents the query (POST /oauth/v2/token/revoke?token=...).
	TokenInQuery bool
}

// Revoke revokes the stored token's refresh token (or, lacking one, its
// access token) at TokenSourceOptions.Revocation, then deletes the stored
// token; a refresh token's revocation ends its access tokens too, at
// providers that follow RFC 7009. Without a Revocation it only deletes.
//
// If the provider refuses, Revoke returns the error and keeps the token, so
// that the call can be repeated; RFC 7009 servers answer 200 for a token
// that is already invalid, so a repeated call succeeds.
func (ts *TokenSource) Revoke(ctx context.Context) error {
	ctx = ts.withHTTPClient(ctx)
	id, err := ts.resolve(ctx, false)
	if err != nil {
		return err
	}
	// Hold the token's renewal slot: a refresh running in this process
	// would otherwise store a new token after the delete.
	st, done := acquireState(ts.stateKey(id))
	defer done()
	select {
	case st.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-st.sem }()

	cur, err := ts.store.FindTokenByID(ctx, id)
	if err != nil {
		return err
	}
	if p := st.pending; p != nil {
		cur = p.next // the newest refresh token is the one to revoke
	}
	if r := ts.opts.Revocation; r != nil {
		token, hint := cur.RefreshToken, "refresh_token"
		if token == "" {
			token, hint = cur.AccessToken, "access_token"
		}
		if token != "" {
			if err := ts.revoke(ctx, r, cur, token, hint); err != nil {
				return fmt.Errorf("tokenstore: revoking token %s: %w", id, err)
			}
		}
	}
	st.pending, st.latest = nil, nil
	ts.forget()
	if err := ts.store.DeleteToken(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// revoke sends one RFC 7009 revocation request, authenticating the client
// as the token endpoint wants it.
func (ts *TokenSource) revoke(ctx context.Context, r *Revocation, t *Token, token, hint string) error {
	clientID, secret := ts.cfg.ClientID, ts.cfg.ClientSecret
	if clientID == "" && secret == "" {
		clientID, secret = t.ClientID, t.ClientSecret
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return err
	}
	form := url.Values{"token_type_hint": {hint}}
	if r.TokenInQuery {
		q := u.Query()
		q.Set("token", token)
		u.RawQuery = q.Encode()
	} else {
		form.Set("token", token)
	}
	inParams := ts.cfg.Endpoint.AuthStyle == oauth2.AuthStyleInParams
	if inParams {
		form.Set("client_id", clientID)
		form.Set("client_secret", secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !inParams {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	client := http.DefaultClient
	if c, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok {
		client = c
	}
	resp, err := client.Do(req)
	if err != nil {
		// url.Error names the URL, which holds the token in query style.
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue.Err
		}
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("revocation endpoint answered %s", resp.Status)
	}
	return nil
}
