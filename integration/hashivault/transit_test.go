package hashivault_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/hashivault"
)

// transitKey creates a Transit key as root and returns its name.
func transitKey(t *testing.T, e vaultEnv, derived bool) string {
	t.Helper()
	name := unique(t, "key")
	if _, err := e.root(t).Logical().WriteWithContext(t.Context(), e.transit+"/keys/"+name, map[string]any{"derived": derived}); err != nil {
		t.Fatal(err)
	}
	return name
}

func wrapper(t *testing.T, e vaultEnv, client *api.Client, key string) *hashivault.TransitKeyWrapper {
	t.Helper()
	w, err := hashivault.NewTransitKeyWrapper(client, key, hashivault.TransitOptions{Mount: e.transit})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestTransitKeyWrapper(t *testing.T) {
	e := getEnv(t)
	ctx := t.Context()
	dek := bytes.Repeat([]byte{0x5a}, 32)
	aad := []byte("tokenstore namespace ns")
	for _, derived := range []bool{true, false} {
		name := "not derived"
		if derived {
			name = "derived"
		}
		t.Run(name, func(t *testing.T) {
			key := transitKey(t, e, derived)
			w := wrapper(t, e, e.root(t), key)
			if want := "vault-transit:" + e.transit + "/" + key; w.KeyID() != want {
				t.Errorf("KeyID = %q, want %q", w.KeyID(), want)
			}
			wrapped, err := w.Wrap(ctx, dek, aad)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(wrapped), "vault:v1:") || bytes.Contains(wrapped, dek) {
				t.Errorf("Wrap = %q, want a Transit v1 ciphertext", wrapped)
			}
			got, err := w.Unwrap(ctx, wrapped, aad)
			if err != nil || !bytes.Equal(got, dek) {
				t.Fatalf("Unwrap = %x, %v; want the data key", got, err)
			}

			// The associated data binds: another namespace's aad, a
			// tampered ciphertext, a ciphertext of another key.
			other := wrapper(t, e, e.root(t), transitKey(t, e, derived))
			otherWrapped, err := other.Wrap(ctx, dek, aad)
			if err != nil {
				t.Fatal(err)
			}
			tampered := []byte(string(wrapped[:len(wrapped)-4]) + "AAA=")
			for what, tc := range map[string]struct{ wrapped, aad []byte }{
				"another aad":          {wrapped, []byte("tokenstore namespace other")},
				"no aad":               {wrapped, nil},
				"tampered":             {tampered, aad},
				"not a ciphertext":     {[]byte("garbage"), aad},
				"another key's":        {otherWrapped, aad},
				"a version it has not": {[]byte(strings.Replace(string(wrapped), "vault:v1:", "vault:v9:", 1)), aad},
			} {
				if _, err := w.Unwrap(ctx, tc.wrapped, tc.aad); !errors.Is(err, codec.ErrWrongKey) {
					t.Errorf("Unwrap(%s) = %v, want ErrWrongKey", what, err)
				}
			}

			// After rotation new wraps use v2, v1 still unwraps, KeyID stays.
			if _, err := e.root(t).Logical().WriteWithContext(ctx, e.transit+"/keys/"+key+"/rotate", nil); err != nil {
				t.Fatal(err)
			}
			wrapped2, err := w.Wrap(ctx, dek, aad)
			if err != nil || !strings.HasPrefix(string(wrapped2), "vault:v2:") {
				t.Errorf("Wrap after rotate = %q, %v; want a v2 ciphertext", wrapped2, err)
			}
			for _, c := range [][]byte{wrapped, wrapped2} {
				if got, err := w.Unwrap(ctx, c, aad); err != nil || !bytes.Equal(got, dek) {
					t.Errorf("Unwrap(%.9s) after rotate = %v", c, err)
				}
			}
			// A version retired by min_decryption_version is an error,
			// but not ErrWrongKey: the value is intact.
			if _, err := e.root(t).Logical().WriteWithContext(ctx, e.transit+"/keys/"+key+"/config", map[string]any{"min_decryption_version": 2}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Unwrap(ctx, wrapped, aad); err == nil || errors.Is(err, codec.ErrWrongKey) {
				t.Errorf("Unwrap of a retired version = %v, want an error other than ErrWrongKey", err)
			}
		})
	}
}

// Failures that say nothing about the ciphertext are not ErrWrongKey.
func TestTransitErrorsThatAreNotWrongKey(t *testing.T) {
	e := getEnv(t)
	ctx := t.Context()
	key := transitKey(t, e, true)
	aad := []byte("aad")
	wrapped, err := wrapper(t, e, e.root(t), key).Wrap(ctx, make([]byte, 32), aad)
	if err != nil {
		t.Fatal(err)
	}
	missing := wrapper(t, e, e.root(t), "no-such-key")
	if _, err := missing.Unwrap(ctx, wrapped, aad); err == nil || errors.Is(err, codec.ErrWrongKey) {
		t.Errorf("Unwrap with a missing key = %v, want an error other than ErrWrongKey", err)
	}
	sec, err := e.root(t).Auth().Token().CreateWithContext(ctx, &api.TokenCreateRequest{Policies: []string{"default"}})
	if err != nil {
		t.Fatal(err)
	}
	client, _ := e.client(t, sec.Auth.ClientToken)
	denied := wrapper(t, e, client, key)
	if _, err := denied.Unwrap(ctx, wrapped, aad); !errors.Is(err, hashivault.ErrPermissionDenied) || errors.Is(err, codec.ErrWrongKey) {
		t.Errorf("Unwrap without permission = %v, want ErrPermissionDenied and not ErrWrongKey", err)
	}
	if _, err := denied.Wrap(ctx, make([]byte, 32), aad); !errors.Is(err, hashivault.ErrPermissionDenied) {
		t.Errorf("Wrap without permission = %v, want ErrPermissionDenied", err)
	}
	if err != nil && strings.Contains(err.Error(), sec.Auth.ClientToken) {
		t.Errorf("the error holds the Vault token: %v", err)
	}
	down := api.DefaultConfig()
	down.Address = "http://127.0.0.1:1"
	down.MaxRetries = 0
	dc, err := api.NewClient(down)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrapper(t, e, dc, key).Unwrap(ctx, wrapped, aad); err == nil || errors.Is(err, codec.ErrWrongKey) {
		t.Errorf("Unwrap with Vault unreachable = %v, want an error other than ErrWrongKey", err)
	}
}

// Tokens sealed under Transit: the stored value holds no secret, another
// process opens it, and Transit is called once per data key, not per token.
func TestSealedStoreOverTransit(t *testing.T) {
	e := getEnv(t)
	ctx := t.Context()
	key := transitKey(t, e, true)
	prefix, ns := unique(t, "sealed"), "ns"
	open := func() (*tokenstore.Store, *counter) {
		client, cnt := e.client(t, e.token)
		c, err := codec.New(codec.Options{Wrappers: []codec.KeyWrapper{wrapper(t, e, client, key)}})
		if err != nil {
			t.Fatal(err)
		}
		s, err := tokenstore.New(e.backend(t, client, hashivault.Options{Prefix: prefix}),
			tokenstore.Options{Namespace: ns, IndexKey: indexKey, Codec: c})
		if err != nil {
			t.Fatal(err)
		}
		return s, cnt
	}
	transitCalls := func(reqs []string) (n int) {
		for _, r := range reqs {
			if strings.Contains(r, " "+e.transit+"/") {
				n++
			}
		}
		return n
	}
	s1, cnt1 := open()
	toks := []*tokenstore.Token{user(1), user(2), user(3)}
	for _, tok := range toks {
		if err := s1.SaveToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := transitCalls(cnt1.take()); n != 1 {
		t.Errorf("3 saves made %d Transit calls, want 1 (one data key)", n)
	}
	raw, err := e.root(t).Logical().ReadWithContext(ctx, e.mount+"/data/"+prefix+"/"+ns+"/tokens/"+toks[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	value := raw.Data["data"].(map[string]any)["value"].(string)
	for _, secret := range []string{toks[0].RefreshToken, toks[0].AccessToken, toks[0].ClientSecret, toks[0].UserName} {
		if strings.Contains(value, secret) {
			t.Errorf("the stored value holds %q", secret)
		}
	}

	s2, cnt2 := open()
	all, err := s2.GetTokens(ctx)
	if err != nil || len(all) != 3 {
		t.Fatalf("GetTokens in another process = %d tokens, %v", len(all), err)
	}
	if got, err := s2.FindToken(ctx, &tokenstore.Token{AccessToken: toks[1].AccessToken}); err != nil || got.RefreshToken != toks[1].RefreshToken {
		t.Errorf("FindToken of a sealed token = %v, %v", got, err)
	}
	if n := transitCalls(cnt2.take()); n != 1 {
		t.Errorf("reading 3 tokens sealed under one data key made %d Transit calls, want 1", n)
	}
}
