// SPDX-License-Identifier: MIT
#include <QDir>
#include <QFile>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QSysInfo>
#include <QTemporaryDir>
#include <QtTest>

#include "daemon/serveroptions.h"

using namespace Qt::StringLiterals;
using Patchwork::Server::LocalTargets;
using Patchwork::Server::LogFormat;
using Patchwork::Server::LogLevel;
using Patchwork::Server::ServerOptions;

namespace
{

QProcessEnvironment makeEnv(const QStringList &assignments)
{
    QProcessEnvironment env;
    for (const QString &assignment : assignments) {
        const qsizetype equals = assignment.indexOf(u'=');
        env.insert(assignment.left(equals), assignment.mid(equals + 1));
    }
    return env;
}

QVariant num(qint64 value)
{
    return QVariant::fromValue(value);
}

// The option named `name` as a QVariant: numbers as qint64, enums as their names.
QVariant field(const ServerOptions &o, const QString &name)
{
    const auto level = [](LogLevel l) {
        switch (l) {
        case LogLevel::Debug:
            return u"debug"_s;
        case LogLevel::Info:
            return u"info"_s;
        case LogLevel::Warn:
            return u"warn"_s;
        case LogLevel::Error:
            break;
        }
        return u"error"_s;
    };
    if (name == u"host") {
        return o.host.toString();
    }
    if (name == u"port") {
        return num(o.port);
    }
    if (name == u"configFile") {
        return o.configFile;
    }
    if (name == u"dataDir") {
        return o.dataDir;
    }
    if (name == u"usersDir") {
        return o.usersDir;
    }
    if (name == u"maxBody") {
        return num(o.maxBody);
    }
    if (name == u"maxStreamBody") {
        return num(o.maxStreamBody);
    }
    if (name == u"trustedProxies") {
        return o.trustedProxies;
    }
    if (name == u"metricsToken") {
        return o.metricsToken;
    }
    if (name == u"metricsPublic") {
        return o.metricsPublic;
    }
    if (name == u"rateLimit") {
        return o.rateLimit;
    }
    if (name == u"rateBurst") {
        return num(o.rateBurst);
    }
    if (name == u"maxWaitingPerIp") {
        return num(o.maxWaitingPerIp);
    }
    if (name == u"maxWaitMs") {
        return num(o.maxWaitMs);
    }
    if (name == u"uploadStallTimeoutMs") {
        return num(o.uploadStallTimeoutMs);
    }
    if (name == u"idleTimeoutMs") {
        return num(o.idleTimeoutMs);
    }
    if (name == u"lingerTimeoutMs") {
        return num(o.lingerTimeoutMs);
    }
    if (name == u"replyTimeoutMs") {
        return num(o.replyTimeoutMs);
    }
    if (name == u"switchTimeoutMs") {
        return num(o.switchTimeoutMs);
    }
    if (name == u"replayCount") {
        return num(o.replayCount);
    }
    if (name == u"replayAgeMs") {
        return num(o.replayAgeMs);
    }
    if (name == u"replayChannelBytes") {
        return num(o.replayChannelBytes);
    }
    if (name == u"replayTotalBytes") {
        return num(o.replayTotalBytes);
    }
    if (name == u"replayStore") {
        return o.replayStore.value_or(u"(unset)"_s);
    }
    if (name == u"replayStoreSync") {
        return o.replayStoreSync == Patchwork::ReplayJournal::Sync::Full ? u"full"_s : u"normal"_s;
    }
    if (name == u"headTimeoutMs") {
        return num(o.headTimeoutMs);
    }
    if (name == u"maxConnections") {
        return num(o.maxConnections);
    }
    if (name == u"maxConnectionsPerIp") {
        return num(o.maxConnectionsPerIp);
    }
    if (name == u"maxBufferedBytes") {
        return num(o.maxBufferedBytes);
    }
    if (name == u"maxWaitingPerUser") {
        return num(o.maxWaitingPerUser);
    }
    if (name == u"logLevel") {
        return level(o.logLevel);
    }
    if (name == u"logFormat") {
        return o.logFormat == LogFormat::Json ? u"json"_s : u"text"_s;
    }
    if (name == u"tunnelLocalTargets") {
        return o.tunnelLocalTargets == LocalTargets::Literal ? u"literal"_s
               : o.tunnelLocalTargets == LocalTargets::Deny  ? u"deny"_s
                                                             : u"allow"_s;
    }
    if (name == u"secretKey") {
        return o.secretKey;
    }
    if (name == u"forgejoUrl") {
        return o.forgejoUrl.toString();
    }
    if (name == u"forgejoToken") {
        return o.forgejoToken;
    }
    if (name == u"aclTtlMs") {
        return num(o.aclTtlMs);
    }
    if (name == u"logSource") {
        return o.logSource;
    }
    if (name == u"nodeId") {
        return o.nodeId;
    }
    if (name == u"clusterUrl") {
        return o.clusterUrl.toString();
    }
    qFatal("unknown field %s", qPrintable(name));
}

} // namespace

class TestServerOptions final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();

    void defaults();
    void defaultNodeId();
    void stateDirectory();
    void values_data();
    void values();
    void precedence_data();
    void precedence();
    void configFile();
    void configFileFromEnvironment();
    void repeatableTrustedProxy();
    void environmentList();
    void unrelatedEnvironmentIgnored();
    void errors_data();
    void errors();
    void help();

private:
    QString writeConfig(const QString &name, const QByteArray &content);

    QTemporaryDir m_dir;
    QString m_defaultDataDir;
};

void TestServerOptions::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    m_defaultDataDir =
        QDir::cleanPath(QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + u"/patchwork"_s);
}

void TestServerOptions::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
}

QString TestServerOptions::writeConfig(const QString &name, const QByteArray &content)
{
    const QString path = m_dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(content) != content.size()) {
        qFatal("cannot write %s", qPrintable(path));
    }
    return path;
}

