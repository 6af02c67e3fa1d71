#!/usr/bin/env bash
# run-demo.sh starts the EchoTray demo: the real Soketi, the Laravel stand-in
# and an event generator (devstack), signs the demo tenant user in through the
# CLI and starts the tray app. Ctrl-C stops everything it started.
#
#   scripts/run-demo.sh [build/echotray]
#
# It runs the two programs `make build` writes: build/echotray (the tray core)
# starts build/echotray-window (the windows) from the same folder.
#
# On a desktop it uses your display, session bus, keyring, tray and
# notification daemon. Without a display (a server, a container) it brings its
# own: Xvfb (the first free display, or :$DEMO_DISPLAY), a private D-Bus
# session, an unlocked gnome-keyring, dunst, the xfwm4 window manager and
# xfce4-panel, whose systray is the StatusNotifierItem host that shows the
# tray icon.
#
# Settings, history and logs of the demo live in .cache/demo/, not in your
# own EchoTray configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/echotray}")
demo=$PWD/.cache/demo
mkdir -p "$demo"
[[ -x $bin ]] || { echo "run-demo: $bin is missing: run make build" >&2; exit 1; }
[[ -x $(dirname "$bin")/echotray-window ]] ||
	{ echo "run-demo: $(dirname "$bin")/echotray-window (the windows) is missing next to $bin: run make build" >&2; exit 1; }

export ECHOTRAY_CONFIG_DIR=$demo/config ECHOTRAY_DATA_DIR=$demo/data ECHOTRAY_CACHE_DIR=$demo/cache
email=${DEMO_EMAIL:-alice@tenant1.test}
password=${DEMO_PASSWORD:-password}
rate=${DEMO_RATE:-0.5}

