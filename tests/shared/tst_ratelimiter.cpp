// SPDX-License-Identifier: MIT
#include <QRegularExpression>
#include <QTest>

#include "access/ratelimiter.h"
#include "manualclock.h"

using namespace Qt::StringLiterals;
using Patchwork::ManualClock;
using Patchwork::RateLimiter;
using Patchwork::RateLimitSettings;

namespace
{

QHostAddress ip(const char *text)
{
    return QHostAddress(QString::fromLatin1(text));
}

// Takes tokens until the first denial; returns how many were allowed (bounded).
int allowedInARow(RateLimiter &limiter, const QHostAddress &client, RateLimiter::Decision *denial = nullptr)
{
    for (int i = 0; i < 10'000; ++i) {
        const RateLimiter::Decision decision = limiter.take(client);
        if (!decision.allowed) {
            if (denial) {
                *denial = decision;
            }
            return i;
        }
    }
    return -1;
}

} // namespace

class TestRateLimiter final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();

    void burstThenDeny();
    void retryAfter_data();
    void retryAfter();
    void refillOverTime();
    void refillIsCappedAtBurst();
    void clientsAreIndependent();
    void sameKey_data();
    void sameKey();
    void rateZeroDisables();
    void settingsChange();
    void idleSweepFreesBuckets();
    void sweepKeepsBusyBuckets();
    void waitingLimit();
    void waitingUnlimited();
    void waitingGroupsIpv6();
    void waitingLimitLowered();
};

void TestRateLimiter::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
}

void TestRateLimiter::burstThenDeny()
{
    ManualClock clock;
    RateLimiter limiter(&clock, {10, 20, 256});
    const QHostAddress client = ip("203.0.113.7");
    RateLimiter::Decision denial;
    QCOMPARE(allowedInARow(limiter, client, &denial), 20);
    QVERIFY(!denial.allowed);
    QCOMPARE(denial.retryAfterSeconds, 1);
    // Denials do not consume anything, and keep being denied without time passing.
    QVERIFY(!limiter.take(client).allowed);
    QCOMPARE(limiter.bucketCount(), 1);
}

void TestRateLimiter::retryAfter_data()
{
    QTest::addColumn<double>("rate");
    QTest::addColumn<int>("burst");
    QTest::addColumn<qint64>("elapsedMs");
    QTest::addColumn<int>("expected");

    QTest::addRow("10/s: 0.1 s rounds up to 1") << 10.0 << 5 << qint64(0) << 1;
    QTest::addRow("1/s: exactly 1") << 1.0 << 2 << qint64(0) << 1;
    QTest::addRow("0.5/s: 2 s") << 0.5 << 1 << qint64(0) << 2;
    QTest::addRow("0.5/s after 500 ms: 1.5 s rounds to 2") << 0.5 << 1 << qint64(500) << 2;
    QTest::addRow("0.5/s after 1500 ms: 0.5 s rounds to 1") << 0.5 << 1 << qint64(1500) << 1;
    QTest::addRow("0.1/s: 10 s") << 0.1 << 3 << qint64(0) << 10;
    QTest::addRow("0.3/s: 3.33 s rounds to 4") << 0.3 << 1 << qint64(0) << 4;
}

void TestRateLimiter::retryAfter()
{
    QFETCH(double, rate);
    QFETCH(int, burst);
    QFETCH(qint64, elapsedMs);
    QFETCH(int, expected);

    ManualClock clock;
    RateLimiter limiter(&clock, {rate, burst, 0});
    const QHostAddress client = ip("198.51.100.1");
    for (int i = 0; i < burst; ++i) {
        QVERIFY(limiter.take(client).allowed);
    }
    clock.advance(elapsedMs);
    const RateLimiter::Decision decision = limiter.take(client);
    QVERIFY(!decision.allowed);
    QCOMPARE(decision.retryAfterSeconds, expected);
    // Waiting exactly that long is enough.
    clock.advance(qint64(expected) * 1000);
    QVERIFY(limiter.take(client).allowed);
}

