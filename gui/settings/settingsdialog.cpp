// SPDX-License-Identifier: MIT
#include "gui/settings/settingsdialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTabBar>
#include <QTabWidget>
#include <QVBoxLayout>

#include "gui/notificationdispatcher.h"

namespace Patchwork::Gui
{

namespace
{

constexpr int MAX_HISTORY_COUNT = 10'000'000;
constexpr int MAX_HISTORY_AGE_DAYS = 3650;
constexpr int MAX_STORM_LIMIT = 1'000'000;

QLabel *noteLabel(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    label->setWordWrap(true);
    label->setEnabled(false); // the style's dimmed text: an explanation, not a control
    return label;
}

} // namespace

SettingsDialog::SettingsDialog(QSettings *settings, const TrayParts &parts, const Autostart &autostart, QWidget *parent)
    : QDialog(parent)
    , m_settings(settings)
    , m_parts(parts)
    , m_autostart(autostart)
    , m_applied(TraySettings::load(*settings))
    , m_tabWidget(new QTabWidget(this))
    , m_startAtLoginCheckBox(new QCheckBox(tr("&Start Patchwork when I log in"), this))
    , m_languageComboBox(new QComboBox(this))
    , m_lanCheckBox(new QCheckBox(tr("Reachable from other devices on the &LAN (all interfaces)"), this))
    , m_portSpinBox(new QSpinBox(this))
    , m_usersDirLineEdit(new QLineEdit(this))
    , m_startAtLaunchCheckBox(new QCheckBox(tr("Start the local relay &when Patchwork starts"), this))
    , m_relayNoteLabel(noteLabel(QString(), this))
    , m_maxCountSpinBox(new QSpinBox(this))
    , m_maxAgeSpinBox(new QSpinBox(this))
    , m_stormLimitSpinBox(new QSpinBox(this))
    , m_doNotDisturbCheckBox(new QCheckBox(tr("&Do not disturb: messages go to the history only"), this))
    , m_validationLabel(new QLabel(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::Apply, this))
{
    setObjectName(QStringLiteral("settingsDialog"));
    setWindowTitle(tr("Settings — Patchwork"));
    m_tabWidget->setObjectName(QStringLiteral("settingsTabWidget"));
    m_tabWidget->setAccessibleName(tr("Settings pages"));
    m_tabWidget->tabBar()->setAccessibleName(tr("Settings pages"));

    // General
    m_startAtLoginCheckBox->setObjectName(QStringLiteral("startAtLoginCheckBox"));
    m_startAtLoginCheckBox->setAccessibleName(tr("Start Patchwork when I log in"));
    m_languageComboBox->setObjectName(QStringLiteral("languageComboBox"));
    m_languageComboBox->setAccessibleName(tr("Language"));
    m_languageComboBox->addItem(tr("System default"), QString());
    // Each language in its own name, so it can be found whatever the current language is.
    m_languageComboBox->addItem(QStringLiteral("English"), QStringLiteral("en"));
    m_languageComboBox->addItem(QStringLiteral("Deutsch"), QStringLiteral("de"));
    auto *general = new QWidget;
    auto *generalForm = new QFormLayout(general);
    generalForm->addRow(m_startAtLoginCheckBox);
    generalForm->addRow(tr("&Language:"), m_languageComboBox);
    generalForm->addRow(QString(), noteLabel(tr("Applies after restart."), general));

    // Local relay
    m_lanCheckBox->setObjectName(QStringLiteral("lanCheckBox"));
    m_lanCheckBox->setAccessibleName(tr("Reachable from other devices on the LAN"));
    m_portSpinBox->setObjectName(QStringLiteral("portSpinBox"));
    m_portSpinBox->setAccessibleName(tr("Port"));
    m_portSpinBox->setRange(0, 65535);
    m_portSpinBox->setSpecialValueText(tr("any free port"));
    m_usersDirLineEdit->setObjectName(QStringLiteral("usersDirLineEdit"));
    m_usersDirLineEdit->setAccessibleName(tr("Users directory"));
    m_usersDirLineEdit->setPlaceholderText(tr("Default: in the app's data directory"));
    auto *browse = new QPushButton(tr("&Browse…"), this);
    browse->setObjectName(QStringLiteral("browseUsersDirPushButton"));
    browse->setAccessibleName(tr("Choose the users directory"));
    m_startAtLaunchCheckBox->setObjectName(QStringLiteral("startAtLaunchCheckBox"));
    m_startAtLaunchCheckBox->setAccessibleName(tr("Start the local relay when Patchwork starts"));
    m_relayNoteLabel->setObjectName(QStringLiteral("relayNoteLabel"));
    auto *usersRow = new QHBoxLayout;
    usersRow->addWidget(m_usersDirLineEdit, 1);
    usersRow->addWidget(browse);
    auto *relay = new QWidget;
    auto *relayForm = new QFormLayout(relay);
    relayForm->addRow(m_lanCheckBox);
    relayForm->addRow(tr("&Port:"), m_portSpinBox);
    auto *usersLabel = new QLabel(tr("&Users directory:"), relay);
    usersLabel->setBuddy(m_usersDirLineEdit);
    relayForm->addRow(usersLabel, usersRow);
    relayForm->addRow(m_startAtLaunchCheckBox);
    relayForm->addRow(m_relayNoteLabel);

    // History
    m_maxCountSpinBox->setObjectName(QStringLiteral("maxCountSpinBox"));
    m_maxCountSpinBox->setAccessibleName(tr("Maximum number of messages"));
    m_maxCountSpinBox->setRange(0, MAX_HISTORY_COUNT);
    m_maxCountSpinBox->setSpecialValueText(tr("Unlimited"));
    m_maxAgeSpinBox->setObjectName(QStringLiteral("maxAgeSpinBox"));
    m_maxAgeSpinBox->setAccessibleName(tr("Delete messages older than this many days"));
    m_maxAgeSpinBox->setRange(0, MAX_HISTORY_AGE_DAYS);
    m_maxAgeSpinBox->setSpecialValueText(tr("Never"));
    auto *history = new QWidget;
    auto *historyForm = new QFormLayout(history);
    historyForm->addRow(tr("Maximum &number of messages:"), m_maxCountSpinBox);
    historyForm->addRow(tr("Delete messages &older than (days):"), m_maxAgeSpinBox);

    // Notifications
    m_stormLimitSpinBox->setObjectName(QStringLiteral("stormLimitSpinBox"));
    m_stormLimitSpinBox->setAccessibleName(tr("Pop-ups per subscription per 10 seconds"));
    m_stormLimitSpinBox->setRange(1, MAX_STORM_LIMIT);
    m_doNotDisturbCheckBox->setObjectName(QStringLiteral("doNotDisturbCheckBox"));
    m_doNotDisturbCheckBox->setAccessibleName(tr("Do not disturb"));
    auto *notifications = new QWidget;
    auto *notificationsForm = new QFormLayout(notifications);
    notificationsForm->addRow(tr("&Pop-ups per subscription per 10 seconds:"), m_stormLimitSpinBox);
    notificationsForm->addRow(
        QString(),
        noteLabel(tr("More are summed up in one notification; the history keeps every message."), notifications));
    notificationsForm->addRow(m_doNotDisturbCheckBox);

    m_tabWidget->addTab(general, tr("&General"));
    m_tabWidget->addTab(relay, tr("Local &relay"));
    m_tabWidget->addTab(history, tr("&History"));
    m_tabWidget->addTab(notifications, tr("&Notifications"));

    m_validationLabel->setObjectName(QStringLiteral("validationLabel"));
    m_validationLabel->setWordWrap(true);
    m_validationLabel->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_buttons->setObjectName(QStringLiteral("settingsButtonBox"));
    for (QAbstractButton *button : m_buttons->buttons()) {
        button->setAccessibleName(QString(button->text()).remove(u'&'));
    }
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_tabWidget, 1);
    layout->addWidget(m_validationLabel);
    layout->addWidget(m_buttons);

