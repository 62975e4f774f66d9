// SPDX-License-Identifier: MIT
#include <QCheckBox>
#include <QDBusConnection>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include "gui/desktopnotifier.h"
#include "gui/historystore.h"
#include "gui/notificationdispatcher.h"
#include "gui/settings/autostart.h"
#include "gui/settings/settingsdialog.h"
#include "testutil.h"

using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;
using Patchwork::Test::timeoutMs;

// The "start at login" entry, written into a temporary XDG_CONFIG_HOME and checked by desktop-file-validate.
class TestAutostart final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void filePathFollowsXdgConfigHome();
    void quoteExecArgument_data();
    void quoteExecArgument();
    void enableWritesAValidEntry_data();
    void enableWritesAValidEntry();
    void disableRemovesTheEntry();
    void switchedOffBySessionManager_data();
    void switchedOffBySessionManager();
    void failuresAreReported();
    void dialogCheckboxFollowsTheFile();

private:
    // key → value of the [Desktop Entry] group of the written file.
    static QHash<QString, QString> readEntry(const QString &path);
    // Runs desktop-file-validate on `path`; returns its output, fails the test on errors.
    static void validate(const QString &path);

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestAutostart::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    // Read at every call of QStandardPaths: nothing reaches the real ~/.config.
    qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_dir->filePath(u"config"_s)));
}

void TestAutostart::cleanup()
{
    qunsetenv("XDG_CONFIG_HOME");
    m_dir.reset();
}

QHash<QString, QString> TestAutostart::readEntry(const QString &path)
{
    QHash<QString, QString> entry;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
        return entry;
    }
    const QStringList lines = QString::fromUtf8(file.readAll()).split(u'\n', Qt::SkipEmptyParts);
    for (const QString &line : lines) {
        const qsizetype eq = line.indexOf(u'=');
        if (eq > 0) {
            entry.insert(line.left(eq), line.mid(eq + 1));
        }
    }
    return entry;
}

void TestAutostart::validate(const QString &path)
{
    QProcess validator;
    validator.setProcessChannelMode(QProcess::MergedChannels);
    validator.start(u"desktop-file-validate"_s, {path});
    QVERIFY2(validator.waitForStarted(timeoutMs(10000)),
             "desktop-file-validate is missing: install desktop-file-utils (installer/setup.sh)");
    QVERIFY(validator.waitForFinished(timeoutMs(30000)));
    const QString output = QString::fromUtf8(validator.readAll());
    QVERIFY2(validator.exitStatus() == QProcess::NormalExit && validator.exitCode() == 0, qPrintable(output));
    QVERIFY2(!output.contains(u"error:"_s) && !output.contains(u"warning:"_s), qPrintable(output));
}

void TestAutostart::filePathFollowsXdgConfigHome()
{
    QCOMPARE(Autostart::filePath(), m_dir->filePath(u"config/autostart/patchwork-tray.desktop"_s));
}

void TestAutostart::quoteExecArgument_data()
{
    QTest::addColumn<QString>("argument");
    QTest::addColumn<QString>("quoted");
    QTest::addRow("plain") << u"/usr/bin/patchwork-tray"_s << u"/usr/bin/patchwork-tray"_s;
    QTest::addRow("space") << u"/opt/my apps/tray"_s << u"\"/opt/my apps/tray\""_s;
    QTest::addRow("percent") << u"/opt/100%/tray"_s << u"/opt/100%%/tray"_s;
    QTest::addRow("reserved, no escape") << u"/opt/a&b/tray"_s << u"\"/opt/a&b/tray\""_s;
    QTest::addRow("escaped inside quotes") << u"/opt/\"q\" $x `y` \\z"_s << u"\"/opt/\\\"q\\\" \\$x \\`y\\` \\\\z\""_s;
}

void TestAutostart::quoteExecArgument()
{
    QFETCH(QString, argument);
    QTEST(Autostart::quoteExecArgument(argument), "quoted");
}

void TestAutostart::enableWritesAValidEntry_data()
{
    QTest::addColumn<QString>("executable");
    QTest::addColumn<QString>("exec");
    QTest::addRow("plain path") << u"/usr/bin/patchwork-tray"_s << u"/usr/bin/patchwork-tray"_s;
    QTest::addRow("space") << u"/home/a b/bin/patchwork-tray"_s << u"\"/home/a b/bin/patchwork-tray\""_s;
    // The quoting's backslash doubles again in the file (the string escapes of the format).
    QTest::addRow("backslash and quote") << u"/opt/a\\b \"c\"/patchwork-tray"_s
                                         << u"\"/opt/a\\\\\\\\b \\\\\"c\\\\\"/patchwork-tray\""_s;
    QTest::addRow("running binary") << QCoreApplication::applicationFilePath()
                                    << Autostart::quoteExecArgument(QCoreApplication::applicationFilePath());
}

