// SPDX-License-Identifier: MIT
#pragma once

#include <optional>

#include <QLocale>
#include <QString>
#include <QStringList>
#include <QTranslator>

namespace Patchwork::Gui
{

// Installs the tray's catalog (`:/i18n/patchwork_<lang>.qm`, embedded by CMake) and Qt's own `qtbase_<lang>`
// (standard buttons, from QLibraryInfo::TranslationsPath when present) into the application for one
// language; removes them again when destroyed. English is the source language: its catalog holds only the
// plural forms.
class TranslationLoader final
{
    Q_DISABLE_COPY_MOVE(TranslationLoader)

public:
    // QSettings key of the language choice: "" follows the system, else a language code ("en", "de").
    static QString settingsKey();
    // The languages with an embedded catalog, sorted ("de", "en").
    static QStringList availableLanguages();
    // The language to load for `choice` ("", "system" or a code): a code with a catalog is taken as it is;
    // otherwise the first of `uiLanguages` (QLocale::system().uiLanguages()) that has a catalog or is
    // English; "en" when none has.
    static QString chooseLanguage(const QString &choice, const QStringList &uiLanguages);

    TranslationLoader();
    ~TranslationLoader();

    // Installs the catalogs of `language` (one of availableLanguages()), replacing those installed before.
    // With `formats`, dates and numbers follow the language too (QLocale::setDefault, undone when the loader
    // is destroyed): for a language the user chose, where the system's regional formats would not match.
    // False when the tray has no catalog for it (then nothing is installed).
    bool install(const QString &language, bool formats = false);
    QString language() const;

private:
    QTranslator m_appTranslator;
    QTranslator m_qtTranslator;
    QString m_language;
    std::optional<QLocale> m_previousDefaultLocale;
};

} // namespace Patchwork::Gui
