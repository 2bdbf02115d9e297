package gcpsm

// # Compare-and-swap on Secret Manager
//
// Secret Manager has one conditional write: a request that carries a
// resource's etag fails with FAILED_PRECONDITION if the resource changed
// since. AddSecretVersion takes no etag, and the secret's etag covers the
// secret (labels, annotations, version aliases), not its versions: adding a
// version leaves it as it is. "latest" names the most recently created
// version whatever its state, and reading a disabled or destroyed version
// fails. So a version number alone gives no sound compare-and-swap: two
// writers that read version N both add a version, nothing stops either, and
// readers of "latest" see whichever came last, even a loser's value on which
// another writer may then build (a lost update), and a writer that dies
// before it cleans up leaves its value there for good.
//
// This backend therefore makes a version alias the commit point:
//
//   - The current value of a token is the version that the alias
//     "tokenstore-current" names. Readers access
//     ".../versions/tokenstore-current": one call, and they only ever see
//     committed values. A version that is added but not (or not yet) named
//     by the alias is invisible.
//   - Update(e) with e.Version = N reads the secret's etag and aliases
//     (GetSecret, or the state this process cached when it last wrote the
//     secret), checks that the alias still names N, adds version M, and
//     moves the alias to M with UpdateSecret carrying that etag. Of any set
//     of racing writers exactly one gets past the etag; the others destroy
//     their version and return ErrConflict, and the Store retries them on
//     the new value. No update is lost, and no reader sees a loser's value.
//   - The labels (the index) change in that same UpdateSecret, so index and
//     value change atomically and a label update costs no call of its own;
//     the labels are in the mask only when index values change.
//   - The winner then destroys version N, so that one version per token is
//     billed. If it dies first, N stays billed but is never read again.
//
// Why not version numbers alone (commit if M == N+1, else destroy M)? The
// loser's version is "latest" until it is destroyed, so readers would see
// it, and a writer that built on it would pass the same test on M+1,
// silently dropping the winner's update; a loser that died before
// destroying would leave its value current for good. The alias costs one
// UpdateSecret per write, which a refresh needs anyway for its new
// access-token label, and one GetSecret when this process did not make the
// current version itself.
//
// The etag check does not depend on whether adding a version changes the
// secret's etag (the API reference says it does not): if UpdateSecret fails
// on the etag while the alias still names N, the secret changed in other
// ways (someone edited a label) and the commit is retried with the new etag.
//
// Within one process (state.go), writes to one token are serialized,
// concurrent reads of it share one call, and a read that arrives while a
// write commits waits for it and returns the committed entry. Racing writers
// of one process then lose without adding versions, each round of a race
// costs two calls (AddSecretVersion, UpdateSecret) rather than a read for
// every retry, and 128 goroutines saving one user at once all succeed
// within the Store's retries. Writers in different processes are kept
// apart by the etag alone. A read may so return a value committed, in
// another process, no earlier than one call before it started: the window
// any read has, since the service answers after the fact.
//
// A version number alone would also not survive delete-and-recreate: a new
// secret of the same name numbers its versions from 1 again, so a writer
// that read version 2 of the old secret would pass the check on version 2 of
// the new one. Each secret therefore gets a random incarnation when it is
// created, in a label and in every payload; Entry.Version is
// "<version number>:<incarnation>" and Update checks both.
//
// # Payload
//
// Each version's payload is one header line, then the codec's output:
//
//	tokenstore-gcpsm/1 inc=<incarnation> user=<hash> access=<hash> ...
//	{"v":1,...}
//
// The header repeats the incarnation and the index values, so that Get
// returns a whole Entry (value, index, version) from the single
// AccessSecretVersion call, which returns a payload and nothing of the
// secret's labels. Labels exist for ListSecrets filters; the header is what
// a read trusts. A payload without a valid header (a secret written by
// hand) reads as that payload with an empty index.
//
// # Creation
//
// CreateSecret takes no payload, so creation is CreateSecret (with the
// labels), AddSecretVersion, and UpdateSecret to point the alias at version
// 1 (with the etag CreateSecret returned). A secret without the alias reads
// as absent. A creator that dies half-way leaves such a secret; the next
// Create finds ALREADY_EXISTS, sees no alias, and completes it with its own
// value under the same etag rule, destroying stray versions. ALREADY_EXISTS
// with the alias set is ErrConflict: the Store retries as an update.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"github.com/googleapis/gax-go/v2"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tokenstore-go/tokenstore"
)

