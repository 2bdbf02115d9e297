package codec

import (
	"errors"
	"fmt"

	"github.com/tokenstore-go/tokenstore"
)

// Errors of Decode for values that are damaged, tampered with or misplaced.
// Each wraps tokenstore.ErrCorrupt, so callers that need not tell them apart
// test for that. None carries any part of a token.
var (
	// ErrTruncated: the value ends before it is complete.
	ErrTruncated = fmt.Errorf("codec: truncated value: %w", tokenstore.ErrCorrupt)
	// ErrMalformed: the value is not in any format this package writes.
	ErrMalformed = fmt.Errorf("codec: malformed value: %w", tokenstore.ErrCorrupt)
	// ErrUnknownVersion: the value is of a format version this package does
	// not know, probably written by a newer release.
	ErrUnknownVersion = fmt.Errorf("codec: unknown format version: %w", tokenstore.ErrCorrupt)
	// ErrWrongSecret: the value names another secret or namespace than the
	// one it was read from; it was copied there.
	ErrWrongSecret = fmt.Errorf("codec: value belongs to another secret: %w", tokenstore.ErrCorrupt)
	// ErrTampered: a sealed value fails authentication: its bytes were
	// changed after sealing.
	ErrTampered = fmt.Errorf("codec: sealed value fails authentication: %w", tokenstore.ErrCorrupt)
	// ErrWrongKey: the wrapping key that a sealed value names does not
	// unwrap its data key, so the wrapped key was altered, or the key now
	// under that ID is not the one that wrapped it. KeyWrapper.Unwrap
	// returns it (wrapped or not) for a data key that fails authentication.
	ErrWrongKey = fmt.Errorf("codec: data key does not unwrap under the key the value names: %w", tokenstore.ErrCorrupt)
)

// Errors of Decode for intact values that this Codec is not configured to
// read. They do not wrap tokenstore.ErrCorrupt: the value is fine, and a
// Store must not treat it as a damaged entry to skip or replace.
var (
	// ErrUnknownKey: the value is sealed under a wrapping key that none of
	// the Codec's wrappers has (or the Codec is Plain). The error names
	// the key ID. Add a wrapper for it to Options.Wrappers.
	ErrUnknownKey = errors.New("codec: value is sealed under a key this codec does not have")
	// ErrNotSealed: a sealing Codec read a value in the plain format
	// without Options.AllowPlain.
	ErrNotSealed = errors.New("codec: value is not sealed and the codec does not allow plain values")
)

// ErrInvalidField: Encode was given a token the format cannot hold, such as
// text that is not UTF-8 in the plain format. The error names the field,
// never its value. It does not wrap tokenstore.ErrCorrupt: nothing stored is
// wrong.
var ErrInvalidField = errors.New("codec: token field cannot be encoded")
