// SPDX-License-Identifier: MIT
// Resource limits over real loopback connections (docs/DECISIONS.md "Hardening: resource limits"):
// the request head deadline, connection limits, the body budget, uploads counted against the waiting
// cap, the per-user waiting cap, accepting again after running out of descriptors, and a user
// configuration that would expand enormously.
#include <QElapsedTimer>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <memory>
#include <vector>

#include <sys/resource.h>

#include "accessfixture.h"
#include "descriptorexhaustion.h"
#include "manualclock.h"

using namespace Patchwork;
using namespace Patchwork::Server;
using namespace Patchwork::Test;
using namespace Qt::StringLiterals;

namespace
{

// Limits that count clients on 127.0.0.1 (exempt by default) and no rate limit.
AccessGate::Settings loopbackLimited(int maxWaiting = 0, int maxWaitingPerUser = 0)
{
    AccessGate::Settings s = unlimitedSettings();
    s.rateLimit.maxWaiting = maxWaiting;
    s.maxWaitingPerUser = maxWaitingPerUser;
    s.limitLoopback = true;
    s.trustedProxies = *TrustedProxies::parse({}); // 127.0.0.1 is not a trusted proxy here
    return s;
}

// CPU time (user + system) this process used so far.
qint64 processCpuMs()
{
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return (qint64(usage.ru_utime.tv_sec) + usage.ru_stime.tv_sec) * 1000
           + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000;
}

QByteArray head(QByteArrayView method, QByteArrayView target, qint64 contentLength)
{
    return method.toByteArray() + ' ' + target.toByteArray()
           + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + QByteArray::number(contentLength) + "\r\n\r\n";
}

} // namespace

class TestResourceLimits final : public QObject
{
    Q_OBJECT

private:
    void start(const AccessGate::Settings &settings, const HttpServer::Limits &limits = {})
    {
        m_f.reset();
        m_f = std::make_unique<AccessFixture>(&m_clock, settings, m_configs.get());
        QVERIFY(m_f->port != 0);
        RelayServer::Settings relaySettings;
        relaySettings.limits = limits;
        m_f->relay->setSettings(relaySettings);
    }
    HttpServer *http() const
    {
        return m_f->relay->httpServer();
    }
    // Opens a connection and waits until the server has it.
    std::unique_ptr<TestHttpClient> connectClient()
    {
        const qsizetype before = http()->connectionCount();
        auto client = std::make_unique<TestHttpClient>(m_f->port);
        QElapsedTimer t;
        t.start();
        while (client->isConnected() && http()->connectionCount() == before && t.elapsed() < timeoutMs(5000)) {
            QTest::qWait(2);
        }
        return client;
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
        // The alias attack of issue 8: 12,000 patterns referenced 1,500 times.
        QByteArray bomb = "shared: &all [/p" + QByteArray(", /p").repeated(11'999) + "]\ntokens:\n";
        for (int t = 0; t < 250; ++t) {
            bomb += "  t" + QByteArray::number(t) + ":\n";
            for (const char *list : {"GET", "POST", "PUT", "DELETE", "PATCH", "huproxy"}) {
                bomb += "    " + QByteArray(list) + ": *all\n";
            }
        }
        writeFile(m_usersDir.path() + u"/mallory/config.yaml"_s, bomb);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"mallory/config.yaml:[0-9]+: .*too large.*"_s));
        m_configs = std::make_unique<DirectoryConfigSource>(m_usersDir.path());
        m_configs->setPollInterval(0); // no directory listing while descriptors are exhausted
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

