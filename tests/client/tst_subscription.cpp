// SPDX-License-Identifier: MIT
// The subscription's state machine on a manual clock, against a scripted HTTP server over loopback:
// backoff, Retry-After, terminal client errors, the inactivity watchdog, wake-ups and event decoding.
#include <QDateTime>
#include <QLocale>
#include <QRegularExpression>
#include <QSet>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

#include <memory>

#include "client/subscription.h"
#include "client/wakedetector.h"
#include "manualclock.h"
#include "scriptedhttpserver.h"
#include "testutil.h"

using namespace Qt::StringLiterals;
using namespace Patchwork;
using namespace Patchwork::Client;
using namespace Patchwork::Test;

using Status = Subscription::Status;

class TestSubscription final : public QObject
{
    Q_OBJECT

private:
    // Builds a subscription to the scripted server without jitter, so delays are exact.
    void setUp(double jitter = 0)
    {
        m_clock = std::make_unique<ManualClock>();
        m_server = std::make_unique<ScriptedHttpServer>();
        QVERIFY(m_server->listen());
        m_sub = std::make_unique<Subscription>(m_clock.get());
        Subscription::Settings settings;
        settings.jitter = jitter;
        m_sub->setSettings(settings);
        m_sub->setUrl(m_server->url(u"/public/pubsub/news"_s));
        connect(m_sub.get(), &Subscription::messageReceived, this, [this](const Event &e) { m_events.append(e); });
    }

    // The delay until the next attempt, once the current one has failed.
    qint64 waitForDelay()
    {
        if (!QTest::qWaitFor([this]() { return m_sub->nextAttemptMs() >= 0; }, timeoutMs(5000))) {
            return -1;
        }
        return m_sub->nextAttemptMs() - m_clock->monotonicMs();
    }

    bool waitForRequests(qsizetype n)
    {
        return QTest::qWaitFor([this, n]() { return m_server->requests.size() >= n; }, timeoutMs(5000))
               && m_server->requests.size() == n;
    }

    // Opens a stream for the next request and waits until the subscription is connected.
    bool connectStream()
    {
        m_server->enqueue(ScriptedHttpServer::streamHead());
        return QTest::qWaitFor([this]() { return m_sub->status() == Status::Connected; }, timeoutMs(5000));
    }

    std::unique_ptr<ManualClock> m_clock;
    std::unique_ptr<ScriptedHttpServer> m_server;
    std::unique_ptr<Subscription> m_sub;
    QList<Event> m_events;

private Q_SLOTS:
    void init()
    {
        QTest::failOnWarning(QRegularExpression(u".*"_s));
        m_events.clear();
    }
    void cleanup()
    {
        m_sub.reset();
        m_server.reset();
        m_clock.reset();
    }

    void request()
    {
        setUp();
        QSignalSpy statusSpy(m_sub.get(), &Subscription::statusChanged);
        QCOMPARE(m_sub->status(), Status::Idle);
        m_sub->setLastEventId("persisted-7");
        m_sub->start();
        QCOMPARE(m_sub->status(), Status::Connecting);
        QCOMPARE(statusSpy.size(), 1);
        QVERIFY(waitForRequests(1));
        const ScriptedHttpServer::Request r = m_server->requests.first();
        QCOMPARE(r.method, "GET"_ba);
        QCOMPARE(r.target, "/public/pubsub/news?stream=sse"_ba);
        QCOMPARE(r.header("Accept"), "text/event-stream"_ba);
        QCOMPARE(r.header("Last-Event-ID"), "persisted-7"_ba);
        QCOMPARE(r.header("Authorization"), QByteArray()); // no token, no header
        QVERIFY(connectStream());
        QCOMPARE(m_sub->errorString(), QString());
    }

