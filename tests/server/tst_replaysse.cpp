// SPDX-License-Identifier: MIT
// Integration tests of lossless subscriptions (PROTOCOL §4.1): message ids, replay with since=,
// Patch-Gap, and Server-Sent Event streams, on the real relay over loopback.
#include <QDateTime>
#include <QElapsedTimer>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>

#include <functional>
#include <memory>

#include "manualclock.h"
#include "protocol/sse.h"
#include "relay/eventstreams.h"
#include "relay/relayserver.h"
#include "testhttpclient.h"
#include "testutil.h"
#include "util/clock.h"

using namespace Qt::StringLiterals;
using namespace Patchwork;
using namespace Patchwork::Server;
using namespace Patchwork::Test;

namespace
{

// A raw SSE client on one loopback connection. Unlike TestHttpClient it decodes the chunked body as it
// arrives and splits it into events with the client library's parser (comments kept apart).
class SseClient
{
public:
    explicit SseClient(quint16 port)
    {
        m_parser.setKeepComments(true);
        QObject::connect(&m_socket, &QTcpSocket::readyRead, &m_socket, [this]() { onReadyRead(); });
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        m_socket.waitForConnected(timeoutMs(5000));
    }

    void open(QByteArrayView target, const HeaderList &requestHeaders = {})
    {
        m_socket.write(TestHttpClient::request("GET", target, {}, requestHeaders));
        m_socket.flush();
    }

    bool waitForHead()
    {
        QElapsedTimer t;
        t.start();
        while (!m_headDone && m_socket.state() == QAbstractSocket::ConnectedState && t.elapsed() < timeoutMs(5000)) {
            QTest::qWait(2);
        }
        return m_headDone;
    }

    bool waitForEvents(qsizetype n)
    {
        QElapsedTimer t;
        t.start();
        while (events.size() < n && t.elapsed() < timeoutMs(5000)) {
            QTest::qWait(2);
        }
        return events.size() >= n;
    }

    QByteArrayList datas() const
    {
        QByteArrayList out;
        for (const SseEvent &e : events) {
            out.append(e.data);
        }
        return out;
    }

    QTcpSocket *socket()
    {
        return &m_socket;
    }

    // A paused client reads nothing, so (with a small read buffer) the kernel buffers fill up.
    void setPaused(bool paused)
    {
        m_paused = paused;
        if (!paused) {
            onReadyRead();
        }
    }

    int status = 0;
    HeaderList headers;
    QByteArray text; // the decoded body so far
    QList<SseEvent> events;
    QByteArrayList comments;
    bool ended = false; // the last chunk arrived
    QByteArray afterEnd; // bytes received after the stream's last chunk (a next response)

    QByteArray header(QByteArrayView name) const
    {
        for (const auto &h : headers) {
            if (QByteArrayView(h.first).compare(name, Qt::CaseInsensitive) == 0) {
                return h.second;
            }
        }
        return {};
    }

private:
    void onReadyRead()
    {
        if (m_paused) {
            return;
        }
        m_buf += m_socket.readAll();
        if (!m_headDone) {
            const qsizetype end = m_buf.indexOf("\r\n\r\n");
            if (end < 0) {
                return;
            }
            const QList<QByteArray> lines = m_buf.left(end).split('\n');
            status = lines.first().split(' ').value(1).toInt();
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const QByteArray line = lines.at(i).trimmed();
                const qsizetype colon = line.indexOf(':');
                headers.append({line.left(colon), line.mid(colon + 1).trimmed()});
            }
            m_buf.remove(0, end + 4);
            m_headDone = true;
        }
        while (!ended) {
            const qsizetype nl = m_buf.indexOf("\r\n");
            if (nl < 0) {
                return;
            }
            bool ok = false;
            const qsizetype size = m_buf.left(nl).toLongLong(&ok, 16);
            if (!ok || m_buf.size() < nl + 2 + size + 2) {
                return;
            }
            if (size == 0) {
                ended = true;
                m_buf.remove(0, nl + 4);
                break;
            }
            text += m_buf.mid(nl + 2, size);
            events += m_parser.feed(QByteArrayView(m_buf).sliced(nl + 2, size));
            comments += m_parser.takeComments();
            m_buf.remove(0, nl + 2 + size + 2);
        }
        afterEnd += m_buf;
        m_buf.clear();
    }

