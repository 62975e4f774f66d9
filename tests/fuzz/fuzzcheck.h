// SPDX-License-Identifier: MIT
// How a fuzz target reports a broken property: a message on stderr, then abort(), which libFuzzer
// records as a crash with the input that caused it. Also what the stream decoders' targets share.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

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

// A deterministic generator for chunk sizes (1 to 2^(maxLog % 12) + 1), seeded from the input.
class Chunker
{
public:
    explicit Chunker(quint32 seed, quint8 maxLog)
        : m_state(seed | 1)
        , m_maxLog(maxLog % 12)
    {
    }
    qsizetype next()
    {
        m_state ^= m_state << 13;
        m_state ^= m_state >> 17;
        m_state ^= m_state << 5;
        return qsizetype(m_state % ((quint32(1) << m_maxLog) + 1)) + 1;
    }

private:
    quint32 m_state;
    quint8 m_maxLog;
};

// `bytes` in a heap block of their own, so that reading past them is an ASan report.
inline std::unique_ptr<char[]> heapCopy(QByteArrayView bytes)
{
    std::unique_ptr<char[]> copy(new char[size_t(bytes.size())]);
    std::memcpy(copy.get(), bytes.data(), size_t(bytes.size()));
    return copy;
}

} // namespace Patchwork::Fuzz
