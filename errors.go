package tokenstore

import (
	"errors"
	"strings"
)

// Sentinel errors, for errors.Is. Store wraps them in an *Error that names
// the operation, the backend and the token ID, never a token value.
var (
	// ErrNotFound: no token matches, or no token has the ID.
	ErrNotFound = errors.New("token not found")
	// ErrInvalidToken: a nil token, or a query or new token that identifies no
	// user (Zoho: "Given user authentication details not found").
	ErrInvalidToken = errors.New("token identifies no user")
	// ErrInvalidID: an ID outside ^[A-Za-z0-9_-]{1,128}$, the characters
	// every supported secret manager accepts in a name.
	ErrInvalidID = errors.New("invalid token ID")
	// ErrConflict: a concurrent change won every retry, or a save would give
	// a second ID to a user already stored.
	ErrConflict = errors.New("conflicting concurrent change")
	// ErrTooLarge: the encoded token exceeds the size a secret can hold.
	ErrTooLarge = errors.New("token too large")
	// ErrCorrupt: a stored value is truncated, tampered with, of an unknown
	// format version, or bound to another secret. Codecs wrap it.
	ErrCorrupt = errors.New("stored token is corrupt")
	// ErrInvalidOptions: Options that New cannot use.
	ErrInvalidOptions = errors.New("invalid options")
)

// Errors of a TokenSource, for errors.Is.
var (
	// ErrReauthorize: the stored token can no longer be renewed — the
	// provider rejected its refresh or grant token (invalid_grant), it has
	// neither, or there is no stored token — and no other process stored a
	// newer one. The user must authorize again.
	ErrReauthorize = errors.New("the user must authorize again")
	// ErrWaitTimeout: another process held the refresh lease for longer than
	// TokenSourceOptions.WaitTimeout without storing a new token.
	ErrWaitTimeout = errors.New("timed out waiting for another process to renew the token")
)

// Error is the error of a Store operation.
type Error struct {
	Op      string // the Store method, such as "SaveToken"
	Backend string // the backend's Name
	ID      string // the token ID, when known
	Err     error  // the cause; wraps a sentinel error where one applies
}

// Error describes the failure with the operation, backend and ID first; it
// never holds a token value.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("tokenstore: ")
	b.WriteString(e.Op)
	if e.Backend != "" {
		b.WriteString(" on ")
		b.WriteString(e.Backend)
	}
	if e.ID != "" {
		b.WriteString(" id=")
		b.WriteString(e.ID)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
