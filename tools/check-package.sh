#!/bin/sh
# Checks a .deb that tools/package.sh made: checksum, metadata, contents,
# no test harness, stripped, and that the unpacked binary answers
# --version and opens its window. Run it under a display (xvfb-run).
#
# usage: tools/check-package.sh DEB BINARY TITLE
set -eu

deb=$1 bin=$2 title=$3
fail() { echo "check-package: $*" >&2; exit 1; }

(cd "$(dirname "$deb")" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match"

info=$(dpkg-deb -f "$deb")
for dep in libwebkit2gtk-4.1-0 libgtk-3-0 libc6 bubblewrap xdg-dbus-proxy; do
  echo "$info" | grep -q "^Depends:.*\b$dep\b" || fail "Depends lacks $dep: $(echo "$info" | grep '^Depends:')"
done
echo "$info" | grep -q "^Package: " || fail "no Package field"

contents=$(dpkg-deb -c "$deb")
for path in "./usr/bin/$bin" "./usr/share/applications/" "./usr/share/icons/hicolor/scalable/apps/"; do
  echo "$contents" | grep -q " $path" || fail "the package has no $path"
done

x=$(mktemp -d)
remove="$(dirname "$0")/remove-tree.sh"
trap 'kill "$pid" 2>/dev/null || true; "$remove" "$x"' EXIT
pid=
dpkg-deb -x "$deb" "$x/root"
exe=$x/root/usr/bin/$bin
desktop=$(ls "$x"/root/usr/share/applications/*.desktop)
# The schemes and file types the app declares are the entry's MimeType, and
# then its Exec passes the link on (%u); with none, it takes no argument.
mime=$("$x/root/usr/bin/$bin" mime-types)
if [ -n "$mime" ]; then
  grep -qx "MimeType=$mime" "$desktop" || fail "the .desktop entry does not declare $mime"
  grep -q "^Exec=$bin %u$" "$desktop" || fail "the .desktop entry does not pass links to $bin"
else
  grep -q "^Exec=$bin$" "$desktop" || fail "the .desktop entry does not run $bin"
  ! grep -q "^MimeType=" "$desktop" || fail "the .desktop entry declares types the app does not"
fi
if command -v desktop-file-validate >/dev/null 2>&1; then desktop-file-validate "$desktop"; fi
! grep -q "DANGEROUS TEST HARNESS" "$exe" || fail "the packaged binary contains the test harness"
! readelf -S "$exe" | grep -q '\.symtab' || fail "the packaged binary is not stripped"
"$exe" --version | grep -q "^$bin " || fail "--version did not answer"

# The window opens: found by its title.
mkdir -p "$x/home"; mkdir -m 700 "$x/home/run"
# A runtime directory of its own: an instance elsewhere would take the launch.
HOME=$x/home XDG_DATA_HOME=$x/home/.local/share XDG_CONFIG_HOME=$x/home/.config XDG_RUNTIME_DIR=$x/home/run "$exe" >"$x/log" 2>&1 &
pid=$!
if ! timeout 60 xdotool search --sync --onlyvisible --name "^$title\$" >/dev/null; then
  cat "$x/log" >&2
  fail "no window titled \"$title\" within 60 s"
fi
kill "$pid"
echo "check-package: $(basename "$deb") is complete and opens its window"
