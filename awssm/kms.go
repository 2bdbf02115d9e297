package awssm

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/tokenstore-go/tokenstore/codec"
)

// KMSClient is the part of *kms.Client that KMSKeyWrapper uses.
type KMSClient interface {
	Encrypt(ctx context.Context, in *kms.EncryptInput, optFns ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

var _ KMSClient = (*kms.Client)(nil)

// KMSKeyWrapper wraps the sealed codec's data keys with an AWS KMS key
// (codec.KeyWrapper): Encrypt and Decrypt of the 32-byte data key, with the
// codec's associated data as the KMS encryption context, so a wrapped key
// opens only for the namespace it was made for, and every unwrap is logged
// in CloudTrail with that context. The codec caches unwrapped data keys, so
// KMS sees about one Decrypt per data key and process, not one per read.
//
// The key must be a symmetric encryption key; the caller needs kms:Encrypt
// and kms:Decrypt on it.
type KMSKeyWrapper struct {
	c     KMSClient
	keyID string
}

var _ codec.KeyWrapper = (*KMSKeyWrapper)(nil)

// The encryption context holds the codec's associated data: as text when it
// is UTF-8 (the sealed codec's is, "...namespace=crm", readable in
// CloudTrail), else base64 under another key, so the two never meet.
const (
	encryptionContextKey    = "tokenstore-aad"
	encryptionContextKeyB64 = "tokenstore-aad-base64"
)

// maxKeyIDLength is the codec's limit on KeyID.
const maxKeyIDLength = 255

// NewKMSKeyWrapper returns a wrapper for the KMS key keyID. Give the key's
// ARN: it names the key in every sealed value (KeyID), so it must stay the
// same for as long as values sealed under it exist, and an ARN, unlike a
// bare ID or an alias, names one key in one account and region for good.
func NewKMSKeyWrapper(c KMSClient, keyID string) (*KMSKeyWrapper, error) {
	if c == nil {
		return nil, errors.New("awssm: nil KMS client")
	}
	if keyID == "" || len(keyID) > maxKeyIDLength {
		return nil, fmt.Errorf("awssm: KMS key ID %q: want 1 to %d bytes", keyID, maxKeyIDLength)
	}
	return &KMSKeyWrapper{c: c, keyID: keyID}, nil
}

// KeyID returns the key's ID as given to NewKMSKeyWrapper.
func (w *KMSKeyWrapper) KeyID() string { return w.keyID }

func encryptionContext(aad []byte) map[string]string {
	if len(aad) == 0 {
		return nil // KMS takes no empty context values
	}
	if utf8.Valid(aad) {
		return map[string]string{encryptionContextKey: string(aad)}
	}
	return map[string]string{encryptionContextKeyB64: base64.StdEncoding.EncodeToString(aad)}
}

// Wrap encrypts dek under the key, bound to aad.
func (w *KMSKeyWrapper) Wrap(ctx context.Context, dek, aad []byte) ([]byte, error) {
	out, err := w.c.Encrypt(ctx, &kms.EncryptInput{
		KeyId:             aws.String(w.keyID),
		Plaintext:         dek,
		EncryptionContext: encryptionContext(aad),
	})
	if err != nil {
		return nil, fmt.Errorf("awssm: KMS Encrypt under %s: %w", w.keyID, err)
	}
	return out.CiphertextBlob, nil
}

// Unwrap decrypts a data key that Wrap wrapped with the same aad. A
// ciphertext that fails authentication — tampered, made with another
// encryption context, or under another key — gives an error wrapping
// codec.ErrWrongKey; a denied permission or a network failure does not.
func (w *KMSKeyWrapper) Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error) {
	out, err := w.c.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob: wrapped,
		// Pinning the key makes KMS refuse a ciphertext of another key
		// rather than use whichever key it names.
		KeyId:             aws.String(w.keyID),
		EncryptionContext: encryptionContext(aad),
	})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && (ae.ErrorCode() == "InvalidCiphertextException" || ae.ErrorCode() == "IncorrectKeyException") {
			return nil, fmt.Errorf("awssm: KMS Decrypt under %s: %w: %w", w.keyID, codec.ErrWrongKey, err)
		}
		return nil, fmt.Errorf("awssm: KMS Decrypt under %s: %w", w.keyID, err)
	}
	return out.Plaintext, nil
}
