package tokenstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Updater is a TokenStore with a compare-and-swap read-modify-write, with
// the contract of [Store.Update]: fn gets a copy of the stored token and
// returns its replacement (or nil for no change), and is run again on the
// new value whenever another writer got in between. *Store implements it.
// A TokenSource over an Updater coordinates refreshes across processes.
type Updater interface {
	TokenStore
	Update(ctx context.Context, id string, fn func(current *Token) (*Token, error)) (*Token, error)
}

var _ Updater = (*Store)(nil)

// TokenSourceOptions configures a TokenSource. The zero value is ready to use.
type TokenSourceOptions struct {
	// Skew renews a token this long before it expires, so that a request
	// that starts with it does not reach the API after its expiry. It must
	// be shorter than the tokens' lifetime. Default 1 minute.
	Skew time.Duration

	// LeaseTTL bounds how long one process may hold the right to renew a
	// token. If it dies while holding it, others wait this long and then
	// take over. The refresh request is given two thirds of it, the save
	// the rest; keep it well above the provider's response time and the
	// clock differences between processes. Default 30 seconds.
	LeaseTTL time.Duration

	// WaitTimeout bounds how long a call waits for another process's renewal
	// before failing with ErrWaitTimeout. Default twice LeaseTTL: enough to
	// outwait one holder that died and the one that takes over.
	WaitTimeout time.Duration

	// PollInterval is the first wait between reads while another process
	// renews; waits double up to MaxPollInterval, with jitter so waiters
	// spread out. Defaults 25 milliseconds and 1 second.
	PollInterval    time.Duration
	MaxPollInterval time.Duration

	// Owner names this process in the leases it records, for people reading
	// a stored token. Default: random per process. Sources never confuse
	// their leases even when given the same Owner.
	Owner string

	// ExtraKeys names the string extras of token responses to keep in
	// Token.Extra beyond scope, id_token and api_domain, which are always
	// kept. x/oauth2 cannot list a response's extras, so they must be named.
	ExtraKeys []string

	// ExchangeOptions are passed to oauth2.Config.Exchange with a grant
	// token, such as oauth2.VerifierOption for PKCE.
	ExchangeOptions []oauth2.AuthCodeOption

	// Revocation is the provider's token revocation endpoint, used by
	// Revoke. Nil: Revoke only deletes the stored token.
	Revocation *Revocation

	// Clock returns the current time; for tests. Default time.Now. Expiries
	// of token responses are carried over to it.
	Clock func() time.Time
}

// Defaults of TokenSourceOptions.
const (
	DefaultSkew            = time.Minute
	DefaultLeaseTTL        = 30 * time.Second
	DefaultPollInterval    = 25 * time.Millisecond
	DefaultMaxPollInterval = time.Second
)

// TokenSource is an oauth2.TokenSource over a TokenStore: it returns the
// stored access token while it is valid for longer than Skew; exchanges a
// stored grant token once and saves the result; refreshes near expiry and
// saves the new tokens. A response without a refresh token keeps the stored
// one, and provider extras such as Zoho's api_domain are kept.
//
// # Concurrency
//
// In one process, one renewal per token runs at a time, whatever the number
// of TokenSources: callers that need the same token wait for it and share
// the result.
//
// Across processes, when the store is an [Updater] such as *Store, a
// process renews only while it holds the token's refresh lease, recorded in
// the stored token with compare-and-swap, so exactly one process spends the
// refresh token — presenting a rotated refresh token twice makes careful
// providers revoke the whole token family. The others poll, with backoff,
// until a newer token is stored and adopt it. A lease whose holder died
// expires after LeaseTTL and is taken over. If a refresh still fails with
// invalid_grant, the source re-reads the store and adopts a newer token if
// there is one, and otherwise returns ErrReauthorize.
//
// Over a TokenStore that is not an Updater, the source can only coordinate
// the callers of one process: several processes may refresh one token at
// once. This is a best effort; use *Store when that matters.
//
// # Nothing obtained is dropped
//
// A grant token is single use, and a rotated refresh token is the only one
// left once spent. If the save after an exchange or a refresh fails, the
// call returns the error, and the new token is kept in memory and saved by
// the next call for that token in this process, before anything else. It
// is dropped only if the store meanwhile holds a newer token, stored by
// another process, which supersedes it, or if the stored token was deleted,
// as Revoke does: the user's authorization was withdrawn on purpose.
//
// Tokens are cached in memory until Skew before they expire, so that most
// calls read no store at all. The source never logs, and its errors never
// hold a token value.
type TokenSource struct {
	ctx   context.Context
	store TokenStore
	upd   Updater // nil when store is not an Updater
	cfg   oauth2.Config
	query *Token
	opts  TokenSourceOptions

	mu     sync.Mutex // guards id and cached
	id     string     // the stored token's ID, once found
	cached *Token     // the last token returned
}

