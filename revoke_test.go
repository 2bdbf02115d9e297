package tokenstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/memstore"
)

func TestRevokeRevokesThenDeletes(t *testing.T) {
	for _, inQuery := range []bool{false, true} {
		p := newFakeProvider(t)
		s := newStore(t, memstore.New())
		stored := saveUser(t, s, p, time.Now().Add(time.Hour))
		ts := newSource(t, s, p, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{
			Revocation: &tokenstore.Revocation{URL: p.srv.URL + "/revoke", TokenInQuery: inQuery},
		})
		if _, err := ts.Token(); err != nil {
			t.Fatal(err)
		}
		if err := ts.Revoke(t.Context()); err != nil {
			t.Fatalf("TokenInQuery %v: Revoke: %v", inQuery, err)
		}
		if got, _ := p.lastRevoked.Load().(string); got != stored.RefreshToken || p.active(stored.RefreshToken) {
			t.Errorf("TokenInQuery %v: the provider did not revoke the refresh token", inQuery)
		}
		if _, err := s.FindTokenByID(t.Context(), stored.ID); !errors.Is(err, tokenstore.ErrNotFound) {
			t.Errorf("TokenInQuery %v: stored token after Revoke: %v, want ErrNotFound", inQuery, err)
		}
		if _, err := ts.Token(); !errors.Is(err, tokenstore.ErrReauthorize) {
			t.Errorf("TokenInQuery %v: Token after Revoke: %v, want ErrReauthorize", inQuery, err)
		}
	}
}

func TestRevokeKeepsTokenWhenProviderFails(t *testing.T) {
	p := newFakeProvider(t)
	s := newStore(t, memstore.New())
	stored := saveUser(t, s, p, time.Now().Add(time.Hour))
	ts := newSource(t, s, p, &tokenstore.Token{UserName: user}, tokenstore.TokenSourceOptions{
		Revocation: &tokenstore.Revocation{URL: p.srv.URL + "/no-such-endpoint"},
	})
	if err := ts.Revoke(t.Context()); err == nil {
		t.Fatal("Revoke succeeded although the provider refused")
	}
	if _, err := s.FindTokenByID(t.Context(), stored.ID); err != nil {
		t.Errorf("stored token after a failed revocation: %v, want it kept", err)
	}
}
