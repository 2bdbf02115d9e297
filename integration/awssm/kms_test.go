package awssm_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/awssm"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/storetest"
)

// newKMSKey creates a symmetric key in moto and returns its ARN.
func newKMSKey(t *testing.T, c *kms.Client) string {
	out, err := c.CreateKey(t.Context(), &kms.CreateKeyInput{Description: aws.String("tokenstore test")})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.KeyMetadata.Arn)
}

func TestKMSKeyWrapper(t *testing.T) {
	ctx := t.Context()
	c := kmsClient(t)
	arn := newKMSKey(t, c)
	w, err := awssm.NewKMSKeyWrapper(c, arn)
	if err != nil {
		t.Fatal(err)
	}
	if w.KeyID() != arn {
		t.Errorf("KeyID = %q, want %q", w.KeyID(), arn)
	}
	dek := bytes.Repeat([]byte{7}, 32)
	aad := []byte("tokenstore sealed v1\x00ns-a")
	wrapped, err := w.Wrap(ctx, dek, aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(wrapped, dek) {
		t.Error("wrapped key holds the data key")
	}
	got, err := w.Unwrap(ctx, wrapped, aad)
	if err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("Unwrap = %x, %v; want the data key", got, err)
	}
	tampered := bytes.Clone(wrapped)
	tampered[len(tampered)-1] ^= 1
	for _, tc := range []struct {
		what    string
		wrapped []byte
		aad     []byte
	}{
		{"another encryption context", wrapped, []byte("tokenstore sealed v1\x00ns-b")},
		{"no encryption context", wrapped, nil},
		{"tampered ciphertext", tampered, aad},
	} {
		if _, err := w.Unwrap(ctx, tc.wrapped, tc.aad); !errors.Is(err, codec.ErrWrongKey) {
			t.Errorf("Unwrap with %s = %v, want ErrWrongKey", tc.what, err)
		}
	}
	// A key this client may not use is not a wrong key: the value is not
	// corrupt, the caller lacks a permission. (moto answers a ciphertext of
	// another key with AccessDeniedException, where AWS answers
	// IncorrectKeyException; both fail.)
	other, err := awssm.NewKMSKeyWrapper(c, newKMSKey(t, c))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Unwrap(ctx, wrapped, aad); err == nil {
		t.Error("Unwrap under another key succeeded")
	}
	if _, err := awssm.NewKMSKeyWrapper(c, ""); err == nil {
		t.Error("NewKMSKeyWrapper accepted an empty key ID")
	}
}

// TestKMSSealedStore runs a store with the sealed codec over awssm, its
// data keys wrapped by KMS in moto: a token round-trips, the secret's value
// holds none of it, and a value moved to another namespace fails to open.
func TestKMSSealedStore(t *testing.T) {
	ctx := t.Context()
	c := kmsClient(t)
	w, err := awssm.NewKMSKeyWrapper(c, newKMSKey(t, c))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := codec.New(codec.Options{Wrappers: []codec.KeyWrapper{w}})
	if err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, nil, awssm.Options{})
	open := func(ns string) *tokenstore.Store {
		s, err := tokenstore.New(b, tokenstore.Options{Namespace: ns, IndexKey: storetest.IndexKey, Codec: sealed})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ns := newNamespace(t)
	s := open(ns)
	a := user(1)
	if err := s.SaveToken(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindToken(ctx, &tokenstore.Token{UserName: a.UserName})
	if err != nil || got.RefreshToken != a.RefreshToken {
		t.Fatalf("FindToken = %v, %v", got, err)
	}
	e, err := b.Get(ctx, ns, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{a.RefreshToken, a.AccessToken, a.ClientSecret, a.UserName} {
		if bytes.Contains(e.Value, []byte(secret)) {
			t.Errorf("sealed value holds %q", secret)
		}
	}
	// The same value under the same ID in another namespace.
	ns2 := newNamespace(t)
	if err := b.Create(ctx, ns2, &tokenstore.Entry{ID: a.ID, Value: e.Value, Index: e.Index}); err != nil {
		t.Fatal(err)
	}
	if _, err := open(ns2).FindTokenByID(ctx, a.ID); !errors.Is(err, tokenstore.ErrCorrupt) {
		t.Errorf("FindTokenByID of a sealed value moved to another namespace = %v, want ErrCorrupt", err)
	}
}
