#!/usr/bin/env bash
# build-macos.sh builds EchoTray.app and a .dmg. It must run on macOS (Fyne
# needs cgo against the macOS SDK), with Go and the Xcode command-line tools
# (xcode-select --install). CI runs it on macos-14: .github/workflows/macos.yml.
#
#   packaging/macos/build-macos.sh [universal|arm64|amd64]     (default: universal)
#
# Two programs, as on Linux, both in EchoTray.app/Contents/MacOS:
#   echotray          the menu-bar core and the CLI (CFBundleExecutable): tag
#                     nowindow, so it does not link the GUI toolkit (Fyne/GLFW);
#                     cgo stays on because fyne.io/systray needs it on macOS;
#   echotray-window   the windows (Fyne), which the core starts on demand from
#                     its own folder (app.WindowProgram).
#
# Output in dist/:
#   EchoTray.app                                 the bundle (menu-bar only: LSUIElement)
#   echotray-<version>-macos-<arch>.dmg          compressed disk image with the app and
#                                                an /Applications link
#   SHA256SUMS.macos
#
# Signing: ad-hoc (`codesign -s -`) unless SIGN_IDENTITY names a "Developer ID
# Application" certificate in the keychain; then the hardened runtime and a
# secure timestamp are used, and NOTARY_PROFILE (a `xcrun notarytool
# store-credentials` profile) also notarizes and staples the .dmg.
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PKG=$ROOT/packaging
ARCH=${1:-universal}
DIST=${DIST:-$ROOT/dist}
WORK=${DIST_WORK:-$ROOT/build/dist}/macos
GO=${GO:-go}
MIN_MACOS=11.0

log() { printf 'macos: %s\n' "$*" >&2; }
die() { printf 'macos: error: %s\n' "$*" >&2; exit 1; }

[[ $(uname -s) == Darwin ]] || die "this recipe runs on macOS only (cgo against the macOS SDK)"
for t in "$GO" clang lipo codesign hdiutil plutil ditto; do
	command -v "$t" >/dev/null || die "$t is missing (Go, and Xcode command-line tools: xcode-select --install)"
done
case $ARCH in
universal) ARCHES=(arm64 amd64) ;;
arm64 | amd64) ARCHES=("$ARCH") ;;
*) die "unknown architecture $ARCH (universal, arm64, amd64)" ;;
esac

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}
rm -rf "$WORK"
mkdir -p "$WORK" "$DIST"
DISTKIT=$WORK/distkit
(cd "$ROOT" && CGO_ENABLED=0 "$GO" build -o "$DISTKIT" ./packaging/distkit)
eval "$("$DISTKIT" meta -app "$ROOT/FyneApp.toml")"

# The window program; the core looks for exactly this name next to itself.
WINDOW_BINARY=$APP_BINARY-window

