package awssm_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/awssm"
	"github.com/tokenstore-go/tokenstore/codec"
)

// user returns a complete token for user n.
func user(n int) *tokenstore.Token {
	s := func(f string) string { return strings.ReplaceAll(f, "N", string(rune('a'+n))) }
	return &tokenstore.Token{
		UserName:     s("ada-N@example.com:6000N"),
		ClientID:     "1000.CLIENTID",
		ClientSecret: "client-secret-value",
		RefreshToken: s("1000.refresh-N.9f8e"),
		AccessToken:  s("1000.access-N.7d6c"),
		GrantToken:   s("1000.grant-N.5b4a"),
		APIDomain:    "https://www.zohoapis.eu",
	}
}

func secretName(ns, id string) string { return testPrefix + ns + "/" + id }

// TestCompareAndSwap: two updates from one read version, even with equal
// values: one wins, the other gets ErrConflict; an update from the version
// the winner wrote succeeds.
func TestCompareAndSwap(t *testing.T) {
	ctx := t.Context()
	b := newBackend(t, nil, awssm.Options{})
	ns := newNamespace(t)
	if err := b.Create(ctx, ns, &tokenstore.Entry{ID: "cas", Value: []byte(`{"n":0}`)}); err != nil {
		t.Fatal(err)
	}
	read, err := b.Get(ctx, ns, "cas")
	if err != nil {
		t.Fatal(err)
	}
	for _, second := range []string{`{"n":2}`, `{"n":1}`} {
		next := &tokenstore.Entry{ID: "cas", Value: []byte(`{"n":1}`), Version: read.Version}
		if err := b.Update(ctx, ns, next); err != nil {
			t.Fatalf("first Update from version %s: %v", read.Version, err)
		}
		other := &tokenstore.Entry{ID: "cas", Value: []byte(second), Version: read.Version}
		if err := b.Update(ctx, ns, other); !errors.Is(err, tokenstore.ErrConflict) {
			t.Errorf("second Update (value %s) from the same version = %v, want ErrConflict", second, err)
		}
		got, err := b.Get(ctx, ns, "cas")
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Value) != `{"n":1}` {
			t.Errorf("value = %s, want the first writer's", got.Value)
		}
		read = got
	}
}

// TestIdenticalValueIsIdempotent shows why every write carries a random
// write ID: with the ClientRequestToken derived from the version replaced,
// Secrets Manager (and moto) accepts a second PutSecretValue with the same
// token and the same value as a retry, so two writers that computed the
// same value from the same read would both succeed, and one increment of a
// counter would be lost.
func TestIdenticalValueIsIdempotent(t *testing.T) {
	ctx := t.Context()
	c := smClient(t, nil)
	name := secretName(newNamespace(t), "raw")
	if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("0")}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { forceDelete(t, c, name) })
	const token = "3b1d4f0e-8d2c-4c7a-9a51-1f0e2d3c4b5a"
	put := func(v string) error {
		_, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(v), ClientRequestToken: aws.String(token)})
		return err
	}
	if err := put("1"); err != nil {
		t.Fatal(err)
	}
	if err := put("1"); err != nil {
		t.Errorf("same token, same value: %v; want the idempotent success this backend guards against", err)
	}
	var rex *types.ResourceExistsException
	if err := put("2"); !errors.As(err, &rex) {
		t.Errorf("same token, other value: %v; want ResourceExistsException", err)
	}
}

func forceDelete(t *testing.T, c *secretsmanager.Client, name string) {
	// t.Context is canceled by the time cleanups run.
	_, err := c.DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), ForceDeleteWithoutRecovery: aws.Bool(true)})
	if err != nil {
		t.Errorf("cleanup of %s: %v", name, err)
	}
}

