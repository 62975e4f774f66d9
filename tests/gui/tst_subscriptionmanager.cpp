// SPDX-License-Identifier: MIT
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "gui/historystore.h"
#include "gui/notificationdispatcher.h"
#include "gui/relaycontroller.h"
#include "gui/subscriptionmanager.h"
#include "testutil.h"
#include "util/clock.h"

using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;
using Patchwork::Client::Subscription;
using Patchwork::Test::timeoutMs;

// Subscriptions against the tray's own local relay, in-process: messages reach the history once, the
// resume point is saved, a disabled-then-enabled subscription resumes without loss, a 401 is shown.
class TestSubscriptionManager final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void receivesAndResumes();
    void unauthorizedFails();

private:
    void publish(const QString &path, const QByteArray &body);
    SubscriptionConfig config(const QString &id, const QString &path) const;

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Patchwork::SystemClock> m_clock;
    std::unique_ptr<RelayController> m_relay;
    std::unique_ptr<QSettings> m_settings;
    std::unique_ptr<HistoryStore> m_history;
    std::unique_ptr<NotificationDispatcher> m_dispatcher;
    std::unique_ptr<SubscriptionManager> m_manager;
    QNetworkAccessManager m_network;
};

void TestSubscriptionManager::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_clock = std::make_unique<Patchwork::SystemClock>();
    m_relay = std::make_unique<RelayController>(m_clock.get(), m_dir->path());
    RelayController::Settings s;
    s.port = 0;
    m_relay->setSettings(s);
    QVERIFY(m_relay->start());
    m_settings = std::make_unique<QSettings>(m_dir->filePath(u"tray.conf"_s), QSettings::IniFormat);
    m_history = std::make_unique<HistoryStore>();
    QVERIFY(m_history->open(m_dir->filePath(u"h.sqlite"_s)));
    m_dispatcher = std::make_unique<NotificationDispatcher>(m_history.get(), nullptr);
    m_manager = std::make_unique<SubscriptionManager>(m_settings.get(), nullptr, m_dispatcher.get(), m_clock.get());
}

void TestSubscriptionManager::cleanup()
{
    m_manager.reset();
    m_dispatcher.reset();
    m_history.reset();
    m_settings.reset();
    m_relay.reset();
}

void TestSubscriptionManager::publish(const QString &path, const QByteArray &body)
{
    std::unique_ptr<QNetworkReply> reply(
        m_network.post(QNetworkRequest(m_relay->localUrl().resolved(QUrl(path.mid(1)))), body));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    QVERIFY(finished.wait(timeoutMs(5000)));
    QCOMPARE(reply->error(), QNetworkReply::NoError);
}

SubscriptionConfig TestSubscriptionManager::config(const QString &id, const QString &path) const
{
    SubscriptionConfig c;
    c.id = id;
    c.name = id;
    c.serverUrl = m_relay->localUrl();
    c.channelPath = path;
    return c;
}

void TestSubscriptionManager::receivesAndResumes()
{
    SubscriptionSettings::save(*m_settings, {config(u"alerts"_s, u"/public/pubsub/alerts"_s)});
    m_manager->load();
    QCOMPARE(m_manager->subscriptions().size(), 1);
    Subscription *client = m_manager->client(u"alerts"_s);
    QVERIFY(client);
    QTRY_COMPARE_WITH_TIMEOUT(client->status(), Subscription::Status::Connected, timeoutMs(5000));
    QCOMPARE(m_manager->stateText(u"alerts"_s), u"connected"_s);
    QCOMPARE(m_manager->summary(), u"1/1 subscriptions connected"_s);

    publish(u"/public/pubsub/alerts"_s, "Disk full\n/var at 99%");
    QTRY_COMPARE_WITH_TIMEOUT(m_history->count(), 1, timeoutMs(5000));
    const HistoryEntry first = m_history->entries().first();
    QCOMPARE(first.subscription, u"alerts"_s);
    QCOMPARE(first.title, u"Disk full"_s);
    QCOMPARE(first.body, u"/var at 99%"_s);
    QVERIFY(!first.patchId.isEmpty());
    // The resume point is saved with the message.
    QCOMPARE(SubscriptionSettings::load(*m_settings).first().lastEventId, first.patchId.toLatin1());

    // Disabled: nothing arrives, but the relay's replay buffer keeps what is published.
    m_manager->setEnabled(u"alerts"_s, false);
    QVERIFY(!m_manager->client(u"alerts"_s));
    QCOMPARE(m_manager->stateText(u"alerts"_s), u"disabled"_s);
    publish(u"/public/pubsub/alerts"_s, "two");
    publish(u"/public/pubsub/alerts"_s, "three");
    QTest::qWait(100);
    QCOMPARE(m_history->count(), 1);
    // Enabled again: resumes after the saved id, so both arrive, in order, and nothing twice.
    m_manager->setEnabled(u"alerts"_s, true);
    QTRY_COMPARE_WITH_TIMEOUT(m_history->count(), 3, timeoutMs(5000));
    const auto entries = m_history->entries();
    QCOMPARE(entries.at(0).body, u"three"_s);
    QCOMPARE(entries.at(1).body, u"two"_s);
    QVERIFY(SubscriptionSettings::load(*m_settings).first().enabled);
}

void TestSubscriptionManager::unauthorizedFails()
{
    QSignalSpy changed(m_manager.get(), &SubscriptionManager::changed);
    m_manager->setSubscriptions({config(u"mine"_s, u"/u/alice/notifications"_s)});
    QTRY_COMPARE_WITH_TIMEOUT(m_manager->failedCount(), 1, timeoutMs(5000));
    QVERIFY2(m_manager->stateText(u"mine"_s).startsWith(u"failed: "_s), qPrintable(m_manager->stateText(u"mine"_s)));
    QVERIFY(m_manager->summary().endsWith(u", 1 failed"_s));
    QVERIFY(changed.size() >= 2);
    // Saved by setSubscriptions.
    QCOMPARE(SubscriptionSettings::load(*m_settings).size(), 1);
}

QTEST_MAIN(TestSubscriptionManager)
#include "tst_subscriptionmanager.moc"
