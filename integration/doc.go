// Package integration runs the tokenstore backends against real servers: the
// conformance suite and each backend's own cases. It is its own module so
// that the library's go.mod stays lean.
//
// run.sh starts the servers (see servers/), exports their addresses in
// TOKENSTORE_* variables and runs the tests. A test whose server is missing
// fails; it never skips, so CI cannot pass without the servers.
package integration
