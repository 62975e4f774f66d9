// SPDX-License-Identifier: MIT
#include "gui/editor/acltesterpanel.h"

#include <QComboBox>
#include <QDateTime>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>

#include "access/acl.h"
#include "access/aclprobe.h"
#include "access/userconfig.h"
#include "gui/editor/configeditorwindow.h"

using namespace Qt::StringLiterals;

namespace Patchwork::Gui
{

namespace
{

constexpr QLatin1StringView METHODS[] = {
    "GET"_L1,
    "POST"_L1,
    "PUT"_L1,
    "DELETE"_L1,
    "PATCH"_L1,
    "OPTIONS"_L1,
};

// The decisions do not depend on the owner's name; a file opened without one is tested as this user's.
const auto DEFAULT_USER = "user"_L1;

// How a literal token is listed: `public` (a name, not a secret) as is, others by their start only.
} // namespace

AclTesterPanel::AclTesterPanel(QWidget *parent)
    : QWidget(parent)
    , m_methodComboBox(new QComboBox(this))
    , m_targetLabel(new QLabel(this))
    , m_targetLineEdit(new QLineEdit(this))
    , m_tokenLineEdit(new QLineEdit(this))
    , m_tokenComboBox(new QComboBox(this))
    , m_resultLabel(new QLabel(this))
{
    setObjectName(u"aclTesterPanel"_s);
    m_methodComboBox->setObjectName(u"methodComboBox"_s);
    m_methodComboBox->setAccessibleName(tr("Method"));
    for (const auto method : METHODS) {
        m_methodComboBox->addItem(method, QString(method));
    }
    m_methodComboBox->addItem(tr("huproxy (tunnel)"), QString::fromLatin1(Acl::HUPROXY_METHOD));
    m_targetLabel->setBuddy(m_targetLineEdit);
    m_targetLineEdit->setObjectName(u"targetLineEdit"_s);
    m_tokenLineEdit->setObjectName(u"tokenLineEdit"_s);
    m_tokenLineEdit->setAccessibleName(tr("Token to test"));
    m_tokenLineEdit->setEchoMode(QLineEdit::PasswordEchoOnEdit);
    m_tokenLineEdit->setPlaceholderText(tr("None (the token named public)"));
    m_tokenLineEdit->setToolTip(
        tr("The token a client presents; empty tests a request without a token. A token stored as a sha256: key "
           "can only be tested by typing the token itself."));
    m_tokenComboBox->setObjectName(u"tokenComboBox"_s);
    m_tokenComboBox->setAccessibleName(tr("Literal token of the config"));
    m_tokenComboBox->setToolTip(
        tr("Picks one of the config's literal tokens. Tokens stored as sha256: keys are not listed: the config "
           "does not hold them, so type the token itself to test it."));
    m_resultLabel->setObjectName(u"resultLabel"_s);
    m_resultLabel->setAccessibleName(tr("Result"));
    m_resultLabel->setWordWrap(true);
    m_resultLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *tokenRow = new QHBoxLayout;
    tokenRow->addWidget(m_tokenLineEdit, 1);
    tokenRow->addWidget(m_tokenComboBox);
    auto *form = new QFormLayout(this);
    form->addRow(tr("&Method:"), m_methodComboBox);
    form->addRow(m_targetLabel, m_targetLineEdit);
    // A row of two widgets gets no buddy from addRow(): the label is made here, so its mnemonic works.
    auto *tokenLabel = new QLabel(tr("T&oken:"), this);
    tokenLabel->setBuddy(m_tokenLineEdit);
    form->addRow(tokenLabel, tokenRow);
    form->addRow(tr("Result:"), m_resultLabel);

    connect(m_methodComboBox, &QComboBox::currentIndexChanged, this, [this] {
        updateTargetHint();
        evaluate();
    });
    connect(m_targetLineEdit, &QLineEdit::textChanged, this, &AclTesterPanel::evaluate);
    connect(m_tokenLineEdit, &QLineEdit::textChanged, this, &AclTesterPanel::evaluate);
    connect(m_tokenLineEdit, &QLineEdit::textEdited, this, [this] { m_tokenComboBox->setCurrentIndex(0); });
    connect(m_tokenComboBox, &QComboBox::activated, this, [this](int index) {
        if (index > 0) {
            m_tokenLineEdit->setText(m_tokenComboBox->itemData(index).toString());
        }
    });
    updateTargetHint();
    updateTokenChoices();
    evaluate();
}

void AclTesterPanel::setConfig(std::shared_ptr<const UserConfig> config)
{
    m_config = std::move(config);
    updateTokenChoices();
    evaluate();
}

void AclTesterPanel::setUserName(const QString &user)
{
    m_user = user;
    evaluate();
}

void AclTesterPanel::updateTokenChoices()
{
    const QString chosen = m_tokenComboBox->currentData().toString();
    const QSignalBlocker blocker(m_tokenComboBox);
    m_tokenComboBox->clear();
    m_tokenComboBox->addItem(tr("Pick a literal token…"));
    const QStringList keys = m_config ? m_config->tokenKeys() : QStringList();
    for (const QString &key : keys) {
        if (!UserConfig::isHashedKey(key)) {
            m_tokenComboBox->addItem(ConfigEditorWindow::tokenLabel(key), key); // masked as in the token list
        }
    }
    m_tokenComboBox->setCurrentIndex(qMax(0, m_tokenComboBox->findData(chosen)));
    m_tokenComboBox->setEnabled(m_tokenComboBox->count() > 1);
}

void AclTesterPanel::updateTargetHint()
{
    const bool tunnel = m_methodComboBox->currentData().toString() == QLatin1StringView(Acl::HUPROXY_METHOD);
    m_targetLabel->setText(tunnel ? tr("&Host:port:") : tr("&Path:"));
    m_targetLineEdit->setAccessibleName(tunnel ? tr("Tunnel target host and port") : tr("Path in the namespace"));
    m_targetLineEdit->setPlaceholderText(tunnel ? u"ssh.example.org:22"_s : u"/queue/jobs?mode=pubsub"_s);
    m_targetLineEdit->setToolTip(tunnel ? tr("The host and port the tunnel would connect to")
                                        : tr("A path inside /u/<user>/ with an optional query, e.g. /_/ntfy"));
}

void AclTesterPanel::evaluate()
{
    const QString target = m_targetLineEdit->text().trimmed();
    QString text;
    QString colour;
    if (!m_config) {
        text = tr("The config has problems; fix them to test access.");
    } else if (target.isEmpty()) {
        text = tr("Enter a target to test.");
    } else {
        const QByteArray header = m_tokenLineEdit->text().toUtf8();
        const QString user = m_user.isEmpty() ? QString(DEFAULT_USER) : m_user;
        const AclProbeResult result = Acl::probe(m_config.get(),
                                                 user.toUtf8(),
                                                 m_methodComboBox->currentData().toString().toUtf8(),
                                                 target.toUtf8(),
                                                 tokenFromAuthorization(header),
                                                 QDateTime::currentDateTimeUtc());
        if (result.allowed) {
            text = tr("Allowed");
            colour = u"#1b5e20"_s;
        } else {
            text = tr("Denied — %1 %2").arg(result.status).arg(QString::fromUtf8(result.body));
            colour = u"#b00020"_s;
        }
    }
    m_resultLabel->setText(text);
    m_resultLabel->setStyleSheet(colour.isEmpty() ? QString() : u"color: %1; font-weight: bold;"_s.arg(colour));
}

} // namespace Patchwork::Gui
