// SPDX-License-Identifier: MIT
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QLineEdit>
#include <QSettings>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTest>

#include "focuschain.h"
#include "gui/editor/configdocument.h"
#include "gui/editor/configeditorwindow.h"
#include "gui/editor/newtokendialog.h"
#include "gui/editor/ntfyform.h"
#include "gui/historywindow.h"
#include "gui/mainwindow.h"
#include "gui/relaycontroller.h"
#include "gui/relaypanel.h"
#include "gui/settings/settingsdialog.h"
#include "gui/subscriptiondialog.h"
#include "gui/trayapplication.h"
#include "gui/traycontroller.h"
#include "testutil.h"

using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;
using Patchwork::Test::timeoutMs;

// Every window of the tray, in English and German, offscreen: each control reachable with Tab has an
// accessible name, the tab order is the visual one, and the keyboard shortcuts do what they say.
class TestAccessibility final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void windows_data();
    void windows();
    void historyShortcuts();
    void relayPanelWindowCloses();

private:
    static void startTray(TrayApplication *app, const QString &language);
};

void TestAccessibility::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(u"patchwork-test"_s);
    QCoreApplication::setApplicationName(u"tst_accessibility"_s);
}

void TestAccessibility::init()
{
    QSettings().clear(); // test mode keeps ~/.qttest between runs
}

void TestAccessibility::cleanup()
{
    for (QWidget *w : QApplication::topLevelWidgets()) {
        if (qobject_cast<SubscriptionDialog *>(w)) {
            delete w;
        }
    }
}

void TestAccessibility::startTray(TrayApplication *app, const QString &language)
{
    TrayApplication::Options options;
    options.useTray = false; // offscreen has no tray host anyway: the main window carries menu and panel
    options.singleInstance = false;
    options.language = language;
    QString error;
    QVERIFY2(app->start(options, &error), qPrintable(error));
}

void TestAccessibility::windows_data()
{
    QTest::addColumn<QString>("language");
    QTest::addColumn<QString>("historyTitle");
    QTest::addRow("en") << u"en"_s << u"Notification history — Patchwork"_s;
    QTest::addRow("de") << u"de"_s << u"Benachrichtigungsverlauf — Patchwork"_s;
}

