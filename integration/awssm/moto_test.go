// Package awssm_test runs the awssm backend and KMS key wrapper against a
// moto server (integration/servers/moto.sh), reached the way moto and
// LocalStack users reach theirs: config.WithBaseEndpoint.
package awssm_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go/middleware"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/awssm"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/storetest"
)

// TestMain gives the SDK fake credentials and a region, and keeps it away
// from the developer's own AWS configuration.
func TestMain(m *testing.M) {
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "test",
		"AWS_SECRET_ACCESS_KEY":       "test",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-east-1",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		os.Setenv(k, v)
	}
	os.Exit(m.Run())
}

// awsConfig returns the SDK configuration for the moto server, failing the
// test when run.sh did not start one.
func awsConfig(t testing.TB) aws.Config {
	t.Helper()
	endpoint := os.Getenv("TOKENSTORE_MOTO_ENDPOINT")
	if endpoint == "" {
		t.Fatal("TOKENSTORE_MOTO_ENDPOINT is not set: run integration/run.sh, which starts moto")
	}
	// Enough idle connections for the conformance suite's 128 racing
	// writers: each new connection costs moto a thread.
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConnsPerHost = 256
	})
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithBaseEndpoint(endpoint), config.WithHTTPClient(httpClient))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// calls counts the HTTP requests an SDK client sends, by operation, retries
// included: what AWS bills.
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

func newCalls() *calls { return &calls{n: make(map[string]int)} }

// middleware registers the counter after the retry middleware, so that
// each attempt counts.
func (c *calls) middleware(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("tokenstore-count-calls",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetOperationName(ctx)
			c.mu.Lock()
			c.n[op]++
			c.mu.Unlock()
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

// take returns the calls counted since the last take.
func (c *calls) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = make(map[string]int)
	return n
}

func total(n map[string]int) int {
	s := 0
	for _, v := range n {
		s += v
	}
	return s
}

func format(n map[string]int) string {
	var parts []string
	for op, v := range n {
		parts = append(parts, fmt.Sprintf("%s×%d", op, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// smClient returns a Secrets Manager client for moto, counting its calls
// into c when c is not nil.
func smClient(t testing.TB, c *calls) *secretsmanager.Client {
	cfg := awsConfig(t)
	return secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		if c != nil {
			o.APIOptions = append(o.APIOptions, c.middleware)
		}
	})
}

func kmsClient(t testing.TB) *kms.Client {
	return kms.NewFromConfig(awsConfig(t))
}

// testPrefix keeps this run's secrets apart from any earlier run's on a
// long-lived server.
var testPrefix = func() string {
	var b [4]byte
	rand.Read(b[:])
	return "tokenstore-test-" + hex.EncodeToString(b[:]) + "/"
}()

// newBackend returns a backend over moto that force-deletes, so that names
// are free again at once.
func newBackend(t testing.TB, c *calls, opts awssm.Options) *awssm.Backend {
	t.Helper()
	if opts.Prefix == "" {
		opts.Prefix = testPrefix
	}
	if opts.RecoveryWindowInDays == 0 {
		opts.ForceDelete = true
	}
	b, err := awssm.New(smClient(t, c), opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newStore(t testing.TB, b tokenstore.Backend, ns string) *tokenstore.Store {
	t.Helper()
	s, err := tokenstore.New(b, tokenstore.Options{Namespace: ns, IndexKey: storetest.IndexKey, Codec: codec.Plain()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newNamespace(t testing.TB) string {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "aw-" + hex.EncodeToString(b[:])
}

// TestConformance runs the whole conformance suite on awssm over moto.
func TestConformance(t *testing.T) {
	storetest.RunBackend(t, func(ctx context.Context, t *testing.T) (tokenstore.Backend, error) {
		return newBackend(t, nil, awssm.Options{}), nil
	})
}