    QTcpSocket m_socket;
    QByteArray m_buf;
    bool m_headDone = false;
    bool m_paused = false;
    SseParser m_parser;
};

} // namespace

class TestReplaySse final : public QObject
{
    Q_OBJECT

private:
    void startServer(const RelayServer::Settings &settings = {}, Clock *clock = nullptr)
    {
        m_relay.reset();
        m_relay = std::make_unique<RelayServer>(clock ? clock : &m_clock);
        m_relay->setSettings(settings);
        QVERIFY(m_relay->listen(QHostAddress::LocalHost, 0));
        m_port = m_relay->port();
    }
    TestResponse get(QByteArrayView target, const HeaderList &headers = {})
    {
        return fetch(m_port, "GET", target, {}, headers);
    }
    TestResponse publish(QByteArrayView target, const QByteArray &body, const HeaderList &headers = {})
    {
        return fetch(m_port, "POST", target, body, headers);
    }
    bool waitFor(const std::function<bool()> &condition)
    {
        QElapsedTimer t;
        t.start();
        while (!condition() && t.elapsed() < timeoutMs(5000)) {
            QTest::qWait(2);
        }
        return condition();
    }
    bool waitStreams(qsizetype n)
    {
        return waitFor([this, n]() { return m_relay->hub()->streamCount() == n; });
    }
    bool waitConsumers(qsizetype n)
    {
        return waitFor([this, n]() { return m_relay->hub()->waitingCount(Waiter::Role::Consumer) == n; });
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

    // --- ids and replay ------------------------------------------------------------------------

    void idsToEveryReceiverAndPublisher()
    {
        TestHttpClient a(m_port);
        TestHttpClient b(m_port);
        a.get("/public/pubsub/ids");
        b.get("/p/pubsub/ids");
        SseClient s(m_port);
        s.open("/public/pubsub/ids?stream=sse");
        QVERIFY(s.waitForHead());
        QVERIFY(waitConsumers(3));
        const TestResponse pub = publish("/public/pubsub/ids", "hello");
        QCOMPARE(pub.status, 200);
        QCOMPARE(pub.header("Patch-Subscribers"), "3"_ba);
        const QByteArray id = pub.header("Patch-Id");
        const QByteArray time = pub.header("Patch-Time");
        QVERIFY(QRegularExpression(u"^[A-Za-z0-9_-]*[A-Za-z_-][A-Za-z0-9_-]*$"_s)
                    .match(QString::fromLatin1(id))
                    .hasMatch());
        QVERIFY(qAbs(time.toLongLong() - QDateTime::currentSecsSinceEpoch()) < 60);
        for (TestHttpClient *c : {&a, &b}) {
            QVERIFY(c->waitForResponse());
            const TestResponse r = c->takeResponse();
            QCOMPARE(r.body, "hello"_ba);
            QCOMPARE(r.header("Patch-Id"), id);
            QCOMPARE(r.header("Patch-Time"), time);
        }
        QVERIFY(s.waitForEvents(1));
        QCOMPARE(s.events.first().id, id);

        // Ids are ordered within the channel: a later message sorts after.
        const QByteArray next = publish("/public/pubsub/ids", "again").header("Patch-Id");
        QVERIFY(next.size() > id.size() || (next.size() == id.size() && next > id));
    }

    void sinceValues_data()
    {
        QTest::addColumn<QByteArray>("since");
        QTest::addColumn<QByteArray>("body"); // empty: the GET waits (here: until ?timeout=)
        QTest::addColumn<bool>("gap");
        QTest::addRow("all") << "all"_ba
                             << "m1"_ba << false;
        QTest::addRow("after m1") << "#1"_ba
                                  << "m2"_ba << false;
        QTest::addRow("after the newest") << "#3"_ba << QByteArray() << false;
        QTest::addRow("unknown id") << "no-such-id"_ba
                                    << "m1"_ba << true;
        QTest::addRow("unix seconds of m1") << "@1"_ba
                                            << "m1"_ba << false;
        QTest::addRow("unix seconds in the future") << "9999999999"_ba << QByteArray() << false;
        QTest::addRow("duration") << "1h"_ba
                                  << "m1"_ba << false;
        QTest::addRow("empty") << ""_ba << QByteArray() << false;
    }

    void sinceValues()
    {
        QFETCH(QByteArray, since);
        QFETCH(QByteArray, body);
        QFETCH(bool, gap);
        QByteArrayList ids;
        QByteArrayList times;
        for (int i = 1; i <= 3; ++i) {
            const TestResponse r =
                publish("/public/pubsub/since", "m" + QByteArray::number(i), {{"Content-Type"_ba, "text/x-test"_ba}});
            QCOMPARE(r.header("Patch-Subscribers"), "0"_ba);
            ids.append(r.header("Patch-Id"));
            times.append(r.header("Patch-Time"));
        }
        QByteArray value = since;
        if (since.startsWith('#')) {
            value = ids.at(since.mid(1).toInt() - 1);
        } else if (since.startsWith('@')) {
            value = times.at(since.mid(1).toInt() - 1);
        }
        const TestResponse r = get(QByteArray("/public/pubsub/since?timeout=0.3&since=" + value));
        if (body.isEmpty()) {
            QCOMPARE(r.status, 204);
            return;
        }
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, body);
        QCOMPARE(r.header("Patch-Id"), ids.at(body.back() - '1'));
        QCOMPARE(r.header("Patch-Gap"), gap ? "true"_ba : QByteArray());
        QCOMPARE(r.header("Content-Type"), "text/x-test"_ba); // the publisher's headers come along
    }

