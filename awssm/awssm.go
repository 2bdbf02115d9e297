package awssm

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/tokenstore-go/tokenstore"
)

// Client is the part of *secretsmanager.Client that the backend uses. Tests
// may substitute their own; *secretsmanager.Client satisfies it.
type Client interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	ListSecrets(ctx context.Context, in *secretsmanager.ListSecretsInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error)
	BatchGetSecretValue(ctx context.Context, in *secretsmanager.BatchGetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.BatchGetSecretValueOutput, error)
	CreateSecret(ctx context.Context, in *secretsmanager.CreateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	TagResource(ctx context.Context, in *secretsmanager.TagResourceInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.TagResourceOutput, error)
	UntagResource(ctx context.Context, in *secretsmanager.UntagResourceInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.UntagResourceOutput, error)
	DeleteSecret(ctx context.Context, in *secretsmanager.DeleteSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	RestoreSecret(ctx context.Context, in *secretsmanager.RestoreSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.RestoreSecretOutput, error)
}

var _ Client = (*secretsmanager.Client)(nil)

// Options configures a Backend. The namespace, index key and codec are
// tokenstore.Options: they are the same for every backend.
type Options struct {
	// Prefix starts every secret name: a secret is named Prefix + namespace
	// + "/" + ID. Letters, digits and /_+=.@- only, at most 128
	// characters. Default "tokenstore/".
	Prefix string

	// RecoveryWindowInDays is how long a deleted token's secret can be
	// restored (7 to 30 days; 0 means Secrets Manager's default of 30).
	// Saving a token whose secret is scheduled for deletion restores the
	// secret and writes the new token over the deleted one.
	RecoveryWindowInDays int

	// ForceDelete deletes secrets without a recovery window, so a deleted
	// token cannot be restored from the console. It costs one more call
	// per delete (see the package doc).
	ForceDelete bool

	// KMSKeyID, if set, is the KMS key (ID, ARN or alias) that Secrets
	// Manager encrypts new secrets with; default the account's
	// aws/secretsmanager key. It does not change existing secrets.
	KMSKeyID string

	// MaxAttempts bounds the SDK's attempts of each call: throttling,
	// 5xx and network errors are retried by the SDK's standard retryer
	// with exponential backoff and jitter. Default 8 (the SDK's is 3); a
	// negative value keeps the retryer the client was built with.
	MaxAttempts int

	// MaxBackoff bounds the SDK retryer's wait between attempts. Default
	// 20s, the SDK's.
	MaxBackoff time.Duration
}

// Defaults of Options.
const (
	DefaultPrefix      = "tokenstore/"
	DefaultMaxAttempts = 8
	DefaultMaxBackoff  = 20 * time.Second
	maxPrefixLength    = 128
)

// Backend keeps each token in one AWS Secrets Manager secret. It is safe
// for concurrent use.
type Backend struct {
	c       Client
	opts    Options
	retryer aws.Retryer // nil: the client's own
}

var _ tokenstore.Backend = (*Backend)(nil)

// New returns a backend over c, usually
// secretsmanager.NewFromConfig(cfg). Use it with tokenstore.New.
func New(c Client, opts Options) (*Backend, error) {
	if c == nil {
		return nil, fmt.Errorf("awssm: nil Client: %w", tokenstore.ErrInvalidOptions)
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if !validPrefix(opts.Prefix) {
		return nil, fmt.Errorf("awssm: Prefix %q: want 1 to %d of letters, digits and /_+=.@-: %w", opts.Prefix, maxPrefixLength, tokenstore.ErrInvalidOptions)
	}
	if opts.RecoveryWindowInDays != 0 && (opts.RecoveryWindowInDays < 7 || opts.RecoveryWindowInDays > 30) {
		return nil, fmt.Errorf("awssm: RecoveryWindowInDays %d: want 7 to 30, or 0 for 30: %w", opts.RecoveryWindowInDays, tokenstore.ErrInvalidOptions)
	}
	if opts.ForceDelete && opts.RecoveryWindowInDays != 0 {
		return nil, fmt.Errorf("awssm: ForceDelete and RecoveryWindowInDays exclude each other: %w", tokenstore.ErrInvalidOptions)
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	b := &Backend{c: c, opts: opts}
	if opts.MaxAttempts > 0 {
		// One retryer for every call, so its retry quota (a token bucket
		// that stops retry storms when the service is down) is shared.
		b.retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = opts.MaxAttempts
			so.MaxBackoff = opts.MaxBackoff
		})
	}
	return b, nil
}

// Name returns "awssm".
func (b *Backend) Name() string { return "awssm" }

// callOpts applies the backend's retryer to one call, leaving the caller's
// client as it was.
func (b *Backend) callOpts(o *secretsmanager.Options) {
	if b.retryer != nil {
		o.Retryer = b.retryer
	}
}

// name maps (namespace, id) to a secret name. Namespaces hold no '/' and
// IDs no '/', so the separator keeps names apart, also for namespaces that
// are prefixes of each other.
func (b *Backend) name(ns, id string) string {
	return b.opts.Prefix + ns + "/" + id
}

// nsPrefix is the name prefix of a namespace's secrets.
func (b *Backend) nsPrefix(ns string) string { return b.opts.Prefix + ns + "/" }

// Tag keys. Values are the namespace and the index hashes: never a token
// value or anything a hash was computed from.
const (
	tagNamespace = "tokenstore:namespace"
	tagPrefix    = "tokenstore:"
)

func tagKey(kind tokenstore.IndexKind) string { return tagPrefix + string(kind) }

var kinds = [...]tokenstore.IndexKind{tokenstore.IndexUserName, tokenstore.IndexAccessToken, tokenstore.IndexGrantToken, tokenstore.IndexRefreshToken}

// tags returns the namespace tag and one tag per index kind present.
func tags(ns string, ix tokenstore.Index) []types.Tag {
	t := []types.Tag{{Key: aws.String(tagNamespace), Value: aws.String(ns)}}
	for kind, v := range ix.All() {
		t = append(t, types.Tag{Key: aws.String(tagKey(kind)), Value: aws.String(v)})
	}
	return t
}

// Get reads the secret's current version. A secret scheduled for deletion
// is not found: deleted is deleted to the caller.
func (b *Backend) Get(ctx context.Context, ns, id string) (*tokenstore.Entry, error) {
	out, err := b.c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(b.name(ns, id))}, b.callOpts)
	if err != nil {
		return nil, mapError("GetSecretValue", err)
	}
	return entryOf(id, out.SecretString, out.SecretBinary, aws.ToString(out.VersionId)), nil
}

