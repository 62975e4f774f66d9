// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QCoreApplication>
#include <QList>
#include <QString>
#include <QUrl>

class QSettings;

namespace Patchwork::Gui
{

// One subscription as the user configured it. The token is not here: TokenStore keeps it.
struct SubscriptionConfig
{
    Q_DECLARE_TR_FUNCTIONS(Patchwork::Gui::SubscriptionConfig)

public:
    QString id; // stable key (a UUID) for settings, keychain entries and the history
    QString name;
    QUrl serverUrl; // e.g. https://relay.example.org
    QString channelPath; // e.g. /u/alice/notifications or /public/pubsub/alerts
    int minPriority = 1; // messages below it reach only the history
    bool enabled = true;
    bool magicPrefix = false; // only messages starting with "notify" pop up
    bool muted = false; // no pop-ups, history still records
    QByteArray lastEventId; // resume point (Last-Event-ID)

    // serverUrl + channelPath, with ?stream=sse left to the client.
    QUrl channelUrl() const;
    // Empty when valid, else a one-line reason.
    QString validationError() const;

    friend bool operator==(const SubscriptionConfig &, const SubscriptionConfig &) = default;
};

// Reads and writes the subscriptions in the "subscriptions" array of a QSettings file.
namespace SubscriptionSettings
{
QList<SubscriptionConfig> load(QSettings &settings);
void save(QSettings &settings, const QList<SubscriptionConfig> &subscriptions);
// Only the resume point of one subscription (written on every message, so cheap).
void saveLastEventId(QSettings &settings, const QList<SubscriptionConfig> &subscriptions, const QString &id);
} // namespace SubscriptionSettings

} // namespace Patchwork::Gui