// Client is the part of *secretmanager.Client that the backend calls.
type Client interface {
	CreateSecret(context.Context, *secretmanagerpb.CreateSecretRequest, ...gax.CallOption) (*secretmanagerpb.Secret, error)
	GetSecret(context.Context, *secretmanagerpb.GetSecretRequest, ...gax.CallOption) (*secretmanagerpb.Secret, error)
	UpdateSecret(context.Context, *secretmanagerpb.UpdateSecretRequest, ...gax.CallOption) (*secretmanagerpb.Secret, error)
	DeleteSecret(context.Context, *secretmanagerpb.DeleteSecretRequest, ...gax.CallOption) error
	ListSecrets(context.Context, *secretmanagerpb.ListSecretsRequest, ...gax.CallOption) *secretmanager.SecretIterator
	AddSecretVersion(context.Context, *secretmanagerpb.AddSecretVersionRequest, ...gax.CallOption) (*secretmanagerpb.SecretVersion, error)
	AccessSecretVersion(context.Context, *secretmanagerpb.AccessSecretVersionRequest, ...gax.CallOption) (*secretmanagerpb.AccessSecretVersionResponse, error)
	DestroySecretVersion(context.Context, *secretmanagerpb.DestroySecretVersionRequest, ...gax.CallOption) (*secretmanagerpb.SecretVersion, error)
	ListSecretVersions(context.Context, *secretmanagerpb.ListSecretVersionsRequest, ...gax.CallOption) *secretmanager.SecretVersionIterator
}

var _ Client = (*secretmanager.Client)(nil)

// Options configures a Backend. Namespace, index key and codec are options
// of the tokenstore.Store over it, not of the backend.
type Options struct {
	// Project is the Google Cloud project ID (or number) that holds the
	// secrets. Required.
	Project string

	// Location, if set, keeps the tokens in regional secrets of that
	// location (projects/P/locations/L/secrets/...). Regional secrets are
	// served by a regional endpoint, which is the client's concern: build
	// it with option.WithEndpoint("secretmanager.L.rep.googleapis.com:443").
	// Empty: global secrets.
	Location string

	// Prefix starts every secret ID, so that the tokens are easy to tell
	// apart from other secrets of the project and to grant access to by
	// IAM condition. The secret ID of a token is Prefix + namespace + "_" +
	// ID. At most 86 of [A-Za-z0-9_-]. Nil means DefaultPrefix; use a
	// pointer to "" for no prefix.
	Prefix *string

	// Replication of new global secrets. Default: automatic. Ignored for
	// regional secrets, which the API refuses a replication policy.
	Replication *secretmanagerpb.Replication

	// Parallelism bounds the concurrent AccessSecretVersion calls of List
	// and Lookup. Default 8.
	Parallelism int

	// CallOptions are passed to every call after the backend's own, which
	// retry UNAVAILABLE and RESOURCE_EXHAUSTED with exponential backoff; a
	// gax.WithRetry here replaces that retryer.
	CallOptions []gax.CallOption
}

// Defaults of Options.
const (
	DefaultPrefix      = "tokenstore-"
	DefaultParallelism = 8
)

// maxPrefixLength keeps the longest secret ID, prefix + 40-character
// namespace + "_" + 128-character ID, within the API's 255.
const maxPrefixLength = 255 - 40 - 1 - tokenstore.MaxIDLength

// MaxPayloadSize is the largest secret version payload Secret Manager
// accepts; the header takes about 280 bytes of it.
const MaxPayloadSize = 65536

