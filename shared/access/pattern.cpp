// SPDX-License-Identifier: MIT
#include "access/pattern.h"

#include <cstring>

namespace Patchwork
{

std::optional<Pattern> Pattern::parse(const QString &text, QString *errorMessage)
{
    if (text.isEmpty()) {
        if (errorMessage) {
            *errorMessage = tr("empty pattern");
        }
        return std::nullopt;
    }
    if (text == u"!") {
        if (errorMessage) {
            *errorMessage = tr("pattern \"!\" negates nothing");
        }
        return std::nullopt;
    }

    // Paths and tunnel targets never contain control characters (the router refuses them), so such a
    // pattern could never match; it would not survive a save either.
    for (const QChar c : text) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f) {
            if (errorMessage) {
                *errorMessage = tr("a pattern must not contain control characters");
            }
            return std::nullopt;
        }
    }

    Pattern p;
    p.m_text = text;
    p.m_negated = text.startsWith(u'!');
    p.m_glob = (p.m_negated ? QStringView(text).sliced(1) : QStringView(text)).toUtf8();

    // Split at runs of stars. With n stars there are n + 1 segments; empty middle segments (from `**`)
    // are dropped, the first and the last are kept even when empty because they are anchored.
    const qsizetype size = p.m_glob.size();
    qsizetype start = 0;
    for (qsizetype i = 0; i <= size; ++i) {
        if (i < size && p.m_glob.at(i) != '*') {
            continue;
        }
        Segment segment;
        segment.offset = start;
        segment.length = i - start;
        segment.hasWildcard = std::memchr(p.m_glob.constData() + start, '?', size_t(segment.length)) != nullptr;
        const bool first = p.m_segments.isEmpty();
        const bool last = i == size;
        if (first || last || segment.length > 0) {
            p.m_segments.append(segment);
        }
        p.m_minLength += segment.length;
        if (i < size) {
            p.m_hasStar = true;
        }
        start = i + 1;
    }
    p.m_matchesEverything = p.m_hasStar && p.m_minLength == 0;
    return p;
}

QString Pattern::text() const
{
    return m_text;
}

bool Pattern::isNegated() const
{
    return m_negated;
}

bool Pattern::segmentMatchesAt(const Segment &segment, QByteArrayView subject, qsizetype at) const
{
    if (segment.length == 0) {
        return true;
    }
    const char *glob = m_glob.constData() + segment.offset;
    const char *data = subject.data() + at;
    if (!segment.hasWildcard) {
        return std::memcmp(glob, data, size_t(segment.length)) == 0;
    }
    for (qsizetype i = 0; i < segment.length; ++i) {
        if (glob[i] != '?' && glob[i] != data[i]) {
            return false;
        }
    }
    return true;
}

// Leftmost position in [from, end - length] where the segment matches, or -1.
qsizetype Pattern::findSegment(const Segment &segment, QByteArrayView subject, qsizetype from, qsizetype end) const
{
    if (!segment.hasWildcard) {
        const QByteArrayView window = subject.sliced(from, end - from);
        const qsizetype found = window.indexOf(QByteArrayView(m_glob.constData() + segment.offset, segment.length));
        return found < 0 ? -1 : from + found;
    }
    for (qsizetype at = from; at + segment.length <= end; ++at) {
        if (segmentMatchesAt(segment, subject, at)) {
            return at;
        }
    }
    return -1;
}

bool Pattern::matches(QByteArrayView subject) const
{
    if (m_matchesEverything) {
        return true;
    }
    const qsizetype size = subject.size();
    if (!m_hasStar) {
        return size == m_minLength && segmentMatchesAt(m_segments.first(), subject, 0);
    }
    if (size < m_minLength) {
        return false;
    }
    const Segment &first = m_segments.first();
    const Segment &last = m_segments.last();
    if (!segmentMatchesAt(first, subject, 0) || !segmentMatchesAt(last, subject, size - last.length)) {
        return false;
    }
    // The anchored ends cannot overlap: size >= m_minLength >= first.length + last.length.
    qsizetype position = first.length;
    const qsizetype end = size - last.length;
    for (qsizetype i = 1; i + 1 < m_segments.size(); ++i) {
        const Segment &segment = m_segments.at(i);
        const qsizetype found = findSegment(segment, subject, position, end);
        if (found < 0) {
            return false;
        }
        position = found + segment.length;
    }
    return true;
}

std::optional<PatternList> PatternList::parse(const QStringList &texts, QString *errorMessage, qsizetype *errorIndex)
{
    PatternList list;
    for (qsizetype i = 0; i < texts.size(); ++i) {
        auto pattern = Pattern::parse(texts.at(i), errorMessage);
        if (!pattern) {
            if (errorIndex) {
                *errorIndex = i;
            }
            return std::nullopt;
        }
        list.append(*pattern);
    }
    return list;
}

void PatternList::append(const Pattern &pattern)
{
    m_patterns.append(pattern);
    if (pattern.isNegated()) {
        ++m_negatedCount;
    }
}

bool PatternList::isEmpty() const
{
    return m_patterns.isEmpty();
}

qsizetype PatternList::size() const
{
    return m_patterns.size();
}

const QList<Pattern> &PatternList::patterns() const
{
    return m_patterns;
}

QStringList PatternList::toStringList() const
{
    QStringList texts;
    texts.reserve(m_patterns.size());
    for (const Pattern &p : m_patterns) {
        texts.append(p.text());
    }
    return texts;
}

bool PatternList::allows(QByteArrayView subject) const
{
    if (m_negatedCount > 0) {
        for (const Pattern &p : m_patterns) {
            if (p.isNegated() && p.matches(subject)) {
                return false;
            }
        }
    }
    if (m_negatedCount == m_patterns.size()) {
        return false;
    }
    for (const Pattern &p : m_patterns) {
        if (!p.isNegated() && p.matches(subject)) {
            return true;
        }
    }
    return false;
}

} // namespace Patchwork