    void sinceWaitsThenGetsNext()
    {
        const QByteArray id = publish("/public/pubsub/w", "old").header("Patch-Id");
        TestHttpClient c(m_port);
        c.get(QByteArray("/public/pubsub/w?since=" + id));
        QVERIFY(waitConsumers(1));
        QVERIFY(!c.hasResponse());
        publish("/public/pubsub/w", "new");
        QVERIFY(c.waitForResponse());
        const TestResponse r = c.takeResponse();
        QCOMPARE(r.body, "new"_ba);
        QVERIFY(r.header("Patch-Gap").isEmpty());
    }

    void reconnectGetsMissedMessages()
    {
        // A long-polling subscriber takes m1, goes away while m2..m4 are published, and gets all three on
        // reconnecting with since=<the last id it saw>, then waits for m5.
        const QByteArray path = "/public/pubsub/missed"_ba;
        QByteArray last;
        {
            TestHttpClient c(m_port);
            c.get(path);
            QVERIFY(waitConsumers(1));
            QCOMPARE(publish(path, "m1").header("Patch-Subscribers"), "1"_ba);
            QVERIFY(c.waitForResponse());
            const TestResponse r = c.takeResponse();
            QCOMPARE(r.body, "m1"_ba);
            last = r.header("Patch-Id");
        } // disconnected
        for (int i = 2; i <= 4; ++i) {
            QCOMPARE(publish(path, "m" + QByteArray::number(i)).header("Patch-Subscribers"), "0"_ba);
        }
        QByteArrayList got;
        TestHttpClient c(m_port); // one keep-alive connection, as a script's curl loop would not even need
        for (int i = 0; i < 3; ++i) {
            c.get(QByteArray(path + "?since=" + last));
            QVERIFY(c.waitForResponse());
            const TestResponse r = c.takeResponse();
            QCOMPARE(r.status, 200);
            QVERIFY(r.header("Patch-Gap").isEmpty());
            got.append(r.body);
            last = r.header("Patch-Id");
        }
        QCOMPARE(got, (QByteArrayList{"m2"_ba, "m3"_ba, "m4"_ba}));
        c.get(QByteArray(path + "?since=" + last));
        QVERIFY(waitConsumers(1));
        QCOMPARE(publish(path, "m5").header("Patch-Subscribers"), "1"_ba);
        QVERIFY(c.waitForResponse());
        QCOMPARE(c.takeResponse().body, "m5"_ba);
    }

