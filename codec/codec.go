package codec

import (
	"context"

	"github.com/tokenstore-go/tokenstore"
)

// Codec implements tokenstore.Codec.
type Codec struct{}

var _ tokenstore.Codec = (*Codec)(nil)

// Plain returns the codec that writes the plain format. Secret managers
// encrypt at rest; the plain format adds no encryption of its own.
func Plain() *Codec { return &Codec{} }

// Encode serializes t for the secret b names.
func (c *Codec) Encode(_ context.Context, t *tokenstore.Token, b tokenstore.Binding) ([]byte, error) {
	return encodePlain(t, b)
}

// Decode parses a value read from the secret b names.
func (c *Codec) Decode(_ context.Context, data []byte, b tokenstore.Binding) (*tokenstore.Token, error) {
	if len(data) == 0 {
		return nil, ErrTruncated
	}
	if data[0] != '{' {
		return nil, ErrMalformed
	}
	return decodePlain(data, b)
}

// Stale reports whether data is not in the form Encode writes.
func (c *Codec) Stale(data []byte) bool {
	return len(data) == 0 || data[0] != '{'
}
