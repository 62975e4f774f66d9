#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end: the built patchwork-tray with --relay, headless (QT_QPA_PLATFORM=offscreen), driven with curl
# the way the README drives patchworkd: queue, pubsub, Server-Sent Events with replay, request/response,
# hooks.
# Also: a second start hands over to the first (exit 0), and a port in use is a clear error (exit 1).
set -euo pipefail

source "$(dirname "$0")/lib.sh" "$1"
tray=$daemon
log="$work/tray.log"

# Everything the app writes (settings, history, secret key, users, the single-instance socket) in $work.
export QT_QPA_PLATFORM=offscreen XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" \
    XDG_RUNTIME_DIR="$work/run" TMPDIR="$work" DBUS_SESSION_BUS_ADDRESS="unix:path=$work/no-bus"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

# Port 0: the relay takes a free port and logs the URL it listens on.
"$tray" --relay --relay-host 127.0.0.1 --relay-port 0 >"$log" 2>&1 &
pid=$!
port=
for _ in $(seq 200); do
    port=$(sed -n 's|.*local relay listening on http://[^/]*:\([0-9]*\)/.*|\1|p' "$log" | head -n 1)
    [[ -n "$port" ]] && break
    kill -0 "$pid" 2>/dev/null || fail "patchwork-tray exited"
    sleep 0.1
done
[[ -n "$port" ]] || fail "no 'listening' line"
B="http://127.0.0.1:$port"
[[ $(c "$B/healthz") == "OK!" ]] || fail "healthz"
[[ -f "$XDG_DATA_HOME/patchwork/patchwork-tray/secret_key" ]] || fail "secret_key not in the app's data dir"
[[ -d "$XDG_DATA_HOME/patchwork/patchwork-tray/users" ]] || fail "users dir not in the app's data dir"

# --- queue: one message, one receiver ------------------------------------------------------------------
c "$B/public/queue/jobs" >"$work/queue.out" &
consumer=$!
waiting consumer 1
c "$B/public/queue/jobs" -d "process-file.txt" >/dev/null
wait "$consumer"
[[ $(cat "$work/queue.out") == "process-file.txt" ]] || fail "queue"

# --- pubsub: broadcast to everyone waiting ----------------------------------------------------------------
c "$B/public/pubsub/events" >"$work/sub1.out" &
s1=$!
c "$B/public/pubsub/events" >"$work/sub2.out" &
s2=$!
waiting consumer 2
head=$(c -D - -o /dev/null "$B/public/pubsub/events" -d "user-login" | tr -d '\r')
wait "$s1" "$s2"
grep -qi "^Patch-Subscribers: 2$" <<<"$head" || fail "Patch-Subscribers: $head"
[[ $(cat "$work/sub1.out") == user-login && $(cat "$work/sub2.out") == user-login ]] || fail "pubsub bodies"

# --- SSE: the replay buffer and an event stream ----------------------------------------------------------
c "$B/public/pubsub/alerts" -d "first" >/dev/null
c "$B/public/pubsub/alerts" -d "second" >/dev/null
curl -s -N --max-time 2 "$B/public/pubsub/alerts?stream=sse&since=all" >"$work/sse.out" || true
grep -q "^data: first" "$work/sse.out" || fail "SSE replay: $(cat "$work/sse.out")"
grep -q "^data: second" "$work/sse.out" || fail "SSE replay second"
[[ $(grep -c "^id: " "$work/sse.out") == 2 ]] || fail "SSE ids"

# --- request/response: the responder gets the request, answers with ?reply= -----------------------------
c -D "$work/responder.h" -o "$work/responder.b" "$B/public/res/api" &
responder=$!
waiting responder 1
c "$B/public/req/api/users/7" -d "who?" >"$work/requester.out" &
requester=$!
wait "$responder"
[[ $(cat "$work/responder.b") == "who?" ]] || fail "the responder got the request"
rid=$(tr -d '\r' <"$work/responder.h" | sed -n 's/^Patch-Request-Id: //Ip')
[[ -n "$rid" ]] || fail "no Patch-Request-Id"
c "$B/public/res/api?reply=$rid" -d "alice" >/dev/null
wait "$requester"
[[ $(cat "$work/requester.out") == alice ]] || fail "request/response: $(cat "$work/requester.out")"

# --- hooks: anyone may read /h/<channel>, only the holder of its secret may write ----------------------------
hook=$(c "$B/h")
channel=$(echo "$hook" | sed 's/.*"channel":"\([^"]*\)".*/\1/')
secret=$(echo "$hook" | sed 's/.*"secret":"\([^"]*\)".*/\1/')
[[ -n "$channel" && ${#secret} == 64 ]] || fail "hook: $hook"
[[ $(c -o /dev/null -w '%{http_code}' "$B/h/$channel" -d "forged") == 401 ]] || fail "hook write without secret"
c "$B/h/$channel" >"$work/hook.out" &
listener=$!
waiting consumer 1
[[ $(c -o /dev/null -w '%{http_code}' "$B/h/$channel?secret=$secret" -d "deploy done") == 200 ]] || fail "hook write"
wait "$listener"
[[ $(cat "$work/hook.out") == "deploy done" ]] || fail "hook: $(cat "$work/hook.out")"

# --- one instance per user: a second start raises the first and exits 0 -----------------------------------
timeout 10 "$tray" >"$work/second.log" 2>&1 || fail "second instance exit $? $(cat "$work/second.log")"
kill -0 "$pid" || fail "the first instance died"

# --- a port in use is a clear error, not a crash --------------------------------------------------------
set +e
timeout 10 "$tray" --allow-multiple --relay --relay-port "$port" >"$work/busy.log" 2>&1
rc=$?
set -e
[[ $rc == 1 ]] || fail "port in use: exit $rc $(cat "$work/busy.log")"
grep -q "port $port is already in use" "$work/busy.log" || fail "port in use message: $(cat "$work/busy.log")"

echo "e2e tray: all passed"
