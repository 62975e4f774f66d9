// SPDX-License-Identifier: MIT
#include "gui/desktopnotifier.h"

#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QSystemTrayIcon>

#include "gui/logging.h"

namespace Patchwork::Gui
{

namespace
{

const QString SERVICE = QStringLiteral("org.freedesktop.Notifications");
const QString PATH = QStringLiteral("/org/freedesktop/Notifications");
const QString INTERFACE = QStringLiteral("org.freedesktop.Notifications");
const QString DEFAULT_ACTION = QStringLiteral("default");

uchar urgency(int priority)
{
    if (priority <= 2) {
        return 0; // low
    }
    return priority >= 5 ? 2 : 1; // critical : normal
}

} // namespace

DesktopNotifier::DesktopNotifier(const QDBusConnection &bus, UrlOpener urlOpener, QObject *parent)
    : QObject(parent)
    , m_bus(bus)
    , m_urlOpener(std::move(urlOpener))
    , m_appIcon(QStringLiteral("mail-message-new"))
{
    m_clock.start();
    m_stormTimer.setSingleShot(true);
    connect(&m_stormTimer, &QTimer::timeout, this, &DesktopNotifier::onStormTimer);
    if (!m_bus.isConnected()) {
        m_backend = Backend::Fallback;
        return;
    }
    // QtDBus connects D-Bus signals by slot signature only; these two are the project's only string connections.
    m_bus.connect(
        SERVICE, PATH, INTERFACE, QStringLiteral("ActionInvoked"), this, SLOT(onActionInvoked(uint, QString)));
    m_bus.connect(
        SERVICE, PATH, INTERFACE, QStringLiteral("NotificationClosed"), this, SLOT(onNotificationClosed(uint, uint)));
    const QDBusMessage call =
        QDBusMessage::createMethodCall(SERVICE, PATH, INTERFACE, QStringLiteral("GetCapabilities"));
    auto *watcher = new QDBusPendingCallWatcher(m_bus.asyncCall(call), this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this, &DesktopNotifier::onCapabilities);
}

void DesktopNotifier::setFallbackTrayIcon(QSystemTrayIcon *trayIcon)
{
    if (m_trayIcon) {
        disconnect(m_trayIcon, nullptr, this, nullptr);
    }
    m_trayIcon = trayIcon;
    if (trayIcon) {
        connect(trayIcon, &QSystemTrayIcon::messageClicked, this, &DesktopNotifier::onFallbackClicked);
    }
}

void DesktopNotifier::setStormLimit(int count, int windowMs)
{
    m_stormLimit = qMax(1, count);
    m_stormWindowMs = qMax(1, windowMs);
}

int DesktopNotifier::stormLimit() const
{
    return m_stormLimit;
}

void DesktopNotifier::setAppIcon(const QString &iconName)
{
    m_appIcon = iconName;
}

DesktopNotifier::Backend DesktopNotifier::backend() const
{
    return m_backend;
}

bool DesktopNotifier::supportsBodyMarkup() const
{
    return m_bodyMarkup;
}

void DesktopNotifier::show(const DisplayMessage &message, const QString &subscription)
{
    Storm &storm = m_storms[subscription];
    const qint64 now = m_clock.elapsed();
    expire(storm, now);
    if (storm.shownAt.size() >= m_stormLimit) {
        ++storm.suppressed;
        armStormTimer();
        return;
    }
    storm.shownAt.append(now);
    deliver(message, subscription);
}

void DesktopNotifier::onCapabilities(QDBusPendingCallWatcher *watcher)
{
    watcher->deleteLater();
    const QDBusPendingReply<QStringList> reply = *watcher;
    if (reply.isError()) {
        qCInfo(lcGui) << "no desktop notification service, using tray messages:" << reply.error().message();
        m_backend = Backend::Fallback;
    } else {
        m_backend = Backend::DBus;
        m_bodyMarkup = reply.value().contains(QStringLiteral("body-markup"));
    }
    Q_EMIT backendChanged(m_backend);
    const QList<Pending> pending = std::exchange(m_pending, {});
    for (const Pending &p : pending) {
        deliver(p.message, p.subscription);
    }
}

void DesktopNotifier::deliver(const DisplayMessage &message, const QString &subscription)
{
    switch (m_backend) {
    case Backend::Probing:
        m_pending.append({message, subscription});
        return;
    case Backend::Fallback:
        if (m_trayIcon) {
            m_fallbackClickUrl = message.clickUrl;
            const auto icon = message.priority >= 5
                                  ? QSystemTrayIcon::Critical
                                  : (message.priority <= 2 ? QSystemTrayIcon::NoIcon : QSystemTrayIcon::Information);
            m_trayIcon->showMessage(message.title, message.body, icon);
        }
        return;
    case Backend::DBus:
        break;
    }
    QVariantMap hints;
    hints.insert(QStringLiteral("urgency"), QVariant::fromValue(urgency(message.priority)));
    hints.insert(QStringLiteral("desktop-entry"), QStringLiteral("patchwork-tray"));
    hints.insert(QStringLiteral("x-patchwork-subscription"), subscription);
    QDBusMessage call = QDBusMessage::createMethodCall(SERVICE, PATH, INTERFACE, QStringLiteral("Notify"));
    // replaces_id 0: every message is a notification of its own; expire_timeout -1: the server's default.
    call << QStringLiteral("Patchwork") << uint(0) << m_appIcon << message.title
         << (m_bodyMarkup ? message.markupBody : message.body)
         << QStringList{DEFAULT_ACTION, message.clickUrl.isEmpty() ? tr("Show history") : tr("Open link")} << hints
         << int(-1);
    auto *watcher = new QDBusPendingCallWatcher(m_bus.asyncCall(call), this);
    connect(
        watcher, &QDBusPendingCallWatcher::finished, this, [this, message, subscription](QDBusPendingCallWatcher *w) {
            w->deleteLater();
            const QDBusPendingReply<uint> reply = *w;
            if (reply.isError()) {
                qCWarning(lcGui) << "Notify failed, falling back to tray messages:" << reply.error().message();
                m_backend = Backend::Fallback;
                Q_EMIT backendChanged(m_backend);
                deliver(message, subscription);
                return;
            }
            m_clickUrls.insert(reply.value(), message.clickUrl);
        });
}

void DesktopNotifier::sendSummary(const QString &subscription, int count)
{
    DisplayMessage summary;
    summary.title = tr("%n more from %1", nullptr, count).arg(subscription);
    summary.body = tr("See the notification history for all of them.");
    summary.markupBody = summary.body.toHtmlEscaped();
    deliver(summary, subscription);
}

void DesktopNotifier::armStormTimer()
{
    qint64 next = -1;
    for (const Storm &storm : std::as_const(m_storms)) {
        if (storm.suppressed > 0 && !storm.shownAt.isEmpty()) {
            const qint64 due = storm.shownAt.constFirst() + m_stormWindowMs;
            next = next < 0 ? due : qMin(next, due);
        }
    }
    if (next >= 0) {
        m_stormTimer.start(int(qMax<qint64>(0, next - m_clock.elapsed())));
    }
}

void DesktopNotifier::expire(Storm &storm, qint64 now) const
{
    while (!storm.shownAt.isEmpty() && storm.shownAt.constFirst() <= now - m_stormWindowMs) {
        storm.shownAt.removeFirst();
    }
}

void DesktopNotifier::onStormTimer()
{
    const qint64 now = m_clock.elapsed();
    for (auto it = m_storms.begin(); it != m_storms.end(); ++it) {
        Storm &storm = it.value();
        expire(storm, now);
        if (storm.suppressed > 0 && storm.shownAt.size() < m_stormLimit) {
            storm.shownAt.append(now);
            sendSummary(it.key(), std::exchange(storm.suppressed, 0));
        }
    }
    armStormTimer();
}

void DesktopNotifier::onActionInvoked(uint id, const QString &actionKey)
{
    const auto it = m_clickUrls.constFind(id);
    if (it == m_clickUrls.cend() || actionKey != DEFAULT_ACTION) {
        return; // another application's notification, or an action we did not offer
    }
    const QUrl url(*it);
    if (url.isEmpty()) {
        Q_EMIT historyRequested();
    } else {
        m_urlOpener(url);
    }
}

void DesktopNotifier::onNotificationClosed(uint id, uint reason)
{
    Q_UNUSED(reason)
    m_clickUrls.remove(id);
}

void DesktopNotifier::onFallbackClicked()
{
    if (m_fallbackClickUrl.isEmpty()) {
        Q_EMIT historyRequested();
    } else {
        m_urlOpener(QUrl(m_fallbackClickUrl));
    }
}

} // namespace Patchwork::Gui
