// Package vaultcontainer starts a HashiCorp Vault dev server in Docker with
// testcontainers-go, for tests of code that keeps tokens in Vault through the
// hashivault backend, and returns a client with the root token, KV v2 at
// "secret/" (the dev server's default) and Transit at "transit/":
//
//	func TestWithVault(t *testing.T) {
//		testcontainers.SkipIfProviderIsNotHealthy(t)
//		v, err := vaultcontainer.Start(t.Context(), vaultcontainer.Options{})
//		if v != nil {
//			testcontainers.CleanupContainer(t, v)
//		}
//		if err != nil {
//			t.Fatal(err)
//		}
//		b, err := hashivault.New(v.Client, hashivault.Options{Mount: "secret"})
//		...
//	}
//
// It needs a Docker engine that can pull (or already has) the image.
// testcontainers-go's own Vault module is not served by the Go module proxy
// tokenstore builds with, so this uses a generic container. tokenstore's own
// CI has no Docker and runs Vault's server code directly instead
// (integration/servers/vault.sh).
package vaultcontainer

import (
	"context"
	"fmt"

	"github.com/hashicorp/vault/api"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// DefaultImage is the Vault image Start runs unless Options.Image names
// another: the version tokenstore's CI tests against.
const DefaultImage = "hashicorp/vault:1.21.0"

// Options configures Start.
type Options struct {
	// Image is the Vault image. Default DefaultImage.
	Image string
	// RootToken is the dev server's root token. Default "root".
	RootToken string
	// Customizers change the container request further.
	Customizers []testcontainers.ContainerCustomizer
}

// Container is a running Vault dev server.
type Container struct {
	*testcontainers.DockerContainer
	// Address is Vault's address on the host, such as "http://localhost:32768".
	Address string
	// Client reaches Vault with the root token.
	Client *api.Client
}

// Start runs a Vault dev server, waits until it is healthy, and mounts
// Transit. On error, the returned Container, if not nil, must still be
// terminated (testcontainers.CleanupContainer does that).
func Start(ctx context.Context, opts Options) (*Container, error) {
	if opts.Image == "" {
		opts.Image = DefaultImage
	}
	if opts.RootToken == "" {
		opts.RootToken = "root"
	}
	customizers := append([]testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts("8200/tcp"),
		testcontainers.WithEnv(map[string]string{
			"VAULT_DEV_ROOT_TOKEN_ID":  opts.RootToken,
			"VAULT_DEV_LISTEN_ADDRESS": "0.0.0.0:8200",
			"SKIP_SETCAP":              "true", // no IPC_LOCK needed for a dev server
		}),
		testcontainers.WithCmd("server", "-dev"),
		testcontainers.WithWaitStrategy(wait.ForHTTP("/v1/sys/health").WithPort("8200/tcp")),
	}, opts.Customizers...)
	dc, err := testcontainers.Run(ctx, opts.Image, customizers...)
	if dc == nil {
		return nil, err
	}
	c := &Container{DockerContainer: dc}
	if err != nil {
		return c, err
	}
	endpoint, err := dc.PortEndpoint(ctx, "8200/tcp", "http")
	if err != nil {
		return c, fmt.Errorf("vaultcontainer: address: %w", err)
	}
	c.Address = endpoint
	cfg := api.DefaultConfig()
	cfg.Address = endpoint
	if c.Client, err = api.NewClient(cfg); err != nil {
		return c, fmt.Errorf("vaultcontainer: client: %w", err)
	}
	c.Client.SetToken(opts.RootToken)
	if err := c.Client.Sys().MountWithContext(ctx, "transit", &api.MountInput{Type: "transit"}); err != nil {
		return c, fmt.Errorf("vaultcontainer: mounting transit: %w", err)
	}
	return c, nil
}
