// Package hashivault keeps tokens in HashiCorp Vault: a tokenstore.Backend
// on the KV version 2 secrets engine, and a codec.KeyWrapper on the Transit
// engine for envelope encryption under a key that never leaves Vault.
//
//	client, err := api.NewClient(api.DefaultConfig()) // VAULT_ADDR, VAULT_TOKEN
//	if err != nil { ... }
//	b, err := hashivault.New(client, hashivault.Options{Mount: "secret", Prefix: "tokenstore"})
//	if err != nil { ... }
//	store, err := tokenstore.New(b, tokenstore.Options{
//		Namespace: "crm", IndexKey: indexKey, Codec: codec.Plain(),
//	})
//
// The store's namespace, index key and codec are tokenstore.Options, the
// same for every backend; Options here hold what is Vault's own (mount,
// prefix, versions kept, Enterprise namespace, parallelism). Issue 5 listed
// them all as backend options; that predates the split.
//
// # Layout
//
// Under the KV v2 mount, with p the Prefix and ns the store's namespace:
//
//	p/ns/tokens/<id>                    {"value": codec output, "index": {"user": hash, ...}}
//	p/ns/index/<kind>/<hash>/<id>       {"id": id}
//
// A token's custom_metadata holds its index hashes too (kind → hash), so an
// auditor with metadata access sees what the cloud backends show as tags,
// without read access to values; its max_versions is Options.MaxVersions.
// Hashes are keyed HMACs, 52 characters of base32: a path segment as they
// are, and useless without the index key. Namespaces are folders, so "a"
// and "a-x" never share one, and nothing outside p/ns/ is ever touched.
//
// # Concurrency and consistency
//
// Writes use KV v2 check-and-set: a create writes with cas=0, so of racing
// creators (Store derives one ID per user) exactly one wins and the others
// get tokenstore.ErrConflict and retry as updates; an update is a PATCH
// with cas set to the version it read ("check-and-set parameter did not
// match the current version" → ErrConflict). A PATCH of a missing secret is
// a 404, where a cas write answers a mismatch and would need a read to tell
// ErrNotFound apart: one request saved on every lost race. Entry.Version is
// the KV version number followed by the hashes of the version read
// (":"-separated): Store passes Update only the new index and the version,
// and the old hashes tell Update which index entries to delete without
// another read.
//
// The token's index is kept in its data, versioned and written under the
// same cas as the value; that copy is the truth. Vault has no search, so
// each hash also has index entries, one per token that has it (so two
// entries with one value, such as a copied secret, are both found, and
// writing an entry never contends with another token's). Entries are
// written after the token's write succeeds, so a lost race writes none, and
// deleted after it: a crash in between, or a concurrent update, leaves an
// entry that points to a token without that hash (or to none). Lookup
// reads the token every entry points to, returns only tokens whose own
// index has the hash (and Store still decodes and checks the real field),
// and deletes the stale entry. KV v2 has no conditional delete, so after
// deleting entries a read of the token restores any of them that a
// concurrent update brought back in between: concurrent writers never
// leave a hash without its entry.
//
// KV v2 has no transaction over several secrets, and every order of writes
// leaves something behind when the process dies between two of them. This
// order leaves stale entries, which cost nothing, except in one place: a
// crash after a token's write and before its new entries leaves the token
// unfound by those new values (still found by ID and by the key it was
// created with) until they change again or the token is deleted.
//
// A token whose latest version was deleted or destroyed by hand reads as
// absent, and a save writes a new version over it.
//
// # Requests per operation
//
// Counted on the HTTP client against a real Vault server (see
// integration/hashivault):
//
//	Store operation                       requests
//	FindTokenByID                         1 read
//	FindToken, by the key it was saved by 1 read (of the ID derived from the key)
//	FindToken, by another key             3: read of the derived ID (404), LIST of the index folder, read of the token
//	SaveToken, existing, same index       2: read, cas patch
//	SaveToken, existing, index changed    2 + 1 custom_metadata write + 1 per new hash + 1 per hash gone (+1 read if any is gone)
//	SaveToken, new token by user name     2 (read, LIST: not found) + cas write, metadata write, 1 per hash
//	DeleteToken                           2 + 1 per hash: read, index deletes, metadata delete
//	GetTokens, n tokens                   1 LIST + n reads, Parallelism at once
//
// FindToken by another key costs 3 rather than 2 because Store first reads
// the ID that key would have derived (a token created by that key is found
// there, consistently, in one read); only then it searches the index.
//
// # Policy
//
// A Vault token for a store needs, with m the mount, p the prefix and ns the
// namespace (or * for all):
//
//	path "m/data/p/ns/*"     { capabilities = ["create", "read", "update", "patch"] }
//	path "m/metadata/p/ns/*" { capabilities = ["create", "read", "update", "delete", "list"] }
//
// A permission denied is an error wrapping ErrPermissionDenied that names the
// operation and the path, never a token value. Read-only stores (read and
// list) can find and list tokens, and their saves fail before any write.
//
// # Transit
//
// TransitKeyWrapper wraps the codec's data keys with Transit encrypt and
// decrypt on a named key (one request each; the codec caches data keys, so
// that is about one encrypt per process per DataKeyMaxAge and one decrypt
// per data key read, not per token). The codec's associated data goes as
// both associated_data and context, so an AEAD key binds each wrapped data
// key to its namespace whether or not it is derived, and a derived key
// (recommended: `vault write -f transit/keys/NAME derived=true`) adds a key
// per namespace. Its policy:
//
//	path "transit/encrypt/NAME" { capabilities = ["update"] }
//	path "transit/decrypt/NAME" { capabilities = ["update"] }
//
// Rotate with `vault write -f transit/keys/NAME/rotate`: new data keys are
// wrapped under the new version and every ciphertext names its version
// ("vault:v1:..."), so older ones still unwrap and KeyID stays the same.
package hashivault
