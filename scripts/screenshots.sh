#!/usr/bin/env bash
# Screenshots of EchoTray's windows for the documentation: real windows
# (Fyne's GL driver) on a virtual X display (Xvfb) under xfwm4, so they
# have title bars, photographed with ImageMagick's import.
#
#   scripts/screenshots.sh [out-dir]     default: docs/screenshots
#
# Needs: Xvfb, xfwm4, xdotool, xprop, ImageMagick (scripts/deps.sh installs
# them) and a cgo toolchain for Fyne. Environment: FYNE_THEME (default
# dark), SHOTS_DISPLAY (default :77).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshots}
mkdir -p "$out"
display=${SHOTS_DISPLAY:-:77}
work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

go build -tags screenshots -o "$work/shots" ./app/ui/internal/shots

Xvfb "$display" -screen 0 1400x1000x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	DISPLAY=$display xdpyinfo >/dev/null 2>&1 && break
	sleep 0.1
done
export DISPLAY=$display
# A plain, light grey desktop behind the windows.
xsetroot -solid '#d8dde3' 2>/dev/null || true
# Own settings: no compositor shadows, the default theme.
export XDG_CONFIG_HOME=$work/config
xfwm4 --compositor=off >"$work/xfwm4.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id' && break
	sleep 0.1
done
if ! xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q 'window id'; then
	echo "xfwm4 did not start:" >&2
	cat "$work/xfwm4.log" >&2
	exit 1
fi

FYNE_THEME=${FYNE_THEME:-dark} ECHOTRAY_CONFIG_DIR=$work/echotray "$work/shots" -out "$out"
echo "screenshots in $out"