void TestAutostart::enableWritesAValidEntry()
{
    QFETCH(QString, executable);
    const Autostart autostart(executable);
    QVERIFY(!autostart.isEnabled());
    QString error;
    QVERIFY2(autostart.setEnabled(true, &error), qPrintable(error));
    QVERIFY(autostart.isEnabled());
    const QString path = Autostart::filePath();
    const QHash<QString, QString> entry = readEntry(path);
    QTEST(entry.value(u"Exec"_s), "exec");
    QCOMPARE(entry.value(u"Type"_s), u"Application"_s);
    QCOMPARE(entry.value(u"Name"_s), u"Patchwork"_s);
    QVERIFY(!entry.value(u"Comment"_s).isEmpty());
    QCOMPARE(entry.value(u"Icon"_s), u"patchwork-tray"_s);
    QCOMPARE(entry.value(u"Terminal"_s), u"false"_s);
    QCOMPARE(entry.value(u"X-GNOME-Autostart-enabled"_s), u"true"_s);
    QCOMPARE(entry.value(u"Categories"_s), u"Network;Qt;"_s);
    QVERIFY(!entry.value(u"Exec"_s).contains(u"--relay"_s)); // relay/startAtLaunch decides at every start
    validate(path);
    // Written again in place, with no temporary file left behind.
    QVERIFY(autostart.setEnabled(true, &error));
    QCOMPARE(QDir(QFileInfo(path).absolutePath()).entryList(QDir::Files | QDir::Hidden),
             QStringList{u"patchwork-tray.desktop"_s});
}

void TestAutostart::disableRemovesTheEntry()
{
    const Autostart autostart(u"/usr/bin/patchwork-tray"_s);
    QString error;
    QVERIFY(autostart.setEnabled(false, &error)); // nothing to remove is fine
    QVERIFY(autostart.setEnabled(true, &error));
    QVERIFY(QFile::exists(Autostart::filePath()));
    QVERIFY2(autostart.setEnabled(false, &error), qPrintable(error));
    QVERIFY(!QFile::exists(Autostart::filePath()));
    QVERIFY(!autostart.isEnabled());
}

void TestAutostart::switchedOffBySessionManager_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<bool>("enabled");
    QTest::addRow("hidden") << QByteArray("Hidden=true") << false;
    QTest::addRow("gnome switch off") << QByteArray("X-GNOME-Autostart-enabled=false") << false;
    QTest::addRow("other group") << QByteArray("[Desktop Action x]\nHidden=true") << true;
}

void TestAutostart::switchedOffBySessionManager()
{
    QFETCH(QByteArray, line);
    const Autostart autostart(u"/usr/bin/patchwork-tray"_s);
    QVERIFY(autostart.setEnabled(true));
    QFile file(Autostart::filePath());
    QVERIFY(file.open(QIODevice::Append));
    file.write(line + '\n');
    file.close();
    QTEST(autostart.isEnabled(), "enabled");
}

void TestAutostart::failuresAreReported()
{
    // A folder where the entry belongs: it can be neither written nor removed (also as root).
    QVERIFY(QDir().mkpath(Autostart::filePath() + u"/occupied"_s));
    const Autostart autostart(u"/usr/bin/patchwork-tray"_s);
    QString error;
    QVERIFY(!autostart.setEnabled(true, &error));
    QVERIFY2(error.startsWith(u"Cannot write "_s + Autostart::filePath()), qPrintable(error));
    error.clear();
    QVERIFY(!autostart.setEnabled(false, &error));
    QVERIFY2(error.startsWith(u"Cannot remove "_s + Autostart::filePath()), qPrintable(error));
}

void TestAutostart::dialogCheckboxFollowsTheFile()
{
    QSettings settings(m_dir->filePath(u"tray.ini"_s), QSettings::IniFormat);
    const Autostart autostart(u"/usr/bin/patchwork-tray"_s);
    {
        SettingsDialog dialog(&settings, {}, autostart);
        auto *box = dialog.findChild<QCheckBox *>(u"startAtLoginCheckBox"_s);
        QVERIFY(box);
        QVERIFY(!box->isChecked());
        box->setChecked(true);
        QVERIFY2(dialog.apply(), qPrintable(dialog.validationText()));
        QVERIFY(QFile::exists(Autostart::filePath()));
    }
    {
        SettingsDialog dialog(&settings, {}, autostart);
        auto *box = dialog.findChild<QCheckBox *>(u"startAtLoginCheckBox"_s);
        QVERIFY(box->isChecked());
        box->setChecked(false);
        QVERIFY(dialog.apply());
        QVERIFY(!QFile::exists(Autostart::filePath()));
    }
    // Removed outside the dialog: the next dialog shows it.
    QVERIFY(autostart.setEnabled(true));
    QVERIFY(SettingsDialog(&settings, {}, autostart).startAtLogin());
    QVERIFY(QFile::remove(Autostart::filePath()));
    QVERIFY(!SettingsDialog(&settings, {}, autostart).startAtLogin());
}

QTEST_MAIN(TestAutostart)
#include "tst_autostart.moc"
