package tokenstore_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/memstore"
)

var testKey = []byte("tokenstore test index key 32 by!")

func TestNewRejectsBadOptions(t *testing.T) {
	b := memstore.New()
	good := tokenstore.Options{IndexKey: testKey, Codec: codec.Plain()}
	for name, opts := range map[string]tokenstore.Options{
		"short index key":        {IndexKey: []byte("short"), Codec: codec.Plain()},
		"no codec":               {IndexKey: testKey},
		"uppercase namespace":    {Namespace: "Prod", IndexKey: testKey, Codec: codec.Plain()},
		"namespace with '_'":     {Namespace: "a_b", IndexKey: testKey, Codec: codec.Plain()},
		"namespace with '/'":     {Namespace: "a/b", IndexKey: testKey, Codec: codec.Plain()},
		"41-character namespace": {Namespace: strings.Repeat("n", 41), IndexKey: testKey, Codec: codec.Plain()},
	} {
		if _, err := tokenstore.New(b, opts); !errors.Is(err, tokenstore.ErrInvalidOptions) {
			t.Errorf("%s: New = %v, want ErrInvalidOptions", name, err)
		}
	}
	if _, err := tokenstore.New(nil, good); !errors.Is(err, tokenstore.ErrInvalidOptions) {
		t.Errorf("New(nil backend) = %v, want ErrInvalidOptions", err)
	}
	s, err := tokenstore.New(b, good)
	if err != nil {
		t.Fatal(err)
	}
	if s.Namespace() != tokenstore.DefaultNamespace {
		t.Errorf("Namespace() = %q, want the default", s.Namespace())
	}
}

func TestErrorsNameOperationAndBackend(t *testing.T) {
	s, err := tokenstore.New(memstore.New(), tokenstore.Options{IndexKey: testKey, Codec: codec.Plain()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.FindTokenByID(context.Background(), "missing")
	var e *tokenstore.Error
	if !errors.As(err, &e) || e.Op != "FindTokenByID" || e.Backend != "memstore" || e.ID != "missing" {
		t.Fatalf("error %v: want an *Error naming the operation, backend and ID", err)
	}
	if !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("errors.Is(%v, ErrNotFound) = false", err)
	}
	if want := "tokenstore: FindTokenByID on memstore id=missing: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want prefix %q", err, want)
	}
}

// A save that reaches a derived ID held by another token (here one whose
// refresh token has rotated since) takes the next derived ID, and both
// tokens stay findable.
func TestDerivedIDSlots(t *testing.T) {
	ctx := context.Background()
	s, err := tokenstore.New(memstore.New(), tokenstore.Options{IndexKey: testKey, Codec: codec.Plain()})
	if err != nil {
		t.Fatal(err)
	}
	first := &tokenstore.Token{ClientID: "c", ClientSecret: "s", RefreshToken: "r1"}
	if err := s.SaveToken(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveToken(ctx, &tokenstore.Token{ID: first.ID, RefreshToken: "r2"}); err != nil {
		t.Fatal(err)
	}
	second := &tokenstore.Token{ClientID: "c", ClientSecret: "s", RefreshToken: "r1", AccessToken: "other"}
	if err := s.SaveToken(ctx, second); err != nil {
		t.Fatal(err)
	}
	if second.ID == first.ID {
		t.Fatal("the second token overwrote the first")
	}
	for rt, id := range map[string]string{"r1": second.ID, "r2": first.ID} {
		got, err := s.FindToken(ctx, &tokenstore.Token{ClientID: "c", ClientSecret: "s", RefreshToken: rt})
		if err != nil || got.ID != id {
			t.Errorf("FindToken(%s) = %v, %v; want ID %s", rt, got, err, id)
		}
	}
}

// A token sealed under a key this process lacks is unreadable for now, not
// absent: finds and saves fail instead of creating a second token.
func TestUnreadableIsNotAbsent(t *testing.T) {
	ctx := context.Background()
	backend := memstore.New()
	open := func(key byte) *tokenstore.Store {
		w, err := codec.NewLocalKeyWrapper(bytes.Repeat([]byte{key}, 32))
		if err != nil {
			t.Fatal(err)
		}
		c, err := codec.New(codec.Options{Wrappers: []codec.KeyWrapper{w}})
		if err != nil {
			t.Fatal(err)
		}
		s, err := tokenstore.New(backend, tokenstore.Options{IndexKey: testKey, Codec: c})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	withKey1, withKey2 := open(1), open(2)
	tok := &tokenstore.Token{UserName: "ada@example.com:1", AccessToken: "a1"}
	if err := withKey1.SaveToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := withKey2.FindToken(ctx, &tokenstore.Token{UserName: tok.UserName}); !errors.Is(err, codec.ErrUnknownKey) {
		t.Errorf("FindToken without the key = %v, want ErrUnknownKey", err)
	}
	if err := withKey2.SaveToken(ctx, &tokenstore.Token{UserName: tok.UserName, AccessToken: "a2"}); !errors.Is(err, codec.ErrUnknownKey) {
		t.Errorf("SaveToken without the key = %v, want ErrUnknownKey", err)
	}
	if _, err := withKey2.GetTokens(ctx); !errors.Is(err, codec.ErrUnknownKey) {
		t.Errorf("GetTokens without the key = %v, want ErrUnknownKey", err)
	}
	all, err := withKey1.GetTokens(ctx)
	if err != nil || len(all) != 1 || all[0].AccessToken != "a1" {
		t.Errorf("GetTokens = %v, %v; want the one original token", all, err)
	}
}
