// SPDX-License-Identifier: MIT
#pragma once

#include <functional>

#include <QObject>
#include <QStringList>
#include <QVariantMap>

namespace Patchwork::Test
{

// A recording org.freedesktop.Notifications server: answers GetCapabilities, records every Notify call
// with all of its arguments, and can emit ActionInvoked like a desktop does when the user clicks.
class RecordingNotifications final : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.Notifications")

public:
    struct Call
    {
        QString appName;
        uint replacesId;
        QString appIcon;
        QString summary;
        QString body;
        QStringList actions;
        QVariantMap hints;
        int timeout;
    };

    QStringList capabilities{QStringLiteral("actions"), QStringLiteral("body"), QStringLiteral("body-markup")};
    QList<Call> calls;
    uint nextId = 41;
    // Called after each Notify is recorded (benchmarks time it).
    std::function<void(const Call &)> onNotify;

public Q_SLOTS:
    QStringList GetCapabilities()
    {
        return capabilities;
    }
    uint Notify(const QString &appName,
                uint replacesId,
                const QString &appIcon,
                const QString &summary,
                const QString &body,
                const QStringList &actions,
                const QVariantMap &hints,
                int timeout)
    {
        calls.append({appName, replacesId, appIcon, summary, body, actions, hints, timeout});
        if (onNotify) {
            onNotify(calls.constLast());
        }
        return ++nextId;
    }

Q_SIGNALS:
    void ActionInvoked(uint id, const QString &actionKey);
    void NotificationClosed(uint id, uint reason);
};

} // namespace Patchwork::Test
