package tokenstore_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/memstore"
)

// token1KB is a realistic token: a Zoho-style refresh token, a JWT access
// token and ID token; about 1 KB encoded.
func token1KB(n int) *tokenstore.Token {
	return &tokenstore.Token{
		UserName:     "user" + strconv.Itoa(n) + "@example.com:60012345678",
		ClientID:     "1000.Q7B3J0ZL6PRXW2D5K9A4T8M1C6VYEF",
		ClientSecret: "5f2c9a0b7e14d3c6a8f9e2b1d4c7a0f3e6b9d2c5a8",
		RefreshToken: "1000.9c1f27b4e8d36a5f0c2b7e4d1a8f3c6b.0e5d2a7f4c1b8e3d6a9f2c5b8e1d4a7f",
		AccessToken:  "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + strings.Repeat("QWxhZGRpbjpvcGVuIHNlc2FtZQ", 10) + ".sig" + strconv.Itoa(n),
		Expiry:       time.Date(2030, 1, 2, 3, 4, 5, 6_000_000, time.UTC),
		RedirectURL:  "https://app.example.com/oauth/callback",
		APIDomain:    "https://www.zohoapis.com",
		TokenType:    "Bearer",
		Scope:        "ZohoCRM.modules.ALL ZohoCRM.settings.ALL ZohoCRM.users.READ",
		IDToken:      "eyJhbGciOiJSUzI1NiJ9." + strings.Repeat("aWQgdG9rZW4gcGF5bG9hZA", 14) + ".sig",
		Extra:        map[string]string{"location": "us"},
	}
}

func benchStore(b *testing.B) *tokenstore.Store {
	s, err := tokenstore.New(memstore.New(), tokenstore.Options{Namespace: "bench", IndexKey: testKey, Codec: codec.Plain()})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkSaveTokenNew(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	for i := 0; b.Loop(); i++ {
		if err := s.SaveToken(ctx, token1KB(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveTokenRefresh saves a refresh response: new access token and
// expiry for a stored user; a merge and a compare-and-swap update.
func BenchmarkSaveTokenRefresh(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	tok := token1KB(1)
	if err := s.SaveToken(ctx, tok.Clone()); err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		upd := &tokenstore.Token{UserName: tok.UserName, AccessToken: tok.AccessToken + strconv.Itoa(i), Expiry: tok.Expiry.Add(time.Duration(i) * time.Second)}
		if err := s.SaveToken(ctx, upd); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSaveTokenUnchanged(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	tok := token1KB(1)
	for b.Loop() {
		if err := s.SaveToken(ctx, tok.Clone()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFindToken(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	tok := token1KB(1)
	if err := s.SaveToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		query *tokenstore.Token
	}{
		{"UserName", &tokenstore.Token{UserName: tok.UserName}},
		{"RefreshToken", &tokenstore.Token{ClientID: tok.ClientID, ClientSecret: tok.ClientSecret, RefreshToken: tok.RefreshToken}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.FindToken(ctx, bc.query); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFindByID(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	tok := token1KB(1)
	if err := s.SaveToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.FindTokenByID(ctx, tok.ID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdate(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	tok := token1KB(1)
	if err := s.SaveToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		_, err := s.Update(ctx, tok.ID, func(t *tokenstore.Token) (*tokenstore.Token, error) {
			t.AccessToken = tok.AccessToken + strconv.Itoa(i)
			return t, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
