// Package awssm keeps tokenstore tokens in AWS Secrets Manager, one secret
// per token, and wraps the sealed codec's data keys with AWS KMS
// (KMSKeyWrapper).
//
// Build the SDK clients as usual (for moto or LocalStack, add
// config.WithBaseEndpoint), then a backend, then a Store over it:
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	if err != nil { ... }
//	b, err := awssm.New(secretsmanager.NewFromConfig(cfg), awssm.Options{
//		RecoveryWindowInDays: 7,
//	})
//	if err != nil { ... }
//	w, err := awssm.NewKMSKeyWrapper(kms.NewFromConfig(cfg), keyARN)
//	if err != nil { ... }
//	sealed, err := codec.New(codec.Options{Wrappers: []codec.KeyWrapper{w}})
//	if err != nil { ... }
//	store, err := tokenstore.New(b, tokenstore.Options{
//		Namespace: "crm", IndexKey: indexKey, Codec: sealed,
//	})
//
// The namespace, index key and codec are tokenstore.Options, the same for
// every backend (issue 4 listed them as awssm options; the architecture
// moved them to the Store). awssm.Options holds what is Secrets Manager's
// own: the name prefix, the delete behaviour, the KMS key of new secrets and
// the SDK retryer's bounds.
//
// # Secrets
//
// A token is the secret named Prefix + namespace + "/" + ID (default prefix
// "tokenstore/"). Namespaces and IDs hold no '/', so names never collide,
// also for namespaces that are prefixes of each other. Its tags are
// "tokenstore:namespace" = the namespace and one "tokenstore:<kind>" =
// 52-character keyed hash per lookup key the token has (user, access, grant,
// refresh): never a token value, nor anything a hash was computed from.
//
// The value is the codec's output inside a small JSON document that also
// holds the index hashes and a random write ID:
//
//	{"tokenstore":"awssm/1","write":"…","index":{"user":"…"},"token":{…codec output…}}
//
// GetSecretValue returns no tags, so the index in the value is what lets one
// call read an entry with its index and lets an update know which tags to
// change without a DescribeSecret call; the tags hold the same hashes for
// BatchGetSecretValue's filters. The write ID makes every write's value
// unique, which the compare-and-swap below needs. The plain codec's JSON is
// embedded as it is, so the console still shows a readable token; the
// document adds about 300 bytes to the 65,536 a secret holds (ErrTooLarge
// beyond).
//
// # Compare-and-swap
//
// An entry's Version is the secret's VersionId (plus a fingerprint of its
// index, see below). An update is one PutSecretValue whose
// ClientRequestToken, which becomes the new VersionId, is a hash of the
// name and the VersionId it replaces: every writer that read one version
// sends the same token. Secrets Manager creates a version for a new token,
// ignores a repeat of a token with the same value, and refuses a token that
// exists with another value (ResourceExistsException, mapped to
// tokenstore.ErrConflict). Because every write's value carries a random
// write ID, two writers never send the same value, so exactly one wins; the
// SDK's own retries of one call resend the same value and stay idempotent.
// Without the write ID, two writers that computed the same value from one
// read would both succeed and an increment would be lost (the integration
// test TestIdenticalValueIsIdempotent shows the service side of this).
// This costs no call beyond the write; the version-stage alternative
// (PutSecretValue under a private stage, then UpdateSecretVersionStage
// moving AWSCURRENT) costs two.
//
// Limits of this scheme: a secret changed outside tokenstore (the console,
// a rotation) gets a VersionId that is not in the chain, and a writer that
// read the version before it is not stopped; and Secrets Manager removes a
// version only when a secret has more than 100 and it is over 24 hours old,
// so a writer would have to stall longer than that to write over a newer
// version.
//
// # Calls per operation
//
// Counted by an SDK middleware against moto (integration/awssm,
// TestCallCounts):
//
//	operation                                   calls
//	FindTokenByID                               1  GetSecretValue
//	FindToken by the key it was created with    1  GetSecretValue
//	FindToken by another key                    2  GetSecretValue (miss), BatchGetSecretValue
//	SaveToken, nothing changed                  1  GetSecretValue
//	SaveToken, changed                          2  GetSecretValue, PutSecretValue
//	  … and an index value changed              +1 TagResource
//	  … and a lookup key removed                +1 UntagResource
//	SaveToken, new user                         3  GetSecretValue (miss), BatchGetSecretValue, CreateSecret
//	DeleteToken                                 1  DeleteSecret (2 with ForceDelete)
//	GetTokens, n tokens                         ⌈n/20⌉ BatchGetSecretValue
//	DeleteTokens, n tokens                      ⌈n/20⌉ + n (+ n with ForceDelete)
//
// A new user costs a lookup because the Store must find a user already
// stored under another ID. Saving a token whose secret is scheduled for
// deletion costs CreateSecret, DescribeSecret, RestoreSecret,
// PutSecretValue, TagResource and UntagResource once; a create that loses a
// race costs one DescribeSecret more (moto reports a name scheduled for
// deletion as existing, AWS as InvalidRequestException, so both are checked).
//
// The Version's index fingerprint is what saves reading the tags: Update
// tags only when the fingerprint changed, and untags only kinds that were
// present. If a tag call fails after the value was written, the error says
// so; finds by a lookup key other than the one the token was created with
// may miss the token until its index changes again (finds by ID and by the
// creating key read the secret by name and are not affected).
//
// # Deletion
//
// DeleteToken schedules the deletion with the recovery window
// (RecoveryWindowInDays, default Secrets Manager's 30 days). A secret
// scheduled for deletion is gone to the Store: reads give ErrNotFound, and
// saving the token again restores the secret and writes the new token over
// the deleted one, never merging the deleted token's fields. With
// ForceDelete a delete is two calls: a scheduled deletion first, because a
// forced DeleteSecret succeeds whether or not the secret exists and could
// not tell ErrNotFound, then the forced one. Should a save restore the
// secret between the two calls, the forced delete removes the new token.
//
// # Lookups and lists
//
// Lookup and List are BatchGetSecretValue with filters (20 values a call):
// name prefix Prefix + namespace + "/", and the tag key and value (the
// namespace tag for List; the kind's tag for Lookup). Filters are prefix
// matches and a tag-key filter does not pair with a tag-value filter, so
// each result is checked again: its name must start with the exact prefix
// and the rest be a valid ID, a Lookup result's own index must hold the
// value, and the Store decodes every entry and compares the real field.
// Results are eventually consistent (a token saved a moment ago may be
// missing); the Store reads by name wherever it can. Per-secret errors of
// BatchGetSecretValue for secrets deleted meanwhile are skipped; any other
// fails the call, naming the secret. moto 5.2 fails a filtered
// BatchGetSecretValue outright when a selected secret is scheduled for
// deletion; then the backend lists with ListSecrets (which leaves such
// secrets out) and reads by name.
//
// # Errors and retries
//
// errors.go maps Secrets Manager errors in one place: ResourceNotFound and
// "scheduled for deletion" to tokenstore.ErrNotFound, ResourceExists to
// ErrConflict, an oversized value to ErrTooLarge, LimitExceededException to
// ErrLimitExceeded with AWS's message naming the quota (versions per
// secret, reached by writing one token more often than every 10 minutes
// for hours; tags; secrets per account). Throttling, 5xx and network errors
// are retried by the SDK's standard retryer with exponential backoff and
// jitter; the backend gives each of its calls a retryer with MaxAttempts
// attempts (default 8) without changing the client.
//
// # IAM
//
// The backend needs, on arn:aws:secretsmanager:REGION:ACCOUNT:secret:PREFIX*:
// secretsmanager:GetSecretValue, CreateSecret, PutSecretValue, TagResource,
// UntagResource, DeleteSecret, DescribeSecret, RestoreSecret; and, on "*"
// (they take no resource), secretsmanager:BatchGetSecretValue and
// ListSecrets. BatchGetSecretValue also checks GetSecretValue on each
// secret. With KMSKeyID, or secrets under a customer managed key:
// kms:Encrypt, kms:Decrypt and kms:GenerateDataKey on that key. The
// KMSKeyWrapper needs kms:Encrypt and kms:Decrypt on its key.
//
// # Names
//
// AWS advises against names ending in a hyphen and six characters, which
// look like the random suffix of an ARN; tokenstore's derived IDs are 26
// base32 characters and never do, but IDs of your choosing may. Reads
// pass the full name, and the codec binds every value to its ID, so a
// mix-up would give ErrCorrupt, not another user's token.
package awssm
