// SPDX-License-Identifier: MIT
// Fuzzes ACL patterns (PROTOCOL §8 "Patterns", docs/DECISIONS.md) against a reference matcher written
// straight from the rules: an optional leading `!` negates; `*` matches any run of bytes (`/` included);
// `?` exactly one byte; every other byte is literal; the whole UTF-8 subject must match. A list allows a
// subject iff no negated pattern matches and at least one positive one does.
#include <algorithm>
#include <cstdlib>
#include <vector>

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <fuzzer/FuzzedDataProvider.h>

#include "access/pattern.h"
#include "fuzzcheck.h"

using Patchwork::Pattern;
using Patchwork::PatternList;
using Patchwork::Fuzz::check;

namespace
{

// Dynamic programming over (glob prefix, subject prefix): O(glob × subject), obviously right.
bool referenceMatch(const QByteArray &glob, const QByteArray &subject)
{
    const qsizetype n = subject.size();
    std::vector<char> row(size_t(n + 1), 0); // row[j]: glob[0, i) matches subject[0, j)
    row[0] = 1;
    for (const char g : glob) {
        std::vector<char> next(size_t(n + 1), 0);
        if (g == '*') {
            char any = 0;
            for (qsizetype j = 0; j <= n; ++j) {
                any = char(any | row[size_t(j)]);
                next[size_t(j)] = any;
            }
        } else {
            for (qsizetype j = 1; j <= n; ++j) {
                next[size_t(j)] = char(row[size_t(j - 1)] && (g == '?' || g == subject[j - 1]));
            }
        }
        row.swap(next);
    }
    return row[size_t(n)] != 0;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzedDataProvider in(data, size);
    const int count = in.ConsumeIntegralInRange(1, 4);
    QStringList texts;
    for (int i = 0; i < count; ++i) {
        texts.append(QString::fromUtf8(QByteArray::fromStdString(in.ConsumeRandomLengthString(64))));
    }
    const QByteArray subject = QByteArray::fromStdString(in.ConsumeRemainingBytesAsString());

    bool anyPositive = false;
    bool anyNegated = false;
    bool allValid = true;
    for (const QString &text : texts) {
        const std::optional<Pattern> pattern = Pattern::parse(text);
        // Invalid: empty, a lone "!", or any control character (paths never contain one).
        const bool valid = !text.isEmpty() && text != u"!" && std::none_of(text.cbegin(), text.cend(), [](QChar c) {
            return c.unicode() < 0x20 || c.unicode() == 0x7f;
        });
        check(pattern.has_value() == valid, "validity differs from the rules");
        if (!pattern) {
            allValid = false;
            continue;
        }
        check(pattern->text() == text, "text() is not the text parsed");
        const bool negated = text.startsWith(u'!');
        check(pattern->isNegated() == negated, "negation differs");
        const QByteArray glob = text.toUtf8().sliced(negated ? 1 : 0);
        const bool expected = referenceMatch(glob, subject);
        check(pattern->matches(subject) == expected, "match differs from the reference matcher");
        (negated ? anyNegated : anyPositive) |= expected;
    }
    const std::optional<PatternList> list = PatternList::parse(texts);
    check(list.has_value() == allValid, "list validity differs");
    if (list) {
        check(list->toStringList() == texts, "list text differs");
        check(list->allows(subject) == (anyPositive && !anyNegated), "list decision differs from the rules");
    }
    return 0;
}
