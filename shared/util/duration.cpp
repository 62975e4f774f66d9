// SPDX-License-Identifier: MIT
#include "util/duration.h"

#include <limits>

#include <QString>

namespace Patchwork
{

namespace
{

constexpr quint64 MAX_DURATION_NS = quint64(1) << 63; // Go: magnitude may reach 1<<63 for negative values

bool isDigit(QChar c)
{
    return c >= u'0' && c <= u'9';
}

// Go's leadingInt: consumes digits; false on overflow of 1<<63.
bool leadingInt(QStringView &s, quint64 &value)
{
    value = 0;
    qsizetype i = 0;
    for (; i < s.size() && isDigit(s[i]); ++i) {
        if (value > MAX_DURATION_NS / 10) {
            return false;
        }
        value = value * 10 + quint64(s[i].unicode() - u'0');
        if (value > MAX_DURATION_NS) {
            return false;
        }
    }
    s = s.sliced(i);
    return true;
}

// Go's leadingFraction: consumes digits, keeping as many as fit.
void leadingFraction(QStringView &s, quint64 &value, double &scale)
{
    value = 0;
    scale = 1;
    bool overflow = false;
    qsizetype i = 0;
    for (; i < s.size() && isDigit(s[i]); ++i) {
        if (overflow) {
            continue;
        }
        if (value > quint64(std::numeric_limits<qint64>::max()) / 10) {
            overflow = true;
            continue;
        }
        const quint64 next = value * 10 + quint64(s[i].unicode() - u'0');
        if (next > quint64(std::numeric_limits<qint64>::max())) {
            overflow = true;
            continue;
        }
        value = next;
        scale *= 10;
    }
    s = s.sliced(i);
}

quint64 unitNs(QStringView unit)
{
    if (unit == u"ns") {
        return 1;
    }
    if (unit == u"us" || unit == u"\u00b5s" || unit == u"\u03bcs") {
        return 1000;
    }
    if (unit == u"ms") {
        return 1000 * 1000;
    }
    if (unit == u"s") {
        return 1000 * 1000 * 1000;
    }
    if (unit == u"m") {
        return quint64(60) * 1000 * 1000 * 1000;
    }
    if (unit == u"h") {
        return quint64(3600) * 1000 * 1000 * 1000;
    }
    return 0;
}

// A faithful port of Go's time.ParseDuration, returning nanoseconds.
std::optional<qint64> parseGoDurationNs(QStringView s)
{
    bool negative = false;
    if (!s.isEmpty() && (s[0] == u'-' || s[0] == u'+')) {
        negative = s[0] == u'-';
        s = s.sliced(1);
    }
    if (s == u"0") {
        return 0;
    }
    if (s.isEmpty()) {
        return std::nullopt;
    }
    quint64 total = 0;
    while (!s.isEmpty()) {
        if (!(s[0] == u'.' || isDigit(s[0]))) {
            return std::nullopt;
        }
        quint64 whole = 0;
        const qsizetype before = s.size();
        if (!leadingInt(s, whole)) {
            return std::nullopt;
        }
        const bool pre = before != s.size();
        quint64 fraction = 0;
        double scale = 1;
        bool post = false;
        if (!s.isEmpty() && s[0] == u'.') {
            s = s.sliced(1);
            const qsizetype fractionStart = s.size();
            leadingFraction(s, fraction, scale);
            post = fractionStart != s.size();
        }
        if (!pre && !post) {
            return std::nullopt;
        }
        qsizetype i = 0;
        while (i < s.size() && s[i] != u'.' && !isDigit(s[i])) {
            ++i;
        }
        if (i == 0) {
            return std::nullopt; // missing unit
        }
        const quint64 unit = unitNs(s.first(i));
        s = s.sliced(i);
        if (unit == 0) {
            return std::nullopt;
        }
        if (whole > MAX_DURATION_NS / unit) {
            return std::nullopt;
        }
        whole *= unit;
        if (fraction > 0) {
            whole += quint64(double(fraction) * (double(unit) / scale));
            if (whole > MAX_DURATION_NS) {
                return std::nullopt;
            }
        }
        total += whole;
        if (total > MAX_DURATION_NS) {
            return std::nullopt;
        }
    }
    if (negative) {
        return total == MAX_DURATION_NS ? std::numeric_limits<qint64>::min() : -qint64(total);
    }
    if (total > quint64(std::numeric_limits<qint64>::max())) {
        return std::nullopt;
    }
    return qint64(total);
}

bool isBareNumber(QStringView s)
{
    if (!s.isEmpty() && (s[0] == u'-' || s[0] == u'+')) {
        s = s.sliced(1);
    }
    if (s.isEmpty()) {
        return false;
    }
    for (const QChar c : s) {
        if (!isDigit(c) && c != u'.') {
            return false;
        }
    }
    return true;
}

} // namespace

std::optional<qint64> parseDurationMs(QStringView text)
{
    text = text.trimmed();
    std::optional<qint64> ns;
    if (isBareNumber(text)) {
        // Bare seconds: reuse the Go parser with an explicit unit ("2" => "2s").
        QString withUnit = text.toString();
        withUnit.append(u's');
        ns = parseGoDurationNs(withUnit);
    } else {
        ns = parseGoDurationNs(text);
    }
    if (!ns) {
        return std::nullopt;
    }
    constexpr qint64 NS_PER_MS = 1000 * 1000;
    const qint64 ms = *ns / NS_PER_MS;
    const qint64 rest = *ns % NS_PER_MS;
    if (rest >= NS_PER_MS / 2) {
        return ms + 1;
    }
    if (rest <= -NS_PER_MS / 2) {
        return ms - 1;
    }
    return ms;
}

std::optional<qint64> parseSize(QStringView text)
{
    text = text.trimmed();
    qsizetype i = 0;
    quint64 whole = 0;
    const qsizetype wholeStart = i;
    for (; i < text.size() && isDigit(text[i]); ++i) {
        if (whole > quint64(std::numeric_limits<qint64>::max()) / 10) {
            return std::nullopt;
        }
        whole = whole * 10 + quint64(text[i].unicode() - u'0');
    }
    if (i == wholeStart || whole > quint64(std::numeric_limits<qint64>::max())) {
        return std::nullopt;
    }
    QStringView fractionDigits;
    if (i < text.size() && text[i] == u'.') {
        const qsizetype start = ++i;
        while (i < text.size() && isDigit(text[i])) {
            ++i;
        }
        fractionDigits = text.sliced(start, i - start);
        if (fractionDigits.isEmpty()) {
            return std::nullopt;
        }
    }
    const QStringView unit = text.sliced(i).trimmed();

    struct Unit
    {
        QStringView name;
        quint64 factor;
    };
    static constexpr quint64 KI = 1024;
    static constexpr Unit UNITS[] = {
        {u"", 1},
        {u"b", 1},
        {u"k", KI},
        {u"kib", KI},
        {u"m", KI * KI},
        {u"mib", KI * KI},
        {u"g", KI * KI * KI},
        {u"gib", KI * KI * KI},
        {u"t", KI * KI * KI * KI},
        {u"tib", KI * KI * KI * KI},
        {u"kb", 1000},
        {u"mb", 1000 * 1000},
        {u"gb", 1000 * 1000 * 1000},
        {u"tb", quint64(1000) * 1000 * 1000 * 1000},
    };
    quint64 factor = 0;
    for (const Unit &u : UNITS) {
        if (unit.compare(u.name, Qt::CaseInsensitive) == 0) {
            factor = u.factor;
            break;
        }
    }
    if (factor == 0 || (factor == 1 && !fractionDigits.isEmpty())) {
        return std::nullopt;
    }
    if (whole > quint64(std::numeric_limits<qint64>::max()) / factor) {
        return std::nullopt;
    }
    quint64 bytes = whole * factor;
    // Fraction: digits / 10^n of the unit, rounded down. Six digits keep numerator * factor below 2^61.
    quint64 numerator = 0;
    quint64 denominator = 1;
    for (qsizetype d = 0; d < fractionDigits.size() && d < 6; ++d) {
        numerator = numerator * 10 + quint64(fractionDigits[d].unicode() - u'0');
        denominator *= 10;
    }
    bytes += numerator * factor / denominator;
    if (bytes > quint64(std::numeric_limits<qint64>::max())) {
        return std::nullopt;
    }
    return qint64(bytes);
}

} // namespace Patchwork
