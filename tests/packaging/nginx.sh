#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's nginx snippet (the block after "tests/packaging/nginx.sh checks this snippet") passes
# `nginx -t` with a private prefix (no service, nothing bound), and keeps long polls and Server-Sent
# Events unbuffered.
# Usage: nginx.sh SOURCE-DIR
set -euo pipefail

readme=$1/README.md
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

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
cat >"$work/nginx.conf" <<CONF
pid $work/nginx.pid;
error_log $work/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    include $work/patchwork.conf;
}
CONF
nginx -t -p "$work" -c "$work/nginx.conf" 2>"$work/test.log" || fail "nginx -t: $(cat "$work/test.log")"
echo "ok: $(tail -n1 "$work/test.log")"
