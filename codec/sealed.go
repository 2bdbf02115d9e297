package codec

// This file implements the sealed format: envelope encryption of a token.
//
// Keys. A token is encrypted with AES-256-GCM under a data key (DEK) of 32
// random bytes. The DEK is wrapped (encrypted) by a KeyWrapper under a key
// encryption key that a key service or the local configuration holds, and the
// wrapped DEK travels in every value it sealed, so a value is
// self-contained: whoever can unwrap its DEK can open it, and nobody else.
//
// Reuse. Calling a key service once per write or read would cost latency
// and money and hit its quotas, so a DEK is reused: for at most
// Options.DataKeyMaxUses writes and Options.DataKeyMaxAge, per namespace,
// like the AWS Encryption SDK's caching materials manager. Every write draws
// a fresh random 96-bit nonce (cipher.NewGCMWithRandomNonce); the use bound
// keeps the number of messages per DEK far below 2^32, the limit for random
// GCM nonces under one key. Readers keep unwrapped DEKs in a bounded cache
// whose entries expire (keyCache), so a read calls the key service only for
// a DEK it has not seen lately.
//
// Binding. Because one DEK seals many tokens, the data authenticated with
// the DEK cannot name any one secret, while that of the token must:
//
//   - The wrap AAD, handed to the key service with the DEK (its
//     "encryption context"), is "tokenstore/codec/v1 data key; namespace="
//     and the namespace. It binds the DEK to its purpose and namespace (a key
//     policy or an audit log can then scope keys by namespace), and is the
//     same for every token sealed with that DEK.
//   - The GCM AAD of the token's ciphertext is everything in the value before
//     the ciphertext: the text prefix, the format version, the wrapping key's
//     ID, the wrapped DEK, the namespace and the secret's ID. Decode checks
//     the namespace and ID recorded there against the secret being read (a
//     mismatch is ErrWrongSecret) and, because they are authenticated, a
//     value copied to another secret cannot be made to open by editing them:
//     the ciphertext then fails authentication (ErrTampered) or, for an
//     edited namespace, the DEK fails to unwrap under that namespace's wrap
//     AAD (ErrWrongKey). The cache of unwrapped DEKs is keyed by namespace
//     too, so a cached DEK never skips that check.
//
// The recorded namespace and ID are the secret's name and tag, which the
// secret manager shows anyway; keeping them in clear lets Decode tell a
// copied value from a damaged one.
//
// Rotation. The wrapping key's ID is recorded in the value. A Codec holds
// several wrappers: the first (primary) wraps new DEKs, and any of them
// opens values recorded under its ID. Stale reports values under any other
// key (or in the plain format), so that the Store re-seals them on the next
// save and an old key can be retired once no value names it.
//
// Layout, after the text prefix "tokenstore-sealed:" and base64url without
// padding (text, because Vault KV and AWS SecretString hold strings):
//
//	version        1 byte, 1
//	key ID         uvarint length, bytes
//	wrapped DEK    uvarint length, bytes
//	namespace      uvarint length, bytes
//	ID             uvarint length, bytes
//	sealed length  uvarint: 12 + len(payload) + 16
//	sealed         12-byte nonce, AES-256-GCM ciphertext of the payload
//	               (payload.go), 16-byte tag
//
// The sealed length lets Decode tell a truncated value (ErrTruncated) from a
// tampered one (ErrTampered).

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/tokenstore-go/tokenstore"
)

const (
	sealedPrefix  = "tokenstore-sealed:"
	sealedVersion = 1
	gcmOverhead   = 12 + 16 // nonce and tag
	wrapAADPrefix = "tokenstore/codec/v1 data key; namespace="
)

// b64 is strict, so that each value has exactly one text form.
var b64 = base64.RawURLEncoding.Strict()

// wrapAAD is the data authenticated with a DEK by its wrapper.
func wrapAAD(namespace string) []byte {
	return append([]byte(wrapAADPrefix), namespace...)
}

// dataKey is a DEK ready to seal: its AEAD and the part of the header that
// names it (key ID and wrapped DEK, length-prefixed).
type dataKey struct {
	aead  cipher.AEAD
	named []byte
}

// writer holds the DEK that seals a namespace's tokens now.
type writer struct {
	mu      sync.Mutex
	key     *dataKey
	uses    int
	expires time.Time
}

// dataKey returns the DEK to seal one more value of namespace, wrapping a new
// one when the current has been used up or has expired.
func (c *Codec) dataKey(ctx context.Context, namespace string) (*dataKey, error) {
	w, ok := c.writers.Load(namespace)
	if !ok {
		w, _ = c.writers.LoadOrStore(namespace, new(writer))
	}
	wr := w.(*writer)
	wr.mu.Lock()
	defer wr.mu.Unlock()
	if wr.key == nil || wr.uses >= c.maxUses || !c.now().Before(wr.expires) {
		// Other writers of this namespace wait for the key service here:
		// they would need the new key anyway.
		k, err := c.newDataKey(ctx, namespace)
		if err != nil {
			return nil, err
		}
		wr.key, wr.uses, wr.expires = k, 0, c.now().Add(c.maxAge)
	}
	wr.uses++
	return wr.key, nil
}

