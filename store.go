package tokenstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// Options configures a Store.
type Options struct {
	// Namespace scopes the store: GetTokens and DeleteTokens see only its
	// tokens, and stores with different namespaces over one backend never
	// see or change each other's. Lowercase letters, digits and '-', at most
	// 40 characters. Default "default".
	Namespace string

	// IndexKey keys the hashes that index tokens and derive their IDs; at
	// least 16 bytes, and the same for every process sharing the namespace.
	// It is not an encryption key, but keep it secret: with it, anyone who
	// can list tags can test guesses of user names.
	IndexKey []byte

	// Codec encodes tokens: codec.Plain() or an encrypting codec.
	Codec Codec

	// MaxValueSize bounds an encoded token. Default 65536 bytes, the limit
	// of AWS Secrets Manager and GCP Secret Manager.
	MaxValueSize int

	// MaxAttempts bounds the tries of one write that loses compare-and-swap
	// races. Default 20.
	MaxAttempts int

	// Logger receives warnings about entries that do not decode as this
	// store's tokens. Default: discard.
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultNamespace    = "default"
	DefaultMaxValueSize = 65536
	DefaultMaxAttempts  = 20
	minIndexKeyLength   = 16
)

// maxSlots bounds the derived IDs tried for one key; see derivedID.
const maxSlots = 8

// listParallelism bounds concurrent backend calls of DeleteTokens.
const listParallelism = 8

// Store is the portable TokenStore over a Backend. It is safe for
// concurrent use, and so are several Stores, in any processes, over one
// backend and namespace.
type Store struct {
	b           Backend
	ns          string
	codec       Codec
	h           *hasher
	maxSize     int
	maxAttempts int
	log         *slog.Logger
}

var _ TokenStore = (*Store)(nil)

