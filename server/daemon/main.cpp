// SPDX-License-Identifier: MIT
// patchworkd: the headless relay daemon.
#include <QCoreApplication>
#include <QProcessEnvironment>

#include <cstdio>

#include "daemon/checkconfig.h"
#include "daemon/filelimit.h"
#include "daemon/healthcheck.h"
#include "daemon/logsink.h"
#include "daemon/serveroptions.h"
#include "daemon/tunnelclient.h"
#include "daemon/unixsignals.h"
#include "http/serverlogging.h"
#include "relay/relay.h"
#include "util/clock.h"

using namespace Patchwork;
using namespace Patchwork::Server;

namespace
{

RelayServer::Settings relaySettings(const ServerOptions &o, qint64 fileLimit)
{
    RelayServer::Settings s;
    s.limits.maxBody = o.maxBody;
    s.limits.maxStreamBody = o.maxStreamBody;
    s.limits.uploadStallMs = o.uploadStallTimeoutMs;
    s.limits.idleMs = o.idleTimeoutMs;
    s.limits.lingerMs = o.lingerTimeoutMs;
    s.limits.headTimeoutMs = o.headTimeoutMs;
    s.limits.maxBufferedBytes = o.maxBufferedBytes;
    s.limits.connections.maxTotal = o.maxConnections > 0 ? o.maxConnections : defaultMaxConnections(fileLimit);
    s.limits.connections.maxPerIp = o.maxConnectionsPerIp;
    s.hub.replyTimeoutMs = o.replyTimeoutMs;
    s.hub.switchTimeoutMs = o.switchTimeoutMs;
    s.hub.maxWaitMs = o.maxWaitMs;
    s.tunnel.idleTimeoutMs = o.tunnelIdleTimeoutMs;
    s.tunnel.localTargets = o.tunnelLocalTargets;
    s.hub.replay = {o.replayCount, o.replayAgeMs, o.replayChannelBytes, o.replayTotalBytes};
    s.hub.nodeId = o.nodeId.toLatin1();
    s.clusterUrl = o.clusterUrl;
    return s;
}

AccessGate::Settings accessSettings(const ServerOptions &o)
{
    AccessGate::Settings s;
    if (const std::optional<TrustedProxies> proxies = TrustedProxies::parse(o.trustedProxies)) {
        s.trustedProxies = *proxies; // validated by ServerOptions::parse()
    }
    s.rateLimit.ratePerSecond = o.rateLimit;
    s.rateLimit.burst = o.rateBurst;
    s.rateLimit.maxWaiting = o.maxWaitingPerIp;
    s.metricsToken = o.metricsToken.toUtf8();
    s.metricsPublic = o.metricsPublic;
    s.limitLoopback = o.rateLimitLoopback;
    s.maxWaitingPerUser = o.maxWaitingPerUser;
    return s;
}

RelaySettings relaySettingsOf(const ServerOptions &o, qint64 fileLimit)
{
    RelaySettings s;
    s.host = o.host;
    s.port = o.port;
    s.dataDir = o.dataDir;
    s.secretKey = o.secretKey;
    s.usersDir = o.usersDir;
    s.forgejoUrl = o.forgejoUrl;
    s.forgejoToken = o.forgejoToken.toUtf8();
    s.aclTtlMs = o.aclTtlMs;
    s.server = relaySettings(o, fileLimit);
    s.access = accessSettings(o);
    s.replayStore = o.replayStore.value_or(QString());
    s.replayStoreSync = o.replayStoreSync;
    return s;
}

int fail(const QString &message)
{
    std::fprintf(stderr, "patchworkd: %s\n", qPrintable(message));
    return 2;
}

int runDaemon(QCoreApplication &app, const QStringList &args)
{
    const QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    QString error;
    std::optional<ServerOptions> options = ServerOptions::parse(args, env, &error);
    if (!options) {
        return fail(error);
    }
    if (options->showHelp) {
        std::fputs(qPrintable(ServerOptions::usage()), stdout);
        return 0;
    }

    SystemClock clock;
    LogSink sink(&clock);
    sink.setLevel(options->logLevel);
    sink.setFormat(options->logFormat);
    sink.setIncludeSource(options->logSource);
    sink.install();

    const qint64 fileLimit = raiseFileLimit();
    UnixSignals signals;
    Relay relay(&clock);
    relay.setSettings(relaySettingsOf(*options, fileLimit));
    if (!relay.start()) {
        return 1; // logged by the relay
    }
    qCInfo(lcServer).noquote() << "Patchwork listening on"
                               << QStringLiteral("http://%1:%2").arg(options->host.toString()).arg(relay.port());

    QObject::connect(&signals, &UnixSignals::terminateRequested, &relay, [&relay](int) { relay.stop(); });
    QObject::connect(&relay, &Relay::stopped, &app, [&app]() {
        qCInfo(lcServer) << "stopped";
        app.quit();
    });
    QObject::connect(&signals, &UnixSignals::reloadRequested, &relay, [&]() {
        QString reloadError;
        const std::optional<ServerOptions> fresh = ServerOptions::parse(args, env, &reloadError);
        if (!fresh) {
            qCWarning(lcServer).noquote() << "reload failed, keeping the running configuration:" << reloadError;
            return;
        }
        relay.setSettings(relaySettingsOf(*fresh, fileLimit));
        relay.reloadConfigs();
        sink.setLevel(fresh->logLevel);
        sink.setFormat(fresh->logFormat);
        qCInfo(lcServer) << "configuration reloaded";
    });
    return app.exec();
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("patchwork"));
    QCoreApplication::setApplicationVersion(QStringLiteral(PATCHWORK_VERSION));
    QStringList args = app.arguments().mid(1);
    if (args.size() == 1 && args.first() == u"--version") {
        args = {QStringLiteral("version")};
    }
    const QString command =
        args.isEmpty() || args.first().startsWith(u'-') ? QStringLiteral("start") : args.takeFirst();
    if (command == u"start" || command == u"s") { // `s`: the original's alias
        return runDaemon(app, args);
    }
    if (command == u"healthcheck") {
        return runHealthcheck(args);
    }
    if (command == u"check-config") {
        return runCheckConfig(args);
    }
    if (command == u"tunnel") {
        return runTunnel(args);
    }
    if (command == u"help") {
        std::fputs(qPrintable(ServerOptions::usage()), stdout);
        return 0;
    }
    if (command == u"version") {
        std::printf("patchworkd %s\n", PATCHWORK_VERSION);
        return 0;
    }
    return fail(QStringLiteral("unknown command '%1' (try: start, healthcheck, check-config, tunnel, help, version)")
                    .arg(command));
}
