#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end: message ids, replay with since=, Patch-Gap and Server-Sent Events (PROTOCOL §4.1) against
# the built patchworkd, with curl and `curl -N`, running the README's examples as written.
set -euo pipefail

source "$(dirname "$0")/lib.sh" "$1"
readme="$(cd "$(dirname "$0")/../.." && pwd)/README.md"
loop=
on_exit '[[ -n "$loop" ]] && kill -- -"$loop" 2>/dev/null'
header() { tr -d '\r' | sed -n "s/^$1: //Ip"; } # header NAME < response head
publish() { c -D - -o /dev/null "$B$1" --data-binary "$2"; } # prints the response head

start_daemon --rate-limit 0 --replay-count 3

# --- ids: the publisher and every receiver see Patch-Id and Patch-Time -----------------------------
c -D "$work/sub.h" -o "$work/sub.b" "$B/public/pubsub/ids" &
sub=$!
sleep 0.3
head=$(publish /public/pubsub/ids "hello")
wait "$sub"
id=$(header Patch-Id <<<"$head")
[[ $id =~ ^[A-Za-z0-9_-]+$ && ! $id =~ ^[0-9]+$ ]] || fail "Patch-Id '$id'"
[[ $(header Patch-Time <<<"$head") =~ ^[0-9]{10}$ ]] || fail "Patch-Time"
[[ $(header Patch-Subscribers <<<"$head") == 1 ]] || fail "Patch-Subscribers"
[[ $(header Patch-Id <"$work/sub.h") == "$id" ]] || fail "the subscriber's Patch-Id"
[[ $(header Patch-Time <"$work/sub.h") == $(header Patch-Time <<<"$head") ]] || fail "the subscriber's Patch-Time"
[[ $(cat "$work/sub.b") == hello ]] || fail "the subscriber's body"

