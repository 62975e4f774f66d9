// SPDX-License-Identifier: MIT
// Rate limits, the waiting cap and client identity over loopback (PROTOCOL §13), with forged remote
// clients through the trusted-proxy headers.
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include "accessfixture.h"
#include "manualclock.h"

using namespace Patchwork;
using namespace Patchwork::Server;
using namespace Patchwork::Test;
using namespace Qt::StringLiterals;

namespace
{

AccessGate::Settings limited(double rate, int burst, int maxWaiting = 0)
{
    AccessGate::Settings s;
    s.rateLimit.ratePerSecond = rate;
    s.rateLimit.burst = burst;
    s.rateLimit.maxWaiting = maxWaiting;
    // The test clients connect from 127.0.0.1, which is exempt by default.
    s.limitLoopback = true;
    return s;
}

HeaderList forwardedFor(const QByteArray &address)
{
    return {{"X-Forwarded-For", address}};
}

} // namespace

class TestAccessLimits final : public QObject
{
    Q_OBJECT

private:
    void start(const AccessGate::Settings &settings)
    {
        m_f.reset();
        m_f = std::make_unique<AccessFixture>(&m_clock, settings, m_configs.get());
        QVERIFY(m_f->port != 0);
    }
    // A request that is answered at once when allowed: a publish with nobody listening.
    int publish(const HeaderList &headers = {}, const QByteArray &path = "/public/pubsub/x")
    {
        return m_f->send("POST", path, "m", headers).status;
    }

