package awssm_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/awssm"
)

// TestCallCounts counts the Secrets Manager requests of each Store
// operation with a middleware on the SDK client, logs them as a table and
// holds them to their bounds; beside them, what a naive adapter
// (ListSecrets, then GetSecretValue per secret) costs for the same reads.
func TestCallCounts(t *testing.T) {
	ctx := t.Context()
	c := newCalls()
	b := newBackend(t, c, awssm.Options{})
	s := newStore(t, b, newNamespace(t))
	a := user(1)
	var rows []string
	step := func(op string, max int, fn func() error) {
		t.Helper()
		c.take()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		n := c.take()
		rows = append(rows, fmt.Sprintf("| %-55s | %3d | %3d | %s |", op, total(n), max, format(n)))
		if total(n) > max {
			t.Errorf("%s made %d calls (%s), want at most %d", op, total(n), format(n), max)
		}
	}
	step("SaveToken, new user", 3, func() error { return s.SaveToken(ctx, a) })
	step("SaveToken, unchanged", 1, func() error { return s.SaveToken(ctx, user(1)) })
	step("SaveToken, changed, same index (by user name)", 2, func() error {
		return s.SaveToken(ctx, &tokenstore.Token{UserName: a.UserName, Expiry: time.UnixMilli(2_000_000_000_000)})
	})
	step("SaveToken, refresh: new access token (by ID)", 3, func() error {
		return s.SaveToken(ctx, &tokenstore.Token{ID: a.ID, AccessToken: "1000.access-refreshed", Expiry: time.UnixMilli(2_000_003_600_000)})
	})
	step("Update, grant token dropped (tag + untag)", 4, func() error {
		_, err := s.Update(ctx, a.ID, func(t *tokenstore.Token) (*tokenstore.Token, error) {
			t.GrantToken = ""
			return t, nil
		})
		return err
	})
	step("FindTokenByID", 1, func() error { _, err := s.FindTokenByID(ctx, a.ID); return err })
	step("FindToken, by the key it was created with", 1, func() error {
		_, err := s.FindToken(ctx, &tokenstore.Token{UserName: a.UserName})
		return err
	})
	step("FindToken, by another key (refresh token)", 2, func() error {
		_, err := s.FindToken(ctx, &tokenstore.Token{ClientID: a.ClientID, ClientSecret: a.ClientSecret, RefreshToken: a.RefreshToken})
		return err
	})
	step("DeleteToken (ForceDelete)", 2, func() error { return s.DeleteToken(ctx, a.ID) })

	// 100 tokens, deleted with a recovery window: one DeleteSecret each.
	rb := newBackend(t, c, awssm.Options{RecoveryWindowInDays: 7})
	ns := newNamespace(t)
	rs := newStore(t, rb, ns)
	const n = 100
	for i := range n {
		if err := rs.SaveToken(ctx, &tokenstore.Token{ID: fmt.Sprintf("tok-%03d", i), AccessToken: fmt.Sprintf("1000.access-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	step("GetTokens, 100 tokens", 6, func() error {
		all, err := rs.GetTokens(ctx)
		if err == nil && len(all) != n {
			err = fmt.Errorf("got %d tokens", len(all))
		}
		return err
	})
	step("naive adapter: ListSecrets + GetSecretValue each, 100", 101, func() error {
		got, err := naiveGetTokens(ctx, smClient(t, c), testPrefix+ns+"/")
		if err == nil && len(got) != n {
			err = fmt.Errorf("got %d values", len(got))
		}
		return err
	})
	step("DeleteTokens, 100 tokens (recovery window)", 106, func() error { return rs.DeleteTokens(ctx) })
	t.Logf("Secrets Manager calls per operation, against moto:\n| %-55s | %3s | %3s | %s |\n%s", "operation", "n", "max", "calls", strings.Join(rows, "\n"))
}

// naiveGetTokens is what an adapter without BatchGetSecretValue does.
func naiveGetTokens(ctx context.Context, c *secretsmanager.Client, prefix string) ([]string, error) {
	var values []string
	p := secretsmanager.NewListSecretsPaginator(c, &secretsmanager.ListSecretsInput{
		Filters:    []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{prefix}}},
		MaxResults: aws.Int32(100),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range page.SecretList {
			v, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: s.Name})
			if err != nil {
				return nil, err
			}
			values = append(values, aws.ToString(v.SecretString))
		}
	}
	return values, nil
}
