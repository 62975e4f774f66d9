// SPDX-License-Identifier: MIT
#include "haproxyprocess.h"

#include <QElapsedTimer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include "testutil.h"

namespace Patchwork::Test
{

HaproxyProcess::~HaproxyProcess()
{
    stop();
}

QString HaproxyProcess::executable()
{
    return QStringLiteral(PATCHWORK_HAPROXY);
}

QString HaproxyProcess::clusterDir()
{
    return qEnvironmentVariable("PATCHWORK_SOURCE_DIR") + QStringLiteral("/installer/cluster");
}

quint16 HaproxyProcess::freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

bool HaproxyProcess::start(const QString &configFile, const QProcessEnvironment &env, quint16 port, QString *error)
{
    if (executable().isEmpty()) {
        *error = QStringLiteral("haproxy not found: install the Debian package haproxy (installer/setup.sh)");
        return false;
    }
    QProcessEnvironment full = QProcessEnvironment::systemEnvironment();
    full.insert(env);
    QProcess check;
    check.setProcessEnvironment(full);
    check.start(executable(), {QStringLiteral("-c"), QStringLiteral("-q"), QStringLiteral("-f"), configFile});
    if (!check.waitForFinished(timeoutMs(10000)) || check.exitCode() != 0) {
        *error = QStringLiteral("haproxy -c failed: ") + QString::fromLocal8Bit(check.readAll());
        return false;
    }
    m_process.setProcessEnvironment(full);
    m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_process.start(executable(), {QStringLiteral("-db"), QStringLiteral("-f"), configFile});
    if (!m_process.waitForStarted(timeoutMs(5000))) {
        *error = QStringLiteral("haproxy did not start: ") + m_process.errorString();
        return false;
    }
    QElapsedTimer waited;
    waited.start();
    while (waited.elapsed() < timeoutMs(10000) && m_process.state() == QProcess::Running) {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, port);
        if (socket.waitForConnected(1000)) {
            return true;
        }
        QTest::qWait(20);
    }
    *error = QStringLiteral("haproxy did not listen on port %1").arg(port);
    return false;
}

bool HaproxyProcess::startCluster(quint16 port, const QList<quint16> &nodePorts, int ratePer10s, QString *error)
{
    QProcessEnvironment env;
    env.insert(QStringLiteral("PATCHWORK_CLUSTER_DIR"), clusterDir());
    env.insert(QStringLiteral("PATCHWORK_PROXY_BIND"), QStringLiteral("127.0.0.1:%1").arg(port));
    for (qsizetype i = 0; i < nodePorts.size(); ++i) {
        env.insert(QStringLiteral("PATCHWORK_NODE%1").arg(i + 1), QStringLiteral("127.0.0.1:%1").arg(nodePorts.at(i)));
    }
    env.insert(QStringLiteral("PATCHWORK_RATE_PER_10S"), QString::number(ratePer10s));
    return start(clusterDir() + QStringLiteral("/haproxy.cfg"), env, port, error);
}

void HaproxyProcess::stop()
{
    if (m_process.state() == QProcess::NotRunning) {
        return;
    }
    m_process.terminate();
    if (!m_process.waitForFinished(timeoutMs(5000))) {
        m_process.kill();
        m_process.waitForFinished(timeoutMs(5000));
    }
}

} // namespace Patchwork::Test
