package awssm_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/awssm"
)

// The benchmarks put each Store operation beside the same Secrets Manager
// calls made directly with the SDK on the same secret, so that the
// difference is tokenstore's own cost: hashing, encoding, decoding, the
// value document. Run with
//
//	go test -run '^$' -bench . -benchtime 2s ./awssm/
//
// with TOKENSTORE_MOTO_ENDPOINT set (integration/run.sh prints it).

func benchStore(b *testing.B) (*tokenstore.Store, *secretsmanager.Client, *tokenstore.Token, string) {
	be := newBackend(b, nil, awssm.Options{})
	ns := newNamespace(b)
	s := newStore(b, be, ns)
	a := user(1)
	if err := s.SaveToken(b.Context(), a); err != nil {
		b.Fatal(err)
	}
	return s, smClient(b, nil), a, secretName(ns, a.ID)
}

// BenchmarkFindByID: FindTokenByID (one GetSecretValue) against a bare
// GetSecretValue.
func BenchmarkFindByID(b *testing.B) {
	s, c, a, name := benchStore(b)
	b.Run("awssm", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.FindTokenByID(b.Context(), a.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sdk", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.GetSecretValue(b.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSaveToken: SaveToken of a changed token by ID (GetSecretValue,
// PutSecretValue; the index does not change) against the same two calls.
func BenchmarkSaveToken(b *testing.B) {
	s, c, a, name := benchStore(b)
	expiry := time.UnixMilli(2_000_000_000_000)
	b.Run("awssm", func(b *testing.B) {
		for b.Loop() {
			expiry = expiry.Add(time.Second)
			if err := s.SaveToken(b.Context(), &tokenstore.Token{ID: a.ID, Expiry: expiry}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sdk", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			if _, err := c.GetSecretValue(b.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)}); err != nil {
				b.Fatal(err)
			}
			if _, err := c.PutSecretValue(b.Context(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(fmt.Sprintf(`{"n":%d}`, i))}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