// TestScheduledDeletion: with a recovery window, a deleted token is gone to
// the store, and saving it again restores the secret and writes the new
// token, without the deleted token's fields.
func TestScheduledDeletion(t *testing.T) {
	ctx := t.Context()
	b := newBackend(t, nil, awssm.Options{RecoveryWindowInDays: 7})
	ns := newNamespace(t)
	s := newStore(t, b, ns)
	a := user(1)
	if err := s.SaveToken(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteToken(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	c := smClient(t, nil)
	t.Cleanup(func() { forceDelete(t, c, secretName(ns, a.ID)) })
	d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretName(ns, a.ID))})
	if err != nil {
		t.Fatal(err)
	}
	if d.DeletedDate == nil {
		t.Fatal("DeleteToken with a recovery window did not schedule the deletion")
	}
	if _, err := s.FindTokenByID(ctx, a.ID); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("FindTokenByID of a token scheduled for deletion = %v, want ErrNotFound", err)
	}
	if _, err := s.FindToken(ctx, &tokenstore.Token{UserName: a.UserName}); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("FindToken of a token scheduled for deletion = %v, want ErrNotFound", err)
	}
	if err := s.DeleteToken(ctx, a.ID); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("DeleteToken of a token scheduled for deletion = %v, want ErrNotFound", err)
	}
	again := &tokenstore.Token{UserName: a.UserName, AccessToken: "1000.access-after-restore"}
	if err := s.SaveToken(ctx, again); err != nil {
		t.Fatalf("SaveToken of a user whose secret is scheduled for deletion: %v", err)
	}
	if again.ID != a.ID {
		t.Errorf("saved under %s, want the derived ID %s", again.ID, a.ID)
	}
	got, err := s.FindTokenByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != again.AccessToken || got.RefreshToken != "" || got.ClientSecret != "" {
		t.Errorf("restored token = %v; want the new token alone, none of the deleted one's fields", got)
	}
	d, err = c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretName(ns, a.ID))})
	if err != nil {
		t.Fatal(err)
	}
	if d.DeletedDate != nil {
		t.Error("the secret is still scheduled for deletion")
	}
	// The deleted token's tags are gone: its refresh token finds nothing.
	if tagged := tagsOf(d.Tags); tagged["tokenstore:refresh"] != "" || tagged["tokenstore:grant"] != "" {
		t.Errorf("restored secret kept the deleted token's index tags: %v", tagged)
	}
	all, err := s.GetTokens(ctx)
	if err != nil || len(all) != 1 {
		t.Errorf("GetTokens after the restore = %d tokens, %v; want 1", len(all), err)
	}
}

func tagsOf(tags []types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// TestForeignSecrets plants secrets under the namespace's name prefix that
// are not this store's: without the namespace tag, with another
// namespace's tag, with our tags but a garbage value, and a secret of a
// namespace whose name starts with ours. GetTokens returns none of them and
// DeleteTokens deletes none.
func TestForeignSecrets(t *testing.T) {
	ctx := t.Context()
	b := newBackend(t, nil, awssm.Options{})
	c := smClient(t, nil)
	ns := newNamespace(t)
	s := newStore(t, b, ns)
	a := user(1)
	if err := s.SaveToken(ctx, a); err != nil {
		t.Fatal(err)
	}
	ours, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretName(ns, a.ID))})
	if err != nil {
		t.Fatal(err)
	}
	userTag := types.Tag{Key: aws.String("tokenstore:user"), Value: aws.String(hashTag(t, c, secretName(ns, a.ID), "tokenstore:user"))}
	nsTag := func(v string) types.Tag {
		return types.Tag{Key: aws.String("tokenstore:namespace"), Value: aws.String(v)}
	}
	foreign := []struct {
		name  string
		value string
		tags  []types.Tag
	}{
		{secretName(ns, "no-namespace-tag"), aws.ToString(ours.SecretString), []types.Tag{userTag}},
		{secretName(ns, "other-namespace-tag"), aws.ToString(ours.SecretString), []types.Tag{nsTag(ns + "x"), userTag}},
		{secretName(ns, "garbage"), "not a token", []types.Tag{nsTag(ns), userTag}},
		{secretName(ns+"-x", "longer-namespace"), aws.ToString(ours.SecretString), []types.Tag{nsTag(ns), userTag}},
		{secretName(ns, "sub/path"), aws.ToString(ours.SecretString), []types.Tag{nsTag(ns), userTag}},
	}
	for _, f := range foreign {
		if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(f.name), SecretString: aws.String(f.value), Tags: f.tags}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { forceDelete(t, c, f.name) })
	}
	all, err := s.GetTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].ID != a.ID {
		t.Errorf("GetTokens = %v, want only %s", all, a.ID)
	}
	got, err := s.FindToken(ctx, &tokenstore.Token{UserName: a.UserName})
	if err != nil || got.ID != a.ID {
		t.Errorf("FindToken = %v, %v; want %s", got, err, a.ID)
	}
	if err := s.DeleteTokens(ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range foreign {
		d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(f.name)})
		if err != nil || d.DeletedDate != nil {
			t.Errorf("DeleteTokens deleted the foreign secret %s (%v)", f.name, err)
		}
	}
	if _, err := s.FindTokenByID(ctx, a.ID); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("DeleteTokens left the store's own token: %v", err)
	}
}

