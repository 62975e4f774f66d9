// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArrayView>
#include <QHash>
#include <QHostAddress>

#include "access/ratelimiter.h"

namespace Patchwork::Server
{

// Counts open connections per client address (an IPv4 address or an IPv6 /64, as the rate limiter)
// and decides whether one more may be served: at most `maxTotal` in all and `maxPerIp` from one
// address, unless the address is exempt from the per-address limit. See docs/DECISIONS.md
// "Hardening: resource limits".
class ConnectionLimits
{
public:
    struct Settings
    {
        int maxTotal = 0; // 0 = no limit
        int maxPerIp = 512; // 0 = no limit (the default is above the waiting cap of 256)
    };

    void setSettings(const Settings &settings);
    const Settings &settings() const;

    // Counts a new connection from `peer` (total is the number already open). Returns an empty view,
    // or (counting nothing) the one-line reason it is refused.
    QByteArrayView admit(const QHostAddress &peer, qsizetype total, bool perIpExempt);
    // Ends a connection counted by admit().
    void release(const QHostAddress &peer);
    int countFrom(const QHostAddress &peer) const;

private:
    Settings m_settings;
    QHash<RateLimiter::Key, int> m_perIp;
};

} // namespace Patchwork::Server
