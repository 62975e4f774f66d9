// SPDX-License-Identifier: MIT
#include <QDBusConnectionInterface>
#include <QDBusMetaType>
#include <QSignalSpy>
#include <QSystemTrayIcon>
#include <QTest>

#include "gui/desktopnotifier.h"
#include "privatebus.h"
#include "recordingnotifications.h"
#include "testutil.h"

using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;
using Patchwork::Test::RecordingNotifications;
using Patchwork::Test::timeoutMs;

class TestDesktopNotifier final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void notifyFieldByField();
    void urgencyFromPriority_data();
    void urgencyFromPriority();
    void plainTextWithoutBodyMarkup();
    void actionOpensClickUrl();
    void actionWithoutUrlOpensHistory();
    void stormLimit();
    void fallbackWithoutService();

private:
    // Starts the bus, the recording server (unless `withServer` is false) and the notifier.
    void startAll(bool withServer = true);

    std::unique_ptr<Patchwork::Test::PrivateBus> m_bus;
    std::unique_ptr<RecordingNotifications> m_server;
    std::unique_ptr<DesktopNotifier> m_notifier;
    QList<QUrl> m_opened;
};

void TestDesktopNotifier::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
    m_opened.clear();
    m_bus = std::make_unique<Patchwork::Test::PrivateBus>();
    QVERIFY(m_bus->start());
}

void TestDesktopNotifier::cleanup()
{
    m_notifier.reset();
    m_server.reset();
    m_bus.reset();
}

void TestDesktopNotifier::startAll(bool withServer)
{
    if (withServer) {
        m_server = std::make_unique<RecordingNotifications>();
        QDBusConnection serverBus = m_bus->connect(u"server"_s);
        QVERIFY(serverBus.isConnected());
        QVERIFY(serverBus.registerObject(u"/org/freedesktop/Notifications"_s,
                                         m_server.get(),
                                         QDBusConnection::ExportAllSlots | QDBusConnection::ExportAllSignals));
        QVERIFY(serverBus.registerService(u"org.freedesktop.Notifications"_s));
    }
    m_notifier = std::make_unique<DesktopNotifier>(m_bus->connect(u"client"_s), [this](const QUrl &url) {
        m_opened.append(url);
        return true;
    });
    QSignalSpy backend(m_notifier.get(), &DesktopNotifier::backendChanged);
    QVERIFY(backend.wait(timeoutMs(5000)));
}

void TestDesktopNotifier::notifyFieldByField()
{
    startAll();
    QCOMPARE(m_notifier->backend(), DesktopNotifier::Backend::DBus);
    QVERIFY(m_notifier->supportsBodyMarkup());
    DisplayMessage m;
    m.title = u"Deploy"_s;
    m.body = u"done in 3 s"_s;
    m.markupBody = u"<b>done</b> in 3 s"_s;
    m.priority = 4;
    m.clickUrl = u"https://example.invalid/run/7"_s;
    m_notifier->show(m, u"builds"_s);
    QTRY_COMPARE_WITH_TIMEOUT(m_server->calls.size(), 1, timeoutMs(5000));
    const auto &call = m_server->calls.first();
    QCOMPARE(call.appName, u"Patchwork"_s);
    QCOMPARE(call.replacesId, 0u);
    QCOMPARE(call.appIcon, u"mail-message-new"_s);
    QCOMPARE(call.summary, u"Deploy"_s);
    QCOMPARE(call.body, u"<b>done</b> in 3 s"_s);
    QCOMPARE(call.actions, (QStringList{u"default"_s, u"Open link"_s}));
    QCOMPARE(call.hints.value(u"urgency"_s).metaType(), QMetaType::fromType<uchar>());
    QCOMPARE(call.hints.value(u"urgency"_s).value<uchar>(), uchar(1));
    QCOMPARE(call.hints.value(u"desktop-entry"_s).toString(), u"patchwork-tray"_s);
    QCOMPARE(call.timeout, -1);

    // A second message is a new notification, never a replacement of the first.
    m_notifier->show(m, u"builds"_s);
    QTRY_COMPARE_WITH_TIMEOUT(m_server->calls.size(), 2, timeoutMs(5000));
    QCOMPARE(m_server->calls.at(1).replacesId, 0u);
}

void TestDesktopNotifier::urgencyFromPriority_data()
{
    QTest::addColumn<int>("priority");
    QTest::addColumn<int>("urgency");
    QTest::addRow("1 low") << 1 << 0;
    QTest::addRow("2 low") << 2 << 0;
    QTest::addRow("3 normal") << 3 << 1;
    QTest::addRow("4 normal") << 4 << 1;
    QTest::addRow("5 critical") << 5 << 2;
}

void TestDesktopNotifier::urgencyFromPriority()
{
    QFETCH(int, priority);
    startAll();
    DisplayMessage m;
    m.title = u"t"_s;
    m.priority = priority;
    m_notifier->show(m, u"s"_s);
    QTRY_COMPARE_WITH_TIMEOUT(m_server->calls.size(), 1, timeoutMs(5000));
    QTEST(int(m_server->calls.first().hints.value(u"urgency"_s).value<uchar>()), "urgency");
}

