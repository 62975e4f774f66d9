// SPDX-License-Identifier: MIT
#include "nodeprocess.h"

#include <QElapsedTimer>
#include <QTest>

#include "testhttpclient.h"
#include "testutil.h"

namespace Patchwork::Test
{

NodeProcess::NodeProcess(QByteArray id, quint16 port, QString dataDir, quint16 proxyPort)
    : m_id(std::move(id))
    , m_port(port)
    , m_dataDir(std::move(dataDir))
    , m_proxyPort(proxyPort)
{
}

NodeProcess::~NodeProcess()
{
    kill();
}

bool NodeProcess::start()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("SECRET_KEY"), QStringLiteral("cluster-test-secret"));
    m_process.setProcessEnvironment(env);
    m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_process.start(qEnvironmentVariable("PATCHWORK_BIN_DIR") + QStringLiteral("/patchworkd"),
                    {QStringLiteral("--host"),
                     QStringLiteral("127.0.0.1"),
                     QStringLiteral("--port"),
                     QString::number(m_port),
                     QStringLiteral("--node-id"),
                     QString::fromLatin1(m_id),
                     QStringLiteral("--data-dir"),
                     m_dataDir,
                     QStringLiteral("--cluster-url"),
                     QStringLiteral("http://127.0.0.1:%1").arg(m_proxyPort),
                     QStringLiteral("--log-level"),
                     QStringLiteral("WARN")});
    if (!m_process.waitForStarted(timeoutMs(5000))) {
        return false;
    }
    QElapsedTimer waited;
    waited.start();
    while (waited.elapsed() < timeoutMs(10000) && m_process.state() == QProcess::Running) {
        if (fetch(m_port, "GET", "/healthz", {}, {}, 1000).status == 200) {
            return true;
        }
        QTest::qWait(20);
    }
    return false;
}

void NodeProcess::kill()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(timeoutMs(5000));
    }
}

bool NodeProcess::terminate()
{
    m_process.terminate();
    return m_process.waitForFinished(timeoutMs(15000)) && m_process.exitCode() == 0;
}

const QByteArray &NodeProcess::id() const
{
    return m_id;
}

quint16 NodeProcess::port() const
{
    return m_port;
}

int NodeProcess::waiting(QByteArrayView role) const
{
    const QByteArray prefix = "patchwork_waiting_requests{role=\"" + role.toByteArray() + "\"} ";
    const TestResponse metrics = fetch(m_port, "GET", "/metrics");
    for (const QByteArray &line : metrics.body.split('\n')) {
        if (line.startsWith(prefix)) {
            return line.mid(prefix.size()).toInt();
        }
    }
    return 0;
}

} // namespace Patchwork::Test
