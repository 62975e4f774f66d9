// SPDX-License-Identifier: MIT
#include "gui/relaypanel.h"

#include <QCheckBox>
#include <QClipboard>
#include <QFileDialog>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QShortcut>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include "gui/qrcode.h"
#include "gui/relaycontroller.h"

namespace Patchwork::Gui
{

RelayPanel::RelayPanel(RelayController *relay, QWidget *parent)
    : QWidget(parent)
    , m_relay(relay)
    , m_lanCheckBox(new QCheckBox(tr("Reachable from other devices on the &LAN (all interfaces)"), this))
    , m_portSpinBox(new QSpinBox(this))
    , m_usersDirLineEdit(new QLineEdit(this))
    , m_startStopButton(new QPushButton(this))
    , m_stateLabel(new QLabel(this))
    , m_errorLabel(new QLabel(this))
    , m_urlListWidget(new QListWidget(this))
    , m_copyButton(new QPushButton(tr("&Copy URL"), this))
    , m_qrLabel(new QLabel(this))
    , m_countsLabel(new QLabel(this))
{
    setObjectName(QStringLiteral("relayPanel"));
    setWindowTitle(tr("Local relay — Patchwork"));
    m_lanCheckBox->setObjectName(QStringLiteral("lanCheckBox"));
    m_lanCheckBox->setAccessibleName(tr("Reachable from the LAN"));
    m_portSpinBox->setObjectName(QStringLiteral("portSpinBox"));
    m_portSpinBox->setRange(0, 65535);
    m_portSpinBox->setSpecialValueText(tr("any free port"));
    m_portSpinBox->setAccessibleName(tr("Port"));
    m_usersDirLineEdit->setObjectName(QStringLiteral("usersDirLineEdit"));
    m_usersDirLineEdit->setAccessibleName(tr("Users directory"));
    m_usersDirLineEdit->setPlaceholderText(tr("Default: in the app's data directory"));
    m_startStopButton->setObjectName(QStringLiteral("startStopPushButton"));
    m_startStopButton->setAccessibleName(tr("Start or stop the local relay"));
    m_stateLabel->setObjectName(QStringLiteral("stateLabel"));
    m_errorLabel->setObjectName(QStringLiteral("errorLabel"));
    m_errorLabel->setWordWrap(true);
    m_errorLabel->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_errorLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_urlListWidget->setObjectName(QStringLiteral("urlListWidget"));
    m_urlListWidget->setAccessibleName(tr("URLs of the relay"));
    m_urlListWidget->setMaximumHeight(96);
    m_copyButton->setObjectName(QStringLiteral("copyUrlPushButton"));
    m_copyButton->setAccessibleName(tr("Copy the selected URL"));
    m_qrLabel->setObjectName(QStringLiteral("qrLabel"));
    m_qrLabel->setAccessibleName(tr("QR code of the selected URL"));
    m_qrLabel->setAlignment(Qt::AlignCenter);
    m_qrLabel->setMinimumSize(180, 180);
    m_countsLabel->setObjectName(QStringLiteral("countsLabel"));

    auto *browse = new QToolButton(this);
    browse->setObjectName(QStringLiteral("browseUsersDirToolButton"));
    browse->setText(tr("…"));
    browse->setAccessibleName(tr("Choose the users directory"));
    auto *usersRow = new QHBoxLayout;
    usersRow->addWidget(m_usersDirLineEdit, 1);
    usersRow->addWidget(browse);

    auto *form = new QFormLayout;
    form->addRow(m_lanCheckBox);
    form->addRow(tr("&Port:"), m_portSpinBox);
    auto *usersLabel = new QLabel(tr("&Users directory:"), this);
    usersLabel->setBuddy(m_usersDirLineEdit);
    form->addRow(usersLabel, usersRow);

    auto *controls = new QHBoxLayout;
    controls->addWidget(m_startStopButton);
    controls->addWidget(m_stateLabel, 1);

    auto *urls = new QVBoxLayout;
    urls->addWidget(new QLabel(tr("Open or subscribe from other devices:"), this));
    urls->addWidget(m_urlListWidget);
    urls->addWidget(m_copyButton, 0, Qt::AlignLeft);
    urls->addWidget(m_countsLabel);
    urls->addStretch(1);
    auto *urlRow = new QHBoxLayout;
    urlRow->addLayout(urls, 1);
    urlRow->addWidget(m_qrLabel);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addLayout(controls);
    layout->addWidget(m_errorLabel);
    layout->addLayout(urlRow, 1);
    setTabOrder(m_lanCheckBox, m_portSpinBox);
    setTabOrder(m_portSpinBox, m_usersDirLineEdit);
    setTabOrder(m_usersDirLineEdit, browse);
    setTabOrder(browse, m_startStopButton);
    setTabOrder(m_startStopButton, m_urlListWidget);
    setTabOrder(m_urlListWidget, m_copyButton);

    loadForm();

    connect(m_startStopButton, &QPushButton::clicked, this, &RelayPanel::toggleRunning);
    connect(m_copyButton, &QPushButton::clicked, this, &RelayPanel::copyCurrentUrl);
    connect(browse, &QToolButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Users directory"), m_relay->usersDir());
        if (!dir.isEmpty()) {
            m_usersDirLineEdit->setText(dir);
        }
    });
    connect(m_urlListWidget, &QListWidget::currentRowChanged, this, &RelayPanel::updateQrCode);
    // Closes the panel's own window; inside the main window (which must stay) it does nothing.
    connect(new QShortcut(QKeySequence::Close, this), &QShortcut::activated, this, [this] {
        if (isWindow()) {
            close();
        }
    });
    connect(relay, &RelayController::settingsChanged, this, &RelayPanel::loadForm);
    connect(relay, &RelayController::stateChanged, this, &RelayPanel::updateState);
    connect(relay, &RelayController::errorOccurred, this, &RelayPanel::updateState);
    connect(relay, &RelayController::countsChanged, this, &RelayPanel::updateCounts);
    updateState();
}

