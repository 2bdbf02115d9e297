package awssm

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/tokenstore-go/tokenstore"
)

func TestMapError(t *testing.T) {
	api := func(code, msg string) error {
		return fmt.Errorf("operation error: %w", &smithy.GenericAPIError{Code: code, Message: msg})
	}
	for _, tc := range []struct {
		err  error
		want error
	}{
		{api("ResourceNotFoundException", "Secrets Manager can't find the specified secret."), tokenstore.ErrNotFound},
		{api("InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion."), tokenstore.ErrNotFound},
		{api("InvalidRequestException", "You tried to perform the operation on a secret that's currently marked deleted."), tokenstore.ErrNotFound},
		{api("ResourceExistsException", "You can't use ClientRequestToken x because that value is already in use for a version of secret y."), tokenstore.ErrConflict},
		{api("LimitExceededException", "You have exceeded the maximum number of versions of a secret."), ErrLimitExceeded},
		{api("ValidationException", "Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 65536"), tokenstore.ErrTooLarge},
	} {
		if got := mapError("Op", tc.err); !errors.Is(got, tc.want) {
			t.Errorf("mapError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	for _, err := range []error{
		api("InvalidRequestException", "The KMS key is disabled."),
		api("AccessDeniedException", "not authorized"),
		api("ThrottlingException", "Rate exceeded"),
		errors.New("dial tcp: connection refused"),
	} {
		got := mapError("Op", err)
		for _, s := range []error{tokenstore.ErrNotFound, tokenstore.ErrConflict, tokenstore.ErrTooLarge, ErrLimitExceeded} {
			if errors.Is(got, s) {
				t.Errorf("mapError(%v) = %v, wraps %v", err, got, s)
			}
		}
		if !errors.Is(got, err) {
			t.Errorf("mapError(%v) lost the cause", err)
		}
	}
	if msg := mapError("Op", api("LimitExceededException", "versions per secret")).Error(); !containsAll(msg, "quota", "versions per secret") {
		t.Errorf("limit error %q does not name the limit", msg)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
