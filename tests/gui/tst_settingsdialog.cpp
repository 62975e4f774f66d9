// SPDX-License-Identifier: MIT
#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDBusConnection>
#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

#include "gui/desktopnotifier.h"
#include "gui/historystore.h"
#include "gui/notificationdispatcher.h"
#include "gui/relaycontroller.h"
#include "gui/relaypanel.h"
#include "gui/settings/settingsdialog.h"
#include "gui/settings/traysettings.h"
#include "gui/traycontroller.h"
#include "testutil.h"
#include "util/clock.h"

using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;
using Patchwork::Test::timeoutMs;

// The Settings dialog over real parts: a settings file (IniFormat) in a temporary folder, an opened history,
// the notifier, the dispatcher and the local relay.
class TestSettingsDialog final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void usersDirProblem_data();
    void usersDirProblem();
    void loadsDefaults();
    void loadsCurrentValues();
    void applyWritesEveryKeyAndUpdatesTheParts();
    void okAppliesAndCloses();
    void cancelWritesNothing();
    void relayChangesApplyOnNextStart();
    void relayOverrideKeptUntilRelayEdited();
    void relayPanelAndDialogAgree();
    void invalidUsersDirDisablesOk_data();
    void invalidUsersDirDisablesOk();
    void emptiedPortDisablesOk();
    void doNotDisturbAgreesWithTrayAction();
    void everyFocusableControlHasAnAccessibleName();

private:
    TrayParts parts() const;
    std::unique_ptr<SettingsDialog> makeDialog() const;
    // Creates the plain file `file` in the temporary folder (a users directory cannot be below it).
    bool createFile() const;
    // A fresh reader of the settings file, as the next start of the tray would see it.
    std::unique_ptr<QSettings> reread() const;
    template <typename T> static T *child(const QWidget *dialog, const QString &name);
    static QPushButton *button(const QWidget *dialog, QDialogButtonBox::StandardButton which);
    // The controls a Tab press can reach (visible, Qt::TabFocus, no focus proxy) from `window` on, in order.
    static QList<QWidget *> focusChain(QWidget *window);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<QSettings> m_settings;
    std::unique_ptr<Patchwork::SystemClock> m_clock;
    std::unique_ptr<HistoryStore> m_history;
    std::unique_ptr<DesktopNotifier> m_notifier;
    std::unique_ptr<NotificationDispatcher> m_dispatcher;
    std::unique_ptr<RelayController> m_relay;
};

void TestSettingsDialog::init()
{
    // The offscreen platform warns that it cannot resize or raise windows; nothing else may warn.
    QTest::failOnWarning(QRegularExpression(u"^(?!This plugin does not support (propagateSizeHints|raise)).*"_s));
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_dir->filePath(u"config"_s))); // the autostart entry
    m_settings = std::make_unique<QSettings>(m_dir->filePath(u"tray.ini"_s), QSettings::IniFormat);
    m_clock = std::make_unique<Patchwork::SystemClock>();
    m_history = std::make_unique<HistoryStore>();
    QVERIFY(m_history->open(m_dir->filePath(u"history.sqlite"_s)));
    m_notifier = std::make_unique<DesktopNotifier>(QDBusConnection(u"none"_s), [](const QUrl &) { return true; });
    m_dispatcher = std::make_unique<NotificationDispatcher>(m_history.get(), m_notifier.get());
    m_relay = std::make_unique<RelayController>(m_clock.get(), m_dir->filePath(u"data"_s));
}

void TestSettingsDialog::cleanup()
{
    m_relay.reset();
    m_dispatcher.reset();
    m_notifier.reset();
    m_history.reset();
    m_settings.reset();
    qunsetenv("XDG_CONFIG_HOME");
    m_dir.reset();
}

TrayParts TestSettingsDialog::parts() const
{
    return {m_history.get(), m_notifier.get(), m_dispatcher.get(), m_relay.get()};
}

std::unique_ptr<SettingsDialog> TestSettingsDialog::makeDialog() const
{
    return std::make_unique<SettingsDialog>(m_settings.get(), parts(), Autostart(u"/usr/bin/patchwork-tray"_s));
}

bool TestSettingsDialog::createFile() const
{
    QFile file(m_dir->filePath(u"file"_s));
    return file.open(QIODevice::WriteOnly);
}

std::unique_ptr<QSettings> TestSettingsDialog::reread() const
{
    return std::make_unique<QSettings>(m_dir->filePath(u"tray.ini"_s), QSettings::IniFormat);
}

