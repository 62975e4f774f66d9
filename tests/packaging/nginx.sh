#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's nginx snippet (the block after "tests/packaging/nginx.sh checks this snippet") passes
# `nginx -t` with a private prefix (no service), has the directives that keep long polls and streams
# unbuffered and open, and, run by a private nginx on a loopback port in front of the built daemon,
# passes Server-Sent Events through at once (the daemon also sends X-Accel-Buffering: no for them)
# and long polls.
# Usage: nginx.sh SOURCE-DIR PATCHWORKD
set -euo pipefail

readme=$1/README.md
source "$(dirname "$0")/../e2e/lib.sh" "$2"

awk '/tests\/packaging\/nginx.sh checks this snippet/ { marker = 1; next }
     marker && /^```nginx$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$readme" >"$work/patchwork.conf"
[[ -s $work/patchwork.conf ]] || fail "no nginx snippet after the marker in the README"
for directive in 'proxy_buffering off;' 'proxy_http_version 1.1;' 'proxy_read_timeout 24h;' \
    'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;' 'proxy_pass http://127.0.0.1:8080;'; do
    grep -qF "$directive" "$work/patchwork.conf" || fail "the snippet lacks '$directive'"
done

# Its certificates, made here; the snippet goes into the http block as /etc/nginx/conf.d/ files do.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=patchwork.example.org \
    -keyout "$work/privkey.pem" -out "$work/fullchain.pem" 2>/dev/null
sed -i "s#/etc/letsencrypt/live/patchwork.example.org/#$work/#" "$work/patchwork.conf"
nginx_conf() { # SNIPPET
    cat <<CONF
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events {}
http {
    access_log off;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    include $1;
}
CONF
}
nginx_conf "$work/patchwork.conf" >"$work/nginx.conf"
nginx -t -p "$work" -c "$work/nginx.conf" 2>"$work/test.log" || fail "nginx -t: $(cat "$work/test.log")"

# The same snippet in front of the daemon, on a free loopback port instead of 443.
start_daemon
for _ in $(seq 20); do
    proxy_port=$((20000 + RANDOM % 40000))
    port_in_use "$proxy_port" || break
done
sed -e "/listen \[::\]:443/d" -e "s/listen 443 /listen 127.0.0.1:$proxy_port /" \
    -e "s#proxy_pass http://127.0.0.1:8080;#proxy_pass http://127.0.0.1:$port;#" \
    "$work/patchwork.conf" >"$work/running.conf"
nginx_conf "$work/running.conf" >"$work/nginx-running.conf"
nginx -p "$work" -c "$work/nginx-running.conf" -g 'daemon off;' 2>>"$work/nginx-error.log" &
nginx_pid=$!
on_exit 'kill -TERM $nginx_pid; wait $nginx_pid'
extra_logs+=("$work/nginx-error.log")
until_true "port_in_use $proxy_port" || fail "nginx does not listen on $proxy_port"
P="https://127.0.0.1:$proxy_port"
pc() { curl -sSk --max-time 20 "$@"; }

# Server-Sent Events: the event arrives while the stream is still open (nothing waits in a buffer).
curl -sSkN --max-time 30 "$P/public/pubsub/events?stream=sse" >"$work/sse" &
sse=$!
until_true '[[ $(pc -o /dev/null -D - -d probe "$P/public/pubsub/events" | tr -d "\r" | sed -n "s/^patch-subscribers: //Ip") == 1 ]]' ||
    fail "the SSE subscriber never reached the daemon through nginx"
pc -d "through nginx" "$P/public/pubsub/events" >/dev/null
until_true 'grep -q "^data: through nginx" "$work/sse"' || fail "the event did not come through at once: $(cat "$work/sse")"
kill -0 "$sse" 2>/dev/null || fail "the stream ended"
kill "$sse"
wait "$sse" 2>/dev/null || true

# A long poll: the consumer waits through nginx until a producer comes.
pc "$P/public/queue/jobs" >"$work/job" &
consumer=$!
waiting consumer 1
pc -d "job 1" "$P/public/queue/jobs" || fail "producer through nginx"
wait "$consumer" || fail "consumer through nginx"
[[ $(cat "$work/job") == "job 1" ]] || fail "long poll through nginx got '$(cat "$work/job")'"
stop_daemon
echo "ok"
