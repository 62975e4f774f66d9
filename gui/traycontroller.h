// SPDX-License-Identifier: MIT
#pragma once

#include <memory>

#include <QIcon>
#include <QObject>
#include <QPointer>
#include <QSystemTrayIcon>

#include "gui/urlopener.h"

class QAction;
class QMenu;

namespace Patchwork::Gui
{

class DesktopNotifier;
class HistoryStore;
class HistoryWindow;
class MainWindow;
class NotificationDispatcher;

// The tray icon, its menu and the windows it opens. With no system tray (QSystemTrayIcon unavailable, or
// `useTray` false) the same menu lives in a normal main window instead.
class TrayController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrayController)

public:
    // Icon variants, most important first.
    enum class IconState
    {
        Error, // a subscription failed
        Unread, // unread notifications
        RelayRunning,
        Idle,
    };
    Q_ENUM(IconState)

    TrayController(HistoryStore *history,
                   DesktopNotifier *notifier,
                   NotificationDispatcher *dispatcher,
                   UrlOpener urlOpener,
                   bool useTray,
                   QObject *parent = nullptr);
    ~TrayController() override;

    static IconState chooseIconState(bool relayRunning, int failedSubscriptions, int unread);
    static QIcon icon(IconState state);

    IconState iconState() const;
    QString statusText() const;
    QMenu *menu() const;
    // Null when a main window is used instead.
    QSystemTrayIcon *trayIcon() const;
    // Null while the tray icon is used.
    MainWindow *mainWindow() const;
    HistoryWindow *historyWindow() const;

    // Menu entries, for the other controllers and tests.
    QAction *historyAction() const;
    QAction *doNotDisturbAction() const;
    QAction *editConfigAction() const;
    QAction *settingsAction() const;
    QAction *quitAction() const;
    // Inserts `submenu` above "Notification history…" (the local relay, the subscriptions).
    void addSubmenu(QMenu *submenu);

    // Shows what is running; called by the controllers when their state changes.
    void setRelayState(bool running, const QString &summary);
    void setSubscriptionState(int failed, const QString &summary);

    // The window to show: the main window, or the history when the tray icon is used.
    void raise();
    void showHistory();

Q_SIGNALS:
    void quitRequested();
    // "Edit token config…" was chosen.
    void editConfigRequested();
    void settingsRequested();
    void iconStateChanged(Patchwork::Gui::TrayController::IconState state);

private:
    void onActivated(QSystemTrayIcon::ActivationReason reason);
    void updateState();

    QPointer<HistoryStore> m_history;
    UrlOpener m_urlOpener;
    std::unique_ptr<QMenu> m_menu;
    QAction *m_statusAction;
    QAction *m_historyAction;
    QAction *m_doNotDisturbAction;
    QAction *m_editConfigAction;
    QAction *m_settingsAction;
    QAction *m_quitAction;
    QSystemTrayIcon *m_trayIcon = nullptr;
    std::unique_ptr<MainWindow> m_mainWindow;
    std::unique_ptr<HistoryWindow> m_historyWindow;
    IconState m_iconState = IconState::Idle;
    bool m_relayRunning = false;
    QString m_relaySummary;
    int m_failedSubscriptions = 0;
    QString m_subscriptionSummary;
};

} // namespace Patchwork::Gui
