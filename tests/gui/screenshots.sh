#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates docs/screenshots/*.png (tray menu, relay panel, history window, settings) under Xvfb:
#   tests/gui/screenshots.sh [BUILD_DIR]
# Needs xvfb and xauth (installer/setup.sh installs them).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build="${1:-$here/build}"
cmake --build "$build" --target patchwork_screenshots >/dev/null
export QT_QPA_PLATFORM=xcb
xvfb-run -a -s "-screen 0 1280x800x24" "$build/bin/patchwork_screenshots" "$here/docs/screenshots"
