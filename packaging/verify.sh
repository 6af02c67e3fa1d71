#!/usr/bin/env bash
# verify.sh checks the installers packaging/dist.sh wrote into dist/.
# Called as `packaging/dist.sh verify[-linux|-windows]`; see there for the
# environment. Every check that fails stops the run with a non-zero status.
#
#   linux    dpkg -c / dpkg -I with the expected files, lintian (no errors),
#            desktop-file-validate, appstreamcli validate, then the .deb is
#            installed with apt into a clean Debian bookworm root (debootstrap
#            minbase, cached as a tarball): both programs are installed
#            (/usr/bin/echotray, statically linked, and /usr/bin/echotray-window,
#            whose libraries all resolve), `echotray --version`,
#            `echotray-window --version` and `echotray window --help` (the
#            core handing over to the window program) run there, and
#            `apt-get purge` removes every file but an administrator's
#            /etc/echotray/config.json, which the installed echotray reads
#            (status shows its server); the tarball's Makefile
#            installs both programs and uninstalls under a DESTDIR, and
#            `echotray window` fails with a clear message without echotray-window.
#   windows  in a fresh wine prefix: setup.exe /S installs the files, the
#            Start-menu shortcut (with the AppUserModelID), the AUMID,
#            Run and Uninstall registry keys; echotray.exe --version prints
#            and echotray.exe window --help (the window process, same exe) too;
#            uninstall.exe /S removes all of it and keeps user data;
#            /NOAUTOSTART skips the Run value; uninstall.exe /S /REMOVEDATA
#            also removes the user data; setup.exe /S /SERVER=… /LOCK writes
#            %ProgramData%\EchoTray\config.json and the installed program
#            uses it (status, login --server another exits 2), /SERVER
#            without /LOCK, bad values refused, kept on uninstall. Wine 8.0
#            lacks bcryptprimitives.dll,
#            which Go programs need; the prefix gets a test-only stand-in
#            (packaging/windows/wine/), never shipped.
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC=${ECHOTRAY_SRC:-$ROOT}
DIST=${DIST:-$ROOT/dist}
WORK=${DIST_WORK:-$ROOT/build/dist}
CACHE=${DIST_CACHE:-$ROOT/.cache/dist}
GO=${GO:-go}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

