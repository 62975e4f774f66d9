// SPDX-License-Identifier: MIT
#pragma once

#include <memory>

#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QStringList>

class QMenu;
class QSettings;

namespace Patchwork
{
class Clock;
}

namespace Patchwork::Gui
{

class ConfigEditorWindow;
class DesktopNotifier;
class HistoryStore;
class NotificationDispatcher;
class RelayController;
class RelayPanel;
class SettingsDialog;
class SingleInstance;
class SubscriptionManager;
class TokenStore;
class TranslationLoader;
class TrayController;

// The tray app assembled: parses the command line, claims the single instance, opens the history in the
// app's data dir, and wires the notifier, the dispatcher and the tray together. main() only runs it.
class TrayApplication final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrayApplication)

public:
    struct Options
    {
        bool useTray = true;
        bool singleInstance = true;
        // --relay: start the local relay at launch; --relay-host/--relay-port/--relay-users-dir override
        // the saved settings for this run.
        bool startRelay = false;
        QHostAddress relayHost;
        int relayPort = -1;
        QString relayUsersDir;
        // --lang: "system" or a language code; empty = the saved choice (TranslationLoader::settingsKey()).
        QString language;
    };

    explicit TrayApplication(QObject *parent = nullptr);
    ~TrayApplication() override;

    // Parses `arguments` (argv); false with `errorMessage` on a bad option. --help and --version exit.
    static bool parseArguments(const QStringList &arguments, Options *options, QString *errorMessage);

    // Builds everything (after installing the translations). Returns false when another instance runs (it was raised;
    // exit 0) or on a fatal error (then `errorMessage` is set; exit 1).
    bool start(const Options &options, QString *errorMessage);

    TrayController *tray() const;
    HistoryStore *history() const;
    RelayController *relay() const;
    // The relay panel: its own window in tray mode, a panel of the main window otherwise.
    RelayPanel *relayPanel() const;
    QMenu *relayMenu() const;
    SubscriptionManager *subscriptions() const;
    QMenu *subscriptionsMenu() const;
    // Opens the subscription editor; saves tokens and the list when accepted.
    void editSubscriptions();
    // Opens (or raises) the token-config editor; a save in the local relay's users directory reloads it.
    void editTokenConfig();
    ConfigEditorWindow *configEditor() const;
    // Opens the Settings dialog (or raises the open one).
    void showSettings();
    SettingsDialog *settingsDialog() const;

private:
    void buildSubscriptionsMenu();
    void updateSubscriptionsMenu();
    void buildRelayMenu();
    void updateRelayMenu();
    void showRelayPanel();

    std::unique_ptr<QSettings> m_settings;
    std::unique_ptr<TranslationLoader> m_translations;
    std::unique_ptr<Clock> m_clock;
    std::unique_ptr<SingleInstance> m_instance;
    std::unique_ptr<QMenu> m_relayMenu;
    std::unique_ptr<RelayPanel> m_relayPanelWindow;
    std::unique_ptr<QMenu> m_subscriptionsMenu;
    std::unique_ptr<ConfigEditorWindow> m_configEditor;
    QPointer<SettingsDialog> m_settingsDialog;
    RelayController *m_relay = nullptr;
    TokenStore *m_tokens = nullptr;
    SubscriptionManager *m_subscriptions = nullptr;
    RelayPanel *m_relayPanel = nullptr;
    HistoryStore *m_history = nullptr;
    DesktopNotifier *m_notifier = nullptr;
    NotificationDispatcher *m_dispatcher = nullptr;
    TrayController *m_tray = nullptr;
};

} // namespace Patchwork::Gui
