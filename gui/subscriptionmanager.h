// SPDX-License-Identifier: MIT
#pragma once

#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>

#include "client/subscription.h"
#include "gui/subscriptionconfig.h"

class QSettings;

namespace Patchwork
{
class Clock;
}

namespace Patchwork::Client
{
class WakeDetector;
}

namespace Patchwork::Gui
{

class NotificationDispatcher;
class TokenStore;

// Runs one Client::Subscription (an SSE stream that resumes with Last-Event-ID) per enabled subscription,
// hands every message to the dispatcher, persists each resume point, and reconnects all of them at once
// after a wake-up from sleep or a network change.
class SubscriptionManager final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SubscriptionManager)

public:
    // `settings`, `tokens`, `dispatcher` and `clock` (not owned) outlive the manager.
    SubscriptionManager(QSettings *settings,
                        TokenStore *tokens,
                        NotificationDispatcher *dispatcher,
                        Clock *clock,
                        QObject *parent = nullptr);
    ~SubscriptionManager() override;

    // Reads the saved subscriptions and starts the enabled ones (after their tokens are read).
    void load();
    QList<SubscriptionConfig> subscriptions() const;
    // Replaces the list (the edit dialog; tokens are written to the TokenStore before), saves it and
    // restarts every enabled subscription, so a new URL or token takes effect and a Failed one retries.
    void setSubscriptions(const QList<SubscriptionConfig> &subscriptions);
    void setEnabled(const QString &id, bool enabled);

    // The running client of a subscription (null when disabled).
    Client::Subscription *client(const QString &id) const;
    // "connected", "reconnecting in 4 s", "failed: 401 …", "disabled".
    QString stateText(const QString &id) const;
    int failedCount() const;
    int connectedCount() const;
    // One line for the tray's status, empty when there are no subscriptions.
    QString summary() const;

    void reconnectAll();

Q_SIGNALS:
    // The list, a state or an error changed.
    void changed();

private:
    void startClient(const SubscriptionConfig &config);
    void stopClient(const QString &id);
    void onMessage(const QString &id, const Client::Event &event);
    void save();
    SubscriptionConfig *find(const QString &id);

    QSettings *m_settings;
    QPointer<TokenStore> m_tokens;
    QPointer<NotificationDispatcher> m_dispatcher;
    Clock *m_clock;
    Client::WakeDetector *m_wake;
    QList<SubscriptionConfig> m_subscriptions;
    QHash<QString, Client::Subscription *> m_clients;
};

} // namespace Patchwork::Gui
