// SPDX-License-Identifier: MIT
#include <QAction>
#include <QDir>
#include <QMenu>
#include <QPointer>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTest>

#include "gui/editor/configdocument.h"
#include "gui/editor/configeditorwindow.h"
#include "gui/mainwindow.h"
#include "gui/relaycontroller.h"
#include "gui/relaypanel.h"
#include "gui/settings/settingsdialog.h"
#include "gui/subscriptionmanager.h"
#include "gui/trayapplication.h"
#include "gui/traycontroller.h"
#include "testutil.h"

using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;
using Patchwork::Test::timeoutMs;

// The app assembled as main() runs it (offscreen, so with the main window instead of a tray icon).
class TestTrayApplication final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void parseArguments_data();
    void parseArguments();
    void assembled();
    void settingsFromTheMenu();
    void doNotDisturbKeptAcrossRestarts();
    void relayStartsAtLaunchWhenSet();

private:
    static QStringList texts(const QMenu *menu);
};

void TestTrayApplication::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(u"patchwork-test"_s);
    QCoreApplication::setApplicationName(u"tst_trayapplication"_s);
    QSettings().clear(); // test mode keeps ~/.qttest between runs
}

QStringList TestTrayApplication::texts(const QMenu *menu)
{
    QStringList result;
    for (const QAction *action : menu->actions()) {
        if (!action->isSeparator() && !action->text().isEmpty()) {
            result.append(action->text());
        }
    }
    return result;
}

void TestTrayApplication::parseArguments_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<int>("port");
    QTest::addRow("none") << QStringList{u"tray"_s} << true << -1;
    QTest::addRow("relay") << QStringList{u"tray"_s, u"--relay"_s, u"--relay-port"_s, u"9000"_s} << true << 9000;
    QTest::addRow("bad port") << QStringList{u"tray"_s, u"--relay-port"_s, u"70000"_s} << false << -1;
    QTest::addRow("bad host") << QStringList{u"tray"_s, u"--relay-host"_s, u"nowhere"_s} << false << -1;
    QTest::addRow("stray argument") << QStringList{u"tray"_s, u"extra"_s} << false << -1;
}

void TestTrayApplication::parseArguments()
{
    QFETCH(QStringList, arguments);
    QFETCH(bool, ok);
    TrayApplication::Options options;
    QString error;
    QCOMPARE(TrayApplication::parseArguments(arguments, &options, &error), ok);
    QCOMPARE(error.isEmpty(), ok);
    if (ok) {
        QTEST(options.relayPort, "port");
        QCOMPARE(options.startRelay, arguments.contains(u"--relay"_s));
    }
}

void TestTrayApplication::assembled()
{
    TrayApplication app;
    TrayApplication::Options options;
    QString error;
    QVERIFY(TrayApplication::parseArguments(
        {u"tray"_s, u"--allow-multiple"_s, u"--relay"_s, u"--relay-port"_s, u"0"_s}, &options, &error));
    QVERIFY2(app.start(options, &error), qPrintable(error));
    QVERIFY(app.relay()->isRunning());

    // No tray host offscreen: the main window carries the menu and the relay panel.
    QVERIFY(app.tray()->mainWindow());
    QVERIFY(app.tray()->mainWindow()->findChild<RelayPanel *>());
    const QStringList top = texts(app.tray()->menu());
    QCOMPARE(top.size(), 8);
    QVERIFY(top.at(0).startsWith(u"Local relay on port "_s)); // the status line
    QCOMPARE(top.mid(1),
             (QStringList{u"&Local relay"_s,
                          u"S&ubscriptions"_s,
                          u"Notification &history…"_s,
                          u"&Do not disturb"_s,
                          u"Edit token &config…"_s,
                          u"&Settings…"_s,
                          u"&Quit"_s}));
    QCOMPARE(app.tray()->iconState(), TrayController::IconState::RelayRunning);
    QCOMPARE(texts(app.relayMenu()), (QStringList{u"&Stop"_s, u"&Copy URL"_s, u"Relay &panel…"_s}));
    QCOMPARE(texts(app.subscriptionsMenu()), (QStringList{u"No subscriptions yet"_s, u"&Edit subscriptions…"_s}));

    // The token-config editor, for the local relay's users.
    QVERIFY(QDir().mkpath(app.relay()->usersDir() + u"/alice"_s));
    app.tray()->editConfigAction()->trigger();
    QVERIFY(app.configEditor() && app.configEditor()->isVisible());
    QVERIFY(app.configEditor()->openRelayUser(u"alice"_s));
    QCOMPARE(app.configEditor()->document()->filePath(), app.relay()->usersDir() + u"/alice/config.yaml"_s);
    // Quit asks about unsaved edits first.
    QVERIFY(app.configEditor()->document()->addToken(Patchwork::UserConfig::hashedKey("t")));
    QStringList asked;
    app.configEditor()->setQuestionHandler(
        [&asked](QMessageBox::Icon, const QString &text, QMessageBox::StandardButtons) {
            asked.append(text);
            return QMessageBox::Discard;
        });
    app.tray()->quitAction()->trigger();
    QCOMPARE(asked.size(), 1);
    QVERIFY(asked.first().contains(u"unsaved changes"_s));
    app.configEditor()->close();

    // Stop from the menu: the menu, the status line and the icon follow.
    QSignalSpy stopped(app.relay()->relay(), &Patchwork::Server::Relay::stopped);
    app.relayMenu()->findChild<QAction *>(u"relayStartStopAction"_s)->trigger();
    QVERIFY(stopped.wait(timeoutMs(5000)));
    QTRY_COMPARE_WITH_TIMEOUT(texts(app.relayMenu()).first(), u"&Start"_s, timeoutMs(5000));
    QCOMPARE(texts(app.tray()->menu()).first(), u"Local relay stopped"_s);
    QCOMPARE(app.tray()->iconState(), TrayController::IconState::Idle);

    // A subscription added to the manager shows up with its state and toggle.
    SubscriptionConfig c;
    c.id = u"x"_s;
    c.name = u"Alerts"_s;
    c.serverUrl = QUrl(u"http://127.0.0.1:1"_s);
    c.channelPath = u"/public/pubsub/a"_s;
    c.enabled = false;
    app.subscriptions()->setSubscriptions({c});
    const QAction *entry = app.subscriptionsMenu()->actions().first();
    QCOMPARE(entry->text(), u"Alerts — disabled"_s);
    QVERIFY(entry->isCheckable() && !entry->isChecked());
}

