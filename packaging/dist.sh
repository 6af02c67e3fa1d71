#!/usr/bin/env bash
# dist.sh builds EchoTray's offline installers into dist/ and verifies them.
#
#   packaging/dist.sh all             linux + windows, then dist/SHA256SUMS
#   packaging/dist.sh linux           .deb and .tar.xz (x86_64): echotray and echotray-window
#   packaging/dist.sh windows         setup.exe (x86_64, cross-compiled with mingw-w64)
#   packaging/dist.sh verify          verify-linux + verify-windows
#   packaging/dist.sh verify-linux    dpkg -c, lintian, desktop/AppStream checks, install
#                                     into a clean debootstrap'ed bookworm root, run
#                                     both programs there, remove; tarball install/uninstall
#   packaging/dist.sh verify-windows  setup.exe /S under wine in a clean prefix, files,
#                                     registry, shortcut AUMID, --version, window --help, uninstall
#                                     (keeping and removing user data)
#   packaging/dist.sh clean           remove dist/ artifacts and the build folder
#
# Name, ID and version come from FyneApp.toml only (through packaging/distkit).
# Every program is built from the module root (`go build .`):
#   Linux    two executables, installed side by side in the same bin folder:
#            echotray         the tray core and the CLI: CGO_ENABLED=0, tag nowindow
#                             (no GUI toolkit, statically linked, ~14 MB stripped);
#            echotray-window  the windows (Fyne, cgo), started by the core on
#                             demand; its shared libraries make the .deb's Depends.
#            The menu entry, autostart and the man page start echotray.
#   Windows  one echotray.exe (full build): the core runs itself as
#            `echotray.exe window …`.
#
# Environment:
#   DIST              output folder (default: <repo>/dist)
#   DIST_WORK         scratch folder (default: <repo>/build/dist)
#   DIST_CACHE        cached Debian root and wine prefix (default: <repo>/.cache/dist)
#   ECHOTRAY_SRC      module root to build (default: the repository root)
#   GO                go command (default: go)
#   GO_LDFLAGS        extra -ldflags for both builds (e.g. -X main.commit=...)
#   DEB_MAINTAINER    Maintainer of the .deb (default below)
#   APP_LICENSE       SPDX licence of EchoTray (default: from LICENSE, else proprietary)
#   SOURCE_DATE_EPOCH timestamps in the packages (default: last commit time)
#   DEBIAN_MIRROR     mirror for the verification root (default: http://deb.debian.org/debian)
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PKG=$ROOT/packaging
SRC=${ECHOTRAY_SRC:-$ROOT}
DIST=${DIST:-$ROOT/dist}
WORK=${DIST_WORK:-$ROOT/build/dist}
CACHE=${DIST_CACHE:-$ROOT/.cache/dist}
GO=${GO:-go}
DEB_MAINTAINER=${DEB_MAINTAINER:-EchoTray maintainers <echotray@traidnet.net>}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ICON_SIZES=(16 24 32 48 64 128 256 512)
# GLFW dlopen()s these X11 extension libraries at run time, so dpkg-shlibdeps
# cannot see them; without them cursors, multi-monitor/HiDPI detection and
# raw input quietly degrade. Every X11 desktop has them.
DLOPEN_DEPENDS="libxcursor1, libxrandr2, libxinerama1, libxi6, libxxf86vm1, libxrender1, libx11-xcb1"

