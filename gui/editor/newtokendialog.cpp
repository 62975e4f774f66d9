// SPDX-License-Identifier: MIT
#include "gui/editor/newtokendialog.h"

#include <array>

#include <QCheckBox>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRandomGenerator>
#include <QVBoxLayout>

#include "access/userconfig.h"

using namespace Qt::StringLiterals;

namespace Patchwork::Gui
{

namespace
{

constexpr int TOKEN_BYTES = 32;

} // namespace

NewTokenDialog::NewTokenDialog(QWidget *parent)
    : QDialog(parent)
    , m_token(generateToken())
    , m_tokenLineEdit(new QLineEdit(m_token, this))
    , m_copyButton(new QPushButton(tr("&Copy"), this))
    , m_literalCheckBox(new QCheckBox(tr("&Store the token itself (literal) instead of its SHA-256 hash"), this))
    , m_keyLabel(new QLabel(this))
{
    setObjectName(u"newTokenDialog"_s);
    setWindowTitle(tr("New token — Patchwork"));

    auto *warning = new QLabel(
        tr("Copy the token now and give it to whoever will use it. It will not be shown again: the config only "
           "keeps what is needed to recognise it."),
        this);
    warning->setObjectName(u"warningLabel"_s);
    warning->setWordWrap(true);
    warning->setStyleSheet(u"font-weight: bold;"_s);

    m_tokenLineEdit->setObjectName(u"tokenLineEdit"_s);
    m_tokenLineEdit->setAccessibleName(tr("New token"));
    m_tokenLineEdit->setReadOnly(true);
    m_tokenLineEdit->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_tokenLineEdit->setMinimumWidth(m_tokenLineEdit->fontMetrics().horizontalAdvance(m_token + u"MM"_s));
    m_copyButton->setObjectName(u"copyPushButton"_s);
    m_copyButton->setAccessibleName(tr("Copy the token"));
    m_copyButton->setToolTip(tr("Copy the token to the clipboard"));
    m_literalCheckBox->setObjectName(u"literalCheckBox"_s);
    m_literalCheckBox->setAccessibleName(tr("Store the token literally"));
    m_literalCheckBox->setToolTip(
        tr("A literal token can be read by anyone who can read the config file; a SHA-256 key cannot be turned "
           "back into the token"));
    m_keyLabel->setObjectName(u"keyLabel"_s);
    m_keyLabel->setWordWrap(true);
    m_keyLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setAccessibleName(tr("Add the token"));
    buttons->button(QDialogButtonBox::Cancel)->setAccessibleName(tr("Cancel"));

    auto *tokenRow = new QHBoxLayout;
    tokenRow->addWidget(m_tokenLineEdit, 1);
    tokenRow->addWidget(m_copyButton);
    auto *tokenLabel = new QLabel(tr("&Token:"), this);
    tokenLabel->setBuddy(m_tokenLineEdit);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(warning);
    layout->addWidget(tokenLabel);
    layout->addLayout(tokenRow);
    layout->addWidget(m_literalCheckBox);
    layout->addWidget(m_keyLabel);
    layout->addStretch(1);
    layout->addWidget(buttons);

    connect(m_copyButton, &QPushButton::clicked, this, [this] {
        QGuiApplication::clipboard()->setText(m_token);
        m_copyButton->setText(tr("&Copied"));
    });
    connect(m_literalCheckBox, &QCheckBox::toggled, this, &NewTokenDialog::updateKey);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    updateKey();
    m_copyButton->setFocus();
}

QString NewTokenDialog::token() const
{
    return m_token;
}

QString NewTokenDialog::key() const
{
    return m_literalCheckBox->isChecked() ? m_token : UserConfig::hashedKey(m_token.toLatin1());
}

QString NewTokenDialog::generateToken()
{
    std::array<quint32, TOKEN_BYTES / sizeof(quint32)> words;
    QRandomGenerator::system()->fillRange(words.data(), qsizetype(words.size()));
    const QByteArray bytes(reinterpret_cast<const char *>(words.data()), TOKEN_BYTES);
    return QString::fromLatin1(bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

void NewTokenDialog::updateKey()
{
    m_keyLabel->setText(m_literalCheckBox->isChecked() ? tr("The config will hold the token itself.")
                                                       : tr("The config will hold its hash: %1").arg(key()));
}

} // namespace Patchwork::Gui
