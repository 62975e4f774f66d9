// SPDX-License-Identifier: MIT
#pragma once

#include <QList>
#include <QObject>
#include <QTcpServer>

class QTcpSocket;

namespace Patchwork::Test
{

// A TCP proxy on loopback that a test controls: it forwards every connection to a target port, and
// on the test's word cuts every open connection or refuses new ones, the way a flaky network does.
class TcpProxy final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TcpProxy)

public:
    explicit TcpProxy(quint16 targetPort, QObject *parent = nullptr);
    ~TcpProxy() override;

    bool listen();
    quint16 port() const;

    // Aborts every open connection, on both sides.
    void cut();
    // While refusing, a new connection is closed as soon as it is accepted.
    void setRefusing(bool refusing);
    // Connections open through the proxy now, and accepted (and forwarded) so far.
    int openCount() const;
    int forwardedCount() const;

private:
    struct Pair
    {
        QTcpSocket *client;
        QTcpSocket *upstream;
    };

    void onNewConnection();
    // Closes a forwarded connection: gracefully (what was sent still arrives) or at once.
    void close(QTcpSocket *client, bool graceful);

    QTcpServer m_server;
    quint16 m_targetPort;
    QList<Pair> m_pairs;
    int m_forwarded = 0;
    bool m_refusing = false;
};

} // namespace Patchwork::Test