    void sseReconnectWithLastEventId()
    {
        const QByteArray path = "/public/pubsub/sse-missed"_ba;
        QByteArray last;
        {
            SseClient s(m_port);
            s.open(path, {{"Accept"_ba, "text/event-stream"_ba}});
            QVERIFY(waitStreams(1));
            publish(path, "m1");
            QVERIFY(s.waitForEvents(1));
            last = s.events.first().id;
        }
        QVERIFY(waitStreams(0));
        for (int i = 2; i <= 4; ++i) {
            QCOMPARE(publish(path, "m" + QByteArray::number(i)).header("Patch-Subscribers"), "0"_ba);
        }
        // As EventSource reconnects: the same URL (since=all is overridden) plus Last-Event-ID.
        SseClient s(m_port);
        s.open(QByteArray(path + "?since=all"), {{"Accept"_ba, "text/event-stream"_ba}, {"Last-Event-ID"_ba, last}});
        QVERIFY(s.waitForEvents(3));
        QCOMPARE(s.datas(), (QByteArrayList{"m2"_ba, "m3"_ba, "m4"_ba}));
        QCOMPARE(publish(path, "m5").header("Patch-Subscribers"), "1"_ba);
        QVERIFY(s.waitForEvents(4));
        QCOMPARE(s.events.last().data, "m5"_ba);
        QVERIFY(s.events.at(0).id < s.events.at(1).id || s.events.at(0).id.size() < s.events.at(1).id.size());
    }

    void sseSinceAndGap()
    {
        RelayServer::Settings settings;
        settings.hub.replay.count = 2;
        startServer(settings);
        const QByteArray path = "/public/pubsub/gap"_ba;
        QByteArrayList ids;
        for (int i = 1; i <= 4; ++i) {
            ids.append(publish(path, "m" + QByteArray::number(i)).header("Patch-Id"));
        }
        SseClient s(m_port);
        s.open(QByteArray(path + "?stream=sse&since=" + ids.first())); // m1 was evicted (2 kept)
        QVERIFY(s.waitForEvents(3));
        QCOMPARE(s.events.at(0).type, "gap"_ba);
        QCOMPARE(s.events.at(0).id, QByteArray());
        QCOMPARE(s.events.at(1).data, "m3"_ba);
        QCOMPARE(s.events.at(2).data, "m4"_ba);
        QCOMPARE(s.events.at(2).id, ids.at(3));

        // Long polling: the same gap as a header.
        const TestResponse r = get(QByteArray(path + "?since=" + ids.first()));
        QCOMPARE(r.body, "m3"_ba);
        QCOMPARE(r.header("Patch-Gap"), "true"_ba);
    }

    void replayDisabled()
    {
        RelayServer::Settings settings;
        settings.hub.replay.totalBytes = 0;
        startServer(settings);
        publish("/public/pubsub/off", "gone");
        QCOMPARE(m_relay->hub()->channelCount(), 0);
        QCOMPARE(get("/public/pubsub/off?since=all&timeout=0.2").status, 204);
    }

    void channelLiveWhileBuffered()
    {
        publish("/public/pubsub/live", "kept");
        QCOMPARE(m_relay->hub()->channelCount(), 1);
        QCOMPARE(get("/public/pubsub/live?since=all").body, "kept"_ba);
    }

    void queueMessagesNotReplayed()
    {
        TestHttpClient consumer(m_port);
        consumer.get("/public/queue/q");
        QVERIFY(waitConsumers(1));
        QCOMPARE(publish("/public/queue/q", "job").status, 200);
        QVERIFY(consumer.waitForResponse());
        QVERIFY(consumer.takeResponse().header("Patch-Id").isEmpty());
        QCOMPARE(get("/public/queue/q?since=all&timeout=0.2").status, 204);
    }

    void flexiblePaths()
    {
        // The mode is the producer's: since= and streams work on flexible paths too.
        SseClient s(m_port);
        s.open("/public/room?stream=sse");
        QVERIFY(waitStreams(1));
        QCOMPARE(get("/public/room?pubsub=true&body=hi").header("Patch-Subscribers"), "1"_ba);
        QVERIFY(s.waitForEvents(1));
        QCOMPARE(s.events.first().data, "hi"_ba);
        QCOMPARE(get("/public/room?since=all").body, "hi"_ba);
        // A queue message on the same path is not for the stream: the producer waits for a consumer.
        const TestResponse q = publish("/public/room?timeout=0.3", "queued");
        QCOMPARE(q.status, 504);
        QCOMPARE(s.events.size(), 1);
    }

    // --- Server-Sent Events ----------------------------------------------------------------------

