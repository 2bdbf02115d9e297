#!/usr/bin/env bash
# Runs every test of tokenstore: formatting, vet, the unit and conformance
# tests with the race detector, the examples, the quickstart, and the
# integration tests against real servers (integration/run.sh).
set -euo pipefail
cd "$(dirname "$0")"

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change: $unformatted" >&2
	exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test -race"
go test -race -count=1 ./...

echo "== quickstart"
go run ./examples/quickstart >/dev/null

echo "== integration tests against real servers"
./integration/run.sh

echo "all tests passed"
