#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The benchmark harness's `pairs` scenario in a user namespace against /public, on one patchworkd, in
# the same run (issue 3: the ACL check must keep the user namespace at >= 90 % of /public).
#
#   tests/bench/userpairs.sh [PATCHWORKD] [--rounds N] [--duration 10s] [--pairs 32] [--literal-token]
#
# relaybench builds its queue URLs as `<base>/public/queue/<channel>`, and its raw client keeps the
# path of -base, so `-base http://127.0.0.1:PORT/u/bench` makes every request
# `/u/bench/public/queue/<channel>`: a queue channel of user `bench` (the mode is the flexible one,
# which is queue without ?pubsub, so the exchange is exactly the /public one). relaybench cannot send
# an Authorization header, so the requests use the implicit `public` token. Its key is stored hashed
# (`sha256:...`, the form the README recommends) unless --literal-token is given, so each request also
# pays a SHA-256 of the token, a config lookup and a pattern match (with a negated pattern).
#
# The daemon runs with --rate-limit 0 --max-waiting-per-ip 0 (the harness is one client that far
# exceeds the public defaults). Both targets are measured on the same process, alternating
# public, user, public, user ... for N rounds; the summary gives the medians and the median of the
# per-round ratios user/public. Needs go (to build relaybench from ../shared/bench) and python3.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
daemon="$repo/build/bin/patchworkd"
rounds=3 duration=10s pairs=32 literal=0
while (($#)); do
    case $1 in
    --rounds) rounds=$2; shift ;;
    --duration) duration=$2; shift ;;
    --pairs) pairs=$2; shift ;;
    --literal-token) literal=1 ;;
    -h | --help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "userpairs.sh: unknown option $1" >&2; exit 2 ;;
    *) daemon=$1 ;;
    esac
    shift
done
[[ -x $daemon ]] || { echo "userpairs.sh: no patchworkd at $daemon (give its path)" >&2; exit 2; }
bench_dir=${PATCHWORK_BENCH_DIR:-$repo/../shared/bench}
[[ -d $bench_dir/relaybench ]] || { echo "userpairs.sh: no harness at $bench_dir (set PATCHWORK_BENCH_DIR)" >&2; exit 2; }

work=$(mktemp -d)
pid=
cleanup() {
    [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

tool=${BENCH_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/patchwork-bench}/relaybench
if [[ ! -x $tool ]]; then
    tool="$work/relaybench"
    (cd "$bench_dir/relaybench" && GOPROXY=off GOFLAGS=-mod=mod go build -buildvcs=false -o "$tool" .)
fi

key=public
((literal)) || key="sha256:$(printf %s public | sha256sum | cut -d' ' -f1)"
mkdir -p "$work/users/bench"
cat >"$work/users/bench/config.yaml" <<EOF
tokens:
  "$key":
    GET: ["/public/**", "!/public/secret/*"]
    POST: ["/public/**", "!/public/secret/*"]
  "sha256:$(printf %s another-token | sha256sum | cut -d' ' -f1)":
    GET: ["/private/**"]
EOF

ulimit -n 4096 2>/dev/null || true
"$daemon" start --host 127.0.0.1 --port 0 --data-dir "$work/data" --users-dir "$work/users" \
    --rate-limit 0 --max-waiting-per-ip 0 2>"$work/daemon.log" &
pid=$!
port=
for _ in $(seq 100); do
    port=$(sed -n 's#.*listening on http://127.0.0.1:\([0-9]*\).*#\1#p' "$work/daemon.log" | head -n1)
    [[ -n $port ]] && break
    sleep 0.1
done
[[ -n $port ]] || { echo "userpairs.sh: patchworkd did not start" >&2; cat "$work/daemon.log" >&2; exit 1; }
base="http://127.0.0.1:$port"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$base/u/bench/public/queue/probe?timeout=0.1") == 204 ]] ||
    { echo "userpairs.sh: the user namespace does not answer as expected" >&2; exit 1; }

echo "patchworkd $daemon on $base; $rounds rounds x 2 targets, $pairs pairs, $duration; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= rounds; r++)); do
    for target in public user; do
        b=$base
        [[ $target == user ]] && b="$base/u/bench"
        "$tool" -scenario pairs -target patchwork -base "$b" -pid "$pid" -pairs "$pairs" -duration "$duration" \
            -label "$target" -round "$r" >>"$work/results.jsonl" 2>/dev/null || true
    done
done

python3 - "$work/results.jsonl" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for row in rows:
    by.setdefault(row.get("label"), {})[row.get("round")] = row
pub, usr = by.get("public", {}), by.get("user", {})
ratios = []
for r in sorted(pub):
    p, u = pub[r], usr.get(r, {})
    ok = p.get("ok") and u.get("ok")
    print(f"round {r}: public {p.get('msgs_per_s')} msg/s (server {p.get('server_cpu_pct')}% cpu), "
          f"user {u.get('msgs_per_s')} msg/s (server {u.get('server_cpu_pct')}% cpu), "
          f"loadavg {p.get('loadavg1')}/{u.get('loadavg1')}{'' if ok else '  NOT OK: ' + str(p.get('error') or u.get('error_samples') or p.get('error_samples'))}")
    if ok and p.get("msgs_per_s"):
        ratios.append(u["msgs_per_s"] / p["msgs_per_s"])
if not ratios:
    sys.exit("no complete round")
med = lambda xs: statistics.median(xs) if xs else float("nan")
print(f"median: public {med([p['msgs_per_s'] for p in pub.values() if p.get('ok')]):.0f} msg/s, "
      f"user {med([u['msgs_per_s'] for u in usr.values() if u.get('ok')]):.0f} msg/s, "
      f"ratio user/public {med(ratios):.3f} (target >= 0.90)")
sys.exit(0 if med(ratios) >= 0.9 else 1)
EOF
