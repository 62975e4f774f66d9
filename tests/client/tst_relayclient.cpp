// SPDX-License-Identifier: MIT
// Publish and long-poll calls against the real relay (in-process, over loopback), and the request they
// send, seen by a scripted server.
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

#include <memory>

#include "client/relayclient.h"
#include "client/relayreply.h"
#include "relay/relayserver.h"
#include "scriptedhttpserver.h"
#include "testutil.h"
#include "util/clock.h"

using namespace Qt::StringLiterals;
using namespace Patchwork;
using namespace Patchwork::Client;
using namespace Patchwork::Server;
using namespace Patchwork::Test;

class TestRelayClient final : public QObject
{
    Q_OBJECT

private:
    QUrl url(const QString &path) const
    {
        return QUrl(u"http://127.0.0.1:%1%2"_s.arg(m_relay->port()).arg(path));
    }

    static bool finish(RelayReply *reply)
    {
        return reply->isFinished() || QSignalSpy(reply, &RelayReply::finished).wait(timeoutMs(5000));
    }

    bool waitConsumers(qsizetype n)
    {
        return QTest::qWaitFor([this, n]() { return m_relay->hub()->waitingCount(Waiter::Role::Consumer) == n; },
                               timeoutMs(5000));
    }

    SystemClock m_clock;
    std::unique_ptr<RelayServer> m_relay;
    RelayClient m_client;

private Q_SLOTS:
    void init()
    {
        QTest::failOnWarning(QRegularExpression(u".*"_s));
        m_relay = std::make_unique<RelayServer>(&m_clock);
        QVERIFY(m_relay->listen(QHostAddress::LocalHost, 0));
    }
    void cleanup()
    {
        m_relay.reset();
    }

    void publishToAWaitingReceiver()
    {
        std::unique_ptr<RelayReply> received(m_client.receive(url(u"/public/pubsub/chat"_s)));
        QVERIFY(waitConsumers(1));
        std::unique_ptr<RelayReply> published(m_client.publish(
            url(u"/public/pubsub/chat"_s), "{\"hi\":1}", {{"Content-Type"_ba, "application/json"_ba}}));
        QVERIFY(finish(published.get()));
        QCOMPARE(published->status(), 200);
        QCOMPARE(published->errorString(), QString());
        QCOMPARE(published->subscribers(), 1);
        QVERIFY(!published->patchId().isEmpty());
        QVERIFY(finish(received.get()));
        QCOMPARE(received->status(), 200);
        QCOMPARE(received->body(), "{\"hi\":1}"_ba);
        QCOMPARE(received->header("content-type"), "application/json"_ba);
        QCOMPARE(received->patchId(), published->patchId());
        QVERIFY(!received->gap());
        QCOMPARE(received->subscribers(), -1);
    }

    void receiveSince()
    {
        QByteArrayList ids;
        for (int i = 1; i <= 3; ++i) {
            std::unique_ptr<RelayReply> p(m_client.publish(url(u"/public/pubsub/log"_s), "m" + QByteArray::number(i)));
            QVERIFY(finish(p.get()));
            QCOMPARE(p->subscribers(), 0);
            ids.append(p->patchId());
        }
        std::unique_ptr<RelayReply> all(m_client.receive(url(u"/public/pubsub/log"_s), "all"));
        QVERIFY(finish(all.get()));
        QCOMPARE(all->body(), "m1"_ba);
        std::unique_ptr<RelayReply> next(m_client.receive(url(u"/public/pubsub/log"_s), ids.at(1)));
        QVERIFY(finish(next.get()));
        QCOMPARE(next->body(), "m3"_ba);
        QCOMPARE(next->patchId(), ids.at(2));
        std::unique_ptr<RelayReply> gone(m_client.receive(url(u"/public/pubsub/log"_s), "no-such-id"));
        QVERIFY(finish(gone.get()));
        QVERIFY(gone->gap());
    }

    void receiveTimeout()
    {
        std::unique_ptr<RelayReply> r(m_client.receive(url(u"/public/pubsub/quiet"_s), {}, 0.2));
        QVERIFY(finish(r.get()));
        QCOMPARE(r->status(), 204);
        QCOMPARE(r->errorString(), QString());
    }

    void errors()
    {
        std::unique_ptr<RelayReply> notFound(m_client.publish(url(u"/nowhere"_s), "x"));
        QVERIFY(finish(notFound.get()));
        QCOMPARE(notFound->status(), 404);
        QCOMPARE(notFound->errorString(), u"Not found"_s);

        QTcpServer closed;
        QVERIFY(closed.listen(QHostAddress::LocalHost, 0));
        const quint16 port = closed.serverPort();
        closed.close();
        std::unique_ptr<RelayReply> refused(m_client.publish(QUrl(u"http://127.0.0.1:%1/public/x"_s.arg(port)), "x"));
        QVERIFY(finish(refused.get()));
        QCOMPARE(refused->status(), 0);
        QVERIFY(!refused->errorString().isEmpty());
    }

    void deletingAReplyLeavesTheChannel()
    {
        std::unique_ptr<RelayReply> r(m_client.receive(url(u"/public/queue/jobs"_s)));
        QVERIFY(waitConsumers(1));
        r.reset();
        QVERIFY(waitConsumers(0));
    }

    void requestOnTheWire()
    {
        ScriptedHttpServer server;
        QVERIFY(server.listen());
        server.enqueue(ScriptedHttpServer::response(200, {}, {{"Patch-Id"_ba, "i1"_ba}}));
        server.enqueue(ScriptedHttpServer::response(204));
        std::unique_ptr<RelayReply> p(m_client.publish(
            server.url(u"/u/alice/pubsub/x"_s), "body", {{"Patch-H-Title"_ba, "Hello"_ba}}, u"s3cret"_s));
        QVERIFY(finish(p.get()));
        QCOMPARE(p->patchId(), "i1"_ba);
        std::unique_ptr<RelayReply> r(m_client.receive(server.url(u"/u/alice/pubsub/x"_s), "10m", 2.5));
        QVERIFY(finish(r.get()));
        QCOMPARE(server.requests.size(), 2);
        const ScriptedHttpServer::Request &post = server.requests.at(0);
        QCOMPARE(post.method, "POST"_ba);
        QCOMPARE(post.target, "/u/alice/pubsub/x"_ba);
        QCOMPARE(post.header("Authorization"), "Bearer s3cret"_ba);
        QCOMPARE(post.header("Content-Type"), "text/plain"_ba);
        QCOMPARE(post.header("Patch-H-Title"), "Hello"_ba);
        const ScriptedHttpServer::Request &get = server.requests.at(1);
        QCOMPARE(get.method, "GET"_ba);
        QCOMPARE(get.target, "/u/alice/pubsub/x?since=10m&timeout=2.5"_ba);
        QCOMPARE(get.header("Authorization"), QByteArray());
    }
};

QTEST_GUILESS_MAIN(TestRelayClient)
#include "tst_relayclient.moc"
