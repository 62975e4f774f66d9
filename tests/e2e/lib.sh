# SPDX-License-Identifier: MIT
# The start-up code every end-to-end script shares. Source it first, with the patchworkd binary:
#     source "$(dirname "$0")/lib.sh" "$1"
# (after `set -euo pipefail`). It sets `daemon` (that binary, absolute) and `work` (a temporary
# directory, removed on exit), and provides:
#   start_daemon [OPTION...]  starts `patchworkd start` on 127.0.0.1 and a free port (--port 0) with its
#                             state in $work/data, waits until it listens and sets `pid`, `port`, `B`
#                             (its base URL) and `log`. Every start writes a new log, so the port is
#                             always read from the daemon just started. Variables for the daemon go in
#                             front: `METRICS_TOKEN=x start_daemon --users-dir ...`.
#   stop_daemon               SIGTERM, then fails unless the daemon exits with status 0.
#   fail MESSAGE              prints MESSAGE, the current daemon's log and those in `extra_logs`; exit 1.
#   on_exit COMMAND           runs COMMAND (eval) on exit, before $work is removed.
#   until_true CONDITION      waits up to 10 s for a shell condition (eval).
#   port_in_use PORT          true when something listens on 127.0.0.1:PORT.
#   c CURL-ARGS...            curl, quiet, with errors shown and a 20 s limit.
#   waiting ROLE N            waits until N requests wait as ROLE (consumer, producer, requester,
#                             responder) on the relay at $B, read from its /metrics (free on loopback).

daemon=$(realpath -m "$1")
work=$(mktemp -d)
log=/dev/null
runs=0
pid=
port=
B=
extra_logs=()
exit_hooks=()

on_exit() { exit_hooks+=("$1"); }

e2e_cleanup() {
    local hook
    for hook in "${exit_hooks[@]}"; do
        eval "$hook" || true
    done
    if [[ -n "$pid" ]]; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap e2e_cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    local file
    for file in "$log" "${extra_logs[@]}"; do
        echo "--- $file:" >&2
        cat "$file" >&2 || true
    done
    exit 1
}

start_daemon() {
    [[ -z "$pid" ]] || fail "start_daemon: a daemon is running already"
    runs=$((runs + 1))
    log="$work/daemon$runs.log"
    : >"$log"
    "$daemon" start --host 127.0.0.1 --port 0 --data-dir "$work/data" "$@" 2>"$log" &
    pid=$!
    port=
    for _ in $(seq 100); do
        port=$(sed -n 's#.*listening on http://127.0.0.1:\([0-9]*\).*#\1#p' "$log" | head -n1)
        [[ -n "$port" ]] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [[ -n "$port" ]] || fail "daemon did not start"
    B="http://127.0.0.1:$port"
}

stop_daemon() {
    kill -TERM "$pid"
    local status=0
    wait "$pid" || status=$?
    pid=
    [[ $status == 0 ]] || fail "daemon exit status $status after SIGTERM"
}

until_true() {
    for _ in $(seq 100); do
        eval "$1" && return 0
        sleep 0.1
    done
    return 1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

c() { curl -sS --max-time 20 "$@"; }

waiting() {
    for _ in $(seq 200); do
        [[ $(c "$B/metrics" | sed -n "s/^patchwork_waiting_requests{role=\"$1\"} //p") == "$2" ]] && return 0
        sleep 0.05
    done
    fail "never $2 waiting as $1"
}