    void slowHeadIsClosedAtTheDeadline()
    {
        HttpServer::Limits limits;
        limits.headTimeoutMs = 1000;
        start(unlimitedSettings(), limits);
        TestHttpClient client(m_f->port);
        QVERIFY(client.isConnected());
        // One byte every 100 ms: each byte is progress, so only the head deadline ends it.
        const QByteArray request =
            "GET /public/queue/slow HTTP/1.1\r\nHost: t\r\nX-Padding: " + QByteArray(200, 'a') + "\r\n\r\n";
        qsizetype sent = 0;
        QTimer trickle;
        connect(&trickle, &QTimer::timeout, this, [&]() {
            if (sent < request.size() && client.isConnected()) {
                client.send(request.mid(sent++, 1));
            }
        });
        trickle.start(100);
        QElapsedTimer elapsed;
        elapsed.start();
        QVERIFY(client.waitForResponse(timeoutMs(5000)));
        const TestResponse response = client.takeResponse();
        QCOMPARE(response.status, 408);
        QCOMPARE(response.body, "Request timeout: the request head was not complete in time\n");
        QVERIFY2(elapsed.elapsed() >= 900, qPrintable(QString::number(elapsed.elapsed())));
        QVERIFY(sent < request.size());
        QVERIFY(client.waitForDisconnected(timeoutMs(5000)));
    }

    void blankLinesDoNotKeepAConnectionForever()
    {
        HttpServer::Limits limits;
        limits.headTimeoutMs = 1000;
        start(unlimitedSettings(), limits);
        TestHttpClient client(m_f->port);
        QTimer trickle;
        connect(&trickle, &QTimer::timeout, this, [&]() {
            if (client.isConnected()) {
                client.send("\r\n");
            }
        });
        trickle.start(100);
        QVERIFY(client.waitForResponse(timeoutMs(5000)));
        QCOMPARE(client.takeResponse().status, 408);
    }

    void perAddressConnectionLimit()
    {
        HttpServer::Limits limits;
        limits.connections.maxPerIp = 3;
        start(loopbackLimited(), limits);
        std::vector<std::unique_ptr<TestHttpClient>> clients;
        for (int i = 0; i < 3; ++i) {
            clients.push_back(connectClient());
        }
        QCOMPARE(http()->connectionCount(), 3);
        TestHttpClient refused(m_f->port);
        QVERIFY(refused.waitForResponse(timeoutMs(5000)));
        const TestResponse response = refused.takeResponse();
        QCOMPARE(response.status, 503);
        QCOMPARE(response.body, "Too many connections from this address\n");
        QVERIFY(!response.header("Retry-After").isEmpty());
        QVERIFY(refused.waitForDisconnected(timeoutMs(5000)));
        QCOMPARE(http()->connectionCount(), 3);

        // The admitted ones are served; when one closes, a new connection is admitted.
        clients[0]->post("/public/pubsub/x", "m");
        QVERIFY(clients[0]->waitForResponse(timeoutMs(5000)));
        QCOMPARE(clients[0]->takeResponse().status, 200);
        clients[1]->close();
        QTRY_COMPARE_WITH_TIMEOUT(http()->connectionCount(), 2, timeoutMs(5000));
        QCOMPARE(m_f->send("POST", "/public/pubsub/x", "m").status, 200);
    }

    void loopbackIsExemptFromThePerAddressLimitByDefault()
    {
        HttpServer::Limits limits;
        limits.connections.maxPerIp = 2;
        start(unlimitedSettings(), limits);
        std::vector<std::unique_ptr<TestHttpClient>> clients;
        for (int i = 0; i < 10; ++i) {
            clients.push_back(connectClient());
        }
        QCOMPARE(http()->connectionCount(), 10);
        for (auto &client : clients) {
            client->post("/public/pubsub/x", "m");
            QVERIFY(client->waitForResponse(timeoutMs(5000)));
            QCOMPARE(client->takeResponse().status, 200);
        }
    }

    void totalConnectionLimit()
    {
        HttpServer::Limits limits;
        limits.connections.maxTotal = 2;
        start(unlimitedSettings(), limits); // applies to loopback too
        auto first = connectClient();
        auto second = connectClient();
        QCOMPARE(http()->connectionCount(), 2);
        TestHttpClient refused(m_f->port);
        QVERIFY(refused.waitForResponse(timeoutMs(5000)));
        const TestResponse response = refused.takeResponse();
        QCOMPARE(response.status, 503);
        QCOMPARE(response.body, "Too many connections to this server\n");
        first->close();
        QTRY_COMPARE_WITH_TIMEOUT(http()->connectionCount(), 1, timeoutMs(5000));
        QCOMPARE(m_f->send("POST", "/public/pubsub/x", "m").status, 200);
    }