var _ oauth2.TokenSource = (*TokenSource)(nil)

// NewTokenSource returns a TokenSource for the stored token that query
// identifies: by ID if query.ID is set, else by the matching precedence of
// FindToken (usually the user name). If no token is stored and query has a
// grant token (with client ID and secret), the first call saves query and
// exchanges its grant token, as the Zoho SDKs do.
//
// cfg gives the provider's endpoints; its ClientID, ClientSecret and
// RedirectURL, when empty, are taken from the stored token. ctx is kept for
// Token, like oauth2.Config.TokenSource's: its oauth2.HTTPClient value, if
// any, is the HTTP client for the provider, and its cancellation ends the
// source's calls. TokenContext takes a context per call instead.
func NewTokenSource(ctx context.Context, store TokenStore, cfg *oauth2.Config, query *Token, opts TokenSourceOptions) (*TokenSource, error) {
	if store == nil || cfg == nil {
		return nil, fmt.Errorf("tokenstore: NewTokenSource needs a store and an oauth2.Config: %w", ErrInvalidOptions)
	}
	if cfg.Endpoint.TokenURL == "" {
		return nil, fmt.Errorf("tokenstore: oauth2.Config has no token URL: %w", ErrInvalidOptions)
	}
	if query == nil {
		return nil, ErrInvalidToken
	}
	if query.ID != "" && !ValidID(query.ID) {
		return nil, ErrInvalidID
	}
	if query.ID == "" {
		if _, err := matchKeys(query); err != nil {
			return nil, err
		}
	}
	if opts.Skew <= 0 {
		opts.Skew = DefaultSkew
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = 2 * opts.LeaseTTL
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.MaxPollInterval < opts.PollInterval {
		opts.MaxPollInterval = max(DefaultMaxPollInterval, opts.PollInterval)
	}
	if opts.Owner == "" {
		opts.Owner = processOwner
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	ts := &TokenSource{
		ctx:   ctx,
		store: store,
		cfg:   *cfg,
		query: query.Clone(),
		opts:  opts,
		id:    query.ID,
	}
	ts.upd, _ = store.(Updater)
	return ts, nil
}

// Token returns a valid token, renewing it if needed; see TokenSource. It
// uses the context given to NewTokenSource. The token's Extra method gives
// scope, id_token, api_domain and the ExtraKeys.
func (ts *TokenSource) Token() (*oauth2.Token, error) {
	return ts.TokenContext(ts.ctx)
}

// TokenContext is Token with a context for this call. The HTTP client of
// NewTokenSource's context is used unless ctx names its own.
func (ts *TokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	t, err := ts.token(ctx)
	if err != nil {
		return nil, err
	}
	return t.OAuth2Token(), nil
}

// StoredToken is TokenContext returning the whole stored token, with the
// fields an oauth2.Token lacks, such as UserName and Zoho's APIDomain.
func (ts *TokenSource) StoredToken(ctx context.Context) (*Token, error) {
	t, err := ts.token(ctx)
	if err != nil {
		return nil, err
	}
	return withoutLease(t), nil
}

// withHTTPClient gives ctx the HTTP client of the source's context.
func (ts *TokenSource) withHTTPClient(ctx context.Context) context.Context {
	if ctx.Value(oauth2.HTTPClient) != nil || ts.ctx == nil {
		return ctx
	}
	if c, ok := ts.ctx.Value(oauth2.HTTPClient).(*http.Client); ok {
		return context.WithValue(ctx, oauth2.HTTPClient, c)
	}
	return ctx
}

func (ts *TokenSource) now() time.Time { return ts.opts.Clock() }

// fresh reports whether t's access token is valid for longer than Skew. A
// zero expiry never expires, as in x/oauth2.
func (ts *TokenSource) fresh(t *Token) bool {
	return t != nil && t.AccessToken != "" &&
		(t.Expiry.IsZero() || t.Expiry.After(ts.now().Add(ts.opts.Skew)))
}

// usable reports whether t's access token has not expired yet, skew aside.
func (ts *TokenSource) usable(t *Token) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || t.Expiry.After(ts.now()))
}

// renewed reports whether t holds other tokens than base: another process
// renewed base, or the user authorized again.
func renewed(t, base *Token) bool {
	return t.AccessToken != base.AccessToken || t.RefreshToken != base.RefreshToken
}

