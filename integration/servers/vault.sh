# Starts a real HashiCorp Vault server for the hashivault tests; sourced by
# run.sh after lib.sh.
#
# The server is Vault's own code, github.com/hashicorp/vault v1.21.0 (with
# vault/sdk v0.20.0: later vault tags do not build against any published
# sdk), in the lean form of integration/vaultserver: Vault's core with the KV
# and Transit engines behind Vault's HTTP handler, as vault.NewTestCluster
# runs it, in memory and unsealed. It speaks the same HTTP API as
# `vault server -dev`. Why not the full `vault` binary: it compiles every
# plugin (cloud auth methods, database plugins, msgraph): well over 20
# minutes from a cold Go cache on 2 cores (DESIGN.md §6). The lean build
# took 7.7 min user + 1.2 min system CPU from a cold build cache (17.7 min
# wall on a 2-core machine busy with other builds; about 5 min alone, as
# DESIGN.md measured), after about 1.5 min of module downloads on a fresh
# machine, and 7-10 s warm (go test -c, CGO_ENABLED=0). The build goes to a
# temp dir, removed once the server runs; the Go build cache keeps
# rebuilds fast.
#
# Exports TOKENSTORE_VAULT_ADDR, TOKENSTORE_VAULT_TOKEN (root),
# TOKENSTORE_VAULT_MOUNT (a KV v2 mount) and TOKENSTORE_VAULT_TRANSIT (the
# Transit mount).

vault_start() {
	local dir port log deadline token=""
	dir=$(mktemp -d)
	echo "building the Vault server (integration/vaultserver)"
	local t0=$SECONDS
	(cd vaultserver && CGO_ENABLED=0 go test -c -o "$dir/vaultserver" .)
	echo "built the Vault server in $((SECONDS - t0)) s"

	port=$(free_port)
	log="$LOG_DIR/vault.log"
	# GOGC=400: the in-memory server is small, and less time in its garbage
	# collector is a quarter less CPU in the tests' races (measured).
	GOGC=400 VAULTSERVER_ADDR="127.0.0.1:$port" start_bg vault "$dir/vaultserver" -test.run '^TestServe$' -test.timeout 0
	wait_http "http://127.0.0.1:$port/v1/sys/health" 120
	# The running server keeps its file open; the 150 MB need not stay.
	rm -rf "$dir"
	# The root token is new on every start; the server prints it.
	deadline=$((SECONDS + 30))
	until token=$(sed -n 's/^VAULTSERVER READY .* token=\([^ ]*\)$/\1/p' "$log") && [ -n "$token" ]; do
		if ((SECONDS > deadline)); then
			echo "Vault printed no root token" >&2
			return 1
		fi
		sleep 0.2
	done

	export TOKENSTORE_VAULT_ADDR="http://127.0.0.1:$port"
	export TOKENSTORE_VAULT_TOKEN="$token"
	export TOKENSTORE_VAULT_MOUNT="kv2"
	export TOKENSTORE_VAULT_TRANSIT="transit"
	# The test core mounts secret/ as KV version 1: mount a version 2 of
	# our own, and Transit.
	local mounts
	mounts=$(vault_api GET sys/mounts)
	if [[ $mounts != *"\"$TOKENSTORE_VAULT_MOUNT/\""* ]]; then
		vault_api POST "sys/mounts/$TOKENSTORE_VAULT_MOUNT" '{"type":"kv","options":{"version":"2"}}'
	fi
	if [[ $mounts != *"\"$TOKENSTORE_VAULT_TRANSIT/\""* ]]; then
		vault_api POST "sys/mounts/$TOKENSTORE_VAULT_TRANSIT" '{"type":"transit"}'
	fi
	# KV v2 upgrades a new mount in the background; wait until it answers.
	deadline=$((SECONDS + 30))
	until vault_api GET "$TOKENSTORE_VAULT_MOUNT/config" >/dev/null 2>&1; do
		if ((SECONDS > deadline)); then
			echo "the KV v2 mount did not become ready" >&2
			return 1
		fi
		sleep 0.2
	done
	echo "Vault at $TOKENSTORE_VAULT_ADDR: KV v2 at $TOKENSTORE_VAULT_MOUNT/, Transit at $TOKENSTORE_VAULT_TRANSIT/"
}

# vault_api METHOD PATH [JSON] calls the Vault HTTP API as root; fails on
# an error status.
vault_api() {
	local args=(-sS --fail-with-body -X "$1" -H "X-Vault-Token: $TOKENSTORE_VAULT_TOKEN")
	if (($# > 2)); then
		args+=(-H "Content-Type: application/json" -d "$3")
	fi
	curl "${args[@]}" "$TOKENSTORE_VAULT_ADDR/v1/$2"
}

vault_start
