// SPDX-License-Identifier: MIT
#pragma once

#include <QDBusConnection>
#include <QProcess>
#include <QTest>

namespace Patchwork::Test
{

// A private D-Bus session bus (`dbus-daemon --session --print-address --nofork`) for one test: nothing
// reaches the user's desktop. connect() opens a named connection to it.
class PrivateBus final
{
public:
    PrivateBus() = default;
    Q_DISABLE_COPY_MOVE(PrivateBus)
    ~PrivateBus()
    {
        for (const QString &name : std::as_const(m_connections)) {
            QDBusConnection::disconnectFromBus(name);
        }
        if (m_daemon.state() != QProcess::NotRunning) {
            m_daemon.kill();
            m_daemon.waitForFinished();
        }
    }

    // Starts the bus; false (with a QTest failure message) when dbus-daemon is missing or fails.
    bool start()
    {
        m_daemon.start(QStringLiteral("dbus-daemon"),
                       {QStringLiteral("--session"), QStringLiteral("--print-address"), QStringLiteral("--nofork")});
        if (!m_daemon.waitForStarted(5000)) {
            qWarning("dbus-daemon did not start: %s", qPrintable(m_daemon.errorString()));
            return false;
        }
        while (!m_daemon.canReadLine() && m_daemon.waitForReadyRead(5000)) {
        }
        m_address = QString::fromUtf8(m_daemon.readLine()).trimmed();
        return !m_address.isEmpty();
    }

    QString address() const
    {
        return m_address;
    }

    QDBusConnection connect(const QString &name)
    {
        m_connections.append(name);
        return QDBusConnection::connectToBus(m_address, name);
    }

private:
    QProcess m_daemon;
    QString m_address;
    QStringList m_connections;
};

} // namespace Patchwork::Test
