#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end: starts the built patchworkd and drives it with curl the way the README shows.
set -euo pipefail

source "$(dirname "$0")/lib.sh" "$1"

start_daemon --max-body 1MiB --max-stream-body 8MiB

# Health and the index page.
[[ $(c "$B/healthz") == "OK!" ]] || fail "healthz"
c "$B/" | grep -q "$B/public/queue/jobs" || fail "index page does not show its own URL"
"$daemon" healthcheck --url "$B/healthz" || fail "healthcheck command"
! "$daemon" healthcheck --url "http://127.0.0.1:1/healthz" 2>/dev/null || fail "healthcheck of a dead port succeeded"

# Queue: the consumer blocks until a producer arrives.
c "$B/public/queue/jobs" >"$work/job" &
consumer=$!
waiting consumer 1
c "$B/public/queue/jobs" -d "process-file.txt" || fail "producer"
wait "$consumer"
[[ $(cat "$work/job") == "process-file.txt" ]] || fail "queue consumer got '$(cat "$work/job")'"

# The producer blocks until a consumer took the message; /p is the same channel.
c "$B/p/queue/later" -d "second" &
producer=$!
waiting producer 1
[[ $(c "$B/public/queue/later") == "second" ]] || fail "queue producer first"
wait "$producer" || fail "producer exit status"

# Pubsub: two subscribers, one publish.
c "$B/public/pubsub/events" >"$work/s1" &
s1=$!
c "$B/public/pubsub/events" >"$work/s2" &
s2=$!
waiting consumer 2
subs=$(c -D - -o /dev/null "$B/public/pubsub/events" -d "user-login" | tr -d '\r' | sed -n 's/^Patch-Subscribers: //p')
wait "$s1" "$s2"
[[ "$subs" == 2 ]] || fail "Patch-Subscribers was '$subs'"
[[ $(cat "$work/s1") == "user-login" && $(cat "$work/s2") == "user-login" ]] || fail "pubsub delivery"

# Flexible path, GET ?body=, and ?timeout=.
c "$B/public/notifications" >"$work/n" &
n=$!
waiting consumer 1
c "$B/public/notifications?pubsub=true&body=hello,%20world" >/dev/null
wait "$n"
[[ $(cat "$work/n") == "hello, world" ]] || fail "GET ?body= publish"
[[ $(c -o /dev/null -w '%{http_code}' "$B/public/queue/empty?timeout=0.5") == 204 ]] || fail "consumer timeout"
[[ $(c -o /dev/null -w '%{http_code}' "$B/public/queue/empty?timeout=0.5" -d x) == 504 ]] || fail "producer timeout"

# Request/response with a GET responder and a reply.
c -D "$work/rh" -o "$work/rb" "$B/public/res/api" &
r=$!
waiting responder 1
c "$B/public/req/api/users/7" -d "who?" >"$work/answer" &
q=$!
wait "$r"
id=$(tr -d '\r' <"$work/rh" | sed -n 's/^Patch-Request-Id: //p')
[[ $(cat "$work/rb") == "who?" ]] || fail "responder got '$(cat "$work/rb")'"
c "$B/public/res/api?reply=$id" -H "Patch-Status: 201" -d "alice" || fail "reply"
wait "$q"
[[ $(cat "$work/answer") == "alice" ]] || fail "requester got '$(cat "$work/answer")'"

# Bad input gets a clear answer and the daemon keeps serving.
[[ $(c -o /dev/null -w '%{http_code}' "$B/public/queue/big" --data-binary @<(head -c 9000000 /dev/zero)) == 413 ]] ||
    fail "body over --max-stream-body"
[[ $(c "$B/public/queue/x?timeout=abc") == "Invalid timeout" ]] || fail "invalid timeout text"
[[ $(c -o /dev/null -w '%{http_code}' -X DELETE "$B/public/queue/x") == 405 ]] || fail "405"
printf 'NONSENSE\r\n\r\n' | timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat >&3; head -c 12 <&3" | grep -q "400" ||
    fail "malformed request line"
[[ $(c "$B/healthz") == "OK!" ]] || fail "daemon stopped serving after bad input"

# The bash client served by the daemon works.
c -o "$work/patchwork" "$B/patchwork.sh"
bash -n "$work/patchwork" || fail "bash client syntax"

# File sharing as the README shows it: a body above --max-body streams from sender to receiver, with
# curl and with the bash client.
head -c 5000000 /dev/urandom >"$work/file"
c -o "$work/file.curl" "$B/public/queue/files" &
r=$!
waiting consumer 1
c -T "$work/file" "$B/public/queue/files" || fail "streamed upload"
wait "$r"
cmp -s "$work/file" "$work/file.curl" || fail "the streamed file differs"
PATCHWORK_URL=$B bash "$work/patchwork" receive-file files "$work/file.client" &
r=$!
waiting consumer 1
PATCHWORK_URL=$B bash "$work/patchwork" send-file files "$work/file" || fail "send-file"
wait "$r" || fail "receive-file"
cmp -s "$work/file" "$work/file.client" || fail "the file of receive-file differs"
[[ ! -e "$work/file.client.part" ]] || fail "receive-file left its .part file"
c "$B/metrics" | grep -q '^patchwork_streamed_transfers_total{result="complete"} 2$' || fail "metrics of streamed transfers"

# Graceful shutdown: a waiting producer learns its message was not delivered, and the exit status is 0.
c -o "$work/sd" -w '%{http_code}' "$B/public/queue/never" -d "undelivered" >"$work/sdcode" &
w=$!
waiting producer 1
stop_daemon
wait "$w" || true
[[ $(cat "$work/sdcode") == 503 ]] || fail "waiting producer got $(cat "$work/sdcode") on shutdown"
grep -q "shutting down" "$work/sd" || fail "shutdown text"
echo "e2e: all checks passed"
