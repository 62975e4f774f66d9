// SPDX-License-Identifier: MIT
// Streamed transfers (docs/DECISIONS.md "Streamed transfers"): bodies above --max-body go from the
// producer to the receivers while they arrive, with backpressure, over real loopback sockets.
#include <QElapsedTimer>
#include <QFile>
#include <QTcpSocket>
#include <QTest>

#include <memory>

#include "engine/waiter.h"
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

constexpr qint64 MAX_BODY = 64 * 1024; // bodies above this are streamed in these tests
constexpr qint64 BIG = 4 * 1024 * 1024;
// Larger than what the kernel's socket buffers hold between the relay and a client.
constexpr qint64 LARGE = 32 * 1024 * 1024;

// The most bytes the kernel may hold for one connection, sending and receiving side.
qint64 kernelBuffers()
{
    qint64 sum = 0;
    for (const char *path : {"/proc/sys/net/ipv4/tcp_wmem", "/proc/sys/net/ipv4/tcp_rmem"}) {
        QFile f(QString::fromLatin1(path));
        sum += f.open(QIODevice::ReadOnly) ? f.readAll().simplified().split(' ').value(2).toLongLong() : 0;
    }
    return sum;
}
// What a streamed transfer may hold between producer and consumer: the relay's bound (1 MiB), a
// consumer's Qt read buffer (RawReceiver) and the kernel's buffers of both connections.
qint64 transferBound()
{
    return 1024 * 1024 + 64 * 1024 + 2 * kernelBuffers();
}

// Deterministic pseudo-random bytes (xorshift64).
QByteArray pattern(qint64 size, quint64 seed)
{
    QByteArray out(size, Qt::Uninitialized);
    quint64 x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (qint64 i = 0; i < size; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = char(x >> 32);
    }
    return out;
}

QByteArray postHead(QByteArrayView target, qint64 length, const QByteArray &extra = {})
{
    return "POST " + target.toByteArray() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra
           + (length >= 0 ? "Content-Length: " + QByteArray::number(length) + "\r\n"
                          : QByteArray("Transfer-Encoding: chunked\r\n"))
           + "\r\n";
}

QByteArray chunked(const QByteArray &body, qint64 piece)
{
    QByteArray out;
    for (qint64 at = 0; at < body.size(); at += piece) {
        const QByteArray part = body.mid(at, piece);
        out += QByteArray::number(part.size(), 16) + "\r\n" + part + "\r\n";
    }
    return out + "0\r\n\r\n";
}

// A consumer on a raw socket that reads the response head and then counts the body, so a test can
// stop reading or leave at any point.
class RawReceiver
{
public:
    explicit RawReceiver(quint16 port, QByteArrayView target)
    {
        m_socket.setReadBufferSize(64 * 1024);
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        m_socket.write("GET " + target.toByteArray() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    }
    // Reads what is there (at most `max` body bytes); true once the head is complete.
    bool read(qint64 max = -1)
    {
        if (m_head.isEmpty() || !m_head.endsWith("\r\n\r\n")) {
            while (m_socket.bytesAvailable() > 0 && !m_head.endsWith("\r\n\r\n")) {
                m_head += m_socket.read(1);
            }
            if (!m_head.endsWith("\r\n\r\n")) {
                return false;
            }
        }
        const qint64 n = max < 0 ? m_socket.bytesAvailable() : qMin(max, m_socket.bytesAvailable());
        m_body += m_socket.read(n);
        return true;
    }
    bool readUntil(qint64 bodyBytes, int ms = 10000)
    {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < timeoutMs(ms)) {
            if (read(bodyBytes - m_body.size()) && m_body.size() >= bodyBytes) {
                return true;
            }
            QTest::qWait(2); // the relay runs in this thread
        }
        return false;
    }
    // Reads until the relay closes the connection.
    bool waitClosed(int ms = 10000)
    {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < timeoutMs(ms)) {
            read();
            if (m_socket.state() == QAbstractSocket::UnconnectedState) {
                read();
                return true;
            }
            QTest::qWait(2);
        }
        return false;
    }
    QTcpSocket m_socket;
    QByteArray m_head;
    QByteArray m_body;
};

} // namespace

