// SPDX-License-Identifier: MIT
#include "gui/subscriptionmanager.h"

#include <QNetworkInformation>
#include <QSettings>

#include "client/wakedetector.h"
#include "gui/logging.h"
#include "gui/notificationdispatcher.h"
#include "gui/tokenstore.h"

namespace Patchwork::Gui
{

SubscriptionManager::SubscriptionManager(QSettings *settings,
                                         TokenStore *tokens,
                                         NotificationDispatcher *dispatcher,
                                         Clock *clock,
                                         QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_tokens(tokens)
    , m_dispatcher(dispatcher)
    , m_clock(clock)
    , m_wake(new Client::WakeDetector(clock, this))
{
    connect(m_wake, &Client::WakeDetector::wokeUp, this, [this] {
        qCInfo(lcGui) << "woke up from sleep: reconnecting every subscription";
        reconnectAll();
    });
    if (QNetworkInformation::loadDefaultBackend() && QNetworkInformation::instance()) {
        connect(QNetworkInformation::instance(),
                &QNetworkInformation::reachabilityChanged,
                this,
                [this](QNetworkInformation::Reachability reachability) {
                    if (reachability == QNetworkInformation::Reachability::Online
                        || reachability == QNetworkInformation::Reachability::Site
                        || reachability == QNetworkInformation::Reachability::Local) {
                        qCInfo(lcGui) << "network changed: reconnecting every subscription";
                        reconnectAll();
                    }
                });
    }
}

SubscriptionManager::~SubscriptionManager() = default;

void SubscriptionManager::load()
{
    m_subscriptions = SubscriptionSettings::load(*m_settings);
    for (const SubscriptionConfig &config : std::as_const(m_subscriptions)) {
        if (config.enabled) {
            startClient(config);
        }
    }
    Q_EMIT changed();
}

QList<SubscriptionConfig> SubscriptionManager::subscriptions() const
{
    return m_subscriptions;
}

void SubscriptionManager::setSubscriptions(const QList<SubscriptionConfig> &subscriptions)
{
    const QList<SubscriptionConfig> old = std::exchange(m_subscriptions, subscriptions);
    for (const SubscriptionConfig &o : old) {
        const auto it = std::find_if(m_subscriptions.cbegin(),
                                     m_subscriptions.cend(),
                                     [&o](const SubscriptionConfig &n) { return n.id == o.id; });
        if (it == m_subscriptions.cend()) {
            stopClient(o.id);
            if (m_tokens) {
                m_tokens->remove(o.id);
            }
        }
    }
    for (SubscriptionConfig &config : m_subscriptions) {
        // A new server or channel starts from now, not from another channel's resume point.
        const auto before = std::find_if(
            old.cbegin(), old.cend(), [&config](const SubscriptionConfig &o) { return o.id == config.id; });
        if (before != old.cend() && before->channelUrl() != config.channelUrl()) {
            config.lastEventId.clear();
        }
        // Restart so a changed URL or token (or a Failed state) takes effect.
        stopClient(config.id);
        if (config.enabled) {
            startClient(config);
        }
    }
    save();
    Q_EMIT changed();
}

void SubscriptionManager::setEnabled(const QString &id, bool enabled)
{
    SubscriptionConfig *config = find(id);
    if (!config || config->enabled == enabled) {
        return;
    }
    config->enabled = enabled;
    if (enabled) {
        startClient(*config);
    } else {
        stopClient(id);
    }
    save();
    Q_EMIT changed();
}

Client::Subscription *SubscriptionManager::client(const QString &id) const
{
    return m_clients.value(id);
}

QString SubscriptionManager::stateText(const QString &id) const
{
    const Client::Subscription *c = m_clients.value(id);
    if (!c) {
        return tr("disabled");
    }
    switch (c->status()) {
    case Client::Subscription::Status::Idle:
        return tr("starting");
    case Client::Subscription::Status::Connecting:
        return tr("connecting");
    case Client::Subscription::Status::Connected:
        return tr("connected");
    case Client::Subscription::Status::Reconnecting:
        return c->retryIn() > 0 ? tr("reconnecting in %1 s: %2").arg(c->retryIn()).arg(c->errorString())
                                : tr("reconnecting");
    case Client::Subscription::Status::Failed:
        return tr("failed: %1").arg(c->errorString());
    }
    return {};
}

int SubscriptionManager::failedCount() const
{
    return int(std::count_if(m_clients.cbegin(), m_clients.cend(), [](const Client::Subscription *c) {
        return c->status() == Client::Subscription::Status::Failed;
    }));
}

int SubscriptionManager::connectedCount() const
{
    return int(std::count_if(m_clients.cbegin(), m_clients.cend(), [](const Client::Subscription *c) {
        return c->status() == Client::Subscription::Status::Connected;
    }));
}

QString SubscriptionManager::summary() const
{
    if (m_subscriptions.isEmpty()) {
        return {};
    }
    const int failed = failedCount();
    return failed > 0 ? tr("%1/%2 subscriptions connected, %3 failed")
                            .arg(connectedCount())
                            .arg(m_subscriptions.size())
                            .arg(failed)
                      : tr("%1/%2 subscriptions connected").arg(connectedCount()).arg(m_subscriptions.size());
}

void SubscriptionManager::reconnectAll()
{
    for (Client::Subscription *c : std::as_const(m_clients)) {
        c->reconnectNow();
    }
}

void SubscriptionManager::startClient(const SubscriptionConfig &config)
{
    auto *client = new Client::Subscription(m_clock, this);
    m_clients.insert(config.id, client);
    const QString id = config.id;
    connect(client, &Client::Subscription::statusChanged, this, &SubscriptionManager::changed);
    connect(client, &Client::Subscription::messageReceived, this, [this, id](const Client::Event &event) {
        onMessage(id, event);
    });
    client->setUrl(config.channelUrl());
    client->setLastEventId(config.lastEventId);
    if (!m_tokens) {
        client->start();
        return;
    }
    const QPointer<Client::Subscription> guard(client);
    m_tokens->read(id, [guard](const QString &token) {
        if (guard) {
            guard->setToken(token);
            guard->start();
        }
    });
}

void SubscriptionManager::stopClient(const QString &id)
{
    if (Client::Subscription *client = m_clients.take(id)) {
        client->stop();
        client->deleteLater();
    }
}

void SubscriptionManager::onMessage(const QString &id, const Client::Event &event)
{
    SubscriptionConfig *config = find(id);
    if (!config) {
        return;
    }
    if (m_dispatcher) {
        m_dispatcher->dispatch(*config, event.id, event.type, event.data);
    }
    if (!event.id.isEmpty()) {
        config->lastEventId = event.id;
        SubscriptionSettings::saveLastEventId(*m_settings, m_subscriptions, id);
    }
}

void SubscriptionManager::save()
{
    SubscriptionSettings::save(*m_settings, m_subscriptions);
}

SubscriptionConfig *SubscriptionManager::find(const QString &id)
{
    for (SubscriptionConfig &config : m_subscriptions) {
        if (config.id == id) {
            return &config;
        }
    }
    return nullptr;
}

} // namespace Patchwork::Gui
