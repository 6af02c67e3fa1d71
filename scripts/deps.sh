#!/usr/bin/env bash
# deps.sh installs what EchoTray's build, tests and demo need, and nothing
# that is already there: Debian packages (Fyne's cgo build, the desktop pieces
# the end-to-end tests drive), the npm dev stack (Soketi, pusher, pusher-js)
# and the Go modules.
#
#   scripts/deps.sh            everything for make test / make run
#   scripts/deps.sh dist       also the packaging tools (mingw-w64, nsis, wine, lintian, debootstrap)
set -euo pipefail
cd "$(dirname "$0")/.."

want=(
	# Fyne's cgo build (GLFW, OpenGL, X11)
	gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev
	libxinerama-dev libxi-dev libxxf86vm-dev
	# the desktop the end-to-end tests and the headless demo run on
	xvfb xauth dbus dbus-x11 gnome-keyring libsecret-tools dunst libnotify-bin
	x11-utils xdotool imagemagick
	# a real tray host (its systray owns org.kde.StatusNotifierWatcher) and a
	# window manager, for the headless demo and the end-to-end tests
	xfce4-panel xfwm4
	# the dev stack's Soketi cluster (devstack.StartCluster): Redis for the
	# nodes' adapter, haproxy in front of them
	redis-server haproxy
	# the dev stack's real Laravel app (devstack/laravelapp): Laravel 8, Guzzle,
	# PHP's CLI and built-in server, SQLite and curl (no Composer)
	php-laravel-framework php-guzzlehttp-guzzle php-cli php-sqlite3 php-curl php-mbstring
)
if [[ "${1:-}" == dist ]]; then
	want+=(gcc-mingw-w64-x86-64 nsis lintian debootstrap dpkg-dev xz-utils wine wine64 desktop-file-utils appstream python3 make)
fi

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "deps: installing Debian packages: ${missing[*]}"
	sudo=""
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
		sudo=sudo
	fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The npm dev stack, exactly as the lockfile says.
node_dir=devstack/node
stamp=$node_dir/node_modules/.echotray-lock
if [[ ! -f $stamp ]] || ! cmp -s $node_dir/package-lock.json "$stamp"; then
	command -v npm >/dev/null || { echo "deps: npm is missing: install Node.js 20 and npm" >&2; exit 1; }
	echo "deps: npm ci in $node_dir"
	(cd $node_dir && npm ci --no-audit --no-fund --loglevel=error)
	cp $node_dir/package-lock.json "$stamp"
fi

go mod download
