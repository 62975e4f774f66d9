// SPDX-License-Identifier: MIT
#pragma once

#include <QDialog>

#include "gui/settings/autostart.h"
#include "gui/settings/traysettings.h"

class QAbstractButton;
class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSettings;
class QSpinBox;
class QTabWidget;

namespace Patchwork::Gui
{

// The tray's settings: start at login and language; the local relay's defaults; the history bounds; the
// notification behaviour. OK and Apply write the settings file and tell the running parts (TraySettings::
// apply); both stay disabled while a field is invalid, with the reason shown.
class SettingsDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SettingsDialog)

public:
    // `settings` (not owned) outlives the dialog; so do the parts, which may be null.
    SettingsDialog(QSettings *settings, const TrayParts &parts, const Autostart &autostart, QWidget *parent = nullptr);

    // What the form holds now.
    TraySettings formSettings() const;
    bool startAtLogin() const;
    // Writes and applies the form; false (validationText() says why) when it is invalid or the autostart
    // entry could not be written.
    bool apply();
    QString validationText() const;

private:
    void loadForm(const TraySettings &s);
    void loadRelayForm(const RelayController::Settings &relay);
    void validate();
    void onButtonClicked(QAbstractButton *button);
    void browseUsersDir();
    void onRelaySettingsChanged();
    void updateRelayNote();

    QSettings *m_settings;
    TrayParts m_parts;
    Autostart m_autostart;
    // What the settings file held at the last load or apply.
    TraySettings m_applied;
    QTabWidget *m_tabWidget;
    QCheckBox *m_startAtLoginCheckBox;
    QComboBox *m_languageComboBox;
    QCheckBox *m_lanCheckBox;
    QSpinBox *m_portSpinBox;
    QLineEdit *m_usersDirLineEdit;
    QCheckBox *m_startAtLaunchCheckBox;
    QLabel *m_relayNoteLabel;
    QSpinBox *m_maxCountSpinBox;
    QSpinBox *m_maxAgeSpinBox;
    QSpinBox *m_stormLimitSpinBox;
    QCheckBox *m_doNotDisturbCheckBox;
    QLabel *m_validationLabel;
    QDialogButtonBox *m_buttons;
};

} // namespace Patchwork::Gui
