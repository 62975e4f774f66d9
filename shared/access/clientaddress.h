// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <optional>

#include <QByteArrayView>
#include <QCoreApplication>
#include <QHostAddress>
#include <QList>
#include <QStringList>

namespace Patchwork
{

// Who the client is (PROTOCOL §13): the TCP peer, unless the peer is a trusted proxy; then the
// forwarding headers say who it forwarded for. Parsing and matching work on 16-byte addresses
// (IPv4 as IPv4-mapped IPv6) without allocating; only the returned QHostAddress is built.
class TrustedProxies
{
    Q_DECLARE_TR_FUNCTIONS(TrustedProxies)

public:
    // Trusts loopback only: 127.0.0.0/8 and ::1/128.
    TrustedProxies();

    static QStringList defaultCidrs();
    // Each entry is an address (a single host) or a CIDR, IPv4 or IPv6; host bits are ignored
    // ("10.1.2.3/8" is 10.0.0.0/8). An empty list trusts nobody. On error returns nullopt and a
    // translated message naming the bad entry in *error.
    static std::optional<TrustedProxies> parse(const QStringList &cidrs, QString *error = nullptr);

    // The CIDRs in canonical form, e.g. "127.0.0.0/8", "::1/128".
    QStringList cidrs() const;
    bool isTrusted(const QHostAddress &address) const;

    // The client of a request whose TCP peer is `peer`. `xForwardedFor` is the whole header value
    // (several header lines joined by ", "); absent headers are empty views. If the peer is not
    // trusted, the headers are ignored. Otherwise X-Forwarded-For is read from the right,
    // skipping trusted proxies: the first untrusted address is the client; if all are trusted, the
    // leftmost; a malformed entry ends the walk (the last good entry, or the peer, is used).
    // Without X-Forwarded-For: X-Real-IP, then CF-Connecting-IP, when parseable; else the peer.
    // IPv4-mapped IPv6 addresses (the peer's included) come back as IPv4.
    QHostAddress clientAddress(const QHostAddress &peer,
                               QByteArrayView xForwardedFor,
                               QByteArrayView xRealIp,
                               QByteArrayView cfConnectingIp) const;

    // 127.0.0.0/8, ::1, and IPv4-mapped 127.0.0.0/8.
    static bool isLoopback(const QHostAddress &address);
    // An IPv4-mapped IPv6 address as IPv4; anything else unchanged.
    static QHostAddress normalized(const QHostAddress &address);
    // Parses one address as found in forwarding headers: IPv4, IPv6, "[IPv6]", "[IPv6]:port" or
    // "IPv4:port", surrounding blanks ignored. Returns a null address if malformed.
    static QHostAddress parseAddress(QByteArrayView text);

    using Ip = std::array<quint8, 16>; // IPv6 byte order; IPv4 as ::ffff:a.b.c.d

private:
    struct Subnet
    {
        Ip address{}; // host bits cleared
        int prefix = 0; // 0..128, IPv4 prefixes + 96
    };

    bool isTrusted(const Ip &address) const;

    QList<Subnet> m_subnets;
};

} // namespace Patchwork
