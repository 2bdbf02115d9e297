package hashivault

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/tokenstore-go/tokenstore"
)

// ErrPermissionDenied: the Vault token's policies do not allow an operation
// on a path. Errors that wrap it name the operation and the path (never the
// token) so the missing policy rule is plain to see.
var ErrPermissionDenied = errors.New("permission denied by Vault policy")

// casMismatch is how KV v2 answers a write whose cas is not the current
// version (400; Vault has no status code of its own for it).
const casMismatch = "check-and-set parameter did not match the current version"

// Error is an error of one Vault request.
type Error struct {
	Op     string   // what the backend was doing, such as "create token"
	Path   string   // the Vault path: mount, prefix, namespace, ID or index hash
	Status int      // the HTTP status, 0 if Vault did not answer
	Errors []string // Vault's error messages

	kind  error // the sentinel it maps to, if any
	cause error // the client's error
}

// Error names the operation and the Vault path, never a token value.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hashivault: %s %s: ", e.Op, e.Path)
	switch {
	case e.kind == ErrPermissionDenied:
		b.WriteString("permission denied: the Vault token's policies must allow this path")
	case e.Status != 0:
		fmt.Fprintf(&b, "Vault answered %d", e.Status)
		if len(e.Errors) > 0 {
			b.WriteString(": ")
			b.WriteString(strings.Join(e.Errors, "; "))
		}
	default:
		b.WriteString(e.cause.Error())
	}
	return b.String()
}

// Unwrap returns the sentinel error the failure maps to (tokenstore's
// ErrNotFound, ErrConflict, ErrTooLarge, or ErrPermissionDenied) and the
// client's error, an *api.ResponseError when Vault answered.
func (e *Error) Unwrap() []error {
	if e.kind == nil {
		return []error{e.cause}
	}
	return []error{e.kind, e.cause}
}

// mapError maps a Vault client error onto the sentinel errors. Vault's
// messages name paths and policies, never secret values, so they are kept.
func mapError(op, path string, err error) error {
	if err == nil {
		return nil
	}
	e := &Error{Op: op, Path: path, cause: err}
	var re *api.ResponseError
	if !errors.As(err, &re) {
		return e
	}
	e.Status, e.Errors = re.StatusCode, re.Errors
	switch {
	case re.StatusCode == 404:
		e.kind = tokenstore.ErrNotFound
	case re.StatusCode == 400 && hasMessage(re.Errors, casMismatch):
		e.kind = tokenstore.ErrConflict
	case re.StatusCode == 403:
		e.kind = ErrPermissionDenied
	case re.StatusCode == 413:
		e.kind = tokenstore.ErrTooLarge
	}
	return e
}

// notFound is the error of a read that found nothing: the client answers a
// 404 with a nil secret rather than an error.
func notFound(op, path string) error {
	return &Error{Op: op, Path: path, Status: 404, kind: tokenstore.ErrNotFound, cause: tokenstore.ErrNotFound}
}

func hasMessage(msgs []string, substr string) bool {
	for _, m := range msgs {
		if strings.Contains(m, substr) {
			return true
		}
	}
	return false
}