// New returns a Store over b.
func New(b Backend, opts Options) (*Store, error) {
	if b == nil {
		return nil, fmt.Errorf("tokenstore: nil Backend: %w", ErrInvalidOptions)
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if !validNamespace(opts.Namespace) {
		return nil, fmt.Errorf("tokenstore: namespace %q: want 1 to %d of [a-z0-9-]: %w", opts.Namespace, maxNamespaceLength, ErrInvalidOptions)
	}
	if len(opts.IndexKey) < minIndexKeyLength {
		return nil, fmt.Errorf("tokenstore: IndexKey has %d bytes, want at least %d: %w", len(opts.IndexKey), minIndexKeyLength, ErrInvalidOptions)
	}
	if opts.Codec == nil {
		return nil, fmt.Errorf("tokenstore: nil Codec (use codec.Plain() or an encrypting codec): %w", ErrInvalidOptions)
	}
	if opts.MaxValueSize <= 0 {
		opts.MaxValueSize = DefaultMaxValueSize
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Store{
		b:           b,
		ns:          opts.Namespace,
		codec:       opts.Codec,
		h:           newHasher(opts.IndexKey),
		maxSize:     opts.MaxValueSize,
		maxAttempts: opts.MaxAttempts,
		log:         opts.Logger,
	}, nil
}

// Namespace returns the store's namespace.
func (s *Store) Namespace() string { return s.ns }

func (s *Store) fail(op, id string, err error) error {
	return &Error{Op: op, Backend: s.b.Name(), ID: id, Err: err}
}

// stored is an entry and the token it decodes to.
type stored struct {
	e *Entry
	t *Token
}

func (s *Store) decode(ctx context.Context, e *Entry) (*Token, error) {
	return s.codec.Decode(ctx, e.Value, Binding{Namespace: s.ns, ID: e.ID})
}

// get reads and decodes one entry; a value that does not decode is an error.
func (s *Store) get(ctx context.Context, id string) (*stored, error) {
	e, err := s.b.Get(ctx, s.ns, id)
	if err != nil {
		return nil, err
	}
	t, err := s.decode(ctx, e)
	if err != nil {
		return nil, err
	}
	return &stored{e, t}, nil
}

// skip decides about an entry that did not decode. A corrupt or foreign
// value (ErrCorrupt) is not a token of this store: finds and lists pass over
// it, logged, and nothing overwrites or deletes it. Any other error — a key
// this process lacks, a key service that is down — is returned: passing
// over a token that is only unreadable for now would make a save create a
// second token for its user.
func (s *Store) skip(ctx context.Context, id string, err error) error {
	if !errors.Is(err, ErrCorrupt) {
		return fmt.Errorf("id %s: %w", id, err)
	}
	s.log.WarnContext(ctx, "tokenstore: ignoring an entry that does not decode as a token of this store",
		"backend", s.b.Name(), "namespace", s.ns, "id", id, "err", err)
	return nil
}

// locate finds the token that keys identify, trying each key in order: first
// by direct reads of the IDs derived from it (consistent, one call when the
// token was created by that key), then through the backend's index. When
// nothing matches it returns the free derived ID of keys[0], where a new
// token belongs, or "" if every slot is taken.
func (s *Store) locate(ctx context.Context, keys []lookupKey) (found *stored, newID string, err error) {
	for i, k := range keys {
		for slot := range maxSlots {
			id := s.h.derivedID(s.ns, k, slot)
			e, err := s.b.Get(ctx, s.ns, id)
			if errors.Is(err, ErrNotFound) {
				if i == 0 {
					newID = id
				}
				break
			}
			if err != nil {
				return nil, "", err
			}
			t, err := s.decode(ctx, e)
			if err != nil {
				if err := s.skip(ctx, id, err); err != nil {
					return nil, "", err
				}
				continue
			}
			if k.matches(t) {
				return &stored{e, t}, "", nil
			}
		}
		candidates, err := s.b.Lookup(ctx, s.ns, k.kind, s.h.indexValue(s.ns, k))
		if err != nil {
			return nil, "", err
		}
		// Deterministic choice should duplicates ever exist.
		slices.SortFunc(candidates, func(a, b *Entry) int { return strings.Compare(a.ID, b.ID) })
		for _, e := range candidates {
			t, err := s.decode(ctx, e)
			if err != nil {
				if err := s.skip(ctx, e.ID, err); err != nil {
					return nil, "", err
				}
				continue
			}
			if k.matches(t) {
				return &stored{e, t}, "", nil
			}
		}
	}
	return nil, newID, nil
}

// FindToken returns the token query identifies; see the package doc.
func (s *Store) FindToken(ctx context.Context, query *Token) (*Token, error) {
	const op = "FindToken"
	keys, err := matchKeys(query)
	if err != nil {
		return nil, s.fail(op, "", err)
	}
	found, _, err := s.locate(ctx, keys)
	if err != nil {
		return nil, s.fail(op, "", err)
	}
	if found == nil {
		return nil, s.fail(op, "", ErrNotFound)
	}
	return found.t, nil
}

// FindTokenByID returns the token with the given ID. A stored value that
// does not decode gives an error wrapping ErrCorrupt.
func (s *Store) FindTokenByID(ctx context.Context, id string) (*Token, error) {
	const op = "FindTokenByID"
	if !ValidID(id) {
		return nil, s.fail(op, "", ErrInvalidID)
	}
	found, err := s.get(ctx, id)
	if err != nil {
		return nil, s.fail(op, id, err)
	}
	return found.t, nil
}

// SaveToken creates or updates t and sets t.ID; see TokenStore. A save that
// changes nothing writes nothing. Saving a token with a new ID for a user
// already stored under another ID fails with ErrConflict.
func (s *Store) SaveToken(ctx context.Context, t *Token) error {
	const op = "SaveToken"
	if t == nil {
		return s.fail(op, "", ErrInvalidToken)
	}
	if t.ID != "" && !ValidID(t.ID) {
		return s.fail(op, "", ErrInvalidID)
	}
	if t.size() > s.maxSize {
		return s.fail(op, t.ID, ErrTooLarge)
	}
	var keys []lookupKey
	if t.ID == "" {
		var err error
		if keys, err = matchKeys(t); err != nil {
			return s.fail(op, "", err)
		}
	}
	in := t.Clone()
	in.Expiry = in.Expiry.Truncate(time.Millisecond) // what the codec keeps
	var id string
	err := s.retry(ctx, func() (err error) {
		id, err = s.save(ctx, in, keys)
		return err
	})
	if err != nil {
		return s.fail(op, t.ID, err)
	}
	t.ID = id
	return nil
}

// save is one attempt of SaveToken; keys is unused when t has an ID.
func (s *Store) save(ctx context.Context, t *Token, keys []lookupKey) (string, error) {
	var cur *stored
	target := t.ID
	if t.ID == "" {
		found, newID, err := s.locate(ctx, keys)
		if err != nil {
			return "", err
		}
		if found == nil && newID == "" {
			return "", fmt.Errorf("every derived ID of the token's key is taken: %w", final{ErrConflict})
		}
		cur, target = found, newID
	} else {
		found, err := s.get(ctx, t.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", err
		}
		cur = found
		// Never a second ID for one user. Checked only when the user name is
		// new to this ID, so routine saves by ID cost no search.
		if user := (lookupKey{IndexUserName, t.UserName}); user.value != "" && (cur == nil || !user.matches(cur.t)) {
			other, _, err := s.locate(ctx, []lookupKey{user})
			if err != nil {
				return "", err
			}
			if other != nil && other.e.ID != t.ID {
				return "", fmt.Errorf("the user is stored under ID %s: %w", other.e.ID, final{ErrConflict})
			}
		}
	}
	if cur == nil {
		next := t.Clone()
		next.ID = target
		return target, s.write(ctx, next, nil)
	}
	next := merge(cur.t, t)
	if next.Equal(cur.t) && !s.codec.Stale(cur.e.Value) {
		return cur.e.ID, nil // AWS asks for few writes per secret: write only changes.
	}
	return cur.e.ID, s.write(ctx, next, cur.e)
}

// write creates t, or updates it over prev with compare-and-swap.
func (s *Store) write(ctx context.Context, t *Token, prev *Entry) error {
	value, err := s.codec.Encode(ctx, t, Binding{Namespace: s.ns, ID: t.ID})
	if err != nil {
		return err
	}
	if len(value) > s.maxSize {
		return fmt.Errorf("encoded size %d exceeds %d bytes: %w", len(value), s.maxSize, ErrTooLarge)
	}
	e := &Entry{ID: t.ID, Value: value, Index: s.h.index(s.ns, t)}
	if prev == nil {
		return s.b.Create(ctx, s.ns, e)
	}
	e.Version = prev.Version
	return s.b.Update(ctx, s.ns, e)
}

// Update is a read-modify-write of one token under the backend's
// compare-and-swap: fn gets a copy of the stored token and returns the token
// to store in its place (its ID is kept), or nil to change nothing. If
// another writer changes the token in between, fn runs again on the new
// value, so no update is lost. An error from fn is returned as it is.
func (s *Store) Update(ctx context.Context, id string, fn func(current *Token) (*Token, error)) (*Token, error) {
	const op = "Update"
	if !ValidID(id) {
		return nil, s.fail(op, "", ErrInvalidID)
	}
	var result *Token
	var fnErr error
	err := s.retry(ctx, func() error {
		cur, err := s.get(ctx, id)
		if err != nil {
			return err
		}
		next, err := fn(cur.t.Clone())
		if err != nil {
			fnErr = err
			return nil
		}
		if next == nil {
			result = cur.t
			return nil
		}
		next = next.Clone()
		next.ID = id
		next.Expiry = next.Expiry.Truncate(time.Millisecond)
		if next.size() > s.maxSize {
			return ErrTooLarge
		}
		result = next
		if next.Equal(cur.t) && !s.codec.Stale(cur.e.Value) {
			return nil
		}
		return s.write(ctx, next, cur.e)
	})
	if fnErr != nil {
		return nil, fnErr
	}
	if err != nil {
		return nil, s.fail(op, id, err)
	}
	return result, nil
}

// final marks a conflict that another attempt cannot resolve.
type final struct{ error }

func (f final) Unwrap() error { return f.error }

// retry runs attempt until it returns anything but ErrConflict, with
// exponential backoff and full jitter so that racing writers spread out. The
// backoff slot is as long as the last attempt took: against a service whose
// round trip is 3 ms or 50 ms, a fixed millisecond slot would keep 128
// writers colliding until they ran out of attempts.
func (s *Store) retry(ctx context.Context, attempt func() error) error {
	for n := 0; ; n++ {
		start := time.Now()
		err := attempt()
		var f final
		if !errors.Is(err, ErrConflict) || errors.As(err, &f) || n+1 >= s.maxAttempts {
			return err
		}
		slot := max(time.Millisecond, time.Since(start))
		backoff := min(slot<<min(n, 8), 2*time.Second)
		t := time.NewTimer(rand.N(backoff) + time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}

// DeleteToken deletes the token with the given ID.
func (s *Store) DeleteToken(ctx context.Context, id string) error {
	const op = "DeleteToken"
	if !ValidID(id) {
		return s.fail(op, "", ErrInvalidID)
	}
	if err := s.b.Delete(ctx, s.ns, id); err != nil {
		return s.fail(op, id, err)
	}
	return nil
}

// list returns the namespace's entries that decode as this store's tokens,
// sorted by ID.
func (s *Store) list(ctx context.Context) ([]*stored, error) {
	entries, err := s.b.List(ctx, s.ns)
	if err != nil {
		return nil, err
	}
	out := make([]*stored, 0, len(entries))
	for _, e := range entries {
		t, err := s.decode(ctx, e)
		if err != nil {
			if err := s.skip(ctx, e.ID, err); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, &stored{e, t})
	}
	slices.SortFunc(out, func(a, b *stored) int { return strings.Compare(a.e.ID, b.e.ID) })
	return out, nil
}

// GetTokens returns every token of the namespace, sorted by ID. Entries that
// do not decode as this store's tokens are left out and logged.
func (s *Store) GetTokens(ctx context.Context) ([]*Token, error) {
	all, err := s.list(ctx)
	if err != nil {
		return nil, s.fail("GetTokens", "", err)
	}
	tokens := make([]*Token, len(all))
	for i, st := range all {
		tokens[i] = st.t
	}
	return tokens, nil
}

// DeleteTokens deletes every token of the namespace. It deletes only entries
// that decode as this store's tokens, so a foreign or damaged secret that
// happens to share the namespace is left alone.
func (s *Store) DeleteTokens(ctx context.Context) error {
	const op = "DeleteTokens"
	all, err := s.list(ctx)
	if err != nil {
		return s.fail(op, "", err)
	}
	errs := make([]error, len(all))
	var g errgroup.Group
	g.SetLimit(listParallelism)
	for i, st := range all {
		g.Go(func() error {
			// A token deleted meanwhile is as good as deleted by us.
			if err := s.b.Delete(ctx, s.ns, st.e.ID); err != nil && !errors.Is(err, ErrNotFound) {
				errs[i] = s.fail(op, st.e.ID, err)
			}
			return nil // every deletion is tried; errs reports each failure
		})
	}
	g.Wait()
	return errors.Join(errs...)
}
