// Package storetest is the conformance suite of tokenstore: the behaviour
// every TokenStore keeps, as tests. Run it on a store of your own with Run;
// backend drivers run RunBackend, which adds the driver contract and the
// checks that need to see what reaches the backend.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(ctx context.Context, t *testing.T) (storetest.Harness, error) {
//			return myHarness{db: openTestDB(t)}, nil
//		})
//	}
//
// Every test uses namespaces of its own, so harnesses may share one server
// across tests.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/tokenstore-go/tokenstore"
)

// Harness opens stores over one backend.
type Harness interface {
	// MakeStore returns a store in the given namespace (1 to 40 of
	// [a-z0-9-]) over the harness's backend. Stores of one harness share
	// the backend, so two stores of one namespace see the same tokens.
	MakeStore(ctx context.Context, namespace string) (tokenstore.TokenStore, error)
	// Close releases what the harness holds.
	Close()
}

// HarnessMaker returns a harness for one test.
type HarnessMaker func(ctx context.Context, t *testing.T) (Harness, error)

// BackendMaker returns a backend for one test.
type BackendMaker func(ctx context.Context, t *testing.T) (tokenstore.Backend, error)

// newNamespace returns a namespace no other test uses, so that tests can
// share a server and leave nothing that the next run trips over.
func newNamespace(t *testing.T) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "st-" + hex.EncodeToString(b[:])
}

// env is what one test works with.
type env struct {
	t *testing.T
	h Harness
}

func newEnv(t *testing.T, newHarness HarnessMaker) *env {
	t.Helper()
	h, err := newHarness(t.Context(), t)
	if err != nil {
		t.Fatalf("making harness: %v", err)
	}
	t.Cleanup(h.Close)
	return &env{t: t, h: h}
}

// store opens a store in a fresh namespace.
func (e *env) store() tokenstore.TokenStore {
	return e.storeIn(newNamespace(e.t))
}

func (e *env) storeIn(ns string) tokenstore.TokenStore {
	e.t.Helper()
	s, err := e.h.MakeStore(e.t.Context(), ns)
	if err != nil {
		e.t.Fatalf("MakeStore(%q): %v", ns, err)
	}
	return s
}