void TestDesktopNotifier::plainTextWithoutBodyMarkup()
{
    m_server = std::make_unique<RecordingNotifications>();
    m_server->capabilities = {u"body"_s, u"actions"_s};
    QDBusConnection serverBus = m_bus->connect(u"server"_s);
    QVERIFY(
        serverBus.registerObject(u"/org/freedesktop/Notifications"_s, m_server.get(), QDBusConnection::ExportAllSlots));
    QVERIFY(serverBus.registerService(u"org.freedesktop.Notifications"_s));
    m_notifier = std::make_unique<DesktopNotifier>(m_bus->connect(u"client"_s), [](const QUrl &) { return true; });
    DisplayMessage m;
    m.title = u"t"_s;
    m.body = u"a < b"_s;
    m.markupBody = u"a &lt; b"_s;
    m_notifier->show(m, u"s"_s); // before the capabilities are known: waits for them
    QTRY_COMPARE_WITH_TIMEOUT(m_server->calls.size(), 1, timeoutMs(5000));
    QVERIFY(!m_notifier->supportsBodyMarkup());
    QCOMPARE(m_server->calls.first().body, u"a < b"_s);
}

void TestDesktopNotifier::actionOpensClickUrl()
{
    startAll();
    QSignalSpy history(m_notifier.get(), &DesktopNotifier::historyRequested);
    DisplayMessage m;
    m.title = u"t"_s;
    m.clickUrl = u"https://example.invalid/click"_s;
    m_notifier->show(m, u"s"_s);
    QTRY_COMPARE_WITH_TIMEOUT(m_server->calls.size(), 1, timeoutMs(5000));
    const uint id = m_server->nextId;
    // Wait until the notifier has the id from the reply, then click.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            Q_EMIT m_server->ActionInvoked(id, u"default"_s);
            QCoreApplication::processEvents();
            return !m_opened.isEmpty();
        }(),
        timeoutMs(5000));
    QCOMPARE(m_opened.first(), QUrl(u"https://example.invalid/click"_s));
    // Another application's notification id is ignored.
    Q_EMIT m_server->ActionInvoked(9999, u"default"_s);
    QTest::qWait(50);
    QCOMPARE(history.size(), 0);
}

void TestDesktopNotifier::actionWithoutUrlOpensHistory()
{
    startAll();
    QSignalSpy history(m_notifier.get(), &DesktopNotifier::historyRequested);
    DisplayMessage m;
    m.title = u"t"_s;
    m_notifier->show(m, u"s"_s);
    QTRY_COMPARE_WITH_TIMEOUT(m_server->calls.size(), 1, timeoutMs(5000));
    QCOMPARE(m_server->calls.first().actions, (QStringList{u"default"_s, u"Show history"_s}));
    const uint id = m_server->nextId;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            Q_EMIT m_server->ActionInvoked(id, u"default"_s);
            QCoreApplication::processEvents();
            return !history.isEmpty();
        }(),
        timeoutMs(5000));
    QVERIFY(m_opened.isEmpty());
}

void TestDesktopNotifier::stormLimit()
{
    startAll();
    const int windowMs = 600;
    m_notifier->setStormLimit(5, windowMs);
    DisplayMessage m;
    m.title = u"flood"_s;
    for (int i = 0; i < 20; ++i) {
        m_notifier->show(m, u"noisy"_s);
    }
    m_notifier->show(m, u"quiet"_s); // another subscription has its own budget
    QTRY_COMPARE_WITH_TIMEOUT(m_server->calls.size(), 6, timeoutMs(5000));
    // The 15 held back are summed up in one notification once the window has passed.
    QTRY_COMPARE_WITH_TIMEOUT(m_server->calls.size(), 7, timeoutMs(windowMs * 5));
    QCOMPARE(m_server->calls.last().summary, u"15 more from noisy"_s);
    QCOMPARE(m_server->calls.last().actions, (QStringList{u"default"_s, u"Show history"_s}));
    QTest::qWait(windowMs * 2);
    QCOMPARE(m_server->calls.size(), 7);
}

void TestDesktopNotifier::fallbackWithoutService()
{
    startAll(false);
    QCOMPARE(m_notifier->backend(), DesktopNotifier::Backend::Fallback);
    QSystemTrayIcon tray;
    m_notifier->setFallbackTrayIcon(&tray);
    QSignalSpy history(m_notifier.get(), &DesktopNotifier::historyRequested);
    DisplayMessage m;
    m.title = u"t"_s;
    m_notifier->show(m, u"s"_s);
    // A click on the tray message (no click URL) opens the history.
    Q_EMIT tray.messageClicked();
    QCOMPARE(history.size(), 1);
    m.clickUrl = u"https://example.invalid/x"_s;
    m_notifier->show(m, u"s"_s);
    Q_EMIT tray.messageClicked();
    QCOMPARE(m_opened, QList<QUrl>{QUrl(u"https://example.invalid/x"_s)});
}

QTEST_MAIN(TestDesktopNotifier)
#include "tst_desktopnotifier.moc"
