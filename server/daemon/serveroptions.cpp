// SPDX-License-Identifier: MIT
#include "daemon/serveroptions.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>
#include <QSysInfo>

#include <yaml-cpp/yaml.h>

#include "util/duration.h"

using namespace Qt::StringLiterals;

namespace Patchwork::Server
{

namespace
{

enum class Id
{
    Host,
    Port,
    Config,
    DataDir,
    UsersDir,
    MaxBody,
    MaxStreamBody,
    TrustedProxy,
    MetricsToken,
    MetricsPublic,
    RateLimitLoopback,
    RateLimit,
    RateBurst,
    MaxWaitingPerIp,
    MaxWait,
    UploadStallTimeout,
    IdleTimeout,
    LingerTimeout,
    TunnelIdleTimeout,
    TunnelLocalTargets,
    ReplyTimeout,
    SwitchTimeout,
    ReplayCount,
    ReplayAge,
    ReplayChannelBytes,
    ReplayTotalBytes,
    ReplayStore,
    ReplayStoreSync,
    HeadTimeout,
    MaxConnections,
    MaxConnectionsPerIp,
    MaxBufferedBytes,
    MaxWaitingPerUser,
    LogLevel,
    LogFormat,
    NodeId,
    ClusterUrl
};

enum class Kind
{
    Host,
    Port,
    Path,
    Secret, // any non-empty string, never repeated in messages
    Bool,
    Double, // >= 0
    Int, // >= min
    Size, // bytes, >= min
    Duration, // milliseconds, >= min
    List, // trusted proxies
    Level,
    Format,
    LocalTargets,
    Store, // a path, or `none`
    Sync,
    Name, // [A-Za-z0-9_-]{1,64}
    Url // http://host[:port][/path]
};

struct Option
{
    Id id;
    QStringView name; // flag without "--", config key
    Kind kind;
    qint64 min = 0; // Int, Size, Duration
    QStringView env = {}; // empty: PATCHWORK_<NAME>
    bool inConfigFile = true;
};

constexpr Option OPTIONS[] = {
    {Id::Host, u"host", Kind::Host},
    {Id::Port, u"port", Kind::Port},
    {Id::Config, u"config", Kind::Path, 0, {}, false},
    {Id::DataDir, u"data-dir", Kind::Path},
    {Id::UsersDir, u"users-dir", Kind::Path},
    {Id::MaxBody, u"max-body", Kind::Size, 1},
    {Id::MaxStreamBody, u"max-stream-body", Kind::Size},
    {Id::TrustedProxy, u"trusted-proxy", Kind::List},
    {Id::MetricsToken, u"metrics-token", Kind::Secret, 0, u"METRICS_TOKEN"},
    {Id::MetricsPublic, u"metrics-public", Kind::Bool},
    {Id::RateLimitLoopback, u"rate-limit-loopback", Kind::Bool},
    {Id::RateLimit, u"rate-limit", Kind::Double},
    {Id::RateBurst, u"rate-burst", Kind::Int, 1},
    {Id::MaxWaitingPerIp, u"max-waiting-per-ip", Kind::Int},
    {Id::MaxWait, u"max-wait", Kind::Duration},
    {Id::UploadStallTimeout, u"upload-stall-timeout", Kind::Duration, 1},
    {Id::IdleTimeout, u"idle-timeout", Kind::Duration, 1},
    {Id::LingerTimeout, u"linger-timeout", Kind::Duration},
    {Id::TunnelIdleTimeout, u"tunnel-idle-timeout", Kind::Duration},
    {Id::TunnelLocalTargets, u"tunnel-local-targets", Kind::LocalTargets},
    {Id::ReplyTimeout, u"reply-timeout", Kind::Duration, 1},
    {Id::SwitchTimeout, u"switch-timeout", Kind::Duration, 1},
    {Id::ReplayCount, u"replay-count", Kind::Int},
    {Id::ReplayAge, u"replay-age", Kind::Duration},
    {Id::ReplayChannelBytes, u"replay-channel-bytes", Kind::Size},
    {Id::ReplayTotalBytes, u"replay-total-bytes", Kind::Size},
    {Id::ReplayStore, u"replay-store", Kind::Store},
    {Id::ReplayStoreSync, u"replay-store-sync", Kind::Sync},
    {Id::HeadTimeout, u"head-timeout", Kind::Duration, 1},
    {Id::MaxConnections, u"max-connections", Kind::Int},
    {Id::MaxConnectionsPerIp, u"max-connections-per-ip", Kind::Int},
    {Id::MaxBufferedBytes, u"max-buffered-bytes", Kind::Size},
    {Id::MaxWaitingPerUser, u"max-waiting-per-user", Kind::Int},
    {Id::LogLevel, u"log-level", Kind::Level, 0, u"LOG_LEVEL"},
    {Id::LogFormat, u"log-format", Kind::Format},
    {Id::NodeId, u"node-id", Kind::Name},
    {Id::ClusterUrl, u"cluster-url", Kind::Url},
};

const Option *findOption(QStringView name)
{
    for (const Option &option : OPTIONS) {
        if (option.name == name) {
            return &option;
        }
    }
    return nullptr;
}

QString envName(const Option &option)
{
    if (!option.env.isEmpty()) {
        return option.env.toString();
    }
    QString name = u"PATCHWORK_"_s + option.name.toString().toUpper();
    name.replace(u'-', u'_');
    return name;
}

// One value as it came from one source.
struct Value
{
    QStringList items; // one item, except for lists
    QString origin; // "--max-body", "PATCHWORK_MAX_BODY", "max-body" (config file)
    QString location; // "" or, in a config file, "/etc/patchwork.yaml:3: "
    QString baseDir; // for relative paths; empty = the working directory
};

QString invalid(const Option &option, const Value &value, const QString &expected)
{
    if (option.kind == Kind::Secret) {
        return value.location + ServerOptions::tr("invalid value for %1 (%2)").arg(value.origin, expected);
    }
    return value.location
           + ServerOptions::tr("invalid value for %1: '%2' (%3)").arg(value.origin, value.items.value(0), expected);
}

std::optional<bool> parseBool(QStringView text)
{
    text = text.trimmed();
    for (const QStringView yes : {u"true", u"yes", u"on", u"1"}) {
        if (text.compare(yes, Qt::CaseInsensitive) == 0) {
            return true;
        }
    }
    for (const QStringView no : {u"false", u"no", u"off", u"0"}) {
        if (text.compare(no, Qt::CaseInsensitive) == 0) {
            return false;
        }
    }
    return std::nullopt;
}

std::optional<QHostAddress> parseHost(QStringView text)
{
    text = text.trimmed();
    if (text.compare(u"localhost", Qt::CaseInsensitive) == 0) {
        return QHostAddress(QHostAddress::LocalHost);
    }
    if (text.size() > 2 && text.front() == u'[' && text.back() == u']') {
        text = text.sliced(1, text.size() - 2);
    }
    QHostAddress address;
    if (text.isEmpty() || !address.setAddress(text.toString())) {
        return std::nullopt;
    }
    return address;
}

QString absolutePath(const QString &path, const QString &baseDir)
{
    if (baseDir.isEmpty()) {
        return QDir::cleanPath(QFileInfo(path).absoluteFilePath());
    }
    return QDir::cleanPath(QDir(baseDir).absoluteFilePath(path));
}

// A node id becomes part of message ids (PROTOCOL §4.1: letters, digits, '-' and '_').
bool isNodeIdChar(QChar ch)
{
    return (ch >= u'a' && ch <= u'z') || (ch >= u'A' && ch <= u'Z') || (ch >= u'0' && ch <= u'9') || ch == u'-'
           || ch == u'_';
}

QString describeMin(Kind kind, qint64 min)
{
    if (min <= 0) {
        return ServerOptions::tr("must not be negative");
    }
    if (kind == Kind::Duration || kind == Kind::Size) {
        return ServerOptions::tr("must be greater than 0");
    }
    return ServerOptions::tr("must be at least %1").arg(min);
}

bool apply(ServerOptions &options, const Option &option, const Value &value, QString *error)
{
    const QString text = value.items.value(0).trimmed();
    const auto fail = [&](const QString &expected) {
        *error = invalid(option, value, expected);
        return false;
    };
    if (option.kind != Kind::List && text.isEmpty()) {
        *error = value.location + ServerOptions::tr("missing value for %1").arg(value.origin);
        return false;
    }

    switch (option.kind) {
    case Kind::Host: {
        const std::optional<QHostAddress> host = parseHost(text);
        if (!host) {
            return fail(ServerOptions::tr("expected an IP address such as 0.0.0.0, :: or 127.0.0.1"));
        }
        options.host = *host;
        return true;
    }
    case Kind::Port: {
        bool ok = false;
        const int port = text.toInt(&ok);
        if (!ok || port < 0 || port > 65535) {
            return fail(ServerOptions::tr("expected a port number from 0 to 65535"));
        }
        options.port = quint16(port);
        return true;
    }
    case Kind::Path: {
        const QString path = absolutePath(text, value.baseDir);
        if (option.id == Id::Config) {
            options.configFile = path;
        } else if (option.id == Id::DataDir) {
            options.dataDir = path;
        } else {
            options.usersDir = path;
        }
        return true;
    }
    case Kind::Secret:
        options.metricsToken = text;
        return true;
    case Kind::Bool: {
        const std::optional<bool> flag = parseBool(text);
        if (!flag) {
            return fail(ServerOptions::tr("expected true or false"));
        }
        (option.id == Id::MetricsPublic ? options.metricsPublic : options.rateLimitLoopback) = *flag;
        return true;
    }
    case Kind::Double: {
        bool ok = false;
        const double number = text.toDouble(&ok);
        if (!ok || !std::isfinite(number) || number < 0) {
            return fail(ServerOptions::tr("expected a number of requests per second, 0 or more"));
        }
        options.rateLimit = number;
        return true;
    }
    case Kind::Int: {
        bool ok = false;
        const qint64 number = text.toLongLong(&ok);
        if (!ok || number > std::numeric_limits<int>::max()) {
            return fail(ServerOptions::tr("expected a whole number"));
        }
        if (number < option.min) {
            return fail(describeMin(option.kind, option.min));
        }
        const int n = int(number);
        switch (option.id) {
        case Id::RateBurst:
            options.rateBurst = n;
            break;
        case Id::MaxWaitingPerIp:
            options.maxWaitingPerIp = n;
            break;
        case Id::MaxConnections:
            options.maxConnections = n;
            break;
        case Id::MaxConnectionsPerIp:
            options.maxConnectionsPerIp = n;
            break;
        case Id::MaxWaitingPerUser:
            options.maxWaitingPerUser = n;
            break;
        default:
            options.replayCount = n;
            break;
        }
        return true;
    }
    case Kind::Size: {
        if (text.startsWith(u'-')) {
            return fail(describeMin(option.kind, option.min));
        }
        const std::optional<qint64> bytes = parseSize(text);
        if (!bytes) {
            return fail(ServerOptions::tr("expected a size such as 65536, 512KiB, 64MiB or 1GiB"));
        }
        if (*bytes < option.min) {
            return fail(describeMin(option.kind, option.min));
        }
        if (option.id == Id::MaxBody) {
            options.maxBody = *bytes;
        } else if (option.id == Id::MaxStreamBody) {
            options.maxStreamBody = *bytes;
        } else if (option.id == Id::MaxBufferedBytes) {
            options.maxBufferedBytes = *bytes;
        } else if (option.id == Id::ReplayChannelBytes) {
            options.replayChannelBytes = *bytes;
        } else {
            options.replayTotalBytes = *bytes;
        }
        return true;
    }
    case Kind::Duration: {
        const std::optional<qint64> ms = parseDurationMs(text);
        if (!ms) {
            return fail(ServerOptions::tr(
                "expected seconds such as 2 or 0.5, or a duration such as 250ms, 30s, 5m, 12h or 1h30m"));
        }
        if (*ms < option.min) {
            return fail(describeMin(option.kind, option.min));
        }
        switch (option.id) {
        case Id::MaxWait:
            options.maxWaitMs = *ms;
            break;
        case Id::UploadStallTimeout:
            options.uploadStallTimeoutMs = *ms;
            break;
        case Id::IdleTimeout:
            options.idleTimeoutMs = *ms;
            break;
        case Id::LingerTimeout:
            options.lingerTimeoutMs = *ms;
            break;
        case Id::TunnelIdleTimeout:
            options.tunnelIdleTimeoutMs = *ms;
            break;
        case Id::ReplyTimeout:
            options.replyTimeoutMs = *ms;
            break;
        case Id::SwitchTimeout:
            options.switchTimeoutMs = *ms;
            break;
        case Id::HeadTimeout:
            options.headTimeoutMs = *ms;
            break;
        default:
            options.replayAgeMs = *ms;
            break;
        }
        return true;
    }
    case Kind::List: {
        QStringList cidrs;
        for (const QString &item : value.items) {
            const QString entry = item.trimmed();
            if (entry.isEmpty() || !TrustedProxies::parse({entry})) {
                *error = value.location
                         + ServerOptions::tr(
                               "invalid value for %1: '%2' (expected an IP address or a CIDR such as 10.0.0.0/8)")
                               .arg(value.origin, entry);
                return false;
            }
            cidrs.append(entry);
        }
        options.trustedProxies = cidrs;
        return true;
    }
    case Kind::Level: {
        const std::optional<Server::LogLevel> level = LogSink::parseLevel(text);
        if (!level) {
            return fail(ServerOptions::tr("expected DEBUG, INFO, WARN or ERROR"));
        }
        options.logLevel = *level;
        return true;
    }
    case Kind::Format: {
        const std::optional<Server::LogFormat> format = LogSink::parseFormat(text);
        if (!format) {
            return fail(ServerOptions::tr("expected text or json"));
        }
        options.logFormat = *format;
        return true;
    }
    case Kind::LocalTargets: {
        static const std::pair<QStringView, LocalTargets> NAMES[] = {
            {u"literal", LocalTargets::Literal}, {u"deny", LocalTargets::Deny}, {u"allow", LocalTargets::Allow}};
        for (const auto &[name, mode] : NAMES) {
            if (text.compare(name, Qt::CaseInsensitive) == 0) {
                options.tunnelLocalTargets = mode;
                return true;
            }
        }
        return fail(ServerOptions::tr("expected literal, deny or allow"));
    }
    case Kind::Store:
        options.replayStore =
            text.compare(u"none", Qt::CaseInsensitive) == 0 ? QString() : absolutePath(text, value.baseDir);
        return true;
    case Kind::Sync:
        if (text.compare(u"normal", Qt::CaseInsensitive) == 0) {
            options.replayStoreSync = ReplayJournal::Sync::Normal;
        } else if (text.compare(u"full", Qt::CaseInsensitive) == 0) {
            options.replayStoreSync = ReplayJournal::Sync::Full;
        } else {
            return fail(ServerOptions::tr("expected normal or full"));
        }
        return true;
    case Kind::Name: {
        if (text.size() > 64 || !std::all_of(text.begin(), text.end(), isNodeIdChar)) {
            return fail(ServerOptions::tr("expected up to 64 letters, digits, '-' and '_'"));
        }
        options.nodeId = text;
        return true;
    }
    case Kind::Url: {
        const QUrl url(text, QUrl::StrictMode);
        if (!url.isValid() || url.scheme() != u"http" || url.host().isEmpty() || url.hasQuery() || url.hasFragment()
            || !url.userInfo().isEmpty()) {
            return fail(ServerOptions::tr("expected an http URL such as http://127.0.0.1:8000"));
        }
        options.clusterUrl = url;
        return true;
    }
    }
    return true;
}

QStringList splitList(const QString &text)
{
    QStringList items;
    for (const QString &part : text.split(u',')) {
        const QString item = part.trimmed();
        if (!item.isEmpty()) {
            items.append(item);
        }
    }
    return items;
}

// Reads the YAML config file into `options`; keys are option names.
bool applyConfigFile(ServerOptions &options, const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error =
            ServerOptions::tr("cannot read config file %1: %2").arg(QDir::toNativeSeparators(path), file.errorString());
        return false;
    }
    const QByteArray content = file.readAll();
    const QString shownPath = QDir::toNativeSeparators(path);
    const QString baseDir = QFileInfo(path).absolutePath();
    try {
        const YAML::Node root = YAML::Load(content.toStdString());
        if (!root || root.IsNull()) {
            return true; // an empty file: nothing set
        }
        if (!root.IsMap()) {
            *error = ServerOptions::tr("%1:%2: expected a map of option names to values")
                         .arg(shownPath, QString::number(root.Mark().line + 1));
            return false;
        }
        for (const auto &entry : root) {
            const YAML::Node &keyNode = entry.first;
            const YAML::Node &valueNode = entry.second;
            const int line = keyNode.Mark().line + 1;
            const QString key = keyNode.IsScalar() ? QString::fromStdString(keyNode.Scalar()) : QString();
            const Option *option = findOption(key);
            if (!option || !option->inConfigFile) {
                *error = ServerOptions::tr("%1:%2: unknown key '%3'").arg(shownPath, QString::number(line), key);
                return false;
            }
            Value value;
            value.origin = key;
            value.location = u"%1:%2: "_s.arg(shownPath, QString::number(line));
            value.baseDir = baseDir;
            if (option->kind == Kind::List && valueNode.IsSequence()) {
                for (const auto &item : valueNode) {
                    if (!item.IsScalar()) {
                        *error = value.location
                                 + ServerOptions::tr("invalid value for %1: expected a list of addresses or CIDRs")
                                       .arg(value.origin);
                        return false;
                    }
                    value.items.append(QString::fromStdString(item.Scalar()));
                }
            } else if (valueNode.IsScalar()) {
                const QString text = QString::fromStdString(valueNode.Scalar());
                value.items = option->kind == Kind::List ? splitList(text) : QStringList{text};
            } else if (valueNode.IsNull()) {
                *error = value.location + ServerOptions::tr("missing value for %1").arg(value.origin);
                return false;
            } else {
                *error = value.location
                         + ServerOptions::tr("invalid value for %1: expected a single value").arg(value.origin);
                return false;
            }
            if (!apply(options, *option, value, error)) {
                return false;
            }
        }
    } catch (const YAML::Exception &e) {
        *error = ServerOptions::tr("%1:%2: invalid YAML: %3")
                     .arg(shownPath, QString::number(e.mark.line + 1), QString::fromStdString(e.msg));
        return false;
    }
    return true;
}

QString defaultDataDir(const QProcessEnvironment &env)
{
    // systemd's StateDirectory= (several directories are separated by ':'; the first is ours).
    const QString state = env.value(u"STATE_DIRECTORY"_s).section(u':', 0, 0).trimmed();
    if (!state.isEmpty()) {
        return QDir::cleanPath(QFileInfo(state).absoluteFilePath());
    }
    return QDir::cleanPath(QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + u"/patchwork"_s);
}

bool applyEnvironmentOnly(ServerOptions &options, const QProcessEnvironment &env, QString *error)
{
    // Raw bytes, untrimmed: the HMAC key must be exactly what the operator set.
    options.secretKey = env.value(u"SECRET_KEY"_s).toLocal8Bit();
    options.forgejoToken = env.value(u"FORGEJO_TOKEN"_s).trimmed();

    const QString forgejo = env.value(u"FORGEJO_URL"_s).trimmed();
    if (!forgejo.isEmpty()) {
        QUrl url(forgejo, QUrl::StrictMode);
        const QString scheme = url.scheme().toLower();
        if (!url.isValid() || (scheme != u"http" && scheme != u"https") || url.host().isEmpty() || url.hasQuery()
            || url.hasFragment()) {
            *error =
                ServerOptions::tr(
                    "invalid value for FORGEJO_URL: '%1' (expected an http(s) URL such as https://forgejo.example)")
                    .arg(url.isValid() ? url.toString(QUrl::RemoveUserInfo) : forgejo);
            return false;
        }
        QString path = url.path();
        while (path.endsWith(u'/')) {
            path.chop(1);
        }
        url.setPath(path);
        options.forgejoUrl = url;
    }

    const QString ttl = env.value(u"ACL_TTL"_s).trimmed();
    if (!ttl.isEmpty()) {
        const std::optional<qint64> ms = parseDurationMs(ttl);
        if (!ms) {
            *error = ServerOptions::tr("invalid value for ACL_TTL: '%1' (expected a duration such as 30s, 5m or 1h)")
                         .arg(ttl);
            return false;
        }
        options.aclTtlMs = qMax<qint64>(0, *ms); // the original: zero or negative = never fresh
    }

    const QString source = env.value(u"LOG_SOURCE"_s).trimmed();
    if (!source.isEmpty()) {
        const std::optional<bool> flag = parseBool(source);
        if (!flag) {
            *error = ServerOptions::tr("invalid value for LOG_SOURCE: '%1' (expected true or false)").arg(source);
            return false;
        }
        options.logSource = *flag;
    }
    return true;
}

struct Flag
{
    const Option *option;
    Value value;
};

} // namespace

