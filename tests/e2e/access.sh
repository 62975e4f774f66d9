#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end: hooks, user namespaces, admin, check-config, rate limits, metrics and SIGHUP against the
# built patchworkd, driven by curl the way the README shows.
set -euo pipefail

source "$(dirname "$0")/lib.sh" "$1"

TOKEN=alice-e2e-token-3f9c
ADMIN=alice-admin-token-77aa
METRICS=metrics-e2e-token-51
hash() { printf %s "$1" | sha256sum | cut -d' ' -f1; }

mkdir -p "$work/users/alice"
write_config() { # POST patterns
    cat >"$work/users/alice/config.yaml" <<EOF
tokens:
  "sha256:$(hash "$TOKEN")":
    GET: ["/projects/**"]
    POST: $1
  "$ADMIN":
    is_admin: true
  public:
    GET: ["/pub/*"]
EOF
}
write_config '["/projects/**"]'
echo "rate-limit: 1000" >"$work/patchwork.yaml"

start() {
    METRICS_TOKEN=$METRICS start_daemon --users-dir "$work/users" --config "$work/patchwork.yaml"
}
code() { curl -sS --max-time 20 -o /dev/null -w '%{http_code}' "$@"; }
json() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }

start

# --- hooks (PROTOCOL §7) ------------------------------------------------------------------------------
[[ $(stat -c %a "$work/data/secret_key") == 600 ]] || fail "secret_key is not mode 600"
hook=$(c "$B/h")
channel=$(json channel <<<"$hook")
secret=$(json secret <<<"$hook")
[[ $channel =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] || fail "hook id '$channel'"
[[ $secret =~ ^[0-9a-f]{64}$ ]] || fail "hook secret"
[[ $(c "$B/h/$channel" -d forged) == "Secret required" ]] || fail "write without secret"
[[ $(c "$B/h/$channel?secret=0000" -d forged) == "Invalid secret" ]] || fail "write with a wrong secret"
[[ $(c "$B/h/$channel?body=forged") == "Secret required" ]] || fail "GET ?body= without secret"
[[ $(code -X PUT "$B/h/$channel" -d forged) == 401 ]] || fail "PUT without secret"
c "$B/h/$channel" >"$work/hooked" &
reader=$!
sleep 0.3
c "$B/h/$channel?secret=$secret" -d "build finished" || fail "hook write"
wait "$reader"
[[ $(cat "$work/hooked") == "build finished" ]] || fail "hook reader got '$(cat "$work/hooked")'"
rhook=$(c "$B/r")
rchannel=$(json channel <<<"$rhook")
rsecret=$(json secret <<<"$rhook")
[[ $(code "$B/r/$rchannel?timeout=0.2") == 401 ]] || fail "reverse hook read without secret"
[[ $(code "$B/r/$rchannel?timeout=0.2&secret=$rsecret") == 204 ]] || fail "reverse hook read"
[[ $(code "$B/r/$rchannel?timeout=0.2" -d free) == 504 ]] || fail "reverse hook write is free"

# --- user namespaces (PROTOCOL §8) --------------------------------------------------------------------
[[ $(code -H "Authorization: Bearer $TOKEN" "$B/u/alice/projects/a?timeout=0.2") == 204 ]] || fail "Bearer token"
[[ $(code "$B/u/alice/projects/a?timeout=0.2&token=$TOKEN") == 204 ]] || fail "?token="
[[ $(code "$B/u/alice/pub/a?timeout=0.2") == 204 ]] || fail "implicit public token"
c -D "$work/h401" -o "$work/b401" "$B/u/alice/projects/a"
grep -qi '^WWW-Authenticate: Bearer realm="patchwork"' "$work/h401" || fail "WWW-Authenticate"
[[ $(cat "$work/b401") == "Access denied: token does not match patterns" ]] || fail "401 text: $(cat "$work/b401")"
[[ $(c -H "Authorization: Bearer nope" "$B/u/alice/pub/a") == "Access denied: token not found" ]] || fail "unknown token"
c -H "Authorization: Bearer $TOKEN" "$B/u/alice/projects/jobs" >"$work/job" &
consumer=$!
sleep 0.3
c -H "Authorization: Bearer $TOKEN" "$B/u/alice/projects/jobs" -d "job 1" || fail "user producer"
wait "$consumer"
[[ $(cat "$work/job") == "job 1" ]] || fail "user consumer got '$(cat "$work/job")'"
[[ $(c "$B/u/bob/x") == "Access denied: token not found" ]] || fail "user without config"
[[ $(code "$B/u/-bad/x") == 404 ]] || fail "invalid user name"

# A changed file takes effect within 2 s, without a signal.
write_config '[]'
denied=
for _ in $(seq 20); do
    if [[ $(code -H "Authorization: Bearer $TOKEN" "$B/u/alice/projects/x?pubsub=1" -d m) == 403 ]]; then
        denied=1
        break
    fi
    sleep 0.1
done
[[ -n $denied ]] || fail "changed config not seen within 2 s"
[[ $(c -H "Authorization: Bearer $TOKEN" "$B/u/alice/projects/x?pubsub=1" -d m) == "Access denied: no patterns found" ]] ||
    fail "403 text"

# A broken file closes that user only, and says where.
mkdir -p "$work/users/carol"
printf 'tokens:\n  t:\n    is_admin: "yes"\n' >"$work/users/carol/config.yaml"
broken=
for _ in $(seq 20); do
    [[ $(code "$B/u/carol/x") == 503 ]] && broken=1 && break
    sleep 0.1
done
[[ -n $broken ]] || fail "broken config did not give 503"
[[ $(c "$B/u/carol/x") == "User configuration unavailable" ]] || fail "503 text"
grep -q "carol/config.yaml:3:" "$log" || fail "config error without file:line in the log"

# A file whose aliases would expand to 18 million patterns (issue 8) is refused quickly: 503 for that
# user, a FILE:LINE message, and the daemon stays up.
{
    printf 'shared: &all [/p'
    for _ in $(seq 11999); do printf ', /p'; done
    printf ']\ntokens:\n'
    for t in $(seq 250); do
        printf '  t%s:\n' "$t"
        for list in GET POST PUT DELETE PATCH huproxy; do printf '    %s: *all\n' "$list"; done
    done
} >"$work/mallory.yaml"
mkdir -p "$work/users/mallory"
mv "$work/mallory.yaml" "$work/users/mallory/config.yaml" # whole, never seen half-written
refused=
for _ in $(seq 50); do
    [[ $(code "$B/u/mallory/x") == 503 ]] && refused=1 && break
    sleep 0.1
done
[[ -n $refused ]] || fail "expanding config did not give 503"
kill -0 "$pid" || fail "daemon died on an expanding config"
[[ $(code "$B/u/alice/pub/a?timeout=0.2") == 204 ]] || fail "daemon does not serve after an expanding config"
grep -q "mallory/config.yaml:[0-9]*: the configuration is too large" "$log" || fail "expanding config not logged"
set +e
timeout 10 "$daemon" check-config "$work/users/mallory/config.yaml" 2>"$work/cc.err" >/dev/null
status=$?
set -e
[[ $status == 1 ]] || fail "check-config of an expanding config: exit status $status"
grep -q "^$work/users/mallory/config.yaml:[0-9]*: the configuration is too large" "$work/cc.err" ||
    fail "check-config output: $(cat "$work/cc.err")"

# --- admin (PROTOCOL §9) -------------------------------------------------------------------------------
[[ $(c "$B/u/alice/_/invalidate_cache") == "Authorization required" ]] || fail "admin without token"
[[ $(c -H "Authorization: Bearer $TOKEN" "$B/u/alice/_/invalidate_cache") == "Admin access denied: not an admin token" ]] ||
    fail "admin with a normal token"
[[ $(c -X POST -H "Authorization: Bearer $ADMIN" "$B/u/alice/_/invalidate_cache") == '{"status": "cache invalidated"}' ]] ||
    fail "invalidate_cache"
[[ $(c -H "Authorization: Bearer $ADMIN" "$B/u/alice/_/nope") == "Unknown administrative endpoint" ]] || fail "unknown admin"

# --- check-config --------------------------------------------------------------------------------------
[[ $("$daemon" check-config "$work/users/alice/config.yaml") == ok ]] || fail "check-config of a good file"
set +e
"$daemon" check-config "$work/users/alice/config.yaml" "$work/users/carol/config.yaml" 2>"$work/cc.err" >/dev/null
status=$?
set -e
[[ $status == 1 ]] || fail "check-config exit status $status"
grep -q "^$work/users/carol/config.yaml:3: " "$work/cc.err" || fail "check-config output: $(cat "$work/cc.err")"
! "$daemon" check-config "$work/missing.yaml" 2>/dev/null || fail "check-config of a missing file"
printf 'tokens: {}\nntfy:\n  type: gotify\n  config: {url: "https://gotify.example"}\n' >"$work/ntfy.yaml"
! "$daemon" check-config "$work/ntfy.yaml" 2>"$work/cc.err" >/dev/null || fail "check-config of a gotify block without token"
[[ $(cat "$work/cc.err") == "$work/ntfy.yaml: ntfy: Invalid notification backend configuration: "* ]] ||
    fail "check-config output for the ntfy block: $(cat "$work/cc.err")"

# --- metrics (PROTOCOL §12) ----------------------------------------------------------------------------
c "$B/metrics" >"$work/metrics"
for family in patchwork_http_requests_total patchwork_http_request_duration_seconds patchwork_channels_total \
    patchwork_active_connections patchwork_waiting_requests patchwork_messages_total patchwork_message_size_bytes \
    patchwork_auth_requests_total patchwork_cache_hits_total patchwork_huproxy_connections_total \
    patchwork_huproxy_bytes_transferred_total patchwork_rate_limited_total process_resident_memory_bytes \
    process_open_fds process_start_time_seconds; do
    grep -q "^# TYPE $family " "$work/metrics" || fail "metric family $family missing"
done
grep -q '^patchwork_http_requests_total{method="POST",namespace="hooks",status="401"} ' "$work/metrics" ||
    fail "hook 401 not counted"
grep -q '^patchwork_messages_total{namespace="user",behavior="queue"} 1$' "$work/metrics" || fail "user message count"
# A remote client (forwarded by loopback, a trusted proxy) needs METRICS_TOKEN.
[[ $(code -H "X-Forwarded-For: 203.0.113.9" "$B/metrics") == 401 ]] || fail "remote metrics without token"
[[ $(code -H "X-Forwarded-For: 203.0.113.9" -H "Authorization: Bearer nope" "$B/metrics") == 403 ]] ||
    fail "remote metrics with a wrong token"
[[ $(code -H "X-Forwarded-For: 203.0.113.9" -H "Authorization: Bearer $METRICS" "$B/metrics") == 200 ]] ||
    fail "remote metrics with the token"

# --- rate limits, changed by SIGHUP (PROTOCOL §13, §14) ------------------------------------------------
printf 'rate-limit: 1\nrate-burst: 2\nmax-waiting-per-ip: 1\nrate-limit-loopback: true\n' >"$work/patchwork.yaml"
kill -HUP "$pid"
for _ in $(seq 50); do grep -q "configuration reloaded" "$log" && break; sleep 0.1; done
grep -q "configuration reloaded" "$log" || fail "SIGHUP not handled"
codes=""
for _ in 1 2 3; do codes+="$(code "$B/public/x?pubsub=1" -d m) "; done
[[ $codes == "200 200 429 " ]] || fail "rate limit after SIGHUP: $codes"
c -D "$work/h429" -o /dev/null "$B/public/x?pubsub=1" -d m
grep -qi '^Retry-After: [0-9]' "$work/h429" || fail "Retry-After"
[[ $(code "$B/healthz") == 200 ]] || fail "healthz rate limited"
[[ $(code -H "Authorization: Bearer $ADMIN" "$B/u/alice/_/invalidate_cache") == 200 ]] || fail "user namespace rate limited"
sleep 2.1
curl -sS --max-time 20 "$B/public/queue/wait" >/dev/null 2>&1 & # curl itself, so that kill reaches it
waiting=$!
sleep 0.3
[[ $(c "$B/public/queue/other") == "Too many waiting requests" ]] || fail "waiting cap"
kill "$waiting"
wait "$waiting" || true
sleep 1.1
[[ $(code "$B/public/queue/again?timeout=0.2") == 204 ]] || fail "a client that left keeps its waiting slot"

# --- the hook secret survives a restart -----------------------------------------------------------------
stop_daemon
start
[[ $(code "$B/h/$channel?pubsub=1&secret=$secret" -d again) == 200 ]] || fail "hook secret after a restart"

# --- nothing secret in the logs ------------------------------------------------------------------------
stop_daemon
key=$(od -An -tx1 "$work/data/secret_key" | tr -d ' \n')
[[ ${#key} == 64 ]] || fail "secret_key is not 32 bytes"
for s in "$TOKEN" "$ADMIN" "$METRICS" "$secret" "$rsecret" "$(hash "$TOKEN")" "$key"; do
    ! cat "$work"/daemon*.log | grep -qiF -- "$s" || fail "a secret appears in the log"
done
echo "e2e access: all checks passed"