class TestStreamedTransfer final : public QObject
{
    Q_OBJECT

private:
    void startServer(qint64 maxStreamBody = -1, qint64 uploadStallMs = 30'000)
    {
        RelayServer::Settings s;
        s.limits.maxBody = MAX_BODY;
        s.limits.maxStreamBody = maxStreamBody;
        s.limits.uploadStallMs = uploadStallMs;
        m_relay = std::make_unique<RelayServer>(&m_clock);
        m_relay->setSettings(s);
        QVERIFY(m_relay->listen(QHostAddress::LocalHost, 0));
        m_port = m_relay->port();
    }
    bool waitWaiting(Waiter::Role role, qsizetype n)
    {
        return waitForWaiting(m_relay->hub(), role, n);
    }
    // A complete streamed transfer on `target`: the channel works.
    void verifyTransfer(QByteArrayView target)
    {
        const QByteArray body = pattern(BIG / 4, 99);
        TestHttpClient consumer(m_port);
        consumer.get(target);
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
        TestHttpClient producer(m_port);
        producer.send(postHead(target, body.size()) + body);
        QVERIFY(consumer.waitForResponse(timeoutMs(10000)));
        const TestResponse r = consumer.takeResponse();
        QCOMPARE(r.status, 200);
        QVERIFY(r.body == body);
        QVERIFY(producer.waitForResponse(timeoutMs(10000)));
        QCOMPARE(producer.takeResponse().status, 200);
    }

    SystemClock m_clock;
    std::unique_ptr<RelayServer> m_relay;
    quint16 m_port = 0;

private Q_SLOTS:
    void cleanup()
    {
        m_relay.reset();
    }

    void queueWithContentLength()
    {
        startServer();
        const QByteArray body = pattern(BIG, 1);
        TestHttpClient consumer(m_port);
        consumer.get("/public/queue/files");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
        TestHttpClient producer(m_port);
        producer.send(postHead("/public/queue/files", body.size(), "Content-Type: application/x-tar\r\n") + body);
        QVERIFY(consumer.waitForResponse(timeoutMs(10000)));
        const TestResponse r = consumer.takeResponse();
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("Content-Length"), QByteArray::number(BIG));
        QCOMPARE(r.header("Content-Type"), QByteArray("application/x-tar"));
        QVERIFY(r.body == body);
        QVERIFY(producer.waitForResponse(timeoutMs(10000)));
        QCOMPARE(producer.takeResponse().status, 200);
        QCOMPARE(m_relay->hub()->channelCount(), 0);
    }