// hashTag returns the value of one tag of a secret.
func hashTag(t *testing.T, c *secretsmanager.Client, name, key string) string {
	d, err := c.DescribeSecret(t.Context(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	v := tagsOf(d.Tags)[key]
	if v == "" {
		t.Fatalf("%s has no tag %s", name, key)
	}
	return v
}

// TestTamperedValue: a secret value changed behind the store's back gives
// the codec's error, which wraps ErrCorrupt.
func TestTamperedValue(t *testing.T) {
	ctx := t.Context()
	b := newBackend(t, nil, awssm.Options{})
	c := smClient(t, nil)
	ns := newNamespace(t)
	s := newStore(t, b, ns)
	a := user(1)
	if err := s.SaveToken(ctx, a); err != nil {
		t.Fatal(err)
	}
	name := secretName(ns, a.ID)
	cur, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	value := aws.ToString(cur.SecretString)
	for _, tc := range []struct {
		what  string
		value string
		want  error
	}{
		{"token moved to another namespace", strings.Replace(value, `"ns":"`+ns+`"`, `"ns":"`+ns+`x"`, 1), codec.ErrWrongSecret},
		{"token cut short", value[:strings.Index(value, `"token":`)+20] + "}", codec.ErrMalformed},
		{"value replaced", "plain text", codec.ErrMalformed},
	} {
		if tc.value == value {
			t.Fatalf("%s: tampering changed nothing", tc.what)
		}
		if _, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(tc.value)}); err != nil {
			t.Fatal(err)
		}
		_, err := s.FindTokenByID(ctx, a.ID)
		if !errors.Is(err, tc.want) || !errors.Is(err, tokenstore.ErrCorrupt) {
			t.Errorf("%s: FindTokenByID = %v, want %v", tc.what, err, tc.want)
		}
	}
}

// TestTagsHoldNoInput: secret names and tags hold the namespace, IDs and
// 52-character hashes, never a token value or anything a hash was
// computed from.
func TestTagsHoldNoInput(t *testing.T) {
	ctx := t.Context()
	b := newBackend(t, nil, awssm.Options{})
	c := smClient(t, nil)
	ns := newNamespace(t)
	s := newStore(t, b, ns)
	var secrets []string
	for i := range 3 {
		u := user(i)
		if err := s.SaveToken(ctx, u); err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, u.UserName, u.RefreshToken, u.AccessToken, u.GrantToken, u.ClientSecret,
			strings.Split(u.UserName, "@")[0], strings.Split(u.UserName, ":")[1])
	}
	refreshOnly := &tokenstore.Token{ClientID: "1000.CLIENTID", ClientSecret: "client-secret-value", RefreshToken: "1000.refresh-only.5d1e"}
	if err := s.SaveToken(ctx, refreshOnly); err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, refreshOnly.RefreshToken)
	hash := regexp.MustCompile(`^[a-z2-7]{52}$`)
	p := secretsmanager.NewListSecretsPaginator(c, &secretsmanager.ListSecretsInput{Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{testPrefix + ns + "/"}}}})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range page.SecretList {
			n++
			strs := []string{aws.ToString(sec.Name), aws.ToString(sec.Description)}
			for k, v := range tagsOf(sec.Tags) {
				strs = append(strs, k, v)
				switch {
				case k == "tokenstore:namespace":
					if v != ns {
						t.Errorf("namespace tag = %q, want %q", v, ns)
					}
				case strings.HasPrefix(k, "tokenstore:"):
					if !hash.MatchString(v) {
						t.Errorf("tag %s = %q, want a 52-character hash", k, v)
					}
				default:
					t.Errorf("unexpected tag %s", k)
				}
			}
			for _, str := range strs {
				for _, sec := range secrets {
					if strings.Contains(str, sec) {
						t.Errorf("%q holds the secret %q", str, sec)
					}
				}
			}
		}
	}
	if n != 4 {
		t.Errorf("listed %d secrets, want 4", n)
	}
}

// TestOptions: New rejects options Secrets Manager would reject later.
func TestOptions(t *testing.T) {
	c := smClient(t, nil)
	for _, opts := range []awssm.Options{
		{Prefix: "bad prefix"},
		{Prefix: strings.Repeat("p", 129)},
		{RecoveryWindowInDays: 6},
		{RecoveryWindowInDays: 31},
		{RecoveryWindowInDays: 7, ForceDelete: true},
	} {
		if _, err := awssm.New(c, opts); !errors.Is(err, tokenstore.ErrInvalidOptions) {
			t.Errorf("New(%+v) = %v, want ErrInvalidOptions", opts, err)
		}
	}
	if _, err := awssm.New(nil, awssm.Options{}); !errors.Is(err, tokenstore.ErrInvalidOptions) {
		t.Errorf("New(nil client) = %v, want ErrInvalidOptions", err)
	}
}