template <typename T> T *TestSettingsDialog::child(const QWidget *dialog, const QString &name)
{
    T *widget = dialog->findChild<T *>(name);
    if (!widget) {
        qFatal("no child %s", qPrintable(name));
    }
    return widget;
}

QPushButton *TestSettingsDialog::button(const QWidget *dialog, QDialogButtonBox::StandardButton which)
{
    return child<QDialogButtonBox>(dialog, u"settingsButtonBox"_s)->button(which);
}

QList<QWidget *> TestSettingsDialog::focusChain(QWidget *window)
{
    QList<QWidget *> chain;
    QWidget *widget = window;
    do {
        widget = widget->nextInFocusChain();
        // What QWidget::focusNextPrevChild() stops at: a widget with a focus proxy hands the focus on.
        if (widget != window && widget->isVisible() && (widget->focusPolicy() & Qt::TabFocus)
            && !widget->focusProxy()) {
            chain.append(widget);
        }
    } while (widget != window && chain.size() < 1000);
    return chain;
}

void TestSettingsDialog::usersDirProblem_data()
{
    QTest::addColumn<QString>("dir");
    QTest::addColumn<QString>("problem"); // a part of the reason; empty = valid
    QTest::addRow("empty is the default") << QString() << QString();
    QTest::addRow("existing folder") << u"."_s << QString();
    QTest::addRow("to be created") << u"new/deeper/users"_s << QString();
    QTest::addRow("relative") << u"relative/users"_s << u"Enter an absolute path."_s;
    QTest::addRow("below a file") << u"file/users"_s << u"file is not a folder."_s;
    QTest::addRow("a file") << u"file"_s << u"file is not a folder."_s;
}

void TestSettingsDialog::usersDirProblem()
{
    QFETCH(QString, dir);
    QFETCH(QString, problem);
    QVERIFY(createFile());
    const QString path = dir.isEmpty() || dir.startsWith(u"relative"_s) ? dir : m_dir->filePath(dir);
    const QString reason = TraySettings::usersDirProblem(path);
    if (problem.isEmpty()) {
        QVERIFY2(reason.isEmpty(), qPrintable(reason));
    } else {
        QVERIFY2(reason.endsWith(problem), qPrintable(reason));
    }
    QVERIFY(!QFileInfo::exists(m_dir->filePath(u"new"_s))); // checking creates nothing
}

void TestSettingsDialog::loadsDefaults()
{
    const auto dialog = makeDialog();
    QCOMPARE(child<QComboBox>(dialog.get(), u"languageComboBox"_s)->currentData().toString(), QString());
    QCOMPARE(child<QComboBox>(dialog.get(), u"languageComboBox"_s)->currentText(), u"System default"_s);
    QVERIFY(!child<QCheckBox>(dialog.get(), u"startAtLoginCheckBox"_s)->isChecked());
    QVERIFY(!child<QCheckBox>(dialog.get(), u"lanCheckBox"_s)->isChecked());
    QCOMPARE(child<QSpinBox>(dialog.get(), u"portSpinBox"_s)->value(), int(RelayController::DefaultPort));
    QCOMPARE(child<QLineEdit>(dialog.get(), u"usersDirLineEdit"_s)->text(), QString());
    QVERIFY(!child<QCheckBox>(dialog.get(), u"startAtLaunchCheckBox"_s)->isChecked());
    QCOMPARE(child<QSpinBox>(dialog.get(), u"maxCountSpinBox"_s)->value(), HistoryStore::DefaultMaxCount);
    QCOMPARE(child<QSpinBox>(dialog.get(), u"maxAgeSpinBox"_s)->value(), HistoryStore::DefaultMaxAgeDays);
    QCOMPARE(child<QSpinBox>(dialog.get(), u"stormLimitSpinBox"_s)->value(), DesktopNotifier::DefaultStormLimit);
    QVERIFY(!child<QCheckBox>(dialog.get(), u"doNotDisturbCheckBox"_s)->isChecked());
    QVERIFY(button(dialog.get(), QDialogButtonBox::Ok)->isEnabled());
    QCOMPARE(dialog->validationText(), QString());
    QCOMPARE(dialog->formSettings(), TraySettings());
}

