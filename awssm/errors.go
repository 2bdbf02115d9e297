package awssm

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/tokenstore-go/tokenstore"
)

// Error codes of Secrets Manager that the backend acts on.
const (
	codeNotFound       = "ResourceNotFoundException"
	codeResourceExists = "ResourceExistsException"
	codeInvalidRequest = "InvalidRequestException"
	codeLimitExceeded  = "LimitExceededException"
	codeTooLarge       = "ValidationException" // an oversized request body
)

// ErrLimitExceeded: a Secrets Manager quota stopped a write, such as the
// versions per secret (which PutSecretValue more often than every 10
// minutes reaches), the tags per secret or the secrets per account. The
// error names the quota in AWS's words.
var ErrLimitExceeded = errors.New("awssm: a Secrets Manager quota was exceeded")

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// deletedMessage tells InvalidRequestException's "marked for deletion"
// apart from its other causes; AWS and moto word it with "delet".
func deletedMessage(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && strings.Contains(strings.ToLower(ae.ErrorMessage()), "delet")
}

// mapError maps an error of the Secrets Manager call op onto the sentinel
// errors of tokenstore. AWS messages name secrets and versions, never
// secret values, so the cause is kept for the caller to read.
func mapError(op string, err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("awssm: %s: %w", op, err)
	}
	switch code := ae.ErrorCode(); {
	case code == codeNotFound:
		return fmt.Errorf("awssm: %s: %w: %w", op, tokenstore.ErrNotFound, err)
	case code == codeInvalidRequest && deletedMessage(err):
		// Scheduled for deletion: deleted, to the caller.
		return fmt.Errorf("awssm: %s: secret scheduled for deletion: %w: %w", op, tokenstore.ErrNotFound, err)
	case code == codeResourceExists:
		return fmt.Errorf("awssm: %s: %w: %w", op, tokenstore.ErrConflict, err)
	case code == codeLimitExceeded:
		return fmt.Errorf("awssm: %s: %w (%s): %w", op, ErrLimitExceeded, ae.ErrorMessage(), err)
	case code == codeTooLarge && strings.Contains(strings.ToLower(ae.ErrorMessage()), "length"):
		return fmt.Errorf("awssm: %s: %w: %w", op, tokenstore.ErrTooLarge, err)
	}
	return fmt.Errorf("awssm: %s: %w", op, err)
}

// listError maps an error of a call that reads many secrets: none of the
// sentinel errors applies to the list as a whole.
func listError(op string, err error) error {
	return fmt.Errorf("awssm: %s: %w", op, err)
}
