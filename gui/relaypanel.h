// SPDX-License-Identifier: MIT
#pragma once

#include <QWidget>

class QCheckBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QSpinBox;

namespace Patchwork::Gui
{

class RelayController;

// The local relay's panel: localhost or LAN, port, users directory, start/stop, the URLs other machines
// use (copy button, QR code for a phone), the live counts, and any error in plain words.
class RelayPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RelayPanel)

public:
    explicit RelayPanel(RelayController *relay, QWidget *parent = nullptr);

    // Applies the form to the controller's settings (start() does this too).
    void applySettings();
    void toggleRunning();
    QString errorText() const;
    QString countsText() const;
    QStringList shownUrls() const;

Q_SIGNALS:
    // The form's settings changed and were applied (so the owner can persist them).
    void settingsApplied();

private:
    // Shows the controller's settings (also when the Settings dialog changed them).
    void loadForm();
    void updateState();
    void updateCounts();
    void updateQrCode();
    void copyCurrentUrl();

    RelayController *m_relay;
    QCheckBox *m_lanCheckBox;
    QSpinBox *m_portSpinBox;
    QLineEdit *m_usersDirLineEdit;
    QPushButton *m_startStopButton;
    QLabel *m_stateLabel;
    QLabel *m_errorLabel;
    QListWidget *m_urlListWidget;
    QPushButton *m_copyButton;
    QLabel *m_qrLabel;
    QLabel *m_countsLabel;
};

} // namespace Patchwork::Gui
