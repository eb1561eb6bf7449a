#!/bin/sh
# Makes the RustSec advisory database snapshot at ../shared/advisory-db (no
# network here) readable by cargo-deny: cargo-deny reads a git repository at
# <db-path>/advisory-db-<hash of the database's URL>, and asks git for the
# date of its HEAD commit. So: a copy, committed with the snapshot's date.
#
# usage: tools/advisory-db.sh SNAPSHOT_DIR DB_PATH
# The directory name is cargo-deny 0.20's for the default database URL
# (https://github.com/RustSec/advisory-db); the Makefile pins that version.
set -eu

src=$1 db=$2/advisory-db-3157b0e258782691
[ -f "$src/SNAPSHOT" ] || { echo "advisory-db: no snapshot at $src (expected its SNAPSHOT file)" >&2; exit 1; }
stamp=$(cat "$src/SNAPSHOT")
if [ -f "$db/.snapshot" ] && [ "$(cat "$db/.snapshot")" = "$stamp" ]; then
  exit 0
fi
# The snapshot's date, from "COMMIT (YYYY-MM-DD)".
date=$(echo "$stamp" | sed -n 's/.*(\([0-9-]*\)).*/\1/p')
[ -n "$date" ] || { echo "advisory-db: cannot read the date in $src/SNAPSHOT: $stamp" >&2; exit 1; }
rm -rf "$db"
mkdir -p "$db"
cp -R "$src/." "$db/"
chmod -R u+w "$db"
(
  cd "$db"
  git init -q
  git add -A
  GIT_AUTHOR_DATE="${date}T00:00:00Z" GIT_COMMITTER_DATE="${date}T00:00:00Z" \
    git -c user.name=snapshot -c user.email=snapshot@invalid commit -q -m "RustSec advisory-db snapshot $stamp"
)
echo "$stamp" > "$db/.snapshot"
echo "advisory-db: snapshot $stamp ready for cargo-deny"