    setTabOrder(m_tabWidget, m_startAtLoginCheckBox);
    setTabOrder(m_startAtLoginCheckBox, m_languageComboBox);
    setTabOrder(m_languageComboBox, m_lanCheckBox);
    setTabOrder(m_lanCheckBox, m_portSpinBox);
    setTabOrder(m_portSpinBox, m_usersDirLineEdit);
    setTabOrder(m_usersDirLineEdit, browse);
    setTabOrder(browse, m_startAtLaunchCheckBox);
    setTabOrder(m_startAtLaunchCheckBox, m_maxCountSpinBox);
    setTabOrder(m_maxCountSpinBox, m_maxAgeSpinBox);
    setTabOrder(m_maxAgeSpinBox, m_stormLimitSpinBox);
    setTabOrder(m_stormLimitSpinBox, m_doNotDisturbCheckBox);
    setTabOrder(m_doNotDisturbCheckBox, m_buttons);

    m_startAtLoginCheckBox->setChecked(m_autostart.isEnabled());
    loadForm(m_applied);

    connect(browse, &QPushButton::clicked, this, &SettingsDialog::browseUsersDir);
    connect(m_usersDirLineEdit, &QLineEdit::textChanged, this, &SettingsDialog::validate);
    // The spin box signals only acceptable text; its editor also reports what is not (an emptied field).
    connect(m_portSpinBox->findChild<QLineEdit *>(), &QLineEdit::textChanged, this, &SettingsDialog::validate);
    connect(m_buttons, &QDialogButtonBox::clicked, this, &SettingsDialog::onButtonClicked);
    if (m_parts.dispatcher) {
        // The tray menu's toggle and this checkbox show the same state.
        connect(m_parts.dispatcher, &NotificationDispatcher::doNotDisturbChanged, this, [this](bool on) {
            m_applied.doNotDisturb = on;
            m_doNotDisturbCheckBox->setChecked(on);
        });
    }
    if (m_parts.relay) {
        connect(m_parts.relay, &RelayController::stateChanged, this, &SettingsDialog::updateRelayNote);
        connect(m_parts.relay, &RelayController::settingsChanged, this, &SettingsDialog::onRelaySettingsChanged);
    }
    updateRelayNote();
    validate();
}

