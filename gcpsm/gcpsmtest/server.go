// Package gcpsmtest is an in-process fake of Google Cloud Secret Manager and
// Cloud KMS, served over gRPC on a loopback port, for tests of code that
// uses cloud.google.com/go/secretmanager or cloud.google.com/go/kms. Google
// offers no emulator for either service and recommends fakes of the gRPC
// service; this one implements the official server interfaces and keeps the
// real services' rules where callers depend on them.
//
//	srv, err := gcpsmtest.NewServer()
//	if err != nil { ... }
//	defer srv.Close()
//	client, err := srv.NewClient(ctx) // a *secretmanager.Client
//
// # What is faithful
//
// Checked against the API reference: secret IDs of 1 to 255 of
// [A-Za-z0-9_-]; the label rules (at most 64; keys start with a lowercase
// letter; keys and values of at most 63 lowercase letters, digits, '_' and
// '-'; international lowercase letters allowed) and the version-alias rules,
// all INVALID_ARGUMENT when broken; ALREADY_EXISTS and NOT_FOUND; replication
// required for global secrets and refused for regional ones
// (projects/P/locations/L); ListSecrets and ListSecretVersions with filters
// (see below), pages of at most 25000 and page tokens that stay valid while
// secrets come and go; a secret etag that changes on every change of the
// secret (CreateSecret, UpdateSecret) and not when a version is added, and
// FAILED_PRECONDITION when a request's etag does not match; versions numbered
// 1, 2, ... and never reused, in the states ENABLED, DISABLED and DESTROYED
// (terminal), with access to a version that is not enabled refused with
// FAILED_PRECONDITION; "latest" as the most recently created version,
// whatever its state; access by version alias; the 65536-byte payload limit
// and the CRC32C checksum (INVALID_ARGUMENT); names returned with the
// project number, as the real service does, while requests may name the
// project by ID or number; projects and locations isolated from each other.
//
// Where the reference is silent the fake assumes, and its tests pin: an
// unknown alias or version number is NOT_FOUND, an alias naming a version
// that does not exist is INVALID_ARGUMENT, and destroying a destroyed
// version is FAILED_PRECONDITION.
//
// Filters understand the forms callers use: terms joined by AND (and the
// implicit AND of a space), each `labels.KEY=VALUE`, `labels.KEY:*`,
// `labels.KEY:VALUE`, `name:SUBSTRING` or (for versions) `state:STATE`.
// Anything else is INVALID_ARGUMENT rather than a silently wrong answer.
//
// Cloud KMS: Encrypt and Decrypt with symmetric keys made by AddCryptoKey
// (other names are NOT_FOUND), AES-256-GCM authenticating the request's
// additional_authenticated_data, CRC32C checksums verified and reported,
// and INVALID_ARGUMENT for a ciphertext that does not authenticate.
//
// For tests of what callers do under load or failure: WithLatency delays
// every call, FailNext makes the next calls of a method fail with a code
// of choice, and Calls counts the calls answered.
//
// Not modelled: IAM, replication status, rotation, topics, expiration,
// delayed destruction, CMEK, and the eventual consistency the real service
// does not have either for these calls.
package gcpsmtest

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	kms "cloud.google.com/go/kms/apiv1"
	"cloud.google.com/go/kms/apiv1/kmspb"
	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// Server is a running fake of Secret Manager and Cloud KMS. It is safe for
// concurrent use.
type Server struct {
	sm   *secretManager
	kms  *keyManagement
	lis  net.Listener
	grpc *grpc.Server

	latency time.Duration

	mu       sync.Mutex
	calls    map[string]int
	failures map[string][]codes.Code // by method, the next answers
}

// Option configures a Server.
type Option func(*Server)

// WithLatency delays every call by d, so that tests can measure what
// parallelism buys against a service that answers in milliseconds, not
// microseconds.
func WithLatency(d time.Duration) Option {
	return func(s *Server) { s.latency = d }
}

// NewServer starts a fake on a free loopback port.
func NewServer(opts ...Option) (*Server, error) {
	s := &Server{calls: make(map[string]int), sm: newSecretManager(), kms: newKeyManagement()}
	for _, o := range opts {
		o(s)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("gcpsmtest: listen: %w", err)
	}
	s.lis = lis
	s.grpc = grpc.NewServer(grpc.UnaryInterceptor(s.intercept))
	secretmanagerpb.RegisterSecretManagerServiceServer(s.grpc, s.sm)
	kmspb.RegisterKeyManagementServiceServer(s.grpc, s.kms)
	go s.grpc.Serve(lis)
	return s, nil
}

func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	method := methodName(info.FullMethod)
	s.mu.Lock()
	s.calls[method]++
	var fail codes.Code
	if f := s.failures[method]; len(f) > 0 {
		fail, s.failures[method] = f[0], f[1:]
	}
	s.mu.Unlock()
	if s.latency > 0 {
		t := time.NewTimer(s.latency)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	if fail != codes.OK {
		return nil, status.Errorf(fail, "gcpsmtest: injected failure of %s", method)
	}
	return handler(ctx, req)
}

// FailNext makes the next n calls of method (such as "AccessSecretVersion"
// or "Encrypt") fail with code, to test how callers ride out UNAVAILABLE or
// RESOURCE_EXHAUSTED.
func (s *Server) FailNext(n int, method string, code codes.Code) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failures == nil {
		s.failures = make(map[string][]codes.Code)
	}
	for range n {
		s.failures[method] = append(s.failures[method], code)
	}
}

// methodName turns "/google.cloud.secretmanager.v1.SecretManagerService/GetSecret"
// into "GetSecret".
func methodName(full string) string {
	for i := len(full) - 1; i >= 0; i-- {
		if full[i] == '/' {
			return full[i+1:]
		}
	}
	return full
}

// Addr returns the host:port the fake listens on.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// ClientOptions are the options that point a Google Cloud client at the
// fake: its endpoint, no TLS, no credentials.
func (s *Server) ClientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(s.Addr()),
		option.WithoutAuthentication(),
		option.WithTelemetryDisabled(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

// NewClient returns a Secret Manager client of the fake. Extra options come
// after the fake's own, for example
// option.WithGRPCDialOption(grpc.WithChainUnaryInterceptor(...)) to watch
// the calls. The caller closes the client.
func (s *Server) NewClient(ctx context.Context, extra ...option.ClientOption) (*secretmanager.Client, error) {
	return secretmanager.NewClient(ctx, append(s.ClientOptions(), extra...)...)
}

// NewKMSClient returns a Cloud KMS client of the fake; see NewClient.
func (s *Server) NewKMSClient(ctx context.Context, extra ...option.ClientOption) (*kms.KeyManagementClient, error) {
	return kms.NewKeyManagementClient(ctx, append(s.ClientOptions(), extra...)...)
}

// Calls returns how many calls of each method the fake has answered since
// it started or since the last ResetCalls, by method name ("GetSecret").
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		c[k] = v
	}
	return c
}

// ResetCalls sets the call counts to zero.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = make(map[string]int)
}

// Close stops the fake at once; clients of it fail from then on.
func (s *Server) Close() {
	s.grpc.Stop()
}
