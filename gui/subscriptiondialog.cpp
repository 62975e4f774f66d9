// SPDX-License-Identifier: MIT
#include "gui/subscriptiondialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QShortcut>
#include <QSpinBox>
#include <QUuid>
#include <QVBoxLayout>

namespace Patchwork::Gui
{

SubscriptionDialog::SubscriptionDialog(const QList<SubscriptionConfig> &subscriptions,
                                       const QUrl &localRelayUrl,
                                       QWidget *parent)
    : QDialog(parent)
    , m_subscriptions(subscriptions)
    , m_localRelayUrl(localRelayUrl)
    , m_listWidget(new QListWidget(this))
    , m_nameLineEdit(new QLineEdit(this))
    , m_serverLineEdit(new QLineEdit(this))
    , m_localRelayButton(new QPushButton(tr("&Local relay"), this))
    , m_pathLineEdit(new QLineEdit(this))
    , m_tokenLineEdit(new QLineEdit(this))
    , m_minPrioritySpinBox(new QSpinBox(this))
    , m_enabledCheckBox(new QCheckBox(tr("&Enabled"), this))
    , m_magicPrefixCheckBox(new QCheckBox(tr("Only messages starting with \"notify\" pop &up"), this))
    , m_mutedCheckBox(new QCheckBox(tr("&Mute (history only)"), this))
    , m_validationLabel(new QLabel(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setObjectName(QStringLiteral("subscriptionDialog"));
    setWindowTitle(tr("Subscriptions — Patchwork"));
    m_listWidget->setObjectName(QStringLiteral("subscriptionListWidget"));
    m_listWidget->setAccessibleName(tr("Subscriptions"));
    m_nameLineEdit->setObjectName(QStringLiteral("nameLineEdit"));
    m_nameLineEdit->setAccessibleName(tr("Name"));
    m_serverLineEdit->setObjectName(QStringLiteral("serverLineEdit"));
    m_serverLineEdit->setAccessibleName(tr("Server URL"));
    m_serverLineEdit->setPlaceholderText(QStringLiteral("https://relay.example.org"));
    m_localRelayButton->setObjectName(QStringLiteral("localRelayPushButton"));
    m_localRelayButton->setEnabled(!localRelayUrl.isEmpty());
    m_localRelayButton->setToolTip(tr("Use the local relay as the server"));
    m_localRelayButton->setAccessibleName(tr("Use the local relay as the server"));
    m_pathLineEdit->setObjectName(QStringLiteral("pathLineEdit"));
    m_pathLineEdit->setAccessibleName(tr("Channel path"));
    m_pathLineEdit->setPlaceholderText(QStringLiteral("/u/alice/notifications"));
    m_tokenLineEdit->setObjectName(QStringLiteral("tokenLineEdit"));
    m_tokenLineEdit->setAccessibleName(tr("Token"));
    m_tokenLineEdit->setEchoMode(QLineEdit::Password);
    m_tokenLineEdit->setPlaceholderText(tr("Unchanged (leave empty for none)"));
    m_minPrioritySpinBox->setObjectName(QStringLiteral("minPrioritySpinBox"));
    m_minPrioritySpinBox->setAccessibleName(tr("Minimum priority"));
    m_minPrioritySpinBox->setRange(1, 5);
    m_enabledCheckBox->setObjectName(QStringLiteral("enabledCheckBox"));
    m_enabledCheckBox->setAccessibleName(tr("Enabled"));
    m_magicPrefixCheckBox->setObjectName(QStringLiteral("magicPrefixCheckBox"));
    m_magicPrefixCheckBox->setAccessibleName(tr("Only messages starting with \"notify\" pop up"));
    m_mutedCheckBox->setObjectName(QStringLiteral("mutedCheckBox"));
    m_mutedCheckBox->setAccessibleName(tr("Mute"));
    QPushButton *ok = m_buttons->button(QDialogButtonBox::Ok);
    ok->setObjectName(QStringLiteral("okPushButton"));
    ok->setAccessibleName(tr("Save the subscriptions"));
    QPushButton *cancel = m_buttons->button(QDialogButtonBox::Cancel);
    cancel->setObjectName(QStringLiteral("cancelPushButton"));
    cancel->setAccessibleName(tr("Cancel"));
    m_validationLabel->setObjectName(QStringLiteral("validationLabel"));
    m_validationLabel->setStyleSheet(QStringLiteral("color: #b00020;"));

    auto *add = new QPushButton(tr("&Add"), this);
    add->setObjectName(QStringLiteral("addPushButton"));
    add->setAccessibleName(tr("Add a subscription"));
    auto *remove = new QPushButton(tr("&Remove"), this);
    remove->setObjectName(QStringLiteral("removePushButton"));
    remove->setAccessibleName(tr("Remove the selected subscription"));
    auto *listButtons = new QHBoxLayout;
    listButtons->addWidget(add);
    listButtons->addWidget(remove);
    auto *left = new QVBoxLayout;
    left->addWidget(m_listWidget, 1);
    left->addLayout(listButtons);

    auto *server = new QHBoxLayout;
    server->addWidget(m_serverLineEdit, 1);
    server->addWidget(m_localRelayButton);
    auto *form = new QFormLayout;
    form->addRow(tr("&Name:"), m_nameLineEdit);
    auto *serverLabel = new QLabel(tr("&Server URL:"), this);
    serverLabel->setBuddy(m_serverLineEdit);
    form->addRow(serverLabel, server);
    form->addRow(tr("&Channel path:"), m_pathLineEdit);
    form->addRow(tr("&Token:"), m_tokenLineEdit);
    form->addRow(tr("Minimum &priority:"), m_minPrioritySpinBox);
    form->addRow(m_enabledCheckBox);
    form->addRow(m_magicPrefixCheckBox);
    form->addRow(m_mutedCheckBox);

    auto *columns = new QHBoxLayout;
    columns->addLayout(left, 1);
    columns->addLayout(form, 2);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(columns, 1);
    layout->addWidget(m_validationLabel);
    layout->addWidget(m_buttons);
    const QList<QWidget *> tabOrder = {m_listWidget,
                                       add,
                                       remove,
                                       m_nameLineEdit,
                                       m_serverLineEdit,
                                       m_localRelayButton,
                                       m_pathLineEdit,
                                       m_tokenLineEdit,
                                       m_minPrioritySpinBox,
                                       m_enabledCheckBox,
                                       m_magicPrefixCheckBox,
                                       m_mutedCheckBox,
                                       ok,
                                       cancel};
    for (qsizetype i = 1; i < tabOrder.size(); ++i) {
        setTabOrder(tabOrder.at(i - 1), tabOrder.at(i));
    }

    for (const SubscriptionConfig &c : std::as_const(m_subscriptions)) {
        m_listWidget->addItem(c.name);
    }
    connect(add, &QPushButton::clicked, this, &SubscriptionDialog::addSubscription);
    connect(remove, &QPushButton::clicked, this, &SubscriptionDialog::removeCurrent);
    connect(new QShortcut(QKeySequence::New, this), &QShortcut::activated, this, &SubscriptionDialog::addSubscription);
    auto *removeShortcut = new QShortcut(QKeySequence::Delete, m_listWidget);
    removeShortcut->setContext(Qt::WidgetShortcut);
    connect(removeShortcut, &QShortcut::activated, this, &SubscriptionDialog::removeCurrent);
    connect(m_localRelayButton, &QPushButton::clicked, this, [this] {
        m_serverLineEdit->setText(m_localRelayUrl.toString());
    });
    connect(m_listWidget, &QListWidget::currentRowChanged, this, &SubscriptionDialog::loadForm);
    for (QLineEdit *edit : {m_nameLineEdit, m_serverLineEdit, m_pathLineEdit, m_tokenLineEdit}) {
        connect(edit, &QLineEdit::textChanged, this, &SubscriptionDialog::storeForm);
    }
    connect(m_minPrioritySpinBox, &QSpinBox::valueChanged, this, &SubscriptionDialog::storeForm);
    for (QCheckBox *box : {m_enabledCheckBox, m_magicPrefixCheckBox, m_mutedCheckBox}) {
        connect(box, &QCheckBox::toggled, this, &SubscriptionDialog::storeForm);
    }
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    m_listWidget->setCurrentRow(m_subscriptions.isEmpty() ? -1 : 0);
    loadForm(m_listWidget->currentRow());
    resize(720, 360);
}

QList<SubscriptionConfig> SubscriptionDialog::subscriptions() const
{
    return m_subscriptions;
}

QHash<QString, QString> SubscriptionDialog::editedTokens() const
{
    return m_tokens;
}

void SubscriptionDialog::addSubscription()
{
    SubscriptionConfig c;
    c.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    c.name = tr("New subscription");
    c.serverUrl = m_localRelayUrl;
    m_subscriptions.append(c);
    m_listWidget->addItem(c.name);
    m_listWidget->setCurrentRow(int(m_subscriptions.size()) - 1);
    m_nameLineEdit->setFocus();
    m_nameLineEdit->selectAll();
}

void SubscriptionDialog::removeCurrent()
{
    const int row = m_listWidget->currentRow();
    if (row < 0) {
        return;
    }
    m_tokens.remove(m_subscriptions.at(row).id);
    m_subscriptions.removeAt(row);
    m_row = -1;
    delete m_listWidget->takeItem(row);
    loadForm(m_listWidget->currentRow());
}

QString SubscriptionDialog::validationText() const
{
    return m_validationLabel->text();
}

void SubscriptionDialog::loadForm(int row)
{
    m_row = row;
    const bool valid = row >= 0 && row < m_subscriptions.size();
    const SubscriptionConfig c = valid ? m_subscriptions.at(row) : SubscriptionConfig();
    m_loading = true;
    m_nameLineEdit->setText(c.name);
    m_serverLineEdit->setText(c.serverUrl.toString());
    m_pathLineEdit->setText(c.channelPath);
    m_tokenLineEdit->setText(m_tokens.value(c.id));
    m_minPrioritySpinBox->setValue(c.minPriority);
    m_enabledCheckBox->setChecked(c.enabled);
    m_magicPrefixCheckBox->setChecked(c.magicPrefix);
    m_mutedCheckBox->setChecked(c.muted);
    m_loading = false;
    for (QWidget *w : std::initializer_list<QWidget *>{m_nameLineEdit,
                                                       m_serverLineEdit,
                                                       m_pathLineEdit,
                                                       m_tokenLineEdit,
                                                       m_minPrioritySpinBox,
                                                       m_enabledCheckBox,
                                                       m_magicPrefixCheckBox,
                                                       m_mutedCheckBox}) {
        w->setEnabled(valid);
    }
    m_localRelayButton->setEnabled(valid && !m_localRelayUrl.isEmpty());
    validate();
}

void SubscriptionDialog::storeForm()
{
    if (m_loading || m_row < 0 || m_row >= m_subscriptions.size()) {
        return;
    }
    SubscriptionConfig &c = m_subscriptions[m_row];
    c.name = m_nameLineEdit->text().trimmed();
    c.serverUrl = QUrl::fromUserInput(m_serverLineEdit->text().trimmed());
    c.channelPath = m_pathLineEdit->text().trimmed();
    c.minPriority = m_minPrioritySpinBox->value();
    c.enabled = m_enabledCheckBox->isChecked();
    c.magicPrefix = m_magicPrefixCheckBox->isChecked();
    c.muted = m_mutedCheckBox->isChecked();
    if (m_tokenLineEdit->isModified()) {
        m_tokens.insert(c.id, m_tokenLineEdit->text());
    }
    m_listWidget->item(m_row)->setText(c.name);
    validate();
}

void SubscriptionDialog::validate()
{
    QString error;
    for (const SubscriptionConfig &c : std::as_const(m_subscriptions)) {
        if (const QString e = c.validationError(); !e.isEmpty()) {
            error = tr("%1: %2").arg(c.name.isEmpty() ? tr("(unnamed)") : c.name, e);
            break;
        }
    }
    m_validationLabel->setText(error);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(error.isEmpty());
}

} // namespace Patchwork::Gui
