#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lintian finds no error in the Debian packages (built by the packaging_package test). The warnings it
# still shows are listed and justified in docs/DECISIONS.md ("Packaging").
# Usage: lintian.sh BUILD-DIR
set -euo pipefail

debs=("$1"/packages/*.deb)
[[ ${#debs[@]} == 3 ]] || {
    echo "FAIL: expected 3 packages, found: ${debs[*]}" >&2
    exit 1
}
# --allow-root: tests run as root in CI containers; lintian only reads the files.
lintian --allow-root --fail-on error --tag-display-limit 0 "${debs[@]}"