    void backoffSequence()
    {
        setUp();
        m_sub->start();
        const QList<qint64> delays{1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
        for (qsizetype i = 0; i < delays.size(); ++i) {
            QVERIFY(waitForRequests(i + 1));
            m_server->enqueue(ScriptedHttpServer::response(502, "Bad gateway\n"));
            QCOMPARE(waitForDelay(), delays.at(i));
            QCOMPARE(m_sub->status(), Status::Reconnecting);
            QCOMPARE(m_sub->retryIn(), int(delays.at(i) / 1000));
            QCOMPARE(m_sub->errorString(), u"HTTP 502: Bad gateway"_s);
            // Not a moment early: the attempt starts (synchronously, on the clock's wake-up) when due.
            QCOMPARE(m_clock->nextWake(), m_sub->nextAttemptMs());
            m_clock->advance(delays.at(i) - 1);
            QCOMPARE(m_sub->nextAttemptMs() - m_clock->monotonicMs(), 1);
            QCOMPARE(m_clock->nextWake(), m_sub->nextAttemptMs()); // asked for again
            QCOMPARE(m_sub->retryIn(), 1);
            m_clock->advance(1);
            QCOMPARE(m_sub->nextAttemptMs(), -1);
            QCOMPARE(m_sub->status(), Status::Reconnecting);
        }
        QVERIFY(waitForRequests(delays.size() + 1));
    }

    void networkErrorsBackOff()
    {
        setUp();
        // Nothing listens on the port of a closed server: connection refused.
        QTcpServer closed;
        QVERIFY(closed.listen(QHostAddress::LocalHost, 0));
        const quint16 port = closed.serverPort();
        closed.close();
        m_sub->setUrl(QUrl(u"http://127.0.0.1:%1/public/pubsub/x"_s.arg(port)));
        m_sub->start();
        QCOMPARE(waitForDelay(), 1000);
        QCOMPARE(m_sub->status(), Status::Reconnecting);
        QVERIFY(!m_sub->errorString().isEmpty());
        m_clock->advance(1000);
        QCOMPARE(waitForDelay(), 2000);
    }

    void jitter()
    {
        setUp(0.2);
        QSet<qint64> seen;
        for (int i = 0; i < 8; ++i) {
            m_sub->start(); // resets the backoff
            QVERIFY(waitForRequests(i + 1));
            m_server->enqueue(ScriptedHttpServer::response(503, "Busy\n"));
            const qint64 delay = waitForDelay();
            QVERIFY2(delay >= 800 && delay <= 1200, QByteArray::number(delay));
            seen.insert(delay);
        }
        QVERIFY(seen.size() > 1);
    }

    void retryAfter_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("retryAfter"); // "+N": an HTTP date N seconds from now
        QTest::addColumn<qint64>("delay");
        QTest::addRow("429 with seconds") << 429 << "7"_ba << qint64(7000);
        QTest::addRow("503 with an HTTP date") << 503 << "+20"_ba << qint64(20000);
        QTest::addRow("a date in the past: the backoff") << 503 << "+-30"_ba << qint64(1000);
        QTest::addRow("shorter than the backoff") << 429 << "0"_ba << qint64(1000);
        QTest::addRow("capped at an hour") << 503 << "999999"_ba << qint64(3600000);
        QTest::addRow("invalid: the backoff") << 503 << "soon"_ba << qint64(1000);
        QTest::addRow("408 without") << 408 << QByteArray() << qint64(1000);
    }

