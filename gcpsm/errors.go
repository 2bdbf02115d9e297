package gcpsm

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tokenstore-go/tokenstore"
)

// Error mapping, in one place. The service's messages name resources (secret
// IDs, which hold token IDs, and version numbers), never payloads, so they
// are kept as the cause. UNAVAILABLE and RESOURCE_EXHAUSTED never get here
// unless the client's retryer gave up; see New.

// code returns the gRPC code of err, or codes.OK for nil.
func code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	var s interface{ GRPCStatus() *status.Status }
	if errors.As(err, &s) {
		return s.GRPCStatus().Code()
	}
	return status.Code(err)
}

// mapError maps the error of a call on a secret.
func mapError(err error, doing, id string) error {
	switch code(err) {
	case codes.NotFound:
		return fmt.Errorf("gcpsm: %s %s: %w: %w", doing, id, tokenstore.ErrNotFound, err)
	case codes.AlreadyExists, codes.FailedPrecondition, codes.Aborted:
		// FAILED_PRECONDITION is an etag that no longer matches.
		return fmt.Errorf("gcpsm: %s %s: %w: %w", doing, id, tokenstore.ErrConflict, err)
	}
	return fmt.Errorf("gcpsm: %s %s: %w", doing, id, err)
}

// mapAccessError maps the error of AccessSecretVersion on the current
// version. NOT_FOUND is a missing secret or a secret without the current
// alias (half-created): absent either way. FAILED_PRECONDITION is a current
// version someone disabled by hand: neither absent nor a conflict.
func mapAccessError(err error, id string) error {
	switch code(err) {
	case codes.NotFound:
		return fmt.Errorf("gcpsm: reading %s: %w: %w", id, tokenstore.ErrNotFound, err)
	case codes.FailedPrecondition:
		return fmt.Errorf("gcpsm: reading %s: the current version is not enabled: %w", id, err)
	}
	return fmt.Errorf("gcpsm: reading %s: %w", id, err)
}

// mapAddError maps the error of AddSecretVersion. Names are valid by
// construction and the size was checked, so INVALID_ARGUMENT is the payload
// limit of the service (which may be lower than the documented one).
func mapAddError(err error, id string) error {
	if code(err) == codes.InvalidArgument {
		return fmt.Errorf("gcpsm: adding a version to %s: %w: %w", id, tokenstore.ErrTooLarge, err)
	}
	return mapError(err, "adding a version to", id)
}