void TestServerOptions::defaults()
{
    QString error;
    const std::optional<ServerOptions> o = ServerOptions::parse({}, QProcessEnvironment(), &error);
    QVERIFY2(o, qPrintable(error));
    QCOMPARE(o->host, QHostAddress(QHostAddress::AnyIPv4));
    QCOMPARE(o->host.toString(), u"0.0.0.0"_s);
    QCOMPARE(o->port, 8080);
    QCOMPARE(o->configFile, QString());
    QCOMPARE(o->dataDir, m_defaultDataDir);
    QCOMPARE(o->usersDir, m_defaultDataDir + u"/users"_s);
    QCOMPARE(o->maxBody, 64 * 1024 * 1024);
    QCOMPARE(o->maxStreamBody, qint64(-1));
    QCOMPARE(o->trustedProxies, (QStringList{u"127.0.0.0/8"_s, u"::1/128"_s}));
    QCOMPARE(o->metricsToken, QString());
    QCOMPARE(o->metricsPublic, false);
    QCOMPARE(o->rateLimit, 10.0);
    QCOMPARE(o->rateBurst, 20);
    QCOMPARE(o->maxWaitingPerIp, 256);
    QCOMPARE(o->maxWaitMs, 0);
    QCOMPARE(o->uploadStallTimeoutMs, 30'000);
    QCOMPARE(o->idleTimeoutMs, 120'000);
    QCOMPARE(o->lingerTimeoutMs, 5'000);
    QCOMPARE(o->replyTimeoutMs, 60'000);
    QCOMPARE(o->switchTimeoutMs, 30'000);
    QCOMPARE(o->replayCount, 100);
    QCOMPARE(o->replayAgeMs, qint64(12) * 3600 * 1000);
    QCOMPARE(o->replayChannelBytes, 1024 * 1024);
    QCOMPARE(o->replayTotalBytes, 64 * 1024 * 1024);
    QCOMPARE(o->replayStore, m_defaultDataDir + u"/replay.sqlite"_s);
    QCOMPARE(o->replayStoreSync, Patchwork::ReplayJournal::Sync::Normal);
    QCOMPARE(o->headTimeoutMs, 30'000);
    QCOMPARE(o->maxConnections, 0);
    QCOMPARE(o->maxConnectionsPerIp, 512);
    QVERIFY(o->maxBufferedBytes >= 256 * 1024 * 1024);
    QCOMPARE(o->maxWaitingPerUser, 1024);
    QCOMPARE(o->logLevel, LogLevel::Info);
    QCOMPARE(o->logFormat, LogFormat::Text);
    QCOMPARE(o->tunnelLocalTargets, LocalTargets::Literal);
    QCOMPARE(o->secretKey, QByteArray());
    QVERIFY(o->forgejoUrl.isEmpty());
    QCOMPARE(o->forgejoToken, QString());
    QCOMPARE(o->aclTtlMs, 5 * 60 * 1000);
    QCOMPARE(o->logSource, false);
    QCOMPARE(o->showHelp, false);
    QCOMPARE(o->nodeId, ServerOptions::defaultNodeId(QSysInfo::machineHostName(), 8080));
    QVERIFY(o->clusterUrl.isEmpty());
}

void TestServerOptions::defaultNodeId()
{
    QCOMPARE(ServerOptions::defaultNodeId(u"web1.example.com"_s, 8080), u"web1-8080"_s);
    QCOMPARE(ServerOptions::defaultNodeId(u"my_host-2"_s, 0), u"my_host-2-0"_s);
    QCOMPARE(ServerOptions::defaultNodeId(u"h\u00f6st:x"_s, 80), u"h_st_x-80"_s);
    QCOMPARE(ServerOptions::defaultNodeId(QString(), 80), u"node-80"_s);
    QCOMPARE(ServerOptions::defaultNodeId(QString(60, u'a'), 1), QString(48, u'a') + u"-1"_s);
    // The port is the one in effect.
    const std::optional<ServerOptions> o = ServerOptions::parse({u"--port=9001"_s}, {});
    QVERIFY(o);
    QCOMPARE(o->nodeId, ServerOptions::defaultNodeId(QSysInfo::machineHostName(), 9001));
}

void TestServerOptions::stateDirectory()
{
    const QProcessEnvironment env = makeEnv({u"STATE_DIRECTORY=/var/lib/patchwork:/var/lib/other"_s});
    std::optional<ServerOptions> o = ServerOptions::parse({}, env);
    QVERIFY(o);
    QCOMPARE(o->dataDir, u"/var/lib/patchwork"_s);
    QCOMPARE(o->usersDir, u"/var/lib/patchwork/users"_s);

    // An explicit data dir beats STATE_DIRECTORY and moves the users dir with it.
    o = ServerOptions::parse({u"--data-dir"_s, u"/srv/pw"_s}, env);
    QVERIFY(o);
    QCOMPARE(o->dataDir, u"/srv/pw"_s);
    QCOMPARE(o->usersDir, u"/srv/pw/users"_s);

    o = ServerOptions::parse({u"--users-dir=/etc/pw-users"_s}, env);
    QVERIFY(o);
    QCOMPARE(o->dataDir, u"/var/lib/patchwork"_s);
    QCOMPARE(o->usersDir, u"/etc/pw-users"_s);
}

void TestServerOptions::values_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("env");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QVariant>("expected");

    const QStringList noEnv;
    const QString cwd = QDir::currentPath();

    QTest::addRow("host ipv4") << QStringList{u"--host"_s, u"127.0.0.1"_s} << noEnv << u"host"_s
                               << QVariant(u"127.0.0.1"_s);
    QTest::addRow("host ipv6 any") << QStringList{u"--host=::"_s} << noEnv << u"host"_s << QVariant(u"::"_s);
    QTest::addRow("host ipv6 brackets") << QStringList{u"--host"_s, u"[::1]"_s} << noEnv << u"host"_s
                                        << QVariant(u"::1"_s);
    QTest::addRow("host localhost") << QStringList{u"--host"_s, u"localhost"_s} << noEnv << u"host"_s
                                    << QVariant(u"127.0.0.1"_s);
    QTest::addRow("host env") << QStringList{} << QStringList{u"PATCHWORK_HOST=10.1.2.3"_s} << u"host"_s
                              << QVariant(u"10.1.2.3"_s);
    QTest::addRow("port") << QStringList{u"--port"_s, u"9000"_s} << noEnv << u"port"_s << num(9000);
    QTest::addRow("node id") << QStringList{u"--node-id"_s, u"Web_1-a"_s} << noEnv << u"nodeId"_s
                             << QVariant(u"Web_1-a"_s);
    QTest::addRow("cluster url") << QStringList{u"--cluster-url=http://10.0.0.5:8000/relay"_s} << noEnv
                                 << u"clusterUrl"_s << QVariant(u"http://10.0.0.5:8000/relay"_s);
    QTest::addRow("node id env") << QStringList{} << QStringList{u"PATCHWORK_NODE_ID=n2"_s} << u"nodeId"_s
                                 << QVariant(u"n2"_s);
    QTest::addRow("port=") << QStringList{u"--port=65535"_s} << noEnv << u"port"_s << num(65535);
    QTest::addRow("port 0") << QStringList{u"--port"_s, u"0"_s} << noEnv << u"port"_s << num(0);
    QTest::addRow("port env") << QStringList{} << QStringList{u"PATCHWORK_PORT=8181"_s} << u"port"_s << num(8181);

    QTest::addRow("size bare") << QStringList{u"--max-body"_s, u"5000"_s} << noEnv << u"maxBody"_s << num(5000);
    QTest::addRow("size KiB") << QStringList{u"--max-body=1KiB"_s} << noEnv << u"maxBody"_s << num(1024);
    QTest::addRow("size MiB") << QStringList{u"--max-body"_s, u"3MiB"_s} << noEnv << u"maxBody"_s
                              << num(3 * 1024 * 1024);
    QTest::addRow("size GiB") << QStringList{u"--max-body"_s, u"2GiB"_s} << noEnv << u"maxBody"_s
                              << num(qint64(2) * 1024 * 1024 * 1024);
    QTest::addRow("size fraction") << QStringList{u"--max-body"_s, u"1.5MiB"_s} << noEnv << u"maxBody"_s
                                   << num(1024 * 1024 * 3 / 2);
    QTest::addRow("size env") << QStringList{} << QStringList{u"PATCHWORK_MAX_BODY=512KiB"_s} << u"maxBody"_s
                              << num(512 * 1024);
    QTest::addRow("replay channel bytes 0")
        << QStringList{u"--replay-channel-bytes"_s, u"0"_s} << noEnv << u"replayChannelBytes"_s << num(0);
    QTest::addRow("replay total bytes") << QStringList{u"--replay-total-bytes=128MiB"_s} << noEnv
                                        << u"replayTotalBytes"_s << num(128 * 1024 * 1024);
    QTest::addRow("head timeout") << QStringList{u"--head-timeout=5s"_s} << noEnv << u"headTimeoutMs"_s << num(5000);
    QTest::addRow("max connections") << QStringList{u"--max-connections=1000"_s} << noEnv << u"maxConnections"_s
                                     << num(1000);
    QTest::addRow("max connections per ip env")
        << QStringList{} << QStringList{u"PATCHWORK_MAX_CONNECTIONS_PER_IP=0"_s} << u"maxConnectionsPerIp"_s << num(0);
    QTest::addRow("max stream body") << QStringList{u"--max-stream-body=16GiB"_s} << noEnv << u"maxStreamBody"_s
                                     << num(qint64(16) * 1024 * 1024 * 1024);
    QTest::addRow("max stream body off env")
        << QStringList{} << QStringList{u"PATCHWORK_MAX_STREAM_BODY=0"_s} << u"maxStreamBody"_s << num(0);
    QTest::addRow("max buffered bytes") << QStringList{u"--max-buffered-bytes=1GiB"_s} << noEnv << u"maxBufferedBytes"_s
                                        << num(qint64(1024) * 1024 * 1024);
    QTest::addRow("max waiting per user")
        << QStringList{u"--max-waiting-per-user"_s, u"10"_s} << noEnv << u"maxWaitingPerUser"_s << num(10);

    QTest::addRow("seconds bare") << QStringList{u"--reply-timeout"_s, u"2"_s} << noEnv << u"replyTimeoutMs"_s
                                  << num(2000);
    QTest::addRow("seconds fraction") << QStringList{u"--reply-timeout"_s, u"0.5"_s} << noEnv << u"replyTimeoutMs"_s
                                      << num(500);
    QTest::addRow("duration s") << QStringList{u"--switch-timeout=30s"_s} << noEnv << u"switchTimeoutMs"_s
                                << num(30'000);
    QTest::addRow("duration m") << QStringList{u"--idle-timeout"_s, u"5m"_s} << noEnv << u"idleTimeoutMs"_s
                                << num(300'000);
    QTest::addRow("linger off") << QStringList{u"--linger-timeout=0"_s} << noEnv << u"lingerTimeoutMs"_s << num(0);
    QTest::addRow("linger env") << QStringList() << QStringList{u"PATCHWORK_LINGER_TIMEOUT=2"_s} << u"lingerTimeoutMs"_s
                                << num(2000);
    QTest::addRow("duration h") << QStringList{u"--replay-age"_s, u"12h"_s} << noEnv << u"replayAgeMs"_s
                                << num(qint64(12) * 3600 * 1000);
    QTest::addRow("duration h m") << QStringList{u"--replay-age"_s, u"1h30m"_s} << noEnv << u"replayAgeMs"_s
                                  << num(90 * 60 * 1000);
    QTest::addRow("duration ms") << QStringList{u"--max-wait"_s, u"250ms"_s} << noEnv << u"maxWaitMs"_s << num(250);
    QTest::addRow("max wait 0") << QStringList{u"--max-wait"_s, u"0"_s} << noEnv << u"maxWaitMs"_s << num(0);
    QTest::addRow("upload stall") << QStringList{u"--upload-stall-timeout"_s, u"45s"_s} << noEnv
                                  << u"uploadStallTimeoutMs"_s << num(45'000);
    QTest::addRow("duration env") << QStringList{} << QStringList{u"PATCHWORK_REPLY_TIMEOUT=90s"_s}
                                  << u"replyTimeoutMs"_s << num(90'000);
    QTest::addRow("replay age 0") << QStringList{u"--replay-age=0"_s} << noEnv << u"replayAgeMs"_s << num(0);

    QTest::addRow("rate decimal") << QStringList{u"--rate-limit"_s, u"2.5"_s} << noEnv << u"rateLimit"_s
                                  << QVariant(2.5);
    QTest::addRow("rate off") << QStringList{u"--rate-limit=0"_s} << noEnv << u"rateLimit"_s << QVariant(0.0);
    QTest::addRow("burst") << QStringList{u"--rate-burst"_s, u"1"_s} << noEnv << u"rateBurst"_s << num(1);
    QTest::addRow("waiting off") << QStringList{u"--max-waiting-per-ip"_s, u"0"_s} << noEnv << u"maxWaitingPerIp"_s
                                 << num(0);
    QTest::addRow("waiting env") << QStringList{} << QStringList{u"PATCHWORK_MAX_WAITING_PER_IP=9"_s}
                                 << u"maxWaitingPerIp"_s << num(9);
    QTest::addRow("replay count 0") << QStringList{u"--replay-count"_s, u"0"_s} << noEnv << u"replayCount"_s << num(0);
    QTest::addRow("replay store") << QStringList{u"--replay-store"_s, u"/srv/r.sqlite"_s} << noEnv << u"replayStore"_s
                                  << QVariant(u"/srv/r.sqlite"_s);
    QTest::addRow("replay store none") << QStringList{u"--replay-store=NONE"_s} << noEnv << u"replayStore"_s
                                       << QVariant(QString());
    QTest::addRow("replay store follows data dir") << QStringList{u"--data-dir"_s, u"/srv/pw"_s} << noEnv
                                                   << u"replayStore"_s << QVariant(u"/srv/pw/replay.sqlite"_s);
    QTest::addRow("replay store sync env") << QStringList{} << QStringList{u"PATCHWORK_REPLAY_STORE_SYNC=full"_s}
                                           << u"replayStoreSync"_s << QVariant(u"full"_s);

    QTest::addRow("bool flag alone") << QStringList{u"--metrics-public"_s} << noEnv << u"metricsPublic"_s
                                     << QVariant(true);
    QTest::addRow("bool flag =false") << QStringList{u"--metrics-public=false"_s} << noEnv << u"metricsPublic"_s
                                      << QVariant(false);
    QTest::addRow("bool env yes") << QStringList{} << QStringList{u"PATCHWORK_METRICS_PUBLIC=YES"_s}
                                  << u"metricsPublic"_s << QVariant(true);
    QTest::addRow("bool flag =false beats env")
        << QStringList{u"--metrics-public=0"_s} << QStringList{u"PATCHWORK_METRICS_PUBLIC=on"_s} << u"metricsPublic"_s
        << QVariant(false);

    QTest::addRow("metrics token flag") << QStringList{u"--metrics-token"_s, u"s3cret"_s} << noEnv << u"metricsToken"_s
                                        << QVariant(u"s3cret"_s);
    QTest::addRow("metrics token env") << QStringList{} << QStringList{u"METRICS_TOKEN=abc"_s} << u"metricsToken"_s
                                       << QVariant(u"abc"_s);
    QTest::addRow("metrics token: PATCHWORK_ name not used")
        << QStringList{} << QStringList{u"PATCHWORK_METRICS_TOKEN=abc"_s} << u"metricsToken"_s << QVariant(QString());

    QTest::addRow("log level flag") << QStringList{u"--log-level"_s, u"debug"_s} << noEnv << u"logLevel"_s
                                    << QVariant(u"debug"_s);
    QTest::addRow("log level WARN") << QStringList{u"--log-level=WARN"_s} << noEnv << u"logLevel"_s
                                    << QVariant(u"warn"_s);
    QTest::addRow("log level warning") << QStringList{u"--log-level=warning"_s} << noEnv << u"logLevel"_s
                                       << QVariant(u"warn"_s);
    QTest::addRow("log level env") << QStringList{} << QStringList{u"LOG_LEVEL=Error"_s} << u"logLevel"_s
                                   << QVariant(u"error"_s);
    QTest::addRow("log format json") << QStringList{u"--log-format"_s, u"json"_s} << noEnv << u"logFormat"_s
                                     << QVariant(u"json"_s);
    QTest::addRow("log format env") << QStringList{} << QStringList{u"PATCHWORK_LOG_FORMAT=JSON"_s} << u"logFormat"_s
                                    << QVariant(u"json"_s);
    QTest::addRow("tunnel local targets deny")
        << QStringList{u"--tunnel-local-targets=deny"_s} << noEnv << u"tunnelLocalTargets"_s << QVariant(u"deny"_s);
    QTest::addRow("tunnel local targets env") << QStringList{} << QStringList{u"PATCHWORK_TUNNEL_LOCAL_TARGETS=Allow"_s}
                                              << u"tunnelLocalTargets"_s << QVariant(u"allow"_s);

    QTest::addRow("relative data dir") << QStringList{u"--data-dir"_s, u"state/pw"_s} << noEnv << u"dataDir"_s
                                       << QVariant(cwd + u"/state/pw"_s);
    QTest::addRow("data dir env") << QStringList{} << QStringList{u"PATCHWORK_DATA_DIR=/srv/data/"_s} << u"dataDir"_s
                                  << QVariant(u"/srv/data"_s);
    QTest::addRow("users dir env") << QStringList{} << QStringList{u"PATCHWORK_USERS_DIR=/srv/users"_s} << u"usersDir"_s
                                   << QVariant(u"/srv/users"_s);

    QTest::addRow("secret key raw") << QStringList{} << QStringList{u"SECRET_KEY= key with spaces "_s} << u"secretKey"_s
                                    << QVariant(" key with spaces "_ba);
    QTest::addRow("forgejo url") << QStringList{} << QStringList{u"FORGEJO_URL=https://forge.example/"_s}
                                 << u"forgejoUrl"_s << QVariant(u"https://forge.example"_s);
    QTest::addRow("forgejo url subpath") << QStringList{} << QStringList{u"FORGEJO_URL=http://h:3000/git//"_s}
                                         << u"forgejoUrl"_s << QVariant(u"http://h:3000/git"_s);
    QTest::addRow("forgejo token") << QStringList{} << QStringList{u"FORGEJO_TOKEN=tok"_s} << u"forgejoToken"_s
                                   << QVariant(u"tok"_s);
    QTest::addRow("acl ttl go") << QStringList{} << QStringList{u"ACL_TTL=30s"_s} << u"aclTtlMs"_s << num(30'000);
    QTest::addRow("acl ttl seconds") << QStringList{} << QStringList{u"ACL_TTL=10"_s} << u"aclTtlMs"_s << num(10'000);
    QTest::addRow("acl ttl negative is 0") << QStringList{} << QStringList{u"ACL_TTL=-1m"_s} << u"aclTtlMs"_s << num(0);
    QTest::addRow("log source yes") << QStringList{} << QStringList{u"LOG_SOURCE=yes"_s} << u"logSource"_s
                                    << QVariant(true);
    QTest::addRow("log source TRUE") << QStringList{} << QStringList{u"LOG_SOURCE=TRUE"_s} << u"logSource"_s
                                     << QVariant(true);
    QTest::addRow("log source false") << QStringList{} << QStringList{u"LOG_SOURCE=false"_s} << u"logSource"_s
                                      << QVariant(false);

    QTest::addRow("empty env is unset") << QStringList{} << QStringList{u"PATCHWORK_PORT="_s} << u"port"_s << num(8080);
}

void TestServerOptions::values()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, env);
    QFETCH(QString, field);
    QFETCH(QVariant, expected);

    QString error;
    const std::optional<ServerOptions> o = ServerOptions::parse(args, makeEnv(env), &error);
    QVERIFY2(o, qPrintable(error));
    QVERIFY(error.isEmpty());
    QCOMPARE(::field(*o, field), expected);
}

void TestServerOptions::precedence_data()
{
    QTest::addColumn<bool>("inFile");
    QTest::addColumn<bool>("inEnv");
    QTest::addColumn<bool>("inFlag");
    QTest::addColumn<QString>("expectedSource");

    QTest::addRow("default") << false << false << false << u"default"_s;
    QTest::addRow("file beats default") << true << false << false << u"file"_s;
    QTest::addRow("env beats default") << false << true << false << u"env"_s;
    QTest::addRow("env beats file") << true << true << false << u"env"_s;
    QTest::addRow("flag beats default") << false << false << true << u"flag"_s;
    QTest::addRow("flag beats file") << true << false << true << u"flag"_s;
    QTest::addRow("flag beats env") << false << true << true << u"flag"_s;
    QTest::addRow("flag beats env and file") << true << true << true << u"flag"_s;
}

void TestServerOptions::precedence()
{
    QFETCH(bool, inFile);
    QFETCH(bool, inEnv);
    QFETCH(bool, inFlag);
    QFETCH(QString, expectedSource);

    // Three kinds of option: a size, a list, and one with an original environment name.
    QByteArray yaml = "port: 1111\n"; // present in every file, never overridden
    QStringList args{u"--config"_s, QString()};
    QStringList env;
    if (inFile) {
        yaml += "max-body: 1KiB\ntrusted-proxy: [10.0.0.0/8]\nlog-level: debug\n";
    }
    if (inEnv) {
        env << u"PATCHWORK_MAX_BODY=2KiB"_s << u"PATCHWORK_TRUSTED_PROXY=172.16.0.0/12"_s << u"LOG_LEVEL=warn"_s;
    }
    if (inFlag) {
        args << u"--max-body"_s << u"3KiB"_s << u"--trusted-proxy=192.168.0.0/16"_s << u"--log-level"_s << u"error"_s;
    }
    args[1] = writeConfig(u"precedence.yaml"_s, yaml);

    QString error;
    const std::optional<ServerOptions> o = ServerOptions::parse(args, makeEnv(env), &error);
    QVERIFY2(o, qPrintable(error));
    QCOMPARE(o->port, 1111);
    QCOMPARE(o->configFile, args[1]);

    struct Expected
    {
        qint64 maxBody;
        QStringList proxies;
        LogLevel level;
    };
    const QHash<QString, Expected> table{
        {u"default"_s, {64 * 1024 * 1024, {u"127.0.0.0/8"_s, u"::1/128"_s}, LogLevel::Info}},
        {u"file"_s, {1024, {u"10.0.0.0/8"_s}, LogLevel::Debug}},
        {u"env"_s, {2048, {u"172.16.0.0/12"_s}, LogLevel::Warn}},
        {u"flag"_s, {3072, {u"192.168.0.0/16"_s}, LogLevel::Error}},
    };
    const Expected expected = table.value(expectedSource);
    QCOMPARE(o->maxBody, expected.maxBody);
    QCOMPARE(o->trustedProxies, expected.proxies);
    QCOMPARE(o->logLevel, expected.level);
}

void TestServerOptions::configFile()
{
    QDir(m_dir.path()).mkpath(u"etc"_s);
    const QString path = writeConfig(u"etc/patchwork.yaml"_s,
                                     "# every kind of value\n"
                                     "host: 127.0.0.1\n"
                                     "port: 9090\n"
                                     "data-dir: state\n"
                                     "users-dir: /srv/users\n"
                                     "max-body: 64MiB\n"
                                     "trusted-proxy: [10.0.0.0/8, \"fd00::/8\"]\n"
                                     "metrics-token: \"t0k3n\"\n"
                                     "metrics-public: true\n"
                                     "rate-limit: 0.5\n"
                                     "rate-burst: 3\n"
                                     "max-waiting-per-ip: 0\n"
                                     "max-wait: 1h30m\n"
                                     "upload-stall-timeout: 10\n"
                                     "idle-timeout: 2m\n"
                                     "reply-timeout: 0.25\n"
                                     "switch-timeout: 45s\n"
                                     "replay-count: 7\n"
                                     "replay-age: 30m\n"
                                     "replay-channel-bytes: 2KiB\n"
                                     "replay-total-bytes: 1GiB\n"
                                     "replay-store: journal/replay.db\n"
                                     "replay-store-sync: full\n"
                                     "log-level: WARN\n"
                                     "log-format: json\n");
    QString error;
    const std::optional<ServerOptions> o = ServerOptions::parse({u"--config="_s + path}, {}, &error);
    QVERIFY2(o, qPrintable(error));
    QCOMPARE(o->configFile, path);
    QCOMPARE(o->host.toString(), u"127.0.0.1"_s);
    QCOMPARE(o->port, 9090);
    QCOMPARE(o->dataDir, m_dir.filePath(u"etc/state"_s)); // relative to the file's directory
    QCOMPARE(o->usersDir, u"/srv/users"_s);
    QCOMPARE(o->maxBody, 64 * 1024 * 1024);
    QCOMPARE(o->trustedProxies, (QStringList{u"10.0.0.0/8"_s, u"fd00::/8"_s}));
    QCOMPARE(o->metricsToken, u"t0k3n"_s);
    QCOMPARE(o->metricsPublic, true);
    QCOMPARE(o->rateLimit, 0.5);
    QCOMPARE(o->rateBurst, 3);
    QCOMPARE(o->maxWaitingPerIp, 0);
    QCOMPARE(o->maxWaitMs, 90 * 60 * 1000);
    QCOMPARE(o->uploadStallTimeoutMs, 10'000);
    QCOMPARE(o->idleTimeoutMs, 120'000);
    QCOMPARE(o->replyTimeoutMs, 250);
    QCOMPARE(o->switchTimeoutMs, 45'000);
    QCOMPARE(o->replayCount, 7);
    QCOMPARE(o->replayAgeMs, 30 * 60 * 1000);
    QCOMPARE(o->replayChannelBytes, 2048);
    QCOMPARE(o->replayTotalBytes, qint64(1024) * 1024 * 1024);
    QCOMPARE(o->replayStore, m_dir.filePath(u"etc/journal/replay.db"_s)); // relative to the file's directory
    QCOMPARE(o->replayStoreSync, Patchwork::ReplayJournal::Sync::Full);
    QCOMPARE(o->logLevel, LogLevel::Warn);
    QCOMPARE(o->logFormat, LogFormat::Json);

    // Other list forms: a comma-separated scalar, and an empty list (trust nobody).
    const QString scalarList = writeConfig(u"scalar-list.yaml"_s, "trusted-proxy: 10.0.0.0/8, ::1\n");
    std::optional<ServerOptions> other = ServerOptions::parse({u"--config"_s, scalarList}, {}, &error);
    QVERIFY2(other, qPrintable(error));
    QCOMPARE(other->trustedProxies, (QStringList{u"10.0.0.0/8"_s, u"::1"_s}));
    const QString emptyList = writeConfig(u"empty-list.yaml"_s, "trusted-proxy: []\n");
    other = ServerOptions::parse({u"--config"_s, emptyList}, {}, &error);
    QVERIFY2(other, qPrintable(error));
    QCOMPARE(other->trustedProxies, QStringList());

    // An empty file sets nothing.
    const QString empty = writeConfig(u"empty.yaml"_s, "# nothing\n");
    other = ServerOptions::parse({u"--config"_s, empty}, {}, &error);
    QVERIFY2(other, qPrintable(error));
    QCOMPARE(other->maxBody, 64 * 1024 * 1024);
}

void TestServerOptions::configFileFromEnvironment()
{
    const QString fromEnv = writeConfig(u"env.yaml"_s, "port: 7001\n");
    const QString fromFlag = writeConfig(u"flag.yaml"_s, "port: 7002\n");

    QString error;
    std::optional<ServerOptions> o = ServerOptions::parse({}, makeEnv({u"PATCHWORK_CONFIG="_s + fromEnv}), &error);
    QVERIFY2(o, qPrintable(error));
    QCOMPARE(o->configFile, fromEnv);
    QCOMPARE(o->port, 7001);

    // --config replaces PATCHWORK_CONFIG: the env's file is not read at all.
    o = ServerOptions::parse(
        {u"--config"_s, fromFlag}, makeEnv({u"PATCHWORK_CONFIG="_s + m_dir.filePath(u"missing.yaml"_s)}), &error);
    QVERIFY2(o, qPrintable(error));
    QCOMPARE(o->configFile, fromFlag);
    QCOMPARE(o->port, 7002);
}

void TestServerOptions::repeatableTrustedProxy()
{
    QString error;
    const std::optional<ServerOptions> o = ServerOptions::parse({u"--trusted-proxy"_s,
                                                                 u"10.0.0.0/8"_s,
                                                                 u"--port"_s,
                                                                 u"1"_s,
                                                                 u"--trusted-proxy=192.168.1.1"_s,
                                                                 u"--trusted-proxy"_s,
                                                                 u"2001:db8::/32"_s},
                                                                makeEnv({u"PATCHWORK_TRUSTED_PROXY=172.16.0.0/12"_s}),
                                                                &error);
    QVERIFY2(o, qPrintable(error));
    // The flags' list replaces the environment's and the default, in the order given.
    QCOMPARE(o->trustedProxies, (QStringList{u"10.0.0.0/8"_s, u"192.168.1.1"_s, u"2001:db8::/32"_s}));
}

void TestServerOptions::environmentList()
{
    QString error;
    const std::optional<ServerOptions> o =
        ServerOptions::parse({}, makeEnv({u"PATCHWORK_TRUSTED_PROXY=10.0.0.0/8, 192.168.0.0/16 ,,::1"_s}), &error);
    QVERIFY2(o, qPrintable(error));
    QCOMPARE(o->trustedProxies, (QStringList{u"10.0.0.0/8"_s, u"192.168.0.0/16"_s, u"::1"_s}));
}

void TestServerOptions::unrelatedEnvironmentIgnored()
{
    // The bash client's variables share the prefix; they are not options.
    QString error;
    const std::optional<ServerOptions> o = ServerOptions::parse(
        {},
        makeEnv({u"PATCHWORK_URL=http://x"_s, u"PATCHWORK_TOKEN=t"_s, u"PATCHWORK_NS=public"_s, u"PATH=/bin"_s}),
        &error);
    QVERIFY2(o, qPrintable(error));
}

void TestServerOptions::errors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("env");
    QTest::addColumn<QByteArray>("config"); // written to bad.yaml and passed with --config when not empty
    QTest::addColumn<QString>("expected"); // a regular expression the message must match
    QTest::addColumn<QString>("forbidden"); // must not appear in the message (a secret)

    const QStringList none;
    const QByteArray noFile;
    const QString noSecret;

    QTest::addRow("unknown flag") << QStringList{u"--frobnicate"_s} << none << noFile
                                  << u"^unknown option '--frobnicate'"_s << noSecret;
    QTest::addRow("unknown flag with value")
        << QStringList{u"--password=hunter2"_s} << none << noFile << u"^unknown option '--password'"_s << u"hunter2"_s;
    QTest::addRow("single dash") << QStringList{u"-p"_s, u"80"_s} << none << noFile << u"unexpected argument '-p'"_s
                                 << noSecret;
    QTest::addRow("positional") << QStringList{u"serve"_s} << none << noFile << u"unexpected argument 'serve'"_s
                                << noSecret;
    QTest::addRow("env-only option as flag")
        << QStringList{u"--secret-key=abc"_s} << none << noFile << u"unknown option '--secret-key'"_s << u"abc"_s;
    QTest::addRow("missing value at end")
        << QStringList{u"--port"_s} << none << noFile << u"^missing value for --port$"_s << noSecret;
    QTest::addRow("empty value") << QStringList{u"--port="_s} << none << noFile << u"^missing value for --port$"_s
                                 << noSecret;
    QTest::addRow("empty token") << QStringList{u"--metrics-token="_s} << none << noFile
                                 << u"^missing value for --metrics-token$"_s << noSecret;
    QTest::addRow("port too big") << QStringList{u"--port"_s, u"70000"_s} << none << noFile
                                  << u"^invalid value for --port: '70000' \\(.*65535\\)$"_s << noSecret;
    QTest::addRow("node id with a dot") << QStringList{u"--node-id=web1.example"_s} << none << noFile
                                        << u"^invalid value for --node-id: 'web1.example' \\(expected"_s << noSecret;
    QTest::addRow("cluster url https") << QStringList{u"--cluster-url=https://proxy"_s} << none << noFile
                                       << u"^invalid value for --cluster-url: 'https://proxy' \\(expected an http URL"_s
                                       << noSecret;
    QTest::addRow("cluster url no host") << QStringList{u"--cluster-url=http://"_s} << none << noFile
                                         << u"^invalid value for --cluster-url: "_s << noSecret;
    QTest::addRow("node id too long") << QStringList{u"--node-id"_s, QString(65, u'n')} << none << noFile
                                      << u"^invalid value for --node-id: "_s << noSecret;
    QTest::addRow("port not a number") << QStringList{u"--port=http"_s} << none << noFile
                                       << u"^invalid value for --port: 'http'"_s << noSecret;
    QTest::addRow("host") << QStringList{u"--host"_s, u"999.1.1.1"_s} << none << noFile
                          << u"^invalid value for --host: '999.1.1.1'"_s << noSecret;
    QTest::addRow("size unit") << QStringList{u"--max-body"_s, u"12XB"_s} << none << noFile
                               << u"^invalid value for --max-body: '12XB' \\(expected a size"_s << noSecret;
    QTest::addRow("size zero") << QStringList{u"--max-body=0"_s} << none << noFile
                               << u"^invalid value for --max-body: '0' \\(must be greater than 0\\)$"_s << noSecret;
    QTest::addRow("replay store sync")
        << QStringList{u"--replay-store-sync"_s, u"always"_s} << none << noFile
        << u"^invalid value for --replay-store-sync: 'always' \\(expected normal or full\\)$"_s << noSecret;
    QTest::addRow("size negative") << QStringList{u"--replay-total-bytes=-1"_s} << none << noFile
                                   << u"^invalid value for --replay-total-bytes: '-1' \\(must not be negative\\)$"_s
                                   << noSecret;
    QTest::addRow("duration unit") << QStringList{u"--reply-timeout"_s, u"5x"_s} << none << noFile
                                   << u"^invalid value for --reply-timeout: '5x' \\(expected seconds"_s << noSecret;
    QTest::addRow("duration missing unit") << QStringList{u"--replay-age"_s, u"1h30"_s} << none << noFile
                                           << u"^invalid value for --replay-age: '1h30'"_s << noSecret;
    QTest::addRow("duration zero") << QStringList{u"--idle-timeout=0"_s} << none << noFile
                                   << u"^invalid value for --idle-timeout: '0' \\(must be greater than 0\\)$"_s
                                   << noSecret;
    QTest::addRow("duration negative") << QStringList{u"--max-wait=-5s"_s} << none << noFile
                                       << u"^invalid value for --max-wait: '-5s' \\(must not be negative\\)$"_s
                                       << noSecret;
    QTest::addRow("rate negative") << QStringList{u"--rate-limit"_s, u"-1"_s} << none << noFile
                                   << u"^invalid value for --rate-limit: '-1'"_s << noSecret;
    QTest::addRow("rate infinite") << QStringList{u"--rate-limit"_s, u"inf"_s} << none << noFile
                                   << u"^invalid value for --rate-limit: 'inf'"_s << noSecret;
    QTest::addRow("burst zero") << QStringList{u"--rate-burst"_s, u"0"_s} << none << noFile
                                << u"^invalid value for --rate-burst: '0' \\(must be at least 1\\)$"_s << noSecret;
    QTest::addRow("burst fraction") << QStringList{u"--rate-burst"_s, u"1.5"_s} << none << noFile
                                    << u"^invalid value for --rate-burst: '1.5' \\(expected a whole number\\)$"_s
                                    << noSecret;
    QTest::addRow("waiting negative") << QStringList{u"--max-waiting-per-ip=-3"_s} << none << noFile
                                      << u"^invalid value for --max-waiting-per-ip: '-3'"_s << noSecret;
    QTest::addRow("bool") << QStringList{u"--metrics-public=maybe"_s} << none << noFile
                          << u"^invalid value for --metrics-public: 'maybe' \\(expected true or false\\)$"_s
                          << noSecret;
    QTest::addRow("bool takes no separate value") << QStringList{u"--metrics-public"_s, u"false"_s} << none << noFile
                                                  << u"^unexpected argument 'false'"_s << noSecret;
    QTest::addRow("log level")
        << QStringList{u"--log-level"_s, u"verbose"_s} << none << noFile
        << u"^invalid value for --log-level: 'verbose' \\(expected DEBUG, INFO, WARN or ERROR\\)$"_s << noSecret;
    QTest::addRow("log format") << QStringList{u"--log-format=xml"_s} << none << noFile
                                << u"^invalid value for --log-format: 'xml' \\(expected text or json\\)$"_s << noSecret;
    QTest::addRow("tunnel local targets")
        << QStringList{u"--tunnel-local-targets=yes"_s} << none << noFile
        << u"^invalid value for --tunnel-local-targets: 'yes' \\(expected literal, deny or allow\\)$"_s << noSecret;
    QTest::addRow("trusted proxy prefix") << QStringList{u"--trusted-proxy"_s, u"10.0.0.0/33"_s} << none << noFile
                                          << u"^invalid value for --trusted-proxy: '10.0.0.0/33'"_s << noSecret;
    QTest::addRow("trusted proxy second flag")
        << QStringList{u"--trusted-proxy=::1"_s, u"--trusted-proxy=bogus"_s} << none << noFile
        << u"^invalid value for --trusted-proxy: 'bogus'"_s << noSecret;

    QTest::addRow("env size") << QStringList{} << QStringList{u"PATCHWORK_MAX_BODY=huge"_s} << noFile
                              << u"^invalid value for PATCHWORK_MAX_BODY: 'huge'"_s << noSecret;
    QTest::addRow("env list") << QStringList{} << QStringList{u"PATCHWORK_TRUSTED_PROXY=10.0.0.0/8,bogus"_s} << noFile
                              << u"^invalid value for PATCHWORK_TRUSTED_PROXY: 'bogus'"_s << noSecret;
    QTest::addRow("env LOG_LEVEL") << QStringList{} << QStringList{u"LOG_LEVEL=loud"_s} << noFile
                                   << u"^invalid value for LOG_LEVEL: 'loud'"_s << noSecret;
    QTest::addRow("env bad even if a flag overrides")
        << QStringList{u"--port=1"_s} << QStringList{u"PATCHWORK_PORT=x"_s} << noFile
        << u"^invalid value for PATCHWORK_PORT: 'x'"_s << noSecret;
    QTest::addRow("env FORGEJO_URL scheme")
        << QStringList{} << QStringList{u"FORGEJO_URL=ftp://forge.example"_s} << noFile
        << u"^invalid value for FORGEJO_URL: 'ftp://forge.example'"_s << noSecret;
    QTest::addRow("env FORGEJO_URL no user info")
        << QStringList{} << QStringList{u"FORGEJO_URL=ftp://bob:pa55@forge.example"_s} << noFile
        << u"^invalid value for FORGEJO_URL"_s << u"pa55"_s;
    QTest::addRow("env ACL_TTL") << QStringList{} << QStringList{u"ACL_TTL=soon"_s} << noFile
                                 << u"^invalid value for ACL_TTL: 'soon'"_s << noSecret;
    QTest::addRow("env LOG_SOURCE") << QStringList{} << QStringList{u"LOG_SOURCE=perhaps"_s} << noFile
                                    << u"^invalid value for LOG_SOURCE: 'perhaps'"_s << noSecret;

    QTest::addRow("config unknown key") << QStringList{} << none << "port: 1\nmax_body: 1\n"_ba
                                        << u"bad\\.yaml:2: unknown key 'max_body'$"_s << noSecret;
    QTest::addRow("config key config") << QStringList{} << none << "config: other.yaml\n"_ba
                                       << u"bad\\.yaml:1: unknown key 'config'$"_s << noSecret;
    QTest::addRow("config bad value")
        << QStringList{} << none << "port: 1\nrate-burst: zero\n"_ba
        << u"bad\\.yaml:2: invalid value for rate-burst: 'zero' \\(expected a whole number\\)$"_s << noSecret;
    QTest::addRow("config bad list entry") << QStringList{} << none << "trusted-proxy:\n  - ::1\n  - nope\n"_ba
                                           << u"bad\\.yaml:1: invalid value for trusted-proxy: 'nope'"_s << noSecret;
    QTest::addRow("config null") << QStringList{} << none << "max-body:\n"_ba
                                 << u"bad\\.yaml:1: missing value for max-body$"_s << noSecret;
    QTest::addRow("config map value") << QStringList{} << none << "max-body: {a: 1}\n"_ba
                                      << u"bad\\.yaml:1: invalid value for max-body: expected a single value$"_s
                                      << noSecret;
    QTest::addRow("config token list") << QStringList{} << none << "metrics-token: [hunter2]\n"_ba
                                       << u"bad\\.yaml:1: invalid value for metrics-token: expected a single value$"_s
                                       << u"hunter2"_s;
    QTest::addRow("config not a map") << QStringList{} << none << "- port\n"_ba << u"bad\\.yaml:1: expected a map"_s
                                      << noSecret;
    QTest::addRow("config broken yaml") << QStringList{} << none << "port: 1\nmax-body: [1\n"_ba
                                        << u"bad\\.yaml:\\d+: invalid YAML: "_s << noSecret;
    QTest::addRow("config missing") << QStringList{u"--config"_s, u"/nonexistent/patchwork.yaml"_s} << none << noFile
                                    << u"^cannot read config file /nonexistent/patchwork\\.yaml: "_s << noSecret;
}

void TestServerOptions::errors()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, env);
    QFETCH(QByteArray, config);
    QFETCH(QString, expected);
    QFETCH(QString, forbidden);

    if (!config.isEmpty()) {
        args << u"--config"_s << writeConfig(u"bad.yaml"_s, config);
    }
    QString error;
    const std::optional<ServerOptions> o = ServerOptions::parse(args, makeEnv(env), &error);
    QVERIFY(!o);
    QVERIFY2(QRegularExpression(expected).match(error).hasMatch(), qPrintable(error));
    QVERIFY2(!error.contains(u'\n'), qPrintable(error));
    if (!forbidden.isEmpty()) {
        QVERIFY2(!error.contains(forbidden), qPrintable(error));
    }
}

void TestServerOptions::help()
{
    for (const QString &flag : {u"--help"_s, u"-h"_s}) {
        const std::optional<ServerOptions> o = ServerOptions::parse({u"--port=1"_s, flag}, {});
        QVERIFY(o);
        QVERIFY(o->showHelp);
    }
    const QString usage = ServerOptions::usage();
    QVERIFY(usage.endsWith(u'\n'));
    QVERIFY(usage.startsWith(u"Usage: patchworkd"_s));
    // Every option of PROTOCOL §15 is documented, and each documented flag is accepted.
    const QStringList flags{u"--host"_s,
                            u"--port"_s,
                            u"--config"_s,
                            u"--data-dir"_s,
                            u"--users-dir"_s,
                            u"--max-body"_s,
                            u"--trusted-proxy"_s,
                            u"--metrics-token"_s,
                            u"--metrics-public"_s,
                            u"--rate-limit"_s,
                            u"--rate-burst"_s,
                            u"--max-waiting-per-ip"_s,
                            u"--max-wait"_s,
                            u"--upload-stall-timeout"_s,
                            u"--idle-timeout"_s,
                            u"--tunnel-idle-timeout"_s,
                            u"--tunnel-local-targets"_s,
                            u"--reply-timeout"_s,
                            u"--switch-timeout"_s,
                            u"--replay-count"_s,
                            u"--replay-age"_s,
                            u"--replay-channel-bytes"_s,
                            u"--replay-total-bytes"_s,
                            u"--head-timeout"_s,
                            u"--max-connections"_s,
                            u"--max-connections-per-ip"_s,
                            u"--max-buffered-bytes"_s,
                            u"--max-stream-body"_s,
                            u"--max-waiting-per-user"_s,
                            u"--log-level"_s,
                            u"--log-format"_s,
                            u"--node-id"_s,
                            u"--cluster-url"_s};
    for (const QString &flag : flags) {
        QVERIFY2(usage.contains(u"  "_s + flag + u' '), qPrintable(flag));
        QString error;
        ServerOptions::parse({flag + u"=x"_s}, {}, &error);
        QVERIFY2(!error.startsWith(u"unknown option"_s), qPrintable(error));
    }
    for (const QString &variable : {u"SECRET_KEY"_s,
                                    u"FORGEJO_URL"_s,
                                    u"FORGEJO_TOKEN"_s,
                                    u"ACL_TTL"_s,
                                    u"METRICS_TOKEN"_s,
                                    u"LOG_LEVEL"_s,
                                    u"LOG_SOURCE"_s,
                                    u"PATCHWORK_CONFIG"_s}) {
        QVERIFY2(usage.contains(variable), qPrintable(variable));
    }
}

QTEST_GUILESS_MAIN(TestServerOptions)
#include "tst_serveroptions.moc"
