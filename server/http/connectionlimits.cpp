// SPDX-License-Identifier: MIT
#include "http/connectionlimits.h"

namespace Patchwork::Server
{

void ConnectionLimits::setSettings(const Settings &settings)
{
    m_settings = settings;
}

const ConnectionLimits::Settings &ConnectionLimits::settings() const
{
    return m_settings;
}

QByteArrayView ConnectionLimits::admit(const QHostAddress &peer, qsizetype total, bool perIpExempt)
{
    if (m_settings.maxTotal > 0 && total >= m_settings.maxTotal) {
        return "Too many connections to this server";
    }
    int &count = m_perIp[RateLimiter::keyFor(peer)];
    if (!perIpExempt && m_settings.maxPerIp > 0 && count >= m_settings.maxPerIp) {
        return "Too many connections from this address"; // count >= 1: the entry stays
    }
    ++count;
    return {};
}

void ConnectionLimits::release(const QHostAddress &peer)
{
    const auto it = m_perIp.find(RateLimiter::keyFor(peer));
    if (it != m_perIp.end() && --*it <= 0) {
        m_perIp.erase(it);
    }
}

int ConnectionLimits::countFrom(const QHostAddress &peer) const
{
    return m_perIp.value(RateLimiter::keyFor(peer));
}

} // namespace Patchwork::Server