    ManualClock m_clock;
    QTemporaryDir m_usersDir;
    std::unique_ptr<DirectoryConfigSource> m_configs;
    std::unique_ptr<AccessFixture> m_f;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_usersDir.isValid());
        writeFile(m_usersDir.path() + u"/alice/config.yaml"_s,
                  "tokens:\n  public:\n    GET: [\"*\"]\n    POST: [\"*\"]\n");
        m_configs = std::make_unique<DirectoryConfigSource>(m_usersDir.path());
    }
    void init()
    {
        QTest::failOnWarning(QRegularExpression(u".*"_s));
    }
    void cleanup()
    {
        m_f.reset();
    }
    void cleanupTestCase()
    {
        m_configs.reset();
    }

    void rateLimit_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<int>("status");
        const QByteArray hx = HookSecret::fromKey(TEST_SERVER_KEY).secretFor('h', "x");
        QTest::addRow("public") << QByteArray("POST") << QByteArray("/public/pubsub/x") << 200;
        QTest::addRow("p alias") << QByteArray("POST") << QByteArray("/p/pubsub/x") << 200;
        QTest::addRow("create hook") << QByteArray("GET") << QByteArray("/h") << 200;
        QTest::addRow("forward hook") << QByteArray("POST") << QByteArray("/h/pubsub/x?secret=" + hx) << 200;
        QTest::addRow("reverse hook") << QByteArray("POST") << QByteArray("/r/pubsub/x") << 200;
        QTest::addRow("preflight") << QByteArray("OPTIONS") << QByteArray("/public/x") << 204;
    }
    void rateLimit()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        QFETCH(int, status);
        start(limited(1, 2));
        QCOMPARE(m_f->send(method, target, "m").status, status);
        QCOMPARE(m_f->send(method, target, "m").status, status);
        TestResponse r = m_f->send(method, target, "m");
        QCOMPARE(r.status, 429);
        QCOMPARE(r.body, QByteArray("Rate limit exceeded\n"));
        QCOMPARE(r.header("Retry-After"), QByteArray("1"));
        m_clock.advance(1000);
        QCOMPARE(m_f->send(method, target, "m").status, status);
        QCOMPARE(m_f->send(method, target, "m").status, 429);
        QCOMPARE(m_f->metrics.render().contains("patchwork_rate_limited_total 2\n"), true);
    }

    void retryAfterRoundsUp()
    {
        start(limited(0.4, 1));
        QCOMPARE(publish(), 200);
        TestResponse r = m_f->send("POST", "/public/pubsub/x", "m");
        QCOMPARE(r.status, 429);
        QCOMPARE(r.header("Retry-After"), QByteArray("3")); // 2.5 s until the next token
        m_clock.advance(2000);
        QCOMPARE(m_f->send("POST", "/public/pubsub/x", "m").header("Retry-After"), QByteArray("1"));
        m_clock.advance(500);
        QCOMPARE(publish(), 200);
    }

    // One bucket per client across the public and hook namespaces; path checks come first, secrets after.
    void orderOfChecks()
    {
        start(limited(1, 1));
        QCOMPARE(m_f->get("/public/").status, 404); // not counted
        QCOMPARE(m_f->send("POST", "/public/req/", "x").status, 400); // not counted
        QCOMPARE(publish(), 200);
        QCOMPARE(m_f->send("POST", "/h/pubsub/x", "m").status, 429); // before the missing secret's 401
        QCOMPARE(m_f->get("/h").status, 429);
    }

    // Health, the index, /metrics and user namespaces are never rate limited.
    void notLimited()
    {
        start(limited(1, 1));
        QCOMPARE(publish(), 200);
        QCOMPARE(publish(), 429);
        for (int i = 0; i < 5; ++i) {
            QCOMPARE(m_f->get("/healthz").status, 200);
            QCOMPARE(m_f->get("/status").status, 200);
            QCOMPARE(m_f->get("/").status, 200);
            QCOMPARE(m_f->get("/metrics").status, 200);
            QCOMPARE(m_f->send("POST", "/u/alice/x?pubsub=1", "m").status, 200);
        }
    }

    void settingsChange()
    {
        start(limited(1, 1));
        QCOMPARE(publish(), 200);
        QCOMPARE(publish(), 429);
        m_f->gate->setSettings(limited(0, 1)); // --rate-limit 0 after a reload
        for (int i = 0; i < 5; ++i) {
            QCOMPARE(publish(), 200);
        }
    }

    void waitingCap()
    {
        start(limited(0, 1, 2));
        const QHostAddress me(QHostAddress::LocalHost);
        RateLimiter *limiter = m_f->gate->rateLimiter();
        auto first = std::make_unique<TestHttpClient>(m_f->port);
        first->get("/public/queue/a");
        TestHttpClient second(m_f->port);
        second.get(QByteArray("/r/queue/b?secret=" + HookSecret::fromKey(TEST_SERVER_KEY).secretFor('r', "b")));
        QVERIFY(m_f->waitWaiting(Waiter::Role::Consumer, 2));
        QCOMPARE(limiter->waitingCount(me), 2);

        TestResponse r = m_f->get("/public/queue/c");
        QCOMPARE(r.status, 429);
        QCOMPARE(r.body, QByteArray("Too many waiting requests\n"));
        QCOMPARE(publish(), 429); // a publish is a request that waits for its delivery, too
        // Other clients, and user namespaces, are not affected.
        QCOMPARE(publish(forwardedFor("198.51.100.1")), 200);
        TestHttpClient user(m_f->port);
        user.get("/u/alice/queue/x");
        QVERIFY(m_f->waitWaiting(Waiter::Role::Consumer, 3));

        // A consumer that leaves frees its slot.
        first->abort();
        first.reset();
        QTRY_COMPARE_WITH_TIMEOUT(limiter->waitingCount(me), 1, timeoutMs(5000));
        TestHttpClient third(m_f->port);
        third.get("/public/queue/c");
        QVERIFY(m_f->waitWaiting(Waiter::Role::Consumer, 3));
        QCOMPARE(limiter->waitingCount(me), 2);

        // A consumer that received its message frees its slot.
        QCOMPARE(m_f->send("POST", "/u/alice/queue/x", "for the user").status, 200);
        QVERIFY(user.waitForResponse(timeoutMs(5000)));
        m_f->gate->setSettings(limited(0, 1, 3));
        QCOMPARE(m_f->send("POST", "/public/queue/c", "m").status, 200);
        QVERIFY(third.waitForResponse(timeoutMs(5000)));
        QCOMPARE(third.takeResponse().body, QByteArray("m"));
        QTRY_COMPARE_WITH_TIMEOUT(limiter->waitingCount(me), 1, timeoutMs(5000));
        second.abort();
        QTRY_COMPARE_WITH_TIMEOUT(limiter->waitingEntryCount(), 0, timeoutMs(5000));
    }

    // Loopback is a trusted proxy by default: X-Forwarded-For names the client, read from the right.
    void forwardedClients_data()
    {
        QTest::addColumn<HeaderList>("first");
        QTest::addColumn<HeaderList>("sameClient");
        QTest::addColumn<HeaderList>("otherClient");
        QTest::addRow("X-Forwarded-For") << forwardedFor("203.0.113.7") << forwardedFor("203.0.113.7")
                                         << forwardedFor("203.0.113.8");
        QTest::addRow("forged left end ignored") << forwardedFor("1.1.1.1, 203.0.113.7")
                                                 << forwardedFor("2.2.2.2, 203.0.113.7") << forwardedFor("203.0.113.8");
        QTest::addRow("trusted hops skipped")
            << forwardedFor("203.0.113.7, 127.0.0.5") << forwardedFor("203.0.113.7") << forwardedFor("127.0.0.5");
        QTest::addRow("repeated lines are one list")
            << HeaderList{{"X-Forwarded-For", "198.51.100.1"}, {"X-Forwarded-For", "127.0.0.2"}}
            << forwardedFor("198.51.100.1") << forwardedFor("127.0.0.2, 198.51.100.2");
        QTest::addRow("X-Real-IP") << HeaderList{{"X-Real-IP", "192.0.2.5"}} << forwardedFor("192.0.2.5")
                                   << HeaderList{{"X-Real-IP", "192.0.2.6"}};
        QTest::addRow("CF-Connecting-IP")
            << HeaderList{{"CF-Connecting-IP", "192.0.2.9"}} << HeaderList{{"X-Real-IP", "192.0.2.9"}} << HeaderList();
        QTest::addRow("IPv6 by /64") << forwardedFor("2001:db8::1") << forwardedFor("[2001:db8::ffff]:443")
                                     << forwardedFor("2001:db8:0:1::1");
        QTest::addRow("IPv4-mapped") << forwardedFor("::ffff:192.0.2.77") << forwardedFor("192.0.2.77")
                                     << forwardedFor("192.0.2.78");
    }
    void forwardedClients()
    {
        QFETCH(HeaderList, first);
        QFETCH(HeaderList, sameClient);
        QFETCH(HeaderList, otherClient);
        start(limited(1, 1));
        QCOMPARE(publish(first), 200);
        QCOMPARE(publish(sameClient), 429);
        QCOMPARE(publish(otherClient), 200);
    }

    // By default clients on this machine are not limited, while clients behind a trusted proxy are.
    void loopbackExemptByDefault()
    {
        AccessGate::Settings settings = limited(1, 1, 1);
        settings.limitLoopback = false;
        start(settings);
        for (int i = 0; i < 5; ++i) {
            QCOMPARE(publish(), 200);
        }
        QCOMPARE(publish(forwardedFor("203.0.113.9")), 200);
        QCOMPARE(publish(forwardedFor("203.0.113.9")), 429);
        QCOMPARE(publish(forwardedFor("127.0.0.1")), 200);
    }

    // With --trusted-proxy excluding loopback, a loopback peer's forwarding headers are ignored.
    void untrustedPeerHeadersIgnored()
    {
        AccessGate::Settings settings = limited(1, 1);
        settings.trustedProxies = *TrustedProxies::parse({u"10.0.0.0/8"_s});
        start(settings);
        QCOMPARE(publish(forwardedFor("203.0.113.7")), 200);
        QCOMPARE(publish(forwardedFor("203.0.113.8")), 429);
        QCOMPARE(publish(HeaderList{{"X-Real-IP", "192.0.2.5"}}), 429);
        QCOMPARE(publish(), 429);
        // The index page ignores the forwarded scheme and host, too.
        const TestResponse page =
            m_f->get("/", {{"Host", "direct:1"}, {"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "evil.example"}});
        QVERIFY(page.body.contains("http://direct:1/"));
        QVERIFY(!page.body.contains("evil.example"));
    }

    void trustedProxyIndexPage()
    {
        start(limited(1, 1));
        const TestResponse page =
            m_f->get("/", {{"Host", "inner:1"}, {"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "relay.example"}});
        QVERIFY(page.body.contains("https://relay.example/"));
    }

    // Limiters of clients that went quiet are freed.
    void idleLimitersFreed()
    {
        start(limited(1, 2, 5));
        for (const QByteArray address : {"198.51.100.1", "198.51.100.2", "2001:db8::1"}) {
            QCOMPARE(publish(forwardedFor(address)), 200);
        }
        RateLimiter *limiter = m_f->gate->rateLimiter();
        QCOMPARE(limiter->bucketCount(), 3);
        QTRY_COMPARE_WITH_TIMEOUT(limiter->waitingEntryCount(), 0, timeoutMs(5000));
        m_clock.advance(RateLimiter::SweepIntervalMs + 1000);
        QCOMPARE(limiter->bucketCount(), 0);
        QCOMPARE(publish(forwardedFor("198.51.100.1")), 200);
        QCOMPARE(limiter->bucketCount(), 1);
    }
};

QTEST_GUILESS_MAIN(TestAccessLimits)
#include "tst_accesslimits.moc"
