#!/bin/sh
# The packaged release binary ignores every debug and extension switch in
# its environment (src/engine/switches.rs): each is set in turn, the app's
# window opens, and nothing the switch would have opened is there: no
# inspector port listening, no GTK inspector window, the web process still
# sandboxed, no probe module loaded from the given path. A debug build,
# which keeps the switches, shows the probes work. Run under a display
# (xvfb-run), after tools/package.sh.
#
# usage: tools/check-switches.sh DEB BINARY TITLE [DEBUG_BINARY]
set -eu

deb=$1 bin=$2 title=$3 debug=${4:-}
fail() { echo "check-switches: $*" >&2; exit 1; }

x=$(mktemp -d)
pid=
remove="$(dirname "$0")/remove-tree.sh"
trap 'kill "$pid" 2>/dev/null || true; "$remove" "$x"' EXIT
dpkg-deb -x "$deb" "$x/root"
exe=$x/root/usr/bin/$bin

# A probe library: loading it (GTK, GIO and WebKit load modules with
# dlopen) leaves a mark.
mkdir -p "$x/mods/3.0.0/modules" "$x/gio" "$x/bundle"
cat > "$x/probe.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void moat_probe(void) {
  const char *mark = getenv("MOAT_PROBE_MARK");
  FILE *f = fopen(mark ? mark : "/dev/null", "a");
  if (f) { fputs("loaded\n", f); fclose(f); }
}
C
cc -shared -fPIC -o "$x/probe.so" "$x/probe.c"
cp "$x/probe.so" "$x/mods/3.0.0/modules/libmoatprobe.so"
cp "$x/probe.so" "$x/gio/libmoatprobe.so"
cp "$x/probe.so" "$x/bundle/libwebkit2gtkinjectedbundle.so"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
listening() { python3 -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(0 if s.connect_ex(('127.0.0.1',$1))==0 else 1)"; }

# start BINARY VAR=VALUE...: runs the app with the given environment in a
# home of its own and waits for its window.
start() {
  exe_=$1; shift
  "$remove" "$x/home" "$x/mark"; mkdir -p "$x/home"; mkdir -m 700 "$x/home/run"
  # A runtime directory of its own: an instance elsewhere would take the launch.
  env HOME="$x/home" XDG_DATA_HOME="$x/home/.local/share" XDG_CONFIG_HOME="$x/home/.config" XDG_RUNTIME_DIR="$x/home/run" \
    MOAT_PROBE_MARK="$x/mark" "$@" "$exe_" >"$x/log" 2>&1 &
  pid=$!
  # Polled, not --sync: xdotool gives up on an X error when a window it
  # looks at goes away meanwhile (the GTK inspector's do).
  tries=0
  until xdotool search --onlyvisible --name "^$title\$" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 600 ]; then
      cat "$x/log" >&2
      fail "no window titled \"$title\" within 60 s ($*)"
    fi
    sleep 0.1
  done
  sleep 2  # the page loads, the web process starts, modules load
}
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; }

# sandboxed: the app has a web content process, and every one runs in a
# PID namespace other than the app's.
sandboxed() {
  python3 - "$pid" <<'PY'
import os, sys
app = int(sys.argv[1])
procs = {}
for p in filter(str.isdigit, os.listdir('/proc')):
    try:
        head, rest = open(f'/proc/{p}/stat').read().split(') ', 1)
        procs[int(p)] = (int(rest.split()[1]), head.split(' (', 1)[1])
    except OSError:
        pass
def below(p):
    while p in procs and p > 1:
        p = procs[p][0]
        if p == app:
            return True
    return False
webs = [p for p, (_, comm) in procs.items() if comm == 'WebKitWebProces' and below(p)]
ns = lambda p: os.readlink(f'/proc/{p}/ns/pid')
sys.exit(0 if webs and all(ns(w) != ns(app) for w in webs) else 1)
PY
}

# other_windows: the names of visible windows other than the app's own (the
# GTK inspector opens one for the UI process, and one for each web process,
# named after the program).
other_windows() {
  for w in $(xdotool search --onlyvisible --name '.' 2>/dev/null); do
    n=$(xdotool getwindowname "$w" 2>/dev/null) || continue
    [ "$n" = "$title" ] || printf '%s; ' "$n"
  done
}

removed() { grep -q "removed from the environment: a release build does not honour it.*switch=$1" "$x/log" || { cat "$x/log" >&2; fail "$1: the removal was not logged"; }; }

# The controls: a debug build keeps the switches, so the probes can see them.
if [ -n "$debug" ]; then
  p=$(port)
  start "$debug" WEBKIT_INSPECTOR_HTTP_SERVER=127.0.0.1:$p GTK_MODULES="$x/probe.so"
  listening "$p" || fail "control: a debug build did not open the inspector on $p; the check cannot see it"
  [ -s "$x/mark" ] || fail "control: a debug build did not load the probe module; the check cannot see it"
  stop
  start "$debug" GTK_DEBUG=interactive
  [ -n "$(other_windows)" ] || fail "control: a debug build did not open the GTK inspector; the check cannot see it"
  stop
fi

for var in WEBKIT_INSPECTOR_HTTP_SERVER WEBKIT_INSPECTOR_SERVER; do
  p=$(port)
  start "$exe" "$var=127.0.0.1:$p"
  ! listening "$p" || fail "$var: the inspector listens on 127.0.0.1:$p"
  removed "$var"; stop
done

start "$exe" GTK_DEBUG=interactive
others=$(other_windows)
[ -z "$others" ] || fail "GTK_DEBUG: a window other than the app's opened (the GTK inspector): $others"
removed GTK_DEBUG; stop

for setting in WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS=1 WEBKIT_FORCE_SANDBOX=0; do
  start "$exe" "$setting"
  sandboxed || fail "$setting: the web process is not sandboxed"
  removed "${setting%%=*}"; stop
done

for setting in \
  "GTK_MODULES=$x/probe.so" \
  "GTK3_MODULES=$x/probe.so" \
  "GTK_PATH=$x/mods GTK_MODULES=moatprobe" \
  "GIO_EXTRA_MODULES=$x/gio" \
  "GIO_MODULE_DIR=$x/gio" \
  "WEBKIT_INJECTED_BUNDLE_PATH=$x/bundle" \
  "WEBKIT_EXEC_PATH=$x/bundle" \
  "GST_PLUGIN_PATH=$x/gio"
do
  # shellcheck disable=SC2086 # several assignments in one setting
  start "$exe" $setting
  [ ! -s "$x/mark" ] || fail "$setting: a module was loaded from the given path"
  sandboxed || fail "$setting: the web process is not sandboxed"
  for one in $setting; do removed "${one%%=*}"; done
  stop
done

echo "check-switches: the packaged $bin ignores every switch it was started with"
