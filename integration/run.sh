#!/usr/bin/env bash
# Starts the real servers the integration tests need (each servers/*.sh
# installs and starts one and exports its address), runs the tests, and
# stops the servers. With arguments, it runs `go test ARGS...` instead.
set -euo pipefail
cd "$(dirname "$0")"

LOG_DIR=$(mktemp -d)
SERVER_PIDS=()
stop_servers() {
	for pid in "${SERVER_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
on_exit() {
	local rc=$?
	stop_servers
	if ((rc != 0)); then
		for f in "$LOG_DIR"/*.log; do
			[ -e "$f" ] || continue
			echo "---- last lines of $f" >&2
			tail -n 30 "$f" >&2
		done
	fi
}
trap on_exit EXIT

. ./lib.sh
for s in servers/*.sh; do
	[ -e "$s" ] || continue
	echo "== starting $(basename "$s" .sh)"
	. "$s"
done

if (($# > 0)); then
	# For benchmarks and repeated runs against the servers, such as
	# integration/run.sh -race -count=100 -run TestExpiredTokenRace ./lifecycle
	go test "$@"
	exit
fi
echo "== integration: go vet"
go vet ./...
echo "== integration: go test -race"
go test -race -count=1 ./...