log() { printf '\033[1mdist:\033[0m %s\n' "$*" >&2; }
die() { printf 'dist: error: %s\n' "$*" >&2; exit 1; }
need() {
	local c missing=()
	for c in "$@"; do command -v "$c" >/dev/null || missing+=("$c"); done
	((${#missing[@]} == 0)) || die "missing tools: ${missing[*]} (run: scripts/deps.sh dist)"
}
# timed NAME CMD...: runs CMD and logs how long it took.
timed() {
	local name=$1 start=$SECONDS
	shift
	"$@"
	log "$name took $((SECONDS - start)) s"
}

# ---------------------------------------------------------------------------
# metadata

setup() {
	[[ -n ${_setup_done:-} ]] && return
	need "$GO"
	[[ -f $SRC/FyneApp.toml ]] || die "no FyneApp.toml in $SRC"
	if [[ -z ${SOURCE_DATE_EPOCH:-} ]]; then
		SOURCE_DATE_EPOCH=$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)
	fi
	export SOURCE_DATE_EPOCH
	mkdir -p "$WORK" "$DIST"
	DISTKIT=$WORK/distkit
	(cd "$ROOT" && CGO_ENABLED=0 "$GO" build -o "$DISTKIT" ./packaging/distkit) || die "cannot build packaging/distkit"
	eval "$("$DISTKIT" meta -app "$SRC/FyneApp.toml")"
	# The window program of the Linux packages; the core looks for exactly
	# this name next to itself (app.WindowExecutable).
	WINDOW_BINARY=$APP_BINARY-window
	ICON_SRC=$SRC/$APP_ICON
	[[ -f $ICON_SRC ]] || die "the app icon $APP_ICON (FyneApp.toml Details.Icon) does not exist"

	if [[ -f $SRC/LICENSE ]]; then
		LICENSE_TEXT=$(cat "$SRC/LICENSE")
		APP_LICENSE=${APP_LICENSE:-LicenseRef-see-LICENSE}
	else
		APP_LICENSE=${APP_LICENSE:-LicenseRef-proprietary}
		LICENSE_TEXT="All rights reserved. $APP_NAME is distributed by $APP_PUBLISHER to its customers' staff; it may not be redistributed without permission."
	fi
	printf '%s\n' "$LICENSE_TEXT" >"$WORK/license.txt"
	_setup_done=1
	log "$APP_NAME $APP_VERSION (build $APP_BUILD, ID $APP_ID, tags ${GO_TAGS:-none})"
}

# render TEMPLATE OUT [distkit render flags...]
render() {
	local in=$1 out=$2
	shift 2
	"$DISTKIT" render -app "$SRC/FyneApp.toml" -in "$in" -out "$out" \
		-varfile Description="$PKG/description.txt" -var License="$APP_LICENSE" \
		-var Maintainer="$DEB_MAINTAINER" "$@"
}

# check_version OUTPUT: the --version output must name the app, version and ID.
check_version() {
	local out=$1 want
	for want in "$APP_NAME" "$APP_VERSION" "$APP_ID"; do
		[[ $out == *"$want"* ]] || die "--version printed \"$out\", which lacks \"$want\""
	done
}

# go_build OUT TAGS LDFLAGS [env...]: builds the app from the module root.
go_build() {
	local out=$1 tags=$2 ldflags=$3
	shift 3
	(cd "$SRC" && env "$@" "$GO" build -tags "$tags" -ldflags "$ldflags ${GO_LDFLAGS:-}" -o "$out" .)
}

# modules BINARY: the module paths linked into a Go binary, sorted.
modules() {
	"$GO" version -m "$1" | awk '$1 == "dep" {print $2}' | LC_ALL=C sort -u
}

# remove_old PATTERN...: deletes earlier artifacts of any version.
remove_old() {
	local p
	for p in "$@"; do rm -f "$DIST"/$p; done
}

# ---------------------------------------------------------------------------
# Linux

# stage_linux_files ROOT PREFIX: puts both programs and the shared files under ROOT/PREFIX.
stage_linux_files() {
	local root=$1 prefix=$2 share=$1$2/share
	install -Dm755 "$WORK/linux/$APP_BINARY" "$root$prefix/bin/$APP_BINARY"
	install -Dm755 "$WORK/linux/$WINDOW_BINARY" "$root$prefix/bin/$WINDOW_BINARY"
	render "$PKG/linux/echotray.desktop.tmpl" "$share/applications/$APP_ID.desktop"
	render "$PKG/linux/metainfo.xml.tmpl" "$share/metainfo/$APP_ID.metainfo.xml"
	"$DISTKIT" icons -src "$ICON_SRC" -dir "$share/icons/hicolor" -name "$APP_ID" \
		-sizes "$(IFS=,; echo "${ICON_SIZES[*]}")" >/dev/null
	mkdir -p "$share/man/man1"
	local help=()
	[[ -s $WORK/linux/help.txt ]] && help=(-varfile Help="$WORK/linux/help.txt")
	render "$PKG/linux/echotray.1.tmpl" "$WORK/linux/$APP_BINARY.1" "${help[@]}"
	gzip -9n <"$WORK/linux/$APP_BINARY.1" >"$share/man/man1/$APP_BINARY.1.gz"
	render "$PKG/linux/echotray-window.1.tmpl" "$WORK/linux/$WINDOW_BINARY.1"
	gzip -9n <"$WORK/linux/$WINDOW_BINARY.1" >"$share/man/man1/$WINDOW_BINARY.1.gz"
	chmod 644 "$share/man/man1/$APP_BINARY.1.gz" "$share/man/man1/$WINDOW_BINARY.1.gz"
}

# normalize ROOT: fixed modes and timestamps, for reproducible packages.
normalize() {
	find "$1" -type d -exec chmod 755 {} +
	find "$1" -type f ! -perm -u+x -exec chmod 644 {} +
	find "$1" -type f -perm -u+x -exec chmod 755 {} +
	find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

# check_runs NAME BINARY: BINARY --version (no display) must name the app.
check_runs() {
	local out
	out=$(env -u DISPLAY -u WAYLAND_DISPLAY timeout 30 "$2" --version 2>&1) || die "$1 --version failed: $out"
	check_version "$out"
	log "$1 --version: $out"
}

build_linux_binaries() {
	need gcc
	local core=$WORK/linux/$APP_BINARY window=$WORK/linux/$WINDOW_BINARY
	mkdir -p "$WORK/linux"
	log "building $APP_BINARY (the tray core, no GUI toolkit) for linux/amd64: CGO_ENABLED=0, tag nowindow"
	timed "core build" go_build "$core" "nowindow${GO_TAGS:+,$GO_TAGS}" "-s -w" CGO_ENABLED=0 GOOS=linux GOARCH=amd64
	log "building $WINDOW_BINARY (the windows, Fyne) for linux/amd64 (cgo)"
	timed "window build" go_build "$window" "$GO_TAGS" "-s -w" CGO_ENABLED=1 GOOS=linux GOARCH=amd64
	check_runs "$APP_BINARY" "$core"
	check_runs "$WINDOW_BINARY" "$window"

	# The core must stay without the GUI toolkit and without cgo (it is
	# statically linked, so it runs wherever the kernel does).
	local mods
	mods=$(modules "$core")
	grep -q '^fyne\.io/fyne/' <<<"$mods" && die "$APP_BINARY links fyne.io/fyne: the core must not"
	"$GO" version -m "$core" | grep -q 'CGO_ENABLED=0' || die "$APP_BINARY was built with cgo"
	# The licence notices are made from the window program; they cover the
	# core only if every module of the core is in it (it is the full build).
	local extra
	extra=$(LC_ALL=C comm -23 <(printf '%s\n' "$mods") <(modules "$window"))
	[[ -z $extra ]] || die "$APP_BINARY links modules $WINDOW_BINARY does not: $extra"
	# `echotray window` must reach the window program next to it: the name
	# the core looks for (app.WindowExecutable) is the one packaged here.
	local out
	out=$(env -u DISPLAY -u WAYLAND_DISPLAY HOME="$WORK/linux" timeout 30 "$core" window --help 2>&1) ||
		die "$APP_BINARY window --help failed (does the core look for $WINDOW_BINARY?): $out"
	grep -q -- '-show' <<<"$out" || die "$APP_BINARY window --help did not print the window program's flags: $out"
	log "$APP_BINARY $(du -h "$core" | cut -f1), $WINDOW_BINARY $(du -h "$window" | cut -f1); $APP_BINARY window --help reaches $WINDOW_BINARY"

	# The man page carries the --help text when the binary prints one. A
	# clean environment with HOME=~ makes the paths it mentions read
	# "~/.config/..." instead of this build machine's.
	env -i PATH="$PATH" HOME='~' LANG=C.UTF-8 timeout 30 "$core" --help >"$WORK/linux/help.txt" 2>&1 || true
	grep -q -- '--version' "$WORK/linux/help.txt" || : >"$WORK/linux/help.txt"
	"$DISTKIT" licenses -bin "$window" -out "$WORK/linux/THIRD-PARTY-NOTICES.txt"
	"$DISTKIT" licenses -debian -bin "$window" -out "$WORK/linux/THIRD-PARTY-NOTICES.debian.txt"
}

# shlib_depends BINARY: the Depends line dpkg-shlibdeps computes for BINARY.
shlib_depends() {
	local d=$WORK/linux/shlibdeps
	mkdir -p "$d/debian"
	printf 'Source: %s\n\nPackage: %s\nArchitecture: amd64\n' "$APP_BINARY" "$APP_BINARY" >"$d/debian/control"
	(cd "$d" && dpkg-shlibdeps -O "$1" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
}

build_deb() {
	need dpkg-deb dpkg-shlibdeps gzip
	local root=$WORK/linux/deb doc
	rm -rf "$root"
	stage_linux_files "$root" /usr
	doc=$root/usr/share/doc/$APP_BINARY
	mkdir -p "$doc"
	render "$PKG/linux/copyright.tmpl" "$doc/copyright" \
		-varfile LicenseText="$WORK/license.txt" -varfile ThirdParty="$WORK/linux/THIRD-PARTY-NOTICES.debian.txt"
	render "$PKG/linux/changelog.tmpl" "$WORK/linux/changelog.Debian"
	# The core is static on purpose (no cgo): tell lintian.
	render "$PKG/linux/lintian-overrides.tmpl" "$root/usr/share/lintian/overrides/$APP_BINARY"
	gzip -9n <"$WORK/linux/changelog.Debian" >"$doc/changelog.Debian.gz"

	# The core is statically linked (no cgo): the libraries are the window
	# program's.
	local depends size
	depends=$(shlib_depends "$root/usr/bin/$WINDOW_BINARY")
	[[ -n $depends ]] || die "dpkg-shlibdeps found no dependencies for $WINDOW_BINARY"
	depends="$depends, $DLOPEN_DEPENDS"
	size=$(du -sk --apparent-size "$root" | cut -f1)
	mkdir -p "$root/DEBIAN"
	render "$PKG/linux/control.tmpl" "$root/DEBIAN/control" -var Depends="$depends" -var InstalledSize="$size"
	(cd "$root" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum >DEBIAN/md5sums)
	normalize "$root"

	DEB=$DIST/${APP_BINARY}_${DEB_VERSION}_amd64.deb
	remove_old "${APP_BINARY}_*_amd64.deb"
	dpkg-deb --root-owner-group -Zxz --build "$root" "$DEB" >/dev/null
	log "wrote $DEB (Depends: $depends)"
}

build_tarball() {
	need tar xz
	local name=$APP_BINARY-$APP_VERSION-linux-amd64 top
	top=$WORK/linux/tar/$name
	rm -rf "$WORK/linux/tar"
	stage_linux_files "$top" /usr/local
	install -Dm644 "$WORK/linux/THIRD-PARTY-NOTICES.txt" "$top/usr/local/share/doc/$APP_BINARY/THIRD-PARTY-NOTICES.txt"
	install -Dm644 "$WORK/license.txt" "$top/usr/local/share/doc/$APP_BINARY/LICENSE"
	render "$PKG/linux/Makefile.tmpl" "$top/Makefile" -var IconSizes="${ICON_SIZES[*]}"
	render "$PKG/linux/README.tarball.tmpl" "$top/README"
	normalize "$top"
	TARBALL=$DIST/$name.tar.xz
	remove_old "$APP_BINARY-*-linux-amd64.tar.xz"
	tar -C "$WORK/linux/tar" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
		-cf - "$name" | xz -9e -T1 >"$TARBALL"
	log "wrote $TARBALL"
}

cmd_linux() {
	setup
	build_linux_binaries
	timed ".deb" build_deb
	timed ".tar.xz" build_tarball
}

# ---------------------------------------------------------------------------
# Windows

cmd_windows() {
	setup
	need x86_64-w64-mingw32-gcc x86_64-w64-mingw32-windres makensis
	local w=$WORK/windows res stage
	res=$w/res
	stage=$w/stage
	rm -rf "$w"
	mkdir -p "$res" "$stage"

	"$DISTKIT" ico -src "$ICON_SRC" -out "$res/$APP_BINARY.ico"
	render "$PKG/windows/echotray.exe.manifest.tmpl" "$res/$APP_BINARY.exe.manifest"
	render "$PKG/windows/echotray.rc.tmpl" "$res/$APP_BINARY.rc"
	# The resources (icon, version, manifest) reach the linker as a .syso in
	# the module root, present only for this build.
	SYSO=$SRC/zz_dist_resources_windows_amd64.syso
	trap 'rm -f "$SYSO"' EXIT
	(cd "$res" && x86_64-w64-mingw32-windres -O coff -i "$APP_BINARY.rc" -o "$SYSO")

	# One executable on Windows (full build): the core starts itself as
	# `echotray.exe window …` for its windows.
	log "building $APP_BINARY.exe for windows/amd64 (cgo, mingw-w64; core and windows in one program)"
	timed "windows build" go_build "$stage/$APP_BINARY.exe" "$GO_TAGS" "-H=windowsgui -s -w" \
		CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++
	rm -f "$SYSO"
	trap - EXIT
	grep -q '\.rsrc' <<<"$(x86_64-w64-mingw32-objdump -h "$stage/$APP_BINARY.exe")" ||
		die "$APP_BINARY.exe has no resource section"

	cp "$res/$APP_BINARY.ico" "$stage/"
	"$DISTKIT" icons -src "$ICON_SRC" -dir "$w/png" -name "$APP_BINARY" -sizes 256 >/dev/null
	cp "$w/png/256x256/apps/$APP_BINARY.png" "$stage/$APP_BINARY.png"
	{
		printf '%s %s\r\n\r\n' "$APP_NAME" "$APP_VERSION"
		sed 's/$/\r/' "$WORK/license.txt"
		printf '\r\n%s includes the Go standard library and these Go modules, each under its own licence:\r\n\r\n' "$APP_BINARY.exe"
		"$DISTKIT" licenses -bin "$stage/$APP_BINARY.exe" -out /dev/stdout | sed 's/$/\r/'
	} >"$stage/THIRD-PARTY-NOTICES.txt"

	SETUP=$DIST/$APP_BINARY-$APP_VERSION-windows-amd64-setup.exe
	remove_old "$APP_BINARY-*-windows-amd64-setup.exe"
	timed "makensis" makensis -V2 -INPUTCHARSET UTF8 \
		-DAPP_NAME="$APP_NAME" -DAPP_ID="$APP_ID" -DAPP_BINARY="$APP_BINARY" \
		-DAPP_PUBLISHER="$APP_PUBLISHER" -DAPP_WEBSITE="$APP_WEBSITE" \
		-DVERSION="$APP_VERSION" -DWIN_VERSION="$WIN_VERSION" \
		-DSRC_DIR="$stage" -DOUT_FILE="$SETUP" "$PKG/windows/installer.nsi"
	touch -d "@$SOURCE_DATE_EPOCH" "$SETUP"
	log "wrote $SETUP"
}

# ---------------------------------------------------------------------------
# checksums

cmd_sums() {
	setup
	local files=()
	mapfile -t files < <(cd "$DIST" && ls -1 \
		"${APP_BINARY}_${DEB_VERSION}_amd64.deb" \
		"$APP_BINARY-$APP_VERSION-linux-amd64.tar.xz" \
		"$APP_BINARY-$APP_VERSION-windows-amd64-setup.exe" 2>/dev/null)
	((${#files[@]})) || die "no artifacts in $DIST"
	(cd "$DIST" && sha256sum "${files[@]}" >SHA256SUMS)
	log "dist/SHA256SUMS:"
	(cd "$DIST" && ls -l "${files[@]}" SHA256SUMS | awk '{printf "  %10d  %s\n", $5, $9}') >&2
}

cmd_clean() {
	rm -rf "$WORK"
	rm -f "$DIST"/*.deb "$DIST"/*.tar.xz "$DIST"/*-setup.exe "$DIST"/SHA256SUMS
}

# ---------------------------------------------------------------------------

main() {
	(($#)) || set -- all
	local c
	for c in "$@"; do
		case $c in
		linux) cmd_linux; cmd_sums ;;
		windows) cmd_windows; cmd_sums ;;
		all) cmd_linux; cmd_windows; cmd_sums ;;
		verify) "$PKG/verify.sh" linux windows ;;
		verify-linux) "$PKG/verify.sh" linux ;;
		verify-windows) "$PKG/verify.sh" windows ;;
		clean) cmd_clean ;;
		-h | --help | help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" ;;
		*) die "unknown command \"$c\" (try: $0 help)" ;;
		esac
	done
}

main "$@"