void TestTrayApplication::settingsFromTheMenu()
{
    QSettings().clear();
    TrayApplication app;
    TrayApplication::Options options;
    options.singleInstance = false;
    QString error;
    QVERIFY2(app.start(options, &error), qPrintable(error));
    QVERIFY(!app.settingsDialog());
    app.tray()->settingsAction()->trigger();
    QPointer<SettingsDialog> dialog = app.settingsDialog();
    QVERIFY(dialog);
    QVERIFY(QTest::qWaitForWindowExposed(dialog));
    // A second click raises the same dialog; closing it deletes it.
    app.tray()->settingsAction()->trigger();
    QCOMPARE(app.settingsDialog(), dialog.data());
    dialog->findChild<QSpinBox *>(u"maxCountSpinBox"_s)->setValue(77);
    QVERIFY(dialog->apply());
    QCOMPARE(app.history()->maxCount(), 77);
    dialog->close();
    QTRY_VERIFY(!dialog);
    QVERIFY(!app.settingsDialog());
}

void TestTrayApplication::doNotDisturbKeptAcrossRestarts()
{
    QSettings().clear();
    TrayApplication::Options options;
    options.singleInstance = false;
    QString error;
    {
        TrayApplication app;
        QVERIFY2(app.start(options, &error), qPrintable(error));
        QVERIFY(!app.tray()->doNotDisturbAction()->isChecked());
        app.tray()->doNotDisturbAction()->trigger();
    }
    QCOMPARE(QSettings().value(u"notifications/doNotDisturb"_s).toBool(), true);
    {
        TrayApplication app;
        QVERIFY2(app.start(options, &error), qPrintable(error));
        QVERIFY(app.tray()->doNotDisturbAction()->isChecked());
        app.tray()->doNotDisturbAction()->trigger();
    }
    QCOMPARE(QSettings().value(u"notifications/doNotDisturb"_s).toBool(), false);
}

void TestTrayApplication::relayStartsAtLaunchWhenSet()
{
    QSettings().clear();
    QSettings().setValue(u"relay/startAtLaunch"_s, true);
    QSettings().setValue(u"relay/port"_s, 0);
    TrayApplication::Options options;
    options.singleInstance = false;
    QString error;
    {
        TrayApplication app;
        QVERIFY2(app.start(options, &error), qPrintable(error));
        QVERIFY(app.relay()->isRunning());
        QSignalSpy stopped(app.relay()->relay(), &Patchwork::Server::Relay::stopped);
        app.relay()->stop();
        QVERIFY(stopped.wait(timeoutMs(5000)));
    }
    // A port in use is an error the tray shows, not a reason to exit (as --relay's is).
    QTcpServer occupied;
    QVERIFY(occupied.listen(QHostAddress::LocalHost));
    QSettings().setValue(u"relay/port"_s, occupied.serverPort());
    {
        TrayApplication app;
        QVERIFY2(app.start(options, &error), qPrintable(error));
        QVERIFY(!app.relay()->isRunning());
        QVERIFY(!app.relay()->errorString().isEmpty());
    }
    options.startRelay = true;
    TrayApplication app;
    QVERIFY(!app.start(options, &error));
    QCOMPARE(error, app.relay()->errorString());
}

QTEST_MAIN(TestTrayApplication)
#include "tst_trayapplication.moc"
