// SPDX-License-Identifier: MIT
#include "tunnel/tunnelserver.h"

#include <QDateTime>
#include <QPointer>

#include "access/configsource.h"
#include "http/httpconnection.h"
#include "http/httputil.h"
#include "http/serverlogging.h"
#include "protocol/websocketcodec.h"
#include "relay/accessgate.h"
#include "util/clock.h"
#include "util/metrics.h"

using namespace Qt::StringLiterals;

namespace Patchwork::Server
{

namespace
{

const QByteArray UPGRADE_REQUIRED = QByteArrayLiteral("Bad Request: WebSocket upgrade required");

// True when the comma-separated header value lists `token` (case-insensitive).
bool listsToken(QByteArrayView value, QByteArrayView token)
{
    while (!value.isEmpty()) {
        const qsizetype comma = value.indexOf(',');
        const QByteArrayView item = comma < 0 ? value : value.first(comma);
        if (item.trimmed().compare(token, Qt::CaseInsensitive) == 0) {
            return true;
        }
        value = comma < 0 ? QByteArrayView() : value.sliced(comma + 1);
    }
    return false;
}

} // namespace

TunnelServer::TunnelServer(Clock *clock, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
{
    connect(m_clock, &Clock::woke, this, &TunnelServer::onWoke);
}

TunnelServer::~TunnelServer() = default;

void TunnelServer::setAuthorizer(Authorizer authorizer)
{
    m_authorizer = std::move(authorizer);
}

TunnelServer::Authorizer TunnelServer::configAuthorizer(ConfigSource *source, Clock *clock)
{
    QPointer<ConfigSource> guarded(source);
    return [guarded, clock](const Request &request, QObject *context, std::function<void(const AclResult &)> done) {
        if (!request.tokenPresented) {
            // Answered before any lookup: nothing to look up without a token.
            done(Acl::check(static_cast<const UserConfig *>(nullptr), {}, false, AclList::Huproxy, {}, {}));
            return;
        }
        if (!guarded) {
            done(Acl::check(ConfigLookup::unavailable(u"no configuration source"_s),
                            request.token,
                            true,
                            AclList::Huproxy,
                            request.target,
                            {}));
            return;
        }
        guarded->lookup(request.user, context, [request, clock, done](const ConfigLookup &lookup) {
            const QDateTime now = QDateTime::fromMSecsSinceEpoch(clock->unixMs(), Qt::UTC);
            done(Acl::check(lookup, request.token, true, AclList::Huproxy, request.target, now));
        });
    };
}

void TunnelServer::setSettings(const TunnelBridge::Settings &settings)
{
    m_settings = settings;
}

const TunnelBridge::Settings &TunnelServer::settings() const
{
    return m_settings;
}

void TunnelServer::setMetrics(Metrics *metrics)
{
    m_metrics = metrics;
}

qsizetype TunnelServer::tunnelCount() const
{
    return m_bridges.size();
}

void TunnelServer::refuse(HttpConnection *c, int status, QByteArrayView line, const HeaderList &headers)
{
    if (m_metrics) {
        m_metrics->huproxyConnection(status);
    }
    c->respondText(status, line, headers);
}

void TunnelServer::handle(HttpConnection *c, const QByteArray &rest)
{
    const HttpRequest &r = c->request();
    const QList<QByteArray> parts = rest.split('/');
    // The user name is checked as on /u/<user>/ (PROTOCOL §1): it names a directory of the config source.
    if (parts.size() != 3 || !isValidUserName(parts.at(0)) || parts.at(1).isEmpty() || parts.at(2).isEmpty()) {
        refuse(c, 404, "Not found");
        return;
    }
    if (m_closing) {
        c->setCloseAfterResponse();
        refuse(c, 503, "Server shutting down");
        return;
    }
    QByteArray error;
    const std::optional<TunnelTarget> target = TunnelTarget::parse(parts.at(1), parts.at(2), &error);
    if (!target) {
        refuse(c, 400, error);
        return;
    }

    Request request;
    request.user = QString::fromUtf8(parts.at(0));
    request.target = target->subject();
    const QByteArray authorization = r.header("Authorization");
    QByteArrayView token = tokenFromAuthorization(authorization);
    QByteArray queryToken;
    if (token.isEmpty()) {
        queryToken = QueryParams(r.query).value("token");
        token = tokenFromAuthorization(queryToken);
    }
    request.token = token.toByteArray();
    request.tokenPresented = !request.token.isEmpty();

    // Everything the answer needs is taken now: a waiting request keeps no headers.
    const Upgrade upgrade = checkUpgrade(c);
    QPointer<HttpConnection> connection(c);
    auto done = [this, connection, upgrade, target = *target](const AclResult &result) {
        if (connection) {
            onDecision(connection, result, upgrade, target);
        }
    };
    if (m_authorizer) {
        m_authorizer(request, c, done);
    } else {
        done(Acl::check(static_cast<const UserConfig *>(nullptr),
                        request.token,
                        request.tokenPresented,
                        AclList::Huproxy,
                        request.target,
                        QDateTime::fromMSecsSinceEpoch(m_clock->unixMs(), Qt::UTC)));
    }
}

TunnelServer::Upgrade TunnelServer::checkUpgrade(HttpConnection *c)
{
    const HttpRequest &r = c->request();
    Upgrade u;
    if (r.method != "GET" || r.minorVersion < 1 || !listsToken(r.header("Upgrade"), "websocket")
        || !listsToken(r.header("Connection"), "upgrade")) {
        u.status = 400;
        u.message = UPGRADE_REQUIRED;
        return u;
    }
    if (r.header("Sec-WebSocket-Version").trimmed() != "13") {
        u.status = 400;
        u.message = QByteArrayLiteral("Bad Request: unsupported WebSocket version (expected 13)");
        return u;
    }
    const QByteArray key = r.header("Sec-WebSocket-Key");
    if (!WebSocketCodec::isValidKey(key)) {
        u.status = 400;
        u.message = QByteArrayLiteral("Bad Request: invalid Sec-WebSocket-Key");
        return u;
    }
    u.accept = WebSocketCodec::acceptKey(key);
    return u;
}

void TunnelServer::onDecision(HttpConnection *c,
                              const AclResult &result,
                              const Upgrade &upgrade,
                              const TunnelTarget &target)
{
    if (m_metrics) {
        m_metrics->auth(result.allowed         ? MetricAuthResult::Success
                        : result.status == 503 ? MetricAuthResult::Error
                                               : MetricAuthResult::Denied);
    }
    if (!result.allowed) {
        if (result.status == 401) {
            refuse(c,
                   401,
                   Acl::tunnelDenialText(result),
                   {{QByteArrayLiteral("WWW-Authenticate"), QByteArrayLiteral("Bearer realm=\"patchwork\"")}});
        } else {
            refuse(c, result.status > 0 ? result.status : 500, Acl::tunnelDenialText(result));
        }
        return;
    }
    if (upgrade.status != 0) {
        HeaderList headers;
        headers.append({QByteArrayLiteral("Sec-WebSocket-Version"), QByteArrayLiteral("13")});
        refuse(c, upgrade.status, upgrade.message, headers);
        return;
    }
    openTunnel(c, upgrade.accept, target);
}

void TunnelServer::openTunnel(HttpConnection *c, const QByteArray &accept, const TunnelTarget &target)
{
    QByteArray pending;
    QTcpSocket *socket = c->detachForUpgrade(&pending);
    if (!socket) {
        qCWarning(lcTunnel) << "cannot take over the connection for the upgrade";
        refuse(c, 500, "Internal Server Error: upgrade failed");
        return;
    }
    if (m_metrics) {
        m_metrics->huproxyConnection(101);
    }
    TunnelBridge::writeSmall(socket,
                             "HTTP/1.1 101 Switching Protocols\r\n"
                             "Upgrade: websocket\r\n"
                             "Connection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: "
                                 + accept + "\r\n\r\n");
    auto *bridge = new TunnelBridge(socket, pending, target, m_settings, m_clock, m_metrics, this);
    m_bridges.insert(bridge);
    connect(bridge, &TunnelBridge::wakeRequested, this, &TunnelServer::scheduleCheck);
    connect(bridge, &TunnelBridge::finished, this, [this, bridge]() {
        m_bridges.remove(bridge);
        bridge->deleteLater();
    });
    Q_EMIT tunnelOpened(bridge);
    bridge->start();
}

void TunnelServer::closeAll()
{
    m_closing = true;
    const QSet<TunnelBridge *> bridges = m_bridges;
    for (TunnelBridge *bridge : bridges) {
        bridge->close(WebSocketCodec::CloseGoingAway, "server shutting down");
    }
}

// --- time ------------------------------------------------------------------------------------------

void TunnelServer::scheduleCheck(qint64 atMs)
{
    if (atMs < 0) {
        return;
    }
    if (m_nextCheck < 0 || atMs < m_nextCheck) {
        m_nextCheck = atMs;
        m_clock->wakeAt(atMs);
    }
}

void TunnelServer::onWoke()
{
    const qint64 now = m_clock->monotonicMs();
    if (m_nextCheck < 0 || now < m_nextCheck) {
        return; // another user of the clock woke it
    }
    m_nextCheck = -1;
    qint64 next = -1;
    const QSet<TunnelBridge *> bridges = m_bridges;
    for (TunnelBridge *bridge : bridges) {
        const qint64 at = bridge->checkTimeouts(now);
        if (at >= 0 && (next < 0 || at < next)) {
            next = at;
        }
    }
    scheduleCheck(next);
}

} // namespace Patchwork::Server