void RelayPanel::loadForm()
{
    const RelayController::Settings s = m_relay->settings();
    m_lanCheckBox->setChecked(s.lan);
    m_portSpinBox->setValue(s.port);
    m_usersDirLineEdit->setText(s.usersDir);
}

void RelayPanel::applySettings()
{
    RelayController::Settings s = m_relay->settings();
    s.lan = m_lanCheckBox->isChecked();
    s.port = quint16(m_portSpinBox->value());
    s.usersDir = m_usersDirLineEdit->text().trimmed();
    if (!(s == m_relay->settings())) {
        s.host = QHostAddress(); // the form decides now, not --relay-host
        m_relay->setSettings(s);
        Q_EMIT settingsApplied();
    }
}

void RelayPanel::toggleRunning()
{
    if (m_relay->isRunning()) {
        m_relay->stop();
        return;
    }
    applySettings();
    m_relay->start();
}

QString RelayPanel::errorText() const
{
    return m_errorLabel->text();
}

QString RelayPanel::countsText() const
{
    return m_countsLabel->text();
}

QStringList RelayPanel::shownUrls() const
{
    QStringList urls;
    for (int i = 0; i < m_urlListWidget->count(); ++i) {
        urls.append(m_urlListWidget->item(i)->text());
    }
    return urls;
}

void RelayPanel::updateState()
{
    const bool running = m_relay->isRunning();
    m_startStopButton->setText(running ? tr("&Stop relay") : tr("&Start relay"));
    m_stateLabel->setText(m_relay->summary());
    m_errorLabel->setText(running ? QString() : m_relay->errorString());
    m_errorLabel->setVisible(!m_errorLabel->text().isEmpty());
    m_lanCheckBox->setEnabled(!running);
    m_portSpinBox->setEnabled(!running);
    m_usersDirLineEdit->setEnabled(!running);

    const QString current = m_urlListWidget->currentItem() ? m_urlListWidget->currentItem()->text() : QString();
    m_urlListWidget->clear();
    QList<QUrl> urls = m_relay->lanUrls();
    if (running) {
        urls.prepend(m_relay->localUrl());
    }
    for (const QUrl &url : std::as_const(urls)) {
        m_urlListWidget->addItem(url.toString());
    }
    const auto matches = m_urlListWidget->findItems(current, Qt::MatchExactly);
    // Preselect what a phone needs: the first LAN URL, else the local one.
    m_urlListWidget->setCurrentRow(!matches.isEmpty() ? m_urlListWidget->row(matches.first())
                                                      : (m_urlListWidget->count() > 1 ? 1 : 0));
    m_copyButton->setEnabled(running);
    updateQrCode();
    updateCounts();
}

void RelayPanel::updateCounts()
{
    const Server::Relay *relay = m_relay->relay();
    m_countsLabel->setText(m_relay->isRunning() ? tr("Channels: %1 · waiting: %2 · connections: %3 · messages/min: %4")
                                                      .arg(relay->channelCount())
                                                      .arg(relay->waitingCount())
                                                      .arg(relay->connectionCount())
                                                      .arg(relay->messagesPerMinute())
                                                : QString());
}

void RelayPanel::updateQrCode()
{
    const QListWidgetItem *item = m_urlListWidget->currentItem();
    if (!item) {
        m_qrLabel->clear();
        return;
    }
    m_qrLabel->setPixmap(QPixmap::fromImage(qrCodeImage(item->text(), 5)));
}

void RelayPanel::copyCurrentUrl()
{
    if (const QListWidgetItem *item = m_urlListWidget->currentItem()) {
        QGuiApplication::clipboard()->setText(item->text());
    }
}

} // namespace Patchwork::Gui
