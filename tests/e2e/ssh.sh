#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end: a real ssh session through `patchworkd tunnel` (PROTOCOL §11) to an SSH server that this
# script starts on a loopback port, with the ssh configuration the README shows. The server is dropbear
# (Debian's dropbear-bin: a binary without a service), the client OpenSSH's; `installer/setup.sh test`
# installs both, and libnss-wrapper, through which dropbear sees the current user with a temporary home
# directory holding the test's authorized_keys (nothing outside the work directory is touched).
set -euo pipefail

source "$(dirname "$0")/lib.sh" "$1"

dropbear=$(command -v dropbear || echo /usr/sbin/dropbear)
nss_wrapper=$(ls /usr/lib/*/libnss_wrapper.so /usr/lib/libnss_wrapper.so 2>/dev/null | head -n1 || true)
for tool in "$dropbear" dropbearkey ssh ssh-keygen curl; do
    command -v "$tool" >/dev/null || fail "$tool is missing: run installer/setup.sh test"
done
[[ -n "$nss_wrapper" ]] || fail "libnss_wrapper.so is missing: run installer/setup.sh test"

# --- dropbear on a free loopback port, accepting one generated key for the current user ------------------
unix_user=$(id -un)
mkdir -m 700 "$work/home" "$work/home/.ssh"
dropbearkey -t ed25519 -f "$work/host_key" >/dev/null 2>&1 || fail "dropbearkey"
ssh-keygen -q -t ed25519 -N '' -C patchwork-test-user -f "$work/id"
cp "$work/id.pub" "$work/home/.ssh/authorized_keys"
# dropbear reads ~/.ssh/authorized_keys of the passwd entry: give it one with the temporary home.
printf '%s:x:%s:%s:patchwork test:%s:/bin/sh\n' "$unix_user" "$(id -u)" "$(id -g)" "$work/home" >"$work/passwd"
printf '%s:x:%s:\n' "$(id -gn)" "$(id -g)" >"$work/group"
ssh_pid=
on_exit '[[ -n "$ssh_pid" ]] && kill -TERM "$ssh_pid" 2>/dev/null'
extra_logs+=("$work/dropbear.log")
for _ in $(seq 20); do
    ssh_port=$((20000 + RANDOM % 40000))
    port_in_use "$ssh_port" && continue
    # -F foreground, -E log to stderr, -s no passwords, -m no motd.
    LD_PRELOAD=$nss_wrapper NSS_WRAPPER_PASSWD="$work/passwd" NSS_WRAPPER_GROUP="$work/group" \
        "$dropbear" -F -E -s -m -p "127.0.0.1:$ssh_port" -r "$work/host_key" -P "$work/dropbear.pid" \
        2>"$work/dropbear.log" &
    ssh_pid=$!
    for _ in $(seq 50); do
        port_in_use "$ssh_port" && break
        kill -0 "$ssh_pid" 2>/dev/null || break
        sleep 0.1
    done
    port_in_use "$ssh_port" && kill -0 "$ssh_pid" 2>/dev/null && break
    kill "$ssh_pid" 2>/dev/null || true
    wait "$ssh_pid" 2>/dev/null || true
    ssh_pid=
done
[[ -n "$ssh_pid" ]] || fail "dropbear did not start"

# --- the relay, with a token that may open tunnels to this machine -------------------------------------
TOKEN="tunnel-$RANDOM$RANDOM"
mkdir -p "$work/users/alice"
cat >"$work/users/alice/config.yaml" <<EOF
tokens:
  "$TOKEN":
    huproxy: ["localhost:*", "127.0.0.1:*"]
  "other-token":
    huproxy: ["example.com:22"]
  "wild-token":
    huproxy: ["*.example.com:*"]
EOF
start_daemon --users-dir "$work/users"

# --- ssh with the README's configuration -----------------------------------------------------------------
# The README's ~/.ssh/config entry, with this relay's URL: patchworkd on PATH, the token in
# ~/.config/patchwork/token (HOME is the work directory here), %h and %p standing for HostName and Port.
mkdir -p "$work/bin" "$work/.config/patchwork"
ln -s "$daemon" "$work/bin/patchworkd"
printf '%s\n' "$TOKEN" >"$work/.config/patchwork/token"
chmod 600 "$work/.config/patchwork/token"
cat >"$work/ssh_config" <<EOF
Host lab-server
    HostName 127.0.0.1
    Port $ssh_port
    User $unix_user
    ProxyCommand patchworkd tunnel --token-file ~/.config/patchwork/token ws://127.0.0.1:$port/huproxy/alice/%h/%p
    # for this test only: its own key and known_hosts, and no prompts
    IdentityFile $work/id
    IdentitiesOnly yes
    BatchMode yes
    UserKnownHostsFile $work/known_hosts
    StrictHostKeyChecking accept-new
EOF
ssh_readme() { HOME="$work" PATH="$work/bin:$PATH" timeout 60 ssh -F "$work/ssh_config" lab-server "$@"; }
out=$(ssh_readme echo ok 2>"$work/ssh.err") || fail "ssh: $(cat "$work/ssh.err")"
[[ "$out" == ok ]] || fail "ssh printed '$out'"

# A few MiB each way, checked.
head -c 3000000 /dev/urandom >"$work/blob"
want=$(sha256sum <"$work/blob" | cut -d' ' -f1)
got=$(ssh_readme sha256sum <"$work/blob" 2>"$work/ssh.err" | cut -d' ' -f1) ||
    fail "upload: $(cat "$work/ssh.err")"
[[ "$got" == "$want" ]] || fail "upload checksum $got != $want"
got=$(ssh_readme cat "$work/blob" 2>"$work/ssh.err" | sha256sum | cut -d' ' -f1) ||
    fail "download: $(cat "$work/ssh.err")"
[[ "$got" == "$want" ]] || fail "download checksum $got != $want"

# The token on the command line and in the environment, as a one-off ProxyCommand.
ssh_plain() {
    timeout 60 ssh -F /dev/null -i "$work/id" -o IdentitiesOnly=yes -o BatchMode=yes \
        -o UserKnownHostsFile="$work/known_hosts" -o StrictHostKeyChecking=accept-new -p "$ssh_port" "$@"
}
out=$(ssh_plain -o ProxyCommand="$daemon tunnel --token $TOKEN ws://127.0.0.1:$port/huproxy/alice/127.0.0.1/%p" \
    "$unix_user@127.0.0.1" echo via-flag 2>"$work/ssh.err") || fail "ssh with --token: $(cat "$work/ssh.err")"
[[ "$out" == via-flag ]] || fail "ssh with --token printed '$out'"
out=$(PATCHWORK_TOKEN=$TOKEN ssh_plain -o ProxyCommand="$daemon tunnel ws://127.0.0.1:$port/huproxy/alice/localhost/%p" \
    "$unix_user@127.0.0.1" echo via-localhost 2>"$work/ssh.err") || fail "ssh to localhost: $(cat "$work/ssh.err")"
[[ "$out" == via-localhost ]] || fail "ssh to localhost printed '$out'"

# --- refusals reach ssh's stderr as one line, and the tunnel command exits 1 ---------------------------
set +e
PATCHWORK_TOKEN=other-token ssh_plain -o ProxyCommand="$daemon tunnel ws://127.0.0.1:$port/huproxy/alice/127.0.0.1/%p" \
    "$unix_user@127.0.0.1" echo no >/dev/null 2>"$work/ssh.err"
status=$?
set -e
[[ $status != 0 ]] || fail "a token without the pattern got through"
grep -q "patchworkd tunnel: the server refused the tunnel: 403 Forbidden: token does not match patterns" \
    "$work/ssh.err" || fail "refusal message: $(cat "$work/ssh.err")"
set +e
"$daemon" tunnel --token "$TOKEN" "ws://127.0.0.1:$port/huproxy/alice/127.0.0.1/1" </dev/null 2>"$work/tunnel.err"
status=$?
set -e
[[ $status == 1 ]] || fail "tunnel to a closed port exited with $status"
grep -q "^patchworkd tunnel: the server closed the tunnel: 1011 cannot connect to 127.0.0.1:1: " "$work/tunnel.err" ||
    fail "closed port message: $(cat "$work/tunnel.err")"

# A host the ACL would read differently from the resolver is refused before both (issue 8).
answer=$(c -H "Authorization: Bearer wild-token" -w ' %{http_code}' "$B/huproxy/alice/127.0.0.1%00.example.com/$ssh_port")
[[ $answer == "Invalid path: control characters are not allowed"$'\n'" 400" ]] ||
    fail "NUL in the host: $answer"

# The relay counted the tunnels (loopback clients may read /metrics).
metrics=$(curl -sS --max-time 10 "http://127.0.0.1:$port/metrics")
grep -q '^patchwork_huproxy_connections_total{status="101"} [1-9]' <<<"$metrics" || fail "huproxy metrics: 101"
grep -q '^patchwork_huproxy_connections_total{status="403"} 1$' <<<"$metrics" || fail "huproxy metrics: 403"
grep -q '^patchwork_huproxy_bytes_transferred_total{direction="up"} [1-9]' <<<"$metrics" || fail "huproxy metrics: bytes"
echo "ssh through the tunnel: ok"
