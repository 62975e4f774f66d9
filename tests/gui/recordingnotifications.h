// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>

#include <QObject>
#include <QStringList>
#include <QVariantMap>

namespace Patchwork::Test
{

// A recording org.freedesktop.Notifications server: answers GetCapabilities, records every Notify call
// with all of its arguments and the time it arrived, and can emit ActionInvoked like a desktop does when
// the user clicks.
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
        std::chrono::steady_clock::time_point received; // when the call arrived (for tests/bench/traybench)
    };

    QStringList capabilities{QStringLiteral("actions"), QStringLiteral("body"), QStringLiteral("body-markup")};
    QList<Call> calls;
    uint nextId = 41;

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
        calls.append(
            {appName, replacesId, appIcon, summary, body, actions, hints, timeout, std::chrono::steady_clock::now()});
        return ++nextId;
    }

Q_SIGNALS:
    void ActionInvoked(uint id, const QString &actionKey);
    void NotificationClosed(uint id, uint reason);
};

} // namespace Patchwork::Test
