// SPDX-License-Identifier: MIT
#include "gui/trayapplication.h"

#include <QApplication>
#include <QClipboard>
#include <QCommandLineParser>
#include <QDBusConnection>
#include <QDir>
#include <QFileInfo>
#include <QLocale>
#include <QMenu>
#include <QMessageBox>
#include <QSettings>
#include <QStandardPaths>

#include "gui/desktopnotifier.h"
#include "gui/editor/configeditorwindow.h"
#include "gui/historystore.h"
#include "gui/logging.h"
#include "gui/mainwindow.h"
#include "gui/notificationdispatcher.h"
#include "gui/relaycontroller.h"
#include "gui/relaypanel.h"
#include "gui/settings/settingsdialog.h"
#include "gui/settings/traysettings.h"
#include "gui/singleinstance.h"
#include "gui/subscriptiondialog.h"
#include "gui/subscriptionmanager.h"
#include "gui/tokenstore.h"
#include "gui/translationloader.h"
#include "gui/traycontroller.h"
#include "util/clock.h"

namespace Patchwork::Gui
{

TrayApplication::TrayApplication(QObject *parent)
    : QObject(parent)
{
}

TrayApplication::~TrayApplication()
{
    // The windows and menus refer to the controllers, and the relay to the clock: tear down in that order.
    delete m_settingsDialog;
    m_relayPanelWindow.reset();
    m_configEditor.reset();
    delete m_tray;
    m_relayMenu.reset();
    m_subscriptionsMenu.reset();
    delete m_subscriptions;
    delete m_relay;
}

bool TrayApplication::parseArguments(const QStringList &arguments, Options *options, QString *errorMessage)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(tr("Patchwork tray: a local relay, subscriptions and desktop notifications."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption noTray(QStringLiteral("no-tray"), tr("Show a normal window instead of a tray icon."));
    const QCommandLineOption multi(QStringLiteral("allow-multiple"),
                                   tr("Do not hand over to an instance that is already running."));
    const QCommandLineOption relay(QStringLiteral("relay"), tr("Start the local relay at launch."));
    const QCommandLineOption relayHost(QStringLiteral("relay-host"),
                                       tr("Address the local relay listens on (default: the saved setting, "
                                          "127.0.0.1)."),
                                       tr("host"));
    const QCommandLineOption relayPort(
        QStringLiteral("relay-port"), tr("Port of the local relay (default: the saved setting, 8787)."), tr("port"));
    const QCommandLineOption relayUsersDir(QStringLiteral("relay-users-dir"),
                                           tr("Users directory of the local relay (default: the saved setting, "
                                              "users/ in the app's data directory)."),
                                           tr("dir"));
    const QCommandLineOption language(
        QStringLiteral("lang"),
        tr("Language of the user interface for this run: system, %1 (default: the saved setting).")
            .arg(TranslationLoader::availableLanguages().join(QStringLiteral(", "))),
        tr("language"));
    parser.addOptions({noTray, multi, relay, relayHost, relayPort, relayUsersDir, language});
    if (!parser.parse(arguments)) {
        *errorMessage = parser.errorText();
        return false;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        parser.showHelp(0);
    }
    if (parser.isSet(QStringLiteral("version"))) {
        parser.showVersion();
    }
    if (!parser.positionalArguments().isEmpty()) {
        *errorMessage = tr("Unexpected argument: %1").arg(parser.positionalArguments().constFirst());
        return false;
    }
    options->useTray = !parser.isSet(noTray);
    options->singleInstance = !parser.isSet(multi);
    options->startRelay = parser.isSet(relay);
    if (parser.isSet(relayHost)) {
        const QString host = parser.value(relayHost);
        options->relayHost = host == u"localhost" ? QHostAddress(QHostAddress::LocalHost) : QHostAddress(host);
        if (options->relayHost.isNull()) {
            *errorMessage = tr("--relay-host: not an IP address: %1").arg(host);
            return false;
        }
    }
    if (parser.isSet(relayPort)) {
        bool ok = false;
        options->relayPort = parser.value(relayPort).toInt(&ok);
        if (!ok || options->relayPort < 0 || options->relayPort > 65535) {
            *errorMessage = tr("--relay-port: not a port number: %1").arg(parser.value(relayPort));
            return false;
        }
    }
    options->relayUsersDir = parser.value(relayUsersDir);
    options->language = parser.value(language);
    if (!options->language.isEmpty() && options->language != u"system"
        && !TranslationLoader::availableLanguages().contains(options->language)) {
        *errorMessage = tr("--lang: no translation for %1 (available: system, %2)")
                            .arg(options->language, TranslationLoader::availableLanguages().join(QStringLiteral(", ")));
        return false;
    }
    return true;
}

bool TrayApplication::start(const Options &options, QString *errorMessage)
{
    // Translations first: every window, menu and message below is created in the chosen language.
    m_settings = std::make_unique<QSettings>();
    m_translations = std::make_unique<TranslationLoader>();
    const QString choice =
        options.language.isEmpty() ? m_settings->value(TranslationLoader::settingsKey()).toString() : options.language;
    const QString language = TranslationLoader::chooseLanguage(choice, QLocale::system().uiLanguages());
    // A language the user chose sets the date and number formats too; the system's language keeps the
    // system's regional formats (de_AT stays de_AT).
    m_translations->install(language, language == choice);
    if (options.singleInstance) {
        m_instance = std::make_unique<SingleInstance>();
        if (!m_instance->claim()) {
            qCInfo(lcGui) << "another instance is running; asked it to show itself";
            return false;
        }
    }
    const QString dataDir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    if (!QDir().mkpath(dataDir)) {
        *errorMessage = tr("Cannot create the data directory %1.").arg(dataDir);
        return false;
    }
    m_clock = std::make_unique<SystemClock>();
    m_history = new HistoryStore(this);
    m_notifier = new DesktopNotifier(QDBusConnection::sessionBus(), systemUrlOpener(), this);
    m_notifier->setAppIcon(QStringLiteral("patchwork-tray"));
    m_dispatcher = new NotificationDispatcher(m_history, m_notifier, this);
    // History bounds (before the history opens and prunes), storm limit and do-not-disturb from the settings.
    const TraySettings saved = TraySettings::load(*m_settings);
    saved.apply({m_history, m_notifier, m_dispatcher, nullptr}, saved);
    connect(m_dispatcher, &NotificationDispatcher::doNotDisturbChanged, this, [this](bool on) {
        TraySettings::saveDoNotDisturb(*m_settings, on);
    });
    if (!m_history->open(QDir(dataDir).filePath(QStringLiteral("history.sqlite")), errorMessage)) {
        return false;
    }
    m_tray = new TrayController(m_history, m_notifier, m_dispatcher, systemUrlOpener(), options.useTray, this);
    connect(m_tray, &TrayController::quitRequested, this, [this] {
        // Unsaved edits in the token editor are asked about first (Cancel keeps running).
        if (!m_configEditor || m_configEditor->maybeSave()) {
            QCoreApplication::quit();
        }
    });
    connect(m_tray, &TrayController::editConfigRequested, this, &TrayApplication::editTokenConfig);
    connect(m_tray, &TrayController::settingsRequested, this, &TrayApplication::showSettings);
    if (m_instance) {
        connect(m_instance.get(), &SingleInstance::raiseRequested, m_tray, &TrayController::raise);
    }

    m_relay = new RelayController(m_clock.get(), dataDir, this);
    m_relay->loadSettings(*m_settings);
    RelayController::Settings relaySettings = m_relay->settings();
    relaySettings.host = options.relayHost;
    if (options.relayPort >= 0) {
        relaySettings.port = quint16(options.relayPort);
    }
    if (!options.relayUsersDir.isEmpty()) {
        relaySettings.usersDir = options.relayUsersDir;
    }
    m_relay->setSettings(relaySettings);
    buildRelayMenu();
    if (m_tray->mainWindow()) {
        m_relayPanel = new RelayPanel(m_relay);
        m_tray->mainWindow()->addPanel(m_relayPanel);
    } else {
        m_relayPanelWindow = std::make_unique<RelayPanel>(m_relay);
        m_relayPanel = m_relayPanelWindow.get();
    }
    connect(m_relayPanel, &RelayPanel::settingsApplied, this, [this] { m_relay->saveSettings(*m_settings); });
    connect(m_relay, &RelayController::errorOccurred, m_tray, [this](const QString &message) {
        qCWarning(lcGui).noquote() << "local relay:" << message;
        if (m_tray->trayIcon()) {
            m_tray->trayIcon()->showMessage(tr("Local relay"), message, QSystemTrayIcon::Warning);
        }
    });
    const QString configDir = QFileInfo(m_settings->fileName()).absolutePath();
    m_tokens = new TokenStore(
        QDir(configDir).filePath(QStringLiteral("patchwork-tray-tokens.conf")),
        [](const QString &reason) {
            return QMessageBox::question(nullptr,
                                         tr("No secret service"),
                                         tr("The desktop's secret service is not available (%1).\n\n"
                                            "Store the token in a file only you can read instead?")
                                             .arg(reason))
                   == QMessageBox::Yes;
        },
        this);
    m_subscriptions = new SubscriptionManager(m_settings.get(), m_tokens, m_dispatcher, m_clock.get(), this);
    buildSubscriptionsMenu();
    m_subscriptions->load();

    if (options.startRelay && !m_relay->start()) {
        *errorMessage = m_relay->errorString();
        return false;
    }
    // The setting, unlike --relay, never keeps the tray from starting: a failure is shown as any relay error.
    if (!options.startRelay && saved.relayStartAtLaunch) {
        m_relay->start();
    }
    if (m_relay->isRunning()) {
        qCInfo(lcGui).noquote() << "local relay listening on" << m_relay->localUrl().toString();
    }
    return true;
}

void TrayApplication::buildRelayMenu()
{
    m_relayMenu = std::make_unique<QMenu>(tr("&Local relay"));
    m_relayMenu->setObjectName(QStringLiteral("relayMenu"));
    connect(m_relay, &RelayController::stateChanged, this, &TrayApplication::updateRelayMenu);
    m_tray->addSubmenu(m_relayMenu.get());
    updateRelayMenu();
}

void TrayApplication::updateRelayMenu()
{
    m_relayMenu->clear();
    const bool running = m_relay->isRunning();
    QAction *startStop = m_relayMenu->addAction(running ? tr("&Stop") : tr("&Start"), this, [this] {
        if (m_relay->isRunning()) {
            m_relay->stop();
        } else if (!m_relay->start()) {
            showRelayPanel(); // the panel shows the error in full
        }
    });
    startStop->setObjectName(QStringLiteral("relayStartStopAction"));
    const QUrl local = m_relay->localUrl();
    QAction *copy = m_relayMenu->addAction(
        tr("&Copy URL"), this, [local] { QGuiApplication::clipboard()->setText(local.toString()); });
    copy->setEnabled(running);
    const QList<QUrl> lan = m_relay->lanUrls();
    if (!lan.isEmpty()) {
        m_relayMenu->addSection(tr("LAN URLs (click to copy)"));
    }
    for (const QUrl &url : lan) {
        m_relayMenu->addAction(url.toString(), this, [url] { QGuiApplication::clipboard()->setText(url.toString()); });
    }
    m_relayMenu->addSeparator();
    m_relayMenu->addAction(tr("Relay &panel…"), this, &TrayApplication::showRelayPanel);
    m_tray->setRelayState(running, m_relay->summary());
}

void TrayApplication::buildSubscriptionsMenu()
{
    m_subscriptionsMenu = std::make_unique<QMenu>(tr("S&ubscriptions"));
    m_subscriptionsMenu->setObjectName(QStringLiteral("subscriptionsMenu"));
    connect(m_subscriptions, &SubscriptionManager::changed, this, &TrayApplication::updateSubscriptionsMenu);
    // "reconnecting in N s" counts down: refresh whenever the menu opens.
    connect(m_subscriptionsMenu.get(), &QMenu::aboutToShow, this, &TrayApplication::updateSubscriptionsMenu);
    m_tray->addSubmenu(m_subscriptionsMenu.get());
    updateSubscriptionsMenu();
}

void TrayApplication::updateSubscriptionsMenu()
{
    m_subscriptionsMenu->clear();
    const QList<SubscriptionConfig> list = m_subscriptions->subscriptions();
    for (const SubscriptionConfig &c : list) {
        // "name — state"; the check mark is the enable toggle.
        QAction *action = m_subscriptionsMenu->addAction(tr("%1 — %2").arg(c.name, m_subscriptions->stateText(c.id)));
        action->setCheckable(true);
        action->setChecked(c.enabled);
        const QString id = c.id;
        connect(action, &QAction::toggled, this, [this, id](bool on) { m_subscriptions->setEnabled(id, on); });
    }
    if (list.isEmpty()) {
        m_subscriptionsMenu->addAction(tr("No subscriptions yet"))->setEnabled(false);
    }
    m_subscriptionsMenu->addSeparator();
    m_subscriptionsMenu->addAction(tr("&Edit subscriptions…"), this, &TrayApplication::editSubscriptions);
    m_tray->setSubscriptionState(m_subscriptions->failedCount(), m_subscriptions->summary());
}

void TrayApplication::editSubscriptions()
{
    auto *dialog = new SubscriptionDialog(m_subscriptions->subscriptions(), m_relay->localUrl());
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        const QList<SubscriptionConfig> list = dialog->subscriptions();
        const QHash<QString, QString> tokens = dialog->editedTokens();
        // Apply once every edited token is stored, so the restarted streams use them.
        auto pending = std::make_shared<int>(int(tokens.size()));
        const auto apply = [this, list] { m_subscriptions->setSubscriptions(list); };
        if (tokens.isEmpty()) {
            apply();
            return;
        }
        for (auto it = tokens.cbegin(); it != tokens.cend(); ++it) {
            m_tokens->write(it.key(), it.value(), [pending, apply](bool ok, const QString &error) {
                if (!ok) {
                    QMessageBox::warning(nullptr, tr("Subscriptions"), error);
                }
                if (--*pending == 0) {
                    apply();
                }
            });
        }
    });
    dialog->show();
}

