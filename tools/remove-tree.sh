#!/bin/sh
# usage: tools/remove-tree.sh PATH...
# Removes each PATH, trying again for 5 s: the web process of an app just
# stopped can outlive it for a moment and still write its shader cache,
# so a first `rm -rf` may find a directory not empty.
tries=0
until rm -rf "$@" 2>/dev/null; do
  tries=$((tries + 1))
  [ "$tries" -lt 50 ] || exec rm -rf "$@"
  sleep 0.1
done