void TestAccessibility::windows()
{
    QFETCH(QString, language);
    TrayApplication app;
    startTray(&app, language);

    MainWindow *main = app.tray()->mainWindow();
    QVERIFY(main && main->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(main->findChild<RelayPanel *>()->isVisible(), timeoutMs(5000)); // shown queued
    verifyFocusChainNamed(main);
    const QStringList relayOrder = {u"lanCheckBox"_s,
                                    u"portSpinBox"_s,
                                    u"usersDirLineEdit"_s,
                                    u"browseUsersDirToolButton"_s,
                                    u"startStopPushButton"_s,
                                    u"urlListWidget"_s,
                                    u"copyUrlPushButton"_s};
    QCOMPARE(focusChainOrder(main), relayOrder);

    app.tray()->showHistory();
    HistoryWindow *history = app.tray()->historyWindow();
    QVERIFY(history->isVisible());
    QTEST(history->windowTitle(), "historyTitle");
    verifyFocusChainNamed(history);
    QCOMPARE(focusChainOrder(history),
             (QStringList{u"searchLineEdit"_s,
                          u"historyTableView"_s,
                          u"copyPushButton"_s,
                          u"openPushButton"_s,
                          u"deletePushButton"_s,
                          u"clearPushButton"_s}));

    app.editSubscriptions();
    SubscriptionDialog *dialog = nullptr;
    for (QWidget *w : QApplication::topLevelWidgets()) {
        dialog = dialog ? dialog : qobject_cast<SubscriptionDialog *>(w);
    }
    QVERIFY(dialog && dialog->isVisible());
    dialog->addSubscription(); // with an entry, so the form is enabled as users see it
    verifyFocusChainNamed(dialog);
    QCOMPARE(focusChainOrder(dialog),
             (QStringList{u"subscriptionListWidget"_s,
                          u"addPushButton"_s,
                          u"removePushButton"_s,
                          u"nameLineEdit"_s,
                          u"serverLineEdit"_s,
                          u"localRelayPushButton"_s,
                          u"pathLineEdit"_s,
                          u"tokenLineEdit"_s,
                          u"minPrioritySpinBox"_s,
                          u"enabledCheckBox"_s,
                          u"magicPrefixCheckBox"_s,
                          u"mutedCheckBox"_s,
                          u"okPushButton"_s,
                          u"cancelPushButton"_s}));

    // The token-config editor, with a token chosen so that its form is enabled as users see it.
    QVERIFY(QDir().mkpath(app.relay()->usersDir() + u"/alice"_s));
    app.editTokenConfig();
    ConfigEditorWindow *editor = app.configEditor();
    QVERIFY(editor->isVisible());
    QVERIFY(editor->openRelayUser(u"alice"_s));
    QVERIFY(editor->document()->addToken(Patchwork::UserConfig::hashedKey("t")));
    QVERIFY(editor->document()->insertPattern(0, Patchwork::AclList::Get, -1, u"/a"_s));
    editor->selectToken(0);
    verifyFocusChainNamed(editor);
    QCOMPARE(focusChainOrder(editor),
             (QStringList{u"tokenListWidget"_s,
                          u"qt_tabwidget_tabbar"_s,
                          u"adminCheckBox"_s,
                          u"expiresDateTimeEdit"_s,
                          u"neverExpiresCheckBox"_s,
                          u"listTabBar"_s,
                          u"listPresentCheckBox"_s,
                          u"patternListWidget"_s,
                          u"addPatternButton"_s,
                          u"removePatternButton"_s,
                          u"moveUpButton"_s,
                          u"moveDownButton"_s,
                          u"negateButton"_s,
                          u"methodComboBox"_s,
                          u"targetLineEdit"_s,
                          u"tokenLineEdit"_s,
                          u"tokenComboBox"_s}));
    // Its notifications page, with each backend's form.
    editor->findChild<QTabWidget *>(u"sideTabWidget"_s)->setCurrentIndex(1);
    auto *backend = editor->ntfyForm()->findChild<QComboBox *>(u"ntfyTypeComboBox"_s);
    QVERIFY(backend && backend->count() >= 6);
    for (int i = 0; i < backend->count(); ++i) {
        backend->setCurrentIndex(i);
        verifyFocusChainNamed(editor);
    }
    // A new token, shown once.
    NewTokenDialog newToken(editor);
    newToken.show();
    verifyFocusChainNamed(&newToken);
    newToken.hide();
    editor->setQuestionHandler(
        [](QMessageBox::Icon, const QString &, QMessageBox::StandardButtons) { return QMessageBox::Discard; });

    // The Settings dialog, on each of its pages.
    app.showSettings();
    QWidget *settings = app.settingsDialog();
    QVERIFY(settings && settings->isVisible());
    auto *pages = settings->findChild<QTabWidget *>();
    QVERIFY(pages && pages->count() >= 4);
    for (int i = 0; i < pages->count(); ++i) {
        pages->setCurrentIndex(i);
        verifyFocusChainNamed(settings);
    }
    settings->hide();

    // The relay panel as its own window (how the tray shows it when a tray host exists).
    RelayPanel panel(app.relay());
    panel.show();
    verifyFocusChainNamed(&panel);
    QCOMPARE(focusChainOrder(&panel), relayOrder);
}

void TestAccessibility::historyShortcuts()
{
    TrayApplication app;
    startTray(&app, u"en"_s);
    app.tray()->showHistory();
    HistoryWindow *history = app.tray()->historyWindow();
    history->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(history, timeoutMs(5000)));
    history->view()->setFocus();
    QTRY_VERIFY_WITH_TIMEOUT(history->view()->hasFocus(), timeoutMs(5000));

    // Find focuses the search field, whatever had the focus.
    QTest::keySequence(history->view(), QKeySequence::Find);
    QTRY_VERIFY_WITH_TIMEOUT(history->searchField()->hasFocus(), timeoutMs(5000));

    // Close closes the window (the app goes on: the tray or the main window stays).
    QTest::keySequence(history->searchField(), QKeySequence::Close);
    QTRY_VERIFY_WITH_TIMEOUT(!history->isVisible(), timeoutMs(5000));
    QVERIFY(app.tray()->mainWindow()->isVisible());
}

void TestAccessibility::relayPanelWindowCloses()
{
    TrayApplication app;
    startTray(&app, u"en"_s);

    // Its own window: Close closes it.
    RelayPanel panel(app.relay());
    panel.show();
    QVERIFY(QTest::qWaitForWindowActive(&panel, timeoutMs(5000)));
    QTest::keySequence(&panel, QKeySequence::Close);
    QTRY_VERIFY_WITH_TIMEOUT(!panel.isVisible(), timeoutMs(5000));

    // Inside the main window (the fallback without a tray): Close neither hides the panel nor the window.
    MainWindow *main = app.tray()->mainWindow();
    auto *embedded = main->findChild<RelayPanel *>();
    QVERIFY(embedded);
    main->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(main, timeoutMs(5000)));
    QTest::keySequence(embedded, QKeySequence::Close);
    QApplication::processEvents();
    QVERIFY(embedded->isVisible());
    QVERIFY(main->isVisible());
}

QTEST_MAIN(TestAccessibility)
#include "tst_accessibility.moc"
