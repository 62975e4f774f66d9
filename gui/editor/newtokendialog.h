// SPDX-License-Identifier: MIT
#pragma once

#include <QDialog>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace Patchwork::Gui
{

// Makes a new token: 32 random bytes from the system's generator, shown once with a copy button. The
// config stores its `sha256:` key by default, or the token itself when the user asks for it.
class NewTokenDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NewTokenDialog)

public:
    explicit NewTokenDialog(QWidget *parent = nullptr);

    // The token to hand out (43 characters of base64url).
    QString token() const;
    // The key to store in `tokens:`: UserConfig::hashedKey(token()), or token() when kept literal.
    QString key() const;

    // 32 bytes of QRandomGenerator::system() as base64url without padding.
    static QString generateToken();

private:
    void updateKey();

    QString m_token;
    QLineEdit *m_tokenLineEdit;
    QPushButton *m_copyButton;
    QCheckBox *m_literalCheckBox;
    QLabel *m_keyLabel;
};

} // namespace Patchwork::Gui