pids=()
cleanup() {
	trap - EXIT INT TERM
	for ((i=${#pids[@]}-1; i>=0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# dbus_has NAME: the session bus has an owner for NAME.
dbus_has() {
	dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q 'boolean true'
}

# Everything below runs as children of this script, so that Ctrl-C or a kill
# of this script stops all of it (the cleanup above).
if [[ -z "${DISPLAY:-}" || -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]]; then
	echo "run-demo: no desktop session found; starting a private D-Bus session, gnome-keyring and dunst$([[ -z ${DISPLAY:-} ]] && echo ", and Xvfb, xfwm4 and xfce4-panel")"
	if [[ -z "${DISPLAY:-}" ]]; then
		# Xvfb picks a free display itself and writes its number to fd 3,
		# unless DEMO_DISPLAY names one.
		rm -f "$demo/display"
		if [[ -n ${DEMO_DISPLAY:-} ]]; then
			Xvfb ":$DEMO_DISPLAY" -screen 0 1440x900x24 -nolisten tcp >"$demo/xvfb.log" 2>&1 & pids+=($!)
			echo "$DEMO_DISPLAY" >"$demo/display"
		else
			Xvfb -displayfd 3 -screen 0 1440x900x24 -nolisten tcp 3>"$demo/display" >"$demo/xvfb.log" 2>&1 & pids+=($!)
			for _ in $(seq 100); do [[ -s $demo/display ]] && break; sleep 0.1; done
		fi
		[[ -s $demo/display ]] || { echo "run-demo: Xvfb did not start: see $demo/xvfb.log" >&2; exit 1; }
		export DISPLAY=:$(head -n1 "$demo/display")
		for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
		xdpyinfo >/dev/null 2>&1 || { echo "run-demo: Xvfb did not start on $DISPLAY: see $demo/xvfb.log" >&2; exit 1; }
		own_desktop=1
		# The desktop's settings stay in .cache/demo, and so does the core's
		# per-user socket (away from any EchoTray of your own).
		export XDG_CONFIG_HOME=$demo/xdg-config XDG_RUNTIME_DIR=$demo/run
		mkdir -p "$XDG_CONFIG_HOME"
		mkdir -p -m 700 "$XDG_RUNTIME_DIR"
	fi
	# A private session bus; the services it starts (xfconfd, at-spi, the
	# keyring) end with it.
	rm -f "$demo/bus"
	dbus-daemon --session --nofork --nopidfile --print-address=3 3>"$demo/bus" >"$demo/dbus.log" 2>&1 & pids+=($!)
	for _ in $(seq 100); do [[ -s $demo/bus ]] && break; sleep 0.1; done
	[[ -s $demo/bus ]] || { echo "run-demo: the D-Bus session did not start: see $demo/dbus.log" >&2; exit 1; }
	export DBUS_SESSION_BUS_ADDRESS=$(head -n1 "$demo/bus")
	# The demo's own keyring (in .cache/demo), created with this password on
	# the first run and unlocked with it afterwards.
	export XDG_DATA_HOME=$demo/xdg-data
	mkdir -p "$XDG_DATA_HOME"
	eval "$(printf 'echotray-demo' | gnome-keyring-daemon --unlock --components=secrets)"
	export GNOME_KEYRING_CONTROL
	dunst >"$demo/dunst.log" 2>&1 & pids+=($!)
	if [[ -n ${own_desktop:-} ]]; then
		# A window manager, and a real tray host: the systray of xfce4-panel
		# owns org.kde.StatusNotifierWatcher, so the tray icon shows.
		xfwm4 >"$demo/xfwm4.log" 2>&1 & pids+=($!)
		xfce4-panel --disable-wm-check >"$demo/xfce4-panel.log" 2>&1 & pids+=($!)
		for _ in $(seq 100); do dbus_has org.kde.StatusNotifierWatcher && break; sleep 0.1; done
		dbus_has org.kde.StatusNotifierWatcher ||
			echo "run-demo: xfce4-panel's tray did not come up (see $demo/xfce4-panel.log); EchoTray runs without a tray icon" >&2
		echo "run-demo: headless desktop on DISPLAY=$DISPLAY (screenshot: import -display $DISPLAY -window root shot.png)"
	fi
fi

go build -o "$demo/devstack" ./devstack/cmd/devstack
rm -f "$demo/state.json"
# Soketi on 6001 and the Laravel stand-in on 8000 (DEMO_SOKETI_PORT,
# DEMO_SERVER_PORT), or free ports when those are taken.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
soketi_port=${DEMO_SOKETI_PORT:-6001} server_port=${DEMO_SERVER_PORT:-8000}
if [[ -z ${DEMO_SOKETI_PORT:-} ]] && port_in_use "$soketi_port"; then
	echo "run-demo: port $soketi_port is taken; Soketi gets a free one"
	soketi_port=0
fi
if [[ -z ${DEMO_SERVER_PORT:-} ]] && port_in_use "$server_port"; then
	echo "run-demo: port $server_port is taken; the Laravel stand-in gets a free one"
	server_port=0
fi
"$demo/devstack" --state "$demo/state.json" --rate "$rate" \
	--soketi-port "$soketi_port" --server "127.0.0.1:$server_port" & pids+=($!)
for _ in $(seq 300); do
	[[ -s $demo/state.json ]] && break
	kill -0 "${pids[-1]}" 2>/dev/null || break
	sleep 0.1
done
[[ -s $demo/state.json ]] || { echo "run-demo: the dev stack did not start" >&2; exit 1; }

field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\).*/\1/p" "$demo/state.json" | head -n1; }
server=$(field server) key=$(field pusher_key) host=$(field pusher_host) port=$(field pusher_port)
scheme=$(field pusher_scheme)

echo "run-demo: signing in as $email at $server"
printf '%s\n' "$password" | "$bin" login --server "$server" --email "$email" --password-stdin \
	--pusher-key "$key" --pusher-host "$host" --pusher-port "$port" --pusher-scheme "${scheme:-http}"

if [[ -z ${own_desktop:-} && -S ${XDG_RUNTIME_DIR:-/nonexistent}/echotray.sock ]]; then
	echo "run-demo: note: an EchoTray may already run in your session ($XDG_RUNTIME_DIR/echotray.sock); quit it first, or the demo's start only opens its window" >&2
fi
echo "run-demo: starting EchoTray; events arrive every $(awk "BEGIN{print 1/$rate}") s. Ctrl-C stops everything."
"$bin" & pids+=($!)
wait "${pids[-1]}"