void TestRateLimiter::refillOverTime()
{
    ManualClock clock;
    RateLimiter limiter(&clock, {10, 20, 0});
    const QHostAddress client = ip("203.0.113.7");
    QCOMPARE(allowedInARow(limiter, client), 20);

    clock.advance(99);
    QVERIFY(!limiter.take(client).allowed);
    clock.advance(1); // 100 ms at 10/s: one token
    QVERIFY(limiter.take(client).allowed);
    QVERIFY(!limiter.take(client).allowed);

    clock.advance(500); // five tokens
    QCOMPARE(allowedInARow(limiter, client), 5);

    // Partial tokens accumulate across requests: 3 × 40 ms = 1.2 tokens.
    clock.advance(40);
    QVERIFY(!limiter.take(client).allowed);
    clock.advance(40);
    QVERIFY(!limiter.take(client).allowed);
    clock.advance(40);
    QVERIFY(limiter.take(client).allowed);
}

void TestRateLimiter::refillIsCappedAtBurst()
{
    ManualClock clock;
    RateLimiter limiter(&clock, {10, 20, 0});
    const QHostAddress client = ip("203.0.113.7");
    QVERIFY(limiter.take(client).allowed);
    clock.advance(3600 * 1000);
    QCOMPARE(allowedInARow(limiter, client), 20);
}

void TestRateLimiter::clientsAreIndependent()
{
    ManualClock clock;
    RateLimiter limiter(&clock, {10, 20, 0});
    QCOMPARE(allowedInARow(limiter, ip("203.0.113.7")), 20);
    QCOMPARE(allowedInARow(limiter, ip("203.0.113.8")), 20);
    QCOMPARE(allowedInARow(limiter, ip("2001:db8:1:2::1")), 20);
    QCOMPARE(allowedInARow(limiter, ip("2001:db8:1:3::1")), 20); // another /64
    QCOMPARE(allowedInARow(limiter, ip("::1")), 20);
    QCOMPARE(limiter.bucketCount(), 5);
}

void TestRateLimiter::sameKey_data()
{
    QTest::addColumn<QHostAddress>("first");
    QTest::addColumn<QHostAddress>("second");
    QTest::addColumn<bool>("shared");

    QTest::addRow("same IPv4") << ip("192.0.2.1") << ip("192.0.2.1") << true;
    QTest::addRow("IPv4 neighbours") << ip("192.0.2.1") << ip("192.0.2.2") << false;
    QTest::addRow("IPv6 same /64") << ip("2001:db8:a:b::1") << ip("2001:db8:a:b:ffff:1:2:3") << true;
    QTest::addRow("IPv6 other /64") << ip("2001:db8:a:b::1") << ip("2001:db8:a:c::1") << false;
    QTest::addRow("IPv6 other /48") << ip("2001:db8:a:b::1") << ip("2001:db8:b:b::1") << false;
    QTest::addRow("IPv4-mapped is IPv4") << ip("::ffff:192.0.2.1") << ip("192.0.2.1") << true;
    QTest::addRow("IPv4-mapped neighbours") << ip("::ffff:192.0.2.1") << ip("::ffff:192.0.2.2") << false;
    QTest::addRow("IPv4 vs ::/64") << ip("0.0.0.1") << ip("::1") << false;
    QTest::addRow("IPv4-compatible is IPv6") << ip("::192.0.2.1") << ip("192.0.2.1") << false;
}

void TestRateLimiter::sameKey()
{
    QFETCH(QHostAddress, first);
    QFETCH(QHostAddress, second);
    QFETCH(bool, shared);

    QCOMPARE(RateLimiter::keyFor(first) == RateLimiter::keyFor(second), shared);

    ManualClock clock;
    RateLimiter limiter(&clock, {1, 3, 0});
    QCOMPARE(allowedInARow(limiter, first), 3);
    QCOMPARE(limiter.take(second).allowed, !shared);
    QCOMPARE(limiter.bucketCount(), shared ? 1 : 2);
}

