// SPDX-License-Identifier: MIT
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "gui/desktopnotifier.h"
#include "gui/historystore.h"
#include "gui/notificationdispatcher.h"
#include "privatebus.h"
#include "recordingnotifications.h"
#include "testutil.h"

using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;
using Patchwork::Test::RecordingNotifications;
using Patchwork::Test::timeoutMs;

class TestNotificationDispatcher final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void popsUpAndRecords();
    void duplicateIsIgnored();
    void quietCases_data();
    void quietCases();
    void stormReachesHistory();

private:
    SubscriptionConfig subscription() const;

    std::unique_ptr<Patchwork::Test::PrivateBus> m_bus;
    std::unique_ptr<RecordingNotifications> m_server;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<HistoryStore> m_history;
    std::unique_ptr<DesktopNotifier> m_notifier;
    std::unique_ptr<NotificationDispatcher> m_dispatcher;
};

void TestNotificationDispatcher::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
    m_bus = std::make_unique<Patchwork::Test::PrivateBus>();
    QVERIFY(m_bus->start());
    m_server = std::make_unique<RecordingNotifications>();
    QDBusConnection serverBus = m_bus->connect(u"server"_s);
    QVERIFY(
        serverBus.registerObject(u"/org/freedesktop/Notifications"_s, m_server.get(), QDBusConnection::ExportAllSlots));
    QVERIFY(serverBus.registerService(u"org.freedesktop.Notifications"_s));
    m_dir = std::make_unique<QTemporaryDir>();
    m_history = std::make_unique<HistoryStore>();
    QVERIFY(m_history->open(m_dir->filePath(u"h.sqlite"_s)));
    m_notifier = std::make_unique<DesktopNotifier>(m_bus->connect(u"client"_s), [](const QUrl &) { return true; });
    QSignalSpy backend(m_notifier.get(), &DesktopNotifier::backendChanged);
    QVERIFY(backend.wait(timeoutMs(5000)));
    m_dispatcher = std::make_unique<NotificationDispatcher>(m_history.get(), m_notifier.get());
}

void TestNotificationDispatcher::cleanup()
{
    m_dispatcher.reset();
    m_notifier.reset();
    m_history.reset();
    m_server.reset();
    m_bus.reset();
}

SubscriptionConfig TestNotificationDispatcher::subscription() const
{
    SubscriptionConfig c;
    c.id = u"id-1"_s;
    c.name = u"alerts"_s;
    c.serverUrl = QUrl(u"http://127.0.0.1:1"_s);
    c.channelPath = u"/public/pubsub/alerts"_s;
    return c;
}

void TestNotificationDispatcher::popsUpAndRecords()
{
    const QByteArray json = R"({"title":"Disk","message":"full","priority":5,"click":"https://x.invalid"})";
    QVERIFY(m_dispatcher->dispatch(subscription(), "p-1", "message", json));
    QTRY_COMPARE_WITH_TIMEOUT(m_server->calls.size(), 1, timeoutMs(5000));
    QCOMPARE(m_server->calls.first().summary, u"Disk"_s);
    QCOMPARE(m_server->calls.first().body, u"full"_s);
    QCOMPARE(m_server->calls.first().hints.value(u"urgency"_s).value<uchar>(), uchar(2));
    const auto entries = m_history->entries();
    QCOMPARE(entries.size(), 1);
    QCOMPARE(entries.first().subscription, u"alerts"_s);
    QCOMPARE(entries.first().title, u"Disk"_s);
    QCOMPARE(entries.first().patchId, u"p-1"_s);
    QCOMPARE(entries.first().clickUrl, u"https://x.invalid"_s);
    QCOMPARE(entries.first().priority, 5);
}

void TestNotificationDispatcher::duplicateIsIgnored()
{
    QVERIFY(m_dispatcher->dispatch(subscription(), "p-1", "message", "one"));
    QVERIFY(!m_dispatcher->dispatch(subscription(), "p-1", "message", "one"));
    QTRY_COMPARE_WITH_TIMEOUT(m_server->calls.size(), 1, timeoutMs(5000));
    QTest::qWait(100);
    QCOMPARE(m_server->calls.size(), 1);
    QCOMPARE(m_history->count(), 1);
}

void TestNotificationDispatcher::quietCases_data()
{
    QTest::addColumn<QString>("setting");
    QTest::addColumn<QByteArray>("data");
    QTest::addRow("muted") << u"muted"_s << QByteArray("hello");
    QTest::addRow("do not disturb") << u"dnd"_s << QByteArray("hello");
    QTest::addRow("below minimum priority") << u"minPriority"_s << QByteArray(R"({"message":"m","priority":3})");
    QTest::addRow("no magic prefix") << u"magic"_s << QByteArray("hello");
}

void TestNotificationDispatcher::quietCases()
{
    QFETCH(QString, setting);
    QFETCH(QByteArray, data);
    SubscriptionConfig c = subscription();
    c.muted = setting == u"muted";
    c.minPriority = setting == u"minPriority" ? 4 : 1;
    c.magicPrefix = setting == u"magic";
    m_dispatcher->setDoNotDisturb(setting == u"dnd");
    QVERIFY(m_dispatcher->dispatch(c, "q-1", "message", data));
    // A loud message afterwards (on another subscription) proves the quiet one was not just slow.
    SubscriptionConfig loud = subscription();
    loud.name = u"loud"_s;
    m_dispatcher->setDoNotDisturb(false);
    QVERIFY(m_dispatcher->dispatch(loud, "q-2", "message", "notify loud"));
    QTRY_COMPARE_WITH_TIMEOUT(m_server->calls.size(), 1, timeoutMs(5000));
    QCOMPARE(m_server->calls.first().summary, u"loud"_s);
    QCOMPARE(m_history->count(), 2); // the quiet one is in the history
}

void TestNotificationDispatcher::stormReachesHistory()
{
    m_notifier->setStormLimit(5, 60'000);
    for (int i = 0; i < 50; ++i) {
        QVERIFY(m_dispatcher->dispatch(subscription(), "s-" + QByteArray::number(i), "message", "storm"));
    }
    QTRY_COMPARE_WITH_TIMEOUT(m_server->calls.size(), 5, timeoutMs(5000));
    QCOMPARE(m_history->count(), 50);
    QCOMPARE(m_history->unreadCount(), 50);
}

QTEST_MAIN(TestNotificationDispatcher)
#include "tst_notificationdispatcher.moc"
