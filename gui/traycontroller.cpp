// SPDX-License-Identifier: MIT
#include "gui/traycontroller.h"

#include <QAction>
#include <QMenu>

#include "gui/desktopnotifier.h"
#include "gui/historystore.h"
#include "gui/historywindow.h"
#include "gui/mainwindow.h"
#include "gui/notificationdispatcher.h"

namespace Patchwork::Gui
{

TrayController::TrayController(HistoryStore *history,
                               DesktopNotifier *notifier,
                               NotificationDispatcher *dispatcher,
                               UrlOpener urlOpener,
                               bool useTray,
                               QObject *parent)
    : QObject(parent)
    , m_history(history)
    , m_urlOpener(std::move(urlOpener))
    , m_menu(std::make_unique<QMenu>(tr("&Patchwork")))
{
    m_menu->setObjectName(QStringLiteral("trayMenu"));
    m_statusAction = m_menu->addAction(QString());
    m_statusAction->setObjectName(QStringLiteral("statusAction"));
    m_statusAction->setEnabled(false);
    m_menu->addSeparator();
    m_historyAction = m_menu->addAction(tr("Notification &history…"), this, &TrayController::showHistory);
    m_historyAction->setObjectName(QStringLiteral("historyAction"));
    m_doNotDisturbAction = m_menu->addAction(tr("&Do not disturb"));
    m_doNotDisturbAction->setObjectName(QStringLiteral("doNotDisturbAction"));
    m_doNotDisturbAction->setCheckable(true);
    m_doNotDisturbAction->setChecked(dispatcher->doNotDisturb());
    connect(m_doNotDisturbAction, &QAction::toggled, dispatcher, &NotificationDispatcher::setDoNotDisturb);
    connect(dispatcher, &NotificationDispatcher::doNotDisturbChanged, m_doNotDisturbAction, &QAction::setChecked);
    m_editConfigAction = m_menu->addAction(tr("Edit token &config…"), this, &TrayController::editConfigRequested);
    m_editConfigAction->setObjectName(QStringLiteral("editConfigAction"));
    m_settingsAction = m_menu->addAction(tr("&Settings…"), this, &TrayController::settingsRequested);
    m_settingsAction->setObjectName(QStringLiteral("settingsAction"));
    m_settingsAction->setShortcut(QKeySequence::Preferences);
    m_menu->addSeparator();
    m_quitAction = m_menu->addAction(tr("&Quit"), this, &TrayController::quitRequested);
    m_quitAction->setObjectName(QStringLiteral("quitAction"));
    m_quitAction->setShortcut(QKeySequence::Quit);

    connect(history, &HistoryStore::unreadCountChanged, this, &TrayController::updateState);
    connect(notifier, &DesktopNotifier::historyRequested, this, &TrayController::showHistory);

    if (useTray && QSystemTrayIcon::isSystemTrayAvailable()) {
        m_trayIcon = new QSystemTrayIcon(this);
        m_trayIcon->setContextMenu(m_menu.get());
        connect(m_trayIcon, &QSystemTrayIcon::activated, this, &TrayController::onActivated);
        notifier->setFallbackTrayIcon(m_trayIcon);
    } else {
        m_mainWindow = std::make_unique<MainWindow>(m_menu.get());
    }
    updateState();
    if (m_trayIcon) {
        m_trayIcon->show();
    } else {
        m_mainWindow->show();
    }
}

TrayController::~TrayController() = default;

TrayController::IconState TrayController::chooseIconState(bool relayRunning, int failedSubscriptions, int unread)
{
    if (failedSubscriptions > 0) {
        return IconState::Error;
    }
    if (unread > 0) {
        return IconState::Unread;
    }
    return relayRunning ? IconState::RelayRunning : IconState::Idle;
}

QIcon TrayController::icon(IconState state)
{
    switch (state) {
    case IconState::Error:
        return QIcon(QStringLiteral(":/tray/error.svg"));
    case IconState::Unread:
        return QIcon(QStringLiteral(":/tray/unread.svg"));
    case IconState::RelayRunning:
        return QIcon(QStringLiteral(":/tray/relay.svg"));
    case IconState::Idle:
        break;
    }
    return QIcon(QStringLiteral(":/tray/idle.svg"));
}

TrayController::IconState TrayController::iconState() const
{
    return m_iconState;
}

QString TrayController::statusText() const
{
    return m_statusAction->text();
}

QMenu *TrayController::menu() const
{
    return m_menu.get();
}

QSystemTrayIcon *TrayController::trayIcon() const
{
    return m_trayIcon;
}

MainWindow *TrayController::mainWindow() const
{
    return m_mainWindow.get();
}

HistoryWindow *TrayController::historyWindow() const
{
    return m_historyWindow.get();
}

QAction *TrayController::historyAction() const
{
    return m_historyAction;
}

QAction *TrayController::doNotDisturbAction() const
{
    return m_doNotDisturbAction;
}

QAction *TrayController::editConfigAction() const
{
    return m_editConfigAction;
}

QAction *TrayController::settingsAction() const
{
    return m_settingsAction;
}

QAction *TrayController::quitAction() const
{
    return m_quitAction;
}

void TrayController::addSubmenu(QMenu *submenu)
{
    m_menu->insertMenu(m_historyAction, submenu);
}

void TrayController::setRelayState(bool running, const QString &summary)
{
    m_relayRunning = running;
    m_relaySummary = summary;
    updateState();
}

void TrayController::setSubscriptionState(int failed, const QString &summary)
{
    m_failedSubscriptions = failed;
    m_subscriptionSummary = summary;
    updateState();
}

void TrayController::raise()
{
    if (!m_mainWindow) {
        showHistory();
        return;
    }
    m_mainWindow->show();
    m_mainWindow->raise();
    m_mainWindow->activateWindow();
}

void TrayController::showHistory()
{
    if (!m_historyWindow) {
        m_historyWindow = std::make_unique<HistoryWindow>(m_history, m_urlOpener);
    }
    m_historyWindow->show();
    m_historyWindow->raise();
    m_historyWindow->activateWindow();
}

void TrayController::onActivated(QSystemTrayIcon::ActivationReason reason)
{
    // Only a plain left click; the context menu has its own reason.
    if (reason == QSystemTrayIcon::Trigger) {
        showHistory();
    }
}

void TrayController::updateState()
{
    const int unread = m_history ? m_history->unreadCount() : 0;
    QStringList parts;
    parts.append(m_relaySummary.isEmpty() ? tr("Local relay stopped") : m_relaySummary);
    if (!m_subscriptionSummary.isEmpty()) {
        parts.append(m_subscriptionSummary);
    }
    if (unread > 0) {
        parts.append(tr("%1 unread").arg(unread));
    }
    const QString status = parts.join(QStringLiteral(" · "));
    m_statusAction->setText(status);
    const IconState state = chooseIconState(m_relayRunning, m_failedSubscriptions, unread);
    const bool changed = state != m_iconState;
    m_iconState = state;
    if (m_trayIcon) {
        m_trayIcon->setIcon(icon(state));
        m_trayIcon->setToolTip(tr("Patchwork") + u'\n' + status);
    } else {
        m_mainWindow->setWindowIcon(icon(state));
        m_mainWindow->setStatusText(status);
    }
    if (changed) {
        Q_EMIT iconStateChanged(state);
    }
}

} // namespace Patchwork::Gui
