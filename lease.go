package tokenstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// A refresh lease keeps processes from spending one refresh token twice.
// Providers that rotate refresh tokens treat a used one presented again as
// theft and revoke the whole token family, so a compare-and-swap after the
// refresh is too late: the processes must agree before the request is sent.
// The lease lives in the stored token itself, so it needs no service beyond
// the store, and it is taken and released with the store's compare-and-swap
// (Updater.Update): exactly one writer sees the token without a live lease
// and records its own.

// ReservedExtraPrefix starts the Token.Extra keys that tokenstore keeps for
// itself, such as the refresh lease. OAuth2Token leaves them out, and a save
// never copies them from the token being saved over the stored ones, so a
// stale copy cannot bring back a released lease.
const ReservedExtraPrefix = "tokenstore."

// leaseKey holds the refresh lease: "<expiry epoch ms>;<nonce>;<owner>".
const leaseKey = ReservedExtraPrefix + "lease"

// lease is one process's right to renew one token until expiry.
type lease struct {
	expiry time.Time
	// nonce is drawn for each acquisition and known only to the acquirer:
	// it, not the owner, decides whether a lease is ours, so two sources
	// given the same Owner never both believe they hold it.
	nonce string
	owner string // for people reading the stored token: who holds it
}

func (l lease) String() string {
	return strconv.FormatInt(l.expiry.UnixMilli(), 10) + ";" + l.nonce + ";" + l.owner
}

// leaseOf returns t's lease, if it has a well-formed one. A malformed value
// counts as no lease: it cannot be honoured, and leaving it would block
// every refresh.
func leaseOf(t *Token) (lease, bool) {
	v, ok := t.Extra[leaseKey]
	if !ok {
		return lease{}, false
	}
	exp, rest, ok := strings.Cut(v, ";")
	if !ok {
		return lease{}, false
	}
	nonce, owner, ok := strings.Cut(rest, ";")
	ms, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || nonce == "" {
		return lease{}, false
	}
	return lease{expiry: time.UnixMilli(ms), nonce: nonce, owner: owner}, true
}

// withLease returns a copy of t holding l.
func withLease(t *Token, l lease) *Token {
	c := t.Clone()
	if c.Extra == nil {
		c.Extra = make(map[string]string, 1)
	}
	c.Extra[leaseKey] = l.String()
	return c
}

// withoutLease returns a copy of t without any lease.
func withoutLease(t *Token) *Token {
	c := t.Clone()
	delete(c.Extra, leaseKey)
	if len(c.Extra) == 0 {
		c.Extra = nil
	}
	return c
}

// holds reports whether t carries exactly the lease l.
func holds(t *Token, l lease) bool {
	cur, ok := leaseOf(t)
	return ok && cur.nonce == l.nonce
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails: crypto/rand panics rather than return an error
	return hex.EncodeToString(b)
}

// processOwner names this process in leases by default: random, so that two
// processes on one host never share a name.
var processOwner = "p-" + randomHex(8)

// releaseLease removes the lease l from the stored token if it is still
// there. It is best effort: a lease that cannot be released expires.
func releaseLease(ctx context.Context, u Updater, id string, l lease) {
	u.Update(ctx, id, func(cur *Token) (*Token, error) {
		if !holds(cur, l) {
			return nil, nil
		}
		return withoutLease(cur), nil
	})
}
