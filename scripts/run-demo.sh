#!/usr/bin/env bash
# run-demo.sh starts the EchoTray demo: the real Soketi, the Laravel stand-in
# and an event generator (devstack), signs the demo tenant user in through the
# CLI and starts the tray app. Ctrl-C stops everything it started.
#
# On a desktop it uses your display, session bus, keyring and notification
# daemon. Without a display (a server, a container) it brings its own: Xvfb,
# a private D-Bus session, an unlocked gnome-keyring and dunst.
#
# Settings, history and logs of the demo live in .cache/demo/, not in your
# own EchoTray configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/echotray}")
demo=$PWD/.cache/demo
mkdir -p "$demo"

export ECHOTRAY_CONFIG_DIR=$demo/config ECHOTRAY_DATA_DIR=$demo/data ECHOTRAY_CACHE_DIR=$demo/cache
email=${DEMO_EMAIL:-alice@tenant1.test}
password=${DEMO_PASSWORD:-password}
rate=${DEMO_RATE:-0.5}

if [[ -z "${ECHOTRAY_DEMO_INNER:-}" && ( -z "${DISPLAY:-}" || -z "${DBUS_SESSION_BUS_ADDRESS:-}" ) ]]; then
	echo "run-demo: no desktop session found; starting Xvfb, a private D-Bus session, gnome-keyring and dunst"
	export ECHOTRAY_DEMO_INNER=1
	exec dbus-run-session -- "$0" "$@"
fi

pids=()
cleanup() {
	trap - EXIT INT TERM
	for ((i=${#pids[@]}-1; i>=0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -n "${ECHOTRAY_DEMO_INNER:-}" ]]; then
	if [[ -z "${DISPLAY:-}" ]]; then
		export DISPLAY=:${DEMO_DISPLAY:-77}
		Xvfb "$DISPLAY" -screen 0 1440x900x24 -nolisten tcp >"$demo/xvfb.log" 2>&1 & pids+=($!)
		for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
	fi
	# The demo's own keyring (in .cache/demo), created with this password on
	# the first run and unlocked with it afterwards.
	export XDG_DATA_HOME=$demo/xdg-data
	mkdir -p "$XDG_DATA_HOME"
	eval "$(printf 'echotray-demo' | gnome-keyring-daemon --unlock --components=secrets)"
	export GNOME_KEYRING_CONTROL
	dunst >"$demo/dunst.log" 2>&1 & pids+=($!)
	echo "run-demo: headless desktop on DISPLAY=$DISPLAY (screenshot: import -display $DISPLAY -window root shot.png)"
fi

go build -o "$demo/devstack" ./devstack/cmd/devstack
rm -f "$demo/state.json"
"$demo/devstack" --state "$demo/state.json" --rate "$rate" & pids+=($!)
for _ in $(seq 300); do [[ -s $demo/state.json ]] && break; sleep 0.1; done
[[ -s $demo/state.json ]] || { echo "run-demo: the dev stack did not start" >&2; exit 1; }

field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\).*/\1/p" "$demo/state.json" | head -n1; }
server=$(field server) key=$(field pusher_key) host=$(field pusher_host) port=$(field pusher_port)
scheme=$(field pusher_scheme)

echo "run-demo: signing in as $email at $server"
printf '%s\n' "$password" | "$bin" login --server "$server" --email "$email" --password-stdin \
	--pusher-key "$key" --pusher-host "$host" --pusher-port "$port" --pusher-scheme "${scheme:-http}"

echo "run-demo: starting EchoTray; events arrive every $(awk "BEGIN{print 1/$rate}") s. Ctrl-C stops everything."
"$bin" & pids+=($!)
wait "${pids[-1]}"