void TrayApplication::editTokenConfig()
{
    if (!m_configEditor) {
        m_configEditor = std::make_unique<ConfigEditorWindow>(m_settings.get());
        connect(m_configEditor.get(), &ConfigEditorWindow::saved, m_relay, &RelayController::reloadUserConfig);
    }
    m_configEditor->setRelayUsersDir(m_relay->usersDir());
    m_configEditor->show();
    m_configEditor->raise();
    m_configEditor->activateWindow();
}

ConfigEditorWindow *TrayApplication::configEditor() const
{
    return m_configEditor.get();
}

void TrayApplication::showSettings()
{
    if (!m_settingsDialog) {
        m_settingsDialog =
            new SettingsDialog(m_settings.get(), {m_history, m_notifier, m_dispatcher, m_relay}, Autostart());
        m_settingsDialog->setAttribute(Qt::WA_DeleteOnClose);
    }
    m_settingsDialog->show();
    m_settingsDialog->raise();
    m_settingsDialog->activateWindow();
}

SettingsDialog *TrayApplication::settingsDialog() const
{
    return m_settingsDialog;
}

SubscriptionManager *TrayApplication::subscriptions() const
{
    return m_subscriptions;
}

QMenu *TrayApplication::subscriptionsMenu() const
{
    return m_subscriptionsMenu.get();
}

void TrayApplication::showRelayPanel()
{
    if (m_relayPanelWindow) {
        m_relayPanelWindow->show();
        m_relayPanelWindow->raise();
        m_relayPanelWindow->activateWindow();
    } else {
        m_tray->raise();
    }
}

TrayController *TrayApplication::tray() const
{
    return m_tray;
}

HistoryStore *TrayApplication::history() const
{
    return m_history;
}

RelayController *TrayApplication::relay() const
{
    return m_relay;
}

RelayPanel *TrayApplication::relayPanel() const
{
    return m_relayPanel;
}

QMenu *TrayApplication::relayMenu() const
{
    return m_relayMenu.get();
}

} // namespace Patchwork::Gui
