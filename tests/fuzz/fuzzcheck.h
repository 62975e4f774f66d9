// SPDX-License-Identifier: MIT
// How a fuzz target reports a broken property: a message on stderr, then abort(), which libFuzzer
// records as a crash with the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>

#include <QByteArray>
#include <QByteArrayView>

namespace Patchwork::Fuzz
{

// `detail` (e.g. the bytes a client received) is printed percent-encoded, so control characters show.
[[noreturn]] inline void fail(const char *what, QByteArrayView detail = {})
{
    std::fprintf(stderr, "fuzz: %s\n", what);
    if (!detail.isEmpty()) {
        std::fprintf(stderr, "%s\n", detail.toByteArray().toPercentEncoding(" \r\n/:;=,-_.").constData());
    }
    std::abort();
}

inline void check(bool condition, const char *what)
{
    if (!condition) {
        fail(what);
    }
}

} // namespace Patchwork::Fuzz
