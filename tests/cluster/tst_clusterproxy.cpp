// SPDX-License-Identifier: MIT
// Three patchworkd processes behind HAProxy with installer/cluster/haproxy.cfg on loopback (issue 15): the
// parties of a channel meet whichever way they come, a prefix responder serves its requesters, the
// nodes never see a misdirected request, a node killed with SIGKILL is replaced by its backup within a
// second while the other nodes go on unharmed and takes its slots back after a restart, SIGTERM answers a
// node's waiters 503 through the proxy, and the proxy's per-client rate limit answers 429.
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <array>
#include <memory>
#include <numeric>

#include "haproxyprocess.h"
#include "nodeprocess.h"
#include "testhttpclient.h"
#include "testutil.h"

using namespace Patchwork;
using namespace Patchwork::Test;

class TestClusterProxy final : public QObject
{
    Q_OBJECT

private:
    bool startProxy(HaproxyProcess &proxy, quint16 port, int ratePer10s)
    {
        QString error;
        if (!proxy.startCluster(
                port, {m_nodes[0]->port(), m_nodes[1]->port(), m_nodes[2]->port()}, ratePer10s, &error)) {
            qWarning("%s", qPrintable(error));
            return false;
        }
        return true;
    }
    TestResponse viaProxy(QByteArrayView method, QByteArrayView target, const QByteArray &body = {})
    {
        return fetch(m_proxyPort, method, target, body);
    }
    // The node that answers `target` (a request with ?timeout=, so that it returns).
    QByteArray ownerOf(QByteArrayView target)
    {
        return viaProxy("GET", target).header("Patch-Node");
    }
    // A channel of the public namespace whose owner is `node` (or, with `owned` false, is not).
    QByteArray channelOwnedBy(const QByteArray &node, const QByteArray &prefix, bool owned = true)
    {
        for (int i = 0; i < 200; ++i) {
            const QByteArray channel = prefix + QByteArray::number(i);
            const QByteArray owner = ownerOf(QByteArray("/p/" + channel + "?timeout=0.01"));
            if (!owner.isEmpty() && (owner == node) == owned) {
                return channel;
            }
        }
        return {};
    }
    // A channel of the public namespace whose owner is not `node`.
    QByteArray channelNotOwnedBy(const QByteArray &node, const QByteArray &prefix)
    {
        return channelOwnedBy(node, prefix, false);
    }
    // Waits until `target` is answered by `node`; the time it took, or -1.
    qint64 waitForOwner(QByteArrayView target, const QByteArray &node)
    {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < timeoutMs(10000)) {
            if (ownerOf(target) == node) {
                return t.elapsed();
            }
            QTest::qWait(20);
        }
        return -1;
    }

    // Parties of `role` waiting on all nodes.
    int waiting(QByteArrayView role)
    {
        return std::accumulate(
            m_nodes.cbegin(), m_nodes.cend(), 0, [role](int n, const auto &node) { return n + node->waiting(role); });
    }

    QTemporaryDir m_dir;
    std::array<std::unique_ptr<NodeProcess>, 3> m_nodes;
    HaproxyProcess m_proxy;
    quint16 m_proxyPort = 0;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_proxyPort = HaproxyProcess::freePort();
        for (size_t i = 0; i < m_nodes.size(); ++i) {
            const QByteArray id = "n" + QByteArray::number(qsizetype(i + 1));
            m_nodes.at(i) = std::make_unique<NodeProcess>(
                id, HaproxyProcess::freePort(), m_dir.filePath(QString::fromLatin1(id)), m_proxyPort);
            QVERIFY2(m_nodes.at(i)->start(), id.constData());
        }
        QVERIFY(startProxy(m_proxy, m_proxyPort, 1'000'000));
    }

    // Each channel lives on one node: a consumer and a producer that come through the proxy meet, and
    // keys spread over all nodes.
    void partiesMeet()
    {
        QSet<QByteArray> nodes;
        for (int i = 0; i < 24; ++i) {
            const QByteArray channel = "/p/queue/meet" + QByteArray::number(i);
            TestHttpClient consumer(m_proxyPort);
            consumer.get(channel);
            const TestResponse produced = viaProxy("POST", channel, "m" + QByteArray::number(i));
            QCOMPARE(produced.status, 200);
            QVERIFY(consumer.waitForResponse(timeoutMs(5000)));
            const TestResponse consumed = consumer.takeResponse();
            QCOMPARE(consumed.status, 200);
            QCOMPARE(consumed.body, "m" + QByteArray::number(i));
            QCOMPARE(consumed.header("Patch-Node"), produced.header("Patch-Node"));
            nodes.insert(produced.header("Patch-Node"));
        }
        QCOMPARE(nodes.size(), 3);
    }

    // The longest prefix wins on one node: the responders of api and api/users meet their requesters
    // and GET responders reply through the proxy.
    void prefixResponders()
    {
        TestHttpClient shorter(m_proxyPort);
        shorter.get("/p/res/api");
        TestHttpClient longer(m_proxyPort);
        longer.get("/p/res/api/users");
        QTRY_COMPARE_WITH_TIMEOUT(waiting("responder"), 2, timeoutMs(5000));
        TestHttpClient requester(m_proxyPort);
        requester.get("/p/req/api/users/7");
        QVERIFY(longer.waitForResponse(timeoutMs(5000)));
        const TestResponse request = longer.takeResponse();
        QCOMPARE(request.header("Patch-Uri"), QByteArray("/api/users/7"));
        QVERIFY(!shorter.hasResponse());
        const TestResponse reply =
            viaProxy("POST", QByteArray("/p/res/api/users?reply=" + request.header("Patch-Request-Id")), "user 7");
        QCOMPARE(reply.status, 200);
        QVERIFY(requester.waitForResponse(timeoutMs(5000)));
        QCOMPARE(requester.takeResponse().body, QByteArray("user 7"));
    }

    // A double clutch whose switch channel another node owns: the requester's node fetches the reply
    // there (--cluster-url), with the producer's Patch-Status and Patch-H-* unchanged; the producer gets
    // 200 once it is fetched. A fetch without the right signature is refused.
    void remoteSwitch()
    {
        const QByteArray requesterNode = ownerOf("/p/req/clutch?timeout=0.01");
        const QByteArray channel = channelNotOwnedBy(requesterNode, "switch");
        QVERIFY(!requesterNode.isEmpty() && !channel.isEmpty());

        TestHttpClient requester(m_proxyPort);
        requester.get("/p/req/clutch/job?x=1");
        TestHttpClient responder(m_proxyPort);
        responder.post("/p/res/clutch?switch=true", channel);
        QVERIFY(responder.waitForResponse(timeoutMs(5000)));
        const TestResponse request = responder.takeResponse();
        QCOMPARE(request.status, 200);
        QCOMPARE(request.header("Patch-Uri"), QByteArray("/clutch/job?x=1"));
        QTRY_COMPARE_WITH_TIMEOUT(waiting("consumer"), 1, timeoutMs(5000)); // the fetch, on the other node

        const TestResponse produced = fetch(m_proxyPort,
                                            "POST",
                                            QByteArray("/p/" + channel),
                                            "the answer",
                                            {{"Patch-Status", "201"}, {"Patch-H-X-Answer", "42"}});
        QCOMPARE(produced.status, 200);
        QVERIFY(produced.header("Patch-Node") != requesterNode);
        QVERIFY(requester.waitForResponse(timeoutMs(5000)));
        const TestResponse reply = requester.takeResponse();
        QCOMPARE(reply.status, 201);
        QCOMPARE(reply.body, QByteArray("the answer"));
        QCOMPARE(reply.header("X-Answer"), QByteArray("42"));
        QCOMPARE(reply.header("Patch-Node"), requesterNode);
        QCOMPARE(waiting("consumer"), 0);

        const TestResponse forged =
            fetch(m_proxyPort, "GET", QByteArray("/p/" + channel), {}, {{"Patch-Switch", QByteArray(64, '0')}});
        QCOMPARE(forged.status, 403);
        QCOMPARE(forged.body, QByteArray("Invalid switch signature\n"));
    }

    // A requester that gives up while its node fetches the reply elsewhere: the fetch ends, its consumer on
    // the other node withdraws, and the requester's node lives on (it once crashed here, after the fetch's
    // retry interval, from a timer started while the fetch was being destroyed).
    void remoteSwitchAbandoned()
    {
        const QByteArray requesterNode = ownerOf("/p/req/gone?timeout=0.01");
        const QByteArray channel = channelNotOwnedBy(requesterNode, "gone-switch");
        QVERIFY(!requesterNode.isEmpty() && !channel.isEmpty());
        TestHttpClient requester(m_proxyPort);
        requester.get("/p/req/gone?timeout=0.5");
        const TestResponse taken = fetch(m_proxyPort, "POST", "/p/res/gone?switch=true", channel);
        QCOMPARE(taken.status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(waiting("consumer"), 1, timeoutMs(5000));
        QVERIFY(requester.waitForResponse(timeoutMs(5000)));
        QCOMPARE(requester.takeResponse().status, 504);
        QTRY_COMPARE_WITH_TIMEOUT(waiting("consumer"), 0, timeoutMs(5000));
        QTest::qWait(timeoutMs(1000)); // past the fetch's retry interval (500 ms)
        for (const auto &node : m_nodes) {
            QCOMPARE(fetch(node->port(), "GET", "/healthz").status, 200);
        }
    }

    // A consumer that closes its connection while it waits leaves the node's queue at once (the proxy
    // aborts the request, option abortonclose): the next message goes to the next consumer, not to it.
    void consumerLeavesThroughProxy()
    {
        TestHttpClient leaving(m_proxyPort);
        leaving.get("/p/queue/leave");
        QTRY_COMPARE_WITH_TIMEOUT(waiting("consumer"), 1, timeoutMs(5000));
        leaving.close();
        QTRY_COMPARE_WITH_TIMEOUT(waiting("consumer"), 0, timeoutMs(5000));
        TestHttpClient staying(m_proxyPort);
        staying.get("/p/queue/leave");
        QTRY_COMPARE_WITH_TIMEOUT(waiting("consumer"), 1, timeoutMs(5000));
        QCOMPARE(fetch(m_proxyPort, "POST", "/p/queue/leave", "kept").status, 200);
        QVERIFY(staying.waitForResponse(timeoutMs(5000)));
        QCOMPARE(staying.takeResponse().body, QByteArray("kept"));
    }

    // A client's own Patch-Shard is replaced by the proxy's: the node never answers 421.
    void clientShardIgnored()
    {
        const TestResponse r = fetch(m_proxyPort, "GET", "/p/queue/own?timeout=0.01", {}, {{"Patch-Shard", "u/x"}});
        QCOMPARE(r.status, 204);
    }

    // SIGKILL: the node's slots go to their backup within a second, other nodes' channels keep working
    // meanwhile; after a restart the node takes them back and the backup's waiters are moved back.
    void killAndRestart()
    {
        NodeProcess &victim = *m_nodes.at(2); // n3, backed up by n1
        const QByteArray victimChannel = channelOwnedBy(victim.id(), "kill");
        const QByteArray otherChannel = channelOwnedBy("n2", "other");
        QVERIFY(!victimChannel.isEmpty() && !otherChannel.isEmpty());
        const QByteArray victimTarget = "/p/" + victimChannel + "?timeout=0.01";

        TestHttpClient orphan(m_proxyPort);
        orphan.get(QByteArray("/p/" + victimChannel));
        QTRY_COMPARE_WITH_TIMEOUT(waiting("consumer"), 1, timeoutMs(5000));
        victim.kill();
        QElapsedTimer sinceKill;
        sinceKill.start();
        // The consumer on the dead node learns it from the proxy; it never gets a 200.
        QVERIFY(orphan.waitForResponse(timeoutMs(5000)));
        const TestResponse lost = orphan.takeResponse();
        QCOMPARE(lost.status, 502);
        QCOMPARE(lost.body, QByteArray("Bad gateway: the node did not answer\n"));
        const qint64 failover = waitForOwner(victimTarget, "n1");
        QVERIFY2(failover >= 0, "the backup never took over");
        QVERIFY2(sinceKill.elapsed() < timeoutMs(2500), qPrintable(QString::number(sinceKill.elapsed())));
        for (int i = 0; i < 20; ++i) {
            QCOMPARE(viaProxy("GET", QByteArray("/p/" + otherChannel + "?timeout=0.01")).status, 204);
        }

        // A waiter on the backup is moved back when the owner returns.
        TestHttpClient onBackup(m_proxyPort);
        onBackup.get(QByteArray("/p/" + victimChannel));
        QTRY_COMPARE_WITH_TIMEOUT(waiting("consumer"), 1, timeoutMs(5000));
        QVERIFY(victim.start());
        QVERIFY(waitForOwner(victimTarget, victim.id()) >= 0);
        QVERIFY(onBackup.waitForResponse(timeoutMs(5000)));
        QCOMPARE(onBackup.takeResponse().status, 502);
    }

    // SIGTERM: the node's waiters get 503 through the proxy, never a false 200.
    void terminateAnswers503()
    {
        NodeProcess &node = *m_nodes.at(1);
        const QByteArray produced = channelOwnedBy(node.id(), "term");
        const QByteArray consumed = channelOwnedBy(node.id(), "idle");
        QVERIFY(!produced.isEmpty() && !consumed.isEmpty());
        TestHttpClient producer(m_proxyPort);
        producer.post(QByteArray("/p/" + produced), "undelivered");
        TestHttpClient consumer(m_proxyPort);
        consumer.get(QByteArray("/p/" + consumed));
        QTRY_COMPARE_WITH_TIMEOUT(waiting("producer"), 1, timeoutMs(5000));
        QTRY_COMPARE_WITH_TIMEOUT(waiting("consumer"), 1, timeoutMs(5000));
        QVERIFY(node.terminate());
        for (TestHttpClient *c : {&producer, &consumer}) {
            QVERIFY(c->waitForResponse(timeoutMs(5000)));
            const TestResponse r = c->takeResponse();
            QCOMPARE(r.status, 503);
            QCOMPARE(r.body, QByteArray("Server shutting down\n"));
        }
        QVERIFY(node.start());
    }

    // The proxy's per-client limit (IPv4 per address, IPv6 per /64): 429 with a one-line reason.
    void rateLimit()
    {
        HaproxyProcess limited;
        const quint16 port = HaproxyProcess::freePort();
        QVERIFY(startProxy(limited, port, 5));
        int refused = 0;
        for (int i = 0; i < 8; ++i) {
            const TestResponse r = fetch(port, "GET", "/healthz");
            if (r.status == 429) {
                ++refused;
                QCOMPARE(r.body, QByteArray("Rate limit exceeded\n"));
                QCOMPARE(r.header("Retry-After"), QByteArray("10"));
            } else {
                QCOMPARE(r.status, 200);
            }
        }
        QCOMPARE(refused, 3);
    }
};

QTEST_GUILESS_MAIN(TestClusterProxy)
#include "tst_clusterproxy.moc"
