// SPDX-License-Identifier: MIT
#include "access/clientaddress.h"

#include <algorithm>
#include <cstring>

#include "protocol/httptext.h"

using namespace Qt::StringLiterals;

namespace Patchwork
{

namespace
{

using Ip = TrustedProxies::Ip;

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

void setV4(Ip &out, const quint8 (&v4)[4])
{
    out.fill(0);
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, v4, 4);
}

bool isV4Mapped(const Ip &ip)
{
    static constexpr quint8 PREFIX[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(ip.data(), PREFIX, 12) == 0;
}

// Dotted quad, decimal, no leading zeros (as inet_pton).
bool parseIpv4(QByteArrayView s, quint8 (&out)[4])
{
    qsizetype i = 0;
    const qsizetype n = s.size();
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (i >= n || s[i] != '.') {
                return false;
            }
            ++i;
        }
        const qsizetype start = i;
        int value = 0;
        while (i < n && isDigit(s[i])) {
            if (i > start && s[start] == '0') {
                return false;
            }
            value = value * 10 + (s[i] - '0');
            if (value > 255) {
                return false;
            }
            ++i;
        }
        if (i == start) {
            return false;
        }
        out[part] = quint8(value);
    }
    return i == n;
}

// RFC 4291 §2.2 text forms, including "::" and a trailing dotted quad; no zone id.
bool parseIpv6(QByteArrayView s, Ip &out)
{
    quint16 groups[8] = {};
    int count = 0;
    int gap = -1;
    qsizetype i = 0;
    const qsizetype n = s.size();
    if (n < 2) {
        return false;
    }
    if (s[0] == ':') {
        if (s[1] != ':') {
            return false;
        }
        gap = 0;
        i = 2;
        if (i == n) {
            out.fill(0);
            return true;
        }
    }
    while (true) {
        const qsizetype start = i;
        int value = 0;
        while (i < n && hexDigit(s[i]) >= 0 && i - start < 5) {
            value = value * 16 + hexDigit(s[i]);
            ++i;
        }
        if (i < n && s[i] == '.') {
            quint8 v4[4];
            if (count > 6 || !parseIpv4(s.sliced(start), v4)) {
                return false;
            }
            groups[count++] = quint16((v4[0] << 8) | v4[1]);
            groups[count++] = quint16((v4[2] << 8) | v4[3]);
            break;
        }
        if (i == start || i - start > 4 || count == 8) {
            return false;
        }
        groups[count++] = quint16(value);
        if (i == n) {
            break;
        }
        if (s[i] != ':') {
            return false;
        }
        ++i;
        if (i < n && s[i] == ':') {
            if (gap >= 0) {
                return false;
            }
            gap = count;
            ++i;
            if (i == n) {
                break;
            }
        } else if (i == n) {
            return false;
        }
    }
    if (gap < 0 ? count != 8 : count > 7) {
        return false;
    }
    quint16 full[8] = {};
    if (gap < 0) {
        std::copy_n(groups, 8, full);
    } else {
        std::copy_n(groups, gap, full);
        const int tail = count - gap;
        std::copy_n(groups + gap, tail, full + 8 - tail);
    }
    for (int g = 0; g < 8; ++g) {
        out[size_t(2 * g)] = quint8(full[g] >> 8);
        out[size_t(2 * g + 1)] = quint8(full[g] & 0xff);
    }
    return true;
}

bool parsePlain(QByteArrayView s, Ip &out)
{
    if (s.contains(':')) {
        return parseIpv6(s, out);
    }
    quint8 v4[4];
    if (!parseIpv4(s, v4)) {
        return false;
    }
    setV4(out, v4);
    return true;
}

bool isPort(QByteArrayView s)
{
    if (s.isEmpty() || s.size() > 5) {
        return false;
    }
    for (const char c : s) {
        if (!isDigit(c)) {
            return false;
        }
    }
    return true;
}

