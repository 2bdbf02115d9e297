package codec

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeyWrapper wraps and unwraps data keys under a key encryption key that it
// holds or that a key service holds for it: a local key, AWS KMS, Cloud KMS
// or Vault Transit. Implementations must be safe for concurrent use.
//
// A Codec calls Wrap about once per data-key lifetime and Unwrap once per
// data key it has not cached (see Options), never once per token.
type KeyWrapper interface {
	// KeyID names the key encryption key. It is recorded in every sealed
	// value, so that the wrapper that can open it is found again after keys
	// rotate; it must be stable across processes, unique among a Codec's
	// wrappers, and at most 255 bytes. It is not secret: a key ARN, a
	// resource name, a Transit key name, or a key fingerprint.
	KeyID() string
	// Wrap encrypts the data key dek, authenticating aad with it (the
	// "encryption context" or "additional authenticated data" of a key
	// service; under a Store, aad is printable ASCII, so it fits either).
	// The Codec keeps the result in every value sealed with dek, and
	// clears dek after the call returns.
	Wrap(ctx context.Context, dek, aad []byte) ([]byte, error)
	// Unwrap returns the data key that Wrap wrapped with the same aad, in a
	// slice it does not keep: the Codec clears it once it has built a
	// cipher from it. When wrapped fails authentication under this
	// wrapper's key (tampered, wrapped under another key, or with another
	// aad) the error must wrap ErrWrongKey; any other error, such as a
	// network failure or a denied permission, must not, so that it is not
	// mistaken for a corrupt value.
	Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error)
}

// keySize is the size of AES-256 keys: data keys and local wrapping keys.
const keySize = 32

// maxKeyIDLength bounds KeyID, whose length the sealed format stores.
const maxKeyIDLength = 255

// LocalKeyWrapper wraps data keys with AES-256-GCM under a 256-bit key held
// in memory: for tests, development and deployments that keep the key in an
// environment variable or a mounted secret. The library never writes the key
// anywhere. Production deployments that can should prefer a key service,
// whose keys never leave it and whose use is logged. Make one with
// NewLocalKeyWrapper or NewLocalKeyWrapperBase64; the zero value has no key.
type LocalKeyWrapper struct {
	id   string
	aead cipher.AEAD
}

var _ KeyWrapper = (*LocalKeyWrapper)(nil)

// NewLocalKeyWrapper returns a wrapper for key, which must be 32 random
// bytes (for example from `openssl rand -base64 32`). It keeps no reference
// to key.
func NewLocalKeyWrapper(key []byte) (*LocalKeyWrapper, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("codec: local key has %d bytes, want %d", len(key), keySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("codec: local key: %w", err) // not reached: the length is right
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("codec: local key: %w", err)
	}
	// The ID is a fingerprint of the key, so that every process given the
	// same key agrees on its ID without configuration, and a different key
	// has a different ID: then ErrWrongKey means a tampered value, not a
	// key mixed up under one name. Hashing with a label keeps the
	// fingerprint useless for anything else; 64 bits tell keys apart.
	h := sha256.New()
	h.Write([]byte("tokenstore codec local key ID\x00"))
	h.Write(key)
	return &LocalKeyWrapper{id: "local-" + hex.EncodeToString(h.Sum(nil)[:8]), aead: aead}, nil
}

// NewLocalKeyWrapperBase64 is NewLocalKeyWrapper for a key given in base64,
// standard or URL-safe, with or without padding, as environment variables
// and secret files hold it. Surrounding white space is ignored.
func NewLocalKeyWrapperBase64(key string) (*LocalKeyWrapper, error) {
	key = strings.TrimSpace(key)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(key); err == nil {
			w, err := NewLocalKeyWrapper(b)
			clear(b)
			return w, err
		}
	}
	// Never quote the input: it is a key, however malformed.
	return nil, errors.New("codec: local key is not valid base64")
}

// KeyID returns "local-" and 16 hex digits of a fingerprint of the key.
func (w *LocalKeyWrapper) KeyID() string { return w.id }

// Wrap seals dek under the local key with a random nonce.
func (w *LocalKeyWrapper) Wrap(_ context.Context, dek, aad []byte) ([]byte, error) {
	return w.aead.Seal(nil, nil, dek, aad), nil
}

// Unwrap opens what Wrap sealed, or returns an error wrapping ErrWrongKey.
func (w *LocalKeyWrapper) Unwrap(_ context.Context, wrapped, aad []byte) ([]byte, error) {
	dek, err := w.aead.Open(nil, nil, wrapped, aad)
	if err != nil {
		return nil, ErrWrongKey
	}
	return dek, nil
}
