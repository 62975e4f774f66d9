// SPDX-License-Identifier: MIT
#pragma once

#include <QProcess>
#include <QProcessEnvironment>
#include <QString>

namespace Patchwork::Test
{

// HAProxy (Debian's haproxy package, installer/setup.sh) run by a test on loopback: in the foreground, with
// its log on the test's stderr, stopped (SIGTERM, then SIGKILL) when the object goes.
class HaproxyProcess final
{
public:
    HaproxyProcess() = default;
    ~HaproxyProcess();
    HaproxyProcess(const HaproxyProcess &) = delete;
    HaproxyProcess &operator=(const HaproxyProcess &) = delete;

    // The haproxy binary found at build time; empty when there is none.
    static QString executable();
    // installer/cluster/ in the source tree.
    static QString clusterDir();
    // A loopback port free a moment ago.
    static quint16 freePort();

    // Checks and starts `configFile` with `env` added to the test's environment; true once `port` on
    // 127.0.0.1 accepts connections. On failure *error says why.
    bool start(const QString &configFile, const QProcessEnvironment &env, quint16 port, QString *error);
    // Starts the shipped installer/cluster/haproxy.cfg on 127.0.0.1:`port` in front of the nodes on
    // `nodePorts` (three), with `ratePer10s` requests per client and 10 s.
    bool startCluster(quint16 port, const QList<quint16> &nodePorts, int ratePer10s, QString *error);
    void stop();

private:
    QProcess m_process;
};

} // namespace Patchwork::Test
