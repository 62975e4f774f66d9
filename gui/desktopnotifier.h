// SPDX-License-Identifier: MIT
#pragma once

#include <QDBusConnection>
#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include "gui/messageformatter.h"
#include "gui/urlopener.h"

class QDBusPendingCallWatcher;
class QSystemTrayIcon;

namespace Patchwork::Gui
{

// Shows messages as desktop notifications through org.freedesktop.Notifications (D-Bus), with
// QSystemTrayIcon::showMessage as the fallback when that service is absent. Urgency follows the priority
// (1–2 low, 3–4 normal, 5 critical); a click ("default" action) opens the message's click URL through the
// URL opener, or the history (historyRequested()) when it has none. A storm is limited: at most
// stormLimit pop-ups per subscription per stormWindow, the rest summed up in one "N more from …"
// notification once the window allows it again.
class DesktopNotifier final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DesktopNotifier)

public:
    static constexpr int DefaultStormLimit = 5;
    static constexpr int DefaultStormWindowMs = 10'000;

    enum class Backend
    {
        Probing, // GetCapabilities not answered yet; messages wait
        DBus,
        Fallback,
    };

    // `bus` is where org.freedesktop.Notifications is looked up (the session bus; a private bus in tests).
    DesktopNotifier(const QDBusConnection &bus, UrlOpener urlOpener, QObject *parent = nullptr);

    // The tray icon used for the fallback (not owned); null = no fallback pop-ups.
    void setFallbackTrayIcon(QSystemTrayIcon *trayIcon);
    void setStormLimit(int count, int windowMs);
    int stormLimit() const;
    void setAppIcon(const QString &iconName);

    Backend backend() const;
    bool supportsBodyMarkup() const;

    // Pops `message` up for `subscription` (subject to the storm limit).
    void show(const DisplayMessage &message, const QString &subscription);

Q_SIGNALS:
    // The user clicked a notification that has no click URL (or a summary): show the history.
    void historyRequested();
    // The backend is known (after the GetCapabilities probe).
    void backendChanged(Patchwork::Gui::DesktopNotifier::Backend backend);

private:
    struct Storm
    {
        QList<qint64> shownAt; // monotonic ms of the pop-ups in the current window
        int suppressed = 0;
    };
    struct Pending
    {
        DisplayMessage message;
        QString subscription;
    };

private Q_SLOTS:
    // D-Bus signals of org.freedesktop.Notifications.
    void onActionInvoked(uint id, const QString &actionKey);
    void onNotificationClosed(uint id, uint reason);

private:
    void onCapabilities(QDBusPendingCallWatcher *watcher);
    void onFallbackClicked();
    void onStormTimer();
    void deliver(const DisplayMessage &message, const QString &subscription);
    void sendSummary(const QString &subscription, int count);
    void armStormTimer();
    // Forgets the pop-ups that left the window.
    void expire(Storm &storm, qint64 now) const;

    QDBusConnection m_bus;
    UrlOpener m_urlOpener;
    QPointer<QSystemTrayIcon> m_trayIcon;
    QString m_appIcon;
    Backend m_backend = Backend::Probing;
    bool m_bodyMarkup = false;
    int m_stormLimit = DefaultStormLimit;
    int m_stormWindowMs = DefaultStormWindowMs;
    QElapsedTimer m_clock;
    QTimer m_stormTimer;
    QHash<QString, Storm> m_storms;
    QList<Pending> m_pending;
    // Click URLs of the notifications on screen, by notification id (empty = open the history).
    QHash<uint, QString> m_clickUrls;
    QString m_fallbackClickUrl;
};

} // namespace Patchwork::Gui