std::optional<ServerOptions>
ServerOptions::parse(const QStringList &arguments, const QProcessEnvironment &env, QString *error)
{
    QString ignored;
    if (!error) {
        error = &ignored;
    }
    ServerOptions options;

    // 1. Read the flags (applied last, but they name the config file).
    if (arguments.contains(u"--help"_s) || arguments.contains(u"-h"_s)) {
        options.showHelp = true;
        return options;
    }
    QList<Flag> flags;
    Value trustedProxyFlags;
    bool configFlag = false;
    for (qsizetype i = 0; i < arguments.size(); ++i) {
        const QString &arg = arguments.at(i);
        if (!arg.startsWith(u"--") || arg.size() == 2) {
            *error = tr("unexpected argument '%1' (see --help)").arg(arg);
            return std::nullopt;
        }
        const qsizetype equals = arg.indexOf(u'=');
        const QString name = arg.mid(2, equals < 0 ? -1 : equals - 2);
        const Option *option = findOption(name);
        if (!option) {
            *error = tr("unknown option '--%1' (see --help)").arg(name);
            return std::nullopt;
        }
        Value value;
        value.origin = u"--"_s + name;
        if (equals >= 0) {
            value.items = QStringList{arg.mid(equals + 1)};
        } else if (option->kind == Kind::Bool) {
            value.items = QStringList{u"true"_s};
        } else if (i + 1 < arguments.size()) {
            value.items = QStringList{arguments.at(++i)};
        } else {
            *error = tr("missing value for --%1").arg(name);
            return std::nullopt;
        }
        if (option->kind == Kind::List) {
            if (value.items.constFirst().trimmed().isEmpty()) {
                *error = tr("missing value for --%1").arg(name);
                return std::nullopt;
            }
            trustedProxyFlags.origin = value.origin;
            trustedProxyFlags.items.append(value.items);
            continue;
        }
        configFlag = configFlag || option->id == Id::Config;
        flags.append({option, value});
    }

    // 2. The config file.
    if (!configFlag) {
        const QString configPath = env.value(u"PATCHWORK_CONFIG"_s).trimmed();
        if (!configPath.isEmpty()) {
            Value value;
            value.items = QStringList{configPath};
            value.origin = u"PATCHWORK_CONFIG"_s;
            if (!apply(options, *findOption(u"config"), value, error)) {
                return std::nullopt;
            }
        }
    }
    for (const Flag &flag : std::as_const(flags)) {
        if (flag.option->id == Id::Config && !apply(options, *flag.option, flag.value, error)) {
            return std::nullopt;
        }
    }
    if (!options.configFile.isEmpty() && !applyConfigFile(options, options.configFile, error)) {
        return std::nullopt;
    }

    // 3. The environment.
    for (const Option &option : OPTIONS) {
        if (option.id == Id::Config) {
            continue;
        }
        const QString name = envName(option);
        const QString text = env.value(name);
        if (text.trimmed().isEmpty()) {
            continue;
        }
        Value value;
        value.items = option.kind == Kind::List ? splitList(text) : QStringList{text};
        value.origin = name;
        if (!apply(options, option, value, error)) {
            return std::nullopt;
        }
    }

    // 4. The flags.
    for (const Flag &flag : std::as_const(flags)) {
        if (flag.option->id != Id::Config && !apply(options, *flag.option, flag.value, error)) {
            return std::nullopt;
        }
    }
    if (!trustedProxyFlags.items.isEmpty()
        && !apply(options, *findOption(u"trusted-proxy"), trustedProxyFlags, error)) {
        return std::nullopt;
    }

    // 5. The environment-only settings and the defaults that depend on others.
    if (!applyEnvironmentOnly(options, env, error)) {
        return std::nullopt;
    }
    if (options.dataDir.isEmpty()) {
        options.dataDir = defaultDataDir(env);
    }
    if (options.usersDir.isEmpty()) {
        options.usersDir = options.dataDir + u"/users"_s;
    }
    if (!options.replayStore) {
        options.replayStore = options.dataDir + u"/replay.sqlite"_s;
    }
    if (options.nodeId.isEmpty()) {
        options.nodeId = defaultNodeId(QSysInfo::machineHostName(), options.port);
    }
    return options;
}