// Labels and alias of the backend's secrets. Label keys take '_', not '-',
// and filter values are quoted, so that no filter parser can read a '-' as
// negation; a namespace may hold '-'.
const (
	labelPrefix      = "tokenstore_"
	labelNamespace   = labelPrefix + "ns"
	labelIncarnation = labelPrefix + "inc"
	aliasCurrent     = "tokenstore-current"
)

// indexLabels names the label of each index kind.
var indexLabels = map[tokenstore.IndexKind]string{
	tokenstore.IndexUserName:     labelPrefix + "user",
	tokenstore.IndexAccessToken:  labelPrefix + "access",
	tokenstore.IndexGrantToken:   labelPrefix + "grant",
	tokenstore.IndexRefreshToken: labelPrefix + "refresh",
}

// Backend keeps tokens in Google Cloud Secret Manager, one secret per token.
// It is safe for concurrent use.
type Backend struct {
	c           Client
	parent      string
	prefix      string
	replication *secretmanagerpb.Replication
	parallelism int
	callOpts    []gax.CallOption
	cache       stateCache
	locks       keyedLocks
	reads       readFlights
}

var _ tokenstore.Backend = (*Backend)(nil)

// retryCodes are retried by the client with backoff: the service is briefly
// unavailable, or a quota per minute is spent.
var retryCodes = []codes.Code{codes.Unavailable, codes.ResourceExhausted}

// New returns a Backend that keeps tokens in opts.Project through client.
func New(client Client, opts Options) (*Backend, error) {
	if client == nil {
		return nil, fmt.Errorf("gcpsm: nil Client: %w", tokenstore.ErrInvalidOptions)
	}
	if opts.Project == "" || strings.ContainsAny(opts.Project, "/ ") {
		return nil, fmt.Errorf("gcpsm: Project %q: want a project ID or number: %w", opts.Project, tokenstore.ErrInvalidOptions)
	}
	parent := "projects/" + opts.Project
	if opts.Location != "" {
		if !validLocation(opts.Location) {
			return nil, fmt.Errorf("gcpsm: Location %q: want a location such as europe-west1: %w", opts.Location, tokenstore.ErrInvalidOptions)
		}
		parent += "/locations/" + opts.Location
	}
	prefix := DefaultPrefix
	if opts.Prefix != nil {
		prefix = *opts.Prefix
	}
	if len(prefix) > maxPrefixLength || (prefix != "" && !tokenstore.ValidID(prefix)) {
		return nil, fmt.Errorf("gcpsm: Prefix %q: want at most %d of [A-Za-z0-9_-]: %w", prefix, maxPrefixLength, tokenstore.ErrInvalidOptions)
	}
	b := &Backend{c: client, parent: parent, prefix: prefix, parallelism: opts.Parallelism}
	if b.parallelism <= 0 {
		b.parallelism = DefaultParallelism
	}
	if opts.Location == "" {
		b.replication = opts.Replication
		if b.replication == nil {
			b.replication = &secretmanagerpb.Replication{Replication: &secretmanagerpb.Replication_Automatic_{Automatic: &secretmanagerpb.Replication_Automatic{}}}
		}
	}
	b.callOpts = append([]gax.CallOption{retry()}, opts.CallOptions...)
	return b, nil
}

