// SPDX-License-Identifier: MIT
#include <QAction>
#include <QCoreApplication>
#include <QFile>
#include <QLibraryInfo>
#include <QMenu>
#include <QSettings>
#include <QStandardPaths>
#include <QTest>

#include "gui/translationloader.h"
#include "gui/trayapplication.h"
#include "gui/traycontroller.h"

using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;

// The embedded catalogs, the choice of language, and the tray started in the chosen one.
class TestTranslationLoader final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void available();
    void chooseLanguage_data();
    void chooseLanguage();
    void installGerman();
    void formats();
    void englishPlurals();
    void unknownLanguage();
    void trayLanguage_data();
    void trayLanguage();
    void parseLang_data();
    void parseLang();
};

void TestTranslationLoader::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(u"patchwork-test"_s);
    QCoreApplication::setApplicationName(u"tst_translationloader"_s);
}

void TestTranslationLoader::init()
{
    QSettings().clear(); // test mode keeps ~/.qttest between runs
}

void TestTranslationLoader::available()
{
    QCOMPARE(TranslationLoader::availableLanguages(), (QStringList{u"de"_s, u"en"_s}));
}

void TestTranslationLoader::chooseLanguage_data()
{
    QTest::addColumn<QString>("choice");
    QTest::addColumn<QStringList>("uiLanguages");
    QTest::addColumn<QString>("expected");
    QTest::addRow("explicit de") << u"de"_s << QStringList{u"en-US"_s} << u"de"_s;
    QTest::addRow("explicit en") << u"en"_s << QStringList{u"de-DE"_s} << u"en"_s;
    QTest::addRow("system de") << QString() << QStringList{u"de-AT"_s, u"en-US"_s} << u"de"_s;
    QTest::addRow("system word") << u"system"_s << QStringList{u"de-CH"_s} << u"de"_s;
    QTest::addRow("system en first") << QString() << QStringList{u"en-GB"_s, u"de-DE"_s} << u"en"_s;
    QTest::addRow("first with a catalog") << QString() << QStringList{u"fr-FR"_s, u"de-DE"_s} << u"de"_s;
    QTest::addRow("none with a catalog") << QString() << QStringList{u"fr-FR"_s, u"ja-JP"_s} << u"en"_s;
    QTest::addRow("C locale") << QString() << QStringList{u"C"_s} << u"en"_s;
    QTest::addRow("unknown choice follows the system") << u"xx"_s << QStringList{u"de"_s} << u"de"_s;
}

void TestTranslationLoader::chooseLanguage()
{
    QFETCH(QString, choice);
    QFETCH(QStringList, uiLanguages);
    QTEST(TranslationLoader::chooseLanguage(choice, uiLanguages), "expected");
}

void TestTranslationLoader::installGerman()
{
    {
        TranslationLoader loader;
        QVERIFY(loader.install(u"de"_s));
        QCOMPARE(loader.language(), u"de"_s);
        QCOMPARE(QCoreApplication::translate("Patchwork::Gui::TrayController", "&Quit"), u"&Beenden"_s);
        // Messages of shared/ the tray shows, and plurals.
        QCOMPARE(QCoreApplication::translate("Patchwork::Pattern", "empty pattern"), u"leeres Muster"_s);
        QCOMPARE(QCoreApplication::translate(
                     "Patchwork::Client::Subscription", "No data from the server for %n second(s)", nullptr, 1),
                 u"Seit 1 Sekunde keine Daten vom Server"_s);
        // Qt's own catalog (qt6-translations-l10n): the standard buttons.
        QVERIFY2(QFile::exists(QLibraryInfo::path(QLibraryInfo::TranslationsPath) + u"/qtbase_de.qm"_s),
                 "qtbase_de.qm missing: installer/setup.sh installs qt6-translations-l10n");
        QCOMPARE(QCoreApplication::translate("QPlatformTheme", "Cancel"), u"Abbrechen"_s);
    }
    // Gone with the loader.
    QCOMPARE(QCoreApplication::translate("Patchwork::Gui::TrayController", "&Quit"), u"&Quit"_s);
    QCOMPARE(QCoreApplication::translate("QPlatformTheme", "Cancel"), u"Cancel"_s);
}