    void sseHeadersAndDetection_data()
    {
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QByteArray>("accept");
        QTest::addColumn<int>("status"); // 200: a stream; 0: a plain consumer that waits
        QTest::addRow("stream=sse") << "/public/pubsub/d?stream=sse"_ba << QByteArray() << 200;
        QTest::addRow("stream=SSE") << "/public/pubsub/d?stream=SSE"_ba << QByteArray() << 200;
        QTest::addRow("Accept") << "/public/pubsub/d"_ba
                                << "text/event-stream"_ba << 200;
        QTest::addRow("Accept among others") << "/p/pubsub/d"_ba
                                             << "text/html, text/event-stream;q=0.9"_ba << 200;
        QTest::addRow("flexible with pubsub") << "/public/d?pubsub=true&stream=sse"_ba << QByteArray() << 200;
        QTest::addRow("Accept */*") << "/public/pubsub/d?timeout=0.2"_ba
                                    << "*/*"_ba << 204;
        QTest::addRow("queue path") << "/public/queue/d?stream=sse"_ba << QByteArray() << 400;
        QTest::addRow("queue path, Accept") << "/public/queue/d"_ba
                                            << "text/event-stream"_ba << 400;
        QTest::addRow("unknown stream") << "/public/pubsub/d?stream=ws"_ba << QByteArray() << 400;
    }

    void sseHeadersAndDetection()
    {
        QFETCH(QByteArray, target);
        QFETCH(QByteArray, accept);
        QFETCH(int, status);
        HeaderList headers;
        if (!accept.isEmpty()) {
            headers.append({"Accept"_ba, accept});
        }
        if (status != 200) {
            const TestResponse r = get(target, headers);
            QCOMPARE(r.status, status);
            if (status == 400) {
                QVERIFY(r.body.endsWith('\n'));
                QCOMPARE(m_relay->hub()->waitingCount(Waiter::Role::Consumer), 0);
            }
            return;
        }
        SseClient s(m_port);
        s.open(target, headers);
        QVERIFY(s.waitForHead());
        QCOMPARE(s.status, 200);
        QCOMPARE(s.header("Content-Type"), "text/event-stream"_ba);
        QCOMPARE(s.header("Cache-Control"), "no-cache"_ba);
        QCOMPARE(s.header("X-Accel-Buffering"), "no"_ba);
        QCOMPARE(s.header("Transfer-Encoding"), "chunked"_ba);
        QCOMPARE(s.header("Access-Control-Allow-Origin"), "*"_ba);
        QVERIFY(waitStreams(1));
        QCOMPARE(m_relay->hub()->waitingCount(Waiter::Role::Consumer), 1);
    }

