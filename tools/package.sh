#!/bin/sh
# Builds a release .deb of a Moat app with Debian's own tools (dpkg-deb,
# dpkg-shlibdeps): the binary (stripped, no test harness), a .desktop entry,
# an icon, and Depends worked out from the libraries the binary links.
#
# usage: tools/package.sh PACKAGE BINARY ID TITLE ICON.svg OUTDIR [CARGO FEATURES]
#   PACKAGE   the cargo package (and .deb name), e.g. moat-demo
#   BINARY    the binary it builds
#   ID        the app's identifier (moat.json), used for the .desktop and icon names
#   TITLE     the name shown in menus
#   ICON.svg  the app's icon
#   OUTDIR    where the .deb and SHA256SUMS go
#   FEATURES  cargo features for the build (comma-separated), optional
# MAINTAINER (environment) goes in the package's Maintainer field.
set -eu

pkg=$1 bin=$2 id=$3 title=$4 icon=$5 out=$6 features=${7:-}
cargo=${CARGO:-cargo}

for tool in dpkg-deb dpkg-shlibdeps dpkg-architecture sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || { echo "package: $tool not found (apt-get install dpkg-dev)" >&2; exit 1; }
done

echo "package: building $pkg (release)"
if [ -n "$features" ]; then
  $cargo build --locked --release -p "$pkg" --bin "$bin" --features "$features"
else
  $cargo build --locked --release -p "$pkg" --bin "$bin"
fi
target=$($cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
version=$($cargo pkgid -p "$pkg" | sed 's/.*[#@]//')
arch=$(dpkg-architecture -qDEB_HOST_ARCH)

# The URL schemes and file types the app declares (moat.json `launch`),
# as the app itself reports them.
mime=$("$target/release/$bin" mime-types)
exec_line=$bin
[ -n "$mime" ] && exec_line="$bin %u"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
install -D -m 0755 "$target/release/$bin" "$root/usr/bin/$bin"
install -D -m 0644 "$icon" "$root/usr/share/icons/hicolor/scalable/apps/$id.svg"
mkdir -p "$root/usr/share/applications" "$root/usr/share/doc/$pkg" "$root/DEBIAN"
cat > "$root/usr/share/applications/$id.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=$title
Exec=$exec_line
Icon=$id
Terminal=false
Categories=Utility;
DESKTOP
if [ -n "$mime" ]; then
  echo "MimeType=$mime" >> "$root/usr/share/applications/$id.desktop"
fi
cat > "$root/usr/share/doc/$pkg/copyright" <<COPYRIGHT
$pkg $version, built on Moat (MIT OR Apache-2.0).
COPYRIGHT

# dpkg-shlibdeps reads a debian/control; it needs one, however small.
mkdir -p "$work/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" > "$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O -e"$root/usr/bin/$bin" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "package: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
# WebKit runs these to sandbox the web content process; Moat does not
# start without them (src/engine/sandbox.rs).
depends="$depends, bubblewrap, xdg-dbus-proxy"

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: $pkg
Version: $version
Architecture: $arch
Maintainer: ${MAINTAINER:-$pkg maintainers <root@localhost>}
Installed-Size: $size
Depends: $depends
Section: utils
Priority: optional
Description: $title
 A desktop app built on Moat, a webview runtime that puts the isolation
 pattern between its page and its Rust core.
CONTROL

mkdir -p "$out"
deb=$out/${pkg}_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
(cd "$out" && sha256sum "$(basename "$deb")" > SHA256SUMS)
echo "package: $deb"
