// SPDX-License-Identifier: MIT
#pragma once

#include <QObject>
#include <QPointer>

#include "gui/subscriptionconfig.h"

namespace Patchwork::Gui
{

class DesktopNotifier;
class HistoryStore;

// Where a received message goes: always into the history (once per Patch-Id), and as a desktop
// notification unless it is a replayed duplicate, below the subscription's minimum priority, without the
// magic prefix (when that option is on), from a muted subscription, or do-not-disturb is on.
class NotificationDispatcher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NotificationDispatcher)
    Q_PROPERTY(bool doNotDisturb READ doNotDisturb WRITE setDoNotDisturb NOTIFY doNotDisturbChanged)

public:
    NotificationDispatcher(HistoryStore *history, DesktopNotifier *notifier, QObject *parent = nullptr);

    bool doNotDisturb() const;
    void setDoNotDisturb(bool on);

    // Handles one SSE event of `subscription`: `id` is its Patch-Id, `type` the event name.
    // Returns true when it was new (not a duplicate in the history).
    bool dispatch(const SubscriptionConfig &subscription,
                  const QByteArray &id,
                  const QByteArray &type,
                  const QByteArray &data);

Q_SIGNALS:
    void doNotDisturbChanged(bool on);

private:
    QPointer<HistoryStore> m_history;
    QPointer<DesktopNotifier> m_notifier;
    bool m_doNotDisturb = false;
};

} // namespace Patchwork::Gui
