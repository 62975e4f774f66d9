// SPDX-License-Identifier: MIT
#pragma once

#include <optional>

#include <QByteArray>
#include <QByteArrayView>
#include <QCoreApplication>
#include <QList>
#include <QString>
#include <QStringList>

namespace Patchwork
{

// One ACL pattern (PROTOCOL §8 "Patterns"): an optional leading `!` negates; `*` matches any run of
// bytes including `/` (so `**` equals `*`); `?` matches exactly one byte; every other byte is literal
// (regex metacharacters included); the whole subject must match.
//
// The glob is compiled once into literal segments separated by stars. Matching is linear-time-ish:
// the first segment is anchored at the start, the last at the end, and the middle ones are found
// leftmost in between (greedy leftmost placement is optimal for `*`-only globs), so there is no
// backtracking blow-up, and matches() never allocates.
//
// Subjects are UTF-8 bytes, so `?` matches one byte, not one (multi-byte) character.
class Pattern
{
    Q_DECLARE_TR_FUNCTIONS(Patchwork::Pattern)

public:
    // Empty text and a lone `!` are invalid; everything else is a valid pattern.
    static std::optional<Pattern> parse(const QString &text, QString *errorMessage = nullptr);

    // The text as written, including a leading `!`.
    QString text() const;
    bool isNegated() const;
    // Whether the glob (without the negation) matches the whole subject.
    bool matches(QByteArrayView subject) const;

    friend bool operator==(const Pattern &a, const Pattern &b)
    {
        return a.m_text == b.m_text;
    }

private:
    struct Segment
    {
        qsizetype offset = 0;
        qsizetype length = 0;
        bool hasWildcard = false; // contains `?`
    };

    Pattern() = default;
    bool segmentMatchesAt(const Segment &segment, QByteArrayView subject, qsizetype at) const;
    qsizetype findSegment(const Segment &segment, QByteArrayView subject, qsizetype from, qsizetype end) const;

    QString m_text;
    QByteArray m_glob; // UTF-8, without the `!`
    QList<Segment> m_segments;
    qsizetype m_minLength = 0;
    bool m_hasStar = false;
    bool m_negated = false;
    bool m_matchesEverything = false; // the glob is only stars
};

// An ordered list of patterns: allows a subject iff no negated pattern matches it and at least one
// positive pattern does. An empty list (or one with only negated patterns) allows nothing.
class PatternList
{
public:
    PatternList() = default;

    // Parses every string; on the first invalid one returns std::nullopt with its index in
    // *errorIndex (when given) and the reason in *errorMessage.
    static std::optional<PatternList>
    parse(const QStringList &texts, QString *errorMessage = nullptr, qsizetype *errorIndex = nullptr);

    void append(const Pattern &pattern);
    bool isEmpty() const;
    qsizetype size() const;
    const QList<Pattern> &patterns() const;
    QStringList toStringList() const;

    bool allows(QByteArrayView subject) const;

    friend bool operator==(const PatternList &a, const PatternList &b)
    {
        return a.m_patterns == b.m_patterns;
    }

private:
    QList<Pattern> m_patterns;
    qsizetype m_negatedCount = 0;
};

} // namespace Patchwork