log() { printf '\033[1mverify:\033[0m %s\n' "$*" >&2; }
pass() { printf '  \033[32mok\033[0m   %s\n' "$*" >&2; }
die() { printf 'verify: FAILED: %s\n' "$*" >&2; exit 1; }
need() {
	local c missing=()
	for c in "$@"; do command -v "$c" >/dev/null || missing+=("$c"); done
	((${#missing[@]} == 0)) || die "missing tools: ${missing[*]} (run: scripts/deps.sh dist)"
}

mkdir -p "$WORK/verify" "$CACHE"
DISTKIT=$WORK/distkit
[[ -x $DISTKIT ]] || (cd "$ROOT" && CGO_ENABLED=0 "$GO" build -o "$DISTKIT" ./packaging/distkit)
eval "$("$DISTKIT" meta -app "$SRC/FyneApp.toml")"
WINDOW_BINARY=$APP_BINARY-window

DEB=$DIST/${APP_BINARY}_${DEB_VERSION}_amd64.deb
TARBALL=$DIST/$APP_BINARY-$APP_VERSION-linux-amd64.tar.xz
SETUP=$DIST/$APP_BINARY-$APP_VERSION-windows-amd64-setup.exe

# check_version OUTPUT
check_version() {
	local want
	for want in "$APP_NAME" "$APP_VERSION" "$APP_ID"; do
		[[ $1 == *"$want"* ]] || die "--version printed \"$1\", which lacks \"$want\""
	done
}

# expected_files PREFIX: the files both Linux packages install under PREFIX.
expected_files() {
	local p=$1 s
	echo "$p/bin/$APP_BINARY"
	echo "$p/bin/$WINDOW_BINARY"
	echo "$p/share/applications/$APP_ID.desktop"
	echo "$p/share/metainfo/$APP_ID.metainfo.xml"
	echo "$p/share/man/man1/$APP_BINARY.1.gz"
	echo "$p/share/man/man1/$WINDOW_BINARY.1.gz"
	for s in 16 24 32 48 64 128 256 512; do echo "$p/share/icons/hicolor/${s}x$s/apps/$APP_ID.png"; done
}

# check_programs RUN BIN: runs BIN/echotray --version, BIN/echotray-window
# --version and BIN/echotray window --help through RUN (a command prefix,
# e.g. chroot …) and checks what they print.
check_programs() {
	local run=$1 bin=$2 out
	out=$($run "$bin/$APP_BINARY" --version 2>&1) || die "$APP_BINARY --version failed: $out"
	check_version "$out"
	printf '    $ %s --version\n    %s\n' "$bin/$APP_BINARY" "$out" >&2
	out=$($run "$bin/$WINDOW_BINARY" --version 2>&1) || die "$WINDOW_BINARY --version failed: $out"
	check_version "$out"
	printf '    $ %s --version\n    %s\n' "$bin/$WINDOW_BINARY" "$out" >&2
	# The core (no GUI toolkit) hands `window` to the window program next to
	# it; the flags it prints are the window program's.
	out=$($run "$bin/$APP_BINARY" window --help 2>&1) || die "$APP_BINARY window --help failed: $out"
	grep -q -- '-show' <<<"$out" && grep -q -- '-entry' <<<"$out" ||
		die "$APP_BINARY window --help did not print the window program's flags: $out"
	printf '    $ %s window --help\n%s\n' "$bin/$APP_BINARY" "$(sed -n '1p' <<<"$out" | sed 's/^/    /')" >&2
}

# ---------------------------------------------------------------------------
# Linux

verify_deb_static() {
	need dpkg-deb lintian desktop-file-validate appstreamcli
	[[ -f $DEB ]] || die "$DEB is missing: run packaging/dist.sh linux"
	log "dpkg -c $(basename "$DEB")"
	local listing f
	listing=$(dpkg-deb -c "$DEB")
	printf '%s\n' "$listing" | awk '{print "    " $1, $2, $3, $6}' >&2
	for f in $(expected_files ./usr) ./usr/share/doc/$APP_BINARY/copyright ./usr/share/doc/$APP_BINARY/changelog.Debian.gz \
		./usr/share/lintian/overrides/$APP_BINARY; do
		grep -qE " ${f//./\\.}\$" <<<"$listing" || die "$f is not in the .deb"
	done
	for f in "$APP_BINARY" "$WINDOW_BINARY"; do
		grep -qE '^-rwxr-xr-x root/root .* \./usr/bin/'"$f"'$' <<<"$listing" || die "/usr/bin/$f is not root-owned 0755"
	done
	pass "the .deb holds $APP_BINARY and $WINDOW_BINARY, desktop entry, metainfo, 2 man pages, copyright and 8 hicolor icons"

	log "dpkg -I"
	dpkg-deb -f "$DEB" Package Version Architecture Depends Recommends Installed-Size | sed 's/^/    /' >&2
	[[ $(dpkg-deb -f "$DEB" Version) == "$DEB_VERSION" ]] || die "the .deb version is not $DEB_VERSION"
	grep -q libgl1 <<<"$(dpkg-deb -f "$DEB" Depends)" || die "Depends lacks libgl1"
	pass "version $DEB_VERSION from FyneApp.toml; Depends computed by dpkg-shlibdeps"

	log "lintian"
	local out rc=0
	out=$(lintian --fail-on error --display-level '>=pedantic' --tag-display-limit 0 "$DEB" 2>&1) || rc=$?
	printf '%s\n' "${out:-    (no tags)}" | sed 's/^/    /' >&2
	((rc == 0)) || die "lintian reports errors"
	grep -q '^E:' <<<"$out" && die "lintian reports errors"
	pass "lintian: no errors ($(grep -c '^W:' <<<"$out" || true) warnings, $(grep -c '^I:' <<<"$out" || true) info, $(grep -c '^P:' <<<"$out" || true) pedantic)"
	# (--show-overrides would make --fail-on error count the overridden tag.)
	log "lintian override shipped in the package (the core is static on purpose):"
	dpkg-deb --fsys-tarfile "$DEB" | tar -xOf - "./usr/share/lintian/overrides/$APP_BINARY" | grep -v '^#' | sed 's/^/    /' >&2

	local x=$WORK/verify/deb-x
	rm -rf "$x"
	mkdir -p "$x"
	dpkg-deb -x "$DEB" "$x"
	desktop-file-validate "$x/usr/share/applications/$APP_ID.desktop" || die "desktop-file-validate"
	grep -qx "Exec=$APP_BINARY" "$x/usr/share/applications/$APP_ID.desktop" || die "the menu entry does not start $APP_BINARY"
	pass "desktop-file-validate: no errors or warnings; the menu entry runs $APP_BINARY"
	appstreamcli validate --no-net --explain "$x/usr/share/metainfo/$APP_ID.metainfo.xml" | sed 's/^/    /' >&2 ||
		die "appstreamcli validate"
	pass "appstreamcli validate"
}

# debian_root DIR: a clean bookworm minbase root in DIR, from the cached
# tarball (debootstrap runs once).
debian_root() {
	local dir=$1 tarball=$CACHE/bookworm-minbase.tar
	need debootstrap
	if [[ ! -f $tarball ]]; then
		log "debootstrap --variant=minbase bookworm (once; cached in ${tarball#"$ROOT"/})"
		local tmp=$CACHE/bookworm.tmp
		rm -rf "$tmp"
		debootstrap --variant=minbase bookworm "$tmp" "$DEBIAN_MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
			die "debootstrap failed: see $CACHE/debootstrap.log"
		tar -C "$tmp" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
		rm -rf "$tmp"
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	tar -C "$dir" -xf "$tarball"
}

CHROOT=
cleanup_chroot() {
	[[ -n $CHROOT ]] || return 0
	local m
	for m in dev/pts dev proc sys; do
		mountpoint -q "$CHROOT/$m" && umount -l "$CHROOT/$m"
	done
	rm -rf "$CHROOT"
}

verify_deb_install() {
	[[ $(id -u) -eq 0 ]] || die "installing into a Debian root needs root (debootstrap, chroot, mount)"
	CHROOT=$WORK/verify/bookworm
	trap cleanup_chroot EXIT
	debian_root "$CHROOT"
	mount -t proc proc "$CHROOT/proc"
	mount --bind /dev "$CHROOT/dev"
	mount --bind /dev/pts "$CHROOT/dev/pts"
	mount -t sysfs sys "$CHROOT/sys"
	cp /etc/resolv.conf "$CHROOT/etc/resolv.conf"
	cp "$DEB" "$CHROOT/tmp/"
	local in="chroot $CHROOT env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive"

	log "apt-get install ./$(basename "$DEB") in a clean bookworm root (Depends only, no Recommends)"
	local before after
	before=$($in dpkg-query -W -f '${Package}\n' | wc -l)
	$in apt-get update -qq || die "apt-get update in the chroot"
	$in apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$DEB")" >"$WORK/verify/chroot-install.log" 2>&1 ||
		{ cat "$WORK/verify/chroot-install.log" >&2; die "apt-get install of the .deb in the chroot"; }
	after=$($in dpkg-query -W -f '${Package}\n' | wc -l)
	pass "installed with $((after - before - 1)) dependency packages from Debian"

	local missing
	missing=$($in ldd "/usr/bin/$WINDOW_BINARY" | grep 'not found' || true)
	[[ -z $missing ]] || die "unresolved libraries in the chroot: $missing"
	pass "ldd /usr/bin/$WINDOW_BINARY: every library resolves"
	# The core is built without cgo: no libraries at all.
	missing=$($in ldd "/usr/bin/$APP_BINARY" 2>&1 || true)
	grep -q 'not a dynamic executable' <<<"$missing" || die "/usr/bin/$APP_BINARY is not statically linked: $missing"
	pass "ldd /usr/bin/$APP_BINARY: not a dynamic executable (no cgo, no GUI toolkit)"
	local so libs
	libs=$($in ldconfig -p)
	for so in libXcursor.so.1 libXrandr.so.2 libXinerama.so.1 libXi.so.6 libXxf86vm.so.1 libXrender.so.1 libX11-xcb.so.1; do
		grep -qF "$so " <<<"$libs" || die "$so (dlopen()ed by GLFW) is not installed"
	done
	pass "the X11 libraries GLFW dlopen()s are installed too"

	log "in the clean root (chroot bookworm):"
	check_programs "$in" /usr/bin
	pass "$APP_BINARY --version, $WINDOW_BINARY --version and $APP_BINARY window --help run in the clean root"

	$in dpkg -L "$APP_BINARY" >"$WORK/verify/dpkg-L.txt"
	for f in $(expected_files /usr); do
		[[ -f $CHROOT$f ]] || die "$f was not installed"
	done
	# IT's machine-wide settings (docs/install.md): not in the package (no
	# conffile), read by the installed program, left alone by purge.
	grep -q '^/etc/' "$WORK/verify/dpkg-L.txt" && die "the package ships files in /etc: $(grep '^/etc/' "$WORK/verify/dpkg-L.txt")"
	mkdir -p "$CHROOT/etc/$APP_BINARY"
	printf '{"server": "https://billing.example.com", "locked": ["server"]}\n' >"$CHROOT/etc/$APP_BINARY/config.json"
	local out
	out=$($in HOME=/tmp/home "/usr/bin/$APP_BINARY" status 2>&1) || true
	grep -q '^Server: *https://billing.example.com$' <<<"$out" || die "/usr/bin/$APP_BINARY does not read /etc/$APP_BINARY/config.json: $out"
	pass "no file in /etc in the package; /usr/bin/$APP_BINARY status reads /etc/$APP_BINARY/config.json (Server https://billing.example.com)"
	$in apt-get purge -y -qq "$APP_BINARY" >/dev/null 2>&1 || die "apt-get purge"
	for f in $(expected_files /usr) /usr/share/doc/$APP_BINARY/copyright; do
		[[ ! -e $CHROOT$f ]] || die "$f is still there after purge"
	done
	[[ -f $CHROOT/etc/$APP_BINARY/config.json ]] || die "apt-get purge removed IT's /etc/$APP_BINARY/config.json"
	pass "apt-get purge removes every file (and keeps /etc/$APP_BINARY/config.json)"
	cleanup_chroot
	CHROOT=
	trap - EXIT
}

verify_tarball() {
	need tar make
	[[ -f $TARBALL ]] || die "$TARBALL is missing: run packaging/dist.sh linux"
	local t=$WORK/verify/tarball dest name
	name=$(basename "$TARBALL" .tar.xz)
	rm -rf "$t"
	mkdir -p "$t/x" "$t/dest"
	tar -C "$t/x" -xJf "$TARBALL"
	log "tar.xz contents"
	tar -tJvf "$TARBALL" | awk '{print "    " $1, $6}' >&2
	dest=$t/dest
	make -s -C "$t/x/$name" install DESTDIR="$dest" PREFIX=/opt/echotray >/dev/null
	for f in $(expected_files /opt/echotray); do
		[[ -f $dest$f ]] || die "make install did not install $f"
	done
	grep -qx "Exec=/opt/echotray/bin/$APP_BINARY" "$dest/opt/echotray/share/applications/$APP_ID.desktop" ||
		die "make install did not point Exec= at PREFIX"
	check_programs "env -u DISPLAY -u WAYLAND_DISPLAY HOME=$t/home" "$dest/opt/echotray/bin"
	pass "make install DESTDIR=… PREFIX=/opt/echotray: all files, Exec= rewritten, both programs run"
	# Without the window program next to it the core says so (and a copy
	# of the core elsewhere does not find it).
	local out
	mv "$dest/opt/echotray/bin/$WINDOW_BINARY" "$t/"
	if out=$(env -u DISPLAY -u WAYLAND_DISPLAY HOME="$t/home" "$dest/opt/echotray/bin/$APP_BINARY" window --help 2>&1); then
		die "$APP_BINARY window --help succeeded without $WINDOW_BINARY: $out"
	fi
	grep -q "$WINDOW_BINARY" <<<"$out" || die "without $WINDOW_BINARY, $APP_BINARY window printed: $out"
	mv "$t/$WINDOW_BINARY" "$dest/opt/echotray/bin/"
	pass "without $WINDOW_BINARY next to it: \"$out\""
	# IT's machine-wide settings: SERVER= (and LOCK=1) write
	# $(SYSCONFDIR)/echotray/config.json; the installed core reads it.
	local sysfile=$dest/etc/$APP_BINARY/config.json
	make -s -C "$t/x/$name" install DESTDIR="$dest" PREFIX=/opt/echotray SERVER=https://billing.example.com LOCK=1 >/dev/null ||
		die "make install SERVER=… LOCK=1 failed"
	json_check "$sysfile" "d == {'server': 'https://billing.example.com', 'locked': ['server']}" ||
		die "make install SERVER=… LOCK=1 wrote: $(cat "$sysfile" 2>&1)"
	out=$(env -u DISPLAY -u WAYLAND_DISPLAY HOME="$t/home" ECHOTRAY_CONFIG_DIR="$t/home/cfg" ECHOTRAY_SYSTEM_CONFIG="$sysfile" \
		"$dest/opt/echotray/bin/$APP_BINARY" status 2>&1) || true
	grep -q '^Server: *https://billing.example.com$' <<<"$out" || die "the installed $APP_BINARY does not use $sysfile: $out"
	if make -s -C "$t/x/$name" system-config DESTDIR="$dest" SERVER='billing example' >/dev/null 2>&1; then
		die "make system-config accepted a bad SERVER"
	fi
	pass "make install SERVER=… LOCK=1 wrote /etc/$APP_BINARY/config.json; $APP_BINARY status uses it; a bad SERVER is refused"
	make -s -C "$t/x/$name" uninstall DESTDIR="$dest" PREFIX=/opt/echotray >/dev/null
	[[ -f $sysfile ]] || die "make uninstall removed IT's $sysfile"
	rm -rf "$dest/etc"
	local left
	left=$(find "$dest" -type f)
	[[ -z $left ]] || die "make uninstall left files: $left"
	pass "make uninstall removes every file (and keeps /etc/$APP_BINARY/config.json)"
}

verify_linux() {
	verify_deb_static
	verify_deb_install
	verify_tarball
	log "linux: all checks passed"
}

# ---------------------------------------------------------------------------
# Windows (wine)

WINEPFX=
cleanup_wine() {
	[[ -n $WINEPFX ]] || return 0
	WINEPREFIX=$WINEPFX wineserver -k 2>/dev/null || true
	rm -rf "$WINEPFX"
}

# wine_prefix: a fresh 64-bit prefix, copied from a cached pristine one.
wine_prefix() {
	local tarball=$CACHE/wineprefix-pristine.tar
	WINEPFX=$WORK/verify/wineprefix
	rm -rf "$WINEPFX"
	mkdir -p "$WORK/verify"
	if [[ ! -f $tarball ]]; then
		log "creating a pristine wine prefix (once; cached in ${tarball#"$ROOT"/})"
		WINEPREFIX=$WINEPFX wineboot --init >/dev/null 2>&1 || die "wineboot failed"
		WINEPREFIX=$WINEPFX wineserver -w
		tar -C "$WINEPFX" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
	else
		mkdir -p "$WINEPFX"
		tar -C "$WINEPFX" -xf "$tarball"
	fi
	# Go programs need bcryptprimitives.dll (ProcessPrng), which wine 8.0
	# lacks: add the test-only stand-in from packaging/windows/wine.
	local sys32=$WINEPFX/drive_c/windows/system32
	if [[ ! -f $sys32/bcryptprimitives.dll ]]; then
		need x86_64-w64-mingw32-gcc
		x86_64-w64-mingw32-gcc -O2 -shared -s -o "$sys32/bcryptprimitives.dll" \
			"$ROOT/packaging/windows/wine/bcryptprimitives.c" "$ROOT/packaging/windows/wine/bcryptprimitives.def" -lbcrypt ||
			die "cannot build the bcryptprimitives.dll stand-in for wine"
		log "wine has no bcryptprimitives.dll: using the test-only stand-in (packaging/windows/wine)"
	fi
}

# w CMD...: runs CMD in the prefix and waits until every wine process of it ended.
w() {
	local rc=0
	WINEPREFIX=$WINEPFX "$@" || rc=$?
	WINEPREFIX=$WINEPFX wineserver -w
	return $rc
}

# regq KEY [VALUE]: prints the value (or nothing when missing).
regq() {
	local args=(reg query "$1")
	[[ -n ${2:-} ]] && args+=(/v "$2")
	local out
	# wine's reg prints "Unable to find ..." on stdout and exits 1 when missing.
	out=$(WINEPREFIX=$WINEPFX wine "${args[@]}" 2>/dev/null) || return 0
	printf '%s\n' "$out" | tr -d '\r'
}

# check_exe_resources EXE ICO: the executable carries the version resource
# (numeric and string versions from FyneApp.toml), the manifest and every
# frame of the icon.
check_exe_resources() {
	python3 - "$1" "$2" "$WIN_VERSION" "$APP_NAME" "$APP_ID" <<-'EOF'
		import struct, sys
		exe = open(sys.argv[1], "rb").read()
		ico = open(sys.argv[2], "rb").read()
		winver, name, appid = sys.argv[3], sys.argv[4], sys.argv[5]
		fail = lambda msg: sys.exit("resources: " + msg)
		# VS_FIXEDFILEINFO follows the 0xFEEF04BD signature.
		i = exe.find(struct.pack("<I", 0xFEEF04BD))
		if i < 0:
		    fail("no VS_VERSION_INFO")
		_, fms, fls, pms, pls = struct.unpack_from("<5I", exe, i + 4)
		got = "%d.%d.%d.%d" % (fms >> 16, fms & 0xFFFF, fls >> 16, fls & 0xFFFF)
		if got != winver:
		    fail("FILEVERSION is %s, want %s" % (got, winver))
		for key, val in (("ProductName", name), ("FileVersion", winver), ("OriginalFilename", "echotray.exe")):
		    if (key + "\0").encode("utf-16-le") not in exe or val.encode("utf-16-le") not in exe:
		        fail("version string %s=%s missing" % (key, val))
		if ('name="%s"' % appid).encode() not in exe or b"asInvoker" not in exe:
		    fail("application manifest missing")
		count = struct.unpack_from("<3H", ico)[2]
		for n in range(count):
		    size, off = struct.unpack_from("<II", ico, 6 + 16 * n + 8)
		    if ico[off:off + size] not in exe:
		        fail("icon frame %d not embedded" % n)
		print("FILEVERSION %s, ProductName %s, manifest, %d icon frames" % (got, name, count))
	EOF
}

# lnk_has_aumid FILE: the shortcut stores the AppUserModelID (UTF-16LE).
lnk_has_aumid() {
	python3 - "$1" "$APP_ID" <<-'EOF'
		import sys
		data = open(sys.argv[1], "rb").read()
		sys.exit(0 if sys.argv[2].encode("utf-16-le") in data else 1)
	EOF
}

# json_check FILE PYTHON-EXPR: the JSON file, loaded as d, satisfies EXPR.
json_check() {
	python3 - "$1" "$2" <<-'EOF'
		import json, sys
		d = json.load(open(sys.argv[1], encoding="utf-8-sig"))
		sys.exit(0 if eval(sys.argv[2]) else 1)
	EOF
}

# verify_windows_system_config: IT's silent install with settings. setup.exe
# /S /SERVER=… /LOCK writes %ProgramData%\<Name>\config.json (server and
# lock), the installed program uses it (status shows the server; login
# --server another exits 2 naming the lock), /SERVER without /LOCK
# rewrites it unlocked, a bad /SERVER is refused without touching it, and
# the uninstaller keeps it (IT's file). Runs in the prefix verify_windows
# made (wine's user is an administrator, as a deployment tool is).
verify_windows_system_config() {
	local user inst sysfile server=https://billing.example.com out rc
	user=$(WINEPREFIX=$WINEPFX wine cmd /c 'echo %USERNAME%' 2>/dev/null | tr -d '\r')
	inst=$WINEPFX/drive_c/users/$user/AppData/Local/Programs/$APP_NAME
	sysfile=$WINEPFX/drive_c/ProgramData/$APP_NAME/config.json
	local exe="C:\\users\\$user\\AppData\\Local\\Programs\\$APP_NAME\\$APP_BINARY.exe"

	log "wine setup.exe /S /NOAUTOSTART /SERVER=$server /LOCK (machine-wide settings)"
	rm -f "$sysfile"
	w wine "$SETUP" /S /NOAUTOSTART "/SERVER=$server" /LOCK || die "setup.exe /S /SERVER=$server /LOCK failed"
	[[ -f $sysfile ]] || die "setup.exe /SERVER did not write %ProgramData%\\$APP_NAME\\config.json"
	sed 's/^/    /' "$sysfile" >&2
	json_check "$sysfile" "d == {'server': '$server', 'locked': ['server']}" ||
		die "%ProgramData%\\$APP_NAME\\config.json is not {server, locked: [server]}: $(cat "$sysfile")"
	pass "/SERVER=$server /LOCK wrote %ProgramData%\\$APP_NAME\\config.json"

	# The installed program reads it before the user's settings.
	out=$(WINEPREFIX=$WINEPFX wine "$exe" status 2>&1 | tr -d '\r') || true
	WINEPREFIX=$WINEPFX wineserver -w
	grep -q "^Server: *$server\$" <<<"$out" || die "$APP_BINARY.exe status does not use the machine-wide server: $out"
	printf '    $ wine %s.exe status\n%s\n' "$APP_BINARY" "$(grep -E '^(Server|WebSocket):' <<<"$out" | sed 's/^/    /')" >&2
	pass "$APP_BINARY.exe status: Server $server (from %ProgramData%)"
	rc=0
	out=$(WINEPREFIX=$WINEPFX wine "$exe" login --server https://other.example.com --email a@example.com --password-stdin </dev/null 2>&1) || rc=$?
	out=$(tr -d '\r' <<<"$out")
	WINEPREFIX=$WINEPFX wineserver -w
	[[ $rc == 2 ]] && grep -q "set by your administrator" <<<"$out" ||
		die "login --server another with the server locked: exit $rc, $out"
	pass "login --server another: exit 2, \"$(grep -o -- '--server cannot be used[^(]*' <<<"$out" | head -n1)\""

	log "wine setup.exe /S /NOAUTOSTART /SERVER=$server/ (no lock), then a bad /SERVER"
	w wine "$SETUP" /S /NOAUTOSTART "/SERVER=$server/" || die "setup.exe /S /SERVER (no /LOCK) failed"
	json_check "$sysfile" "d == {'server': '$server/'}" || die "/SERVER without /LOCK wrote: $(cat "$sysfile")"
	pass "/SERVER without /LOCK: the server, no lock"
	rc=0
	w wine "$SETUP" /S '/SERVER=billing "x' || rc=$?
	((rc != 0)) || die "setup.exe accepted a /SERVER with a quote"
	json_check "$sysfile" "d == {'server': '$server/'}" || die "a refused /SERVER changed the file: $(cat "$sysfile")"
	rc=0
	w wine "$SETUP" /S /LOCK || rc=$?
	((rc != 0)) || die "setup.exe accepted /LOCK without /SERVER"
	pass "a bad /SERVER (exit $rc) and /LOCK alone are refused; the file is unchanged"

	w wine "$inst/uninstall.exe" /S || die "uninstall.exe /S failed"
	[[ -f $sysfile ]] || die "the uninstaller removed IT's %ProgramData%\\$APP_NAME\\config.json"
	pass "uninstall.exe /S keeps %ProgramData%\\$APP_NAME\\config.json"

	# Per machine, as a deployment tool runs it (elevated): Program Files,
	# the common Start menu, HKLM; the settings file as above.
	local pf="$WINEPFX/drive_c/Program Files/$APP_NAME" mkey="HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\$APP_ID"
	local clnk="$WINEPFX/drive_c/ProgramData/Microsoft/Windows/Start Menu/Programs/$APP_NAME.lnk"
	log "wine setup.exe /S /ALLUSERS /NOAUTOSTART /SERVER=$server /LOCK (per machine)"
	w wine "$SETUP" /S /ALLUSERS /NOAUTOSTART "/SERVER=$server" /LOCK || die "setup.exe /S /ALLUSERS failed"
	[[ -f $pf/$APP_BINARY.exe && -f $pf/uninstall.exe ]] || die "/ALLUSERS did not install into Program Files"
	[[ -f $clnk ]] || die "/ALLUSERS: no shortcut in the common Start menu"
	grep -q "InstallLocation.*Program Files\\\\$APP_NAME" <<<"$(regq "$mkey")" || die "/ALLUSERS: no HKLM Uninstall key"
	json_check "$sysfile" "d == {'server': '$server', 'locked': ['server']}" || die "/ALLUSERS /SERVER /LOCK wrote: $(cat "$sysfile")"
	[[ ! -e $inst ]] || die "/ALLUSERS also installed for the user"
	pass "/ALLUSERS: Program Files, common Start menu, HKLM Uninstall key, %ProgramData% settings"
	w wine "C:\\Program Files\\$APP_NAME\\uninstall.exe" /S || die "per-machine uninstall.exe /S failed"
	[[ ! -e $pf && ! -e $clnk && -z $(regq "$mkey") ]] || die "the per-machine uninstall left files or keys"
	[[ -f $sysfile ]] || die "the per-machine uninstall removed %ProgramData%\\$APP_NAME\\config.json"
	pass "per-machine uninstall.exe /S removed it all but IT's settings file"
}

verify_windows() {
	need wine wineserver python3
	[[ -f $SETUP ]] || die "$SETUP is missing: run packaging/dist.sh windows"
	export WINEDEBUG=-all WINEARCH=win64 WINEDLLOVERRIDES="mscoree,mshtml="
	# wine needs an X display for some of its components; give it a private one.
	if [[ -z ${DISPLAY:-} && -z ${_VERIFY_XVFB:-} ]] && command -v xvfb-run >/dev/null; then
		_VERIFY_XVFB=1 exec xvfb-run -a "$0" windows
	fi
	trap cleanup_wine EXIT
	wine_prefix

	local user appdata localapp inst lnk data
	user=$(WINEPREFIX=$WINEPFX wine cmd /c 'echo %USERNAME%' 2>/dev/null | tr -d '\r')
	localapp=$WINEPFX/drive_c/users/$user/AppData/Local
	appdata=$WINEPFX/drive_c/users/$user/AppData/Roaming
	inst=$localapp/Programs/$APP_NAME
	lnk="$appdata/Microsoft/Windows/Start Menu/Programs/$APP_NAME.lnk"
	data=$localapp/$APP_NAME
	local uninst_key="HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\$APP_ID"
	local aumid_key="HKCU\\Software\\Classes\\AppUserModelId\\$APP_ID"
	local run_key='HKCU\Software\Microsoft\Windows\CurrentVersion\Run'

	log "wine $(basename "$SETUP") /S"
	local start=$SECONDS trace=$WORK/verify/wine-setup.trace
	# fixme+shell records the shell-link property-store calls (see below).
	WINEDEBUG=-all,fixme+shell w wine "$SETUP" /S 2>"$trace" || die "setup.exe /S exited with an error"
	local f
	for f in "$APP_BINARY.exe" uninstall.exe "$APP_BINARY.ico" "$APP_BINARY.png" THIRD-PARTY-NOTICES.txt; do
		[[ -f $inst/$f ]] || die "setup did not install $f"
	done
	pass "installed in %LocalAppData%\\Programs\\$APP_NAME in $((SECONDS - start)) s: $(cd "$inst" && ls | tr '\n' ' ')"
	local res
	res=$(check_exe_resources "$inst/$APP_BINARY.exe" "$inst/$APP_BINARY.ico") || die "$APP_BINARY.exe $res"
	pass "$APP_BINARY.exe resources: $res"
	[[ -f $lnk ]] || die "no Start-menu shortcut at $lnk"
	if lnk_has_aumid "$lnk"; then
		pass "Start-menu shortcut $APP_NAME.lnk with System.AppUserModel.ID=$APP_ID"
	elif grep -q 'propertystore_SetValue' "$trace" && grep -q 'propertystore_Commit' "$trace"; then
		# Wine 8 implements a shell link's IPropertyStore as stubs that
		# return S_OK and store nothing, so the ID cannot be read back here;
		# the trace proves the installer got the link's property store and
		# called SetValue and Commit (and the install did not report a
		# failure). Windows stores the value.
		pass "Start-menu shortcut $APP_NAME.lnk; AppUserModelID set through IPropertyStore::SetValue+Commit (wine stores nothing: stub)"
	else
		die "the shortcut does not carry the AppUserModelID $APP_ID and the installer never set it"
	fi

	local q
	q=$(regq "$aumid_key")
	printf '%s\n' "$q" | sed '/^$/d;s/^/    /' >&2
	grep -q "DisplayName.*$APP_NAME" <<<"$q" && grep -qi "IconUri.*Programs\\\\$APP_NAME\\\\$APP_BINARY.png" <<<"$q" ||
		die "AppUserModelId key incomplete"
	pass "AppUserModelId registered (DisplayName, IconUri)"
	q=$(regq "$run_key" "$APP_NAME")
	grep -q -- "$APP_BINARY.exe\" --hidden" <<<"$q" || die "no start-at-login Run value: $q"
	pass "start at sign-in: $(grep -o 'REG_SZ.*' <<<"$q")"
	q=$(regq "$uninst_key")
	printf '%s\n' "$q" | sed '/^$/d;s/^/    /' >&2
	grep -q "DisplayVersion.*$APP_VERSION" <<<"$q" && grep -q 'QuietUninstallString' <<<"$q" || die "Uninstall key incomplete"
	pass "Apps & features entry (HKCU Uninstall key)"

	local out
	out=$(WINEPREFIX=$WINEPFX wine "C:\\users\\$user\\AppData\\Local\\Programs\\$APP_NAME\\$APP_BINARY.exe" --version 2>&1 | tr -d '\r') ||
		die "$APP_BINARY.exe --version failed: $out"
	WINEPREFIX=$WINEPFX wineserver -w
	check_version "$out"
	printf '    $ wine %s.exe --version\n    %s\n' "$APP_BINARY" "$out" >&2
	pass "$APP_BINARY.exe --version runs under wine"
	# One executable on Windows: the window process is `echotray.exe window`.
	out=$(WINEPREFIX=$WINEPFX wine "C:\\users\\$user\\AppData\\Local\\Programs\\$APP_NAME\\$APP_BINARY.exe" window --help 2>&1 | tr -d '\r')
	WINEPREFIX=$WINEPFX wineserver -w
	grep -q -- '-show' <<<"$out" && grep -q -- '-entry' <<<"$out" || die "$APP_BINARY.exe window --help: $out"
	printf '    $ wine %s.exe window --help\n    %s\n' "$APP_BINARY" "$(head -n1 <<<"$out")" >&2
	pass "$APP_BINARY.exe window --help: the window process is in the same executable"

	# User data the uninstaller must keep unless asked.
	mkdir -p "$data"
	echo keep >"$data/history.db"
	log "wine uninstall.exe /S"
	w wine "$inst/uninstall.exe" /S || die "uninstall.exe /S failed"
	[[ ! -e $inst ]] || die "install folder still there: $(ls -A "$inst")"
	[[ ! -e $lnk ]] || die "Start-menu shortcut still there"
	[[ -z $(regq "$aumid_key") ]] || die "AppUserModelId key still there"
	[[ -z $(regq "$uninst_key") ]] || die "Uninstall key still there"
	grep -q "$APP_BINARY.exe" <<<"$(regq "$run_key")" && die "Run value still there"
	[[ -f $data/history.db ]] || die "silent uninstall removed the user data"
	pass "uninstall.exe /S removed files, shortcut, AUMID, Run and Uninstall keys; kept %LocalAppData%\\$APP_NAME"

	log "wine setup.exe /S /NOAUTOSTART, then uninstall.exe /S /REMOVEDATA"
	w wine "$SETUP" /S /NOAUTOSTART || die "setup.exe /S /NOAUTOSTART failed"
	[[ -f $inst/$APP_BINARY.exe ]] || die "second install failed"
	grep -q "$APP_BINARY.exe" <<<"$(regq "$run_key")" && die "/NOAUTOSTART still wrote the Run value"
	pass "/NOAUTOSTART: installed without the Run value"
	mkdir -p "$appdata/$APP_NAME" "$appdata/fyne/$APP_ID"
	echo cfg >"$appdata/$APP_NAME/config.json"
	echo pref >"$appdata/fyne/$APP_ID/preferences.json"
	w wine "$inst/uninstall.exe" /S /REMOVEDATA || die "uninstall.exe /S /REMOVEDATA failed"
	[[ ! -e $inst ]] || die "install folder still there"
	[[ ! -e $data && ! -e $appdata/$APP_NAME && ! -e $appdata/fyne/$APP_ID ]] || die "/REMOVEDATA left user data"
	pass "uninstall.exe /S /REMOVEDATA also removed %LocalAppData%\\$APP_NAME, %AppData%\\$APP_NAME, %AppData%\\fyne\\$APP_ID"
	verify_windows_system_config
	cleanup_wine
	WINEPFX=
	trap - EXIT
	log "windows: all checks passed"
}

# ---------------------------------------------------------------------------

(($#)) || set -- linux windows
for c in "$@"; do
	case $c in
	linux) verify_linux ;;
	windows) verify_windows ;;
	*) die "unknown check \"$c\" (linux, windows)" ;;
	esac
done
