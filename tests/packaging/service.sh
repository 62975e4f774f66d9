#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# patchworkd.service: `systemd-analyze verify` passes and `systemd-analyze security --offline=yes` rates
# it 2.0 or lower. No systemd runs here: the unit is checked in a scratch root holding the installed
# server component (so its ExecStart= binary exists), the host's units (for the targets it names) and
# kill (ExecReload=); man(1) finds patchworkd(1) there through MANPATH.
# Usage: service.sh BUILD-DIR
set -euo pipefail

build=$1
source "$(dirname "$0")/../e2e/lib.sh" "$build/bin/patchworkd" # for work, fail
root=$work/root

DESTDIR=$root cmake --install "$build" --component server --prefix /usr >/dev/null
unit=$root/lib/systemd/system/patchworkd.service
[[ -f $unit && -x $root/usr/bin/patchworkd ]] || fail "the server component does not install the unit and binary"
mkdir -p "$root/bin"
cp /bin/kill "$root/bin/"
cp -rn /lib/systemd/system/. "$root/lib/systemd/system/"

MANPATH=$root/usr/share/man systemd-analyze verify --root="$root" patchworkd.service >"$root/verify.log" 2>&1 ||
    fail "systemd-analyze verify: $(cat "$root/verify.log")"
[[ ! -s $root/verify.log ]] || fail "systemd-analyze verify warns: $(cat "$root/verify.log")"

systemd-analyze security --offline=yes --root="$root" patchworkd.service >"$root/security.log" 2>&1 ||
    fail "systemd-analyze security: $(cat "$root/security.log")"
score=$(sed -nE 's/.*Overall exposure level for patchworkd\.service: ([0-9]+\.[0-9]+).*/\1/p' "$root/security.log")
[[ -n $score ]] || fail "no exposure level in: $(cat "$root/security.log")"
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "exposure level $score is above 2.0: $(cat "$root/security.log")"

# What the unit promises the package: the data dir is systemd's state directory, reload is SIGHUP.
for line in DynamicUser=yes StateDirectory=patchwork ConfigurationDirectory=patchwork \
    'ExecReload=/bin/kill -HUP $MAINPID' Restart=on-failure ProtectSystem=strict CapabilityBoundingSet= \
    'ExecStart=/usr/bin/patchworkd start --config /etc/patchwork/patchworkd.yaml'; do
    grep -qxF "$line" "$unit" || fail "the unit lacks '$line'"
done
echo "ok: verify passes, exposure level $score"
