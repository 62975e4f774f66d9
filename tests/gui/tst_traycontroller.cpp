// SPDX-License-Identifier: MIT
#include <QAction>
#include <QApplication>
#include <QDBusConnection>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "gui/desktopnotifier.h"
#include "gui/historymodel.h"
#include "gui/historystore.h"
#include "gui/historywindow.h"
#include "gui/mainwindow.h"
#include "gui/notificationdispatcher.h"
#include "gui/traycontroller.h"

using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;

class TestTrayController final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void iconState_data();
    void iconState();
    void menuEntries();
    void mainWindowWithoutTrayHost();
    void statusAndIcon();
    void doNotDisturbToggle();
    void historyAction();

private:
    std::unique_ptr<TrayController> makeTray();

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<HistoryStore> m_history;
    std::unique_ptr<DesktopNotifier> m_notifier;
    std::unique_ptr<NotificationDispatcher> m_dispatcher;
};

void TestTrayController::init()
{
    // The offscreen platform warns that it cannot resize or raise windows; nothing else may warn.
    QTest::failOnWarning(QRegularExpression(u"^(?!This plugin does not support (propagateSizeHints|raise)).*"_s));
    m_dir = std::make_unique<QTemporaryDir>();
    m_history = std::make_unique<HistoryStore>();
    QVERIFY(m_history->open(m_dir->filePath(u"h.sqlite"_s)));
    // No bus: the notifier falls back to tray messages, as on a desktop without a notification service.
    m_notifier = std::make_unique<DesktopNotifier>(QDBusConnection(u"none"_s), [](const QUrl &) { return true; });
    m_dispatcher = std::make_unique<NotificationDispatcher>(m_history.get(), m_notifier.get());
}

void TestTrayController::cleanup()
{
    m_dispatcher.reset();
    m_notifier.reset();
    m_history.reset();
}

std::unique_ptr<TrayController> TestTrayController::makeTray()
{
    return std::make_unique<TrayController>(
        m_history.get(), m_notifier.get(), m_dispatcher.get(), [](const QUrl &) { return true; }, true);
}

void TestTrayController::iconState_data()
{
    QTest::addColumn<bool>("relay");
    QTest::addColumn<int>("failed");
    QTest::addColumn<int>("unread");
    QTest::addColumn<TrayController::IconState>("state");
    QTest::addRow("idle") << false << 0 << 0 << TrayController::IconState::Idle;
    QTest::addRow("relay") << true << 0 << 0 << TrayController::IconState::RelayRunning;
    QTest::addRow("unread beats relay") << true << 0 << 3 << TrayController::IconState::Unread;
    QTest::addRow("error beats all") << true << 1 << 3 << TrayController::IconState::Error;
}

void TestTrayController::iconState()
{
    QFETCH(bool, relay);
    QFETCH(int, failed);
    QFETCH(int, unread);
    QTEST(TrayController::chooseIconState(relay, failed, unread), "state");
    QVERIFY(!TrayController::icon(TrayController::chooseIconState(relay, failed, unread)).isNull());
}

void TestTrayController::menuEntries()
{
    auto tray = makeTray();
    auto *relayMenu = new QMenu(u"Local relay"_s, tray->menu());
    tray->addSubmenu(relayMenu);
    QStringList texts;
    for (QAction *action : tray->menu()->actions()) {
        texts.append(action->isSeparator() ? u"--"_s : action->text());
    }
    QCOMPARE(texts,
             (QStringList{u"Local relay stopped"_s,
                          u"--"_s,
                          u"Local relay"_s,
                          u"Notification &history…"_s,
                          u"&Do not disturb"_s,
                          u"Edit token &config…"_s,
                          u"&Settings…"_s,
                          u"--"_s,
                          u"&Quit"_s}));
    QVERIFY(!tray->menu()->actions().constFirst()->isEnabled()); // the status line
    QSignalSpy editConfig(tray.get(), &TrayController::editConfigRequested);
    tray->editConfigAction()->trigger();
    QCOMPARE(editConfig.size(), 1);
    QSignalSpy settings(tray.get(), &TrayController::settingsRequested);
    tray->settingsAction()->trigger();
    QCOMPARE(settings.size(), 1);
    QSignalSpy quit(tray.get(), &TrayController::quitRequested);
    tray->quitAction()->trigger();
    QCOMPARE(quit.size(), 1);
}

void TestTrayController::mainWindowWithoutTrayHost()
{
    // The offscreen platform has no system tray: the app shows a normal window with the same menu.
    QVERIFY(!QSystemTrayIcon::isSystemTrayAvailable());
    auto tray = makeTray();
    QVERIFY(!tray->trayIcon());
    QVERIFY(tray->mainWindow());
    QVERIFY(QTest::qWaitForWindowExposed(tray->mainWindow()));
    const auto menus = tray->mainWindow()->menuBar()->actions();
    QCOMPARE(menus.size(), 1);
    QCOMPARE(menus.first()->menu(), tray->menu());
    QCOMPARE(tray->mainWindow()->statusText(), u"Local relay stopped"_s);
}

void TestTrayController::statusAndIcon()
{
    auto tray = makeTray();
    QSignalSpy iconChanged(tray.get(), &TrayController::iconStateChanged);
    tray->setRelayState(true, u"Relay on :8787"_s);
    QCOMPARE(tray->iconState(), TrayController::IconState::RelayRunning);
    HistoryEntry e;
    e.time = QDateTime::currentDateTimeUtc();
    e.subscription = u"s"_s;
    QVERIFY(m_history->add(e));
    QCOMPARE(tray->iconState(), TrayController::IconState::Unread);
    QCOMPARE(tray->statusText(), u"Relay on :8787 · 1 unread"_s);
    tray->setSubscriptionState(1, u"1 of 2 subscriptions failing"_s);
    QCOMPARE(tray->iconState(), TrayController::IconState::Error);
    QCOMPARE(tray->statusText(), u"Relay on :8787 · 1 of 2 subscriptions failing · 1 unread"_s);
    QCOMPARE(tray->mainWindow()->statusText(), tray->statusText());
    QCOMPARE(iconChanged.size(), 3);
}

void TestTrayController::doNotDisturbToggle()
{
    auto tray = makeTray();
    QVERIFY(tray->doNotDisturbAction()->isCheckable());
    tray->doNotDisturbAction()->trigger();
    QVERIFY(m_dispatcher->doNotDisturb());
    m_dispatcher->setDoNotDisturb(false);
    QVERIFY(!tray->doNotDisturbAction()->isChecked());
}

void TestTrayController::historyAction()
{
    auto tray = makeTray();
    HistoryEntry e;
    e.time = QDateTime::currentDateTimeUtc();
    e.subscription = u"s"_s;
    e.title = u"hello"_s;
    QVERIFY(m_history->add(e));
    QVERIFY(!tray->historyWindow());
    tray->historyAction()->trigger();
    QVERIFY(tray->historyWindow());
    QVERIFY(QTest::qWaitForWindowExposed(tray->historyWindow()));
    QCOMPARE(tray->historyWindow()->model()->rowCount(), 1);
    QCOMPARE(m_history->unreadCount(), 0);
    // A click on a notification without a URL also opens it.
    tray->historyWindow()->hide();
    Q_EMIT m_notifier->historyRequested();
    QVERIFY(tray->historyWindow()->isVisible());
}

QTEST_MAIN(TestTrayController)
#include "tst_traycontroller.moc"
