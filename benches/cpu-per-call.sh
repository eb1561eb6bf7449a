#!/bin/sh
# Where a sequential call's time goes: CPU per call of each thread group
# of both processes (the app's and WebKit's web process), over 60,000
# sequential 16-byte calls (benches/seq-long.js). On two cores a
# sequential call's latency is about its CPU, so this splits `seq_16b_us`
# by thread; docs/bench.md quotes it.
#
# Usage, after `make bench` has built the release binaries:
#   benches/cpu-per-call.sh moat|floor|baseline
# Prints the mean round trip, the CPU per call of both processes, and each
# thread group's share (utime + stime from /proc/<pid>/task/*/stat, sampled
# over 6 s in the middle of the run). Alternate subjects in one sitting to
# compare them.
set -eu
cd "$(dirname "$0")/.."
subject=${1:?usage: benches/cpu-per-call.sh moat|floor|baseline}
case $subject in
  moat) exe=target/release/moat-demo ;;
  floor) exe=target/release/moat-floor ;;
  baseline) exe=target/release/moat-baseline ;;
  *) echo "unknown subject: $subject" >&2; exit 2 ;;
esac
[ -x "$exe" ] || { echo "no $exe: run make bench first" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
set --
if [ "$subject" = moat ]; then
  # The demo's config with the call rate limit raised, as make bench does.
  sed 's/"limits": {/"limits": { "maxCallsPerSecond": 10000000,/' moat.json >"$work/moat.json"
  set -- --harness-config "$work/moat.json"
fi
XDG_DATA_HOME=$work RUST_LOG=moat=warn xvfb-run -a -s "-screen 0 1280x1024x24 -noreset" \
  "$exe" --harness-script benches/seq-long.js --harness-timeout 200 "$@" >"$work/out" 2>/dev/null &
sleep 4
web=$(pgrep -n WebKitWebProces)
app=$(pgrep -n -f "$exe --harness-script")
snap() {
  for p in $web $app; do
    side=app; [ "$p" = "$web" ] && side=web
    for t in /proc/$p/task/*; do
      name=$(tr ' ' _ <"$t/comm" 2>/dev/null) || continue
      [ "$(basename "$t")" = "$p" ] && name=main
      awk -v k="$side:$name" '{ print k, $14 + $15 }' "$t/stat" 2>/dev/null || true
    done
  done
}
snap >"$work/a"
sleep 6
snap >"$work/b"
wait
us=$(grep -o '"seq_16b_us":[0-9.]*' "$work/out" | cut -d: -f2)
[ -n "$us" ] || { echo "the run did not finish" >&2; exit 1; }
hz=$(getconf CLK_TCK)
awk -v us="$us" -v hz="$hz" '
  FNR == NR { a[$1] += $2; next }
  { b[$1] += $2 }
  END {
    calls = 6e6 / us
    for (k in b) {
      d = (b[k] - a[k]) * 1e6 / hz / calls
      total += d
      if (d >= 1) printf "  %-28s %4.0f us\n", k, d
    }
    printf "total %.0f\n", total
  }' "$work/a" "$work/b" >"$work/per-thread"
printf '%s: seq %.0f us per call, CPU %s us per call\n' "$subject" "$us" \
  "$(sed -n 's/^total //p' "$work/per-thread")"
grep -v '^total' "$work/per-thread" | sort -k2 -nr