func (ts *TokenSource) token(ctx context.Context) (*Token, error) {
	ctx = ts.withHTTPClient(ctx)
	ts.mu.Lock()
	cached := ts.cached
	ts.mu.Unlock()
	if ts.fresh(cached) {
		return cached, nil
	}
	id, err := ts.resolve(ctx, true)
	if err != nil {
		return nil, err
	}
	st, done := acquireState(ts.stateKey(id))
	defer done()
	select {
	case st.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-st.sem }()

	if st.pending != nil {
		if err := ts.persist(ctx, st); err != nil {
			return nil, err
		}
	}
	// A caller that waited here finds what the one before it obtained.
	if ts.fresh(st.latest) {
		ts.setCached(st.latest)
		return st.latest, nil
	}
	t, err := ts.renew(ctx, st, id)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			ts.forget()
		}
		return nil, err
	}
	st.latest = t
	ts.setCached(t)
	return t, nil
}

func (ts *TokenSource) setCached(t *Token) {
	ts.mu.Lock()
	ts.cached = t
	ts.mu.Unlock()
}

// forget drops the ID and the cache after the token was deleted, so that
// the next call looks for it again by the query.
func (ts *TokenSource) forget() {
	ts.mu.Lock()
	ts.cached = nil
	if ts.query.ID == "" {
		ts.id = ""
	}
	ts.mu.Unlock()
}

// resolve returns the stored token's ID, finding it by the query once: a
// refresh changes the access and refresh tokens, so only the ID keeps
// naming the token, and a read by ID is one consistent call. With seed, a
// query holding a grant token is saved when nothing is stored yet.
func (ts *TokenSource) resolve(ctx context.Context, seed bool) (string, error) {
	ts.mu.Lock()
	id := ts.id
	ts.mu.Unlock()
	if id != "" {
		return id, nil
	}
	t, err := ts.store.FindToken(ctx, ts.query)
	if errors.Is(err, ErrNotFound) && seed && ts.query.GrantToken != "" {
		// First use. Store the grant token before spending it, so that every
		// process agrees on one stored token — and on one lease — first.
		first := ts.query.Clone()
		if err := ts.store.SaveToken(ctx, first); err != nil {
			return "", fmt.Errorf("tokenstore: saving the grant token: %w", err)
		}
		t, err = first, nil
	}
	if errors.Is(err, ErrNotFound) {
		return "", fmt.Errorf("tokenstore: no stored token: %w: %w", ErrReauthorize, err)
	}
	if err != nil {
		return "", err
	}
	ts.mu.Lock()
	ts.id = t.ID
	ts.mu.Unlock()
	return t.ID, nil
}

// renew reads the stored token and, unless it is fresh, exchanges or
// refreshes it. The caller holds st.sem.
func (ts *TokenSource) renew(ctx context.Context, st *tokenState, id string) (*Token, error) {
	cur, err := ts.store.FindTokenByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, deletedError(err)
	}
	if err != nil {
		return nil, err
	}
	if ts.fresh(cur) {
		return cur, nil
	}
	if !renewable(cur) {
		return nil, fmt.Errorf("tokenstore: token %s has expired and has no refresh or grant token: %w", id, ErrReauthorize)
	}
	if ts.upd == nil {
		return ts.renewUnleased(ctx, st, cur)
	}
	return ts.renewLeased(ctx, st, id, cur)
}

// renewable reports whether t has a refresh token, or a grant token not yet
// exchanged.
func renewable(t *Token) bool {
	return t.RefreshToken != "" || (t.GrantToken != "" && t.AccessToken == "")
}

// renewUnleased renews cur for a store that is not an Updater.
func (ts *TokenSource) renewUnleased(ctx context.Context, st *tokenState, cur *Token) (*Token, error) {
	got, err := ts.obtain(ctx, cur)
	if err != nil {
		if isInvalidGrant(err) {
			return ts.afterInvalidGrant(ctx, cur, err)
		}
		return nil, err
	}
	next := merge(withoutLease(cur), got)
	if err := ts.store.SaveToken(ctx, next.Clone()); err != nil {
		st.pending = &pendingSave{base: cur, next: next}
		return nil, saveError(err)
	}
	return next, nil
}

// leaseOutcome is what one look at the stored token decided.
type leaseOutcome int

const (
	outcomeAdopt    leaseOutcome = iota // another process stored a newer token
	outcomeWait                         // another process holds a live lease
	outcomeAcquired                     // the lease is ours
)