    // A chunked body that grows past the limit: what came before goes first, the consumer gets it chunked.
    void queueChunked()
    {
        startServer();
        const QByteArray body = pattern(BIG + 3, 2);
        TestHttpClient producer(m_port);
        producer.send(postHead("/public/queue/files", -1) + chunked(body, 50'000));
        QVERIFY(waitWaiting(Waiter::Role::Producer, 1));
        TestHttpClient consumer(m_port);
        consumer.get("/public/queue/files");
        QVERIFY(consumer.waitForResponse(timeoutMs(10000)));
        const TestResponse r = consumer.takeResponse();
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("Transfer-Encoding"), QByteArray("chunked"));
        QVERIFY(r.body == body);
        QVERIFY(producer.waitForResponse(timeoutMs(10000)));
        QCOMPARE(producer.takeResponse().status, 200);
    }

    // The producer waits with its body unread: no upload-stall 408, and 100 Continue only once a
    // consumer is there.
    void producerWaitsUnread()
    {
        startServer(-1, 200);
        const QByteArray body = pattern(BIG, 3);
        TestHttpClient producer(m_port);
        producer.send(postHead("/public/queue/later", body.size(), "Expect: 100-continue\r\n"));
        QVERIFY(waitWaiting(Waiter::Role::Producer, 1));
        QTest::qWait(1500); // the stall check runs every second
        QVERIFY(producer.isConnected());
        QVERIFY(!producer.hasResponse());
        QCOMPARE(producer.continues(), 0);
        TestHttpClient consumer(m_port);
        consumer.get("/public/queue/later");
        QTRY_COMPARE_WITH_TIMEOUT(producer.continues(), 1, timeoutMs(5000));
        producer.send(body);
        QVERIFY(consumer.waitForResponse(timeoutMs(10000)));
        QVERIFY(consumer.takeResponse().body == body);
        QVERIFY(producer.waitForResponse(timeoutMs(10000)));
        QCOMPARE(producer.takeResponse().status, 200);
    }

    void consumerLeaves_data()
    {
        QTest::addColumn<qint64>("readBeforeLeaving");
        QTest::addColumn<int>("producerStatus");
        QTest::newRow("start") << qint64(0) << 502;
        QTest::newRow("middle") << LARGE / 8 << 502;
        QTest::newRow("end") << LARGE << 200; // the consumer's socket took the last byte: delivered
    }
    void consumerLeaves()
    {
        QFETCH(qint64, readBeforeLeaving);
        QFETCH(int, producerStatus);
        startServer();
        const QByteArray body = pattern(LARGE, 4);
        auto consumer = std::make_unique<RawReceiver>(m_port, "/public/queue/x");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
        TestHttpClient producer(m_port);
        producer.send(postHead("/public/queue/x", body.size()) + body);
        QVERIFY(consumer->readUntil(readBeforeLeaving));
        QVERIFY(consumer->m_head.startsWith("HTTP/1.1 200"));
        QVERIFY(consumer->m_body == body.first(readBeforeLeaving));
        if (readBeforeLeaving == LARGE) {
            QVERIFY(producer.waitForResponse(timeoutMs(10000)));
        }
        consumer->m_socket.abort();
        consumer.reset();
        QVERIFY(producer.waitForResponse(timeoutMs(10000)));
        const TestResponse r = producer.takeResponse();
        QCOMPARE(r.status, producerStatus);
        if (producerStatus == 502) {
            QVERIFY2(r.body.startsWith("Receiver left after "), r.body.constData());
            QVERIFY(r.body.contains(QByteArray(" of " + QByteArray::number(LARGE) + " bytes")));
            QVERIFY(producer.waitForDisconnected(timeoutMs(10000))); // the rest of its body is not read
        }
        verifyTransfer("/public/queue/x");
    }

    void producerLeaves_data()
    {
        QTest::addColumn<qint64>("sentBeforeLeaving");
        QTest::newRow("start") << qint64(0);
        QTest::newRow("middle") << BIG / 2;
        QTest::newRow("end") << BIG - 1;
    }
    void producerLeaves()
    {
        QFETCH(qint64, sentBeforeLeaving);
        startServer();
        const QByteArray body = pattern(BIG, 5);
        RawReceiver consumer(m_port, "/public/queue/y");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
        QTcpSocket producer;
        producer.connectToHost(QHostAddress::LocalHost, m_port);
        producer.write(postHead("/public/queue/y", body.size()) + body.first(sentBeforeLeaving));
        QVERIFY(consumer.readUntil(sentBeforeLeaving));
        QVERIFY(consumer.m_head.startsWith("HTTP/1.1 200"));
        QVERIFY(consumer.m_head.contains(QByteArray("Content-Length: " + QByteArray::number(BIG))));
        producer.abort();
        // The consumer's response is cut: the connection closes before the announced length.
        QVERIFY(consumer.waitClosed());
        QVERIFY(consumer.m_body.size() < BIG);
        QVERIFY(consumer.m_body == body.first(consumer.m_body.size()));
        QTRY_COMPARE_WITH_TIMEOUT(m_relay->hub()->inFlightCount(), 0, timeoutMs(5000));
        verifyTransfer("/public/queue/y");
    }

    // A consumer that does not read holds the producer back: what the producer got rid of stays within
    // the daemon's bound (1 MiB) plus the kernel's socket buffers of what the consumer read.
    void slowConsumerThrottlesProducer()
    {
        startServer();
        const qint64 total = 64 * 1024 * 1024;
        const QByteArray piece = pattern(64 * 1024, 6);
        const qint64 bound = transferBound();
        RawReceiver consumer(m_port, "/public/queue/slow");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
        QTcpSocket producer;
        qint64 queued = 0;
        producer.connectToHost(QHostAddress::LocalHost, m_port);
        producer.write(postHead("/public/queue/slow", total));
        auto feed = [&]() {
            while (queued < total && producer.bytesToWrite() < 256 * 1024) {
                producer.write(piece);
                queued += piece.size();
            }
        };
        connect(&producer, &QTcpSocket::bytesWritten, this, feed);
        feed();
        const auto sent = [&]() { return queued - producer.bytesToWrite(); };
        for (const qint64 readAt : {qint64(0), qint64(8 * 1024 * 1024)}) {
            QVERIFY(consumer.readUntil(readAt));
            // Wait until the producer makes no more progress.
            qint64 last = -1;
            while (sent() != last) {
                last = sent();
                QTest::qWait(300);
            }
            QVERIFY2(sent() < total, "the producer was not held back");
            QVERIFY2(sent() - consumer.m_body.size() <= bound,
                     qPrintable(QStringLiteral("%1 bytes ahead of the consumer, bound %2")
                                    .arg(sent() - consumer.m_body.size())
                                    .arg(bound)));
        }
        QVERIFY(consumer.readUntil(total, 30000));
        QCOMPARE(consumer.m_body.size(), total);
    }

    void pubsubThreeSubscribersOneSlow()
    {
        startServer();
        const QByteArray body = pattern(LARGE, 7);
        TestHttpClient fast1(m_port);
        TestHttpClient fast2(m_port);
        fast1.get("/public/pubsub/news");
        fast2.get("/public/pubsub/news");
        RawReceiver slow(m_port, "/public/pubsub/news");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 3));
        TestHttpClient producer(m_port);
        producer.send(postHead("/public/pubsub/news", body.size()) + body);
        while (slow.m_body.size() < LARGE && !producer.hasResponse()) {
            QVERIFY(slow.readUntil(qMin(LARGE, slow.m_body.size() + 256 * 1024)));
            QTest::qWait(2);
        }
        // The slowest sets the pace: the producer's 200 comes once the relay wrote the last byte to it.
        QVERIFY2(slow.m_body.size() >= LARGE - transferBound(), QByteArray::number(slow.m_body.size()).constData());
        QVERIFY(slow.readUntil(LARGE));
        QVERIFY(slow.m_body == body);
        for (TestHttpClient *c : {&fast1, &fast2}) {
            QVERIFY(c->waitForResponse(timeoutMs(10000)));
            const TestResponse r = c->takeResponse();
            QCOMPARE(r.status, 200);
            QVERIFY(!r.header("Patch-Id").isEmpty());
            QVERIFY(r.body == body);
        }
        QVERIFY(producer.waitForResponse(timeoutMs(10000)));
        const TestResponse r = producer.takeResponse();
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("Patch-Subscribers"), QByteArray("3"));
        // Never kept for replay.
        QCOMPARE(m_relay->hub()->replayBuffer()->totalBytes(), 0);
    }

    // ?subscribers=N: the publish waits until N subscribers wait, then streams to all of them.
    void pubsubWaitsForSubscribers()
    {
        startServer();
        const QByteArray body = pattern(BIG, 13);
        QCOMPARE(fetch(m_port, "POST", "/public/pubsub/n?subscribers=0", "x").status, 400);
        TestHttpClient producer(m_port);
        producer.send(postHead("/public/pubsub/n?subscribers=2", body.size()) + body);
        QVERIFY(waitWaiting(Waiter::Role::Producer, 1));
        TestHttpClient first(m_port);
        first.get("/public/pubsub/n");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
        QTest::qWait(100);
        QVERIFY(!first.hasResponse());
        TestHttpClient second(m_port);
        second.get("/public/pubsub/n");
        for (TestHttpClient *c : {&first, &second}) {
            QVERIFY(c->waitForResponse(timeoutMs(10000)));
            QVERIFY(c->takeResponse().body == body);
        }
        QVERIFY(producer.waitForResponse(timeoutMs(10000)));
        const TestResponse r = producer.takeResponse();
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("Patch-Subscribers"), QByteArray("2"));
    }

    void requestResponse()
    {
        startServer();
        const QByteArray request = pattern(BIG, 8);
        const QByteArray reply = pattern(BIG / 2 + 1, 9);
        TestHttpClient responder(m_port);
        responder.get("/public/res/upload");
        QVERIFY(waitWaiting(Waiter::Role::Responder, 1));
        TestHttpClient requester(m_port);
        requester.send(postHead("/public/req/upload/big", request.size()) + request);
        QVERIFY(responder.waitForResponse(timeoutMs(10000)));
        const TestResponse got = responder.takeResponse();
        QCOMPARE(got.status, 200);
        QCOMPARE(got.header("Patch-Method"), QByteArray("POST"));
        QVERIFY(got.body == request);
        const QByteArray id = got.header("Patch-Request-Id");
        QVERIFY(!id.isEmpty());
        TestHttpClient replier(m_port);
        replier.send(postHead(QByteArray("/public/res/upload?reply=" + id), reply.size(), "Patch-Status: 201\r\n")
                     + reply);
        QVERIFY(requester.waitForResponse(timeoutMs(10000)));
        const TestResponse answer = requester.takeResponse();
        QCOMPARE(answer.status, 201);
        QVERIFY(answer.body == reply);
        QVERIFY(replier.waitForResponse(timeoutMs(10000)));
        QCOMPARE(replier.takeResponse().status, 200);
    }

    void maxStreamBody()
    {
        startServer(1024 * 1024);
        // Announced above the limit: refused at once, nothing waits.
        TestHttpClient tooLarge(m_port);
        tooLarge.send(postHead("/public/queue/m", 1024 * 1024 + 1));
        QVERIFY(tooLarge.waitForResponse(timeoutMs(5000)));
        TestResponse r = tooLarge.takeResponse();
        QCOMPARE(r.status, 413);
        QCOMPARE(r.body, QByteArray("Payload too large (limit 1048576 bytes)\n"));
        // A chunked body growing past it: the producer gets 413, the consumer's response is cut.
        RawReceiver consumer(m_port, "/public/queue/m");
        QVERIFY(waitWaiting(Waiter::Role::Consumer, 1));
        TestHttpClient growing(m_port);
        growing.send(postHead("/public/queue/m", -1) + chunked(pattern(2 * 1024 * 1024, 10), 100'000));
        QVERIFY(growing.waitForResponse(timeoutMs(10000)));
        QCOMPARE(growing.takeResponse().status, 413);
        QVERIFY(consumer.waitClosed());
        QVERIFY(consumer.m_head.contains("Transfer-Encoding: chunked"));
        QVERIFY(!consumer.m_body.endsWith("0\r\n\r\n"));
        // Within the limit: streamed.
        verifyTransfer("/public/queue/m");
    }

    void streamingOff()
    {
        startServer(0);
        const TestResponse r = fetch(m_port, "POST", "/public/queue/off", pattern(MAX_BODY + 1, 11));
        QCOMPARE(r.status, 413);
        QCOMPARE(r.body, QByteArray("Payload too large (limit 65536 bytes)\n"));
        QCOMPARE(fetch(m_port, "POST", "/public/queue/off?timeout=1", pattern(MAX_BODY, 11)).status, 504);
    }

    // Only requests that hand their body to a receiver stream it.
    void streamedBodyElsewhere()
    {
        startServer();
        const TestResponse r = fetch(m_port, "POST", "/public/res/api?switch=true", pattern(MAX_BODY + 1, 12));
        QCOMPARE(r.status, 413);
        QCOMPARE(fetch(m_port, "POST", "/healthz", pattern(MAX_BODY + 1, 12)).status, 413);
    }
};

QTEST_GUILESS_MAIN(TestStreamedTransfer)
#include "tst_streamedtransfer.moc"
