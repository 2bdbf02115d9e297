package gcpsm

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"

	"github.com/tokenstore-go/tokenstore"
)

// secretState is what a commit needs of a secret: its etag and what the
// etag covers.
type secretState struct {
	etag    string
	current int64 // the version the alias names; 0: none (half-created)
	inc     string
	labels  map[string]string
	aliases map[string]int64
}

func stateOf(sec *secretmanagerpb.Secret) secretState {
	return secretState{
		etag:    sec.GetEtag(),
		current: sec.GetVersionAliases()[aliasCurrent],
		inc:     sec.GetLabels()[labelIncarnation],
		labels:  maps.Clone(sec.GetLabels()),
		aliases: maps.Clone(sec.GetVersionAliases()),
	}
}

// stateCache remembers the state of the secrets this backend last read or
// wrote, so that an update of a token this process wrote last needs no
// GetSecret, and one that is known to be stale fails without a call. It is
// only a hint: the etag decides every commit, so a stale entry costs a
// conflict, never a lost update.
type stateCache struct {
	mu sync.Mutex
	m  map[string]secretState
}

// maxCachedStates bounds the cache; a full cache starts over.
const maxCachedStates = 4096

func (c *stateCache) get(name string) (secretState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[name]
	return st, ok
}

func (c *stateCache) put(name string, st secretState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedStates {
		c.m = make(map[string]secretState)
	}
	c.m[name] = st
}

// seen notes that a read found version n of incarnation inc current.
func (c *stateCache) seen(name string, n int64, inc string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[name]; ok && (st.current != n || st.inc != inc) {
		delete(c.m, name)
	}
}

func (c *stateCache) drop(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, name)
}

// keyedLocks serializes the writes of one process to one secret. Racing
// writers in one process would otherwise all add a version and all but one
// destroy it again; serialized, the later ones find the cache ahead of what
// they read and give up without a call. Writers in other processes are
// still kept apart by the etag alone.
type keyedLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	ch     chan struct{}
	refs   int
	holder *holding // nil while unlocked
}

// holding is one holder's time with a lock.
type holding struct {
	done   chan struct{}     // closed on unlock
	result *tokenstore.Entry // what the holder committed, if it did
}

// lock locks name, or returns ctx's error if ctx ends first.
func (k *keyedLocks) lock(ctx context.Context, name string) (unlock func(), err error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = make(map[string]*keyLock)
	}
	l := k.m[name]
	if l == nil {
		l = &keyLock{ch: make(chan struct{}, 1)}
		k.m[name] = l
	}
	l.refs++
	k.mu.Unlock()
	release := func() {
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.m, name)
		}
		k.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
	h := &holding{done: make(chan struct{})}
	k.mu.Lock()
	l.holder = h
	k.mu.Unlock()
	return func() {
		k.mu.Lock()
		l.holder = nil
		k.mu.Unlock()
		close(h.done)
		<-l.ch
		release()
	}, nil
}

// committed records that the holder of name's lock made e current.
func (k *keyedLocks) committed(name string, e *tokenstore.Entry) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l := k.m[name]; l != nil && l.holder != nil {
		l.holder.result = e
	}
}

// awaitCommit waits for a write of name that this process has under way,
// if any, and returns the entry it made current, if it did.
func (k *keyedLocks) awaitCommit(ctx context.Context, name string) (*tokenstore.Entry, bool, error) {
	k.mu.Lock()
	var h *holding
	if l := k.m[name]; l != nil {
		h = l.holder
	}
	k.mu.Unlock()
	if h == nil {
		return nil, false, nil
	}
	select {
	case <-h.done:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	if h.result == nil {
		return nil, false, nil
	}
	c := *h.result
	c.Value = slices.Clone(h.result.Value)
	return &c, true, nil
}

// readFlights lets concurrent reads of one secret in one process share one
// AccessSecretVersion call. When many writers of this process contend for a
// token, their reads would otherwise outnumber the writes ten to one and
// slow down the very commits they wait for. A read joins only a call that
// started after the last write this process completed on the secret
// (complete drops the call), so a process always reads its own writes.
type readFlights struct {
	mu sync.Mutex
	m  map[string]*readFlight
}

type readFlight struct {
	done chan struct{}
	e    *tokenstore.Entry
	err  error
}

// read returns the result of fn for name, from a call under way if one is.
// A joiner whose own ctx is live retries when the call it joined ended with
// its starter's ctx.
func (r *readFlights) read(ctx context.Context, name string, fn func(context.Context) (*tokenstore.Entry, error)) (*tokenstore.Entry, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r.mu.Lock()
		f := r.m[name]
		if f == nil {
			if r.m == nil {
				r.m = make(map[string]*readFlight)
			}
			f = &readFlight{done: make(chan struct{})}
			r.m[name] = f
			r.mu.Unlock()
			f.e, f.err = fn(ctx)
			r.forget(name, f)
			close(f.done)
			return f.result()
		}
		r.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if f.err != nil && (errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) {
			continue
		}
		return f.result()
	}
}

// result returns a copy of the call's entry, which callers may change.
func (f *readFlight) result() (*tokenstore.Entry, error) {
	if f.err != nil {
		return nil, f.err
	}
	c := *f.e
	c.Value = slices.Clone(f.e.Value)
	return &c, nil
}

// forget drops the call f for name, or any call for name if f is nil.
func (r *readFlights) forget(name string, f *readFlight) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if g := r.m[name]; g != nil && (f == nil || g == f) {
		delete(r.m, name)
	}
}