// renewLeased takes the token's refresh lease, or waits for the process that
// holds it, and renews the token if the lease is ours.
func (ts *TokenSource) renewLeased(ctx context.Context, st *tokenState, id string, seen *Token) (*Token, error) {
	deadline := ts.now().Add(ts.opts.WaitTimeout)
	for n := 0; ; n++ {
		var (
			outcome leaseOutcome
			held    lease
			mine    = lease{nonce: randomHex(12), owner: ts.opts.Owner}
		)
		got, err := ts.upd.Update(ctx, id, func(cur *Token) (*Token, error) {
			now := ts.now()
			switch l, ok := leaseOf(cur); {
			case ts.fresh(cur) || (renewed(cur, seen) && ts.usable(cur)):
				outcome = outcomeAdopt
				return nil, nil
			case !renewable(cur):
				outcome = outcomeAdopt // renew reports it below
				return nil, nil
			case ok && l.expiry.After(now):
				outcome, held = outcomeWait, l
				return nil, nil
			default: // no lease, or its holder died: take it
				outcome = outcomeAcquired
				mine.expiry = now.Add(ts.opts.LeaseTTL)
				return withLease(cur, mine), nil
			}
		})
		if errors.Is(err, ErrNotFound) {
			return nil, deletedError(err)
		}
		if err != nil {
			return nil, err
		}
		switch outcome {
		case outcomeAdopt:
			if !renewable(got) && !ts.usable(got) {
				return nil, fmt.Errorf("tokenstore: token %s has expired and has no refresh or grant token: %w", id, ErrReauthorize)
			}
			return got, nil
		case outcomeAcquired:
			return ts.renewHolding(ctx, st, id, got, mine)
		}
		now := ts.now()
		if !now.Before(deadline) {
			return nil, fmt.Errorf("tokenstore: token %s: lease held by %q: %w", id, held.owner, ErrWaitTimeout)
		}
		// Poll with doubling, jittered waits, but look again as soon as the
		// lease expires, so a dead holder is replaced without delay.
		wait := min(ts.opts.PollInterval<<min(n, 16), ts.opts.MaxPollInterval)
		wait = wait/2 + rand.N(wait/2+1)
		wait = min(wait, held.expiry.Sub(now)+time.Millisecond, deadline.Sub(now))
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// renewHolding renews held while holding lease l, saves the result and
// releases the lease in the same write.
func (ts *TokenSource) renewHolding(ctx context.Context, st *tokenState, id string, held *Token, l lease) (*Token, error) {
	// The request must end before the lease does, or a process taking the
	// lease over could spend the same refresh token. Measured on the real
	// clock from now, just after the lease was taken: Clock may be a test's.
	rctx, cancel := context.WithTimeout(ctx, ts.opts.LeaseTTL*2/3)
	got, err := ts.obtain(rctx, held)
	cancel()
	if err != nil {
		// context.WithoutCancel: the lease must go even when ctx ended it.
		defer releaseLease(context.WithoutCancel(ctx), ts.upd, id, l)
		if isInvalidGrant(err) {
			return ts.afterInvalidGrant(ctx, held, err)
		}
		return nil, err
	}
	base := withoutLease(held)
	next, err := ts.commit(ctx, id, base, merge(base, got), l)
	if errors.Is(err, ErrNotFound) {
		return nil, deletedError(err)
	}
	if err != nil {
		st.pending = &pendingSave{base: base, next: merge(base, got), lease: l}
		return nil, saveError(err)
	}
	return next, nil
}

// deletedError reports a token deleted while it was renewed: it was revoked
// or removed on purpose, so the new tokens are not kept either.
func deletedError(err error) error {
	return fmt.Errorf("tokenstore: the stored token was deleted: %w: %w", ErrReauthorize, err)
}

// commit stores next in place of base, unless another process stored a
// newer token meanwhile, and removes the lease l if it is still there. It
// returns the token now stored.
func (ts *TokenSource) commit(ctx context.Context, id string, base, next *Token, l lease) (*Token, error) {
	return ts.upd.Update(ctx, id, func(cur *Token) (*Token, error) {
		if renewed(cur, base) {
			// Our lease expired and the process that took over stored first:
			// its token supersedes ours.
			if holds(cur, l) {
				return withoutLease(cur), nil
			}
			return nil, nil
		}
		out := merge(cur, next)
		if holds(cur, l) {
			out = withoutLease(out)
		}
		return out, nil
	})
}

// afterInvalidGrant handles a grant or refresh token the provider rejected:
// if another process stored a newer token meanwhile, it is adopted;
// otherwise the user must authorize again.
func (ts *TokenSource) afterInvalidGrant(ctx context.Context, base *Token, cause error) (*Token, error) {
	cur, err := ts.store.FindTokenByID(ctx, base.ID)
	if err == nil && renewed(cur, base) && ts.usable(cur) {
		return cur, nil
	}
	return nil, fmt.Errorf("%w: %w", ErrReauthorize, cause)
}

// obtain exchanges t's grant token or spends its refresh token at the
// provider.
func (ts *TokenSource) obtain(ctx context.Context, t *Token) (*Token, error) {
	cfg := ts.cfg
	if cfg.ClientID == "" && cfg.ClientSecret == "" {
		cfg.ClientID, cfg.ClientSecret = t.ClientID, t.ClientSecret
	}
	if cfg.RedirectURL == "" {
		cfg.RedirectURL = t.RedirectURL
	}
	var (
		ot  *oauth2.Token
		err error
	)
	if t.RefreshToken != "" {
		ot, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: t.RefreshToken}).Token()
	} else {
		ot, err = cfg.Exchange(ctx, t.GrantToken, ts.opts.ExchangeOptions...)
	}
	if err != nil {
		return nil, fmt.Errorf("tokenstore: renewing token %s at the provider: %w", t.ID, err)
	}
	got := FromOAuth2(ot, ts.opts.ExtraKeys...)
	if !ot.Expiry.IsZero() {
		// x/oauth2 computes the expiry on the real clock.
		got.Expiry = ts.now().Add(time.Until(ot.Expiry))
	}
	return got, nil
}

