package hashivault

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/vault/api"
	"golang.org/x/sync/errgroup"

	"github.com/tokenstore-go/tokenstore"
)

// Defaults of Options.
const (
	DefaultMount       = "secret"
	DefaultPrefix      = "tokenstore"
	DefaultMaxVersions = 2
	DefaultParallelism = 8
)

// Options configures the backend. The namespace, index key and codec are
// tokenstore.Options: they are the same for every backend.
type Options struct {
	// Mount is the path of the KV version 2 secrets engine. Default
	// "secret", where `vault server -dev` mounts KV v2.
	Mount string

	// Prefix is the folder under Mount that holds the stores, one
	// subfolder per tokenstore namespace. One or more segments of
	// [A-Za-z0-9_.-] separated by "/". Default "tokenstore".
	Prefix string

	// MaxVersions is the number of versions KV v2 keeps of each token
	// (set in its metadata when it is created): the current one and
	// MaxVersions-1 earlier ones, for rollback by hand. Refresh tokens
	// rotate, so keep it low. Default 2.
	MaxVersions int

	// VaultNamespace is the Vault Enterprise namespace to work in, sent
	// as X-Vault-Namespace on every request; empty means the client's
	// own. It has nothing to do with tokenstore.Options.Namespace.
	VaultNamespace string

	// Parallelism bounds the concurrent reads of List. Default 8.
	Parallelism int
}

// logical is the part of *api.Logical the backend uses.
type logical interface {
	ReadWithContext(ctx context.Context, path string) (*api.Secret, error)
	WriteWithContext(ctx context.Context, path string, data map[string]any) (*api.Secret, error)
	DeleteWithContext(ctx context.Context, path string) (*api.Secret, error)
	ListWithContext(ctx context.Context, path string) (*api.Secret, error)
	JSONMergePatch(ctx context.Context, path string, data map[string]any) (*api.Secret, error)
}

var _ logical = (*api.Logical)(nil)

// Backend stores tokens in a Vault KV version 2 secrets engine. See the
// package doc for the layout. It is safe for concurrent use.
type Backend struct {
	kv          logical
	mount       string
	prefix      string
	maxVersions int
	parallelism int
}

var _ tokenstore.Backend = (*Backend)(nil)

// New returns a backend that uses client, which must carry a token (and an
// address) that the policy in the package doc allows. It makes no request.
func New(client *api.Client, opts Options) (*Backend, error) {
	if client == nil {
		return nil, fmt.Errorf("hashivault: nil client: %w", tokenstore.ErrInvalidOptions)
	}
	if opts.VaultNamespace != "" {
		client = client.WithNamespace(opts.VaultNamespace)
	}
	return newBackend(client.Logical(), opts)
}

