package vaultcontainer_test

import (
	"os"
	"testing"

	"github.com/testcontainers/testcontainers-go"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/hashivault"
	"github.com/tokenstore-go/tokenstore/integration/vaultcontainer"
	"github.com/tokenstore-go/tokenstore/storetest"
)

// TestVaultContainer saves and finds a token through hashivault in a Vault
// container, sealed by Transit. It needs Docker, so unlike the tests against
// integration/servers/vault.sh's server it skips where there is none
// (tokenstore's CI); TOKENSTORE_VAULT_IMAGE picks another image.
func TestVaultContainer(t *testing.T) {
	testcontainers.SkipIfProviderIsNotHealthy(t)
	ctx := t.Context()
	v, err := vaultcontainer.Start(ctx, vaultcontainer.Options{Image: os.Getenv("TOKENSTORE_VAULT_IMAGE")})
	if v != nil {
		testcontainers.CleanupContainer(t, v)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Client.Logical().WriteWithContext(ctx, "transit/keys/tokenstore", map[string]any{"derived": true}); err != nil {
		t.Fatal(err)
	}
	w, err := hashivault.NewTransitKeyWrapper(v.Client, "tokenstore", hashivault.TransitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(codec.Options{Wrappers: []codec.KeyWrapper{w}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := hashivault.New(v.Client, hashivault.Options{Mount: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := tokenstore.New(b, tokenstore.Options{Namespace: "container", IndexKey: storetest.IndexKey, Codec: c})
	if err != nil {
		t.Fatal(err)
	}
	tok := &tokenstore.Token{UserName: "ada@example.com:1", RefreshToken: "1000.r", ClientID: "c", ClientSecret: "s"}
	if err := s.SaveToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindToken(ctx, &tokenstore.Token{ClientID: "c", ClientSecret: "s", RefreshToken: tok.RefreshToken})
	if err != nil || got.UserName != tok.UserName {
		t.Fatalf("FindToken = %v, %v", got, err)
	}
	if err := s.DeleteTokens(ctx); err != nil {
		t.Fatal(err)
	}
}
