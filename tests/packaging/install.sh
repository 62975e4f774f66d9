#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Debian packages (built by the packaging_package test: `cmake --build BUILD --target package`)
# installed into a scratch root with `dpkg --root` (never into this machine's /usr; the maintainer
# scripts run with DPKG_ROOT set, so they touch only the scratch root and start nothing), then used
# from there: the file lists, `patchworkd --version`, check-config on the installed example, the
# installed daemon started with the installed config against a temporary state directory, driven by
# the installed client; finally the packages are purged again.
# Usage: install.sh BUILD-DIR
set -euo pipefail

build=$(realpath "$1")
here=$(dirname "$0")
root=$(mktemp -d)
source "$here/../e2e/lib.sh" "$root/usr/bin/patchworkd" # sets $daemon to the installed binary
on_exit 'rm -rf "$root"'

debs=("$build"/packages/*.deb)
[[ ${#debs[@]} == 3 ]] || fail "expected 3 packages in $build/packages, found: ${debs[*]}"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: >"$root/var/lib/dpkg/status"
dpkg_root() { dpkg --root="$root" --force-script-chrootless --force-not-root --force-depends "$@"; }
dpkg_root --install "${debs[@]}" >"$work/dpkg.log" 2>&1 || fail "dpkg --install: $(cat "$work/dpkg.log")"
# postinst enabled the service (deb-systemd-helper, as dh_installsystemd's snippet).
[[ -L $root/etc/systemd/system/multi-user.target.wants/patchworkd.service ]] ||
    fail "patchworkd.service is not enabled: $(cat "$work/dpkg.log")"

# The file lists, exactly (directories left out).
files() { dpkg --root="$root" -L "$1" | while read -r f; do [[ -d $root$f ]] || echo "$f"; done | sort; }
expect() { # PACKAGE FILE...
    local package=$1
    shift
    diff <(printf '%s\n' "$@" | sort) <(files "$package") >"$work/diff" || fail "files of $package: $(cat "$work/diff")"
}
expect patchworkd /usr/bin/patchworkd /lib/systemd/system/patchworkd.service /etc/patchwork/patchworkd.yaml \
    /usr/share/man/man1/patchworkd.1.gz /usr/share/metainfo/org.patchwork_relay.Patchworkd.metainfo.xml \
    /usr/share/doc/patchworkd/copyright /usr/share/doc/patchworkd/changelog.Debian.gz \
    /usr/share/doc/patchworkd/examples/config.yaml
[[ -d $root/etc/patchwork/users ]] || fail "no /etc/patchwork/users"
expect patchwork-client /usr/bin/patchwork /usr/share/man/man1/patchwork.1.gz \
    /usr/share/doc/patchwork-client/copyright /usr/share/doc/patchwork-client/changelog.Debian.gz
icons=()
for size in 16 22 24 32 48 64 128 256; do
    icons+=("/usr/share/icons/hicolor/${size}x$size/apps/patchwork-tray.png")
done
expect patchwork-tray /usr/bin/patchwork-tray /usr/share/applications/patchwork-tray.desktop \
    /usr/share/metainfo/org.patchwork_relay.PatchworkTray.metainfo.xml /usr/share/man/man1/patchwork-tray.1.gz \
    /usr/share/icons/hicolor/scalable/apps/patchwork-tray.svg "${icons[@]}" \
    /usr/share/doc/patchwork-tray/copyright /usr/share/doc/patchwork-tray/changelog.Debian.gz
dpkg-deb -f "$build"/packages/patchworkd_*.deb Depends | grep -q 'libqt6core6' ||
    fail "patchworkd's Depends: lacks the Qt libraries (dpkg-shlibdeps)"
[[ $(dpkg-deb -f "$build"/packages/patchwork-client_*.deb Depends) == curl ]] ||
    fail "patchwork-client's Depends: is not curl"

# The installed programs run from the scratch root (they link only system libraries).
[[ $("$daemon" --version) == "patchworkd $(dpkg-deb -f "$build"/packages/patchworkd_*.deb Version | cut -d- -f1)" ]] ||
    fail "patchworkd --version: $("$daemon" --version 2>&1)"
[[ $("$daemon" check-config "$root/usr/share/doc/patchworkd/examples/config.yaml") == ok ]] ||
    fail "check-config of the installed example"

# The installed daemon with the installed config and a temporary state directory; users-dir points
# into the scratch root instead of /etc/patchwork/users.
mkdir -p "$root/etc/patchwork/users/alice"
TOKEN=install-test-token
sed "s/sha256:0*/sha256:$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)/" \
    "$root/usr/share/doc/patchworkd/examples/config.yaml" >"$root/etc/patchwork/users/alice/config.yaml"
start_daemon --config "$root/etc/patchwork/patchworkd.yaml" \
    --users-dir "$root/etc/patchwork/users"
[[ $(stat -c %a "$work/data/secret_key") == 600 ]] || fail "no secret_key in the data directory"

# The installed client is the script the daemon serves.
c "$B/patchwork.sh" | cmp - "$root/usr/bin/patchwork" || fail "/usr/bin/patchwork differs from $B/patchwork.sh"

# The installed client: a queue send/receive, a pubsub message, and a user namespace with a token.
client=$root/usr/bin/patchwork
export PATCHWORK_URL=$B
"$client" receive jobs >"$work/job" &
receiver=$!
waiting consumer 1
"$client" send jobs "build #42" || fail "patchwork send"
wait "$receiver" || fail "patchwork receive"
[[ $(cat "$work/job") == "build #42" ]] || fail "patchwork receive got '$(cat "$work/job")'"
PATCHWORK_NS=u/alice PATCHWORK_TOKEN=$TOKEN "$client" receive projects/web >"$work/user" &
receiver=$!
waiting consumer 1
PATCHWORK_NS=u/alice PATCHWORK_TOKEN=$TOKEN "$client" send projects/web "deployed" || fail "send with a token"
wait "$receiver" || fail "receive with a token"
[[ $(cat "$work/user") == deployed ]] || fail "user namespace: got '$(cat "$work/user")'"
! PATCHWORK_NS=u/alice PATCHWORK_TOKEN=wrong "$client" send projects/web x 2>"$work/denied" ||
    fail "a wrong token was accepted"
grep -q 401 "$work/denied" || fail "a wrong token: $(cat "$work/denied")"

# ExecReload= sends SIGHUP.
kill -HUP "$pid"
until_true 'grep -q "configuration reloaded" "$log"' || fail "no reload after SIGHUP"
stop_daemon

# Uninstall: purge removes the programs, the unit's enablement, the conffile and the state.
mkdir -p "$root/var/lib/private/patchwork"
dpkg_root --purge patchworkd patchwork-tray patchwork-client >"$work/purge.log" 2>&1 ||
    fail "dpkg --purge: $(cat "$work/purge.log")"
for gone in /usr/bin/patchworkd /usr/bin/patchwork /usr/bin/patchwork-tray /etc/patchwork/patchworkd.yaml \
    /etc/systemd/system/multi-user.target.wants/patchworkd.service /var/lib/private/patchwork; do
    [[ ! -e $root$gone && ! -L $root$gone ]] || fail "$gone is still there after purge"
done
[[ -f $root/etc/patchwork/users/alice/config.yaml ]] || fail "purge removed a user config the admin wrote"
echo "ok"
