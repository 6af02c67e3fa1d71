#!/usr/bin/env bash
# bench.sh runs EchoTray's benchmarks and prints the figures that
# docs/benchmarks.md reports:
#   1. Go micro-benchmarks of every package (frame decoding, catalog, policy,
#      history store at 100,000 entries, history window build);
#   2. end-to-end latency side by side with pusher-js through the real Soketi,
#      then 5,000 events/s for 10 s through one connection.
# Raw output is kept in .cache/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/bench
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)

echo "== Go benchmarks (CGO_ENABLED=0 go test -run '^\$' -bench . -benchmem)"
CGO_ENABLED=0 go test -run '^$' -bench . -benchmem -timeout 30m \
	./realtime/ ./notify/ ./app/ | tee "$out/go-$stamp.txt"

echo
echo "== Latency vs pusher-js, then sustained 5,000 events/s (go run ./bench/latency)"
go run ./bench/latency -events 2000 -rate 200 | tee "$out/latency-$stamp.txt"

echo
echo "bench: raw output in $out/*-$stamp.txt"