# 1. Both programs for every architecture, then universal ones.
# build_prog NAME TAGS: builds NAME for every architecture into $WORK/NAME.
build_prog() {
	local name=$1 tags=$2 a carch flags bins=()
	for a in "${ARCHES[@]}"; do
		carch=$a
		[[ $a == amd64 ]] && carch=x86_64
		log "go build $name darwin/$a (tags $tags)"
		flags="-arch $carch -mmacosx-version-min=$MIN_MACOS"
		(cd "$ROOT" && CGO_ENABLED=1 GOOS=darwin GOARCH=$a CC=clang \
			CGO_CFLAGS="-O2 -g $flags" CGO_LDFLAGS="$flags" MACOSX_DEPLOYMENT_TARGET=$MIN_MACOS \
			"$GO" build -tags "$tags" -ldflags "-s -w ${GO_LDFLAGS:-}" -o "$WORK/$name-$a" .)
		bins+=("$WORK/$name-$a")
	done
	if ((${#bins[@]} > 1)); then
		lipo -create -output "$WORK/$name" "${bins[@]}"
	else
		cp "${bins[0]}" "$WORK/$name"
	fi
	lipo -info "$WORK/$name" >&2
}
build_prog "$APP_BINARY" "nowindow${GO_TAGS:+,$GO_TAGS}"
build_prog "$WINDOW_BINARY" "$GO_TAGS"
if "$GO" version -m "$WORK/$APP_BINARY-${ARCHES[0]}" | grep -q 'fyne\.io/fyne/'; then
	die "$APP_BINARY links fyne.io/fyne: the core must not"
fi

# 2. The bundle.
APP=$DIST/$APP_NAME.app
rm -rf "$APP"
mkdir -p "$APP/Contents/MacOS" "$APP/Contents/Resources"
install -m 755 "$WORK/$APP_BINARY" "$APP/Contents/MacOS/$APP_BINARY"
install -m 755 "$WORK/$WINDOW_BINARY" "$APP/Contents/MacOS/$WINDOW_BINARY"
"$DISTKIT" render -app "$ROOT/FyneApp.toml" -in "$PKG/macos/Info.plist.tmpl" -out "$APP/Contents/Info.plist"
printf 'APPL????' >"$APP/Contents/PkgInfo"
"$DISTKIT" icns -src "$ROOT/$APP_ICON" -out "$APP/Contents/Resources/$APP_BINARY.icns"
"$DISTKIT" licenses -bin "$APP/Contents/MacOS/$WINDOW_BINARY" -out "$APP/Contents/Resources/THIRD-PARTY-NOTICES.txt"
plutil -lint "$APP/Contents/Info.plist" >&2
[[ $(plutil -extract LSUIElement raw "$APP/Contents/Info.plist") == true ]] || die "LSUIElement is not set"

for prog in "$APP_BINARY" "$WINDOW_BINARY"; do
	out=$("$APP/Contents/MacOS/$prog" --version 2>&1) || die "$prog --version failed: $out"
	for want in "$APP_NAME" "$APP_VERSION" "$APP_ID"; do
		[[ $out == *"$want"* ]] || die "$prog --version printed \"$out\", which lacks \"$want\""
	done
	log "$prog --version: $out"
done
# The core hands `window` to the window program next to it.
out=$("$APP/Contents/MacOS/$APP_BINARY" window --help 2>&1) || die "$APP_BINARY window --help failed: $out"
grep -q -- '-show' <<<"$out" || die "$APP_BINARY window --help did not reach $WINDOW_BINARY: $out"

# 3. Signing.
if [[ -n ${SIGN_IDENTITY:-} ]]; then
	log "codesign with $SIGN_IDENTITY (hardened runtime)"
	# The helper executable first (nested code is signed inside out, no
	# --deep), then the bundle with its main executable.
	codesign --force --options runtime --timestamp --identifier "$APP_ID.window" \
		--sign "$SIGN_IDENTITY" "$APP/Contents/MacOS/$WINDOW_BINARY"
	codesign --force --options runtime --timestamp --sign "$SIGN_IDENTITY" "$APP"
else
	log "codesign ad hoc (set SIGN_IDENTITY for a Developer ID signature)"
	codesign --force --identifier "$APP_ID.window" --sign - "$APP/Contents/MacOS/$WINDOW_BINARY"
	codesign --force --sign - "$APP"
fi
codesign --verify --strict --verbose=2 "$APP/Contents/MacOS/$WINDOW_BINARY"
codesign --verify --strict --verbose=2 "$APP"

# 4. The disk image: the app and a link to /Applications to drag it onto.
DMG=$DIST/$APP_BINARY-$APP_VERSION-macos-$ARCH.dmg
stage=$WORK/dmg
rm -rf "$stage" "$DMG"
mkdir -p "$stage"
ditto "$APP" "$stage/$APP_NAME.app"
ln -s /Applications "$stage/Applications"
hdiutil create -volname "$APP_NAME $APP_VERSION" -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$DMG" >&2
hdiutil verify "$DMG" >&2
if [[ -n ${SIGN_IDENTITY:-} ]]; then
	codesign --force --timestamp --sign "$SIGN_IDENTITY" "$DMG"
	if [[ -n ${NOTARY_PROFILE:-} ]]; then
		log "notarizing (profile $NOTARY_PROFILE)"
		xcrun notarytool submit "$DMG" --keychain-profile "$NOTARY_PROFILE" --wait
		xcrun stapler staple "$DMG"
	fi
fi

(cd "$DIST" && shasum -a 256 "$(basename "$DMG")" >SHA256SUMS.macos)
log "wrote $APP and $DMG ($(du -h "$DMG" | cut -f1))"
