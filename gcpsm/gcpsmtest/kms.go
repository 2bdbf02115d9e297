package gcpsmtest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"hash/crc32"
	"strings"
	"sync"

	"cloud.google.com/go/kms/apiv1/kmspb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// keyManagement fakes the Encrypt and Decrypt calls of Cloud KMS on
// symmetric keys: AES-256-GCM with the request's additional authenticated
// data, a ciphertext that names its key version, CRC32C checksums checked
// and reported as the real service does, and INVALID_ARGUMENT for a
// ciphertext that does not authenticate (tampered, another key, other AAD).
type keyManagement struct {
	kmspb.UnimplementedKeyManagementServiceServer

	mu   sync.Mutex
	keys map[string]cipher.AEAD // by CryptoKey name as given
}

func newKeyManagement() *keyManagement {
	return &keyManagement{keys: make(map[string]cipher.AEAD)}
}

// maxKMSPlaintext is the Encrypt limit of Cloud KMS for plaintext and for
// additional authenticated data.
const maxKMSPlaintext = 64 * 1024

// AddCryptoKey creates a symmetric CryptoKey with one fresh key version
// under name, "projects/P/locations/L/keyRings/R/cryptoKeys/K". Encrypt and
// Decrypt with other names fail with NOT_FOUND, as for a key that does not
// exist.
func (s *Server) AddCryptoKey(name string) error {
	if !validKeyName(name) {
		return invalid("malformed CryptoKey name %q", name)
	}
	var key [32]byte
	rand.Read(key[:])
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	s.kms.mu.Lock()
	defer s.kms.mu.Unlock()
	s.kms.keys[name] = aead
	return nil
}

func validKeyName(name string) bool {
	segs := strings.Split(name, "/")
	return len(segs) == 8 && segs[0] == "projects" && segs[2] == "locations" && segs[4] == "keyRings" && segs[6] == "cryptoKeys" &&
		segs[1] != "" && segs[3] != "" && segs[5] != "" && segs[7] != ""
}

func (k *keyManagement) key(name string) (cipher.AEAD, error) {
	if strings.Contains(name, "/cryptoKeyVersions/") {
		// Encrypt accepts a version name; the fake's keys have one version.
		name = name[:strings.Index(name, "/cryptoKeyVersions/")]
	}
	if !validKeyName(name) {
		return nil, invalid("malformed CryptoKey name %q", name)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	aead := k.keys[name]
	if aead == nil {
		return nil, status.Errorf(codes.NotFound, "CryptoKey %s not found", name)
	}
	return aead, nil
}

func checkCRC(data []byte, sum *wrapperspb.Int64Value, field string) (bool, error) {
	if sum == nil {
		return false, nil
	}
	if sum.Value != int64(crc32.Checksum(data, castagnoli)) {
		return false, invalid("%s does not match", field)
	}
	return true, nil
}

// ciphertextVersion starts every ciphertext: the key version that made it.
const ciphertextVersion = 1

func (k *keyManagement) Encrypt(_ context.Context, req *kmspb.EncryptRequest) (*kmspb.EncryptResponse, error) {
	aead, err := k.key(req.GetName())
	if err != nil {
		return nil, err
	}
	if len(req.GetPlaintext()) > maxKMSPlaintext || len(req.GetAdditionalAuthenticatedData()) > maxKMSPlaintext {
		return nil, invalid("plaintext or additional_authenticated_data larger than %d bytes", maxKMSPlaintext)
	}
	vp, err := checkCRC(req.GetPlaintext(), req.GetPlaintextCrc32C(), "plaintext_crc32c")
	if err != nil {
		return nil, err
	}
	va, err := checkCRC(req.GetAdditionalAuthenticatedData(), req.GetAdditionalAuthenticatedDataCrc32C(), "additional_authenticated_data_crc32c")
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), 1+aead.NonceSize()+len(req.Plaintext)+aead.Overhead())
	rand.Read(nonce)
	ct := append([]byte{ciphertextVersion}, nonce...)
	ct = aead.Seal(ct, nonce, req.Plaintext, req.AdditionalAuthenticatedData)
	name := req.GetName()
	if !strings.Contains(name, "/cryptoKeyVersions/") {
		name += "/cryptoKeyVersions/1"
	}
	return &kmspb.EncryptResponse{
		Name:                    name,
		Ciphertext:              ct,
		CiphertextCrc32C:        wrapperspb.Int64(int64(crc32.Checksum(ct, castagnoli))),
		VerifiedPlaintextCrc32C: vp,
		VerifiedAdditionalAuthenticatedDataCrc32C: va,
		ProtectionLevel: kmspb.ProtectionLevel_SOFTWARE,
	}, nil
}

func (k *keyManagement) Decrypt(_ context.Context, req *kmspb.DecryptRequest) (*kmspb.DecryptResponse, error) {
	if strings.Contains(req.GetName(), "/cryptoKeyVersions/") {
		return nil, invalid("Decrypt takes a CryptoKey name, not a CryptoKeyVersion")
	}
	aead, err := k.key(req.GetName())
	if err != nil {
		return nil, err
	}
	if _, err := checkCRC(req.GetCiphertext(), req.GetCiphertextCrc32C(), "ciphertext_crc32c"); err != nil {
		return nil, err
	}
	if _, err := checkCRC(req.GetAdditionalAuthenticatedData(), req.GetAdditionalAuthenticatedDataCrc32C(), "additional_authenticated_data_crc32c"); err != nil {
		return nil, err
	}
	ct := req.GetCiphertext()
	ns := aead.NonceSize()
	if len(ct) < 1+ns+aead.Overhead() || ct[0] != ciphertextVersion {
		return nil, invalid("Decryption failed: the ciphertext is invalid.")
	}
	pt, err := aead.Open(nil, ct[1:1+ns], ct[1+ns:], req.GetAdditionalAuthenticatedData())
	if err != nil {
		return nil, invalid("Decryption failed: the ciphertext is invalid.")
	}
	return &kmspb.DecryptResponse{
		Plaintext:       pt,
		PlaintextCrc32C: wrapperspb.Int64(int64(crc32.Checksum(pt, castagnoli))),
		ProtectionLevel: kmspb.ProtectionLevel_SOFTWARE,
	}, nil
}