# --- the README's since= loop: a subscriber that stops, misses three messages, and gets them all -------
script=$(awk '/<!-- tests\/e2e\/replay.sh runs this loop as written -->/ { found = 1; next }
              found && /^```sh/ { inside = 1; next }
              inside && /^```/ { exit }
              inside { print }' "$readme")
[[ $script == *'?since=$(cat last-id)'* ]] || fail "the README's loop was not found"
script=${script//http:\/\/localhost:8080/$B}
mkdir "$work/loop"
run_loop() { # runs the loop in its own process group (so that it and its curl can be stopped together)
    (cd "$work/loop" && exec setsid bash -c "$script" >>"$work/loop.out" 2>>"$work/loop.err") &
    loop=$!
}
stop_loop() {
    kill -- -"$loop" 2>/dev/null || kill "$loop"
    wait "$loop" 2>/dev/null || true
    loop=
}
run_loop
until_true '[[ $(c "$B/metrics" | sed -n "s/^patchwork_waiting_requests{role=\"consumer\"} //p") == 1 ]]' ||
    fail "the loop did not subscribe"
publish /public/pubsub/events "m1" >/dev/null
until_true '[[ $(cat "$work/loop.out") == m1 ]]' || fail "the loop got '$(cat "$work/loop.out")'"
stop_loop
for m in m2 m3 m4; do
    [[ $(publish /public/pubsub/events "$m" | header Patch-Subscribers) == 0 ]] || fail "nobody should wait"
done
run_loop
until_true '[[ $(tr "\n" " " <"$work/loop.out") == "m1 m2 m3 m4 " ]]' ||
    fail "after reconnecting the loop has '$(tr '\n' ' ' <"$work/loop.out")'"
publish /public/pubsub/events "m5" >/dev/null
until_true '[[ $(tr "\n" " " <"$work/loop.out") == "m1 m2 m3 m4 m5 " ]]' || fail "m5 after catching up"
stop_loop
[[ ! -s "$work/loop.err" ]] || fail "the loop reported: $(cat "$work/loop.err")"

# --- since= values and Patch-Gap (3 messages kept per channel) ----------------------------------------
ids=()
for m in g1 g2 g3 g4 g5; do
    ids+=("$(publish /public/pubsub/gap "$m" | header Patch-Id)")
done
[[ $(c "$B/public/pubsub/gap?since=all") == g3 ]] || fail "since=all (g1, g2 evicted)"
[[ $(c "$B/public/pubsub/gap?since=${ids[2]}") == g4 ]] || fail "since=<id>"
[[ $(c "$B/public/pubsub/gap?since=1h") == g3 ]] || fail "since=1h"
now=$(date +%s)
[[ $(c "$B/public/pubsub/gap?since=$((now - 60))") == g3 ]] || fail "since=<unix seconds>"
[[ $(c -o /dev/null -w '%{http_code}' "$B/public/pubsub/gap?since=$((now + 3600))&timeout=0.3") == 204 ]] ||
    fail "since=<the future> should wait"
[[ $(c -o /dev/null -w '%{http_code}' "$B/public/pubsub/gap?since=${ids[4]}&timeout=0.3") == 204 ]] ||
    fail "since=<the newest id> should wait"
c -D "$work/gap.h" -o "$work/gap.b" "$B/public/pubsub/gap?since=${ids[0]}"
[[ $(header Patch-Gap <"$work/gap.h") == true && $(cat "$work/gap.b") == g3 ]] || fail "Patch-Gap for an evicted id"
c -D "$work/gap.h" -o /dev/null "$B/public/pubsub/gap?since=${ids[3]}"
[[ -z $(header Patch-Gap <"$work/gap.h") ]] || fail "Patch-Gap for a buffered id"
# Flexible paths: the mode is the producer's.
publish "/public/flex?pubsub=true" "f1" >/dev/null
[[ $(c "$B/public/flex?since=all") == f1 ]] || fail "since= on a flexible path"

# --- Server-Sent Events with curl -N, as the README shows -----------------------------------------------
readme_sse='curl -N "http://localhost:8080/public/pubsub/events?stream=sse&since=all"'
grep -qF "$readme_sse" "$readme" || fail "the README's curl -N example changed"
sse=${readme_sse//http:\/\/localhost:8080/$B}
eval "${sse/curl -N/curl -s -N --max-time 1}" >"$work/sse.out" || [[ $? == 28 ]] || fail "curl -N failed"
# Replayed: what the buffer still holds of m1..m5 (3 kept), oldest first, with their ids.
[[ $(grep -c '^event: message$' "$work/sse.out") == 3 ]] || fail "SSE replay: $(cat "$work/sse.out")"
[[ $(sed -n 's/^data: //p' "$work/sse.out" | tr '\n' ' ') == "m3 m4 m5 " ]] || fail "SSE replay order"
last=$(sed -n 's/^id: //p' "$work/sse.out" | tail -n1)
[[ $(head -n4 "$work/sse.out" | sed -n 2,4p | tr '\n' '|') == "event: message|data: m3||" ]] || fail "SSE framing"

# Live events: headers, a multi-line body, a binary body, Patch-Subscribers, and ?timeout= ending it.
c -N -D "$work/live.h" "$B/public/pubsub/events?stream=sse&timeout=3" >"$work/live.out" &
live=$!
until_true '[[ -s "$work/live.h" ]]' || fail "no SSE response head"
[[ $(header Content-Type <"$work/live.h") == text/event-stream ]] || fail "SSE Content-Type"
[[ $(header Cache-Control <"$work/live.h") == no-cache ]] || fail "SSE Cache-Control"
[[ $(header X-Accel-Buffering <"$work/live.h") == no ]] || fail "SSE X-Accel-Buffering"
[[ $(publish /public/pubsub/events $'line one\nline two' | header Patch-Subscribers) == 1 ]] ||
    fail "an SSE stream counts in Patch-Subscribers"
printf '\xff\xfe\x00' >"$work/binary"
c -o /dev/null "$B/public/pubsub/events" --data-binary @"$work/binary"
wait "$live" || fail "the stream did not end cleanly at ?timeout="
grep -qz $'event: message\ndata: line one\ndata: line two\n\n' "$work/live.out" || fail "multi-line event"
grep -qz $'event: binary\ndata: //4A\n\n' "$work/live.out" || fail "binary event: $(cat "$work/live.out")"

# Resuming with Last-Event-ID, as the README shows: only what came after that id.
readme_resume='curl -N -H "Last-Event-ID: mx3k9a2b-1" "http://localhost:8080/public/pubsub/events?stream=sse"'
grep -qF "$readme_resume" "$readme" || fail "the README's Last-Event-ID example changed"
resume=${readme_resume//http:\/\/localhost:8080/$B}
resume=${resume//mx3k9a2b-1/$last}
eval "${resume/curl -N/curl -s -N --max-time 1}" >"$work/resume.out" || [[ $? == 28 ]] || fail "curl -N resume"
[[ $(grep -c '^event: ' "$work/resume.out") == 2 ]] || fail "resume: $(cat "$work/resume.out")"
grep -q '^data: line one$' "$work/resume.out" || fail "resume content"
# An id no longer buffered: a gap event first.
curl -s -N --max-time 1 -H "Last-Event-ID: ${ids[0]}" "$B/public/pubsub/gap?stream=sse" >"$work/gap.out" || true
[[ $(head -n1 "$work/gap.out") == "event: gap" ]] || fail "SSE gap: $(cat "$work/gap.out")"
# Queue paths refuse streams.
[[ $(c -o /dev/null -w '%{http_code}' "$B/public/queue/q?stream=sse") == 400 ]] || fail "stream on a queue path"

# --- replay off ---------------------------------------------------------------------------------------
stop_daemon
start_daemon --rate-limit 0 --replay-total-bytes 0
publish /public/pubsub/off "gone" >/dev/null
[[ $(c -o /dev/null -w '%{http_code}' "$B/public/pubsub/off?since=all&timeout=0.3") == 204 ]] ||
    fail "--replay-total-bytes 0 should disable replay"

echo "e2e replay: all checks passed"
