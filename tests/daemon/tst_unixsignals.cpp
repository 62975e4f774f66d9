// SPDX-License-Identifier: MIT
#include <csignal>

#include <QRegularExpression>
#include <QSignalSpy>
#include <QtTest>

#include "daemon/unixsignals.h"
#include "testutil.h"

using namespace Qt::StringLiterals;
using Patchwork::Server::UnixSignals;

namespace
{

using Handler = void (*)(int);

Handler currentHandler(int signo)
{
    struct sigaction action;
    ::sigaction(signo, nullptr, &action);
    return action.sa_handler;
}

} // namespace

class TestUnixSignals final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();

    void terminate_data();
    void terminate();
    void reload();
    void severalSignalsInARow();
    void handlersUseSaRestart();
    void destructorRestoresHandlers();
    void secondInstanceIsInactive();
};

void TestUnixSignals::init()
{
    // The objects log each signal at INFO; only warnings would be a failure.
    QTest::failOnWarning(QRegularExpression(u".*"_s));
}

void TestUnixSignals::terminate_data()
{
    QTest::addColumn<int>("signo");
    QTest::addRow("SIGTERM") << int(SIGTERM);
    QTest::addRow("SIGINT") << int(SIGINT);
}

void TestUnixSignals::terminate()
{
    QFETCH(int, signo);

    UnixSignals unixSignals;
    QVERIFY(unixSignals.isActive());
    QSignalSpy terminateSpy(&unixSignals, &UnixSignals::terminateRequested);
    QSignalSpy reloadSpy(&unixSignals, &UnixSignals::reloadRequested);

    // Without the handler this would end the test process.
    QCOMPARE(::raise(signo), 0);
    QVERIFY(terminateSpy.wait(Patchwork::Test::timeoutMs(5000)));
    QCOMPARE(terminateSpy.size(), 1);
    QCOMPARE(terminateSpy.at(0).at(0).toInt(), signo);
    QCOMPARE(reloadSpy.size(), 0);
}

void TestUnixSignals::reload()
{
    UnixSignals unixSignals;
    QVERIFY(unixSignals.isActive());
    QSignalSpy terminateSpy(&unixSignals, &UnixSignals::terminateRequested);
    QSignalSpy reloadSpy(&unixSignals, &UnixSignals::reloadRequested);

    QCOMPARE(::raise(SIGHUP), 0);
    QVERIFY(reloadSpy.wait(Patchwork::Test::timeoutMs(5000)));
    QCOMPARE(reloadSpy.size(), 1);
    QCOMPARE(terminateSpy.size(), 0);
}

void TestUnixSignals::severalSignalsInARow()
{
    UnixSignals unixSignals;
    QSignalSpy terminateSpy(&unixSignals, &UnixSignals::terminateRequested);
    QSignalSpy reloadSpy(&unixSignals, &UnixSignals::reloadRequested);

    // Delivered synchronously to this thread, so each one writes its own byte before the next.
    QCOMPARE(::raise(SIGHUP), 0);
    QCOMPARE(::raise(SIGTERM), 0);
    QCOMPARE(::raise(SIGHUP), 0);
    QTRY_COMPARE_WITH_TIMEOUT(reloadSpy.size(), 2, Patchwork::Test::timeoutMs(5000));
    QTRY_COMPARE_WITH_TIMEOUT(terminateSpy.size(), 1, Patchwork::Test::timeoutMs(5000));
    QCOMPARE(terminateSpy.at(0).at(0).toInt(), int(SIGTERM));
}

void TestUnixSignals::handlersUseSaRestart()
{
    UnixSignals unixSignals;
    for (const int signo : {SIGTERM, SIGINT, SIGHUP}) {
        struct sigaction action;
        QCOMPARE(::sigaction(signo, nullptr, &action), 0);
        QVERIFY(action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN);
        QVERIFY(action.sa_flags & SA_RESTART);
    }
}

void TestUnixSignals::destructorRestoresHandlers()
{
    // Whatever the test runner left us (SIGHUP may be ignored under nohup), start from known handlers.
    const Handler original[] = {currentHandler(SIGTERM), currentHandler(SIGINT), currentHandler(SIGHUP)};
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGHUP, SIG_IGN);
    {
        UnixSignals unixSignals;
        QVERIFY(unixSignals.isActive());
        QVERIFY(currentHandler(SIGTERM) != SIG_DFL);
        QVERIFY(currentHandler(SIGINT) != SIG_DFL);
        QVERIFY(currentHandler(SIGHUP) != SIG_IGN);
    }
    QVERIFY(currentHandler(SIGTERM) == SIG_DFL);
    QVERIFY(currentHandler(SIGINT) == SIG_DFL);
    QVERIFY(currentHandler(SIGHUP) == SIG_IGN);

    ::signal(SIGTERM, original[0]);
    ::signal(SIGINT, original[1]);
    ::signal(SIGHUP, original[2]);
}

void TestUnixSignals::secondInstanceIsInactive()
{
    UnixSignals first;
    QVERIFY(first.isActive());
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"already installed"_s));
    UnixSignals second;
    QVERIFY(!second.isActive());
    QSignalSpy firstSpy(&first, &UnixSignals::reloadRequested);
    QCOMPARE(::raise(SIGHUP), 0);
    QVERIFY(firstSpy.wait(Patchwork::Test::timeoutMs(5000)));
}

QTEST_GUILESS_MAIN(TestUnixSignals)
#include "tst_unixsignals.moc"
