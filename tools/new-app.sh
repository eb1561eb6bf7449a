#!/bin/sh
# Makes a new Moat app from templates/app: its own crate depending on Moat
# by path, a page with no inline script, one hook, one typed command, a
# moat.json that allows exactly that command (with a rate limit, and no
# built-in module), its own Makefile (make run, make test, make lint,
# make package) and one end-to-end test through Moat's harness.
#
# usage: tools/new-app.sh DIR NAME ID [TITLE]
#   DIR    where the app goes (must not exist, or be empty)
#   NAME   the crate and binary name: lowercase letters, digits, '-' and '_'
#   ID     the app's reverse-DNS identifier, e.g. org.example.notes
#   TITLE  the window title (default: NAME)
set -eu

fail() { echo "new-app: $*" >&2; exit 2; }
[ $# -ge 3 ] || fail "usage: tools/new-app.sh DIR NAME ID [TITLE]"
dir=$1 name=$2 id=$3 title=${4:-$2}

echo "$name" | grep -Eq '^[a-z][a-z0-9_-]{0,63}$' \
  || fail "NAME \"$name\": lowercase letters, digits, '-' and '_', starting with a letter"
echo "$id" | grep -Eq '^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$' \
  || fail "ID \"$id\": a reverse-DNS identifier, e.g. org.example.notes"
case "$title" in
  *'"'*|*'\'*|*'<'*|*'>'*|*'&'*|*'|'*) fail "TITLE: no quotes, backslashes, '<', '>', '&' or '|'" ;;
esac
if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
  fail "$dir exists and is not empty"
fi

moat=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cp -R "$moat/templates/app/." "$dir/"
cp "$moat/deny.toml" "$dir/deny.toml"
# The same versions of every dependency Moat is tested with.
cp "$moat/Cargo.lock" "$dir/Cargo.lock"

find "$dir" -type f | while read -r f; do
  sed -i -e "s|{{NAME}}|$name|g" -e "s|{{ID}}|$id|g" -e "s|{{TITLE}}|$title|g" -e "s|{{MOAT}}|$moat|g" "$f"
done

# The lock file gains the app itself and keeps every other version; the
# code is formatted for the names it now holds.
(cd "$dir" && ${CARGO:-cargo} update --workspace --offline --quiet && ${CARGO:-cargo} fmt)

echo "new-app: $title ($name, $id) is in $dir"
echo "new-app: next: cd $dir && make run   (make test, make package; README.md)"
