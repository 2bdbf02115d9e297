// Package gcpsm keeps OAuth tokens in Google Cloud Secret Manager: a
// tokenstore.Backend with one secret per token, and KMSKeyWrapper, which
// wraps the sealed codec's data keys with Cloud KMS. Package gcpsmtest is an
// in-process fake of both services for tests, since Google offers no
// emulator.
//
//	client, err := secretmanager.NewClient(ctx) // cloud.google.com/go/secretmanager/apiv1
//	b, err := gcpsm.New(client, gcpsm.Options{Project: "my-project"})
//	store, err := tokenstore.New(b, tokenstore.Options{
//		Namespace: "crm-prod",
//		IndexKey:  indexKey, // 32 random bytes, the same in every process
//		Codec:     codec.Plain(),
//	})
//
// The namespace, the index key and the codec are options of the Store, not
// of this package (the issue that asked for this package predates that
// split): one backend serves stores of several namespaces.
//
// # Secrets
//
// A token with ID id in namespace ns is the secret
// projects/P/secrets/<Prefix><ns>_<id> (Prefix defaults to "tokenstore-").
// Namespaces hold no '_', so the first '_' after the prefix ends the
// namespace and no two (namespace, ID) pairs share a secret, even when one
// namespace is a prefix of another. With Options.Location the secrets are
// regional, projects/P/locations/L/secrets/...; regional secrets are served
// by a regional endpoint, which the client must be built for:
//
//	client, err := secretmanager.NewClient(ctx,
//		option.WithEndpoint("secretmanager.europe-west1.rep.googleapis.com:443"))
//
// Labels, all with the "tokenstore_" prefix, carry the namespace, a random
// incarnation of the secret, and one keyed hash per lookup key the token has
// (user, access, grant, refresh): 52 characters of lowercase base32 that fit
// the label rules whatever the user name's alphabet or case, and reveal
// nothing without the index key. ListSecrets finds a namespace's tokens
// with the filter labels.tokenstore_ns="NS", and the tokens of a lookup key
// with labels.tokenstore_ns="NS" AND labels.tokenstore_user="HASH" (say).
// Labels of other prefixes and version aliases other than
// "tokenstore-current" are the user's and are kept.
//
// The payload of a version is a one-line header (incarnation and index
// values), then the codec's output; see gcpsm.go for why, and for the
// compare-and-swap built on the "tokenstore-current" alias and the secret's
// etag. After every update the superseded version is destroyed, so one
// version per token is billed however often it is refreshed.
//
// # API calls per operation
//
// Counted on the client by a gRPC interceptor against gcpsmtest
// (TestAPICallsPerOperation):
//
//	FindTokenByID                        1  AccessSecretVersion
//	FindToken, by the key that created   1  AccessSecretVersion
//	FindToken, by another key            3  AccessSecretVersion (miss), ListSecrets, AccessSecretVersion per match
//	SaveToken, unchanged                 1  AccessSecretVersion
//	SaveToken, changed (a refresh)       4  AccessSecretVersion, AddSecretVersion, UpdateSecret, DestroySecretVersion
//	  ...when another process wrote last 5  + GetSecret
//	SaveToken, new token                 5  AccessSecretVersion, ListSecrets, CreateSecret, AddSecretVersion, UpdateSecret
//	DeleteToken                          1  DeleteSecret
//	GetTokens, n tokens                  ceil(n/25000) ListSecrets + n AccessSecretVersion, Parallelism at a time
//
// A changed save costs the same whether index values change or not: the
// labels ride in the UpdateSecret that commits the write. Losing a race
// costs one more AddSecretVersion and DestroySecretVersion, or nothing when
// the winner is in the same process.
//
// UNAVAILABLE and RESOURCE_EXHAUSTED are retried with exponential backoff by
// the client's retryer (gax), through call options; Options.CallOptions
// replaces or extends them.
//
// # IAM
//
// The backend calls secretmanager.secrets.create, .get, .update, .delete
// and .list, and secretmanager.versions.add, .access, .destroy and .list
// (the last only to clean up after a creator that died half-way).
// roles/secretmanager.admin holds them all; a custom role with just these,
// granted with the IAM condition
// resource.name.startsWith("projects/PROJECT_NUMBER/secrets/tokenstore-"),
// confines the service to its tokens. KMSKeyWrapper needs
// roles/cloudkms.cryptoKeyEncrypterDecrypter on its key.
//
// # Limits
//
// A payload is at most 65536 bytes, the header included (about 280 bytes
// of it); a larger token fails with tokenstore.ErrTooLarge before any call.
// Secret Manager's quotas (per project and minute) apply to the calls
// above; Options.Parallelism bounds how many reads GetTokens and DeleteTokens
// make at once.
package gcpsm
