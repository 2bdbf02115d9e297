// Package tokenstore keeps OAuth 2.0 tokens in secret managers — AWS Secrets
// Manager, Google Cloud Secret Manager, HashiCorp Vault, or memory — behind
// the TokenStore interface of the Zoho CRM SDKs.
//
// [Store] is the portable implementation: validation, the Zoho matching
// precedence, merge on save, deterministic IDs, keyed index hashes, encoding
// through a [Codec], and compare-and-swap retries all live in it once. A
// [Backend] only stores entries; see the memstore, awssm, gcpsm and
// hashivault packages. Custom stores implement [TokenStore] directly and prove
// themselves with the storetest conformance suite.
//
// [NewTokenSource] and [NewClient] put a store to work: an
// oauth2.TokenSource that exchanges a grant token once, refreshes near
// expiry, and saves every result, with one refresh across all processes
// (a lease recorded in the stored token under compare-and-swap).
//
// # Matching
//
// FindToken and SaveToken identify a user the way the Zoho SDKs do:
//
//  1. the query has a user name: match on the user name only;
//  2. else it has an access token and neither client ID nor client secret:
//     match on the access token;
//  3. else it has a grant or refresh token and both client ID and secret:
//     match on the grant token first, then on the refresh token;
//  4. else the query identifies nothing: [ErrInvalidToken].
//
// # Concurrency
//
// A new token without an ID gets an ID derived from the key it was found by
// (a keyed hash of kind and value), so processes that save the same new user
// at once all target one secret: the backend's create-if-absent lets one win
// and the others continue as compare-and-swap updates. A find by that key is
// a direct, consistent read, even where the service's search is eventually
// consistent (AWS ListSecrets).
package tokenstore

import (
	"context"
	"iter"
)

// TokenStore persists tokens: the Zoho SDKs' TokenStore with a context.
// [Store] implements it; users may implement it for stores of their own and
// run storetest.Run on them.
type TokenStore interface {
	// FindToken returns the stored token that query identifies (see the
	// package doc for the precedence), ErrNotFound, or ErrInvalidToken when
	// the query identifies nothing.
	FindToken(ctx context.Context, query *Token) (*Token, error)
	// SaveToken creates or updates t and sets t.ID. A token with an ID
	// updates that ID; otherwise it updates the token the precedence finds.
	// Empty fields of t keep their stored values.
	SaveToken(ctx context.Context, t *Token) error
	// DeleteToken deletes one token, or returns ErrNotFound.
	DeleteToken(ctx context.Context, id string) error
	// GetTokens returns every token of this store's namespace.
	GetTokens(ctx context.Context) ([]*Token, error)
	// DeleteTokens deletes every token of this store's namespace, and only those.
	DeleteTokens(ctx context.Context) error
	// FindTokenByID returns the token with the given ID, or ErrNotFound.
	FindTokenByID(ctx context.Context, id string) (*Token, error)
}

// Backend is the storage driver under a [Store]: a secret service seen as
// entries named by namespace and ID. It holds no token semantics; Store
// validates every argument before a call. Methods return errors that wrap
// ErrNotFound, ErrConflict or ErrTooLarge where those apply, so Store can
// tell them apart whatever the service.
//
// A backend must keep namespaces apart: no method may read, list or change an
// entry of another namespace.
type Backend interface {
	// Name names the backend in errors, such as "memstore" or "awssm".
	Name() string
	// Get returns the entry — value, index and current Version — or
	// ErrNotFound. Lookup and List return whole entries too.
	Get(ctx context.Context, namespace, id string) (*Entry, error)
	// Create stores e if no entry has its ID, else returns ErrConflict.
	Create(ctx context.Context, namespace string, e *Entry) error
	// Update replaces the entry e.ID if its current version is e.Version,
	// returns ErrConflict if it is not, and ErrNotFound if there is no entry.
	Update(ctx context.Context, namespace string, e *Entry) error
	// Delete removes the entry, or returns ErrNotFound.
	Delete(ctx context.Context, namespace, id string) error
	// Lookup returns the entries whose index has value for kind. It may
	// return stale or extra candidates (Store decodes and checks each) and,
	// on eventually consistent services, miss recent changes.
	Lookup(ctx context.Context, namespace string, kind IndexKind, value string) ([]*Entry, error)
	// List returns every entry of the namespace.
	List(ctx context.Context, namespace string) ([]*Entry, error)
}

// Entry is what a Backend stores for one token.
type Entry struct {
	ID      string
	Value   []byte // the Codec's output
	Index   Index  // keyed hashes of the token's lookup keys
	Version string // opaque compare-and-swap token, set by the backend on reads
}

// IndexKind names a lookup key of a token.
type IndexKind string

// The lookup keys a Store indexes, in the order of Index.All.
const (
	IndexUserName     IndexKind = "user"
	IndexAccessToken  IndexKind = "access"
	IndexGrantToken   IndexKind = "grant"
	IndexRefreshToken IndexKind = "refresh"
)

// Index holds the keyed hashes of a token's lookup keys: 52 characters of
// lowercase base32, safe for AWS tags, GCP labels and Vault paths alike and
// useless without the store's index key. Empty means the token has no such key.
type Index struct {
	UserName, AccessToken, GrantToken, RefreshToken string
}

// Get returns the hash for kind.
func (ix Index) Get(kind IndexKind) string {
	switch kind {
	case IndexUserName:
		return ix.UserName
	case IndexAccessToken:
		return ix.AccessToken
	case IndexGrantToken:
		return ix.GrantToken
	case IndexRefreshToken:
		return ix.RefreshToken
	}
	return ""
}

// All yields the kinds that have a hash, with the hash.
func (ix Index) All() iter.Seq2[IndexKind, string] {
	return func(yield func(IndexKind, string) bool) {
		for _, kv := range [...]struct {
			k IndexKind
			v string
		}{
			{IndexUserName, ix.UserName}, {IndexAccessToken, ix.AccessToken},
			{IndexGrantToken, ix.GrantToken}, {IndexRefreshToken, ix.RefreshToken},
		} {
			if kv.v != "" && !yield(kv.k, kv.v) {
				return
			}
		}
	}
}

// Codec turns tokens into the bytes a backend stores and back. Package codec
// provides the plain and the envelope-encrypted format.
type Codec interface {
	// Encode serializes t for the secret b names; t.ID is ignored.
	Encode(ctx context.Context, t *Token, b Binding) ([]byte, error)
	// Decode parses data stored in the secret b names and sets the token's
	// ID to b.ID. Data bound to another secret, truncated, corrupt or of an
	// unknown format gives an error wrapping ErrCorrupt; Store passes over
	// such entries. An intact value the codec cannot read now (its key is
	// missing, the key service fails) gives an error that does not wrap
	// ErrCorrupt, which Store returns.
	Decode(ctx context.Context, data []byte, b Binding) (*Token, error)
	// Stale reports whether data, which Decode accepts, is not in the form
	// Encode writes now (an older format version or key), so that a save
	// rewrites it even when the token did not change.
	Stale(data []byte) bool
}

// Binding names the secret a value belongs to. Codecs bind each value to it,
// so a value copied into another secret or namespace fails to decode.
type Binding struct {
	Namespace string
	ID        string
}
