// Package vaultserver runs the real HashiCorp Vault server code (Vault's own
// core, pinned to github.com/hashicorp/vault v1.21.0, with the KV and Transit
// secrets engines) behind Vault's HTTP handler on a loopback port, for the
// integration tests of tokenstore's hashivault backend.
//
// It is a test binary because the helper that builds an unsealed core,
// vault.TestCoreUnsealedWithConfig, wants a testing.TB. Build and run it with
//
//	CGO_ENABLED=0 go test -c -o vaultserver .
//	VAULTSERVER_ADDR=127.0.0.1:8200 ./vaultserver -test.run '^TestServe$' -test.timeout 0
//
// It prints one line "VAULTSERVER READY addr=... token=..." once the server
// answers, then serves until it is killed. The storage is in memory: every
// start is a fresh, unsealed Vault with a new root token.
//
// Why not the full vault binary: it compiles every plugin (cloud auth
// methods, database plugins, msgraph) and takes well over 20 minutes from a
// cold cache on 2 cores; this program compiles only the core, KV and Transit.
// See integration/servers/vault.sh for measured build times.
package vaultserver
