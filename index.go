package tokenstore

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"hash"
	"strconv"
	"sync"
)

// Index values and derived IDs are keyed hashes (HMAC-SHA-256 under
// Options.IndexKey), never raw values: tags and labels are readable by anyone
// with list permission, and an unkeyed hash of an email address is reversed
// by a dictionary. The namespace is hashed in too, so one user is not
// correlated across namespaces that share a key.

// lowerBase32 fits the tightest backend: GCP label values are lowercase
// [a-z0-9_-] of at most 63 characters; 32 bytes take 52.
var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Domain separation: an ID never equals an index value of the same key.
const (
	domainIndex = "tokenstore/index/v1"
	domainID    = "tokenstore/id/v1"
)

// idBytes is the length of a derived ID's hash: 128 bits, 26 characters.
const idBytes = 16

// hasher computes keyed hashes; hmac instances are pooled because creating
// one allocates and hashes the key twice.
type hasher struct {
	pool sync.Pool
}

func newHasher(key []byte) *hasher {
	key = append([]byte(nil), key...)
	return &hasher{pool: sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

// sum hashes the length-prefixed parts, so that no two part lists collide.
func (h *hasher) sum(dst []byte, parts ...string) []byte {
	m := h.pool.Get().(hash.Hash)
	var n [binary.MaxVarintLen64]byte
	for _, p := range parts {
		m.Write(n[:binary.PutUvarint(n[:], uint64(len(p)))])
		m.Write([]byte(p))
	}
	dst = m.Sum(dst)
	m.Reset()
	h.pool.Put(m)
	return dst
}

// indexValue is the hash stored for one lookup key.
func (h *hasher) indexValue(ns string, k lookupKey) string {
	var buf [sha256.Size]byte
	return lowerBase32.EncodeToString(h.sum(buf[:0], domainIndex, ns, string(k.kind), k.value))
}

// index returns the hashes of t's lookup keys.
func (h *hasher) index(ns string, t *Token) Index {
	var ix Index
	hashOf := func(kind IndexKind, v string) string {
		if v == "" {
			return ""
		}
		return h.indexValue(ns, lookupKey{kind, v})
	}
	ix.UserName = hashOf(IndexUserName, t.UserName)
	ix.AccessToken = hashOf(IndexAccessToken, t.AccessToken)
	ix.GrantToken = hashOf(IndexGrantToken, t.GrantToken)
	ix.RefreshToken = hashOf(IndexRefreshToken, t.RefreshToken)
	return ix
}

// derivedID is the ID of a new token created by key k. Slot n > 0 is used
// only when slot n-1 holds another token (one whose refresh token has since
// rotated, say), so racing processes still agree on the target.
func (h *hasher) derivedID(ns string, k lookupKey, slot int) string {
	var buf [sha256.Size]byte
	sum := h.sum(buf[:0], domainID, ns, string(k.kind), k.value, strconv.Itoa(slot))
	return lowerBase32.EncodeToString(sum[:idBytes])
}

// MaxIDLength is the longest valid token ID.
const MaxIDLength = 128

// ValidID reports whether id matches ^[A-Za-z0-9_-]{1,128}$, the intersection
// of what AWS, GCP and Vault accept in a name: no path traversal, no filter
// injection.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validNamespace reports whether ns fits every backend: GCP label values are
// lowercase, and a namespace without '_' leaves '_' free to separate it from
// an ID inside one secret name.
func validNamespace(ns string) bool {
	if len(ns) == 0 || len(ns) > maxNamespaceLength {
		return false
	}
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

const maxNamespaceLength = 40
