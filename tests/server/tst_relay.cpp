// SPDX-License-Identifier: MIT
// The Relay object as the daemon and the tray use it: start, stop, restart on one port, categorised
// errors, live counts over real sockets.
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include "manualclock.h"
#include "relay/relay.h"
#include "testhttpclient.h"
#include "testutil.h"

using namespace Patchwork;
using namespace Patchwork::Server;
using namespace Patchwork::Test;

class TestRelay final : public QObject
{
    Q_OBJECT

private:
    RelaySettings settings(quint16 port = 0) const
    {
        RelaySettings s;
        s.host = QHostAddress::LocalHost;
        s.port = port;
        s.dataDir = m_dir.path();
        s.usersDir = m_dir.filePath(QStringLiteral("users"));
        s.shutdownGraceMs = 2000;
        return s;
    }
    // Starts `relay` and checks that it serves.
    static void verifyServing(Relay &relay)
    {
        QVERIFY(relay.isRunning());
        QVERIFY(relay.port() != 0);
        const TestResponse r = fetch(relay.port(), "GET", "/healthz");
        QCOMPARE(r.status, 200);
    }

    QTemporaryDir m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
    }
    void init()
    {
        QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
    }

    void startStopRestartOnOnePort()
    {
        Relay relay;
        relay.setSettings(settings());
        QSignalSpy started(&relay, &Relay::started);
        QSignalSpy stopped(&relay, &Relay::stopped);
        QSignalSpy running(&relay, &Relay::runningChanged);
        QVERIFY(relay.start());
        verifyServing(relay);
        const quint16 port = relay.port();
        for (int round = 0; round < 2; ++round) {
            relay.stop();
            QVERIFY(stopped.wait(timeoutMs(5000)));
            // Later starts use the port the first one was given.
            relay.setSettings(settings(port));
            QCOMPARE(stopped.size(), round + 1);
            QVERIFY(!relay.isRunning());
            QCOMPARE(relay.port(), quint16(0));
            QVERIFY(relay.start());
            QCOMPARE(relay.port(), port);
            verifyServing(relay);
        }
        QCOMPARE(started.size(), 3);
        // One registry for every run; each run took its connections out of the gauge.
        const TestResponse metrics = fetch(relay.port(), "GET", "/metrics");
        QCOMPARE(metrics.status, 200);
        QVERIFY2(metrics.body.contains("\npatchwork_active_connections 1\n"), metrics.body.constData());
        QCOMPARE(running.size(), 5);
        // stopped() came exactly once per stop: nothing more arrives while the relay runs.
        QVERIFY(!stopped.wait(300));
        QCOMPARE(stopped.size(), 2);
    }

    void stopAnswersWaitingRequestsWith503()
    {
        Relay relay;
        relay.setSettings(settings());
        QVERIFY(relay.start());
        TestHttpClient consumer(relay.port());
        consumer.get("/public/queue/jobs");
        QTRY_COMPARE_WITH_TIMEOUT(relay.waitingCount(), qsizetype(1), timeoutMs(5000));
        QSignalSpy stopped(&relay, &Relay::stopped);
        relay.stop();
        QVERIFY(consumer.waitForResponse(timeoutMs(5000)));
        QCOMPARE(consumer.takeResponse().status, 503);
        QVERIFY(stopped.wait(timeoutMs(5000)));
        QVERIFY(!stopped.wait(300));
        QCOMPARE(stopped.size(), 1);
    }

    void portInUseIsAListenerError()
    {
        QTcpServer occupier;
        QVERIFY(occupier.listen(QHostAddress::LocalHost, 0));
        Relay relay;
        relay.setSettings(settings(occupier.serverPort()));
        QSignalSpy errors(&relay, &Relay::errorOccurred);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("already in use")));
        QVERIFY(!relay.start());
        QCOMPARE(errors.size(), 1);
        QCOMPARE(errors.first().at(1).value<ErrorCategory>(), ErrorCategory::Listener);
        const QString message = errors.first().at(0).toString();
        QVERIFY2(message.contains(QString::number(occupier.serverPort())) && message.contains(u"already in use"),
                 qPrintable(message));
        QCOMPARE(relay.errorString(), message);
        QVERIFY(!relay.isRunning());
        QCOMPARE(relay.port(), quint16(0));
        // The same relay starts once the port is free.
        occupier.close();
        QVERIFY(relay.start());
        QVERIFY(relay.errorString().isEmpty());
        verifyServing(relay);
    }

    void listenErrors_data()
    {
        QTest::addColumn<QAbstractSocket::SocketError>("error");
        QTest::addColumn<quint16>("port");
        QTest::addColumn<ErrorCategory>("category");
        QTest::addColumn<QString>("message");
        QTest::addRow("in use") << QAbstractSocket::AddressInUseError << quint16(8080) << ErrorCategory::Listener
                                << QStringLiteral("Cannot listen on 127.0.0.1:8080: port 8080 is already in use");
        QTest::addRow("privileged port")
            << QAbstractSocket::SocketAccessError << quint16(80) << ErrorCategory::Permission
            << QStringLiteral("Cannot listen on 127.0.0.1:80: permission denied (ports below 1024 need privileges)");
        QTest::addRow("access") << QAbstractSocket::SocketAccessError << quint16(8080) << ErrorCategory::Permission
                                << QStringLiteral("Cannot listen on 127.0.0.1:8080: permission denied");
        QTest::addRow("address")
            << QAbstractSocket::SocketAddressNotAvailableError << quint16(8080) << ErrorCategory::Listener
            << QStringLiteral("Cannot listen on 127.0.0.1:8080: the address is not available on this machine");
        QTest::addRow("other") << QAbstractSocket::UnknownSocketError << quint16(8080) << ErrorCategory::Listener
                               << QStringLiteral("Cannot listen on 127.0.0.1:8080: boom");
    }
    void listenErrors()
    {
        QFETCH(QAbstractSocket::SocketError, error);
        QFETCH(quint16, port);
        QFETCH(ErrorCategory, category);
        QFETCH(QString, message);
        QCOMPARE(Relay::listenErrorCategory(error), category);
        QCOMPARE(Relay::listenErrorMessage(error, QHostAddress::LocalHost, port, QStringLiteral("boom")), message);
    }

    void unusableDataDirIsAConfigError()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString file = dir.filePath(QStringLiteral("not-a-dir"));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        RelaySettings s = settings();
        s.dataDir = file + QStringLiteral("/data"); // below a regular file: cannot be created
        Relay relay;
        relay.setSettings(s);
        QSignalSpy errors(&relay, &Relay::errorOccurred);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("hook secrets")));
        QVERIFY(!relay.start());
        QCOMPARE(errors.size(), 1);
        QCOMPARE(errors.first().at(1).value<ErrorCategory>(), ErrorCategory::Config);
        QVERIFY(!relay.isRunning());
    }

    void brokenUserConfigIsAnAclError()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        RelaySettings s = settings();
        s.usersDir = dir.path();
        Relay relay;
        relay.setSettings(s);
        QVERIFY(relay.start());
        QSignalSpy errors(&relay, &Relay::errorOccurred);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("alice")));
        QVERIFY(QDir(dir.path()).mkpath(QStringLiteral("alice")));
        QFile file(dir.filePath(QStringLiteral("alice/config.yaml")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("tokens: [unclosed\n");
        file.close();
        QVERIFY(errors.wait(timeoutMs(5000)));
        QCOMPARE(errors.first().at(1).value<ErrorCategory>(), ErrorCategory::Acl);
        QVERIFY(errors.first().at(0).toString().contains(u"alice"));
        QVERIFY(relay.isRunning());
    }

    void countsFollowRealClients()
    {
        Relay relay;
        relay.setCountsInterval(10);
        relay.setSettings(settings());
        QSignalSpy waitingChanged(&relay, &Relay::waitingCountChanged);
        QVERIFY(relay.start());
        QCOMPARE(relay.waitingCount(), qsizetype(0));
        QCOMPARE(relay.channelCount(), qsizetype(0));

        TestHttpClient a(relay.port());
        TestHttpClient b(relay.port());
        a.get("/public/queue/one");
        b.get("/public/queue/two");
        QTRY_COMPARE_WITH_TIMEOUT(relay.waitingCount(), qsizetype(2), timeoutMs(5000));
        QCOMPARE(relay.channelCount(), qsizetype(2));
        QCOMPARE(relay.connectionCount(), qsizetype(2));
        QTRY_COMPARE_WITH_TIMEOUT(relay.property("waitingCount").value<qsizetype>(), qsizetype(2), timeoutMs(5000));
        QTRY_VERIFY_WITH_TIMEOUT(!waitingChanged.isEmpty() && waitingChanged.last().at(0).value<qsizetype>() == 2,
                                 timeoutMs(5000));

        a.abort();
        QTRY_COMPARE_WITH_TIMEOUT(relay.waitingCount(), qsizetype(1), timeoutMs(5000));
        QTRY_COMPARE_WITH_TIMEOUT(relay.connectionCount(), qsizetype(1), timeoutMs(5000));
        QCOMPARE(relay.channelCount(), qsizetype(1));
        QTRY_VERIFY_WITH_TIMEOUT(waitingChanged.last().at(0).value<qsizetype>() == 1, timeoutMs(5000));
    }

    void messagesPerMinuteIsASlidingWindow()
    {
        ManualClock clock;
        Relay relay(&clock);
        relay.setSettings(settings());
        QVERIFY(relay.start());
        QCOMPARE(relay.messagesPerMinute(), qint64(0));
        for (int i = 0; i < 3; ++i) {
            TestHttpClient consumer(relay.port());
            consumer.get("/public/queue/jobs");
            QTRY_COMPARE_WITH_TIMEOUT(relay.waitingCount(), qsizetype(1), timeoutMs(5000));
            const TestResponse produced = fetch(relay.port(), "POST", "/public/queue/jobs", "hello");
            QCOMPARE(produced.status, 200);
            QVERIFY(consumer.waitForResponse(timeoutMs(5000)));
            clock.advance(20'000);
        }
        // Messages at 0 s, 20 s and 40 s; now is 60 s: the first left the window.
        QCOMPARE(relay.messagesPerMinute(), qint64(2));
        clock.advance(20'000);
        QCOMPARE(relay.messagesPerMinute(), qint64(1));
        clock.advance(20'000);
        QCOMPARE(relay.messagesPerMinute(), qint64(0));
    }

    void settingsSurviveStartAndStop()
    {
        Relay relay;
        RelaySettings s = settings();
        s.server.limits.maxBody = 5;
        s.server.limits.maxStreamBody = 0; // larger bodies get 413 instead of being streamed
        relay.setSettings(s);
        QVERIFY(relay.start());
        QCOMPARE(fetch(relay.port(), "POST", "/public/pubsub/x", "123456").status, 413);
        QSignalSpy stopped(&relay, &Relay::stopped);
        relay.stop();
        QVERIFY(stopped.wait(timeoutMs(5000)));
        QCOMPARE(relay.settings().server.limits.maxBody, qint64(5));
        QVERIFY(relay.start());
        QCOMPARE(fetch(relay.port(), "POST", "/public/pubsub/x", "123456").status, 413);
        // Limits change while running.
        s.server.limits.maxBody = 100;
        relay.setSettings(s);
        QCOMPARE(fetch(relay.port(), "POST", "/public/pubsub/x", "123456").status, 200);
    }

    // The node id is part of the ids a run has issued (issue 15): a new one waits for the next start.
    void nodeIdChangesOnRestartOnly()
    {
        Relay relay;
        RelaySettings s = settings();
        s.server.hub.nodeId = "n1";
        relay.setSettings(s);
        QVERIFY(relay.start());
        QCOMPARE(fetch(relay.port(), "GET", "/healthz").header("Patch-Node"), QByteArray("n1"));
        s.server.hub.nodeId = "n2";
        QTest::ignoreMessage(QtWarningMsg, "a new node id takes effect only after a restart");
        relay.setSettings(s);
        const TestResponse published = fetch(relay.port(), "POST", "/public/pubsub/x", "m");
        QCOMPARE(published.header("Patch-Node"), QByteArray("n1"));
        QVERIFY(published.header("Patch-Id").startsWith("n1-"));
        QSignalSpy stopped(&relay, &Relay::stopped);
        relay.stop();
        QVERIFY(stopped.wait(timeoutMs(5000)));
        QVERIFY(relay.start());
        QCOMPARE(fetch(relay.port(), "GET", "/healthz").header("Patch-Node"), QByteArray("n2"));
    }

    void startDuringStopRestartsAtOnce()
    {
        Relay relay;
        relay.setSettings(settings());
        QVERIFY(relay.start());
        const quint16 port = relay.port();
        QSignalSpy stopped(&relay, &Relay::stopped);
        relay.stop();
        QVERIFY(relay.isStopping());
        QTest::ignoreMessage(QtWarningMsg, "a new host or port takes effect only after a restart");
        relay.setSettings(settings(port));
        QVERIFY(relay.start());
        QCOMPARE(relay.port(), port);
        QVERIFY(!relay.isStopping());
        verifyServing(relay);
        // The interrupted stop does not report later.
        QVERIFY(!stopped.wait(300));
    }

    // A stop whose stopped() is still on its way when start() and stop() come again must not end the
    // second run: that one reports when it has finished itself.
    void restartWhileStoppedIsQueued()
    {
        Relay relay;
        relay.setSettings(settings());
        QVERIFY(relay.start());
        QSignalSpy stopped(&relay, &Relay::stopped);
        relay.stop();
        // Let the server report, but not the relay's finish, which it queues.
        QSignalSpy serverStopped(relay.server(), &RelayServer::stopped);
        QVERIFY(serverStopped.wait(timeoutMs(5000)));
        QCOMPARE(stopped.size(), 0);
        QVERIFY(relay.start());
        relay.stop();
        QCoreApplication::processEvents(); // runs the queued finish of the first run
        QVERIFY(relay.isStopping()); // the second run waits for its own server (it polls every 50 ms)
        QVERIFY(stopped.wait(timeoutMs(5000)));
        QCOMPARE(stopped.size(), 1);
        QVERIFY(!relay.isRunning());
        QVERIFY(!stopped.wait(300));
    }
};

QTEST_GUILESS_MAIN(TestRelay)
#include "tst_relay.moc"