QString ServerOptions::usage()
{
    return tr("Usage: patchworkd [start|s] [OPTION]...\n"
              "       patchworkd healthcheck [--url URL]\n"
              "       patchworkd check-config FILE...\n"
              "       patchworkd tunnel WS-URL [--token T | --token-file FILE] [--ca-file FILE]\n"
              "       patchworkd --version\n"
              "\n"
              "Runs the Patchwork HTTP relay: infinite HTTP channels for scripts.\n"
              "\n"
              "Options (also PATCHWORK_<OPTION> in the environment, e.g. PATCHWORK_MAX_BODY, and\n"
              "<option>: in the YAML --config file; a flag beats the environment, which beats the file):\n"
              "  --host ADDR                   listen address (default 0.0.0.0)\n"
              "  --port N                      listen port (default 8080; 0 = any free port)\n"
              "  --config FILE                 YAML config file (env PATCHWORK_CONFIG)\n"
              "  --data-dir DIR                state, e.g. the hook secret key (default $STATE_DIRECTORY,\n"
              "                                else ~/.local/share/patchwork)\n"
              "  --users-dir DIR               user configs, DIR/<user>/config.yaml (default DATA-DIR/users)\n"
              "  --max-body BYTES              request bodies up to this are buffered (default 64MiB)\n"
              "  --max-stream-body BYTES       larger ones are streamed from producer to consumer up to this\n"
              "                                (default no limit; 0 = none: larger ones get 413)\n"
              "  --trusted-proxy CIDR          a proxy whose forwarding headers are believed; repeatable\n"
              "                                (default 127.0.0.0/8 and ::1/128)\n"
              "  --metrics-token T             token for /metrics from non-local clients (env METRICS_TOKEN)\n"
              "  --metrics-public              serve /metrics to everyone\n"
              "  --rate-limit PER_S            public and hook requests per second and client (default 10;\n"
              "                                0 = no limit)\n"
              "  --rate-burst N                requests allowed at once above the rate (default 20)\n"
              "  --rate-limit-loopback         also limit clients on this machine (off: local scripts and\n"
              "                                benchmarks are not limited; proxied clients always are)\n"
              "  --max-waiting-per-ip N        waiting public and hook requests per client (default 256;\n"
              "                                0 = no limit)\n"
              "  --max-wait S                  bound on every wait (default 0 = none)\n"
              "  --upload-stall-timeout S      request body without progress (default 30)\n"
              "  --head-timeout S              time for a whole request head from its first byte (default 30)\n"
              "  --idle-timeout S              idle keep-alive connections (default 120)\n"
              "  --linger-timeout S            after refusing a request, read and discard what the client\n"
              "                                still sends for up to S before closing (default 5; 0 = close)\n"
              "  --tunnel-idle-timeout S       a /huproxy tunnel with no data either way (default 1h;\n"
              "                                0 = no limit)\n"
              "  --tunnel-local-targets MODE   tunnels to the relay's own machine (loopback, link-local):\n"
              "                                literal = only to an IP literal or localhost that the\n"
              "                                token's patterns allow (default), deny = never, allow =\n"
              "                                also through names that resolve there\n"
              "  --reply-timeout S             a responder's reply (default 60)\n"
              "  --switch-timeout S            the reply of a double-clutch responder (default 30)\n"
              "  --replay-count N              pubsub messages kept per channel for replay (default 100)\n"
              "  --replay-age DURATION         how long they are kept (default 12h)\n"
              "  --replay-channel-bytes BYTES  replay memory per channel (default 1MiB)\n"
              "  --replay-total-bytes BYTES    replay memory in all (default 64MiB)\n"
              "                                (any replay limit 0 disables replay)\n"
              "  --replay-store FILE           the journal that keeps replay across restarts (default\n"
              "                                DATA-DIR/replay.sqlite; none = memory only; no file is made\n"
              "                                while replay is disabled)\n"
              "  --replay-store-sync MODE      normal = a crash loses nothing written, a power loss may lose\n"
              "                                the last second (default); full = fsync every commit\n"
              "  --max-connections N           open connections in all; over it a new one gets 503 (default 0 =\n"
              "                                3/4 of the descriptor limit, which is raised to its maximum)\n"
              "  --max-connections-per-ip N    open connections per client address (default 512; 0 = no limit;\n"
              "                                trusted proxies and, unless --rate-limit-loopback, this machine\n"
              "                                are exempt)\n"
              "  --max-buffered-bytes BYTES    request bodies held in memory in all; over it a new upload gets\n"
              "                                503 (default a quarter of physical memory, at least 256MiB;\n"
              "                                0 = no limit)\n"
              "  --max-waiting-per-user N      requests left waiting in one user namespace (default 1024;\n"
              "                                0 = no limit; this machine is exempt as for rate limits)\n"
              "  --log-level L                 DEBUG, INFO, WARN or ERROR (env LOG_LEVEL; default INFO)\n"
              "  --log-format F                text or json (default text)\n"
              "  --node-id ID                  this daemon's name among several behind a proxy, in every\n"
              "                                Patch-Id and in Patch-Node: letters, digits, '-', '_'\n"
              "                                (default: the short host name, '-', the port)\n"
              "  --cluster-url URL             the front proxy (http://host:port) through which a double\n"
              "                                clutch fetches its reply from the node that owns the switch\n"
              "                                channel; all nodes need the same SECRET_KEY (default: none)\n"
              "  -h, --help                    show this help\n"
              "\n"
              "BYTES: a number with an optional KiB, MiB or GiB suffix. S and DURATION: seconds (2, 0.5)\n"
              "or a duration such as 250ms, 30s, 5m, 12h, 1h30m.\n"
              "\n"
              "Environment only: SECRET_KEY (hook secret key; default: kept in DATA-DIR/secret_key),\n"
              "FORGEJO_URL and FORGEJO_TOKEN (fetch user configs from Forgejo), ACL_TTL (their cache time,\n"
              "default 5m), LOG_SOURCE (true: add source locations to log lines).\n"
              "\n"
              "Signals: SIGHUP reloads the configuration; SIGTERM and SIGINT shut down gracefully.\n");
}

QString ServerOptions::defaultNodeId(const QString &hostName, quint16 port)
{
    QString name = hostName.section(u'.', 0, 0).left(48);
    for (QChar &ch : name) {
        if (!isNodeIdChar(ch)) {
            ch = u'_';
        }
    }
    return (name.isEmpty() ? u"node"_s : name) + u'-' + QString::number(port);
}

} // namespace Patchwork::Server
