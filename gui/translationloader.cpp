// SPDX-License-Identifier: MIT
#include "gui/translationloader.h"

#include <utility>

#include <QCoreApplication>
#include <QDir>
#include <QLibraryInfo>
#include <QLocale>

#include "gui/logging.h"

namespace Patchwork::Gui
{

namespace
{

const QString CATALOG_DIR = QStringLiteral(":/i18n");
const QString CATALOG_PREFIX = QStringLiteral("patchwork_");

} // namespace

QString TranslationLoader::settingsKey()
{
    return QStringLiteral("general/language");
}

QStringList TranslationLoader::availableLanguages()
{
    QStringList languages;
    const QStringList files = QDir(CATALOG_DIR).entryList({QString(CATALOG_PREFIX + u"*.qm")}, QDir::Files, QDir::Name);
    for (const QString &file : files) {
        languages.append(file.mid(CATALOG_PREFIX.size()).chopped(3));
    }
    return languages;
}

QString TranslationLoader::chooseLanguage(const QString &choice, const QStringList &uiLanguages)
{
    const QStringList available = availableLanguages();
    if (available.contains(choice)) {
        return choice;
    }
    for (const QString &name : uiLanguages) {
        const QLocale locale(name);
        if (locale.language() == QLocale::C) {
            continue;
        }
        const QString code = QLocale::languageToCode(locale.language());
        if (available.contains(code) || locale.language() == QLocale::English) {
            return code;
        }
    }
    return QStringLiteral("en");
}

TranslationLoader::TranslationLoader() = default;

TranslationLoader::~TranslationLoader()
{
    // The QTranslators remove themselves from the application.
    if (m_previousDefaultLocale) {
        QLocale::setDefault(*m_previousDefaultLocale);
    }
}

bool TranslationLoader::install(const QString &language, bool formats)
{
    if (!availableLanguages().contains(language)) {
        return false;
    }
    QCoreApplication::removeTranslator(&m_appTranslator);
    QCoreApplication::removeTranslator(&m_qtTranslator);
    if (!m_appTranslator.load(CATALOG_PREFIX + language, CATALOG_DIR)) {
        qCWarning(lcGui).noquote() << "cannot load the catalog for" << language;
        return false;
    }
    QCoreApplication::installTranslator(&m_appTranslator);
    // Qt's own strings (Cancel, Yes, No, …); a missing catalog (no qt6-translations-l10n) is no error.
    const QString qtDir = QLibraryInfo::path(QLibraryInfo::TranslationsPath);
    if (m_qtTranslator.load(QStringLiteral("qtbase_") + language, qtDir)) {
        QCoreApplication::installTranslator(&m_qtTranslator);
    } else {
        qCDebug(lcGui).noquote() << "no qtbase catalog for" << language << "in" << qtDir;
    }
    if (formats) {
        if (!m_previousDefaultLocale) {
            m_previousDefaultLocale = QLocale();
        }
        QLocale::setDefault(QLocale(language));
    } else if (m_previousDefaultLocale) {
        QLocale::setDefault(*std::exchange(m_previousDefaultLocale, std::nullopt));
    }
    m_language = language;
    return true;
}

QString TranslationLoader::language() const
{
    return m_language;
}

} // namespace Patchwork::Gui