// entryOf builds the entry of one secret version.
func entryOf(id string, str *string, bin []byte, versionID string) *tokenstore.Entry {
	var raw []byte
	if str != nil {
		raw = []byte(*str)
	} else {
		raw = bin // not ours; the codec will say so
	}
	value, ix := parseValue(raw)
	return &tokenstore.Entry{ID: id, Value: value, Index: ix, Version: makeVersion(versionID, ix)}
}

// Create makes the secret, value and tags in one call. If the name is
// scheduled for deletion, it restores the secret and writes e over it.
func (b *Backend) Create(ctx context.Context, ns string, e *tokenstore.Entry) error {
	w := newWrite()
	value, err := formatValue(e, w)
	if err != nil {
		return err
	}
	name := b.name(ns, e.ID)
	in := &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		SecretString: aws.String(value),
		Tags:         tags(ns, e.Index),
		// Random per call, so the SDK's retries of this call are
		// idempotent while another Create of the name still conflicts.
		ClientRequestToken: aws.String(uuidOf(w[:])),
	}
	if b.opts.KMSKeyID != "" {
		in.KmsKeyId = aws.String(b.opts.KMSKeyID)
	}
	_, err = b.c.CreateSecret(ctx, in, b.callOpts)
	if err == nil {
		return nil
	}
	if !isCode(err, codeResourceExists) && !isCode(err, codeInvalidRequest) {
		return mapError("CreateSecret", err)
	}
	// The name exists, or is scheduled for deletion: AWS answers
	// InvalidRequestException for that, moto ResourceExistsException.
	return b.revive(ctx, ns, e, err)
}

// revive restores a secret scheduled for deletion and writes e over it, as
// a compare-and-swap on the version that was current when it was deleted:
// of several processes creating the token at once, one wins and the others
// get ErrConflict and continue as updates. The deleted token is not merged
// into the new one; deleted is deleted. A secret that is not scheduled for
// deletion gives ErrConflict.
func (b *Backend) revive(ctx context.Context, ns string, e *tokenstore.Entry, createErr error) error {
	name := b.name(ns, e.ID)
	d, err := b.c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)}, b.callOpts)
	if err != nil {
		if errors.Is(mapError("DescribeSecret", err), tokenstore.ErrNotFound) {
			// Deleted since: let the Store try the create again.
			return fmt.Errorf("awssm: CreateSecret %s: %w", name, tokenstore.ErrConflict)
		}
		return errors.Join(mapError("CreateSecret", createErr), mapError("DescribeSecret", err))
	}
	if d.DeletedDate == nil {
		if isCode(createErr, codeResourceExists) {
			return fmt.Errorf("awssm: secret %s exists: %w", name, tokenstore.ErrConflict)
		}
		return mapError("CreateSecret", createErr)
	}
	var current string
	for v, stages := range d.VersionIdsToStages {
		for _, s := range stages {
			if s == "AWSCURRENT" {
				current = v
			}
		}
	}
	if _, err := b.c.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String(name)}, b.callOpts); err != nil {
		return mapError("RestoreSecret", err)
	}
	// The restored tags are the deleted token's: replace them all.
	return b.put(ctx, ns, e, current, "")
}

