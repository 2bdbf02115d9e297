package gcpsm

import (
	"context"
	"maps"
	"sync"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
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
	ch   chan struct{}
	refs int
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
		return func() { <-l.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
