package codec

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tokenstore-go/tokenstore"
)

// Codec implements tokenstore.Codec: Plain writes the plain format, New a
// codec that seals. It is safe for concurrent use, and one Codec may serve
// several Stores and namespaces.
type Codec struct {
	wrappers   []KeyWrapper // [0] seals; empty for Plain
	byID       map[string]KeyWrapper
	allowPlain bool
	maxUses    int
	maxAge     time.Duration
	cache      *keyCache
	writers    sync.Map // namespace → *writer
	now        func() time.Time
}

var _ tokenstore.Codec = (*Codec)(nil)

// Options configures a sealing Codec. The defaults suit a service that
// saves each token about once an hour (OAuth access tokens live that long):
// a few key-service calls per process per hour, whatever the number of
// tokens.
type Options struct {
	// Wrappers wrap and unwrap data keys. The first, the primary, wraps
	// every new data key; all of them unwrap the keys of values recorded
	// under their KeyID. To rotate, put the new key first and keep the old
	// one after it until no value is Stale under it. At least one.
	Wrappers []KeyWrapper

	// DataKeyMaxUses bounds the values one data key seals. Default
	// DefaultDataKeyMaxUses; 1 wraps a new data key for every write.
	DataKeyMaxUses int
	// DataKeyMaxAge bounds how long one data key seals new values.
	// Default DefaultDataKeyMaxAge.
	DataKeyMaxAge time.Duration

	// CacheSize bounds the unwrapped data keys kept for reading. Default
	// DefaultCacheSize.
	CacheSize int
	// CacheTTL bounds how long an unwrapped data key is kept; a key
	// disabled in the key service stops opening values here after at
	// most this long. Default DefaultCacheTTL.
	CacheTTL time.Duration

	// AllowPlain makes Decode accept values in the plain format, so that
	// tokens stored before sealing was turned on keep working and are
	// sealed on their next save (Stale reports them). Off by default:
	// whoever can write a secret but not use the key could otherwise plant
	// a token of their choosing, and sealing would no longer vouch for
	// what Decode returns. Turn it on to migrate, and off again once no
	// plain value is left. Without it a plain value gives ErrNotSealed.
	AllowPlain bool
}

// Defaults of Options.
const (
	// DefaultDataKeyMaxUses is far below the 2^32 messages that random
	// GCM nonces allow under one key.
	DefaultDataKeyMaxUses = 10_000
	DefaultDataKeyMaxAge  = 15 * time.Minute
	DefaultCacheSize      = 1000
	DefaultCacheTTL       = 15 * time.Minute
)

// Plain returns the codec that writes the plain format. Secret managers
// encrypt at rest; the plain format adds no encryption of its own. It
// cannot open sealed values (ErrUnknownKey).
func Plain() *Codec { return &Codec{} }

// New returns a codec that seals every token it encodes, under data keys
// wrapped by opts.Wrappers[0]. Invalid options give an error wrapping
// tokenstore.ErrInvalidOptions.
func New(opts Options) (*Codec, error) {
	invalid := func(format string, args ...any) (*Codec, error) {
		return nil, fmt.Errorf("codec: "+format+": %w", append(args, tokenstore.ErrInvalidOptions)...)
	}
	if len(opts.Wrappers) == 0 {
		return invalid("no key wrapper (use Plain for a codec without encryption)")
	}
	c := &Codec{
		wrappers:   append([]KeyWrapper(nil), opts.Wrappers...),
		byID:       make(map[string]KeyWrapper, len(opts.Wrappers)),
		allowPlain: opts.AllowPlain,
		maxUses:    opts.DataKeyMaxUses,
		maxAge:     opts.DataKeyMaxAge,
		now:        time.Now,
	}
	for i, w := range c.wrappers {
		if w == nil {
			return invalid("key wrapper %d is nil", i)
		}
		id := w.KeyID()
		if id == "" || len(id) > maxKeyIDLength {
			return invalid("key wrapper %d has a key ID of %d bytes, want 1 to %d", i, len(id), maxKeyIDLength)
		}
		if _, dup := c.byID[id]; dup {
			return invalid("two key wrappers have the key ID %q", id)
		}
		c.byID[id] = w
	}
	for _, o := range []struct {
		name string
		v    *int
		def  int
	}{
		{"DataKeyMaxUses", &c.maxUses, DefaultDataKeyMaxUses},
		{"CacheSize", &opts.CacheSize, DefaultCacheSize},
	} {
		if *o.v < 0 {
			return invalid("negative %s", o.name)
		}
		if *o.v == 0 {
			*o.v = o.def
		}
	}
	for _, o := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"DataKeyMaxAge", &c.maxAge, DefaultDataKeyMaxAge},
		{"CacheTTL", &opts.CacheTTL, DefaultCacheTTL},
	} {
		if *o.v < 0 {
			return invalid("negative %s", o.name)
		}
		if *o.v == 0 {
			*o.v = o.def
		}
	}
	c.cache = newKeyCache(opts.CacheSize, opts.CacheTTL, func() time.Time { return c.now() })
	return c, nil
}

// sealing reports whether c seals what it encodes.
func (c *Codec) sealing() bool { return len(c.wrappers) > 0 }

// Encode serializes t for the secret b names: sealed if c was made by New,
// else in the plain format. t.ID is ignored.
func (c *Codec) Encode(ctx context.Context, t *tokenstore.Token, b tokenstore.Binding) ([]byte, error) {
	if c.sealing() {
		return c.seal(ctx, t, b)
	}
	return encodePlain(t, b)
}

// Decode parses a value read from the secret b names, in either format,
// and sets the token's ID to b.ID. See the package doc for its errors.
func (c *Codec) Decode(ctx context.Context, data []byte, b tokenstore.Binding) (*tokenstore.Token, error) {
	switch {
	case len(data) == 0:
		return nil, ErrTruncated
	case data[0] == '{':
		if c.sealing() && !c.allowPlain {
			return nil, ErrNotSealed
		}
		return decodePlain(data, b)
	case bytes.HasPrefix(data, []byte(sealedPrefix)):
		// A plain codec has no keys: it reports a damaged or copied value
		// as such, and an intact one with ErrUnknownKey.
		return c.open(ctx, data, b)
	case bytes.HasPrefix([]byte(sealedPrefix), data):
		return nil, ErrTruncated
	}
	return nil, ErrMalformed
}

// Stale reports whether data is not in the form Encode writes now: a plain
// value when c seals, a sealed one when it does not, or a value sealed under
// another key than the primary or in an older format version. A Store then
// rewrites the value on its next save, even if the token is unchanged.
func (c *Codec) Stale(data []byte) bool {
	switch {
	case len(data) > 0 && data[0] == '{':
		return c.sealing()
	case bytes.HasPrefix(data, []byte(sealedPrefix)):
		return !c.sealing() || c.staleSealed(data)
	}
	return true
}
