// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QProcess>
#include <QString>

namespace Patchwork::Test
{

// One patchworkd (PATCHWORK_BIN_DIR) on 127.0.0.1, a node behind the proxy on `proxyPort`
// (--node-id, --cluster-url; every node with the same SECRET_KEY). Killed when the object goes.
class NodeProcess final
{
public:
    NodeProcess(QByteArray id, quint16 port, QString dataDir, quint16 proxyPort);
    ~NodeProcess();
    NodeProcess(const NodeProcess &) = delete;
    NodeProcess &operator=(const NodeProcess &) = delete;

    // Starts it and waits until /healthz answers 200.
    bool start();
    // SIGKILL.
    void kill();
    // SIGTERM; true when it exited 0.
    bool terminate();
    const QByteArray &id() const;
    quint16 port() const;
    // Parties of `role` (consumer, producer, requester, responder) waiting on it, from its /metrics.
    int waiting(QByteArrayView role) const;

private:
    QByteArray m_id;
    quint16 m_port;
    QString m_dataDir;
    quint16 m_proxyPort;
    QProcess m_process;
};

} // namespace Patchwork::Test