void TestSettingsDialog::loadsCurrentValues()
{
    m_settings->setValue(u"general/language"_s, u"de"_s);
    m_settings->setValue(u"relay/lan"_s, true);
    m_settings->setValue(u"relay/port"_s, 9000);
    m_settings->setValue(u"relay/usersDir"_s, m_dir->filePath(u"users"_s));
    m_settings->setValue(u"relay/startAtLaunch"_s, true);
    m_settings->setValue(u"history/maxCount"_s, 50);
    m_settings->setValue(u"history/maxAgeDays"_s, 0);
    m_settings->setValue(u"notifications/stormLimit"_s, 100'000); // as the benchmark sets it
    m_settings->setValue(u"notifications/doNotDisturb"_s, true);
    const auto dialog = makeDialog();
    QCOMPARE(child<QComboBox>(dialog.get(), u"languageComboBox"_s)->currentText(), u"Deutsch"_s);
    QVERIFY(child<QCheckBox>(dialog.get(), u"lanCheckBox"_s)->isChecked());
    QCOMPARE(child<QSpinBox>(dialog.get(), u"portSpinBox"_s)->value(), 9000);
    QCOMPARE(child<QLineEdit>(dialog.get(), u"usersDirLineEdit"_s)->text(), m_dir->filePath(u"users"_s));
    QVERIFY(child<QCheckBox>(dialog.get(), u"startAtLaunchCheckBox"_s)->isChecked());
    QCOMPARE(child<QSpinBox>(dialog.get(), u"maxCountSpinBox"_s)->value(), 50);
    QCOMPARE(child<QSpinBox>(dialog.get(), u"maxAgeSpinBox"_s)->text(), u"Never"_s);
    QCOMPARE(child<QSpinBox>(dialog.get(), u"stormLimitSpinBox"_s)->value(), 100'000);
    QVERIFY(child<QCheckBox>(dialog.get(), u"doNotDisturbCheckBox"_s)->isChecked());
    // Nothing edited: the form is what the file holds.
    QCOMPARE(dialog->formSettings(), TraySettings::load(*m_settings));
}

void TestSettingsDialog::applyWritesEveryKeyAndUpdatesTheParts()
{
    for (int i = 0; i < 5; ++i) {
        HistoryEntry e;
        e.time = QDateTime::currentDateTimeUtc();
        e.subscription = u"s"_s;
        e.patchId = QString::number(i);
        QVERIFY(m_history->add(e));
    }
    const auto dialog = makeDialog();
    dialog->show();
    QVERIFY(QTest::qWaitForWindowExposed(dialog.get()));
    const QString usersDir = m_dir->filePath(u"relay-users"_s);
    child<QComboBox>(dialog.get(), u"languageComboBox"_s)->setCurrentIndex(1); // English
    child<QCheckBox>(dialog.get(), u"lanCheckBox"_s)->setChecked(true);
    child<QSpinBox>(dialog.get(), u"portSpinBox"_s)->setValue(9123);
    child<QLineEdit>(dialog.get(), u"usersDirLineEdit"_s)->setText(usersDir);
    child<QCheckBox>(dialog.get(), u"startAtLaunchCheckBox"_s)->setChecked(true);
    child<QSpinBox>(dialog.get(), u"maxCountSpinBox"_s)->setValue(2);
    child<QSpinBox>(dialog.get(), u"maxAgeSpinBox"_s)->setValue(7);
    child<QSpinBox>(dialog.get(), u"stormLimitSpinBox"_s)->setValue(9);
    child<QCheckBox>(dialog.get(), u"doNotDisturbCheckBox"_s)->setChecked(true);
    QTest::mouseClick(button(dialog.get(), QDialogButtonBox::Apply), Qt::LeftButton);
    QCOMPARE(dialog->validationText(), QString());
    QVERIFY(dialog->isVisible()); // Apply keeps the dialog open

    const auto file = reread();
    QCOMPARE(file->value(u"general/language"_s).toString(), u"en"_s);
    QCOMPARE(file->value(u"relay/lan"_s).toBool(), true);
    QCOMPARE(file->value(u"relay/port"_s).toInt(), 9123);
    QCOMPARE(file->value(u"relay/usersDir"_s).toString(), usersDir);
    QCOMPARE(file->value(u"relay/startAtLaunch"_s).toBool(), true);
    QCOMPARE(file->value(u"history/maxCount"_s).toInt(), 2);
    QCOMPARE(file->value(u"history/maxAgeDays"_s).toInt(), 7);
    QCOMPARE(file->value(u"notifications/stormLimit"_s).toInt(), 9);
    QCOMPARE(file->value(u"notifications/doNotDisturb"_s).toBool(), true);

    // The running parts follow at once: the history is pruned to the new bound.
    QCOMPARE(m_history->maxCount(), 2);
    QCOMPARE(m_history->maxAgeDays(), 7);
    QCOMPARE(m_history->count(), 2);
    QCOMPARE(m_notifier->stormLimit(), 9);
    QVERIFY(m_dispatcher->doNotDisturb());
    const RelayController::Settings relay = m_relay->settings();
    QVERIFY(relay.lan);
    QCOMPARE(relay.port, 9123);
    QCOMPARE(relay.usersDir, usersDir);
    QVERIFY(!QFileInfo::exists(usersDir)); // the relay creates it when it starts
}

void TestSettingsDialog::okAppliesAndCloses()
{
    const auto dialog = makeDialog();
    dialog->show();
    QVERIFY(QTest::qWaitForWindowExposed(dialog.get()));
    QSignalSpy accepted(dialog.get(), &QDialog::accepted);
    child<QSpinBox>(dialog.get(), u"stormLimitSpinBox"_s)->setValue(4);
    QTest::mouseClick(button(dialog.get(), QDialogButtonBox::Ok), Qt::LeftButton);
    QCOMPARE(accepted.size(), 1);
    QVERIFY(!dialog->isVisible());
    QCOMPARE(reread()->value(u"notifications/stormLimit"_s).toInt(), 4);
    QCOMPARE(m_notifier->stormLimit(), 4);
}

void TestSettingsDialog::cancelWritesNothing()
{
    const auto dialog = makeDialog();
    dialog->show();
    QVERIFY(QTest::qWaitForWindowExposed(dialog.get()));
    child<QSpinBox>(dialog.get(), u"maxCountSpinBox"_s)->setValue(3);
    child<QCheckBox>(dialog.get(), u"startAtLoginCheckBox"_s)->setChecked(true);
    QTest::mouseClick(button(dialog.get(), QDialogButtonBox::Cancel), Qt::LeftButton);
    QVERIFY(!dialog->isVisible());
    QCOMPARE(reread()->allKeys(), QStringList());
    QCOMPARE(m_history->maxCount(), HistoryStore::DefaultMaxCount);
    QVERIFY(!Autostart(u"/usr/bin/patchwork-tray"_s).isEnabled());
}

void TestSettingsDialog::relayChangesApplyOnNextStart()
{
    RelayController::Settings s;
    s.port = 0; // any free port
    m_relay->setSettings(s);
    QVERIFY2(m_relay->start(), qPrintable(m_relay->errorString()));
    const quint16 port = m_relay->relay()->port();
    const auto dialog = makeDialog();
    dialog->show();
    QVERIFY(QTest::qWaitForWindowExposed(dialog.get()));
    child<QTabWidget>(dialog.get(), u"settingsTabWidget"_s)->setCurrentIndex(1);
    auto *note = child<QLabel>(dialog.get(), u"relayNoteLabel"_s);
    QVERIFY(note->isVisible());
    QVERIFY(note->text().contains(u"apply when it is next started"_s));
    child<QSpinBox>(dialog.get(), u"portSpinBox"_s)->setValue(0);
    child<QCheckBox>(dialog.get(), u"lanCheckBox"_s)->setChecked(true);
    QVERIFY(dialog->apply());
    // Still serving where it was; the new settings wait for the next start.
    QVERIFY(m_relay->isRunning());
    QCOMPARE(m_relay->relay()->port(), port);
    QVERIFY(m_relay->lanUrls().isEmpty());
    QVERIFY(m_relay->settings().lan);

    QSignalSpy stopped(m_relay->relay(), &Patchwork::Server::Relay::stopped);
    m_relay->stop();
    QVERIFY(stopped.wait(timeoutMs(5000)));
    QVERIFY(!note->isVisible());
    QVERIFY(m_relay->start());
    QVERIFY(!m_relay->summary().contains(u"this computer"_s)); // now on all interfaces
    m_relay->stop();
    QVERIFY(stopped.wait(timeoutMs(5000)));
}

void TestSettingsDialog::relayOverrideKeptUntilRelayEdited()
{
    // As --relay-host 127.0.0.2 leaves it: an override for this run only.
    RelayController::Settings s = RelayController::readSettings(*m_settings);
    s.host = QHostAddress(u"127.0.0.2"_s);
    m_relay->setSettings(s);
    const auto dialog = makeDialog();
    child<QSpinBox>(dialog.get(), u"maxCountSpinBox"_s)->setValue(10);
    QVERIFY(dialog->apply());
    QCOMPARE(m_relay->settings().host, QHostAddress(u"127.0.0.2"_s));
    // Edited in the dialog: the saved settings decide from now on.
    child<QSpinBox>(dialog.get(), u"portSpinBox"_s)->setValue(9999);
    QVERIFY(dialog->apply());
    QVERIFY(m_relay->settings().host.isNull());
    QCOMPARE(m_relay->settings().port, 9999);
}

void TestSettingsDialog::relayPanelAndDialogAgree()
{
    // The panel edits the same settings; each shows what the other applied.
    RelayPanel panel(m_relay.get());
    const auto dialog = makeDialog();
    child<QSpinBox>(dialog.get(), u"portSpinBox"_s)->setValue(9555);
    child<QCheckBox>(dialog.get(), u"lanCheckBox"_s)->setChecked(true);
    QVERIFY(dialog->apply());
    QCOMPARE(child<QSpinBox>(&panel, u"portSpinBox"_s)->value(), 9555);
    QVERIFY(child<QCheckBox>(&panel, u"lanCheckBox"_s)->isChecked());
    panel.applySettings();
    QCOMPARE(m_relay->settings().port, 9555);

    // And the other way: the panel's change shows in the open dialog, whose Apply keeps it.
    child<QSpinBox>(&panel, u"portSpinBox"_s)->setValue(9556);
    panel.applySettings();
    QCOMPARE(child<QSpinBox>(dialog.get(), u"portSpinBox"_s)->value(), 9556);
    child<QSpinBox>(dialog.get(), u"maxCountSpinBox"_s)->setValue(12);
    QVERIFY(dialog->apply());
    QCOMPARE(reread()->value(u"relay/port"_s).toInt(), 9556);
    QCOMPARE(m_relay->settings().port, 9556);
    // Relay fields being edited in the dialog are not overwritten.
    child<QSpinBox>(dialog.get(), u"portSpinBox"_s)->setValue(9600);
    child<QSpinBox>(&panel, u"portSpinBox"_s)->setValue(9557);
    panel.applySettings();
    QCOMPARE(child<QSpinBox>(dialog.get(), u"portSpinBox"_s)->value(), 9600);
}

void TestSettingsDialog::invalidUsersDirDisablesOk_data()
{
    QTest::addColumn<QString>("dir");
    QTest::addColumn<QString>("reason");
    QTest::addRow("relative") << u"users"_s << u"Users directory: Enter an absolute path."_s;
    QTest::addRow("below a file") << u"%1/file/users"_s << u"Users directory: %1/file is not a folder."_s;
}

void TestSettingsDialog::invalidUsersDirDisablesOk()
{
    QFETCH(QString, dir);
    QFETCH(QString, reason);
    QVERIFY(createFile());
    const auto dialog = makeDialog();
    dialog->show();
    QVERIFY(QTest::qWaitForWindowExposed(dialog.get()));
    child<QTabWidget>(dialog.get(), u"settingsTabWidget"_s)->setCurrentIndex(1);
    auto *edit = child<QLineEdit>(dialog.get(), u"usersDirLineEdit"_s);
    edit->setFocus();
    QTest::keyClicks(edit, dir.contains(u"%1"_s) ? dir.arg(m_dir->path()) : dir);
    QCOMPARE(dialog->validationText(), reason.contains(u"%1"_s) ? reason.arg(m_dir->path()) : reason);
    QVERIFY(child<QLabel>(dialog.get(), u"validationLabel"_s)->isVisible());
    QVERIFY(!button(dialog.get(), QDialogButtonBox::Ok)->isEnabled());
    QVERIFY(!button(dialog.get(), QDialogButtonBox::Apply)->isEnabled());
    QVERIFY(!dialog->apply());
    QCOMPARE(reread()->allKeys(), QStringList());
    // Corrected: valid again.
    edit->setText(m_dir->filePath(u"users"_s));
    QCOMPARE(dialog->validationText(), QString());
    QVERIFY(!child<QLabel>(dialog.get(), u"validationLabel"_s)->isVisible());
    QVERIFY(button(dialog.get(), QDialogButtonBox::Ok)->isEnabled());
}

void TestSettingsDialog::emptiedPortDisablesOk()
{
    const auto dialog = makeDialog();
    dialog->show();
    QVERIFY(QTest::qWaitForWindowExposed(dialog.get()));
    child<QTabWidget>(dialog.get(), u"settingsTabWidget"_s)->setCurrentIndex(1);
    auto *port = child<QSpinBox>(dialog.get(), u"portSpinBox"_s);
    port->setFocus();
    port->selectAll();
    QTest::keyClick(port, Qt::Key_Backspace);
    QCOMPARE(port->text(), QString());
    QCOMPARE(dialog->validationText(), u"Port: enter a number from 0 (any free port) to 65535."_s);
    QVERIFY(!button(dialog.get(), QDialogButtonBox::Ok)->isEnabled());
    // Out of range cannot be typed: the last digit of 70000 is refused.
    QTest::keyClicks(port, u"70000"_s);
    QCOMPARE(port->value(), 7000);
    QCOMPARE(dialog->validationText(), QString());
    QVERIFY(button(dialog.get(), QDialogButtonBox::Ok)->isEnabled());
}

void TestSettingsDialog::doNotDisturbAgreesWithTrayAction()
{
    TrayController tray(
        m_history.get(), m_notifier.get(), m_dispatcher.get(), [](const QUrl &) { return true; }, true);
    const auto dialog = makeDialog();
    auto *box = child<QCheckBox>(dialog.get(), u"doNotDisturbCheckBox"_s);
    QVERIFY(!box->isChecked());
    // The menu toggles: the open dialog shows it.
    tray.doNotDisturbAction()->trigger();
    QVERIFY(m_dispatcher->doNotDisturb());
    QVERIFY(box->isChecked());
    // The dialog toggles: the menu shows it, and the key holds it.
    box->setChecked(false);
    QVERIFY(tray.doNotDisturbAction()->isChecked()); // not before Apply
    QVERIFY(dialog->apply());
    QVERIFY(!tray.doNotDisturbAction()->isChecked());
    QVERIFY(!m_dispatcher->doNotDisturb());
    QCOMPARE(reread()->value(u"notifications/doNotDisturb"_s), QVariant(false));
    box->setChecked(true);
    QVERIFY(dialog->apply());
    QVERIFY(tray.doNotDisturbAction()->isChecked());
    QCOMPARE(reread()->value(u"notifications/doNotDisturb"_s).toBool(), true);
}

void TestSettingsDialog::everyFocusableControlHasAnAccessibleName()
{
    m_relay->setSettings({});
    const auto dialog = makeDialog();
    dialog->show();
    QVERIFY(QTest::qWaitForWindowExposed(dialog.get()));
    auto *tabs = child<QTabWidget>(dialog.get(), u"settingsTabWidget"_s);
    QSet<QWidget *> seen;
    for (int page = 0; page < tabs->count(); ++page) {
        tabs->setCurrentIndex(page);
        const QList<QWidget *> chain = focusChain(dialog.get());
        QVERIFY(chain.size() >= 5); // the tab bar, a control, OK, Cancel, Apply
        for (QWidget *widget : chain) {
            QVERIFY2(!widget->accessibleName().isEmpty(),
                     qPrintable(u"%1 (%2) on page %3 has no accessible name"_s.arg(
                         widget->objectName(),
                         QString::fromLatin1(widget->metaObject()->className()),
                         tabs->tabText(page))));
            seen.insert(widget);
        }
    }
    // Every page's controls were reached: 11 controls, the tab bar and three buttons.
    QCOMPARE(seen.size(), 15);
    // Tab moves in reading order on a page.
    tabs->setCurrentIndex(1);
    const QList<QWidget *> relayPage = focusChain(dialog.get());
    QCOMPARE(relayPage.at(1), child<QCheckBox>(dialog.get(), u"lanCheckBox"_s));
    QCOMPARE(relayPage.at(2), child<QSpinBox>(dialog.get(), u"portSpinBox"_s));
    QCOMPARE(relayPage.at(3), child<QLineEdit>(dialog.get(), u"usersDirLineEdit"_s));
    QCOMPARE(relayPage.at(4), child<QPushButton>(dialog.get(), u"browseUsersDirPushButton"_s));
    QCOMPARE(relayPage.at(5), child<QCheckBox>(dialog.get(), u"startAtLaunchCheckBox"_s));
}

QTEST_MAIN(TestSettingsDialog)
#include "tst_settingsdialog.moc"
