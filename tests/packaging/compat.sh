#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Compatibility with the Go original: its example config.yaml (seed-config.yaml, verbatim) passes
# check-config and is enforced, and its way of starting (`patchwork start --port N`, the alias `s`,
# SECRET_KEY, FORGEJO_URL, FORGEJO_TOKEN, ACL_TTL, LOG_LEVEL=info as in its Dockerfile, LOG_SOURCE,
# `healthcheck --url`) works unchanged.
# Usage: compat.sh PATCHWORKD
set -euo pipefail

source "$(dirname "$0")/../e2e/lib.sh" "$1"
fixture="$(dirname "$0")/seed-config.yaml"
code() { curl -sS --max-time 20 -o /dev/null -w '%{http_code}' "$@"; }

[[ $("$daemon" check-config "$fixture") == ok ]] || fail "check-config of the original's example config"
mkdir -p "$work/users/alice"
cp "$fixture" "$work/users/alice/config.yaml"

# The original's environment; `s` is its alias of start.
export SECRET_KEY=original-secret-key FORGEJO_TOKEN= ACL_TTL=30s LOG_LEVEL=info LOG_SOURCE=yes
start_daemon() { # as lib.sh's, with the alias
    "$daemon" s --host 127.0.0.1 --port 0 --data-dir "$work/data" "$@" 2>"$log" &
    pid=$!
    until_true '[[ -n $(sed -n "s#.*listening on http://127.0.0.1:\([0-9]*\).*#\1#p" "$log") ]]' ||
        fail "daemon did not start"
    port=$(sed -n 's#.*listening on http://127.0.0.1:\([0-9]*\).*#\1#p' "$log" | head -n1)
    B="http://127.0.0.1:$port"
}
log=$work/daemon.log
start_daemon --users-dir "$work/users"
"$daemon" healthcheck --url "$B/healthz" || fail "healthcheck --url"

# The tokens of the example, as the original enforces them.
U=$B/u/alice
[[ $(code "$U/status?timeout=0.1") == 204 ]] || fail "public GET /status"
[[ $(code "$U/health?timeout=0.1") == 204 ]] || fail "public GET /health"
[[ $(code "$U/other?timeout=0.1") == 401 ]] || fail "public GET /other is not refused"
[[ $(code -d x "$U/status?timeout=0.1") == 401 ]] || fail "public POST is not refused"
[[ $(code -d "Deploy completed" "$U/projects/web/logs?token=my_token_name&timeout=0.1") == 504 ]] ||
    fail "my_token_name POST /projects/web/logs (the README's example)"
[[ $(code -H "Authorization: Bearer my_token_name" "$U/projects/myapp/builds/7?timeout=0.1") == 204 ]] ||
    fail "my_token_name GET /projects/myapp/**"
[[ $(code -H "Authorization: Bearer my_token_name" "$U/projects/myapp/secret/key?timeout=0.1") == 403 ]] ||
    fail "my_token_name GET of a negated path"
[[ $(code -H "Authorization: Bearer readonly_token" "$U/anything/at/all?timeout=0.1") == 204 ]] ||
    fail "readonly_token GET *"
[[ $(code -H "Authorization: Bearer readonly_token" -d x "$U/anything?timeout=0.1") == 403 ]] ||
    fail "readonly_token POST is not refused"
[[ $(code -H "Authorization: Bearer nobody" "$U/status?timeout=0.1") == 401 ]] || fail "an unknown token"
[[ $(code -H "Authorization: Bearer admin_token" "$U/_/invalidate_cache") == 200 ]] || fail "admin_token"
[[ $(code -H "Authorization: Bearer my_token_name" "$U/_/invalidate_cache") == 403 ]] ||
    fail "a token without is_admin invalidated the cache"

# SECRET_KEY: hook secrets are HMAC-SHA256(SECRET_KEY, "h:" + channel), as the original's.
hook=$(c "$B/h")
channel=$(sed -n 's/.*"channel":"\([^"]*\)".*/\1/p' <<<"$hook")
secret=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' <<<"$hook")
expected=$(printf 'h:%s' "$channel" | openssl dgst -sha256 -hmac "$SECRET_KEY" | sed 's/.*= //')
[[ $secret == "$expected" ]] || fail "hook secret $secret is not HMAC(SECRET_KEY, h:channel) $expected"
[[ ! -e $work/data/secret_key ]] || fail "a secret_key file was written although SECRET_KEY is set"
stop_daemon

# FORGEJO_URL and FORGEJO_TOKEN: configs come from Forgejo (here: nothing listens, so 503).
log=$work/forgejo.log
FORGEJO_URL=http://127.0.0.1:1 FORGEJO_TOKEN=forgejo-token start_daemon --users-dir "$work/users"
[[ $(code "$B/u/alice/status?timeout=0.1") == 503 ]] || fail "with FORGEJO_URL the local users dir was used"
free_port=$port # free again once this daemon has stopped
stop_daemon

# --port N and PORT-style start: `patchworkd start --port N` listens on N.
"$daemon" start --host 127.0.0.1 --port "$free_port" --data-dir "$work/data" 2>"$work/port.log" &
pid=$!
until_true "port_in_use $free_port" || fail "start --port $free_port does not listen there"
stop_daemon
echo "ok"