void TestTranslationLoader::formats()
{
    const QLocale before;
    {
        TranslationLoader loader;
        QVERIFY(loader.install(u"de"_s, true));
        QCOMPARE(QLocale().name(), u"de_DE"_s);
        QCOMPARE(QLocale().toString(1234.5, 'f', 1), u"1.234,5"_s);
        QVERIFY(loader.install(u"en"_s)); // the system's language again: the system's formats
        QCOMPARE(QLocale(), before);
        QVERIFY(loader.install(u"de"_s, true));
    }
    QCOMPARE(QLocale(), before);
}

void TestTranslationLoader::englishPlurals()
{
    TranslationLoader loader;
    QVERIFY(loader.install(u"de"_s));
    QVERIFY(loader.install(u"en"_s)); // replaces German
    const char *source = "No data from the server for %n second(s)";
    QCOMPARE(QCoreApplication::translate("Patchwork::Client::Subscription", source, nullptr, 1),
             u"No data from the server for 1 second"_s);
    QCOMPARE(QCoreApplication::translate("Patchwork::Client::Subscription", source, nullptr, 30),
             u"No data from the server for 30 seconds"_s);
    QCOMPARE(QCoreApplication::translate("Patchwork::Gui::TrayController", "&Quit"), u"&Quit"_s);
}

void TestTranslationLoader::unknownLanguage()
{
    TranslationLoader loader;
    QVERIFY(!loader.install(u"fr"_s));
    QVERIFY(loader.language().isEmpty());
}

void TestTranslationLoader::trayLanguage_data()
{
    QTest::addColumn<QString>("setting");
    QTest::addColumn<QString>("option");
    QTest::addColumn<QString>("quit");
    QTest::addColumn<QString>("locale");
    QTest::addRow("setting de") << u"de"_s << QString() << u"&Beenden"_s << u"de_DE"_s;
    QTest::addRow("setting en") << u"en"_s << QString() << u"&Quit"_s << u"en_US"_s;
    QTest::addRow("--lang de over the setting") << u"en"_s << u"de"_s << u"&Beenden"_s << u"de_DE"_s;
    QTest::addRow("--lang en over the setting") << u"de"_s << u"en"_s << u"&Quit"_s << u"en_US"_s;
    QTest::addRow("system (C locale in the tests)") << QString() << QString() << u"&Quit"_s << u"C"_s;
}

void TestTranslationLoader::trayLanguage()
{
    QFETCH(QString, setting);
    QFETCH(QString, option);
    QSettings().setValue(TranslationLoader::settingsKey(), setting);
    TrayApplication app;
    TrayApplication::Options options;
    options.singleInstance = false;
    options.language = option;
    QString error;
    QVERIFY2(app.start(options, &error), qPrintable(error));
    QTEST(app.tray()->quitAction()->text(), "quit");
    // A chosen language formats dates too; the system's (C here) keeps the system's formats.
    QTEST(QLocale().name(), "locale");
}

void TestTranslationLoader::parseLang_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<bool>("ok");
    QTest::addRow("de") << u"de"_s << true;
    QTest::addRow("en") << u"en"_s << true;
    QTest::addRow("system") << u"system"_s << true;
    QTest::addRow("no catalog") << u"fr"_s << false;
}

void TestTranslationLoader::parseLang()
{
    QFETCH(QString, value);
    QFETCH(bool, ok);
    TrayApplication::Options options;
    QString error;
    QCOMPARE(TrayApplication::parseArguments({u"tray"_s, u"--lang"_s, value}, &options, &error), ok);
    if (ok) {
        QCOMPARE(options.language, value);
    } else {
        QVERIFY(error.startsWith(u"--lang: no translation for fr"_s));
    }
}

QTEST_MAIN(TestTranslationLoader)
#include "tst_translationloader.moc"