void TestRateLimiter::rateZeroDisables()
{
    ManualClock clock;
    RateLimiter limiter(&clock, {0, 20, 0});
    const QHostAddress client = ip("203.0.113.7");
    for (int i = 0; i < 1000; ++i) {
        const RateLimiter::Decision decision = limiter.take(client);
        QVERIFY(decision.allowed);
        QCOMPARE(decision.retryAfterSeconds, 0);
    }
    QCOMPARE(limiter.bucketCount(), 0);
    QCOMPARE(clock.nextWake(), -1);
}

void TestRateLimiter::settingsChange()
{
    ManualClock clock;
    RateLimiter limiter(&clock, {10, 20, 0});
    const QHostAddress client = ip("203.0.113.7");
    QCOMPARE(allowedInARow(limiter, client, nullptr), 20);

    // Disabling frees every bucket; enabling again starts from full buckets.
    limiter.setRate(0, 20);
    QCOMPARE(limiter.bucketCount(), 0);
    QVERIFY(limiter.take(client).allowed);
    limiter.setRate(1, 2);
    QCOMPARE(limiter.settings().ratePerSecond, 1.0);
    QCOMPARE(limiter.settings().burst, 2);
    QCOMPARE(allowedInARow(limiter, client), 2);

    // A smaller burst caps the tokens already there.
    limiter.setRate(1, 50);
    clock.advance(100'000);
    limiter.setRate(1, 3);
    QCOMPARE(allowedInARow(limiter, client), 3);

    // A slower rate applies to the refill from now on.
    limiter.setSettings({0.5, 3, 7});
    QCOMPARE(limiter.settings().maxWaiting, 7);
    clock.advance(1000);
    QVERIFY(!limiter.take(client).allowed);
    clock.advance(1000);
    QVERIFY(limiter.take(client).allowed);
}

void TestRateLimiter::idleSweepFreesBuckets()
{
    ManualClock clock;
    RateLimiter limiter(&clock, {10, 20, 0});
    QCOMPARE(clock.nextWake(), -1);
    for (int i = 0; i < 50; ++i) {
        QVERIFY(limiter.take(QHostAddress(quint32(0xC0000200 + i))).allowed);
    }
    QCOMPARE(limiter.bucketCount(), 50);
    // One wake-up for the sweep, 60 s ahead.
    QCOMPARE(clock.nextWake(), clock.monotonicMs() + RateLimiter::SweepIntervalMs);

    // Woken early (for someone else): nothing is freed, and the sweep asks again.
    clock.advance(30'000);
    QCOMPARE(limiter.bucketCount(), 50);
    QCOMPARE(clock.nextWake(), clock.monotonicMs() + 30'000);

    clock.advance(30'000);
    QCOMPARE(limiter.bucketCount(), 0);
    QCOMPARE(clock.nextWake(), -1); // nothing left to sweep

    // A new client arms the sweep again.
    QVERIFY(limiter.take(ip("192.0.2.1")).allowed);
    QCOMPARE(clock.nextWake(), clock.monotonicMs() + RateLimiter::SweepIntervalMs);
}

void TestRateLimiter::sweepKeepsBusyBuckets()
{
    ManualClock clock;
    RateLimiter limiter(&clock, {0.01, 20, 0}); // one token per 100 s
    const QHostAddress busy = ip("192.0.2.1");
    const QHostAddress idle = ip("192.0.2.2");
    QVERIFY(limiter.take(busy).allowed); // 19 tokens left
    QVERIFY(limiter.take(idle).allowed); // 19 tokens left: full again after 100 s
    clock.advance(50'000);
    QCOMPARE(allowedInARow(limiter, busy), 19); // 19.5 tokens: 0.5 left

    clock.advance(10'000); // first sweep at 60 s: idle has 19.6, busy 0.6
    QCOMPARE(limiter.bucketCount(), 2);
    QCOMPARE(clock.nextWake(), clock.monotonicMs() + RateLimiter::SweepIntervalMs);

    clock.advance(60'000); // second sweep at 120 s: idle is full (20.2 capped), busy has 1.2
    QCOMPARE(limiter.bucketCount(), 1);
    QVERIFY(limiter.take(busy).allowed);
    const RateLimiter::Decision denial = limiter.take(busy);
    QVERIFY(!denial.allowed);
    QCOMPARE(denial.retryAfterSeconds, 80); // 0.2 tokens left, 0.8 missing
    QCOMPARE(allowedInARow(limiter, idle), 20); // a freed bucket comes back full
}

void TestRateLimiter::waitingLimit()
{
    ManualClock clock;
    RateLimiter limiter(&clock, {10, 20, 3});
    const QHostAddress client = ip("203.0.113.7");
    const QHostAddress other = ip("203.0.113.8");
    QVERIFY(limiter.acquireWaiting(client));
    QVERIFY(limiter.acquireWaiting(client));
    QVERIFY(limiter.acquireWaiting(client));
    QVERIFY(!limiter.acquireWaiting(client));
    QVERIFY(!limiter.acquireWaiting(client)); // a refusal counts nothing
    QCOMPARE(limiter.waitingCount(client), 3);
    QVERIFY(limiter.acquireWaiting(other));
    QCOMPARE(limiter.waitingEntryCount(), 2);

    limiter.releaseWaiting(client);
    QCOMPARE(limiter.waitingCount(client), 2);
    QVERIFY(limiter.acquireWaiting(client));
    QVERIFY(!limiter.acquireWaiting(client));

    for (int i = 0; i < 3; ++i) {
        limiter.releaseWaiting(client);
    }
    QCOMPARE(limiter.waitingCount(client), 0);
    QCOMPARE(limiter.waitingEntryCount(), 1); // freed at zero
    limiter.releaseWaiting(client); // an extra release is harmless
    QCOMPARE(limiter.waitingEntryCount(), 1);
    limiter.releaseWaiting(other);
    QCOMPARE(limiter.waitingEntryCount(), 0);
    // The waiting counter is independent from the token bucket.
    QCOMPARE(limiter.bucketCount(), 0);
}

void TestRateLimiter::waitingUnlimited()
{
    ManualClock clock;
    RateLimiter limiter(&clock, {10, 20, 0});
    const QHostAddress client = ip("203.0.113.7");
    for (int i = 0; i < 5000; ++i) {
        QVERIFY(limiter.acquireWaiting(client));
    }
    QCOMPARE(limiter.waitingCount(client), 5000);
    for (int i = 0; i < 5000; ++i) {
        limiter.releaseWaiting(client);
    }
    QCOMPARE(limiter.waitingEntryCount(), 0);
}

void TestRateLimiter::waitingGroupsIpv6()
{
    ManualClock clock;
    RateLimiter limiter(&clock, {10, 20, 2});
    QVERIFY(limiter.acquireWaiting(ip("2001:db8:0:1::a")));
    QVERIFY(limiter.acquireWaiting(ip("2001:db8:0:1::b")));
    QVERIFY(!limiter.acquireWaiting(ip("2001:db8:0:1::c"))); // same /64
    QVERIFY(limiter.acquireWaiting(ip("2001:db8:0:2::a"))); // another /64
    QVERIFY(limiter.acquireWaiting(ip("::ffff:192.0.2.1")));
    QVERIFY(limiter.acquireWaiting(ip("192.0.2.1")));
    QVERIFY(!limiter.acquireWaiting(ip("192.0.2.1"))); // mapped and plain IPv4 share the count
    limiter.releaseWaiting(ip("2001:db8:0:1::ffff"));
    QCOMPARE(limiter.waitingCount(ip("2001:db8:0:1::a")), 1);
}

void TestRateLimiter::waitingLimitLowered()
{
    ManualClock clock;
    RateLimiter limiter(&clock, {10, 20, 0});
    const QHostAddress client = ip("203.0.113.7");
    for (int i = 0; i < 5; ++i) {
        QVERIFY(limiter.acquireWaiting(client));
    }
    limiter.setMaxWaiting(3);
    QVERIFY(!limiter.acquireWaiting(client));
    limiter.releaseWaiting(client);
    limiter.releaseWaiting(client);
    QVERIFY(!limiter.acquireWaiting(client)); // 3 waiting: still at the limit
    limiter.releaseWaiting(client);
    QVERIFY(limiter.acquireWaiting(client));
}

QTEST_GUILESS_MAIN(TestRateLimiter)
#include "tst_ratelimiter.moc"