// Update writes a new version if the current one is still e.Version, then
// changes the tags whose index values changed.
func (b *Backend) Update(ctx context.Context, ns string, e *tokenstore.Entry) error {
	versionID, tagState, ok := parseVersion(e.Version)
	if !ok {
		return fmt.Errorf("awssm: version %q is not one this backend wrote: %w", e.Version, tokenstore.ErrConflict)
	}
	return b.put(ctx, ns, e, versionID, tagState)
}

// put writes e as the version after prev, compare-and-swap: the version's
// ClientRequestToken is derived from prev, so every writer that read prev
// sends the same token, and Secrets Manager accepts it once. The values
// differ (each write carries a random write ID), so a second writer gets
// ResourceExistsException instead of the idempotent success that an
// identical value would get; retries of one call by the SDK resend the same
// value and succeed. tagState describes the tags the version prev had, or
// is "" when unknown.
func (b *Backend) put(ctx context.Context, ns string, e *tokenstore.Entry, prev, tagState string) error {
	value, err := formatValue(e, newWrite())
	if err != nil {
		return err
	}
	name := b.name(ns, e.ID)
	_, err = b.c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(name),
		SecretString:       aws.String(value),
		ClientRequestToken: aws.String(casToken(name, prev)),
	}, b.callOpts)
	if err != nil {
		return mapError("PutSecretValue", err)
	}
	if err := b.syncTags(ctx, ns, name, e.Index, tagState); err != nil {
		// The value is written; only finds by index can miss it until
		// its index changes again.
		return fmt.Errorf("awssm: %s: value saved, index tags not: %w", name, err)
	}
	return nil
}

// syncTags brings the tags of a secret whose tags were in state old to ix:
// nothing when the index did not change, else one TagResource for the kinds
// present, and an UntagResource only when kinds were removed.
func (b *Backend) syncTags(ctx context.Context, ns, name string, ix tokenstore.Index, old string) error {
	oldMask, ok := maskOf(old)
	if ok && old == tagStateOf(ix) {
		return nil
	}
	if !ok {
		oldMask = 1<<len(kinds) - 1 // unknown: remove every absent kind
	}
	if _, err := b.c.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String(name), Tags: tags(ns, ix)}, b.callOpts); err != nil {
		return mapError("TagResource", err)
	}
	var remove []string
	for i, kind := range kinds {
		if oldMask&(1<<i) != 0 && ix.Get(kind) == "" {
			remove = append(remove, tagKey(kind))
		}
	}
	if len(remove) == 0 {
		return nil
	}
	if _, err := b.c.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String(name), TagKeys: remove}, b.callOpts); err != nil {
		return mapError("UntagResource", err)
	}
	return nil
}

// Delete deletes the secret with the configured recovery window. A secret
// already scheduled for deletion is not found.
func (b *Backend) Delete(ctx context.Context, ns, id string) error {
	name := b.name(ns, id)
	in := &secretsmanager.DeleteSecretInput{SecretId: aws.String(name)}
	if b.opts.RecoveryWindowInDays != 0 {
		in.RecoveryWindowInDays = aws.Int64(int64(b.opts.RecoveryWindowInDays))
	}
	if b.opts.ForceDelete {
		// A forced delete succeeds whether or not the secret exists, so
		// schedule the deletion first: that fails for a missing or
		// already deleted secret, and of concurrent deleters only one
		// succeeds.
		in.RecoveryWindowInDays = aws.Int64(7)
	}
	if _, err := b.c.DeleteSecret(ctx, in, b.callOpts); err != nil {
		return mapError("DeleteSecret", err)
	}
	if !b.opts.ForceDelete {
		return nil
	}
	_, err := b.c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), ForceDeleteWithoutRecovery: aws.Bool(true)}, b.callOpts)
	if err != nil && !errors.Is(mapError("DeleteSecret", err), tokenstore.ErrNotFound) {
		return mapError("DeleteSecret", err)
	}
	return nil
}

// batchSize is the most values BatchGetSecretValue returns per call.
const batchSize = 20

// Lookup returns the namespace's secrets tagged with value for kind. Tag
// filters are prefix matches and a tag-key filter does not pair with a
// tag-value filter, so each result is checked against the index in its
// value; the Store then checks the decoded token.
func (b *Backend) Lookup(ctx context.Context, ns string, kind tokenstore.IndexKind, value string) ([]*tokenstore.Entry, error) {
	all, err := b.batchGet(ctx, ns, []types.Filter{
		{Key: types.FilterNameStringTypeName, Values: []string{b.nsPrefix(ns)}},
		{Key: types.FilterNameStringTypeTagKey, Values: []string{tagKey(kind)}},
		{Key: types.FilterNameStringTypeTagValue, Values: []string{value}},
	})
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, e := range all {
		if e.Index.Get(kind) == value {
			out = append(out, e)
		}
	}
	return out, nil
}

