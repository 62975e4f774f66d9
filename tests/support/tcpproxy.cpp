// SPDX-License-Identifier: MIT
#include "tcpproxy.h"

#include <QTcpSocket>

namespace Patchwork::Test
{

TcpProxy::TcpProxy(quint16 targetPort, QObject *parent)
    : QObject(parent)
    , m_targetPort(targetPort)
{
    connect(&m_server, &QTcpServer::newConnection, this, &TcpProxy::onNewConnection);
}

TcpProxy::~TcpProxy()
{
    cut();
}

bool TcpProxy::listen()
{
    return m_server.listen(QHostAddress::LocalHost, 0);
}

quint16 TcpProxy::port() const
{
    return m_server.serverPort();
}

void TcpProxy::cut()
{
    while (!m_pairs.isEmpty()) {
        close(m_pairs.first().client, false);
    }
}

void TcpProxy::setRefusing(bool refusing)
{
    m_refusing = refusing;
}

int TcpProxy::openCount() const
{
    return int(m_pairs.size());
}

int TcpProxy::forwardedCount() const
{
    return m_forwarded;
}

void TcpProxy::onNewConnection()
{
    while (QTcpSocket *client = m_server.nextPendingConnection()) {
        if (m_refusing) {
            client->abort();
            client->deleteLater();
            continue;
        }
        ++m_forwarded;
        auto *upstream = new QTcpSocket(this);
        client->setParent(this);
        m_pairs.append(Pair{client, upstream});
        // Bytes from the client wait in its socket until the upstream connection is up.
        const auto forward = [client, upstream]() {
            if (upstream->state() == QAbstractSocket::ConnectedState) {
                upstream->write(client->readAll());
            }
        };
        connect(client, &QTcpSocket::readyRead, upstream, forward);
        connect(upstream, &QTcpSocket::connected, client, forward);
        connect(upstream, &QTcpSocket::readyRead, client, [client, upstream]() { client->write(upstream->readAll()); });
        connect(client, &QTcpSocket::disconnected, this, [this, client]() { close(client, true); });
        connect(upstream, &QTcpSocket::disconnected, this, [this, client]() { close(client, true); });
        connect(upstream, &QTcpSocket::errorOccurred, this, [this, client]() { close(client, true); });
        upstream->connectToHost(QHostAddress::LocalHost, m_targetPort);
    }
}

void TcpProxy::close(QTcpSocket *client, bool graceful)
{
    for (qsizetype i = 0; i < m_pairs.size(); ++i) {
        const Pair pair = m_pairs.at(i);
        if (pair.client != client) {
            continue;
        }
        m_pairs.removeAt(i);
        if (graceful) {
            // What one side sent before it closed still reaches the other.
            if (pair.upstream->state() == QAbstractSocket::ConnectedState) {
                pair.upstream->write(pair.client->readAll());
            }
            pair.client->write(pair.upstream->readAll());
        }
        for (QTcpSocket *socket : {pair.client, pair.upstream}) {
            socket->disconnect(this);
            socket->disconnect(pair.client);
            socket->disconnect(pair.upstream);
            if (graceful && socket->state() == QAbstractSocket::ConnectedState) {
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
                socket->disconnectFromHost();
            } else {
                socket->abort();
                socket->deleteLater();
            }
        }
        return;
    }
}

} // namespace Patchwork::Test