func validLocation(l string) bool {
	for _, c := range l {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return l != "" && len(l) <= 63
}

// Name returns "gcpsm".
func (b *Backend) Name() string { return "gcpsm" }

// secretID maps (namespace, id) to a secret ID. Namespaces hold no '_', so
// the first '_' after the prefix ends the namespace: the map is injective,
// also for namespaces that are prefixes of each other.
func (b *Backend) secretID(ns, id string) string { return b.prefix + ns + "_" + id }

func (b *Backend) secretName(ns, id string) string {
	return b.parent + "/secrets/" + b.secretID(ns, id)
}

func (b *Backend) currentVersion(ns, id string) string {
	return b.secretName(ns, id) + "/versions/" + aliasCurrent
}

// idOf returns the token ID of a secret name of namespace ns, or false for
// a secret of another prefix or namespace. Names in responses carry the
// project number, so only what follows "/secrets/" is compared.
func (b *Backend) idOf(ns, name string) (string, bool) {
	i := strings.LastIndex(name, "/secrets/")
	if i < 0 {
		return "", false
	}
	sid := name[i+len("/secrets/"):]
	if j := strings.IndexByte(sid, '/'); j >= 0 {
		sid = sid[:j]
	}
	id, ok := strings.CutPrefix(sid, b.prefix+ns+"_")
	return id, ok && tokenstore.ValidID(id)
}

// versionNumber returns the number that ends a version name.
func versionNumber(name string) (int64, error) {
	n, err := strconv.ParseInt(name[strings.LastIndexByte(name, '/')+1:], 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("gcpsm: unexpected version name %q", name)
	}
	return n, nil
}

// newIncarnation returns 64 random bits in lowercase hex: a label value.
func newIncarnation() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// labels returns the secret's labels for an entry: the backend's own, over
// those others put there.
func labels(others map[string]string, ns, inc string, ix tokenstore.Index) map[string]string {
	l := make(map[string]string, len(others)+6)
	for k, v := range others {
		if !strings.HasPrefix(k, labelPrefix) {
			l[k] = v
		}
	}
	l[labelNamespace] = ns
	l[labelIncarnation] = inc
	for kind, v := range ix.All() {
		l[indexLabels[kind]] = v
	}
	return l
}

// version is a parsed Entry.Version.
type version struct {
	number int64
	inc    string
}

func (v version) String() string { return strconv.FormatInt(v.number, 10) + ":" + v.inc }

func parseVersion(s string) (version, error) {
	n, inc, ok := strings.Cut(s, ":")
	num, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || num <= 0 {
		return version{}, fmt.Errorf("gcpsm: malformed entry version %q", s)
	}
	return version{num, inc}, nil
}

// Get returns the entry: one AccessSecretVersion of the current version.
func (b *Backend) Get(ctx context.Context, ns, id string) (*tokenstore.Entry, error) {
	name := b.secretName(ns, id)
	// A read that finds this process committing a write of the token waits
	// for it and returns what it committed, which the service has just
	// confirmed: no call, and no read of the value being replaced, which
	// an update could only lose with.
	if e, ok, err := b.locks.awaitCommit(ctx, name); err != nil || ok {
		return e, err
	}
	return b.reads.read(ctx, name, func(ctx context.Context) (*tokenstore.Entry, error) {
		return b.access(ctx, id, b.currentVersion(ns, id))
	})
}

func (b *Backend) access(ctx context.Context, id, name string) (*tokenstore.Entry, error) {
	resp, err := b.c.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: name}, b.callOpts...)
	if err != nil {
		return nil, mapAccessError(err, id)
	}
	num, err := versionNumber(resp.GetName())
	if err != nil {
		return nil, err
	}
	h, value := parsePayload(resp.GetPayload().GetData())
	b.cache.seen(strings.TrimSuffix(name, "/versions/"+aliasCurrent), num, h.inc)
	return &tokenstore.Entry{ID: id, Value: value, Index: h.index, Version: version{num, h.inc}.String()}, nil
}

