package vaultserver

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/builtin/logical/transit"
	vaulthttp "github.com/hashicorp/vault/http"
	"github.com/hashicorp/vault/internalshared/configutil"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/vault"
)

// TestServe serves Vault on $VAULTSERVER_ADDR until the process is killed.
// It is the program's main, not a test: run it only through the binary.
func TestServe(t *testing.T) {
	addr := os.Getenv("VAULTSERVER_ADDR")
	if addr == "" {
		t.Fatal("VAULTSERVER_ADDR is not set (host:port to listen on, e.g. 127.0.0.1:8200)")
	}
	// The test core already registers the KV engine (v1 and v2 are one
	// plugin, chosen per mount by options.version); Transit is added here.
	// The test logger logs at trace level, a line per request: keep
	// warnings and errors only, on stderr.
	logger := hclog.New(&hclog.LoggerOptions{Name: "vault", Level: hclog.Warn, Output: os.Stderr})
	core, _, rootToken := vault.TestCoreUnsealedWithConfig(t, &vault.CoreConfig{
		LogicalBackends: map[string]logical.Factory{"transit": transit.Factory},
		Logger:          logger,
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: vaulthttp.Handler.Handler(&vault.HandlerProperties{
			Core:           core,
			ListenerConfig: &configutil.Listener{},
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Printf("VAULTSERVER READY addr=http://%s token=%s\n", ln.Addr(), rootToken)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Fatal(err)
	}
}
