package codec

import (
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