// List returns every secret of the namespace: named with its prefix and
// tagged with it.
func (b *Backend) List(ctx context.Context, ns string) ([]*tokenstore.Entry, error) {
	return b.batchGet(ctx, ns, []types.Filter{
		{Key: types.FilterNameStringTypeName, Values: []string{b.nsPrefix(ns)}},
		{Key: types.FilterNameStringTypeTagKey, Values: []string{tagNamespace}},
		{Key: types.FilterNameStringTypeTagValue, Values: []string{ns}},
	})
}

// batchGet reads the values of the secrets that filters select, 20 a call.
// The name filter is a prefix match that ignores case, so each name is
// checked again exactly: the namespace is the part of the name between the
// prefix and the only other '/'.
func (b *Backend) batchGet(ctx context.Context, ns string, filters []types.Filter) ([]*tokenstore.Entry, error) {
	var out []*tokenstore.Entry
	p := secretsmanager.NewBatchGetSecretValuePaginator(b.c, &secretsmanager.BatchGetSecretValueInput{
		Filters:    filters,
		MaxResults: aws.Int32(batchSize),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, b.callOpts)
		if isCode(err, codeInvalidRequest) && deletedMessage(err) {
			// moto (5.2) fails the whole call when a selected secret is
			// scheduled for deletion, where ListSecrets leaves it out.
			return b.listThenGet(ctx, ns, filters)
		}
		if err != nil {
			return nil, listError("BatchGetSecretValue", err)
		}
		if out, err = b.collect(out, ns, page); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// listThenGet is batchGet in two steps: ListSecrets, which skips secrets
// scheduled for deletion, then BatchGetSecretValue by name, 20 a call.
func (b *Backend) listThenGet(ctx context.Context, ns string, filters []types.Filter) ([]*tokenstore.Entry, error) {
	var names []string
	p := secretsmanager.NewListSecretsPaginator(b.c, &secretsmanager.ListSecretsInput{Filters: filters})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, b.callOpts)
		if err != nil {
			return nil, listError("ListSecrets", err)
		}
		for _, s := range page.SecretList {
			names = append(names, aws.ToString(s.Name))
		}
	}
	var out []*tokenstore.Entry
	for chunk := range slices.Chunk(names, batchSize) {
		page, err := b.c.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: chunk}, b.callOpts)
		if err != nil {
			return nil, listError("BatchGetSecretValue", err)
		}
		if out, err = b.collect(out, ns, page); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// collect appends the entries of one BatchGetSecretValue page.
func (b *Backend) collect(out []*tokenstore.Entry, ns string, page *secretsmanager.BatchGetSecretValueOutput) ([]*tokenstore.Entry, error) {
	for _, pe := range page.Errors {
		switch aws.ToString(pe.ErrorCode) {
		case codeNotFound, codeInvalidRequest:
			// Deleted, or scheduled for deletion, since it was selected:
			// not a token any more.
		default:
			return nil, fmt.Errorf("awssm: BatchGetSecretValue: secret %s: %s: %s",
				aws.ToString(pe.SecretId), aws.ToString(pe.ErrorCode), aws.ToString(pe.Message))
		}
	}
	prefix := b.nsPrefix(ns)
	for _, sv := range page.SecretValues {
		id, ok := strings.CutPrefix(aws.ToString(sv.Name), prefix)
		if !ok || !tokenstore.ValidID(id) {
			continue
		}
		out = append(out, entryOf(id, sv.SecretString, sv.SecretBinary, aws.ToString(sv.VersionId)))
	}
	return out, nil
}

// writeID tells apart the values of two writes; see put.
type writeID [16]byte

// newWrite returns a random write ID. crypto/rand.Read does not fail (the
// program crashes if the system's source does).
func newWrite() writeID {
	var w writeID
	rand.Read(w[:])
	return w
}

func (w writeID) String() string { return hex.EncodeToString(w[:]) }

// casToken is the ClientRequestToken of the version after prev: the same
// for every writer that read prev.
func casToken(name, prev string) string {
	h := sha256.New()
	h.Write([]byte("tokenstore awssm version after\x00"))
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(prev))
	return uuidOf(h.Sum(nil))
}

// uuidOf formats 16 bytes of b as a UUID (version 4 layout), the form AWS
// recommends for ClientRequestToken (32 to 64 characters).
func uuidOf(b []byte) string {
	var u [16]byte
	copy(u[:], b)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	x := hex.EncodeToString(u[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

func validPrefix(p string) bool {
	if len(p) == 0 || len(p) > maxPrefixLength {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("/_+=.@-", c) >= 0) {
			return false
		}
	}
	return true
}
