// SPDX-License-Identifier: MIT
// Fuzzes the small parsers of requests and options, each against properties its documentation states:
// durations and sizes (PROTOCOL §15), forwarding headers (§13), the token of an Authorization header
// (§8) and `since=` (§4.1). The first input byte chooses the parser, the rest is its input.
#include <algorithm>
#include <cstdlib>

#include <QByteArray>
#include <QHostAddress>
#include <QString>

#include <fuzzer/FuzzedDataProvider.h>

#include "access/acl.h"
#include "access/clientaddress.h"
#include "engine/replaybuffer.h"
#include "fuzzcheck.h"
#include "util/duration.h"

using namespace Patchwork;
using namespace Qt::StringLiterals;
using Patchwork::Fuzz::check;

namespace
{

bool isBlank(char c)
{
    return c == ' ' || c == '\t';
}

bool allDigits(QByteArrayView text)
{
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return !text.isEmpty();
}

// Surrounding whitespace is ignored; a number with a known unit means what it says.
void durations(FuzzedDataProvider &in)
{
    const QString text = QString::fromUtf8(QByteArray::fromStdString(in.ConsumeRemainingBytesAsString()));
    const std::optional<qint64> ms = parseDurationMs(text);
    check(parseDurationMs(QString(u"  "_s + text + u"\t"_s)) == ms,
          "duration: surrounding whitespace changed the result");
    const std::optional<qint64> bytes = parseSize(text);
    check(!bytes || *bytes >= 0, "size: negative result");
    check(parseSize(QString(u" "_s + text + u" "_s)) == bytes, "size: surrounding whitespace changed the result");
}

void knownDurations(FuzzedDataProvider &in)
{
    const qint64 n = in.ConsumeIntegralInRange<qint64>(0, 1'000'000);
    struct Unit
    {
        const char *name;
        qint64 ms;
    };
    static constexpr Unit UNITS[] = {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};
    const Unit &unit = UNITS[in.ConsumeIntegralInRange<size_t>(0, 3)];
    const QString text = QString::number(n) + QString::fromLatin1(unit.name);
    check(parseDurationMs(text) == n * unit.ms, "duration: a plain number with a unit");
    check(parseDurationMs(QString(u"-"_s + text)) == -n * unit.ms, "duration: a negative number with a unit");
    check(parseDurationMs(QString::number(n)) == n * 1000, "duration: bare seconds");
    struct SizeUnit
    {
        const char *name;
        qint64 bytes;
    };
    static constexpr SizeUnit SIZES[] = {{"", 1}, {"B", 1}, {"KiB", 1024}, {"k", 1024}, {"MiB", 1 << 20}, {"kb", 1000}};
    const SizeUnit &size = SIZES[in.ConsumeIntegralInRange<size_t>(0, 5)];
    const QString sizeText =
        QString::number(n) + (in.ConsumeBool() ? u" "_s : QString()) + QString::fromLatin1(size.name);
    check(parseSize(sizeText) == n * size.bytes, "size: a plain number with a unit");
}

// An address that parses prints back as itself; the client of an untrusted peer is the peer; the
// client of a trusted one is always some address.
void addresses(FuzzedDataProvider &in)
{
    const QByteArray xff = QByteArray::fromStdString(in.ConsumeRandomLengthString(256));
    const QByteArray realIp = QByteArray::fromStdString(in.ConsumeRandomLengthString(64));
    const QByteArray cf = QByteArray::fromStdString(in.ConsumeRemainingBytesAsString());

    const QHostAddress parsed = TrustedProxies::parseAddress(xff);
    if (!parsed.isNull() && parsed.scopeId().isEmpty()) {
        check(TrustedProxies::parseAddress(parsed.toString().toLatin1()) == parsed, "address: no round trip");
    }
    static const TrustedProxies trusted;
    const QHostAddress outsider(u"192.0.2.7"_s);
    check(trusted.clientAddress(outsider, xff, realIp, cf) == outsider, "forwarding headers of an untrusted peer used");
    const QHostAddress client = trusted.clientAddress(QHostAddress::LocalHost, xff, realIp, cf);
    check(!client.isNull(), "no client address");
    if (client.protocol() == QAbstractSocket::IPv6Protocol) {
        const Q_IPV6ADDR a = client.toIPv6Address();
        const bool mapped =
            std::all_of(a.c, a.c + 10, [](quint8 b) { return b == 0; }) && a[10] == 0xff && a[11] == 0xff;
        check(!mapped, "an IPv4-mapped client address");
    }
    const QByteArray cidr = realIp;
    QString error;
    const std::optional<TrustedProxies> proxies = TrustedProxies::parse({QString::fromUtf8(cidr)}, &error);
    check(proxies.has_value() == error.isEmpty(), "proxies: error message and result disagree");
}

// The token is a trimmed part of the value, empty only for a blank value.
void authorization(FuzzedDataProvider &in)
{
    const QByteArray value = QByteArray::fromStdString(in.ConsumeRemainingBytesAsString());
    const QByteArrayView token = tokenFromAuthorization(value);
    check(token.isEmpty()
              || (token.data() >= value.constData() && token.data() + token.size() <= value.constData() + value.size()),
          "token: not a part of the value");
    bool blank = true;
    for (const char c : value) {
        blank = blank && isBlank(c);
    }
    check(token.isEmpty() == blank, "token: empty for a value that is not blank");
    check(token.isEmpty() || (!isBlank(token.front()) && !isBlank(token.back())), "token: not trimmed");
}

// since=: empty, `all`, digits, digits with one unit, else an id that is the text itself.
void since(FuzzedDataProvider &in)
{
    const QByteArray text = QByteArray::fromStdString(in.ConsumeRemainingBytesAsString());
    const ReplaySince s = parseSince(text);
    using Kind = ReplaySince::Kind;
    Kind expected = Kind::Id;
    if (text.isEmpty()) {
        expected = Kind::None;
    } else if (text.compare("all", Qt::CaseInsensitive) == 0) {
        expected = Kind::All;
    } else if (allDigits(text)) {
        expected = Kind::UnixSeconds;
    } else if (allDigits(QByteArrayView(text).chopped(1)) && QByteArrayView("smhd").contains(text.back())) {
        expected = Kind::Ago;
    }
    check(s.kind == expected, "since: wrong kind");
    check(s.value >= 0, "since: negative value");
    check(s.kind != Kind::Id || s.id == text, "since: the id is not the text");
    if (s.kind == Kind::UnixSeconds && text.size() < 18) {
        check(s.value == text.toLongLong(), "since: wrong number");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzedDataProvider in(data, size);
    switch (in.ConsumeIntegralInRange(0, 5)) {
    case 0:
        durations(in);
        break;
    case 1:
        knownDurations(in);
        break;
    case 2:
        addresses(in);
        break;
    case 3:
        authorization(in);
        break;
    default:
        since(in);
        break;
    }
    return 0;
}
