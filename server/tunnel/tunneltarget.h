// SPDX-License-Identifier: MIT
#pragma once

#include <optional>

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QString>

namespace Patchwork::Server
{

// Which targets that are local to the relay (isLocalAddress()) a tunnel may reach.
enum class LocalTargets
{
    Literal, // only when the request names them: an IP literal or `localhost` (default)
    Deny, // never
    Allow, // also through any name that resolves to them
};

// The destination of a tunnel, `/huproxy/<user>/<host>/<port>` (PROTOCOL §11), validated so that the
// string the ACL checks (subject()) is exactly what is dialled: `host` is a DNS name (letters, digits
// and hyphens in dot-separated labels of at most 63 characters, at most 253 in all, the last label not
// numeric) or an IP address in its canonical form, and `port` a decimal 1–65535 without leading zeros.
struct TunnelTarget
{
    QByteArray host; // the name or the address, IPv6 without brackets
    QHostAddress address; // the IP literal; null for a name
    quint16 port = 0;

    // `host:port`, `[v6]:port`: what huproxy patterns match.
    QByteArray subject() const;
    // Why the tunnel may not dial this target at `addresses` (what `host` resolved to, or the literal),
    // one line; empty when it may. Every address is checked: one local address refuses the target,
    // unless `policy` allows it (LocalTargets::Literal: for an IP literal or `localhost`).
    QString refusal(const QList<QHostAddress> &addresses, LocalTargets policy) const;

    // Parses the two percent-decoded path segments; on failure returns nullopt and one line in *error
    // (`Bad Request: …`).
    static std::optional<TunnelTarget> parse(QByteArrayView host, QByteArrayView port, QByteArray *error);
};

// Loopback (127.0.0.0/8, ::1), unspecified (0.0.0.0/8, ::), link-local (169.254.0.0/16, fe80::/10),
// also in their IPv4-mapped and IPv4-compatible IPv6 forms: addresses that reach the relay's own
// machine (or its cloud metadata service) rather than a machine of its network.
bool isLocalAddress(const QHostAddress &address);

} // namespace Patchwork::Server
