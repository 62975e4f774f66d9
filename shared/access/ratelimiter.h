// SPDX-License-Identifier: MIT
#pragma once

#include <QHash>
#include <QHostAddress>
#include <QObject>

namespace Patchwork
{

class Clock;

struct RateLimitSettings
{
    double ratePerSecond = 10; // tokens added per second; 0 disables rate limiting
    int burst = 20; // bucket size (at least 1 when rate limiting is on)
    int maxWaiting = 256; // waiting requests per client; 0 = unlimited
};

// Per-client limits of PROTOCOL §13 for the public and hook namespaces: a token bucket per client
// (one token per request) and a bound on the requests one client has waiting at a time.
// A client is an IPv4 address, or the /64 prefix of an IPv6 address (IPv4-mapped IPv6 counts as
// IPv4). Lookups use a fixed 16-byte key: no allocation except for a client's first entry.
// Buckets that are full again are freed by a sweep every 60 s of the injected clock.
class RateLimiter final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RateLimiter)

public:
    struct Decision
    {
        bool allowed = true;
        int retryAfterSeconds = 0; // when denied: seconds until a token is available, rounded up, >= 1
    };

    struct Key
    {
        quint64 high = 0;
        quint64 low = 0;
        friend bool operator==(const Key &, const Key &) = default;
    };

    static constexpr qint64 SweepIntervalMs = 60'000;

    explicit RateLimiter(Clock *clock, const RateLimitSettings &settings = {}, QObject *parent = nullptr);

    // Takes one token from the client's bucket.
    Decision take(const QHostAddress &client);

    // Counts one more waiting request of the client; false (and nothing counted) at the limit.
    bool acquireWaiting(const QHostAddress &client);
    // Ends one waiting request counted by acquireWaiting(). The entry is freed when it reaches zero.
    void releaseWaiting(const QHostAddress &client);

    RateLimitSettings settings() const;
    void setSettings(const RateLimitSettings &settings);
    // Buckets keep their tokens (capped at the new burst); a rate of 0 frees them all.
    void setRate(double ratePerSecond, int burst);
    // Current counts are kept; only new acquisitions see the new limit.
    void setMaxWaiting(int maxWaiting);

    // For tests and diagnostics.
    qsizetype bucketCount() const;
    qsizetype waitingEntryCount() const;
    int waitingCount(const QHostAddress &client) const;

    static Key keyFor(const QHostAddress &client);

private:
    struct Bucket
    {
        double tokens = 0;
        qint64 updatedMs = 0;
    };

    double refilled(const Bucket &bucket, qint64 nowMs) const;
    void scheduleSweep();
    void onWoke();

    Clock *m_clock;
    RateLimitSettings m_settings;
    QHash<Key, Bucket> m_buckets;
    QHash<Key, int> m_waiting;
    qint64 m_sweepAtMs = -1;
};

size_t qHash(const RateLimiter::Key &key, size_t seed = 0) noexcept;

} // namespace Patchwork