func newBackend(kv logical, opts Options) (*Backend, error) {
	if opts.Mount == "" {
		opts.Mount = DefaultMount
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	opts.Mount = strings.Trim(opts.Mount, "/")
	opts.Prefix = strings.Trim(opts.Prefix, "/")
	for name, p := range map[string]string{"Mount": opts.Mount, "Prefix": opts.Prefix} {
		if !validPath(p) {
			return nil, fmt.Errorf("hashivault: %s %q: want segments of [A-Za-z0-9_.-] separated by '/': %w", name, p, tokenstore.ErrInvalidOptions)
		}
	}
	if opts.MaxVersions == 0 {
		opts.MaxVersions = DefaultMaxVersions
	}
	if opts.MaxVersions < 1 {
		return nil, fmt.Errorf("hashivault: MaxVersions %d: want at least 1: %w", opts.MaxVersions, tokenstore.ErrInvalidOptions)
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = DefaultParallelism
	}
	return &Backend{
		kv:          kv,
		mount:       opts.Mount,
		prefix:      opts.Prefix,
		maxVersions: opts.MaxVersions,
		parallelism: opts.Parallelism,
	}, nil
}

// validPath reports whether p is one or more segments of [A-Za-z0-9_.-]
// separated by "/", none of them "." or "..": the characters Vault paths
// take everywhere, and no way out of the folder.
func validPath(p string) bool {
	if p == "" {
		return false
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for _, c := range seg {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
			if !ok {
				return false
			}
		}
	}
	return true
}

// Name returns "hashivault".
func (b *Backend) Name() string { return "hashivault" }

// Paths; section is KV v2's "data" or "metadata". IDs, namespaces and
// index hashes are single path segments (Store validates IDs and
// namespaces; hashes are base32), so a namespace is a folder of its own:
// "a" and "a-x" never share one.
func (b *Backend) tokenPath(section, ns, id string) string {
	return b.mount + "/" + section + "/" + b.prefix + "/" + ns + "/tokens/" + id
}

func (b *Backend) tokensFolder(ns string) string {
	return b.mount + "/metadata/" + b.prefix + "/" + ns + "/tokens/"
}

func (b *Backend) indexPath(section, ns string, kind tokenstore.IndexKind, hash, id string) string {
	return b.mount + "/" + section + "/" + b.prefix + "/" + ns + "/index/" + string(kind) + "/" + hash + "/" + id
}

func (b *Backend) indexFolder(ns string, kind tokenstore.IndexKind, hash string) string {
	return b.mount + "/metadata/" + b.prefix + "/" + ns + "/index/" + string(kind) + "/" + hash + "/"
}

// kinds are the index kinds in the order of versions.
var kinds = [...]tokenstore.IndexKind{
	tokenstore.IndexUserName, tokenstore.IndexAccessToken, tokenstore.IndexGrantToken, tokenstore.IndexRefreshToken,
}

func setIndex(ix *tokenstore.Index, kind tokenstore.IndexKind, v string) {
	switch kind {
	case tokenstore.IndexUserName:
		ix.UserName = v
	case tokenstore.IndexAccessToken:
		ix.AccessToken = v
	case tokenstore.IndexGrantToken:
		ix.GrantToken = v
	case tokenstore.IndexRefreshToken:
		ix.RefreshToken = v
	}
}

// indexMap is the index as stored: in the token's data, where it is
// versioned with the value under the same check-and-set, and in its
// custom_metadata, readable without read access to the value.
func indexMap(ix tokenstore.Index) map[string]string {
	m := make(map[string]string, len(kinds))
	for k, v := range ix.All() {
		m[string(k)] = v
	}
	return m
}

// entryOf turns a KV v2 data read into an entry; nil means no current
// version (never written, or its latest version deleted or destroyed).
func entryOf(id string, s *api.Secret) *tokenstore.Entry {
	data, n := dataOf(s)
	if data == nil {
		return nil
	}
	e := &tokenstore.Entry{ID: id}
	// A value written by something else than this backend stays nil, and
	// Store reports it as corrupt rather than guessing.
	if v, ok := data["value"].(string); ok {
		e.Value = []byte(v)
	}
	if ix, ok := data["index"].(map[string]any); ok {
		for _, k := range kinds {
			if h, ok := ix[string(k)].(string); ok {
				setIndex(&e.Index, k, h)
			}
		}
	}
	e.Version = formatVersion(n, e.Index)
	return e
}

// dataOf returns the data and version number of a KV v2 data read. When
// the latest version was deleted or destroyed (by hand: this backend deletes
// whole secrets) Vault answers 404 with the metadata, and data is nil.
func dataOf(s *api.Secret) (data map[string]any, version int64) {
	if s == nil || s.Data == nil {
		return nil, 0
	}
	meta, _ := s.Data["metadata"].(map[string]any)
	if meta == nil {
		return nil, 0
	}
	n, err := versionNumber(meta["version"])
	if err != nil {
		return nil, 0
	}
	data, _ = s.Data["data"].(map[string]any)
	return data, n
}

// versionNumber reads a JSON number the client decoded as json.Number.
func versionNumber(v any) (int64, error) {
	switch n := v.(type) {
	case interface{ Int64() (int64, error) }:
		return n.Int64()
	case float64:
		return int64(n), nil
	}
	return 0, fmt.Errorf("unexpected version %T", v)
}

// read reads the current version of a token.
func (b *Backend) read(ctx context.Context, ns, id string) (*tokenstore.Entry, error) {
	p := b.tokenPath("data", ns, id)
	s, err := b.kv.ReadWithContext(ctx, p)
	if err != nil {
		return nil, mapError("read token", p, err)
	}
	e := entryOf(id, s)
	if e == nil {
		return nil, notFound("read token", p)
	}
	return e, nil
}

// Get reads the token's current version: one request.
func (b *Backend) Get(ctx context.Context, ns, id string) (*tokenstore.Entry, error) {
	return b.read(ctx, ns, id)
}

// create writes a token's data with check-and-set: cas 0 creates only.
func (b *Backend) create(ctx context.Context, ns string, e *tokenstore.Entry, cas int64) error {
	p := b.tokenPath("data", ns, e.ID)
	_, err := b.kv.WriteWithContext(ctx, p, map[string]any{
		"options": map[string]any{"cas": cas},
		"data":    map[string]any{"value": string(e.Value), "index": indexMap(e.Index)},
	})
	return mapError("create token", p, err)
}

// patch replaces a token's data if its current version is cas. A PATCH
// rather than a write: KV v2 answers a cas write to a missing secret as a
// cas mismatch, so telling ErrNotFound from ErrConflict would take another
// read on every lost race, while a PATCH of a missing secret is a 404. The
// patch is a JSON merge patch, so index kinds the token no longer has are
// sent as null, which removes them.
func (b *Backend) patch(ctx context.Context, ns string, e *tokenstore.Entry, cas int64) error {
	p := b.tokenPath("data", ns, e.ID)
	ix := make(map[string]any, len(kinds))
	for _, k := range kinds {
		ix[string(k)] = nil
		if h := e.Index.Get(k); h != "" {
			ix[string(k)] = h
		}
	}
	s, err := b.kv.JSONMergePatch(ctx, p, map[string]any{
		"options": map[string]any{"cas": cas},
		"data":    map[string]any{"value": string(e.Value), "index": ix},
	})
	if err != nil {
		return mapError("update token", p, err)
	}
	if s == nil {
		return notFound("update token", p)
	}
	return nil
}

// writeMetadata sets max_versions and the custom_metadata copy of the index.
func (b *Backend) writeMetadata(ctx context.Context, ns, id string, ix tokenstore.Index) error {
	p := b.tokenPath("metadata", ns, id)
	_, err := b.kv.WriteWithContext(ctx, p, map[string]any{
		"max_versions":    b.maxVersions,
		"custom_metadata": indexMap(ix),
	})
	return mapError("write token metadata", p, err)
}

// Create writes the token with cas=0, so that of racing creators exactly
// one wins, then one index entry per index value, then its metadata
// (max_versions and the custom_metadata copy of the index): 2 requests plus
// one per index value. Entries come right after the token: see the package
// doc for what a crash between writes leaves.
func (b *Backend) Create(ctx context.Context, ns string, e *tokenstore.Entry) error {
	if err := b.create(ctx, ns, e, 0); err != nil {
		if !errors.Is(err, tokenstore.ErrConflict) {
			return err
		}
		// A secret whose latest version was deleted by hand reads as
		// absent, so Store creates it: write over that version.
		p := b.tokenPath("data", ns, e.ID)
		s, rerr := b.kv.ReadWithContext(ctx, p)
		data, n := dataOf(s)
		if rerr != nil || data != nil || n == 0 {
			return err
		}
		if err := b.create(ctx, ns, e, n); err != nil {
			return err
		}
	}
	for k, h := range e.Index.All() {
		if err := b.putIndex(ctx, ns, k, h, e.ID); err != nil {
			return err
		}
	}
	return b.writeMetadata(ctx, ns, e.ID, e.Index)
}

// Update patches the token with cas set to the version e.Version names: one
// request when the index did not change. When it did: one per new index
// value, one to copy the index into custom_metadata, one per index value
// gone, and one read to check that no concurrent update brought a removed
// value back (see dropIndex).
func (b *Backend) Update(ctx context.Context, ns string, e *tokenstore.Entry) error {
	n, old, err := parseVersion(e.Version)
	if err != nil {
		return err
	}
	if err := b.patch(ctx, ns, e, n); err != nil {
		return err
	}
	if old == e.Index {
		return nil
	}
	var gone []indexRef
	for _, k := range kinds {
		was, now := old.Get(k), e.Index.Get(k)
		if was == now {
			continue
		}
		if now != "" {
			if err := b.putIndex(ctx, ns, k, now, e.ID); err != nil {
				return err
			}
		}
		if was != "" {
			gone = append(gone, indexRef{k, was})
		}
	}
	if err := b.writeMetadata(ctx, ns, e.ID, e.Index); err != nil {
		return err
	}
	return b.dropIndex(ctx, ns, e.ID, gone)
}

// indexRef names one index value of a token.
type indexRef struct {
	kind tokenstore.IndexKind
	hash string
}

// putIndex writes the index entry of one value, create-only so that a
// rewrite adds no version; an entry already there is as good as written.
func (b *Backend) putIndex(ctx context.Context, ns string, kind tokenstore.IndexKind, hash, id string) error {
	p := b.indexPath("data", ns, kind, hash, id)
	_, err := b.kv.WriteWithContext(ctx, p, map[string]any{
		"options": map[string]any{"cas": 0},
		"data":    map[string]any{"id": id},
	})
	if errors.Is(mapError("", "", err), tokenstore.ErrConflict) {
		return nil
	}
	return mapError("write index entry", p, err)
}

// dropIndex deletes index entries of the token id that its version no
// longer has. KV v2 has no conditional delete, so a concurrent update that
// brings a value back may have found the entry still there (and written
// nothing) just before the delete. Reading the token after the deletes
// closes that race: any update not seen by the read writes its entries
// after the deletes, and the values the read sees are restored here.
func (b *Backend) dropIndex(ctx context.Context, ns, id string, gone []indexRef) error {
	if len(gone) == 0 {
		return nil
	}
	for _, r := range gone {
		p := b.indexPath("metadata", ns, r.kind, r.hash, id)
		if _, err := b.kv.DeleteWithContext(ctx, p); err != nil {
			return mapError("delete index entry", p, err)
		}
	}
	cur, err := b.read(ctx, ns, id)
	if errors.Is(err, tokenstore.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, r := range gone {
		if cur.Index.Get(r.kind) == r.hash {
			if err := b.putIndex(ctx, ns, r.kind, r.hash, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete reads the token (KV answers a delete of nothing with success, and
// the read gives the index), deletes its index entries, then all its
// versions and metadata: 2 requests plus one per index value. Index entries
// go first: a token recreated under the same ID (derived IDs make that
// common) can only be created once the old one is gone, so its new entries
// are never deleted here; an entry left by a crash is ignored by Lookup.
func (b *Backend) Delete(ctx context.Context, ns, id string) error {
	e, err := b.read(ctx, ns, id)
	if err != nil {
		return err
	}
	for k, h := range e.Index.All() {
		p := b.indexPath("metadata", ns, k, h, id)
		if _, err := b.kv.DeleteWithContext(ctx, p); err != nil {
			return mapError("delete index entry", p, err)
		}
	}
	p := b.tokenPath("metadata", ns, id)
	if _, err := b.kv.DeleteWithContext(ctx, p); err != nil {
		return mapError("delete token", p, err)
	}
	return nil
}

// list returns the names in a folder; a missing folder is empty.
func (b *Backend) list(ctx context.Context, op, folder string) ([]string, error) {
	s, err := b.kv.ListWithContext(ctx, folder)
	if err != nil {
		return nil, mapError(op, folder, err)
	}
	if s == nil || s.Data == nil {
		return nil, nil
	}
	keys, _ := s.Data["keys"].([]any)
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		// Subfolders end in "/"; IDs never hold one.
		if name, ok := k.(string); ok && !strings.HasSuffix(name, "/") {
			names = append(names, name)
		}
	}
	return names, nil
}

// Lookup lists the index entries of the value (one request; Vault has no
// search) and reads each token they point to (one request each, usually
// one). A token that no longer has the value is not returned, and its stale
// entry is deleted.
func (b *Backend) Lookup(ctx context.Context, ns string, kind tokenstore.IndexKind, value string) ([]*tokenstore.Entry, error) {
	ids, err := b.list(ctx, "list index", b.indexFolder(ns, kind, value))
	if err != nil {
		return nil, err
	}
	var found []*tokenstore.Entry
	for _, id := range ids {
		e, err := b.read(ctx, ns, id)
		switch {
		case errors.Is(err, tokenstore.ErrNotFound):
		case err != nil:
			return nil, err
		case e.Index.Get(kind) == value:
			found = append(found, e)
			continue
		}
		// Stale: left by a crash between writes, or by a concurrent
		// update. A failed repair does not fail the lookup.
		_ = b.dropIndex(ctx, ns, id, []indexRef{{kind, value}})
	}
	return found, nil
}

// List lists the namespace's tokens (one request) and reads them, up to
// Parallelism at once (one request each).
func (b *Backend) List(ctx context.Context, ns string) ([]*tokenstore.Entry, error) {
	ids, err := b.list(ctx, "list tokens", b.tokensFolder(ns))
	if err != nil {
		return nil, err
	}
	entries := make([]*tokenstore.Entry, len(ids))
	errs := make([]error, len(ids))
	var g errgroup.Group
	g.SetLimit(b.parallelism)
	for i, id := range ids {
		g.Go(func() error {
			entries[i], errs[i] = b.read(ctx, ns, id)
			return nil // errs is sorted out below: ErrNotFound is no failure
		})
	}
	g.Wait()
	out := entries[:0]
	for i, e := range entries {
		switch {
		case errors.Is(errs[i], tokenstore.ErrNotFound):
			// Deleted since the LIST, or only deleted versions left.
		case errs[i] != nil:
			return nil, errs[i]
		default:
			out = append(out, e)
		}
	}
	return out, nil
}
