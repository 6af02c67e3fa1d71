#!/usr/bin/env bash
# bench.sh runs EchoTray's benchmarks and prints the figures that
# docs/benchmarks.md reports:
#   1. Go micro-benchmarks (frame decoding, catalog, policy, the history
#      store at 100,000 entries, the history window build);
#   2. end-to-end latency side by side with pusher-js through the real Soketi,
#      then 5,000 events/s for 10 s through one connection;
#   3. the footprint on a virtual desktop (Xvfb, xfwm4, xfce4-panel's systray,
#      gnome-keyring, dunst): the tray core, pusher-js, `watch`, the full
#      binary as the core and a build from before the split idle; the window
#      process; tray "Open history" → window, cold and warm; a burst of 1,000
#      events with the history window open (about 7 minutes with the builds);
#   4. a fleet of 2,000 realtime clients on a two-node Soketi cluster (Redis,
#      haproxy) with a throttled /broadcasting/auth: steady state, a node
#      killed, a rolling restart, 30 s of 429/503 from the auth endpoint,
#      memory per client; plots in docs/bench/fleet-*.png, figures in
#      docs/scaling.md (about 12 minutes).
# Raw output is kept in .cache/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/bench
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)

echo "== Go benchmarks (CGO_ENABLED=0 go test -run '^\$' -bench . -benchmem)"
CGO_ENABLED=0 go test -run '^$' -bench . -benchmem -timeout 30m \
	./realtime/ ./notify/ ./history/ ./app/ui/ | tee "$out/go-$stamp.txt"

echo
echo "== History search at 100,000 entries (first page, target <= 50 ms; migration of an old file)"
# Already run above with -bench .; repeated here for docs/benchmarks.md's
# section of that name. Alone: CGO_ENABLED=0 go test -run '^$' \
#   -bench 'StoreSearchCashier' -benchtime=20x ./history/ (and 'StoreMigrate'
#   with -benchtime=1x)
grep -E '^Benchmark(StoreSearchCashier100k|StoreMigrate100k)' "$out/go-$stamp.txt" || true

echo
echo "== Latency vs pusher-js, then sustained 5,000 events/s (go run ./bench/latency)"
go run ./bench/latency -events 2000 -rate 200 | tee "$out/latency-$stamp.txt"

echo
echo "== Footprint: the tray core vs the GUI process (go run ./bench/footprint)"
# The binaries as `make build` makes them, in a directory of our own (the
# core starts the window program found next to it).
bin=$out/bin
CGO_ENABLED=0 go build -tags nowindow -o "$bin/echotray" .
go build -tags migrated_fynedo -o "$bin/echotray-window" .
# The last build before the split (one Fyne process for tray and windows),
# for reference; built once from the repository's history, skipped if the
# commit is not there (a shallow clone).
prev=a5d850d
prevargs=()
if git cat-file -e "$prev^{commit}" 2>/dev/null; then
	prevbin=$out/prev-$prev/echotray
	if [[ ! -x $prevbin ]]; then
		src=$(mktemp -d)
		mkdir -p "$(dirname "$prevbin")"
		git archive "$prev" | tar -x -C "$src"
		(cd "$src" && go build -tags migrated_fynedo -o "$OLDPWD/$prevbin" .) || { rm -rf "$src"; exit 1; }
		rm -rf "$src"
	fi
	prevargs=(-prev "$prevbin" -prev-label "pre-split build ($prev)")
else
	echo "bench: commit $prev not in this clone; the pre-split build is left out"
fi
go run ./bench/footprint -bin "$bin" "${prevargs[@]}" -o "$out/footprint-$stamp.md" |
	tee "$out/footprint-$stamp.txt"

echo
echo "== Fleet: 2,000 clients on a Soketi cluster behind haproxy (go run ./bench/fleet)"
go run ./bench/fleet -clients 2000 -out docs/bench -report "$out/fleet-$stamp.md" \
	-log "$out/fleet-cluster-$stamp.log" | tee "$out/fleet-$stamp.txt"

echo
echo "bench: raw output in $out/*-$stamp.*"
