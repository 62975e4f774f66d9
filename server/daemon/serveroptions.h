// SPDX-License-Identifier: MIT
#pragma once

#include <optional>

#include <QByteArray>
#include <QCoreApplication>
#include <QHostAddress>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <QUrl>

#include "access/clientaddress.h"
#include "daemon/logsink.h"
#include "http/bodybudget.h"
#include "journal/replayjournal.h"
#include "tunnel/tunneltarget.h"

namespace Patchwork::Server
{

// The daemon's settings (PROTOCOL §13–§15), typed and with their defaults.
//
// Sources, highest precedence first:
//   1. flags: `--max-body 1MiB` or `--max-body=1MiB`; `--trusted-proxy` may be repeated; a bool flag
//      alone means true (`--metrics-public`), or takes `=true|false`;
//   2. environment: `PATCHWORK_<OPTION>` (upper case, dashes as underscores: PATCHWORK_MAX_BODY), lists
//      comma-separated (PATCHWORK_TRUSTED_PROXY=10.0.0.0/8,::1); except `METRICS_TOKEN` and `LOG_LEVEL`,
//      which keep the original's names. Empty variables count as unset;
//   3. the YAML config file (`--config FILE`, else PATCHWORK_CONFIG): a map whose keys are the option
//      names without the dashes (`max-body: 64MiB`, `trusted-proxy: [10.0.0.0/8]`,
//      `metrics-public: true`); relative paths in it are relative to the file's directory;
//   4. the defaults below.
// SECRET_KEY, FORGEJO_URL, FORGEJO_TOKEN, ACL_TTL and LOG_SOURCE come from the environment only.
//
// parse() is pure (it reads only its arguments and the config file), so a reload (SIGHUP) is simply
// another parse() with the same arguments.
struct ServerOptions
{
    Q_DECLARE_TR_FUNCTIONS(ServerOptions)

public:
    QHostAddress host{QHostAddress::AnyIPv4}; // an IP literal; `localhost` means 127.0.0.1
    quint16 port = 8080; // 0 = any free port
    QString configFile; // empty = none
    // Default: $STATE_DIRECTORY (its first entry; systemd's StateDirectory=), else
    // QStandardPaths::GenericDataLocation + "/patchwork" (~/.local/share/patchwork on Linux).
    QString dataDir;
    QString usersDir; // default <dataDir>/users
    qint64 maxBody = qint64(64) * 1024 * 1024;
    qint64 maxStreamBody = -1; // bodies above maxBody are streamed up to this; -1 = no limit, 0 = 413
    QStringList trustedProxies = TrustedProxies::defaultCidrs(); // validated (TrustedProxies::parse)
    QString metricsToken; // empty = none
    bool metricsPublic = false;
    bool rateLimitLoopback = false; // limit clients whose (resolved) address is loopback too
    double rateLimit = 10.0; // requests per second and client; 0 disables
    int rateBurst = 20; // >= 1
    int maxWaitingPerIp = 256; // 0 disables
    qint64 maxWaitMs = 0; // 0 = no server-wide bound
    qint64 uploadStallTimeoutMs = 30'000; // > 0
    qint64 idleTimeoutMs = 120'000; // > 0
    qint64 lingerTimeoutMs = 5'000; // lingering close after a refused request; 0 = close at once
    qint64 tunnelIdleTimeoutMs = qint64(3600) * 1000; // no tunnel data either way (PROTOCOL §11); 0 = none
    LocalTargets tunnelLocalTargets = LocalTargets::Literal; // tunnels to loopback and link-local addresses
    qint64 replyTimeoutMs = 60'000; // > 0
    qint64 switchTimeoutMs = 30'000; // > 0
    int replayCount = 100; // 0 disables replay
    qint64 replayAgeMs = qint64(12) * 3600 * 1000; // 0 disables replay
    qint64 replayChannelBytes = qint64(1024) * 1024; // 0 disables replay
    qint64 replayTotalBytes = qint64(64) * 1024 * 1024; // 0 disables replay
    // The replay journal's file, set by parse(): default <dataDir>/replay.sqlite; empty = `none`.
    std::optional<QString> replayStore;
    ReplayJournal::Sync replayStoreSync = ReplayJournal::Sync::Normal;
    // Resource limits (docs/DECISIONS.md "Hardening: resource limits").
    qint64 headTimeoutMs = 30'000; // > 0
    int maxConnections = 0; // 0 = automatic: 3/4 of the descriptor limit
    int maxConnectionsPerIp = 512; // 0 disables
    qint64 maxBufferedBytes = BodyBudget::defaultCapacity(); // 0 disables
    int maxWaitingPerUser = 1024; // 0 disables
    LogLevel logLevel = LogLevel::Info;
    LogFormat logFormat = LogFormat::Text;
    // This daemon's name among several behind a proxy (installer/cluster/): in every Patch-Id and in
    // Patch-Node. [A-Za-z0-9_-]{1,64}; default defaultNodeId(host name, port).
    QString nodeId;
    // The front proxy (http://host:port), for double clutches whose switch channel another node owns;
    // empty = none (one node, or switch channels always on the requester's node).
    QUrl clusterUrl;

    // Environment only.
    QByteArray secretKey; // SECRET_KEY, raw bytes; empty = use/create <dataDir>/secret_key
    QUrl forgejoUrl; // FORGEJO_URL without a trailing slash; empty = no Forgejo source
    QString forgejoToken; // FORGEJO_TOKEN
    qint64 aclTtlMs = 5 * 60 * 1000; // ACL_TTL (Go duration or seconds); <= 0 means 0: always refetch
    bool logSource = false; // LOG_SOURCE

    bool showHelp = false; // --help / -h was given: print usage() and exit 0

    // `arguments` are the words after `patchworkd [start]` (neither argv[0] nor `start`).
    // On error returns nullopt and one line in *error naming the option (flag, variable or
    // file:line: key) and the bad value; values of secret options are never repeated.
    static std::optional<ServerOptions>
    parse(const QStringList &arguments, const QProcessEnvironment &env, QString *error = nullptr);

    // The text of `patchworkd --help`, ending in a newline.
    static QString usage();
    // The default node id: the host name's first label (other characters than [A-Za-z0-9_-] as '_', at
    // most 48 of them, "node" if none), '-', the port.
    static QString defaultNodeId(const QString &hostName, quint16 port);
};

} // namespace Patchwork::Server
