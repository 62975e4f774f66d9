// SPDX-License-Identifier: MIT
// Integration tests: the real relay on a loopback port, driven by real sockets (PROTOCOL §1–§6, §13, §14).
#include <QSignalSpy>
#include <QTest>

#include <future>
#include <memory>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/httpconnection.h"
#include "http/httpserver.h"
#include "hubwait.h"
#include "relay/relayserver.h"
#include "testhttpclient.h"
#include "testutil.h"
#include "util/clock.h"

using namespace Patchwork;
using namespace Patchwork::Server;
using namespace Patchwork::Test;

namespace
{

// A blocking client on its own thread: sends `head` and `bodySize` bytes, then reads until the server
// closes. A send error ends the request, as in curl: the result is then empty.
QByteArray blockingUpload(quint16 port, QByteArray head, qsizetype bodySize)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    QByteArray answer;
    if (::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof addr) == 0) {
        const QByteArray block(64 * 1024, 'x');
        bool ok = ::send(fd, head.constData(), size_t(head.size()), MSG_NOSIGNAL) == head.size();
        for (qsizetype sent = 0; ok && sent < bodySize; sent += block.size()) {
            ok = ::send(fd, block.constData(), size_t(block.size()), MSG_NOSIGNAL) == block.size();
        }
        char buf[4096];
        for (ssize_t n = 1; ok && n > 0;) {
            n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0) {
                answer.append(buf, n);
            }
        }
    }
    ::close(fd);
    return answer;
}

} // namespace

class TestRelayServer final : public QObject
{
    Q_OBJECT

private:
    void startServer(const RelayServer::Settings &settings = {})
    {
        m_relay = std::make_unique<RelayServer>(&m_clock);
        m_relay->setSettings(settings);
        QVERIFY(m_relay->listen(QHostAddress::LocalHost, 0));
        m_port = m_relay->port();
    }
    TestResponse get(QByteArrayView target, const HeaderList &headers = {})
    {
        return fetch(m_port, "GET", target, {}, headers);
    }
    // Waits until the engine has `n` waiting parties of `role`.
    bool waitWaiting(Waiter::Role role, qsizetype n)
    {
        return waitForWaiting(m_relay->hub(), role, n);
    }
    void verifyStillServing()
    {
        const TestResponse r = get("/healthz");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, QByteArray("OK!\n"));
    }

    SystemClock m_clock;
    std::unique_ptr<RelayServer> m_relay;
    quint16 m_port = 0;