// Create creates the secret and its first version.
func (b *Backend) Create(ctx context.Context, ns string, e *tokenstore.Entry) error {
	inc := newIncarnation()
	payload, err := encodePayload(header{inc: inc, index: e.Index}, e.Value)
	if err != nil {
		return err
	}
	sec, err := b.c.CreateSecret(ctx, &secretmanagerpb.CreateSecretRequest{
		Parent:   b.parent,
		SecretId: b.secretID(ns, e.ID),
		Secret:   &secretmanagerpb.Secret{Replication: b.replication, Labels: labels(nil, ns, inc, e.Index)},
	}, b.callOpts...)
	if code(err) == codes.AlreadyExists {
		return b.complete(ctx, ns, e)
	}
	if err != nil {
		return mapError(err, "creating the secret", e.ID)
	}
	name := b.secretName(ns, e.ID)
	// Racing creators of this process wait, then find the entry made.
	unlock, err := b.locks.lock(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	added, err := b.add(ctx, name, e.ID, payload, true)
	if err != nil {
		return err
	}
	if err := b.setCurrent(ctx, name, stateOf(sec), ns, e, added, version{0, inc}); err != nil {
		b.destroy(ctx, added.name)
		return err
	}
	return nil
}

// complete finishes a secret that a creator left without a current version,
// or reports that the entry exists.
func (b *Backend) complete(ctx context.Context, ns string, e *tokenstore.Entry) error {
	name := b.secretName(ns, e.ID)
	unlock, err := b.locks.lock(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	if st, ok := b.cache.get(name); ok && st.current != 0 {
		return fmt.Errorf("gcpsm: entry %s exists: %w", e.ID, tokenstore.ErrConflict)
	}
	st, err := b.readState(ctx, name, e.ID)
	if errors.Is(err, tokenstore.ErrNotFound) {
		return fmt.Errorf("gcpsm: secret of %s deleted during its creation: %w", e.ID, tokenstore.ErrConflict)
	}
	if err != nil {
		return err
	}
	if st.current != 0 {
		return fmt.Errorf("gcpsm: entry %s exists: %w", e.ID, tokenstore.ErrConflict)
	}
	inc := st.inc
	if inc == "" {
		inc = newIncarnation()
	}
	payload, err := encodePayload(header{inc: inc, index: e.Index}, e.Value)
	if err != nil {
		return err
	}
	added, err := b.add(ctx, name, e.ID, payload, true)
	if err != nil {
		return err
	}
	if err := b.setCurrent(ctx, name, st, ns, e, added, version{0, inc}); err != nil {
		b.destroy(ctx, added.name)
		return err
	}
	b.destroyStrays(ctx, name, added.number)
	return nil
}

// Update adds the new value as a version and makes it current if the
// current version is still e.Version, then destroys the superseded version.
func (b *Backend) Update(ctx context.Context, ns string, e *tokenstore.Entry) error {
	prev, err := parseVersion(e.Version)
	if err != nil {
		return err
	}
	payload, err := encodePayload(header{inc: prev.inc, index: e.Index}, e.Value)
	if err != nil {
		return err
	}
	name := b.secretName(ns, e.ID)
	if b.knownStale(name, prev) {
		return staleError(e.ID, prev)
	}
	unlock, err := b.locks.lock(ctx, name)
	if err != nil {
		return err
	}
	err = b.updateLocked(ctx, name, ns, e, payload, prev)
	// Destroying the superseded version is no part of the commit: the next
	// writer need not wait for it.
	unlock()
	if err != nil {
		return err
	}
	// Committed; if destroying fails, one more version stays billed and
	// nothing else goes wrong, so the update still succeeds.
	b.destroy(ctx, name+"/versions/"+strconv.FormatInt(prev.number, 10))
	return nil
}

// knownStale reports whether the cache knows of a version newer than prev.
func (b *Backend) knownStale(name string, prev version) bool {
	st, ok := b.cache.get(name)
	return ok && st.inc == prev.inc && st.current > prev.number
}

func staleError(id string, prev version) error {
	return fmt.Errorf("gcpsm: entry %s changed since version %d was read: %w", id, prev.number, tokenstore.ErrConflict)
}

// updateLocked commits payload over prev with the secret's write lock
// held. The cached state saves the GetSecret when this process made prev
// current, and fails a writer that lost to another of this process without
// a call.
func (b *Backend) updateLocked(ctx context.Context, name, ns string, e *tokenstore.Entry, payload []byte, prev version) error {
	st, ok := b.cache.get(name)
	if ok && st.inc == prev.inc && st.current > prev.number {
		return staleError(e.ID, prev)
	}
	if !ok || st.current != prev.number || st.inc != prev.inc {
		var err error
		if st, err = b.readState(ctx, name, e.ID); err != nil {
			return err
		}
		if st.current != prev.number || st.inc != prev.inc {
			return staleError(e.ID, prev)
		}
	}
	added, err := b.add(ctx, name, e.ID, payload, false)
	if err != nil {
		return err
	}
	if err := b.setCurrent(ctx, name, st, ns, e, added, prev); err != nil {
		b.destroy(ctx, added.name)
		return err
	}
	return nil
}

// readState reads the secret's state with GetSecret and caches it.
func (b *Backend) readState(ctx context.Context, name, id string) (secretState, error) {
	sec, err := b.c.GetSecret(ctx, &secretmanagerpb.GetSecretRequest{Name: name}, b.callOpts...)
	if err != nil {
		b.cache.drop(name)
		return secretState{}, mapError(err, "reading the secret", id)
	}
	st := stateOf(sec)
	b.cache.put(name, st)
	return st, nil
}

// addedVersion is a version added but not yet current.
type addedVersion struct {
	name   string
	number int64
}

// add adds payload as a new version of the secret.
func (b *Backend) add(ctx context.Context, name, id string, payload []byte, creating bool) (addedVersion, error) {
	v, err := b.c.AddSecretVersion(ctx, &secretmanagerpb.AddSecretVersionRequest{
		Parent:  name,
		Payload: &secretmanagerpb.SecretPayload{Data: payload},
	}, b.callOpts...)
	if err != nil {
		b.cache.drop(name)
		if code(err) == codes.NotFound && creating {
			return addedVersion{}, fmt.Errorf("gcpsm: secret of %s deleted during its creation: %w", id, tokenstore.ErrConflict)
		}
		return addedVersion{}, mapAddError(err, id)
	}
	n, err := versionNumber(v.GetName())
	if err != nil {
		return addedVersion{}, err
	}
	return addedVersion{v.GetName(), n}, nil
}

// maxEtagRetries bounds the commits retried because the etag changed while
// the current version did not (someone edited the secret's other fields).
const maxEtagRetries = 3

// setCurrent points the alias at added, with the etag of st, in which prev
// (number 0: none) is current, and updates the labels if the index changed.
// The caller destroys added on failure.
func (b *Backend) setCurrent(ctx context.Context, name string, st secretState, ns string, e *tokenstore.Entry, added addedVersion, prev version) error {
	for attempt := 0; ; attempt++ {
		aliases := maps.Clone(st.aliases)
		if aliases == nil {
			aliases = make(map[string]int64, 1)
		}
		aliases[aliasCurrent] = added.number
		upd := &secretmanagerpb.Secret{Name: name, Etag: st.etag, VersionAliases: aliases}
		paths := []string{"version_aliases"}
		if want := labels(st.labels, ns, prev.inc, e.Index); !maps.Equal(want, st.labels) {
			upd.Labels = want
			paths = append(paths, "labels")
		}
		sec, err := b.c.UpdateSecret(ctx, &secretmanagerpb.UpdateSecretRequest{Secret: upd, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}}, b.callOpts...)
		if err == nil {
			b.cache.put(name, stateOf(sec))
			b.reads.forget(name, nil)
			b.locks.committed(name, &tokenstore.Entry{
				ID: e.ID, Value: slices.Clone(e.Value), Index: e.Index,
				Version: version{added.number, prev.inc}.String(),
			})
			return nil
		}
		b.cache.drop(name)
		c := code(err)
		if c == codes.FailedPrecondition && attempt < maxEtagRetries {
			// The etag moved. If the current version did not, the secret
			// changed in ways that do not matter here: commit again.
			if st, err = b.readState(ctx, name, e.ID); err == nil && st.current == prev.number && st.inc == prev.inc {
				continue
			}
		}
		if c == codes.FailedPrecondition || c == codes.NotFound && prev.number == 0 {
			return fmt.Errorf("gcpsm: entry %s changed during the write: %w", e.ID, tokenstore.ErrConflict)
		}
		return mapError(err, "committing the version of", e.ID)
	}
}

// destroy destroys a version whose value is of no use, best effort: a
// failure leaves a billed version that no read ever returns.
func (b *Backend) destroy(ctx context.Context, name string) {
	// A canceled ctx must not leave the version behind.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	b.c.DestroySecretVersion(ctx, &secretmanagerpb.DestroySecretVersionRequest{Name: name}, b.callOpts...)
}

// destroyStrays destroys the versions of secret older than keep that are
// still billed, left by creators that died or lost: no version older than
// the first current one ever becomes current.
func (b *Backend) destroyStrays(ctx context.Context, secret string, keep int64) {
	it := b.c.ListSecretVersions(ctx, &secretmanagerpb.ListSecretVersionsRequest{Parent: secret}, b.callOpts...)
	for {
		v, err := it.Next()
		if err != nil {
			return
		}
		// Only older versions: a newer one may be current already, made so
		// by an update that followed the completion.
		if n, err := versionNumber(v.GetName()); err == nil && n < keep && v.GetState() != secretmanagerpb.SecretVersion_DESTROYED {
			b.destroy(ctx, v.GetName())
		}
	}
}

// Delete deletes the secret with all its versions.
func (b *Backend) Delete(ctx context.Context, ns, id string) error {
	name := b.secretName(ns, id)
	err := b.c.DeleteSecret(ctx, &secretmanagerpb.DeleteSecretRequest{Name: name}, b.callOpts...)
	b.reads.forget(name, nil)
	b.cache.drop(name)
	if err != nil {
		return mapError(err, "deleting the secret", id)
	}
	return nil
}

// Lookup lists the secrets of the namespace labelled with value for kind,
// then accesses their current versions.
func (b *Backend) Lookup(ctx context.Context, ns string, kind tokenstore.IndexKind, value string) ([]*tokenstore.Entry, error) {
	label, ok := indexLabels[kind]
	if !ok || !labelValue(value) {
		// Not a value Store writes; nothing can carry it, and it must not
		// reach a filter.
		return nil, nil
	}
	return b.list(ctx, ns, fmt.Sprintf(`labels.%s="%s" AND labels.%s="%s"`, labelNamespace, ns, label, value))
}

// List lists the secrets of the namespace, then accesses their current
// versions.
func (b *Backend) List(ctx context.Context, ns string) ([]*tokenstore.Entry, error) {
	return b.list(ctx, ns, fmt.Sprintf(`labels.%s="%s"`, labelNamespace, ns))
}

// labelValue reports whether v fits a label value and a filter term as is.
func labelValue(v string) bool {
	if v == "" || len(v) > 63 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// listPageSize asks for the largest page the API serves.
const listPageSize = 25000

func (b *Backend) list(ctx context.Context, ns, filter string) ([]*tokenstore.Entry, error) {
	type item struct{ id, name string }
	var items []item
	it := b.c.ListSecrets(ctx, &secretmanagerpb.ListSecretsRequest{Parent: b.parent, Filter: filter, PageSize: listPageSize}, b.callOpts...)
	for {
		sec, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, mapError(err, "listing secrets", "")
		}
		// The name check keeps out secrets of another prefix that carry
		// this namespace's label; the alias check, half-created ones.
		id, ok := b.idOf(ns, sec.GetName())
		if _, current := sec.GetVersionAliases()[aliasCurrent]; ok && current {
			items = append(items, item{id, sec.GetName() + "/versions/" + aliasCurrent})
		}
	}
	out := make([]*tokenstore.Entry, len(items))
	// The first failure cancels the reads still to come.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.parallelism)
	for i, item := range items {
		g.Go(func() error {
			e, err := b.access(gctx, item.id, item.name)
			if errors.Is(err, tokenstore.ErrNotFound) {
				return nil // deleted since it was listed
			}
			out[i] = e
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	entries := out[:0]
	for _, e := range out {
		if e != nil {
			entries = append(entries, e)
		}
	}
	return entries, nil
}