func (c *Codec) newDataKey(ctx context.Context, namespace string) (*dataKey, error) {
	primary := c.wrappers[0]
	dek := make([]byte, keySize)
	rand.Read(dek) // never fails; it crashes the program if it cannot
	defer clear(dek)
	aead, err := newDataKeyAEAD(dek)
	if err != nil {
		return nil, err
	}
	wrapped, err := primary.Wrap(ctx, dek, wrapAAD(namespace))
	if err != nil {
		return nil, fmt.Errorf("codec: wrap a data key with key %q: %w", primary.KeyID(), err)
	}
	id := primary.KeyID()
	named := make([]byte, 0, 2*binary.MaxVarintLen64+len(id)+len(wrapped))
	named = appendString(named, id)
	named = appendString(named, string(wrapped))
	// The writer reads its own values without unwrapping. The cache key
	// includes the namespace, whose wrap AAD an unwrap would check.
	c.cache.put(string(appendString(bytes.Clone(named), namespace)), aead)
	return &dataKey{aead: aead, named: named}, nil
}

func newDataKeyAEAD(dek []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(dek)
	if err != nil {
		return nil, fmt.Errorf("codec: data key: %w", err)
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// seal encodes t in the sealed format for the secret b names.
func (c *Codec) seal(ctx context.Context, t *tokenstore.Token, b tokenstore.Binding) ([]byte, error) {
	if err := checkToken(t, false); err != nil {
		return nil, err
	}
	k, err := c.dataKey(ctx, b.Namespace)
	if err != nil {
		return nil, err
	}
	psize := payloadSize(t)
	sealedLen := gcmOverhead + psize
	hdrLen := len(sealedPrefix) + 1 + len(k.named) +
		uvarintLen(len(b.Namespace)) + len(b.Namespace) + uvarintLen(len(b.ID)) + len(b.ID) +
		uvarintLen(sealedLen)
	// One buffer: the header (the GCM AAD), the sealed payload after it, and
	// the plaintext payload after that, where Seal cannot overlap it.
	bp := getBuf(hdrLen + sealedLen + psize)
	defer putBuf(bp)
	buf := (*bp)[:0]
	buf = append(buf, sealedPrefix...)
	buf = append(buf, sealedVersion)
	buf = append(buf, k.named...)
	buf = appendString(buf, b.Namespace)
	buf = appendString(buf, b.ID)
	buf = binary.AppendUvarint(buf, uint64(sealedLen))
	hdr := buf
	plain := appendPayload(buf[hdrLen+sealedLen:hdrLen+sealedLen], t)
	buf = k.aead.Seal(buf, nil, plain, hdr)
	clear(plain)

	out := make([]byte, len(sealedPrefix)+b64.EncodedLen(len(buf)-len(sealedPrefix)))
	copy(out, sealedPrefix)
	b64.Encode(out[len(sealedPrefix):], buf[len(sealedPrefix):])
	return out, nil
}

// envelope is a parsed sealed value.
type envelope struct {
	buf       []byte // prefix and decoded binary: buf[:hdrLen] is the GCM AAD
	hdrLen    int
	version   byte
	keyID     []byte
	cacheKey  []byte // key ID, wrapped DEK and namespace, length-prefixed
	wrapped   []byte
	namespace []byte
	id        []byte
}

func (e *envelope) sealed() []byte { return e.buf[e.hdrLen:] }

// bufPool recycles the buffers that seal and open work in, which the
// values they return do not use. Plaintext in them is cleared before they
// go back.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBuf keeps a rare huge value from pinning its buffer.
const maxPooledBuf = 1 << 17

func getBuf(size int) *[]byte {
	bp := bufPool.Get().(*[]byte)
	if cap(*bp) < size {
		*bp = make([]byte, 0, size)
	}
	return bp
}

func putBuf(bp *[]byte) {
	if cap(*bp) <= maxPooledBuf {
		bufPool.Put(bp)
	}
}

// parseEnvelope parses the text and header of a sealed value, which starts
// with sealedPrefix.
func parseEnvelope(data []byte) (*envelope, error) {
	e := new(envelope)
	return e, e.parse(data, nil)
}

// bufSize is the size of a buffer that parse needs for data, with room
// for the plaintext after it.
func bufSize(data []byte) int {
	return len(sealedPrefix) + 2*b64.DecodedLen(len(data))
}

// parse parses data into e, decoding it into buf if buf is large enough.
// When the version is unknown it returns ErrUnknownVersion with e.version
// set.
func (e *envelope) parse(data, buf []byte) error {
	text := bytes.TrimRight(data[len(sealedPrefix):], " \t\r\n")
	// A cut can leave a length no base64 text has; decode what there is
	// and let the recorded length tell what is missing.
	cut := len(text)%4 == 1
	if cut {
		text = text[:len(text)-1]
	}
	if size := len(sealedPrefix) + b64.DecodedLen(len(text)); cap(buf) < size {
		buf = make([]byte, size)
	} else {
		buf = buf[:size]
	}
	copy(buf, sealedPrefix)
	n, err := b64.Decode(buf[len(sealedPrefix):], text)
	if err != nil {
		// A cut inside a quantum leaves stray low bits, which only strict
		// decoding rejects; the recorded length tells whether it was one.
		if n, err = base64.RawURLEncoding.Decode(buf[len(sealedPrefix):], text); err != nil {
			return ErrMalformed
		}
		cut = true
	}
	e.buf = buf[:len(sealedPrefix)+n]
	p := e.buf
	i := len(sealedPrefix)
	if i >= len(p) {
		return ErrTruncated
	}
	e.version = p[i]
	i++
	if e.version != sealedVersion {
		return ErrUnknownVersion
	}
	start := i
	var fields [4][]byte
	for f := range fields {
		l, w := binary.Uvarint(p[i:])
		switch {
		case w == 0 || w > 0 && l > uint64(len(p)-i-w):
			return ErrTruncated
		case w < 0:
			return ErrMalformed
		}
		i += w
		fields[f] = p[i : i+int(l)]
		i += int(l)
		if f == 2 {
			e.cacheKey = p[start:i]
		}
	}
	if len(fields[0]) == 0 || len(fields[0]) > maxKeyIDLength {
		return ErrMalformed
	}
	e.keyID, e.wrapped, e.namespace, e.id = fields[0], fields[1], fields[2], fields[3]
	l, w := binary.Uvarint(p[i:])
	switch {
	case w == 0:
		return ErrTruncated
	case w < 0 || l < gcmOverhead:
		return ErrMalformed
	}
	i += w
	e.hdrLen = i
	switch rest := uint64(len(p) - i); {
	case rest < l:
		return ErrTruncated
	case rest > l || cut:
		return ErrMalformed
	}
	return nil
}

// open decodes a sealed value read from the secret b names.
func (c *Codec) open(ctx context.Context, data []byte, b tokenstore.Binding) (*tokenstore.Token, error) {
	bp := getBuf(bufSize(data))
	defer putBuf(bp)
	var e envelope
	if err := e.parse(data, *bp); err != nil {
		return nil, err
	}
	if string(e.namespace) != b.Namespace || string(e.id) != b.ID {
		return nil, ErrWrongSecret
	}
	wr, ok := c.byID[string(e.keyID)]
	if !ok {
		return nil, fmt.Errorf("%w (key %q)", ErrUnknownKey, e.keyID)
	}
	aead, err := c.cache.getOrLoad(ctx, e.cacheKey, func() (cipher.AEAD, error) {
		return unwrap(ctx, wr, e.wrapped, b.Namespace)
	})
	if err != nil {
		return nil, err
	}
	// Decrypt after the decoded value, in the room bufSize left: in place,
	// GCM would have to copy the nonce out of the way.
	sealed := e.sealed()
	plain, err := aead.Open(e.buf[len(e.buf):len(e.buf)], nil, sealed, e.buf[:e.hdrLen])
	if err != nil {
		return nil, ErrTampered
	}
	t, err := parsePayload(plain)
	clear(plain)
	if err != nil {
		// Authentic but unreadable: written by a broken or newer encoder.
		return nil, ErrMalformed
	}
	t.ID = b.ID
	return t, nil
}

// unwrap asks wr for a data key of namespace and makes its cipher.
func unwrap(ctx context.Context, wr KeyWrapper, wrapped []byte, namespace string) (cipher.AEAD, error) {
	dek, err := wr.Unwrap(ctx, wrapped, wrapAAD(namespace))
	if err != nil {
		return nil, fmt.Errorf("codec: unwrap a data key with key %q: %w", wr.KeyID(), err)
	}
	defer clear(dek)
	if len(dek) != keySize {
		return nil, fmt.Errorf("codec: key %q unwrapped a %d-byte data key, want %d", wr.KeyID(), len(dek), keySize)
	}
	return newDataKeyAEAD(dek)
}

// staleSealed reports whether a sealed value is not as this codec seals
// now: another format version or another wrapping key than the primary.
func (c *Codec) staleSealed(data []byte) bool {
	var e envelope
	return e.parse(data, nil) != nil || len(c.wrappers) == 0 || string(e.keyID) != c.wrappers[0].KeyID()
}
