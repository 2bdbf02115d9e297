package gcpsm_test

import (
	"bytes"
	"errors"
	"testing"

	kms "cloud.google.com/go/kms/apiv1"
	"google.golang.org/grpc/codes"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/gcpsm"
	"github.com/tokenstore-go/tokenstore/gcpsm/gcpsmtest"
)

const (
	keyA = "projects/p/locations/global/keyRings/tokens/cryptoKeys/a"
	keyB = "projects/p/locations/global/keyRings/tokens/cryptoKeys/b"
)

func newKMS(t *testing.T) (*gcpsmtest.Server, *kms.KeyManagementClient) {
	t.Helper()
	srv, err := gcpsmtest.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	for _, k := range []string{keyA, keyB} {
		if err := srv.AddCryptoKey(k); err != nil {
			t.Fatal(err)
		}
	}
	c, err := srv.NewKMSClient(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return srv, c
}

func TestKMSKeyWrapper(t *testing.T) {
	ctx := t.Context()
	srv, c := newKMS(t)
	a, err := gcpsm.NewKMSKeyWrapper(c, keyA)
	if err != nil {
		t.Fatal(err)
	}
	b, err := gcpsm.NewKMSKeyWrapper(c, keyB)
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID() != keyA {
		t.Errorf("KeyID = %q, want the CryptoKey name", a.KeyID())
	}
	dek := bytes.Repeat([]byte{7}, 32)
	aad := []byte("tokenstore/ns/id")
	wrapped, err := a.Wrap(ctx, dek, aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(wrapped, dek) {
		t.Error("the wrapped key holds the key in clear")
	}
	got, err := a.Unwrap(ctx, wrapped, aad)
	if err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("Unwrap = %x, %v; want the key back", got, err)
	}
	tampered := bytes.Clone(wrapped)
	tampered[len(tampered)-1] ^= 1
	for name, try := range map[string]func() ([]byte, error){
		"other aad":      func() ([]byte, error) { return a.Unwrap(ctx, wrapped, []byte("tokenstore/ns/other")) },
		"no aad":         func() ([]byte, error) { return a.Unwrap(ctx, wrapped, nil) },
		"other key":      func() ([]byte, error) { return b.Unwrap(ctx, wrapped, aad) },
		"tampered":       func() ([]byte, error) { return a.Unwrap(ctx, tampered, aad) },
		"not ciphertext": func() ([]byte, error) { return a.Unwrap(ctx, []byte("garbage"), aad) },
	} {
		if _, err := try(); !errors.Is(err, codec.ErrWrongKey) {
			t.Errorf("Unwrap with %s = %v, want ErrWrongKey", name, err)
		}
	}
	// Failures that are not the key's: not ErrWrongKey.
	missing, err := gcpsm.NewKMSKeyWrapper(c, "projects/p/locations/global/keyRings/tokens/cryptoKeys/missing")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := missing.Unwrap(ctx, wrapped, aad); err == nil || errors.Is(err, codec.ErrWrongKey) {
		t.Errorf("Unwrap with a key that does not exist = %v, want an error that is not ErrWrongKey", err)
	}
	srv.FailNext(2, "Decrypt", codes.Unavailable)
	if got, err := a.Unwrap(ctx, wrapped, aad); err != nil || !bytes.Equal(got, dek) {
		t.Errorf("Unwrap after 2 UNAVAILABLE answers = %v, want it retried", err)
	}
	srv.FailNext(1, "Decrypt", codes.PermissionDenied)
	if _, err := a.Unwrap(ctx, wrapped, aad); err == nil || errors.Is(err, codec.ErrWrongKey) {
		t.Errorf("Unwrap denied = %v, want an error that is not ErrWrongKey", err)
	}
	for _, name := range []string{"", "projects/p", keyA + "/cryptoKeyVersions/1"} {
		if _, err := gcpsm.NewKMSKeyWrapper(c, name); !errors.Is(err, tokenstore.ErrInvalidOptions) {
			t.Errorf("NewKMSKeyWrapper(%q) = %v, want ErrInvalidOptions", name, err)
		}
	}
}

// TestSealedWithKMS stores sealed tokens in Secret Manager with their data
// keys wrapped by Cloud KMS: both fakes on one server.
func TestSealedWithKMS(t *testing.T) {
	ctx := t.Context()
	f := newFake(t)
	if err := f.srv.AddCryptoKey(keyA); err != nil {
		t.Fatal(err)
	}
	kc, err := f.srv.NewKMSClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	w, err := gcpsm.NewKMSKeyWrapper(kc, keyA)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := codec.New(codec.Options{Wrappers: []codec.KeyWrapper{w}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := tokenstore.New(f.backend(t, gcpsm.Options{}), tokenstore.Options{Namespace: "sealed", IndexKey: indexKey, Codec: sealed})
	if err != nil {
		t.Fatal(err)
	}
	tok := token(1)
	if err := s.SaveToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	e, err := f.backend(t, gcpsm.Options{}).Get(ctx, "sealed", tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(e.Value, []byte(tok.RefreshToken)) {
		t.Error("the stored value holds the refresh token in clear")
	}
	got, err := s.FindTokenByID(ctx, tok.ID)
	if err != nil || got.RefreshToken != tok.RefreshToken {
		t.Errorf("FindTokenByID = %v, %v; want the token opened", got, err)
	}
}
