#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Desktop integration as installed by the gui and server components: the desktop entry passes
# desktop-file-validate, both AppStream metainfo files pass `appstreamcli validate --no-net`, and the
# hicolor theme has the SVG icon and PNGs of every size, rendered from it at build time.
# Usage: desktop.sh BUILD-DIR
set -euo pipefail

build=$1
source "$(dirname "$0")/../e2e/lib.sh" "$build/bin/patchworkd" # for work, fail
root=$work/root

for component in gui server; do
    DESTDIR=$root cmake --install "$build" --component "$component" --prefix /usr >/dev/null
done
share=$root/usr/share

desktop=$share/applications/patchwork-tray.desktop
desktop-file-validate "$desktop" || fail "desktop-file-validate $desktop"
# The tray's autostart setting and its notifications name the same program and icon.
grep -qx 'Exec=patchwork-tray' "$desktop" || fail "Exec= is not patchwork-tray"
grep -qx 'Icon=patchwork-tray' "$desktop" || fail "Icon= is not patchwork-tray"

for id in org.patchwork_relay.PatchworkTray org.patchwork_relay.Patchworkd; do
    file=$share/metainfo/$id.metainfo.xml
    appstreamcli validate --no-net "$file" || fail "appstreamcli validate $file"
done

icons=$share/icons/hicolor
[[ -s $icons/scalable/apps/patchwork-tray.svg ]] || fail "no scalable icon"
for size in 16 22 24 32 48 64 128 256; do
    png=$icons/${size}x${size}/apps/patchwork-tray.png
    [[ -s $png ]] || fail "no ${size}x${size} icon"
    # PNG: width and height are the big-endian words at bytes 16 and 20 of the IHDR chunk.
    read -r width height < <(od -An -tu1 -j16 -N8 "$png" |
        awk '{ print $1*16777216 + $2*65536 + $3*256 + $4, $5*16777216 + $6*65536 + $7*256 + $8 }')
    [[ "$width $height" == "$size $size" ]] || fail "$png is ${width}x$height"
done
echo "ok"
