package codec

import (
	"errors"
	"fmt"

	"github.com/tokenstore-go/tokenstore"
)

// Errors of Decode. Each wraps tokenstore.ErrCorrupt, so callers that need
// not tell them apart test for that.
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
)

// ErrInvalidField: Encode was given a token the format cannot hold, such as
// text that is not UTF-8 in the plain format. The error names the field,
// never its value. It does not wrap tokenstore.ErrCorrupt: nothing stored is
// wrong.
var ErrInvalidField = errors.New("codec: token field cannot be encoded")