    void bodyBudgetRefusesNewUploads()
    {
        HttpServer::Limits limits;
        limits.maxBufferedBytes = 1000;
        start(unlimitedSettings(), limits);
        // An upload in progress holds its announced length.
        TestHttpClient uploading(m_f->port);
        uploading.send(head("POST", "/public/queue/budget", 800) + QByteArray(10, 'a'));
        QTRY_COMPARE_WITH_TIMEOUT(http()->bodyBudget().used(), 800, timeoutMs(5000));

        TestHttpClient refused(m_f->port);
        refused.send(head("POST", "/public/queue/other", 300));
        QVERIFY(refused.waitForResponse(timeoutMs(5000)));
        TestResponse response = refused.takeResponse();
        QCOMPARE(response.status, 503);
        QCOMPARE(response.header("Retry-After"), "5");
        QCOMPARE(response.body, "Server busy: too many request bodies in memory, retry later\n");
        QVERIFY(refused.waitForDisconnected(timeoutMs(5000)));

        // A chunked body is charged chunk by chunk.
        TestHttpClient chunked(m_f->port);
        chunked.send("POST /public/queue/chunks HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "64\r\n"
                     + QByteArray(100, 'c') + "\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(http()->bodyBudget().used(), 900, timeoutMs(5000));
        chunked.send("c8\r\n");
        QVERIFY(chunked.waitForResponse(timeoutMs(5000)));
        QCOMPARE(chunked.takeResponse().status, 503);
        QTRY_COMPARE_WITH_TIMEOUT(http()->bodyBudget().used(), 800, timeoutMs(5000));

        // The finished producer keeps its charge while it waits, and returns it once delivered.
        uploading.send(QByteArray(790, 'a'));
        QVERIFY(m_f->waitWaiting(Waiter::Role::Producer, 1));
        QCOMPARE(http()->bodyBudget().used(), 800);
        const TestResponse delivered = m_f->get("/public/queue/budget");
        QCOMPARE(delivered.status, 200);
        QCOMPARE(delivered.body.size(), 800);
        QVERIFY(uploading.waitForResponse(timeoutMs(5000)));
        QCOMPARE(uploading.takeResponse().status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(http()->bodyBudget().used(), 0, timeoutMs(5000));
        QCOMPARE(m_f->send("POST", "/public/pubsub/x", QByteArray(300, 'b')).status, 200);
    }

    void uploadsInProgressCountAgainstTheWaitingCap()
    {
        start(loopbackLimited(2));
        // Two half-finished uploads, one of them to a user namespace (credentials come after the body).
        TestHttpClient first(m_f->port);
        first.send(head("POST", "/u/alice/a", 1000) + "x");
        TestHttpClient second(m_f->port);
        second.send(head("POST", "/public/pubsub/b", 1000) + "x");
        const QHostAddress local(QHostAddress::LocalHost);
        QTRY_COMPARE_WITH_TIMEOUT(m_f->gate->rateLimiter()->waitingCount(local), 2, timeoutMs(5000));

        TestHttpClient third(m_f->port);
        third.send(head("POST", "/public/queue/c", 1000) + "x");
        QVERIFY(third.waitForResponse(timeoutMs(5000)));
        const TestResponse response = third.takeResponse();
        QCOMPARE(response.status, 429);
        QCOMPARE(response.body, "Too many waiting requests\n");
        QVERIFY(third.waitForDisconnected(timeoutMs(5000)));

        // A client that leaves mid-upload frees its slot.
        first.abort();
        QTRY_COMPARE_WITH_TIMEOUT(m_f->gate->rateLimiter()->waitingCount(local), 1, timeoutMs(5000));
        // A completed upload trades its upload slot for a waiting one.
        second.send(QByteArray(999, 'x'));
        QVERIFY(second.waitForResponse(timeoutMs(5000)));
        QCOMPARE(second.takeResponse().status, 200); // a publish to nobody: answered at once
        QTRY_COMPARE_WITH_TIMEOUT(m_f->gate->rateLimiter()->waitingCount(local), 0, timeoutMs(5000));
    }

    void userNamespaceWaitingCap()
    {
        start(loopbackLimited(0, 2));
        TestHttpClient first(m_f->port);
        first.get("/u/alice/q1");
        TestHttpClient second(m_f->port);
        second.get("/u/alice/q2");
        QVERIFY(m_f->waitWaiting(Waiter::Role::Consumer, 2));
        const TestResponse refused = m_f->get("/u/alice/q3");
        QCOMPARE(refused.status, 429);
        QCOMPARE(refused.body, "Too many waiting requests for this user\n");
        // Other namespaces are not affected.
        TestHttpClient publicConsumer(m_f->port);
        publicConsumer.get("/public/q");
        QVERIFY(m_f->waitWaiting(Waiter::Role::Consumer, 3));
        // A producer for a waiting consumer does not wait, so it passes; the answered consumer frees
        // its place.
        QCOMPARE(m_f->send("POST", "/u/alice/q1", "m").status, 200);
        QVERIFY(first.waitForResponse(timeoutMs(5000)));
        QCOMPARE(first.takeResponse().body, "m");
        TestHttpClient again(m_f->port);
        again.get("/u/alice/q3");
        QVERIFY(m_f->waitWaiting(Waiter::Role::Consumer, 3));
        QVERIFY(!again.hasResponse());
    }

    void acceptingPausesAndResumesWhenOutOfDescriptors()
    {
        start(unlimitedSettings());
        // Connections before the shortage (with Qt's own accept loop, the "nothing more to accept"
        // they end with made a later EMFILE look temporary: no pause, 100 % CPU).
        QCOMPARE(m_f->send("POST", "/public/pubsub/x", "m").status, 200);
        QCOMPARE(m_f->send("POST", "/public/pubsub/x", "m").status, 200);
        // Their descriptors are closed before the shortage starts, so none frees up during it.
        QTRY_COMPARE_WITH_TIMEOUT(http()->connectionCount(), 0, timeoutMs(5000));
        QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
        {
            // One descriptor left: the client's socket takes it, so the server's accept() fails.
            DescriptorExhaustion exhausted(1);
            QVERIFY(exhausted.isActive());
            QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"accepting a connection failed.*"_s));
            QTcpSocket client;
            client.connectToHost(QHostAddress::LocalHost, m_f->port);
            QVERIFY(client.waitForConnected(timeoutMs(5000)));
            QTRY_VERIFY_WITH_TIMEOUT(http()->isAcceptPaused(), timeoutMs(5000));
            // Paused, not spinning: a second of waiting costs the process little CPU time.
            const qint64 cpuBefore = processCpuMs();
            QTest::qWait(1000);
            QVERIFY2(processCpuMs() - cpuBefore < 300, qPrintable(QString::number(processCpuMs() - cpuBefore)));
            QVERIFY(http()->isAcceptPaused());
            exhausted.release();
            client.write(TestHttpClient::request("POST", "/public/pubsub/x", "m"));
            QTRY_VERIFY_WITH_TIMEOUT(client.bytesAvailable() > 0, timeoutMs(5000));
            QVERIFY(client.readAll().startsWith("HTTP/1.1 200 "));
        }
        QVERIFY(!http()->isAcceptPaused());
        QCOMPARE(m_f->send("POST", "/public/pubsub/x", "m").status, 200);
    }

    void expandingUserConfigIsUnavailable()
    {
        start(unlimitedSettings());
        QElapsedTimer elapsed;
        elapsed.start();
        const TestResponse response = m_f->get("/u/mallory/x?timeout=0.1");
        QCOMPARE(response.status, 503);
        QCOMPARE(response.body, "User configuration unavailable\n");
        QVERIFY(elapsed.elapsed() < 5000);
        // The relay is alive and serves everyone else.
        QCOMPARE(m_f->get("/u/alice/x?timeout=0.1").status, 204);
        QCOMPARE(m_f->send("POST", "/public/pubsub/x", "m").status, 200);
    }
};

QTEST_GUILESS_MAIN(TestResourceLimits)
#include "tst_resourcelimits.moc"