// isInvalidGrant reports whether the provider rejected the grant or refresh
// token itself (RFC 6749 §5.2), rather than failing.
func isInvalidGrant(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == "invalid_grant"
}

func saveError(err error) error {
	return fmt.Errorf("tokenstore: saving the renewed token failed; it is kept in memory and saved by the next call: %w", err)
}

// pendingSave is a renewed token whose save failed. It is kept until saved,
// because the grant or refresh token it replaced is spent.
type pendingSave struct {
	base  *Token // the stored token it was renewed from, without lease
	next  *Token // base merged with the provider's response
	lease lease  // the lease it was renewed under, if any
}

// persist saves st.pending. The caller holds st.sem.
func (ts *TokenSource) persist(ctx context.Context, st *tokenState) error {
	p := st.pending
	var (
		saved *Token
		err   error
	)
	if ts.upd != nil {
		saved, err = ts.commit(ctx, p.base.ID, p.base, p.next, p.lease)
		if errors.Is(err, ErrNotFound) {
			st.pending = nil
			return deletedError(err)
		}
	} else {
		saved = p.next.Clone()
		err = ts.store.SaveToken(ctx, saved)
	}
	if err != nil {
		return saveError(err)
	}
	st.pending = nil
	st.latest = saved
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// tokenState coordinates the renewals of one stored token in this process,
// across TokenSources.
type tokenState struct {
	sem     chan struct{} // holds the right to renew; a channel so waits can be cancelled
	refs    int           // calls using the state; guarded by states.mu
	latest  *Token        // the last token obtained; guarded by sem
	pending *pendingSave  // guarded by sem
}

// stateKey names a stored token in this process: the store and the ID.
type stateKey struct {
	owner any // the store, or the TokenSource if the store cannot be a map key
	id    string
}

// states is shared by every TokenSource, so that sources created per
// request still renew each token once. An entry lives while calls use it
// or a save is pending.
var states = struct {
	mu sync.Mutex
	m  map[stateKey]*tokenState
}{m: make(map[stateKey]*tokenState)}

func (ts *TokenSource) stateKey(id string) stateKey {
	// Only pointers are safe map keys whatever their type; a store of
	// another kind coordinates the callers of this source alone.
	if v := reflect.ValueOf(ts.store); v.Kind() == reflect.Pointer {
		return stateKey{ts.store, id}
	}
	return stateKey{ts, id}
}

func acquireState(k stateKey) (*tokenState, func()) {
	states.mu.Lock()
	defer states.mu.Unlock()
	st := states.m[k]
	if st == nil {
		st = &tokenState{sem: make(chan struct{}, 1)}
		states.m[k] = st
	}
	st.refs++
	return st, func() {
		states.mu.Lock()
		defer states.mu.Unlock()
		st.refs--
		// pending is read without sem: no call holds it when refs is 0.
		if st.refs == 0 && st.pending == nil {
			delete(states.m, k)
		}
	}
}