    void sseFraming_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("wire"); // the event's lines after the id line
        QTest::addColumn<QByteArray>("type");
        QTest::addColumn<QByteArray>("data"); // what EventSource reports
        QTest::addRow("one line") << "hello"_ba
                                  << "event: message\ndata: hello\n\n"_ba
                                  << "message"_ba
                                  << "hello"_ba;
        QTest::addRow("lines") << "a\nb\nc"_ba
                               << "event: message\ndata: a\ndata: b\ndata: c\n\n"_ba
                               << "message"_ba
                               << "a\nb\nc"_ba;
        QTest::addRow("CRLF and CR") << "a\r\nb\rc"_ba
                                     << "event: message\ndata: a\ndata: b\ndata: c\n\n"_ba
                                     << "message"_ba
                                     << "a\nb\nc"_ba;
        QTest::addRow("trailing newline") << "a\n"_ba
                                          << "event: message\ndata: a\ndata: \n\n"_ba
                                          << "message"_ba
                                          << "a\n"_ba;
        QTest::addRow("blank lines") << "\n\nx"_ba
                                     << "event: message\ndata: \ndata: \ndata: x\n\n"_ba
                                     << "message"_ba
                                     << "\n\nx"_ba;
        QTest::addRow("looks like a field") << "data: x\nid: 7\n:comment"_ba
                                            << "event: message\ndata: data: x\ndata: id: 7\ndata: :comment\n\n"_ba
                                            << "message"_ba
                                            << "data: x\nid: 7\n:comment"_ba;
        QTest::addRow("UTF-8") << "gr\xc3\xbc\xc3\x9f \xe2\x9c\x93"_ba
                               << "event: message\ndata: gr\xc3\xbc\xc3\x9f \xe2\x9c\x93\n\n"_ba
                               << "message"_ba
                               << "gr\xc3\xbc\xc3\x9f \xe2\x9c\x93"_ba;
        QTest::addRow("not UTF-8") << "\xff\xfe\x00\x01"_ba
                                   << "event: binary\ndata: //4AAQ==\n\n"_ba
                                   << "binary"_ba
                                   << "//4AAQ=="_ba;
        QTest::addRow("truncated UTF-8") << "ok\xc3"_ba
                                         << "event: binary\ndata: b2vD\n\n"_ba
                                         << "binary"_ba
                                         << "b2vD"_ba;
        QTest::addRow("empty") << QByteArray() << "event: message\ndata: \n\n"_ba
                               << "message"_ba << QByteArray();
    }

    void sseFraming()
    {
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, wire);
        QFETCH(QByteArray, type);
        QFETCH(QByteArray, data);
        SseClient s(m_port);
        s.open("/public/pubsub/frames?stream=sse");
        QVERIFY(waitStreams(1));
        const QByteArray id =
            publish("/public/pubsub/frames", body, {{"Content-Type"_ba, "application/octet-stream"_ba}})
                .header("Patch-Id");
        QVERIFY(s.waitForEvents(1));
        QCOMPARE(s.text, "id: " + id + "\n" + wire);
        QCOMPARE(s.events.first().id, id);
        QCOMPARE(s.events.first().type, type);
        QCOMPARE(s.events.first().data, data);
        if (type == "binary") {
            QCOMPARE(QByteArray::fromBase64(s.events.first().data), body);
        }
        // The same framing comes from the encoder used for every stream.
        QCOMPARE(Sse::encodeMessage(id, body), "id: " + id + "\n" + wire);
    }

    void sseLargeEventSharedByAll()
    {
        QList<std::shared_ptr<SseClient>> clients;
        for (int i = 0; i < 20; ++i) {
            clients.append(std::make_shared<SseClient>(m_port));
            clients.last()->open("/public/pubsub/big?stream=sse");
        }
        QVERIFY(waitStreams(20));
        QByteArray body(300 * 1024, 'x');
        for (qsizetype i = 0; i < body.size(); i += 100) {
            body[i] = '\n';
        }
        QCOMPARE(publish("/public/pubsub/big", body).header("Patch-Subscribers"), "20"_ba);
        for (const auto &c : clients) {
            QVERIFY(c->waitForEvents(1));
            QCOMPARE(c->events.first().data, body);
        }
    }

    void sseCountsInPatchSubscribers()
    {
        QList<std::shared_ptr<SseClient>> streams;
        for (int i = 0; i < 3; ++i) {
            streams.append(std::make_shared<SseClient>(m_port));
            streams.last()->open("/public/pubsub/count?stream=sse");
        }
        TestHttpClient a(m_port);
        TestHttpClient b(m_port);
        a.get("/public/pubsub/count");
        b.get("/public/pubsub/count");
        QVERIFY(waitConsumers(5));
        QCOMPARE(m_relay->hub()->streamCount(), 3);
        QCOMPARE(publish("/public/pubsub/count", "x").header("Patch-Subscribers"), "5"_ba);
        // Streams stay subscribed; the long-polling consumers must come back.
        QCOMPARE(publish("/public/pubsub/count", "y").header("Patch-Subscribers"), "3"_ba);
        for (const auto &s : streams) {
            QVERIFY(s->waitForEvents(2));
            QCOMPARE(s->datas(), (QByteArrayList{"x"_ba, "y"_ba}));
        }
    }

    void sseTimeoutEndsStream()
    {
        SseClient s(m_port);
        s.open("/public/pubsub/t?stream=sse&timeout=0.3");
        QVERIFY(s.waitForHead());
        QTRY_VERIFY_WITH_TIMEOUT(s.ended, timeoutMs(5000));
        QCOMPARE(m_relay->hub()->streamCount(), 0);
        // The connection is kept alive for the next request.
        s.socket()->write(TestHttpClient::request("GET", "/healthz"));
        QTRY_VERIFY_WITH_TIMEOUT(s.afterEnd.endsWith("OK!\n"), timeoutMs(5000));
    }

    void sseClientLeaves()
    {
        {
            SseClient s(m_port);
            s.open("/public/pubsub/leave?stream=sse");
            QVERIFY(waitStreams(1));
        }
        QVERIFY(waitStreams(0));
        QVERIFY(waitFor([this]() { return m_relay->httpServer()->connectionCount() == 0; }));
        QCOMPARE(publish("/public/pubsub/leave", "x").header("Patch-Subscribers"), "0"_ba);
    }

    void sseKeepalive()
    {
        ManualClock clock;
        RelayServer::Settings settings;
        startServer(settings, &clock);
        SseClient a(m_port);
        SseClient b(m_port);
        a.open("/public/pubsub/ka?stream=sse");
        b.open("/public/pubsub/other?stream=sse");
        QVERIFY(waitStreams(2));
        clock.advance(29'999);
        // A barrier on a's connection: a keepalive written before this event would arrive before it.
        QCOMPARE(publish("/public/pubsub/ka", "event").status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(a.events.size(), 1, timeoutMs(5000));
        QCOMPARE(a.comments.size(), 0);
        clock.advance(1);
        QTRY_COMPARE_WITH_TIMEOUT(a.comments.size(), 1, timeoutMs(5000));
        QTRY_COMPARE_WITH_TIMEOUT(b.comments.size(), 1, timeoutMs(5000));
        QCOMPARE(a.comments.first(), "keepalive"_ba);
        QCOMPARE(a.events.size(), 1); // EventSource ignores comments
        clock.advance(30'000);
        QTRY_COMPARE_WITH_TIMEOUT(a.comments.size(), 2, timeoutMs(5000));
        m_relay.reset(); // before the clock goes
    }

    void slowSseClientDropped()
    {
        RelayServer::Settings settings;
        settings.events.maxUnsentBytes = 64 * 1024;
        settings.hub.replay.count = 0;
        startServer(settings);
        const QByteArray path = "/public/pubsub/slow"_ba;
        SseClient fast(m_port);
        fast.open(QByteArray(path + "?stream=sse"));
        SseClient slow(m_port);
        slow.socket()->setReadBufferSize(4096);
        slow.open(QByteArray(path + "?stream=sse"));
        QVERIFY(waitStreams(2));
        QVERIFY(slow.waitForHead());
        slow.setPaused(true); // reads no more, so the kernel buffers fill up

        const QByteArray body(512 * 1024, 'z');
        int published = 0;
        int droppedAt = -1;
        for (; published < 60 && droppedAt < 0; ++published) {
            const TestResponse r = publish(path, body);
            QCOMPARE(r.status, 200);
            if (r.header("Patch-Subscribers") == "1") {
                droppedAt = published;
            } else {
                QCOMPARE(r.header("Patch-Subscribers"), "2"_ba);
            }
            // The fast client keeps up: it has every event so far, whatever the slow one does.
            QVERIFY(fast.waitForEvents(published + 1));
        }
        QVERIFY2(droppedAt > 0, "the slow client was never dropped");
        QCOMPARE(m_relay->hub()->streamCount(), 1);
        QCOMPARE(m_relay->hub()->waitingCount(Waiter::Role::Consumer), 1);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(publish(path, "more").header("Patch-Subscribers"), "1"_ba);
        }
        QVERIFY(fast.waitForEvents(published + 3));
        QCOMPARE(fast.events.last().data, "more"_ba);

        // The slow client finds its connection closed once it reads what had reached it, which ends
        // on an event boundary or mid-event but never carries anything published after the drop.
        slow.socket()->setReadBufferSize(0);
        slow.setPaused(false);
        QTRY_VERIFY_WITH_TIMEOUT(slow.socket()->state() == QAbstractSocket::UnconnectedState, timeoutMs(10000));
        QVERIFY(!slow.ended);
        QVERIFY(slow.events.size() < droppedAt + 1);
        for (const SseEvent &e : std::as_const(slow.events)) {
            QCOMPARE(e.data, body);
        }
        QTRY_COMPARE_WITH_TIMEOUT(m_relay->httpServer()->connectionCount(), 1, timeoutMs(5000)); // the fast stream
    }

    void shutdownEndsStreams()
    {
        SseClient s(m_port);
        s.open("/public/pubsub/sd?stream=sse");
        QVERIFY(waitStreams(1));
        QSignalSpy stopped(m_relay.get(), &RelayServer::stopped);
        m_relay->shutdown(5000);
        QTRY_VERIFY_WITH_TIMEOUT(s.ended, timeoutMs(5000));
        QTRY_VERIFY_WITH_TIMEOUT(s.socket()->state() == QAbstractSocket::UnconnectedState, timeoutMs(5000));
        QVERIFY(stopped.wait(timeoutMs(3000)));
    }
};

QTEST_GUILESS_MAIN(TestReplaySse)
#include "tst_replaysse.moc"
