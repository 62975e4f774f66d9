// SPDX-License-Identifier: MIT
#include "gui/notificationdispatcher.h"

#include "gui/desktopnotifier.h"
#include "gui/historystore.h"
#include "gui/messageformatter.h"

namespace Patchwork::Gui
{

NotificationDispatcher::NotificationDispatcher(HistoryStore *history, DesktopNotifier *notifier, QObject *parent)
    : QObject(parent)
    , m_history(history)
    , m_notifier(notifier)
{
}

bool NotificationDispatcher::doNotDisturb() const
{
    return m_doNotDisturb;
}

void NotificationDispatcher::setDoNotDisturb(bool on)
{
    if (on != m_doNotDisturb) {
        m_doNotDisturb = on;
        Q_EMIT doNotDisturbChanged(on);
    }
}

bool NotificationDispatcher::dispatch(const SubscriptionConfig &subscription,
                                      const QByteArray &id,
                                      const QByteArray &type,
                                      const QByteArray &data)
{
    const DisplayMessage message = MessageFormatter::format(data, type, {subscription.name, subscription.magicPrefix});
    HistoryEntry entry;
    entry.time = QDateTime::currentDateTimeUtc();
    entry.subscription = subscription.name;
    entry.title = message.title;
    entry.body = message.body;
    entry.patchId = QString::fromLatin1(id);
    entry.clickUrl = message.clickUrl;
    entry.priority = message.priority;
    if (m_history && m_history->isOpen() && !m_history->add(entry)) {
        return false; // seen before (a replay after a reconnect)
    }
    if (message.popup && !subscription.muted && !m_doNotDisturb && message.priority >= subscription.minPriority
        && m_notifier) {
        m_notifier->show(message, subscription.name);
    }
    return true;
}

} // namespace Patchwork::Gui