// An address from a forwarding header: plain, "[v6]", "[v6]:port" or "v4:port".
bool parseHeaderAddress(QByteArrayView text, Ip &out)
{
    const QByteArrayView s = trimOws(text);
    if (s.isEmpty()) {
        return false;
    }
    if (s.front() == '[') {
        const qsizetype close = s.indexOf(']');
        if (close < 0) {
            return false;
        }
        const QByteArrayView rest = s.sliced(close + 1);
        if (!rest.isEmpty() && !(rest.front() == ':' && isPort(rest.sliced(1)))) {
            return false;
        }
        return parseIpv6(s.sliced(1, close - 1), out);
    }
    const qsizetype colon = s.indexOf(':');
    if (colon >= 0 && s.lastIndexOf(':') == colon && s.contains('.')) {
        quint8 v4[4];
        if (!isPort(s.sliced(colon + 1)) || !parseIpv4(s.first(colon), v4)) {
            return false;
        }
        setV4(out, v4);
        return true;
    }
    return parsePlain(s, out);
}

bool fromHostAddress(const QHostAddress &address, Ip &out)
{
    switch (address.protocol()) {
    case QAbstractSocket::IPv4Protocol: {
        const quint32 v4 = address.toIPv4Address();
        const quint8 bytes[4] = {quint8(v4 >> 24), quint8(v4 >> 16), quint8(v4 >> 8), quint8(v4)};
        setV4(out, bytes);
        return true;
    }
    case QAbstractSocket::IPv6Protocol: {
        const Q_IPV6ADDR v6 = address.toIPv6Address();
        std::memcpy(out.data(), v6.c, 16);
        return true;
    }
    default:
        return false;
    }
}

QHostAddress toHostAddress(const Ip &ip)
{
    if (isV4Mapped(ip)) {
        return QHostAddress(quint32(ip[12]) << 24 | quint32(ip[13]) << 16 | quint32(ip[14]) << 8 | quint32(ip[15]));
    }
    return QHostAddress(ip.data());
}

bool subnetContains(const Ip &network, int prefix, const Ip &address)
{
    size_t i = 0;
    for (; prefix >= 8; prefix -= 8, ++i) {
        if (network[i] != address[i]) {
            return false;
        }
    }
    if (prefix == 0) {
        return true;
    }
    const auto mask = quint8(0xff << (8 - prefix));
    return ((network[i] ^ address[i]) & mask) == 0;
}

void clearHostBits(Ip &address, int prefix)
{
    for (size_t i = 0; i < address.size(); ++i) {
        const int bitsHere = qBound(0, prefix - int(i) * 8, 8);
        address[i] = quint8(address[i] & quint8(0xff << (8 - bitsHere)));
    }
}

} // namespace

TrustedProxies::TrustedProxies()
{
    Ip v4Loopback{};
    const quint8 net127[4] = {127, 0, 0, 0};
    setV4(v4Loopback, net127);
    Ip v6Loopback{};
    v6Loopback[15] = 1;
    m_subnets = {Subnet{v4Loopback, 96 + 8}, Subnet{v6Loopback, 128}};
}

QStringList TrustedProxies::defaultCidrs()
{
    return {u"127.0.0.0/8"_s, u"::1/128"_s};
}

std::optional<TrustedProxies> TrustedProxies::parse(const QStringList &cidrs, QString *error)
{
    TrustedProxies result;
    result.m_subnets.clear();
    result.m_subnets.reserve(cidrs.size());
    for (const QString &entry : cidrs) {
        const QByteArray latin1 = entry.trimmed().toLatin1();
        const QByteArrayView text(latin1);
        const qsizetype slash = text.indexOf('/');
        const QByteArrayView addressText = slash < 0 ? text : text.first(slash);
        Subnet subnet;
        bool ok = !addressText.isEmpty() && parsePlain(addressText, subnet.address);
        const bool v4Text = ok && !addressText.contains(':');
        const int maxPrefix = v4Text ? 32 : 128;
        int prefix = maxPrefix;
        if (ok && slash >= 0) {
            const QByteArrayView prefixText = text.sliced(slash + 1);
            ok = !prefixText.isEmpty() && prefixText.size() <= 3;
            prefix = 0;
            for (qsizetype i = 0; ok && i < prefixText.size(); ++i) {
                ok = isDigit(prefixText[i]);
                prefix = prefix * 10 + (prefixText[i] - '0');
            }
            ok = ok && prefix <= maxPrefix;
        }
        if (!ok) {
            if (error) {
                *error =
                    tr("Invalid trusted proxy \"%1\": expected an IP address or a CIDR such as 10.0.0.0/8").arg(entry);
            }
            return std::nullopt;
        }
        subnet.prefix = v4Text ? prefix + 96 : prefix;
        clearHostBits(subnet.address, subnet.prefix);
        result.m_subnets.append(subnet);
    }
    return result;
}

