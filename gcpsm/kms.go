package gcpsm

import (
	"context"
	"fmt"
	"hash/crc32"
	"strings"
	"time"

	kms "cloud.google.com/go/kms/apiv1"
	"cloud.google.com/go/kms/apiv1/kmspb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
)

// KMSClient is the part of *kms.KeyManagementClient that KMSKeyWrapper
// calls.
type KMSClient interface {
	Encrypt(context.Context, *kmspb.EncryptRequest, ...gax.CallOption) (*kmspb.EncryptResponse, error)
	Decrypt(context.Context, *kmspb.DecryptRequest, ...gax.CallOption) (*kmspb.DecryptResponse, error)
}

var _ KMSClient = (*kms.KeyManagementClient)(nil)

// KMSKeyWrapper wraps the sealed codec's data keys with a Cloud KMS
// symmetric key (purpose ENCRYPT_DECRYPT): Encrypt and Decrypt, with the
// codec's associated data as additional_authenticated_data, so that a
// wrapped key opens only for the value it was made for. The key material
// never leaves Cloud KMS, and every use is in its audit log. KMS rotates
// key versions by itself; Decrypt finds the version a ciphertext was made
// with, so KeyID, the CryptoKey name, does not change on rotation.
//
// Requests and responses carry CRC32C checksums, as Google recommends, so
// that data corrupted on the way is an error rather than a wrong key.
//
// The caller needs roles/cloudkms.cryptoKeyEncrypterDecrypter on the key.
type KMSKeyWrapper struct {
	c        KMSClient
	key      string
	callOpts []gax.CallOption
}

var _ codec.KeyWrapper = (*KMSKeyWrapper)(nil)

// NewKMSKeyWrapper returns a wrapper for the CryptoKey named
// "projects/P/locations/L/keyRings/R/cryptoKeys/K". Call options come after
// the wrapper's own, which retry UNAVAILABLE and RESOURCE_EXHAUSTED.
func NewKMSKeyWrapper(client KMSClient, keyName string, callOpts ...gax.CallOption) (*KMSKeyWrapper, error) {
	if client == nil {
		return nil, fmt.Errorf("gcpsm: nil KMSClient: %w", tokenstore.ErrInvalidOptions)
	}
	segs := strings.Split(keyName, "/")
	if len(segs) != 8 || segs[0] != "projects" || segs[2] != "locations" || segs[4] != "keyRings" || segs[6] != "cryptoKeys" ||
		segs[1] == "" || segs[3] == "" || segs[5] == "" || segs[7] == "" || len(keyName) > 255 {
		return nil, fmt.Errorf("gcpsm: KMS key %q: want projects/P/locations/L/keyRings/R/cryptoKeys/K: %w", keyName, tokenstore.ErrInvalidOptions)
	}
	return &KMSKeyWrapper{c: client, key: keyName, callOpts: append([]gax.CallOption{retry()}, callOpts...)}, nil
}

func retry() gax.CallOption {
	return gax.WithRetry(func() gax.Retryer {
		return gax.OnCodes(retryCodes, gax.Backoff{Initial: 100 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2})
	})
}

// KeyID returns the CryptoKey name.
func (w *KMSKeyWrapper) KeyID() string { return w.key }

func crc(b []byte) int64 { return int64(crc32.Checksum(b, castagnoli)) }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Wrap encrypts dek under the key, authenticating aad.
func (w *KMSKeyWrapper) Wrap(ctx context.Context, dek, aad []byte) ([]byte, error) {
	req := &kmspb.EncryptRequest{Name: w.key, Plaintext: dek, PlaintextCrc32C: wrapperspb.Int64(crc(dek))}
	if len(aad) > 0 {
		req.AdditionalAuthenticatedData = aad
		req.AdditionalAuthenticatedDataCrc32C = wrapperspb.Int64(crc(aad))
	}
	resp, err := w.c.Encrypt(ctx, req, w.callOpts...)
	if err != nil {
		return nil, fmt.Errorf("gcpsm: KMS Encrypt with %s: %w", w.key, err)
	}
	if !resp.GetVerifiedPlaintextCrc32C() || len(aad) > 0 && !resp.GetVerifiedAdditionalAuthenticatedDataCrc32C() ||
		resp.GetCiphertextCrc32C() == nil || resp.GetCiphertextCrc32C().GetValue() != crc(resp.GetCiphertext()) {
		return nil, fmt.Errorf("gcpsm: KMS Encrypt with %s: request or response corrupted in transit", w.key)
	}
	return resp.GetCiphertext(), nil
}

// Unwrap decrypts wrapped, which must have been made with the same aad.
// Cloud KMS answers INVALID_ARGUMENT to a ciphertext that does not
// authenticate, which gives an error wrapping codec.ErrWrongKey.
func (w *KMSKeyWrapper) Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error) {
	req := &kmspb.DecryptRequest{Name: w.key, Ciphertext: wrapped, CiphertextCrc32C: wrapperspb.Int64(crc(wrapped))}
	if len(aad) > 0 {
		req.AdditionalAuthenticatedData = aad
		req.AdditionalAuthenticatedDataCrc32C = wrapperspb.Int64(crc(aad))
	}
	resp, err := w.c.Decrypt(ctx, req, w.callOpts...)
	if code(err) == codes.InvalidArgument {
		return nil, fmt.Errorf("gcpsm: KMS Decrypt with %s: %w: %w", w.key, codec.ErrWrongKey, err)
	}
	if err != nil {
		return nil, fmt.Errorf("gcpsm: KMS Decrypt with %s: %w", w.key, err)
	}
	if resp.GetPlaintextCrc32C() == nil || resp.GetPlaintextCrc32C().GetValue() != crc(resp.GetPlaintext()) {
		return nil, fmt.Errorf("gcpsm: KMS Decrypt with %s: response corrupted in transit", w.key)
	}
	return resp.GetPlaintext(), nil
}