private Q_SLOTS:
    void init()
    {
        startServer();
    }
    void cleanup()
    {
        m_relay.reset();
    }

    void staticRoutes_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("contentType");
        QTest::addRow("healthz") << QByteArray("GET") << QByteArray("/healthz") << 200 << QByteArray("text/plain");
        QTest::addRow("status") << QByteArray("GET") << QByteArray("/status") << 200 << QByteArray("text/plain");
        QTest::addRow("index") << QByteArray("GET") << QByteArray("/") << 200 << QByteArray("text/html");
        QTest::addRow("client") << QByteArray("GET") << QByteArray("/patchwork.sh") << 200
                                << QByteArray("text/x-shellscript");
        QTest::addRow("static client") << QByteArray("GET") << QByteArray("/static/patchwork.sh") << 200
                                       << QByteArray("text/x-shellscript");
        QTest::addRow("favicon") << QByteArray("GET") << QByteArray("/favicon.ico") << 200
                                 << QByteArray("image/svg+xml");
        QTest::addRow("well-known") << QByteArray("GET") << QByteArray("/.well-known/security.txt") << 404
                                    << QByteArray("text/plain");
        QTest::addRow("robots") << QByteArray("GET") << QByteArray("/robots.txt") << 404 << QByteArray("text/plain");
        QTest::addRow("unknown") << QByteArray("GET") << QByteArray("/nothing/here") << 404 << QByteArray("text/plain");
        QTest::addRow("empty public path")
            << QByteArray("GET") << QByteArray("/public/") << 404 << QByteArray("text/plain");
        QTest::addRow("reserved outside users")
            << QByteArray("GET") << QByteArray("/public/_/x") << 404 << QByteArray("text/plain");
        QTest::addRow("static template") << QByteArray("GET") << QByteArray("/static/index.html") << 404
                                         << QByteArray("text/plain");
        QTest::addRow("delete on queue") << QByteArray("DELETE") << QByteArray("/public/queue/x") << 405
                                         << QByteArray("text/plain");
        QTest::addRow("head on queue") << QByteArray("HEAD") << QByteArray("/public/queue/x") << 405
                                       << QByteArray("text/plain");
        QTest::addRow("invalid timeout") << QByteArray("GET") << QByteArray("/public/queue/x?timeout=abc") << 400
                                         << QByteArray("text/plain");
        QTest::addRow("zero timeout") << QByteArray("GET") << QByteArray("/public/queue/x?timeout=0") << 400
                                      << QByteArray("text/plain");
        QTest::addRow("huge timeout") << QByteArray("GET") << QByteArray("/public/queue/x?timeout=86401") << 400
                                      << QByteArray("text/plain");
        QTest::addRow("empty req id") << QByteArray("GET") << QByteArray("/public/req/") << 400
                                      << QByteArray("text/plain");
        QTest::addRow("switch with GET") << QByteArray("GET") << QByteArray("/public/res/x?switch=true") << 405
                                         << QByteArray("text/plain");
    }
    void staticRoutes()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        QFETCH(int, status);
        QFETCH(QByteArray, contentType);
        const TestResponse r = fetch(m_port, method, target);
        QCOMPARE(r.status, status);
        QVERIFY2(r.header("Content-Type").startsWith(contentType), r.header("Content-Type").constData());
        QCOMPARE(r.header("Access-Control-Allow-Origin"), QByteArray("*"));
        if (status == 405) {
            QVERIFY(!r.header("Allow").isEmpty());
        }
        if (status >= 400 && method != "HEAD") {
            QVERIFY(r.body.endsWith('\n'));
            QCOMPARE(r.body.count('\n'), 1);
        }
    }

    void errorTexts()
    {
        QCOMPARE(get("/public/queue/x?timeout=-1").body, QByteArray("Invalid timeout\n"));
        QCOMPARE(get("/public/req/").body, QByteArray("Channel ID required\n"));
        QCOMPARE(get("/public/res/x?switch=1").body, QByteArray("Switch mode requires POST or PUT method\n"));
        QCOMPARE(get("/nope").body, QByteArray("Not found\n"));
    }

    void indexShowsOwnUrl()
    {
        TestResponse r = get("/", {{"Host", "relay.example:9000"}});
        QVERIFY(r.body.contains("http://relay.example:9000/public/queue/jobs"));
        // Forwarding headers count from a trusted (loopback) proxy.
        r = get("/", {{"Host", "internal:1"}, {"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "patch.example"}});
        QVERIFY(r.body.contains("https://patch.example/public/"));
        QVERIFY(!get("/", {{"Host", "<script>"}}).body.contains("<script>"));
    }

    void options()
    {
        const TestResponse r = fetch(m_port, "OPTIONS", "/public/req/x");
        QCOMPARE(r.status, 204);
        QVERIFY(r.header("Access-Control-Allow-Methods").contains("POST"));
        QCOMPARE(r.header("Access-Control-Allow-Headers"), QByteArray("*"));
        QCOMPARE(r.header("Access-Control-Max-Age"), QByteArray("86400"));
    }

    void queueConsumerFirst()
    {
        TestHttpClient consumer(m_port);
        consumer.get("/public/queue/jobs");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
        TestHttpClient producer(m_port);
        producer.post("/public/queue/jobs?token=secret1&x=1", "job 1", {{"Content-Type", "application/json"}});
        QVERIFY(consumer.waitForResponse());
        const TestResponse got = consumer.takeResponse();
        QCOMPARE(got.status, 200);
        QCOMPARE(got.body, QByteArray("job 1"));
        QCOMPARE(got.header("Content-Type"), QByteArray("application/json"));
        QCOMPARE(got.header("Patch-Uri"), QByteArray("/public/queue/jobs?x=1"));
        QVERIFY(producer.waitForResponse());
        QCOMPARE(producer.takeResponse().status, 200);
        QCOMPARE(m_relay->hub()->channelCount(), 0);
    }

    void queueProducerFirstAndFifo()
    {
        QList<std::shared_ptr<TestHttpClient>> producers;
        for (int i = 0; i < 3; ++i) {
            auto p = std::make_shared<TestHttpClient>(m_port);
            p->post("/p/queue/fifo", "m" + QByteArray::number(i));
            QVERIFY(waitWaiting(Waiter::Role::Producer, i + 1));
            producers.append(p);
        }
        for (int i = 0; i < 3; ++i) {
            // /public and /p are the same channels.
            const TestResponse r = get("/public/queue/fifo");
            QCOMPARE(r.body, "m" + QByteArray::number(i));
            QCOMPARE(r.header("Content-Type"), QByteArray("text/plain"));
            QVERIFY(producers[i]->waitForResponse());
            QCOMPARE(producers[i]->takeResponse().status, 200);
        }
    }

    void consumersFifo()
    {
        QList<std::shared_ptr<TestHttpClient>> consumers;
        for (int i = 0; i < 3; ++i) {
            auto c = std::make_shared<TestHttpClient>(m_port);
            c->get("/public/queue/line");
            QVERIFY(waitWaiting(Waiter::Role::Consumer, i + 1));
            consumers.append(c);
        }
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(fetch(m_port, "POST", "/public/queue/line", "n" + QByteArray::number(i)).status, 200);
            QVERIFY(consumers[i]->waitForResponse());
            QCOMPARE(consumers[i]->takeResponse().body, "n" + QByteArray::number(i));
        }
    }

    void producerWithdrawsWhenItLeaves()
    {
        {
            TestHttpClient producer(m_port);
            producer.post("/public/queue/w", "never");
            QVERIFY(waitWaiting(Waiter::Role::Producer, 1));
            producer.abort();
        }
        QVERIFY(waitWaiting(Waiter::Role::Producer, 0));
        QCOMPARE(get("/public/queue/w?timeout=0.2").status, 204);
    }

    void consumerLeavesWhileWaiting()
    {
        {
            TestHttpClient consumer(m_port);
            consumer.get("/public/queue/c");
            QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
            consumer.abort();
        }
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 0));
        TestHttpClient producer(m_port);
        producer.post("/public/queue/c?timeout=0.3", "x");
        QVERIFY(producer.waitForResponse());
        const TestResponse r = producer.takeResponse();
        QCOMPARE(r.status, 504);
        QCOMPARE(r.body, QByteArray("No consumer within timeout\n"));
    }

    // A consumer that never reads a large body and then vanishes must not count as a delivery: the
    // message goes to the next consumer and only then does the producer get 200.
    void requeueWhenConsumerDropsMidTransfer()
    {
        const QByteArray big(32 * 1024 * 1024, 'z');
        auto stuck = std::make_unique<TestHttpClient>(m_port);
        stuck->socket()->setReadBufferSize(1024);
        disconnect(stuck->socket(), nullptr, stuck.get(), nullptr); // never reads
        stuck->get("/public/queue/big");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
        TestHttpClient producer(m_port);
        producer.post("/public/queue/big", big);
        QTRY_COMPARE_WITH_TIMEOUT(m_relay->hub()->inFlightCount(), 1, timeoutMs(10000));
        // A barrier: once a later request was answered, a 200 written to the producer when the transfer
        // started would be in its socket too.
        verifyStillServing();
        producer.socket()->waitForReadyRead(0);
        QVERIFY(!producer.hasResponse());
        stuck->abort();
        stuck.reset();
        TestHttpClient next(m_port);
        next.get("/public/queue/big");
        QVERIFY(next.waitForResponse(20000));
        QCOMPARE(next.takeResponse().body.size(), big.size());
        QVERIFY(producer.waitForResponse(20000));
        QCOMPARE(producer.takeResponse().status, 200);
    }

    void timeouts()
    {
        QElapsedTimer t;
        t.start();
        TestResponse r = get("/public/queue/t?timeout=0.2");
        QCOMPARE(r.status, 204);
        QVERIFY(t.elapsed() >= 150);
        r = fetch(m_port, "GET", "/public/req/t?timeout=0.2");
        QCOMPARE(r.status, 504);
        QCOMPARE(r.body, QByteArray("No responder within timeout\n"));
        QCOMPARE(get("/public/res/t?timeout=0.2").status, 204);
    }

    void pubsubFanOut()
    {
        QList<std::shared_ptr<TestHttpClient>> subs;
        for (int i = 0; i < 5; ++i) {
            auto s = std::make_shared<TestHttpClient>(m_port);
            s->get(i % 2 ? "/public/pubsub/news" : "/p/pubsub/news");
            subs.append(s);
        }
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 5));
        const TestResponse pub = fetch(m_port, "POST", "/public/pubsub/news", "extra");
        QCOMPARE(pub.status, 200);
        QCOMPARE(pub.header("Patch-Subscribers"), QByteArray("5"));
        const QByteArray id = pub.header("Patch-Id");
        QVERIFY(!id.isEmpty());
        for (const auto &s : subs) {
            QVERIFY(s->waitForResponse());
            const TestResponse r = s->takeResponse();
            QCOMPARE(r.body, QByteArray("extra"));
            QCOMPARE(r.header("Patch-Id"), id);
            QVERIFY(!r.header("Patch-Time").isEmpty());
        }
        const TestResponse none = fetch(m_port, "POST", "/public/pubsub/news", "lost");
        QCOMPARE(none.header("Patch-Subscribers"), QByteArray("0"));
    }

    // The serialised fan-out response is shared by every subscriber; once they all have it, the relay
    // keeps no reference to the body (it did until the next publish).
    void fanOutBodyReleased()
    {
        cleanup();
        RelayServer::Settings s;
        s.hub.replay.count = 0; // the replay buffer would keep it, by design
        startServer(s);
        TestHttpClient a(m_port);
        TestHttpClient b(m_port);
        a.get("/public/pubsub/big");
        b.get("/public/pubsub/big");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 2));
        const QByteArray body(1024 * 1024, 'b');
        auto producer = std::make_unique<Waiter>(Waiter::Role::Producer, "public/pubsub/big");
        Message m;
        m.body = body;
        producer->setMessage(m);
        m = {};
        producer->setMode(Waiter::Mode::Pubsub);
        m_relay->hub()->submit(producer.get());
        for (TestHttpClient *c : {&a, &b}) {
            QVERIFY(c->waitForResponse(timeoutMs(5000)));
            QCOMPARE(c->takeResponse().body.size(), body.size());
        }
        QTRY_VERIFY_WITH_TIMEOUT(producer->isAnswered(), timeoutMs(5000));
        producer.reset();
        QTRY_VERIFY_WITH_TIMEOUT(body.isDetached(), timeoutMs(5000));
    }

    void flexibleModes()
    {
        TestHttpClient a(m_port);
        TestHttpClient b(m_port);
        a.get("/public/room");
        b.get("/public/./room?pubsub=true");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 2));
        // GET ?body= publishes; ?pubsub=true reaches both plain and ?pubsub consumers.
        const TestResponse pub = get("/public/room?pubsub=true&body=hello%20all");
        QCOMPARE(pub.header("Patch-Subscribers"), QByteArray("2"));
        QVERIFY(a.waitForResponse());
        QVERIFY(b.waitForResponse());
        QCOMPARE(a.takeResponse().body, QByteArray("hello all"));
        QCOMPARE(b.takeResponse().body, QByteArray("hello all"));
        // ?pubsub=false is queue: the producer waits.
        TestHttpClient c(m_port);
        c.get("/public/room");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
        const TestResponse q = fetch(m_port, "POST", "/public/room?pubsub=false", "one");
        QCOMPARE(q.status, 200);
        QVERIFY(q.header("Patch-Subscribers").isEmpty());
        QVERIFY(c.waitForResponse());
    }

    void carriedHeaders()
    {
        TestHttpClient consumer(m_port);
        consumer.get("/public/queue/h");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
        const TestResponse p = fetch(m_port,
                                     "POST",
                                     "/public/queue/h?secret=s&a=b",
                                     "{}",
                                     {{"User-Agent", "agent/1"},
                                      {"Referer", "http://ref"},
                                      {"X-Not-Carried", "1"},
                                      {"Patch-H-X-Trace", "one"},
                                      {"Patch-H-X-Trace", "two"},
                                      {"Patch-H-User-Agent", "override"},
                                      {"Patch-H-Content-Type", "application/x-custom"},
                                      {"Patch-H-Connection", "close"},
                                      {"Patch-H-Set-Cookie", "a=b"},
                                      {"Patch-H-Access-Control-Allow-Origin", "evil"},
                                      {"Patch-H-Content-Length", "999"}});
        QCOMPARE(p.status, 200);
        QVERIFY(consumer.waitForResponse());
        const TestResponse r = consumer.takeResponse();
        QCOMPARE(r.body, QByteArray("{}"));
        QCOMPARE(r.header("Content-Type"), QByteArray("application/x-custom"));
        QCOMPARE(r.headerValues("Content-Type").size(), 1);
        QCOMPARE(r.header("User-Agent"), QByteArray("override"));
        QCOMPARE(r.header("Referer"), QByteArray("http://ref"));
        QCOMPARE(r.headerValues("X-Trace"), (QList<QByteArray>{"one", "two"}));
        QCOMPARE(r.header("Patch-Uri"), QByteArray("/public/queue/h?a=b"));
        QVERIFY(r.header("X-Not-Carried").isEmpty());
        QVERIFY(r.header("Set-Cookie").isEmpty());
        QCOMPARE(r.headerValues("Access-Control-Allow-Origin"), QList<QByteArray>{"*"});
        QCOMPARE(r.header("Content-Length"), QByteArray("2"));
        QVERIFY(r.header("Connection").isEmpty());
    }

    void requestResponseWithReply()
    {
        TestHttpClient responder(m_port);
        responder.get("/public/res/api");
        QVERIFY(waitWaiting(Waiter::Role::Responder, 1));
        TestHttpClient requester(m_port);
        requester.send(TestHttpClient::request("DELETE",
                                               "/public/req/api/users/7?x=1&token=t",
                                               "body",
                                               {{"Patch-H-X-Req", "r"}, {"Content-Type", "text/x-a"}}));
        QVERIFY(responder.waitForResponse());
        const TestResponse req = responder.takeResponse();
        QCOMPARE(req.body, QByteArray("body"));
        QCOMPARE(req.header("Patch-Method"), QByteArray("DELETE"));
        QCOMPARE(req.header("Patch-Uri"), QByteArray("/api/users/7?x=1"));
        QCOMPARE(req.header("X-Req"), QByteArray("r"));
        QCOMPARE(req.header("Content-Type"), QByteArray("text/x-a"));
        const QByteArray id = req.header("Patch-Request-Id");
        QCOMPARE(id.size(), 32);

        // Wrong id and wrong path: 404, and the requester keeps waiting.
        QCOMPARE(fetch(m_port, "POST", "/public/res/api?reply=nope", "x").status, 404);
        QCOMPARE(fetch(m_port, "POST", QByteArray("/public/res/other?reply=" + id), "x").body,
                 QByteArray("No pending request\n"));
        QCOMPARE(fetch(m_port, "POST", QByteArray("/public/res/api?reply=" + id), "x", {{"Patch-Status", "abc"}}).body,
                 QByteArray("Invalid Patch-Status\n"));
        QVERIFY(!requester.hasResponse());

        const TestResponse reply =
            fetch(m_port,
                  "POST",
                  QByteArray("/public/res/api?reply=" + id),
                  "created",
                  {{"Patch-Status", "201"}, {"Patch-H-Location", "/users/7"}, {"Content-Type", "text/x-b"}});
        QCOMPARE(reply.status, 200);
        QVERIFY(requester.waitForResponse());
        const TestResponse got = requester.takeResponse();
        QCOMPARE(got.status, 201);
        QCOMPARE(got.body, QByteArray("created"));
        QCOMPARE(got.header("Location"), QByteArray("/users/7"));
        QCOMPARE(got.header("Content-Type"), QByteArray("text/x-b"));
        // Answered once only.
        QCOMPARE(fetch(m_port, "POST", QByteArray("/public/res/api?reply=" + id), "again").status, 404);
    }

    void oneShotResponderAndPrefix()
    {
        TestHttpClient requester(m_port);
        requester.get("/public/req/svc/a/b");
        QVERIFY(waitWaiting(Waiter::Role::Requester, 1));
        // Not a prefix at a '/' boundary: does not match.
        TestHttpClient wrong(m_port);
        wrong.post("/public/res/svc/a/bX?timeout=5", "wrong");
        QVERIFY(waitWaiting(Waiter::Role::Responder, 1));
        const TestResponse served = fetch(m_port, "PUT", "/public/res/svc", "pong", {{"Patch-Status", "202"}});
        QCOMPARE(served.status, 200);
        QCOMPARE(served.header("Patch-Method"), QByteArray("GET"));
        QCOMPARE(served.header("Patch-Uri"), QByteArray("/svc/a/b"));
        QVERIFY(requester.waitForResponse());
        const TestResponse r = requester.takeResponse();
        QCOMPARE(r.status, 202);
        QCOMPARE(r.body, QByteArray("pong"));
    }

    void doubleClutch()
    {
        TestHttpClient requester(m_port);
        requester.get("/public/req/dc");
        QVERIFY(waitWaiting(Waiter::Role::Requester, 1));
        const TestResponse taken = fetch(m_port, "POST", "/public/res/dc?switch=true", "  answer-here \n");
        QCOMPARE(taken.status, 200);
        QCOMPARE(taken.header("Patch-Method"), QByteArray("GET"));
        const TestResponse produced = fetch(
            m_port, "POST", "/public/answer-here", "the reply", {{"Patch-Status", "418"}, {"Patch-H-X-Extra", "e"}});
        QCOMPARE(produced.status, 200);
        QVERIFY(requester.waitForResponse());
        const TestResponse r = requester.takeResponse();
        QCOMPARE(r.status, 418);
        QCOMPARE(r.body, QByteArray("the reply"));
        QCOMPARE(r.header("X-Extra"), QByteArray("e"));
    }

    void doubleClutchTimeout()
    {
        cleanup();
        RelayServer::Settings s;
        s.hub.switchTimeoutMs = 1000;
        startServer(s);
        TestHttpClient requester(m_port);
        requester.get("/public/req/dct");
        QVERIFY(waitWaiting(Waiter::Role::Requester, 1));
        QCOMPARE(fetch(m_port, "POST", "/public/res/dct?switch=1", "c1").status, 200);
        QVERIFY(requester.waitForResponse(5000));
        const TestResponse r = requester.takeResponse();
        QCOMPARE(r.status, 504);
        QCOMPARE(r.body, QByteArray("Double clutch timeout: No response received on channel 'c1' within 1 seconds\n"));
    }

    void switchValidation_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("error");
        QTest::addRow("empty") << QByteArray("  ") << QByteArray("New channel ID required in request body\n");
        QTest::addRow("too long") << QByteArray(201, 'a') << QByteArray("New channel ID required in request body\n");
        QTest::addRow("slash") << QByteArray("a/b")
                               << QByteArray("Invalid channel ID format - must not contain '/' or '?'\n");
        QTest::addRow("question") << QByteArray("a?b")
                                  << QByteArray("Invalid channel ID format - must not contain '/' or '?'\n");
    }
    void switchValidation()
    {
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, error);
        const TestResponse r = fetch(m_port, "POST", "/public/res/sv?switch=true", body);
        QCOMPARE(r.status, 400);
        QCOMPARE(r.body, error);
    }

    void replyTimeout()
    {
        cleanup();
        RelayServer::Settings s;
        s.hub.replyTimeoutMs = 300;
        startServer(s);
        TestHttpClient requester(m_port);
        requester.get("/public/req/rt");
        QCOMPARE(get("/public/res/rt").status, 200);
        QVERIFY(requester.waitForResponse());
        const TestResponse r = requester.takeResponse();
        QCOMPARE(r.status, 504);
        QCOMPARE(r.body, QByteArray("Responder did not reply\n"));
    }

    // --- limits and bad input --------------------------------------------------------------------

    void bodyLimitFromContentLength()
    {
        cleanup();
        RelayServer::Settings s;
        s.limits.maxBody = 1024;
        s.limits.maxStreamBody = 0; // larger bodies get 413 instead of being streamed
        startServer(s);
        TestHttpClient c(m_port);
        c.send("POST /public/queue/big HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n");
        QVERIFY(c.waitForResponse());
        const TestResponse r = c.takeResponse();
        QCOMPARE(r.status, 413);
        QCOMPARE(r.body, QByteArray("Payload too large (limit 1024 bytes)\n"));
        QVERIFY(c.waitForDisconnected());
        QCOMPARE(m_relay->hub()->waitingCount(Waiter::Role::Producer), 0);
        // GET ?body= counts too.
        QCOMPARE(get(QByteArray("/public/queue/big?body=" + QByteArray(1100, 'a'))).status, 413);
        verifyStillServing();
    }

    void chunkedBodyOverLimit()
    {
        cleanup();
        RelayServer::Settings s;
        s.limits.maxBody = 1000;
        s.limits.maxStreamBody = 0;
        startServer(s);
        TestHttpClient c(m_port);
        c.send("POST /public/queue/ch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        c.send("258\r\n" + QByteArray(600, 'a') + "\r\n");
        c.send("258\r\n" + QByteArray(600, 'b') + "\r\n");
        QVERIFY(c.waitForResponse());
        QCOMPARE(c.takeResponse().status, 413);
        verifyStillServing();
    }

    void chunkedBodyDelivered()
    {
        TestHttpClient consumer(m_port);
        consumer.get("/public/queue/chunks");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
        TestHttpClient c(m_port);
        c.send("POST /public/queue/chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        QTest::qWait(50);
        c.send("6;ext=1\r\n world\r\n0\r\n\r\n");
        QVERIFY(consumer.waitForResponse());
        QCOMPARE(consumer.takeResponse().body, QByteArray("hello world"));
        QVERIFY(c.waitForResponse());
        QCOMPARE(c.takeResponse().status, 200);
    }

    void stalledUpload()
    {
        cleanup();
        RelayServer::Settings s;
        s.limits.uploadStallMs = 300;
        startServer(s);
        TestHttpClient c(m_port);
        c.send("POST /public/queue/s HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a part");
        QVERIFY(c.waitForResponse(5000));
        QCOMPARE(c.takeResponse().status, 408);
        QVERIFY(c.waitForDisconnected());
        verifyStillServing();
    }

    void idleKeepAliveClosed()
    {
        cleanup();
        RelayServer::Settings s;
        s.limits.idleMs = 300;
        startServer(s);
        TestHttpClient c(m_port);
        c.get("/healthz");
        QVERIFY(c.waitForResponse());
        QVERIFY(c.isConnected());
        QVERIFY(c.waitForDisconnected(5000));
    }

    void badRequests_data()
    {
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<int>("status");
        QTest::addRow("garbage") << QByteArray("HELLO\r\n\r\n") << 400;
        QTest::addRow("no version") << QByteArray("GET /healthz\r\n\r\n") << 400;
        QTest::addRow("bad version") << QByteArray("GET / HTTP/2.0\r\n\r\n") << 505;
        QTest::addRow("bad method") << QByteArray("G(T / HTTP/1.1\r\nHost: x\r\n\r\n") << 400;
        QTest::addRow("relative target") << QByteArray("GET healthz HTTP/1.1\r\nHost: x\r\n\r\n") << 400;
        QTest::addRow("bad header") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n") << 400;
        QTest::addRow("space in name") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nBad Name: x\r\n\r\n") << 400;
        QTest::addRow("folding") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n") << 400;
        const QByteArray post = "POST /public/x HTTP/1.1\r\nHost: x\r\n";
        QTest::addRow("bad length") << QByteArray(post + "Content-Length: 1x\r\n\r\n") << 400;
        QTest::addRow("two lengths") << QByteArray(post + "Content-Length: 1\r\nContent-Length: 2\r\n\r\n") << 400;
        QTest::addRow("length and chunked")
            << QByteArray(post + "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n") << 400;
        QTest::addRow("gzip encoding") << QByteArray(post + "Transfer-Encoding: gzip\r\n\r\n") << 501;
        QTest::addRow("bad chunk") << QByteArray(post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n") << 400;
        QTest::addRow("huge headers") << QByteArray("GET / HTTP/1.1\r\nX: " + QByteArray(100 * 1024, 'a') + "\r\n\r\n")
                                      << 431;
        // RFC 9112 strictness (issue 8 item 8): an LF-only empty line ends nothing, it is refused.
        QTest::addRow("LF-only empty line") << QByteArray(
            "GET /healthz HTTP/1.1\r\nHost: x\r\n\nGET /public/queue/smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
                                            << 400;
        QTest::addRow("LF line ends") << QByteArray("GET /healthz HTTP/1.1\nHost: x\n\n") << 400;
        QTest::addRow("no host") << QByteArray("GET /healthz HTTP/1.1\r\n\r\n") << 400;
        QTest::addRow("two hosts") << QByteArray("GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n") << 400;
        QTest::addRow("space before chunk size")
            << QByteArray(post + "Transfer-Encoding: chunked\r\n\r\n 1\r\nx\r\n0\r\n\r\n") << 400;
        QTest::addRow("space after chunk size")
            << QByteArray(post + "Transfer-Encoding: chunked\r\n\r\n1 \r\nx\r\n0\r\n\r\n") << 400;
        QTest::addRow("length with VT") << QByteArray(post + "Content-Length: 1\v\r\n\r\nx") << 400;
        QTest::addRow("NUL in a passthrough header")
            << QByteArray(post + "Content-Length: 1\r\nPatch-H-X: a" + QByteArray(1, '\0') + "b\r\n\r\nx") << 400;
        QTest::addRow("control char in User-Agent")
            << QByteArray(post + "Content-Length: 1\r\nUser-Agent: a\x01\r\n\r\nx") << 400;
    }
    void badRequests()
    {
        QFETCH(QByteArray, raw);
        QFETCH(int, status);
        TestHttpClient c(m_port);
        c.send(raw);
        QVERIFY(c.waitForResponse());
        const TestResponse r = c.takeResponse();
        QCOMPARE(r.status, status);
        QVERIFY(r.body.endsWith('\n'));
        QVERIFY(c.waitForDisconnected());
        verifyStillServing();
    }

    void hundredMiBBodyRefused()
    {
        // The default limit is 64 MiB: with streaming off, a client that really sends 100 MiB is stopped
        // at the headers.
        cleanup();
        RelayServer::Settings s;
        s.limits.maxStreamBody = 0;
        startServer(s);
        TestHttpClient c(m_port);
        c.send("POST /public/queue/huge HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n");
        const QByteArray block(1024 * 1024, 'x');
        for (int i = 0; i < 8 && c.isConnected(); ++i) {
            c.socket()->write(block);
            QTest::qWait(1);
        }
        QVERIFY(c.waitForResponse());
        QCOMPARE(c.takeResponse().status, 413);
        QVERIFY(c.waitForDisconnected());
        verifyStillServing();
    }

    // Issue 8 item 9: a client still sending when its upload is refused must read the whole answer: the
    // server shuts down its side and drains instead of resetting the connection. The client behaves as
    // curl does: it sends the whole body, gives up on a send error, and reads the answer afterwards.
    void refusedUploadSeesTheAnswer()
    {
        cleanup();
        RelayServer::Settings s;
        s.limits.maxBody = 64 * 1024;
        s.limits.maxStreamBody = 0;
        startServer(s);
        for (int i = 0; i < 20; ++i) {
            const QByteArray head = i % 2 ? QByteArray("POST /public/queue/big HTTP/1.1\r\nHost: x\r\n"
                                                       "Transfer-Encoding: chunked\r\n\r\n2000000\r\n")
                                          : QByteArray("POST /public/queue/big HTTP/1.1\r\nHost: x\r\n"
                                                       "Content-Length: 33554432\r\n\r\n");
            auto client = std::async(std::launch::async, blockingUpload, m_port, head, 32 * 1024 * 1024);
            QTRY_VERIFY_WITH_TIMEOUT(client.wait_for(std::chrono::seconds(0)) == std::future_status::ready,
                                     timeoutMs(20000));
            const QByteArray answer = client.get();
            QVERIFY2(answer.startsWith("HTTP/1.1 413 "), QByteArray(QByteArray::number(i) + ": " + answer).constData());
            QVERIFY(answer.endsWith("\r\n\r\nPayload too large (limit 65536 bytes)\n"));
        }
        QTRY_COMPARE_WITH_TIMEOUT(m_relay->httpServer()->connectionCount(), 0, timeoutMs(5000));
        verifyStillServing();
    }

    // Issue 8 item 10: dot-segment removal is linear, so a 1 MB path of /.. is answered like any other.
    void longDotSegmentPathAnswered()
    {
        cleanup();
        RelayServer::Settings s;
        s.limits.maxHeaderBytes = 2 * 1024 * 1024;
        startServer(s);
        const TestResponse r = get(QByteArray("/public" + QByteArray("/..").repeated(350'000) + "/healthz"));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, QByteArray("OK!\n"));
    }

    // Issue 8 item 2: a percent-decoded CR LF in a request id must not split the responder's response.
    void headerInjectionRefused()
    {
        TestHttpClient responder(m_port);
        responder.get("/public/res/api");
        QVERIFY(waitWaiting(Waiter::Role::Responder, 1));
        const QByteArray attack = "/public/req/api/%0d%0aSet-Cookie:x%0d%0a%0d%0aHTTP/1.1%20200%20OK%0d%0a"
                                  "Content-Length:%200%0d%0a%0d%0a";
        for (const QByteArray &target : {attack,
                                         QByteArray("/public/queue/a%00b"),
                                         QByteArray("/p/a%7fb"),
                                         QByteArray("/huproxy/u/127.0.0.1%00.example.com/22")}) {
            const TestResponse r = get(target);
            QCOMPARE(r.status, 400);
            QCOMPARE(r.body, QByteArray("Invalid path: control characters are not allowed\n"));
        }
        QCOMPARE(m_relay->hub()->waitingCount(Waiter::Role::Requester), 0);
        // The responder got nothing from it and serves the next clean request.
        TestHttpClient requester(m_port);
        requester.get("/public/req/api/fine%20x?q=%0d%0a");
        QVERIFY(responder.waitForResponse());
        const TestResponse req = responder.takeResponse();
        QCOMPARE(req.header("Patch-Uri"), QByteArray("/api/fine x?q=%0d%0a"));
        QVERIFY(req.header("Set-Cookie").isEmpty());
        QVERIFY(!responder.hasResponse());
    }

    // Issue 8 item 2: the response builder itself never writes a header that could end a line.
    void invalidResponseHeaderNeverWritten()
    {
        struct BadHandler final : HttpHandler
        {
            void handleRequest(HttpConnection *c) override
            {
                if (c->request().rawPath == "/name") {
                    c->respond(200, {{"Bad Name", "v"}}, "body");
                } else if (c->request().rawPath == "/stream") {
                    c->startStream(200, {{"X-Bad", QByteArray("a\0b", 3)}});
                    c->writeChunk("never");
                } else {
                    c->respond(200, {{"X-Bad", "a\r\nSet-Cookie: x"}}, "body");
                }
            }
        } handler;
        HttpServer server(&handler);
        QVERIFY(server.listen(QHostAddress::LocalHost, 0));
        for (QByteArrayView path : {"/value", "/name", "/stream"}) {
            const TestResponse r = fetch(server.serverPort(), "GET", path);
            QCOMPARE(r.status, 500);
            QCOMPARE(r.body, QByteArray("Internal server error: invalid response header\n"));
            QVERIFY(r.header("Set-Cookie").isEmpty());
            QVERIFY(r.header("X-Bad").isEmpty());
        }
        const PreparedResponse p = HttpConnection::prepare(&server, 200, {{"X", "a\nb"}}, "x");
        QVERIFY(p.full.startsWith("HTTP/1.1 500 "));
        QVERIFY(!p.full.contains("a\nb"));
    }

    // Issue 8 item 7: headers the server sets are never taken from a producer's Patch-H-*.
    void serverHeadersNeverForged()
    {
        const HeaderList forged = {{"Patch-H-Patch-Id", "forged"},
                                   {"Patch-H-Patch-Time", "12345"},
                                   {"Patch-H-Patch-Request-Id", "forged"},
                                   {"Patch-H-Patch-Method", "DELETE"},
                                   {"Patch-H-Patch-Gap", "true"},
                                   {"Patch-H-Patch-Uri", "/forged"},
                                   {"Patch-H-patch-subscribers", "99"},
                                   {"Patch-H-Patch-Status", "500"},
                                   {"Patch-H-Patch-H-X", "nested"},
                                   {"Patch-H-X-Ok", "yes"}};
        const auto verifyNotForged = [](const TestResponse &r) {
            for (const auto &h : r.headers) {
                QVERIFY2(h.second != "forged" && h.second != "DELETE" && h.second != "/forged" && h.second != "99"
                             && h.second != "nested" && h.second != "12345",
                         h.first.constData());
            }
            QCOMPARE(r.headerValues("Patch-Gap").size(), 0);
            QCOMPARE(r.headerValues("Patch-Status").size(), 0);
            QCOMPARE(r.header("X-Ok"), QByteArray("yes"));
        };
        // pubsub: the subscriber and the publisher
        TestHttpClient subscriber(m_port);
        subscriber.get("/public/pubsub/forge");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
        const TestResponse published = fetch(m_port, "POST", "/public/pubsub/forge", "m", forged);
        QCOMPARE(published.status, 200);
        QCOMPARE(published.headerValues("Patch-Subscribers"), QList<QByteArray>{"1"});
        QVERIFY(subscriber.waitForResponse());
        const TestResponse message = subscriber.takeResponse();
        verifyNotForged(message);
        QCOMPARE(message.headerValues("Patch-Id").size(), 1);
        QCOMPARE(message.headerValues("Patch-Time").size(), 1);
        QCOMPARE(message.headerValues("Patch-Uri"), QList<QByteArray>{"/public/pubsub/forge"});
        QCOMPARE(message.headerValues("Patch-Method").size(), 0);
        QCOMPARE(message.headerValues("Patch-Request-Id").size(), 0);
        // request/response: the responder, then the requester with a forged reply
        TestHttpClient responder(m_port);
        responder.get("/public/res/forge");
        QVERIFY(waitWaiting(Waiter::Role::Responder, 1));
        TestHttpClient requester(m_port);
        requester.send(TestHttpClient::request("POST", "/public/req/forge", "q", forged));
        QVERIFY(responder.waitForResponse());
        const TestResponse request = responder.takeResponse();
        verifyNotForged(request);
        QCOMPARE(request.headerValues("Patch-Method"), QList<QByteArray>{"POST"});
        QCOMPARE(request.headerValues("Patch-Uri"), QList<QByteArray>{"/forge"});
        QCOMPARE(request.headerValues("Patch-Request-Id").size(), 1);
        QCOMPARE(request.headerValues("Patch-Id").size(), 0);
        const QByteArray id = request.header("Patch-Request-Id");
        QCOMPARE(fetch(m_port, "POST", QByteArray("/public/res/forge?reply=" + id), "a", forged).status, 200);
        QVERIFY(requester.waitForResponse());
        const TestResponse reply = requester.takeResponse();
        QCOMPARE(reply.status, 200);
        verifyNotForged(reply);
        QCOMPARE(reply.headerValues("Patch-Id").size(), 0);
        QCOMPARE(reply.headerValues("Patch-Request-Id").size(), 0);
    }

    void keepAliveAndPipelining()
    {
        TestHttpClient c(m_port);
        c.send(TestHttpClient::request("GET", "/healthz") + TestHttpClient::request("GET", "/status")
               + TestHttpClient::request("POST", "/public/pubsub/nobody", "x"));
        QTRY_VERIFY_WITH_TIMEOUT(c.hasResponse(), timeoutMs(5000));
        QCOMPARE(c.takeResponse().body, QByteArray("OK!\n"));
        QVERIFY(c.waitForResponse());
        QCOMPARE(c.takeResponse().body, QByteArray("OK!\n"));
        QVERIFY(c.waitForResponse());
        QCOMPARE(c.takeResponse().header("Patch-Subscribers"), QByteArray("0"));
        QVERIFY(c.isConnected());
    }

    void expectContinue()
    {
        TestHttpClient consumer(m_port);
        consumer.get("/public/queue/ec");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
        TestHttpClient c(m_port);
        c.send("POST /public/queue/ec HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(c.continues(), 1, timeoutMs(5000));
        QVERIFY(!consumer.hasResponse());
        c.socket()->write("abc");
        QVERIFY(consumer.waitForResponse());
        QCOMPARE(consumer.takeResponse().body, QByteArray("abc"));
    }

    void clientsVanishing()
    {
        for (int i = 0; i < 20; ++i) {
            TestHttpClient c(m_port);
            c.send(i % 2 ? QByteArray("POST /public/queue/v HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
                         : QByteArray("GET /public/pubsub/v HTTP/1.1\r\n"));
            QTest::qWait(1);
            c.abort();
        }
        QTRY_COMPARE_WITH_TIMEOUT(m_relay->httpServer()->connectionCount(), 0, timeoutMs(5000));
        verifyStillServing();
    }

    // --- several daemons behind a proxy (issue 15) ----------------------------------------------

    // The node id: on every answer as Patch-Node (the prepared pubsub fan-out too), and at the start of
    // every Patch-Id, whose run prefix stays everything up to the last '-'.
    void nodeId()
    {
        RelayServer::Settings settings;
        settings.hub.nodeId = "web1-8080";
        startServer(settings);
        QCOMPARE(get("/healthz").header("Patch-Node"), QByteArray("web1-8080"));
        QCOMPARE(get("/nothing").header("Patch-Node"), QByteArray("web1-8080"));
        TestHttpClient subscriber(m_port);
        subscriber.get("/p/pubsub/node");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
        const TestResponse published = fetch(m_port, "POST", "/p/pubsub/node", "m");
        QCOMPARE(published.status, 200);
        QCOMPARE(published.header("Patch-Node"), QByteArray("web1-8080"));
        const QByteArray id = published.header("Patch-Id");
        QVERIFY2(id.startsWith("web1-8080-"), id.constData());
        QCOMPARE(id.count('-'), 3);
        QVERIFY(subscriber.waitForResponse());
        const TestResponse received = subscriber.takeResponse();
        QCOMPARE(received.header("Patch-Id"), id);
        QCOMPARE(received.header("Patch-Node"), QByteArray("web1-8080"));

        // A relay without a node id (the tray) sends no Patch-Node and keeps its ids as they were.
        startServer();
        QVERIFY(!get("/healthz").headerValues("Patch-Node").size());
        const QByteArray plain = fetch(m_port, "POST", "/p/pubsub/node", "m").header("Patch-Id");
        QCOMPARE(plain.count('-'), 1);
    }

    // The proxy's Patch-Shard must be this daemon's key for the request, else 421 with the key.
    void misdirected_data()
    {
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QByteArray>("shard");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addRow("matching") << QByteArray("/p/queue/x?timeout=0.05") << QByteArray("public/queue/x") << 204
                                  << QByteArray();
        QTest::addRow("matching encoded")
            << QByteArray("/p/q%20x?timeout=0.05") << QByteArray("public/q%20x") << 204 << QByteArray();
        QTest::addRow("requester") << QByteArray("/p/req/api/7?timeout=0.05") << QByteArray("public/rr/api") << 504
                                   << QByteArray("No responder within timeout\n");
        QTest::addRow("any node") << QByteArray("/healthz") << QByteArray("*") << 200 << QByteArray("OK!\n");
        QTest::addRow("other channel")
            << QByteArray("/p/queue/x") << QByteArray("public/queue/y") << 421
            << QByteArray("Misdirected request: Patch-Shard does not match this request's shard key public/queue/x\n");
        QTest::addRow("channel sent anywhere")
            << QByteArray("/p/x") << QByteArray("*") << 421
            << QByteArray("Misdirected request: Patch-Shard does not match this request's shard key public/x\n");
        QTest::addRow("any node sent to a channel")
            << QByteArray("/healthz") << QByteArray("public/x") << 421
            << QByteArray("Misdirected request: Patch-Shard does not match this request's shard key *\n");
    }
    void misdirected()
    {
        QFETCH(QByteArray, target);
        QFETCH(QByteArray, shard);
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        const TestResponse r = get(target, {{"Patch-Shard", shard}});
        QCOMPARE(r.status, status);
        QCOMPARE(r.body, body);
    }

    // --- lifecycle -------------------------------------------------------------------------------

    void gracefulShutdown()
    {
        TestHttpClient producer(m_port);
        producer.post("/public/queue/sd", "undelivered");
        TestHttpClient consumer(m_port);
        consumer.get("/public/queue/other");
        TestHttpClient requester(m_port);
        requester.get("/public/req/sd");
        QVERIFY(waitWaiting(Waiter::Role::Producer, 1));
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
        QVERIFY(waitWaiting(Waiter::Role::Requester, 1));
        QSignalSpy stopped(m_relay.get(), &RelayServer::stopped);
        m_relay->shutdown(5000);
        for (TestHttpClient *c : {&producer, &consumer, &requester}) {
            QVERIFY(c->waitForResponse());
            const TestResponse r = c->takeResponse();
            QCOMPARE(r.status, 503);
            QCOMPARE(r.body, QByteArray("Server shutting down\n"));
        }
        QVERIFY(stopped.wait(timeoutMs(3000)));
        // No longer accepting: the listening socket is closed, so a connection is refused.
        QTcpSocket late;
        late.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(!late.waitForConnected(timeoutMs(5000)));
        QCOMPARE(late.error(), QAbstractSocket::ConnectionRefusedError);
    }

    // Issue 15: a stopping node answers its health check with 503 at once, so a front proxy drains it.
    void healthUnavailableOnShutdown()
    {
        TestHttpClient probe(m_port);
        probe.send("GET /healthz HTTP/1.1\r\nHost: x\r\n"); // the head ends after the shutdown began
        verifyStillServing(); // a round trip on another connection: the server has read the probe's bytes
        m_relay->shutdown(5000);
        probe.send("\r\n");
        QVERIFY(probe.waitForResponse());
        const TestResponse r = probe.takeResponse();
        QCOMPARE(r.status, 503);
        QCOMPARE(r.body, QByteArray("Server shutting down\n"));
    }

    // stopped() comes once, also when nothing was in flight, and a second shutdown() does nothing.
    void stoppedOnce()
    {
        QSignalSpy stopped(m_relay.get(), &RelayServer::stopped);
        m_relay->shutdown(5000);
        QVERIFY(stopped.wait(timeoutMs(3000)));
        m_relay->shutdown(5000);
        // Nothing can be awaited here: stopped() must not come again (it came every 50 ms before).
        QVERIFY(!stopped.wait(300));
        QCOMPARE(stopped.size(), 1);
    }

    // The grace period ends the wait for a delivery that never drains.
    void stoppedAfterGrace()
    {
        const QByteArray big(32 * 1024 * 1024, 'z');
        TestHttpClient stuck(m_port);
        stuck.socket()->setReadBufferSize(1024);
        disconnect(stuck.socket(), nullptr, &stuck, nullptr); // never reads
        stuck.get("/public/queue/grace");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
        TestHttpClient producer(m_port);
        producer.post("/public/queue/grace", big);
        QTRY_COMPARE_WITH_TIMEOUT(m_relay->hub()->inFlightCount(), 1, timeoutMs(10000));
        QSignalSpy stopped(m_relay.get(), &RelayServer::stopped);
        QElapsedTimer t;
        t.start();
        m_relay->shutdown(300);
        QVERIFY(stopped.wait(timeoutMs(5000)));
        QVERIFY(t.elapsed() >= 300);
        QCOMPARE(m_relay->hub()->inFlightCount(), 1);
        QCOMPARE(stopped.size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestRelayServer)
#include "tst_relayserver.moc"
