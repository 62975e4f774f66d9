// SPDX-License-Identifier: MIT
#include "tunnel/tunneltarget.h"

#include <algorithm>

#include <arpa/inet.h>
#include <netinet/in.h>

using namespace Qt::StringLiterals;

namespace Patchwork::Server
{

namespace
{

constexpr qsizetype MAX_NAME = 253;
constexpr qsizetype MAX_LABEL = 63;

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isLdh(char c)
{
    return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

// Letters, digits and hyphens in labels of 1–63 characters that neither start nor end with a hyphen.
bool isDnsName(QByteArrayView name)
{
    if (name.isEmpty() || name.size() > MAX_NAME) {
        return false;
    }
    const QList<QByteArray> labels = name.toByteArray().split('.');
    return std::all_of(labels.begin(), labels.end(), [](const QByteArray &label) {
        return !label.isEmpty() && label.size() <= MAX_LABEL && label.front() != '-' && label.back() != '-'
               && std::all_of(label.begin(), label.end(), isLdh);
    });
}

// The canonical text of an IPv4 (`family` AF_INET) or IPv6 address given in any form inet_pton takes.
QByteArray canonicalText(int family, const void *address)
{
    char text[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(family, address, text, sizeof text)) {
        return {};
    }
    return QByteArray(text);
}

std::optional<quint16> parsePort(QByteArrayView text)
{
    if (text.isEmpty() || text.size() > 5 || text.front() == '0' || !std::all_of(text.begin(), text.end(), isDigit)) {
        return std::nullopt;
    }
    const int port = text.toInt();
    if (port < 1 || port > 65535) {
        return std::nullopt;
    }
    return quint16(port);
}

} // namespace

QByteArray TunnelTarget::subject() const
{
    const bool v6 = address.protocol() == QAbstractSocket::IPv6Protocol;
    return (v6 ? '[' + host + ']' : host) + ':' + QByteArray::number(port);
}

std::optional<TunnelTarget> TunnelTarget::parse(QByteArrayView host, QByteArrayView port, QByteArray *error)
{
    const std::optional<quint16> number = parsePort(port);
    if (!number) {
        *error = QByteArrayLiteral("Bad Request: invalid port (expected 1-65535)");
        return std::nullopt;
    }
    TunnelTarget target;
    target.port = *number;
    // A literal must be written as the ACL will see it, so that no other spelling of an address slips
    // past a pattern (`!127.0.0.1:*` against `127.1`, `0x7f000001` or `[::ffff:7f00:1]`).
    const auto notCanonical = [error](const QByteArray &canonical) {
        *error = "Bad Request: IP address not in canonical form (use " + canonical + ')';
        return std::nullopt;
    };
    const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    const QByteArray text = (bracketed ? host.sliced(1, host.size() - 2) : host).toByteArray();
    const auto invalidHost = [error]() {
        *error =
            QByteArrayLiteral("Bad Request: invalid host (expected a DNS name or an IP address, IPv6 in brackets)");
        return std::nullopt;
    };
    // Nothing but what names and addresses are made of: no NUL, `%`, space or other byte that one
    // reader of the string (the ACL) sees and another (the resolver) does not.
    if (!std::all_of(text.begin(), text.end(), [](char c) { return isLdh(c) || c == '.' || c == ':'; })) {
        return invalidHost();
    }
    in6_addr v6 = {};
    in_addr v4 = {};
    if (text.contains(':') && inet_pton(AF_INET6, text.constData(), &v6) == 1) {
        const QByteArray canonical = canonicalText(AF_INET6, &v6);
        if (canonical != text) {
            return notCanonical('[' + canonical + ']');
        }
        target.address = QHostAddress(reinterpret_cast<const quint8 *>(&v6));
    } else if (!bracketed && inet_aton(text.constData(), &v4) == 1) {
        // inet_aton, as the resolver, also reads `127.1`, `0177.0.0.1` and `2130706433`.
        const QByteArray canonical = canonicalText(AF_INET, &v4);
        if (canonical != text) {
            return notCanonical(canonical);
        }
        target.address = QHostAddress(ntohl(v4.s_addr));
    } else if (bracketed || !isDnsName(text)
               || std::all_of(text.begin() + text.lastIndexOf('.') + 1, text.end(), isDigit)) {
        return invalidHost(); // a numeric last label would read as an IPv4 address
    }
    target.host = text;
    return target;
}

QString TunnelTarget::refusal(const QList<QHostAddress> &addresses, LocalTargets policy) const
{
    if (policy == LocalTargets::Allow) {
        return {};
    }
    // `localhost` names the relay's own machine as plainly as 127.0.0.1 does.
    const bool literal = !address.isNull() || host.compare("localhost", Qt::CaseInsensitive) == 0;
    for (const QHostAddress &a : addresses) {
        if (!isLocalAddress(a)) {
            continue;
        }
        if (policy == LocalTargets::Deny) {
            return u"refused: %1 is local to the relay"_s.arg(a.toString());
        }
        if (!literal) {
            return u"refused: resolves to %1, local to the relay"_s.arg(a.toString());
        }
    }
    return {};
}

bool isLocalAddress(const QHostAddress &address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    if (!isV4 && address.protocol() == QAbstractSocket::IPv6Protocol) {
        const Q_IPV6ADDR v6 = address.toIPv6Address();
        if (std::all_of(v6.c, v6.c + 12, [](quint8 b) { return b == 0; })) {
            // ::/96: `::`, `::1` and the deprecated IPv4-compatible form of an IPv4 address.
            return true;
        }
        return address.isLinkLocal();
    }
    const quint32 first = v4 >> 24;
    return first == 127 || first == 0 || (v4 >> 16) == 0xA9FE; // 127/8, 0/8, 169.254/16
}

} // namespace Patchwork::Server
