#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every fuzz target for SECONDS each (default 600) on its corpus, one after the other.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]      e.g. tests/fuzz/run.sh 3600 httpconnection
#
# Builds build-fuzz (clang, -DPATCHWORK_FUZZ=ON) when needed. New inputs that add coverage go to
# build-fuzz/tests/fuzz/work/<target>/corpus, crashes to build-fuzz/tests/fuzz/work/<target>/crash-*;
# copy a crash into tests/fuzz/corpus/<target>/ (named regress-<what>) with its fix, so the CTest smoke
# replays it from then on. Exit code 1 if any target found something.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dir="${PATCHWORK_FUZZ_BUILD_DIR:-$repo/build-fuzz}"
seconds="${1:-600}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
    for d in "$repo"/tests/fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi

cmake -S "$repo" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DPATCHWORK_FUZZ=ON -DPATCHWORK_BUILD_TESTS=OFF >/dev/null
cmake --build "$dir" --target fuzzers

failed=()
for t in "${targets[@]}"; do
    work="$dir/tests/fuzz/work/$t"
    mkdir -p "$work/corpus"
    echo "== fuzz_$t for ${seconds}s"
    if ! (cd "$work" && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$dir/bin/fuzz_$t" \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/" "$work/corpus" "$repo/tests/fuzz/corpus/$t"); then
        failed+=("$t")
    fi
done
if ((${#failed[@]})); then
    echo "findings in: ${failed[*]} (see $dir/tests/fuzz/work/<target>/)" >&2
    exit 1
fi
echo "no findings"