TraySettings SettingsDialog::formSettings() const
{
    TraySettings s;
    s.language = m_languageComboBox->currentData().toString();
    s.relay.lan = m_lanCheckBox->isChecked();
    s.relay.port = quint16(m_portSpinBox->value());
    s.relay.usersDir = m_usersDirLineEdit->text().trimmed();
    s.relayStartAtLaunch = m_startAtLaunchCheckBox->isChecked();
    s.historyMaxCount = m_maxCountSpinBox->value();
    s.historyMaxAgeDays = m_maxAgeSpinBox->value();
    s.stormLimit = m_stormLimitSpinBox->value();
    s.doNotDisturb = m_doNotDisturbCheckBox->isChecked();
    return s;
}

bool SettingsDialog::startAtLogin() const
{
    return m_startAtLoginCheckBox->isChecked();
}

bool SettingsDialog::apply()
{
    validate();
    if (!m_validationLabel->text().isEmpty()) {
        return false;
    }
    QString error;
    if (startAtLogin() != m_autostart.isEnabled() && !m_autostart.setEnabled(startAtLogin(), &error)) {
        m_validationLabel->setText(error);
        m_validationLabel->show();
        return false;
    }
    const TraySettings next = formSettings();
    next.save(*m_settings);
    m_settings->sync();
    if (m_settings->status() != QSettings::NoError) {
        m_validationLabel->setText(tr("Cannot write the settings file %1.").arg(m_settings->fileName()));
        m_validationLabel->show();
        return false;
    }
    next.apply(m_parts, m_applied);
    m_applied = next;
    return true;
}

QString SettingsDialog::validationText() const
{
    return m_validationLabel->text();
}

void SettingsDialog::loadForm(const TraySettings &s)
{
    int language = m_languageComboBox->findData(s.language);
    if (language < 0) {
        m_languageComboBox->addItem(s.language, s.language); // a code set outside the dialog stays as it is
        language = m_languageComboBox->count() - 1;
    }
    m_languageComboBox->setCurrentIndex(language);
    loadRelayForm(s.relay);
    m_startAtLaunchCheckBox->setChecked(s.relayStartAtLaunch);
    m_maxCountSpinBox->setValue(s.historyMaxCount);
    m_maxAgeSpinBox->setValue(s.historyMaxAgeDays);
    m_stormLimitSpinBox->setValue(s.stormLimit);
    m_doNotDisturbCheckBox->setChecked(s.doNotDisturb);
}

void SettingsDialog::validate()
{
    QStringList problems;
    if (!m_portSpinBox->hasAcceptableInput()) {
        problems.append(tr("Port: enter a number from 0 (any free port) to 65535."));
    }
    const QString usersDir = TraySettings::usersDirProblem(m_usersDirLineEdit->text().trimmed());
    if (!usersDir.isEmpty()) {
        problems.append(tr("Users directory: %1").arg(usersDir));
    }
    m_validationLabel->setText(problems.join(u'\n'));
    m_validationLabel->setVisible(!problems.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(problems.isEmpty());
    m_buttons->button(QDialogButtonBox::Apply)->setEnabled(problems.isEmpty());
}

void SettingsDialog::onButtonClicked(QAbstractButton *button)
{
    switch (m_buttons->standardButton(button)) {
    case QDialogButtonBox::Ok:
        if (apply()) {
            accept();
        }
        break;
    case QDialogButtonBox::Apply:
        apply();
        break;
    default:
        reject();
    }
}

void SettingsDialog::browseUsersDir()
{
    const QString start = m_usersDirLineEdit->text().trimmed();
    const QString dir = QFileDialog::getExistingDirectory(
        this, tr("Users directory"), start.isEmpty() && m_parts.relay ? m_parts.relay->usersDir() : start);
    if (!dir.isEmpty()) {
        m_usersDirLineEdit->setText(dir);
    }
}

void SettingsDialog::onRelaySettingsChanged()
{
    // The relay panel saved other defaults: show them, unless they are a run's override or the relay
    // fields here are being edited.
    const RelayController::Settings relay = m_parts.relay->settings();
    if (!relay.host.isNull() || !(formSettings().relay == m_applied.relay)) {
        return;
    }
    m_applied.relay = relay;
    loadRelayForm(relay);
}

void SettingsDialog::loadRelayForm(const RelayController::Settings &relay)
{
    m_lanCheckBox->setChecked(relay.lan);
    m_portSpinBox->setValue(relay.port);
    m_usersDirLineEdit->setText(relay.usersDir);
}

void SettingsDialog::updateRelayNote()
{
    const bool running = m_parts.relay && m_parts.relay->isRunning();
    m_relayNoteLabel->setText(running ? tr("The local relay is running: changes to it apply when it is next started.")
                                      : QString());
    m_relayNoteLabel->setVisible(running);
}

} // namespace Patchwork::Gui