QStringList TrustedProxies::cidrs() const
{
    QStringList list;
    list.reserve(m_subnets.size());
    for (const Subnet &subnet : m_subnets) {
        const bool v4 = isV4Mapped(subnet.address) && subnet.prefix >= 96;
        list.append(toHostAddress(subnet.address).toString() + u'/'
                    + QString::number(v4 ? subnet.prefix - 96 : subnet.prefix));
    }
    return list;
}

bool TrustedProxies::isTrusted(const Ip &address) const
{
    for (const Subnet &subnet : m_subnets) {
        if (subnetContains(subnet.address, subnet.prefix, address)) {
            return true;
        }
    }
    return false;
}

bool TrustedProxies::isTrusted(const QHostAddress &address) const
{
    Ip ip;
    return fromHostAddress(address, ip) && isTrusted(ip);
}

QHostAddress TrustedProxies::clientAddress(const QHostAddress &peer,
                                           QByteArrayView xForwardedFor,
                                           QByteArrayView xRealIp,
                                           QByteArrayView cfConnectingIp) const
{
    Ip peerIp;
    if (!fromHostAddress(peer, peerIp) || !isTrusted(peerIp)) {
        return normalized(peer);
    }

    Ip ip;
    if (!trimOws(xForwardedFor).isEmpty()) {
        bool haveGood = false;
        Ip lastGood;
        QByteArrayView rest = xForwardedFor;
        while (!rest.isEmpty()) {
            const qsizetype comma = rest.lastIndexOf(',');
            const QByteArrayView entry = trimOws(comma < 0 ? rest : rest.sliced(comma + 1));
            rest = comma < 0 ? QByteArrayView() : rest.first(comma);
            if (entry.isEmpty()) {
                continue; // empty list elements are allowed (RFC 9110 §5.6.1)
            }
            if (!parseHeaderAddress(entry, ip)) {
                break;
            }
            if (!isTrusted(ip)) {
                return toHostAddress(ip);
            }
            lastGood = ip;
            haveGood = true;
        }
        return haveGood ? toHostAddress(lastGood) : normalized(peer);
    }
    if (parseHeaderAddress(xRealIp, ip) || parseHeaderAddress(cfConnectingIp, ip)) {
        return toHostAddress(ip);
    }
    return normalized(peer);
}

bool TrustedProxies::isLoopback(const QHostAddress &address)
{
    Ip ip;
    if (!fromHostAddress(address, ip)) {
        return false;
    }
    if (isV4Mapped(ip)) {
        return ip[12] == 127;
    }
    static constexpr Ip V6_LOOPBACK = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return ip == V6_LOOPBACK;
}

QHostAddress TrustedProxies::normalized(const QHostAddress &address)
{
    if (address.protocol() != QAbstractSocket::IPv6Protocol) {
        return address;
    }
    Ip ip;
    fromHostAddress(address, ip);
    return isV4Mapped(ip) ? toHostAddress(ip) : address;
}

QHostAddress TrustedProxies::parseAddress(QByteArrayView text)
{
    Ip ip;
    return parseHeaderAddress(text, ip) ? toHostAddress(ip) : QHostAddress();
}

} // namespace Patchwork
