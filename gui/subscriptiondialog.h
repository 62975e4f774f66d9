// SPDX-License-Identifier: MIT
#pragma once

#include <QDialog>
#include <QHash>
#include <QUrl>

#include "gui/subscriptionconfig.h"

class QCheckBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QSpinBox;

namespace Patchwork::Gui
{

// Lists the subscriptions and edits one at a time: name, server URL, channel path, token, minimum
// priority, enabled, magic prefix, mute. OK stays disabled while an entry is invalid, with the reason shown.
class SubscriptionDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SubscriptionDialog)

public:
    // `localRelayUrl`: the running local relay (empty when stopped), offered as a server.
    SubscriptionDialog(const QList<SubscriptionConfig> &subscriptions,
                       const QUrl &localRelayUrl,
                       QWidget *parent = nullptr);

    QList<SubscriptionConfig> subscriptions() const;
    // Tokens typed in this dialog, by subscription id (an empty one deletes the stored token).
    QHash<QString, QString> editedTokens() const;

    // For tests and keyboard users: add an entry and select it.
    void addSubscription();
    void removeCurrent();
    QString validationText() const;

private:
    void loadForm(int row);
    void storeForm();
    void validate();

    QList<SubscriptionConfig> m_subscriptions;
    QHash<QString, QString> m_tokens;
    QUrl m_localRelayUrl;
    int m_row = -1;
    bool m_loading = false;
    QListWidget *m_listWidget;
    QLineEdit *m_nameLineEdit;
    QLineEdit *m_serverLineEdit;
    QPushButton *m_localRelayButton;
    QLineEdit *m_pathLineEdit;
    QLineEdit *m_tokenLineEdit;
    QSpinBox *m_minPrioritySpinBox;
    QCheckBox *m_enabledCheckBox;
    QCheckBox *m_magicPrefixCheckBox;
    QCheckBox *m_mutedCheckBox;
    QLabel *m_validationLabel;
    QDialogButtonBox *m_buttons;
};

} // namespace Patchwork::Gui
