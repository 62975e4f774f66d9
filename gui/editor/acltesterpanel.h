// SPDX-License-Identifier: MIT
#pragma once

#include <memory>

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;

namespace Patchwork
{
class UserConfig;
}

namespace Patchwork::Gui
{

// The ACL tester of the token editor: a method (or huproxy), a target (a path inside the user's namespace,
// or host:port) and a token give the relay's own answer, computed by Acl::probe on the edited config:
// "Allowed", or "Denied — <status> <body>". Re-evaluated on every change of an input or of the config.
class AclTesterPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AclTesterPanel)

public:
    explicit AclTesterPanel(QWidget *parent = nullptr);

    // The config being edited; nullptr when it has problems (then no verdict is shown).
    void setConfig(std::shared_ptr<const UserConfig> config);
    // The namespace owner (/u/<user>/); the paths tested are inside it.
    void setUserName(const QString &user);

private:
    void updateTokenChoices();
    void updateTargetHint();
    void evaluate();

    std::shared_ptr<const UserConfig> m_config;
    QString m_user;
    QComboBox *m_methodComboBox;
    QLabel *m_targetLabel;
    QLineEdit *m_targetLineEdit;
    QLineEdit *m_tokenLineEdit;
    QComboBox *m_tokenComboBox;
    QLabel *m_resultLabel;
};

} // namespace Patchwork::Gui
