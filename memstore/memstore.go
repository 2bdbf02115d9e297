// Package memstore is the in-memory tokenstore.Backend: the reference
// implementation of the driver contract, safe for concurrent use, with the
// same create-if-absent and compare-and-swap semantics as the cloud backends.
// Use it in tests, in development, and where tokens need not outlive the
// process.
//
// One Backend is like one cloud account: Stores in different namespaces can
// share it without seeing each other's tokens.
package memstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/tokenstore-go/tokenstore"
)

// Backend holds entries in memory.
type Backend struct {
	mu      sync.RWMutex
	spaces  map[string]*space
	version uint64 // last version handed out; versions never repeat
}

// space is one namespace.
type space struct {
	entries map[string]*tokenstore.Entry
	index   map[indexKey]map[string]struct{} // index value → IDs
}

type indexKey struct {
	kind  tokenstore.IndexKind
	value string
}

var _ tokenstore.Backend = (*Backend)(nil)

// New returns an empty Backend.
func New() *Backend {
	return &Backend{spaces: make(map[string]*space)}
}

// Name returns "memstore".
func (b *Backend) Name() string { return "memstore" }

func (b *Backend) space(ns string, create bool) *space {
	s := b.spaces[ns]
	if s == nil && create {
		s = &space{entries: make(map[string]*tokenstore.Entry), index: make(map[indexKey]map[string]struct{})}
		b.spaces[ns] = s
	}
	return s
}

// clone keeps callers from sharing memory with the stored entry.
func clone(e *tokenstore.Entry) *tokenstore.Entry {
	c := *e
	c.Value = slices.Clone(e.Value)
	return &c
}

// Get returns the entry.
func (b *Backend) Get(ctx context.Context, ns, id string) (*tokenstore.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if s := b.space(ns, false); s != nil {
		if e := s.entries[id]; e != nil {
			return clone(e), nil
		}
	}
	return nil, tokenstore.ErrNotFound
}

// Create stores e unless its ID is taken.
func (b *Backend) Create(ctx context.Context, ns string, e *tokenstore.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.space(ns, true)
	if s.entries[e.ID] != nil {
		return fmt.Errorf("entry exists: %w", tokenstore.ErrConflict)
	}
	b.put(s, e)
	return nil
}

// Update replaces the entry if its version is still e.Version.
func (b *Backend) Update(ctx context.Context, ns string, e *tokenstore.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.space(ns, false)
	if s == nil || s.entries[e.ID] == nil {
		return tokenstore.ErrNotFound
	}
	if cur := s.entries[e.ID]; cur.Version != e.Version {
		return fmt.Errorf("entry changed since it was read: %w", tokenstore.ErrConflict)
	}
	b.put(s, e)
	return nil
}

// put stores a copy of e under a new version; b.mu is held.
func (b *Backend) put(s *space, e *tokenstore.Entry) {
	if old := s.entries[e.ID]; old != nil {
		s.unindex(old)
	}
	b.version++
	c := clone(e)
	c.Version = strconv.FormatUint(b.version, 10)
	s.entries[c.ID] = c
	for kind, v := range c.Index.All() {
		k := indexKey{kind, v}
		if s.index[k] == nil {
			s.index[k] = make(map[string]struct{}, 1)
		}
		s.index[k][c.ID] = struct{}{}
	}
}

func (s *space) unindex(e *tokenstore.Entry) {
	for kind, v := range e.Index.All() {
		k := indexKey{kind, v}
		delete(s.index[k], e.ID)
		if len(s.index[k]) == 0 {
			delete(s.index, k)
		}
	}
}

// Delete removes the entry.
func (b *Backend) Delete(ctx context.Context, ns, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.space(ns, false)
	if s == nil || s.entries[id] == nil {
		return tokenstore.ErrNotFound
	}
	s.unindex(s.entries[id])
	delete(s.entries, id)
	return nil
}

// Lookup returns the entries indexed under value for kind.
func (b *Backend) Lookup(ctx context.Context, ns string, kind tokenstore.IndexKind, value string) ([]*tokenstore.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	s := b.space(ns, false)
	if s == nil {
		return nil, nil
	}
	var out []*tokenstore.Entry
	for id := range s.index[indexKey{kind, value}] {
		out = append(out, clone(s.entries[id]))
	}
	return out, nil
}

// List returns every entry of the namespace.
func (b *Backend) List(ctx context.Context, ns string) ([]*tokenstore.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	s := b.space(ns, false)
	if s == nil {
		return nil, nil
	}
	out := make([]*tokenstore.Entry, 0, len(s.entries))
	for _, id := range slices.Sorted(maps.Keys(s.entries)) {
		out = append(out, clone(s.entries[id]))
	}
	return out, nil
}