    void retryAfter()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, retryAfter);
        QFETCH(qint64, delay);
        setUp();
        if (retryAfter.startsWith('+')) {
            const QDateTime at =
                QDateTime::fromMSecsSinceEpoch(m_clock->unixMs(), Qt::UTC).addSecs(retryAfter.mid(1).toInt());
            retryAfter = QLocale::c().toString(at, u"ddd, dd MMM yyyy hh:mm:ss 'GMT'"_s).toLatin1();
        }
        HeaderList headers;
        if (!retryAfter.isEmpty()) {
            headers.append({"Retry-After"_ba, retryAfter});
        }
        m_sub->start();
        m_server->enqueue(ScriptedHttpServer::response(status, "Slow down\n", headers));
        QCOMPARE(waitForDelay(), delay);
        QCOMPARE(m_sub->status(), Status::Reconnecting);
        QCOMPARE(m_sub->errorString(), u"HTTP %1: Slow down"_s.arg(status));
    }

    void terminalErrors_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("error");
        QTest::addRow("401") << 401 << "Access denied: token not found\n"_ba << u"Access denied: token not found"_s;
        QTest::addRow("403") << 403 << "Access denied: token does not match patterns\n"_ba
                             << u"Access denied: token does not match patterns"_s;
        QTest::addRow("404") << 404 << "Not found\n"_ba << u"Not found"_s;
        QTest::addRow("400 without a body") << 400 << QByteArray() << u"HTTP 400"_s;
    }

    void terminalErrors()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(QString, error);
        setUp();
        m_sub->setToken(u"wrong"_s);
        m_sub->start();
        m_server->enqueue(ScriptedHttpServer::response(status, body, {{"WWW-Authenticate"_ba, "Bearer"_ba}}));
        QVERIFY(QTest::qWaitFor([this]() { return m_sub->status() == Status::Failed; }, timeoutMs(5000)));
        QCOMPARE(m_sub->errorString(), error);
        QCOMPARE(m_server->requests.first().header("Authorization"), "Bearer wrong"_ba);
        QCOMPARE(m_sub->nextAttemptMs(), -1);
        QCOMPARE(m_sub->retryIn(), 0);
        // Nothing brings it back by itself: not time, not a wake-up.
        m_clock->advance(3'600'000);
        m_sub->reconnectNow();
        QCOMPARE(m_sub->status(), Status::Failed);
        QCOMPARE(m_sub->errorString(), error);
        // An edit does.
        m_sub->setToken(u"right"_s);
        QCOMPARE(m_sub->status(), Status::Connecting);
        QCOMPARE(m_sub->errorString(), QString());
        QVERIFY(waitForRequests(2));
        QCOMPARE(m_server->requests.at(1).header("Authorization"), "Bearer right"_ba);
        QVERIFY(connectStream());
    }

    void eventsAndResume()
    {
        setUp();
        QSignalSpy gaps(m_sub.get(), &Subscription::gapDetected);
        QSignalSpy ids(m_sub.get(), &Subscription::lastEventIdChanged);
        m_sub->start();
        QVERIFY(connectStream());
        m_server->send(":keepalive\n\nevent: gap\ndata: true\n\n"
                       "id: a1\nevent: message\ndata: line 1\ndata: line 2\n\n"
                       "id: a2\nevent: binary\ndata: /wAB\n\n"_ba);
        QTRY_COMPARE_WITH_TIMEOUT(m_events.size(), 2, timeoutMs(5000));
        QCOMPARE(gaps.size(), 1);
        QCOMPARE(m_events.at(0).id, "a1"_ba);
        QCOMPARE(m_events.at(0).type, "message"_ba);
        QCOMPARE(m_events.at(0).data, "line 1\nline 2"_ba);
        QCOMPARE(m_events.at(1).id, "a2"_ba);
        QCOMPARE(m_events.at(1).type, "binary"_ba);
        QCOMPARE(m_events.at(1).data, "\xff\x00\x01"_ba);
        QCOMPARE(m_sub->lastEventId(), "a2"_ba);
        QCOMPARE(ids.size(), 2);

        // Cut: the connection had delivered, so the backoff starts afresh, and the next one resumes.
        m_server->cutStream();
        QCOMPARE(waitForDelay(), 1000);
        QCOMPARE(m_sub->status(), Status::Reconnecting);
        m_clock->advance(1000);
        QVERIFY(waitForRequests(2));
        QCOMPARE(m_server->requests.at(1).header("Last-Event-ID"), "a2"_ba);
        QVERIFY(connectStream());
    }

    void backoffResetsOnlyAfterAGoodConnection()
    {
        setUp();
        m_sub->start();
        m_server->enqueue(ScriptedHttpServer::response(503));
        QCOMPARE(waitForDelay(), 1000);
        m_clock->advance(1000);
        m_server->enqueue(ScriptedHttpServer::response(503));
        QCOMPARE(waitForDelay(), 2000);
        m_clock->advance(2000);
        // A stream that ends at once, having delivered nothing, counts as a failure.
        QVERIFY(connectStream());
        m_server->endStream();
        QCOMPARE(waitForDelay(), 4000);
        QCOMPARE(m_sub->errorString(), u"The server ended the stream"_s);
        m_clock->advance(4000);
        // One that stayed up long enough resets the backoff.
        QVERIFY(connectStream());
        m_clock->advance(30'000);
        m_server->endStream();
        QCOMPARE(waitForDelay(), 1000);
    }

    void inactivityWatchdog()
    {
        setUp();
        m_sub->start();
        QVERIFY(connectStream());
        m_clock->advance(60'000);
        QCOMPARE(m_sub->status(), Status::Connected);
        m_server->send(":keepalive\n\n");
        QTRY_COMPARE_WITH_TIMEOUT(m_sub->lastReceivedMs(), m_clock->monotonicMs(), timeoutMs(5000));
        m_clock->advance(74'999);
        QCOMPARE(m_sub->status(), Status::Connected);
        m_clock->advance(1);
        QCOMPARE(m_sub->status(), Status::Reconnecting);
        QCOMPARE(m_sub->errorString(), u"No data from the server for 75 second(s)"_s);
        QCOMPARE(m_sub->nextAttemptMs() - m_clock->monotonicMs(), 1000);
        m_clock->advance(1000);
        QVERIFY(waitForRequests(2));
    }

    void connectTimeout()
    {
        // A request that gets no answer at all is given up after the same time.
        setUp();
        m_sub->start();
        QVERIFY(waitForRequests(1));
        m_clock->advance(75'000);
        QCOMPARE(m_sub->status(), Status::Reconnecting);
        QCOMPARE(m_sub->nextAttemptMs() - m_clock->monotonicMs(), 1000);
    }

    void reconnectNowResetsBackoff()
    {
        setUp();
        m_sub->start();
        for (int i = 0; i < 4; ++i) {
            m_server->enqueue(ScriptedHttpServer::response(503));
            QVERIFY(waitForDelay() > 0);
            m_clock->advance(m_sub->nextAttemptMs() - m_clock->monotonicMs());
        }
        m_server->enqueue(ScriptedHttpServer::response(503));
        QCOMPARE(waitForDelay(), 16000);
        m_sub->reconnectNow();
        QCOMPARE(m_sub->nextAttemptMs(), -1);
        QVERIFY(waitForRequests(6));
        m_server->enqueue(ScriptedHttpServer::response(503));
        QCOMPARE(waitForDelay(), 1000);
    }

    void sleepJumpReconnectsAtOnce()
    {
        setUp();
        WakeDetector detector(m_clock.get());
        connect(&detector, &WakeDetector::wokeUp, m_sub.get(), &Subscription::reconnectNow);
        m_sub->start();
        QVERIFY(connectStream());
        m_server->send("id: before-sleep\ndata: x\n\n");
        QTRY_COMPARE_WITH_TIMEOUT(m_events.size(), 1, timeoutMs(5000));
        m_clock->advance(5000); // an ordinary tick
        QCOMPARE(m_sub->status(), Status::Connected);
        // Suspend: the wall clock moved an hour, the monotonic clock only to the next tick.
        m_clock->setUnixMs(m_clock->unixMs() + 3'600'000);
        m_clock->advance(5000);
        QCOMPARE(m_sub->status(), Status::Reconnecting);
        QCOMPARE(m_sub->nextAttemptMs(), -1); // no wait: the attempt is under way
        QVERIFY(waitForRequests(2));
        QCOMPARE(m_server->requests.at(1).header("Last-Event-ID"), "before-sleep"_ba);
        QVERIFY(connectStream());
    }

    void wakeDetector()
    {
        ManualClock clock;
        WakeDetector detector(&clock);
        QSignalSpy woke(&detector, &WakeDetector::wokeUp);
        for (int i = 0; i < 5; ++i) {
            clock.advance(5000);
        }
        QCOMPARE(clock.nextWake(), clock.monotonicMs() + 5000);
        clock.advance(1000); // another listener's wake-up: the next look is asked for again
        QCOMPARE(clock.nextWake(), clock.monotonicMs() + 4000);
        QCOMPARE(woke.size(), 0);
        clock.advance(4000);
        clock.setUnixMs(clock.unixMs() + 9000); // a small correction
        clock.advance(5000);
        QCOMPARE(woke.size(), 0);
        clock.setUnixMs(clock.unixMs() + 60'000); // the wall clock jumped
        clock.advance(5000);
        QCOMPARE(woke.size(), 1);
        clock.advance(120'000); // a timer far too late: a monotonic clock that ran during sleep
        QCOMPARE(woke.size(), 2);
        clock.advance(5000);
        QCOMPARE(woke.size(), 2);
    }

    void stopFromAReceiver()
    {
        setUp();
        connect(m_sub.get(), &Subscription::messageReceived, m_sub.get(), [this]() { m_sub->stop(); });
        m_sub->start();
        QVERIFY(connectStream());
        m_server->send("id: 1\ndata: a\n\nid: 2\ndata: b\n\n");
        QTRY_COMPARE_WITH_TIMEOUT(m_events.size(), 1, timeoutMs(5000));
        QCOMPARE(m_sub->status(), Status::Idle);
        QCOMPARE(m_sub->lastEventId(), "1"_ba);
        m_clock->advance(600'000);
        QCOMPARE(m_sub->status(), Status::Idle);
        QCOMPARE(m_events.size(), 1);
        QCOMPARE(m_server->requests.size(), 1);
    }

    void deleteFromAReceiver()
    {
        setUp();
        connect(m_sub.get(), &Subscription::messageReceived, this, [this]() { m_sub.reset(); });
        m_sub->start();
        QVERIFY(connectStream());
        m_server->send("id: 1\ndata: a\n\nid: 2\ndata: b\n\n");
        QTRY_VERIFY_WITH_TIMEOUT(!m_sub, timeoutMs(5000));
        QCOMPARE(m_events.size(), 1);
        m_clock->advance(600'000);
        QVERIFY(QTest::qWaitFor([this]() { return !m_server->isStreamOpen(); }, timeoutMs(5000)));
    }

    void oversizedEventFails()
    {
        setUp();
        Subscription::Settings settings = m_sub->settings();
        settings.maxEventBytes = 1000;
        m_sub->setSettings(settings);
        m_sub->start();
        QVERIFY(connectStream());
        // The complete event before it still arrives.
        m_server->send("id: 1\ndata: fine\n\ndata: " + QByteArray(600, 'x') + "\ndata: " + QByteArray(600, 'y'));
        QVERIFY(QTest::qWaitFor([this]() { return m_sub->status() == Status::Failed; }, timeoutMs(5000)));
        QCOMPARE(m_sub->errorString(), u"An event is larger than 1000 bytes"_s);
        QCOMPARE(m_events.size(), 1);
        QCOMPARE(m_events.first().data, "fine"_ba);
    }

    void invalidUrlFails_data()
    {
        QTest::addColumn<QUrl>("url");
        QTest::addRow("empty") << QUrl();
        QTest::addRow("relative") << QUrl(u"/public/pubsub/x"_s);
        QTest::addRow("file") << QUrl(u"file:///etc/passwd"_s);
    }

    void invalidUrlFails()
    {
        QFETCH(QUrl, url);
        setUp();
        m_sub->setUrl(url);
        m_sub->start();
        QCOMPARE(m_sub->status(), Status::Failed);
        QVERIFY(m_sub->errorString().startsWith(u"Not an http or https URL"_s));
    }

    void nonStreamAnswerFails()
    {
        setUp();
        m_sub->start();
        m_server->enqueue(ScriptedHttpServer::response(200, "one message\n", {{"Content-Type"_ba, "text/plain"_ba}}));
        QVERIFY(QTest::qWaitFor([this]() { return m_sub->status() == Status::Failed; }, timeoutMs(5000)));
        QCOMPARE(m_sub->errorString(), u"The server did not answer with an event stream"_s);
    }
};

QTEST_GUILESS_MAIN(TestSubscription)
#include "tst_subscription.moc"
