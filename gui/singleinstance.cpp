// SPDX-License-Identifier: MIT
#include "gui/singleinstance.h"

#include <QLocalSocket>

#include "gui/logging.h"

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

namespace Patchwork::Gui
{

namespace
{

constexpr int CONNECT_TIMEOUT_MS = 1000;
const QByteArray RAISE = QByteArrayLiteral("raise\n");

} // namespace

SingleInstance::SingleInstance(const QString &name, QObject *parent)
    : QObject(parent)
    , m_name(name.isEmpty() ? defaultName() : name)
{
    m_server.setSocketOptions(QLocalServer::UserAccessOption);
    connect(&m_server, &QLocalServer::newConnection, this, &SingleInstance::onNewConnection);
}

QString SingleInstance::defaultName()
{
#ifdef Q_OS_UNIX
    return QStringLiteral("patchwork-tray-") + QString::number(::getuid());
#else
    return QStringLiteral("patchwork-tray-") + qEnvironmentVariable("USERNAME");
#endif
}

QString SingleInstance::serverName() const
{
    return m_name;
}

bool SingleInstance::claim()
{
    QLocalSocket socket;
    socket.connectToServer(m_name);
    if (socket.waitForConnected(CONNECT_TIMEOUT_MS)) {
        socket.write(RAISE);
        socket.waitForBytesWritten(CONNECT_TIMEOUT_MS);
        socket.disconnectFromServer();
        return false;
    }
    // Nobody answers: a socket file left by a crash is stale.
    QLocalServer::removeServer(m_name);
    if (!m_server.listen(m_name)) {
        qCWarning(lcGui) << "single instance: cannot listen on" << m_name << m_server.errorString();
    }
    return true;
}

void SingleInstance::onNewConnection()
{
    while (QLocalSocket *socket = m_server.nextPendingConnection()) {
        connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
        const auto read = [this, socket] {
            if (socket->canReadLine() && socket->readLine() == RAISE) {
                Q_EMIT raiseRequested();
            }
        };
        connect(socket, &QLocalSocket::readyRead, this, read);
        read(); // the line may have arrived with the connection
    }
}

} // namespace Patchwork::Gui
