// SPDX-License-Identifier: MIT
#include "access/ratelimiter.h"

#include <climits>
#include <cmath>

#include "util/clock.h"

namespace Patchwork
{

namespace
{

// Absorbs rounding in the refill arithmetic, so that exactly 1/rate seconds refill one token.
constexpr double TOKEN_EPSILON = 1e-9;

RateLimitSettings sanitized(RateLimitSettings settings)
{
    if (!(settings.ratePerSecond > 0) || !std::isfinite(settings.ratePerSecond)) {
        settings.ratePerSecond = 0;
    }
    settings.burst = qMax(1, settings.burst);
    settings.maxWaiting = qMax(0, settings.maxWaiting);
    return settings;
}

} // namespace

size_t qHash(const RateLimiter::Key &key, size_t seed) noexcept
{
    return qHashMulti(seed, key.high, key.low);
}

RateLimiter::RateLimiter(Clock *clock, const RateLimitSettings &settings, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
    , m_settings(sanitized(settings))
{
    Q_ASSERT(clock);
    connect(m_clock, &Clock::woke, this, &RateLimiter::onWoke);
}

RateLimiter::Key RateLimiter::keyFor(const QHostAddress &client)
{
    switch (client.protocol()) {
    case QAbstractSocket::IPv4Protocol:
        return {0, 0xffff'0000'0000ULL | client.toIPv4Address()};
    case QAbstractSocket::IPv6Protocol: {
        const Q_IPV6ADDR ip = client.toIPv6Address();
        quint64 high = 0;
        quint64 low = 0;
        for (int i = 0; i < 8; ++i) {
            high = high << 8 | ip[i];
            low = low << 8 | ip[i + 8];
        }
        if (high == 0 && (low >> 32) == 0xffff) {
            return {0, low}; // IPv4-mapped: the same key as the IPv4 address
        }
        return {high, 0}; // the /64 prefix
    }
    default:
        // No usable address: all such clients share one key that no real address produces.
        return {~0ULL, ~0ULL};
    }
}

double RateLimiter::refilled(const Bucket &bucket, qint64 nowMs) const
{
    const double elapsedSeconds = double(qMax<qint64>(0, nowMs - bucket.updatedMs)) / 1000.0;
    return qMin(double(m_settings.burst), bucket.tokens + elapsedSeconds * m_settings.ratePerSecond);
}

RateLimiter::Decision RateLimiter::take(const QHostAddress &client)
{
    if (m_settings.ratePerSecond <= 0) {
        return {};
    }
    const Key key = keyFor(client);
    const qint64 now = m_clock->monotonicMs();
    auto it = m_buckets.find(key);
    if (it == m_buckets.end()) {
        it = m_buckets.insert(key, Bucket{double(m_settings.burst), now});
        scheduleSweep();
    }
    const double tokens = refilled(*it, now);
    it->updatedMs = now;
    if (tokens + TOKEN_EPSILON >= 1.0) {
        it->tokens = qMax(0.0, tokens - 1.0);
        return {};
    }
    it->tokens = tokens;
    const double wait = std::ceil((1.0 - tokens - TOKEN_EPSILON) / m_settings.ratePerSecond);
    return {false, int(qBound(1.0, wait, double(INT_MAX)))};
}

bool RateLimiter::acquireWaiting(const QHostAddress &client)
{
    const Key key = keyFor(client);
    auto it = m_waiting.find(key);
    if (it == m_waiting.end()) {
        m_waiting.insert(key, 1); // any limit (>= 1, or 0 = none) admits a first request
        return true;
    }
    if (m_settings.maxWaiting > 0 && *it >= m_settings.maxWaiting) {
        return false;
    }
    ++*it;
    return true;
}

void RateLimiter::releaseWaiting(const QHostAddress &client)
{
    const auto it = m_waiting.find(keyFor(client));
    if (it == m_waiting.end()) {
        return;
    }
    if (--*it <= 0) {
        m_waiting.erase(it);
    }
}

RateLimitSettings RateLimiter::settings() const
{
    return m_settings;
}

void RateLimiter::setSettings(const RateLimitSettings &settings)
{
    setRate(settings.ratePerSecond, settings.burst);
    setMaxWaiting(settings.maxWaiting);
}

void RateLimiter::setRate(double ratePerSecond, int burst)
{
    RateLimitSettings next = m_settings;
    next.ratePerSecond = ratePerSecond;
    next.burst = burst;
    next = sanitized(next);
    if (next.ratePerSecond <= 0) {
        m_buckets.clear();
    } else if (m_settings.ratePerSecond > 0) {
        const qint64 now = m_clock->monotonicMs();
        for (Bucket &bucket : m_buckets) {
            bucket.tokens = qMin(refilled(bucket, now), double(next.burst));
            bucket.updatedMs = now;
        }
    }
    m_settings.ratePerSecond = next.ratePerSecond;
    m_settings.burst = next.burst;
}

void RateLimiter::setMaxWaiting(int maxWaiting)
{
    m_settings.maxWaiting = qMax(0, maxWaiting);
}

qsizetype RateLimiter::bucketCount() const
{
    return m_buckets.size();
}

qsizetype RateLimiter::waitingEntryCount() const
{
    return m_waiting.size();
}

int RateLimiter::waitingCount(const QHostAddress &client) const
{
    return m_waiting.value(keyFor(client), 0);
}

void RateLimiter::scheduleSweep()
{
    if (m_sweepAtMs >= 0) {
        return;
    }
    m_sweepAtMs = m_clock->monotonicMs() + SweepIntervalMs;
    m_clock->wakeAt(m_sweepAtMs);
}

void RateLimiter::onWoke()
{
    if (m_sweepAtMs < 0) {
        return;
    }
    const qint64 now = m_clock->monotonicMs();
    if (now < m_sweepAtMs) {
        m_clock->wakeAt(m_sweepAtMs); // woken for someone else: ask again for ours
        return;
    }
    m_sweepAtMs = -1;
    const double full = double(m_settings.burst) - TOKEN_EPSILON;
    m_buckets.removeIf(
        [this, now, full](const QHash<Key, Bucket>::iterator &it) { return refilled(it.value(), now) >= full; });
    if (!m_buckets.isEmpty()) {
        scheduleSweep();
    }
}

} // namespace Patchwork
