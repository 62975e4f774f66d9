// SPDX-License-Identifier: MIT
// patchworkd: the headless relay daemon.
#include <QCoreApplication>
#include <QProcessEnvironment>

#include <cstdio>

#include "clock.h"
#include "healthcheck.h"
#include "logsink.h"
#include "relayserver.h"
#include "serverlogging.h"
#include "serveroptions.h"
#include "unixsignals.h"

using namespace Patchwork;
using namespace Patchwork::Server;

namespace
{

RelayServer::Settings relaySettings(const ServerOptions &o)
{
    RelayServer::Settings s;
    s.limits.maxBody = o.maxBody;
    s.limits.uploadStallMs = o.uploadStallTimeoutMs;
    s.limits.idleMs = o.idleTimeoutMs;
    s.hub.replyTimeoutMs = o.replyTimeoutMs;
    s.hub.switchTimeoutMs = o.switchTimeoutMs;
    s.hub.maxWaitMs = o.maxWaitMs;
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

    UnixSignals signals;
    RelayServer relay(&clock);
    relay.setSettings(relaySettings(*options));
    if (!relay.listen(options->host, options->port, &error)) {
        qCCritical(lcServer).noquote() << "cannot listen on" << options->host.toString() << options->port << ":"
                                       << error;
        return 1;
    }
    qCInfo(lcServer).noquote() << "Patchwork listening on"
                               << QStringLiteral("http://%1:%2").arg(options->host.toString()).arg(relay.port());

    QObject::connect(&signals, &UnixSignals::terminateRequested, &relay, [&relay](int) { relay.shutdown(10'000); });
    QObject::connect(&relay, &RelayServer::stopped, &app, [&app]() {
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
        if (fresh->host != options->host || fresh->port != options->port) {
            qCWarning(lcServer) << "a new host or port takes effect only after a restart";
        }
        relay.setSettings(relaySettings(*fresh));
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
    const QString command =
        args.isEmpty() || args.first().startsWith(u'-') ? QStringLiteral("start") : args.takeFirst();
    if (command == u"start") {
        return runDaemon(app, args);
    }
    if (command == u"healthcheck") {
        return runHealthcheck(args);
    }
    if (command == u"help") {
        std::fputs(qPrintable(ServerOptions::usage()), stdout);
        return 0;
    }
    if (command == u"version") {
        std::printf("patchworkd %s\n", PATCHWORK_VERSION);
        return 0;
    }
    return fail(QStringLiteral("unknown command '%1' (try: start, healthcheck, help)").arg(command));
}
