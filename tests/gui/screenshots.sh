#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates the README's screenshots of every tray window under Xvfb, in English (docs/screenshots/*.png)
# and German (docs/screenshots/de/*.png):
#   tests/gui/screenshots.sh [BUILD_DIR]
# Needs xvfb and xauth (installer/setup.sh installs them).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build="${1:-$here/build}"
cmake --build "$build" --target patchwork_screenshots >/dev/null
export QT_QPA_PLATFORM=xcb
for lang in en de; do
    out="$here/docs/screenshots"
    [[ "$lang" == en ]] || out="$out/$lang"
    xvfb-run -a -s "-screen 0 1280x800x24" "$build/bin/patchwork_screenshots" "$out" "$lang"
done
