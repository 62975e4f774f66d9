#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The two set-up commands of the README, for a fresh Debian 12 machine:
#   installer/setup.sh run    install what is missing, build, start patchworkd on port 8080
#   installer/setup.sh test   install what is missing, build, run the whole test suite: first under
#                             ASan+UBSan (build-asan) and the fuzz smokes (build-fuzz, clang), then the
#                             Release suite, whose closing ctest line ends the output.
#                             PATCHWORK_TEST_QUICK=1 runs only the Release suite.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="${PATCHWORK_BUILD_DIR:-$here/build}"
mode="${1:-}"

packages=(cmake ninja-build g++ pkg-config qt6-base-dev qt6-httpserver-dev qt6-websockets-dev qt6-tools-dev
    qt6-tools-dev-tools qt6-l10n-tools libyaml-cpp-dev clang-format curl
    libsqlite3-dev # the replay journal
    dropbear-bin openssh-client libnss-wrapper # these three: tests/e2e/ssh.sh (no SSH service is enabled)
    qt6-svg-dev qtkeychain-qt6-dev libqrencode-dev libqt6sql6-sqlite # the tray app
    qt6-translations-l10n # Qt's own catalogs (qtbase_de: standard buttons in the German tray)
    dbus xvfb xauth # the tray's tests (a private D-Bus) and screenshots
    clang libclang-rt-14-dev # the fuzzers (clang + libFuzzer)
    dpkg-dev librsvg2-bin gzip # the Debian packages (dpkg-shlibdeps) and their icons and man pages
    # the packaging tests (tests/packaging); desktop-file-validate also checks the tray's autostart entry
    lintian systemd desktop-file-utils appstream nginx openssl
    haproxy # several daemons behind HAProxy (installer/cluster/, tests/cluster)
)

install_missing() {
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        echo "Installing: ${missing[*]}"
        local sudo=()
        ((EUID == 0)) || sudo=(sudo)
        "${sudo[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
}

# configure_and_build [TARGET]: everything, or just TARGET.
configure_and_build() {
    cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_COMPILE_WARNING_AS_ERROR="$(werror)" >/dev/null
    cmake --build "$build" --parallel "$(nproc)" ${1:+--target "$1"}
}

werror() {
    if [[ "${CI:-}" == "true" ]]; then echo ON; else echo OFF; fi
}

# The unit, integration and end-to-end suites built with ASan+UBSan (Debug): any report, leaks included
# (LeakSanitizer), fails its test. verify_asan_link_order=0: tests that preload nss_wrapper put it
# before the ASan runtime, which is harmless.
sanitizer_suite() {
    local dir="$build-asan"
    echo "== ASan+UBSan build and suite ($dir)"
    cmake -S "$here" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPATCHWORK_SANITIZE=address,undefined \
        -DCMAKE_COMPILE_WARNING_AS_ERROR="$(werror)" >/dev/null
    cmake --build "$dir" --parallel "$(nproc)"
    (cd "$dir" && ASAN_OPTIONS=detect_leaks=1:verify_asan_link_order=0 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        PATCHWORK_TEST_TIMEOUT_FACTOR=4 ctest --output-on-failure --timeout 600 -j "$(nproc)" -LE style)
}

# The libFuzzer targets (tests/fuzz), built with clang, each run as a short smoke on its corpus.
fuzz_smoke() {
    local dir="$build-fuzz"
    echo "== Fuzz smokes ($dir)"
    cmake -S "$here" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
        -DPATCHWORK_FUZZ=ON -DPATCHWORK_BUILD_TESTS=OFF >/dev/null
    cmake --build "$dir" --parallel "$(nproc)" --target fuzzers
    (cd "$dir" && ctest --output-on-failure -j "$(nproc)" -L fuzz)
}

case "$mode" in
run)
    shift
    install_missing
    configure_and_build patchworkd
    echo "Starting patchworkd on http://localhost:8080 (Ctrl-C stops it)"
    exec "$build/bin/patchworkd" start --port 8080 "$@"
    ;;
test)
    install_missing
    if [[ "${PATCHWORK_TEST_QUICK:-}" != 1 ]]; then
        sanitizer_suite
        fuzz_smoke
        echo "== Release build and suite ($build)"
    fi
    configure_and_build
    cd "$build"
    exec ctest --output-on-failure --timeout 300 -j "$(nproc)"
    ;;
*)
    echo "usage: installer/setup.sh run|test" >&2
    exit 2
    ;;
esac
