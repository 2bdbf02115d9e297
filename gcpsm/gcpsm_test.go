package gcpsm_test

import (
	"context"
	"sync"
	"testing"

	"google.golang.org/api/option"
	"google.golang.org/grpc"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/gcpsm"
	"github.com/tokenstore-go/tokenstore/gcpsm/gcpsmtest"
	"github.com/tokenstore-go/tokenstore/storetest"
)

const project = "tokenstore-test"

// fake is one fake server and a client of it whose calls are counted on the
// client side, by a gRPC interceptor.
type fake struct {
	srv    *gcpsmtest.Server
	client *secretmanager.Client
	calls  *callCounter
}

func newFake(t testing.TB, opts ...gcpsmtest.Option) *fake {
	t.Helper()
	srv, err := gcpsmtest.NewServer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cc := &callCounter{calls: make(map[string]int)}
	client, err := srv.NewClient(context.Background(), option.WithGRPCDialOption(grpc.WithChainUnaryInterceptor(cc.intercept)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return &fake{srv: srv, client: client, calls: cc}
}

func (f *fake) backend(t testing.TB, opts gcpsm.Options) *gcpsm.Backend {
	t.Helper()
	if opts.Project == "" {
		opts.Project = project
	}
	b, err := gcpsm.New(f.client, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// callCounter counts the API calls a client makes, by method.
type callCounter struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *callCounter) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	c.mu.Lock()
	c.calls[method[len("/google.cloud.secretmanager.v1.SecretManagerService/"):]]++
	c.mu.Unlock()
	return invoker(ctx, method, req, reply, cc, opts...)
}

// take returns the calls since the last take.
func (c *callCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := c.calls
	c.calls = make(map[string]int)
	return calls
}

func total(calls map[string]int) int {
	n := 0
	for _, v := range calls {
		n += v
	}
	return n
}

func TestConformance(t *testing.T) {
	f := newFake(t)
	storetest.RunBackend(t, func(ctx context.Context, t *testing.T) (tokenstore.Backend, error) {
		return gcpsm.New(f.client, gcpsm.Options{Project: project})
	})
}

func TestConformanceRegional(t *testing.T) {
	f := newFake(t)
	prefix := "" // no prefix at all: names stay apart all the same
	storetest.RunBackend(t, func(ctx context.Context, t *testing.T) (tokenstore.Backend, error) {
		return gcpsm.New(f.client, gcpsm.Options{Project: project, Location: "europe-west1", Prefix: &prefix})
	})
}
