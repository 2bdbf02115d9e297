package hashivault

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/codec"
)

// DefaultTransitMount is where `vault secrets enable transit` mounts Transit.
const DefaultTransitMount = "transit"

// TransitOptions configures a TransitKeyWrapper.
type TransitOptions struct {
	// Mount is the path of the Transit secrets engine. Default "transit".
	Mount string
	// VaultNamespace is the Vault Enterprise namespace of the mount;
	// empty means the client's own.
	VaultNamespace string
}

// TransitKeyWrapper is a codec.KeyWrapper that wraps data keys with a named
// key of Vault's Transit engine: Wrap is Transit encrypt, Unwrap is decrypt,
// one request each, and the key never leaves Vault.
//
// The codec's associated data is sent both as associated_data, which AES-GCM
// and ChaCha20-Poly1305 keys authenticate, and as context, which a key
// created with derived=true uses to derive a key per namespace (a non-derived
// key ignores context). So any encryption key of type aes128-gcm96,
// aes256-gcm96 (the default) or chacha20-poly1305 binds a wrapped data key to
// its namespace; derived=true adds a separate key per namespace. Create one
// with
//
//	vault write -f transit/keys/tokenstore derived=true
//
// Rotation: `vault write -f transit/keys/NAME/rotate` makes a new key version
// for new wraps; the ciphertext names its version ("vault:v1:..."), so old
// versions still unwrap while min_decryption_version allows them. KeyID
// therefore names the key, not a version: it does not change on rotation.
//
// Policy, with m the mount and k the key:
//
//	path "m/encrypt/k" { capabilities = ["update"] }
//	path "m/decrypt/k" { capabilities = ["update"] }
type TransitKeyWrapper struct {
	kv    logical
	mount string
	key   string
	id    string
}

var _ codec.KeyWrapper = (*TransitKeyWrapper)(nil)

// NewTransitKeyWrapper returns a wrapper for the Transit key named key. It
// makes no request; a missing key fails the first Wrap.
func NewTransitKeyWrapper(client *api.Client, key string, opts TransitOptions) (*TransitKeyWrapper, error) {
	if client == nil {
		return nil, fmt.Errorf("hashivault: nil client: %w", tokenstore.ErrInvalidOptions)
	}
	if opts.Mount == "" {
		opts.Mount = DefaultTransitMount
	}
	opts.Mount = strings.Trim(opts.Mount, "/")
	if !validPath(opts.Mount) {
		return nil, fmt.Errorf("hashivault: Transit mount %q: want segments of [A-Za-z0-9_.-] separated by '/': %w", opts.Mount, tokenstore.ErrInvalidOptions)
	}
	if !validPath(key) || strings.Contains(key, "/") {
		return nil, fmt.Errorf("hashivault: Transit key name %q: want [A-Za-z0-9_.-]: %w", key, tokenstore.ErrInvalidOptions)
	}
	if opts.VaultNamespace != "" {
		client = client.WithNamespace(opts.VaultNamespace)
	}
	id := "vault-transit:" + opts.Mount + "/" + key
	if ns := strings.Trim(opts.VaultNamespace, "/"); ns != "" {
		id = "vault-transit:" + ns + "/" + opts.Mount + "/" + key
	}
	return &TransitKeyWrapper{kv: client.Logical(), mount: opts.Mount, key: key, id: id}, nil
}

// KeyID returns "vault-transit:" and the Vault namespace (if any), mount and
// key name, such as "vault-transit:transit/tokenstore".
func (w *TransitKeyWrapper) KeyID() string { return w.id }

// Wrap encrypts dek with the Transit key's latest version.
func (w *TransitKeyWrapper) Wrap(ctx context.Context, dek, aad []byte) ([]byte, error) {
	p := w.mount + "/encrypt/" + w.key
	s, err := w.kv.WriteWithContext(ctx, p, w.request(map[string]any{"plaintext": base64.StdEncoding.EncodeToString(dek)}, aad))
	if err != nil {
		return nil, mapError("wrap data key", p, err)
	}
	var ct string
	if s != nil {
		ct, _ = s.Data["ciphertext"].(string)
	}
	if ct == "" {
		return nil, &Error{Op: "wrap data key", Path: p, cause: errors.New("the answer from Vault has no ciphertext")}
	}
	return []byte(ct), nil
}

// Unwrap decrypts what Wrap returned. A ciphertext that does not open under
// the key with this aad (tampered, another key's, another namespace's, or
// of a key version it does not have) gives an error wrapping
// codec.ErrWrongKey; a missing key, a retired key version, a denied
// permission or a network failure does not.
func (w *TransitKeyWrapper) Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error) {
	p := w.mount + "/decrypt/" + w.key
	s, err := w.kv.WriteWithContext(ctx, p, w.request(map[string]any{"ciphertext": string(wrapped)}, aad))
	if err != nil {
		err = mapError("unwrap data key", p, err)
		var e *Error
		if errors.As(err, &e) && e.Status == 400 && wrongKey(e.Errors) {
			e.kind = codec.ErrWrongKey
		}
		return nil, err
	}
	var pt string
	if s != nil {
		pt, _ = s.Data["plaintext"].(string)
	}
	dek, derr := base64.StdEncoding.DecodeString(pt)
	if pt == "" || derr != nil {
		return nil, &Error{Op: "unwrap data key", Path: p, cause: errors.New("the answer from Vault has no plaintext")}
	}
	return dek, nil
}

func (w *TransitKeyWrapper) request(req map[string]any, aad []byte) map[string]any {
	if len(aad) > 0 {
		a := base64.StdEncoding.EncodeToString(aad)
		req["associated_data"] = a
		req["context"] = a
	}
	return req
}

// wrongKey reports whether Transit's 400 answer to a decrypt means that the
// ciphertext does not open under the key: failed authentication (GCM's
// "message authentication failed", also for a wrong context or associated
// data; with a derived key and no aad, Transit does not even try), a
// malformed ciphertext, or a key version the key does not have (it was
// deleted and created anew under the same name). A version below the
// key's min_decryption_version is not among them: the value is intact and
// an administrator retired its key version, which must not pass for a
// corrupt value that a Store skips.
func wrongKey(msgs []string) bool {
	for _, m := range []string{
		"message authentication failed",
		"missing 'context' for key derivation",
		"invalid ciphertext",
		"invalid key version",
		"no such key version",
	} {
		if hasMessage(msgs, m) {
			return true
		}
	}
	return false
}
