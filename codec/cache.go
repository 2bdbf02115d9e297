package codec

import (
	"container/list"
	"context"
	"crypto/cipher"
	"errors"
	"sync"
	"time"
)

// keyCache holds unwrapped data keys, ready as AEADs, so that reads do not
// call the key service each time. It is bounded in size (least recently used
// out first) and in time: an entry expires TTL after it was unwrapped, used
// or not, which bounds how long a key disabled in the key service keeps
// working here. Concurrent misses of one key share a single Unwrap call.
type keyCache struct {
	size int
	ttl  time.Duration
	now  func() time.Time

	mu       sync.Mutex
	entries  map[string]*list.Element // of *cacheEntry
	lru      list.List                // front: most recently used
	inflight map[string]*unwrapCall
}

type cacheEntry struct {
	key     string
	aead    cipher.AEAD
	expires time.Time
}

// unwrapCall is an Unwrap in progress that other readers of the key wait for.
type unwrapCall struct {
	done chan struct{}
	aead cipher.AEAD
	err  error
}

func newKeyCache(size int, ttl time.Duration, now func() time.Time) *keyCache {
	return &keyCache{
		size:     size,
		ttl:      ttl,
		now:      now,
		entries:  make(map[string]*list.Element),
		inflight: make(map[string]*unwrapCall),
	}
}

// getLocked returns the cached AEAD for key, if it has not expired. The key
// is a []byte so that the lookup does not allocate a string.
func (c *keyCache) getLocked(key []byte) (cipher.AEAD, bool) {
	el, ok := c.entries[string(key)]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.expires) {
		c.removeLocked(el)
		return nil, false
	}
	c.lru.MoveToFront(el)
	return e.aead, true
}

// put caches aead under key, evicting expired entries first and then the
// least recently used.
func (c *keyCache) put(key string, aead cipher.AEAD) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(key, aead)
}

func (c *keyCache) putLocked(key string, aead cipher.AEAD) {
	now := c.now()
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*cacheEntry)
		e.aead, e.expires = aead, now.Add(c.ttl)
		c.lru.MoveToFront(el)
		return
	}
	if c.lru.Len() >= c.size {
		// Expired entries go first, whatever their recent use; a scan is
		// cheap next to the Unwrap call that a put follows.
		for el := c.lru.Back(); el != nil; {
			prev := el.Prev()
			if !now.Before(el.Value.(*cacheEntry).expires) {
				c.removeLocked(el)
			}
			el = prev
		}
	}
	for c.lru.Len() >= c.size {
		c.removeLocked(c.lru.Back())
	}
	c.entries[key] = c.lru.PushFront(&cacheEntry{key: key, aead: aead, expires: now.Add(c.ttl)})
}

func (c *keyCache) removeLocked(el *list.Element) {
	delete(c.entries, el.Value.(*cacheEntry).key)
	c.lru.Remove(el)
}

// len returns the number of entries, expired ones included.
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// getOrLoad returns the cached AEAD for key, or calls load once for all the
// callers that miss it at the same time and caches the result. A caller
// whose ctx ends stops waiting; if the caller running load gave up that way,
// the others retry rather than inherit its cancellation.
func (c *keyCache) getOrLoad(ctx context.Context, key []byte, load func() (cipher.AEAD, error)) (cipher.AEAD, error) {
	for {
		c.mu.Lock()
		if aead, ok := c.getLocked(key); ok {
			c.mu.Unlock()
			return aead, nil
		}
		if call, ok := c.inflight[string(key)]; ok {
			c.mu.Unlock()
			select {
			case <-call.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if call.err == nil {
				return call.aead, nil
			}
			if isContextError(call.err) && ctx.Err() == nil {
				continue
			}
			return nil, call.err
		}
		k := string(key)
		call := &unwrapCall{done: make(chan struct{})}
		c.inflight[k] = call
		c.mu.Unlock()

		c.load(k, call, load)
		return call.aead, call.err
	}
}

// load runs load for call and releases its waiters even if load panics.
func (c *keyCache) load(key string, call *unwrapCall, load func() (cipher.AEAD, error)) {
	call.err = errWrapperPanicked // stays if load panics
	defer func() {
		c.mu.Lock()
		delete(c.inflight, key)
		if call.err == nil {
			c.putLocked(key, call.aead)
		}
		c.mu.Unlock()
		close(call.done)
	}()
	call.aead, call.err = load()
}

var errWrapperPanicked = errors.New("codec: key wrapper panicked")

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
