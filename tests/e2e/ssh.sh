#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end: a real ssh session through `patchworkd tunnel` (PROTOCOL §11) to an sshd that this script
# starts on a loopback port, with the ssh configuration the README shows. Installs openssh from Debian
# when it is missing; exits 77 (ctest SKIP) only when that is impossible.
set -euo pipefail

daemon=$(realpath "$1")
SKIP=77

sshd_path() { command -v sshd 2>/dev/null || echo /usr/sbin/sshd; }
have_ssh() { command -v ssh >/dev/null && command -v ssh-keygen >/dev/null && [[ -x $(sshd_path) ]]; }

if ! have_ssh; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        echo "installing openssh-server and openssh-client from Debian..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y --no-install-recommends openssh-server openssh-client >/dev/null 2>&1 ||
            { apt-get update >/dev/null 2>&1 &&
                apt-get install -y --no-install-recommends openssh-server openssh-client >/dev/null 2>&1; } || true
    fi
    if ! have_ssh; then
        echo "SKIP: this test needs ssh, ssh-keygen and sshd, and openssh-server/openssh-client could not be" \
            "installed (installing needs root and apt-get with access to a Debian mirror)"
        exit $SKIP
    fi
fi

work=$(mktemp -d)
log="$work/daemon.log"
pid=
sshd_pid=
cleanup() {
    [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null || true
    [[ -n "$sshd_pid" ]] && kill -TERM "$sshd_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "--- daemon log:" >&2
    cat "$log" >&2 || true
    echo "--- sshd log:" >&2
    cat "$work/sshd.log" >&2 || true
    exit 1
}

# --- sshd on a free loopback port, accepting one generated key for the current user ----------------
unix_user=$(id -un)
ssh-keygen -q -t ed25519 -N '' -C patchwork-test-host -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -C patchwork-test-user -f "$work/id"
cp "$work/id.pub" "$work/authorized_keys"
use_pam=no
if [[ $(id -u) == 0 ]]; then
    mkdir -p /run/sshd # privilege separation directory
    # Without PAM, sshd refuses accounts whose password is locked with "!".
    [[ $(getent shadow "$unix_user" 2>/dev/null | cut -d: -f2) == '!'* ]] && use_pam=yes
fi
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 20); do
    ssh_port=$((20000 + RANDOM % 40000))
    port_in_use "$ssh_port" && continue
    cat >"$work/sshd_config" <<EOF
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $work/host_key
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM $use_pam
EOF
    "$(sshd_path)" -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
    sshd_pid=$!
    for _ in $(seq 50); do
        port_in_use "$ssh_port" && break
        kill -0 "$sshd_pid" 2>/dev/null || break
        sleep 0.1
    done
    port_in_use "$ssh_port" && break
    kill "$sshd_pid" 2>/dev/null || true
    sshd_pid=
done
[[ -n "$sshd_pid" ]] || fail "sshd did not start"

# --- the relay, with a token that may open tunnels to this machine -------------------------------------
TOKEN="tunnel-$RANDOM$RANDOM"
mkdir -p "$work/users/alice"
cat >"$work/users/alice/config.yaml" <<EOF
tokens:
  "$TOKEN":
    huproxy: ["localhost:*", "127.0.0.1:*"]
  "other-token":
    huproxy: ["example.com:22"]
EOF
PATCHWORK_DATA_DIR="$work/data" "$daemon" start --host 127.0.0.1 --port 0 --users-dir "$work/users" 2>"$log" &
pid=$!
for _ in $(seq 100); do
    port=$(sed -n 's#.*listening on http://127.0.0.1:\([0-9]*\).*#\1#p' "$log" | head -n1)
    [[ -n "$port" ]] && break
    sleep 0.1
done
[[ -n "${port:-}" ]] || fail "daemon did not start"

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

# The relay counted the tunnels (loopback clients may read /metrics).
metrics=$(curl -sS --max-time 10 "http://127.0.0.1:$port/metrics")
grep -q '^patchwork_huproxy_connections_total{status="101"} [1-9]' <<<"$metrics" || fail "huproxy metrics: 101"
grep -q '^patchwork_huproxy_connections_total{status="403"} 1$' <<<"$metrics" || fail "huproxy metrics: 403"
grep -q '^patchwork_huproxy_bytes_transferred_total{direction="up"} [1-9]' <<<"$metrics" || fail "huproxy metrics: bytes"
echo "ssh through the tunnel: ok"
