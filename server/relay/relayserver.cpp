// SPDX-License-Identifier: MIT
#include "relay/relayserver.h"

#include <QFile>
#include <QTimer>

#include "access/shardkey.h"
#include "http/bodytransfer.h"
#include "http/httpconnection.h"
#include "http/httputil.h"
#include "http/serverlogging.h"
#include "relay/notifyendpoint.h"
#include "relay/relaymetrics.h"
#include "relay/remoteswitch.h"
#include "tunnel/tunnelserver.h"
#include "util/clock.h"

namespace Patchwork::Server
{

namespace
{

const QByteArray CONTENT_TYPE = QByteArrayLiteral("Content-Type");
const QByteArray TEXT_PLAIN = QByteArrayLiteral("text/plain");
const QByteArray PATCH_H = QByteArrayLiteral("patch-h-");
// The most subscribers a publish may wait for (?subscribers=N).
constexpr int MAX_SUBSCRIBERS_PARAM = 10'000;

// Never carried from a request into a relayed response, whatever Patch-H- says (PROTOCOL §6): framing
// and connection headers, and every Patch-* name, because the headers the server sets (Patch-Id,
// Patch-Time, Patch-Gap, Patch-Subscribers, Patch-Request-Id, Patch-Method, Patch-Uri, Patch-Status) are
// the server's alone. Values need no check here: the parser refuses control characters in any header.
bool isForbiddenHeader(QByteArrayView name)
{
    static const QByteArrayView forbidden[] = {"Content-Length",
                                               "Transfer-Encoding",
                                               "Connection",
                                               "Keep-Alive",
                                               "Upgrade",
                                               "TE",
                                               "Trailer",
                                               "Host",
                                               "Set-Cookie"};
    for (QByteArrayView f : forbidden) {
        if (name.compare(f, Qt::CaseInsensitive) == 0) {
            return true;
        }
    }
    static const QByteArrayView forbiddenPrefixes[] = {"Access-Control-", "Patch-"};
    for (QByteArrayView prefix : forbiddenPrefixes) {
        if (name.size() >= prefix.size() && name.first(prefix.size()).compare(prefix, Qt::CaseInsensitive) == 0) {
            return true;
        }
    }
    return false;
}

void removeHeader(HeaderList &headers, QByteArrayView name)
{
    headers.removeIf([name](const QPair<QByteArray, QByteArray> &h) {
        return QByteArrayView(h.first).compare(name, Qt::CaseInsensitive) == 0;
    });
}

// The Patch-H-* headers of a request, prefix removed, in order; forbidden names dropped.
HeaderList passthroughHeaders(const HttpRequest &r)
{
    HeaderList out;
    for (const auto &h : r.headers) {
        if (h.first.size() > PATCH_H.size()
            && QByteArrayView(h.first).first(PATCH_H.size()).compare(PATCH_H, Qt::CaseInsensitive) == 0) {
            const QByteArray name = h.first.mid(PATCH_H.size());
            if (!isForbiddenHeader(name)) {
                out.append({name, h.second});
            }
        }
    }
    return out;
}

// Applies passthrough headers on top of automatic ones: a Patch-H-X replaces every automatic X.
void overlay(HeaderList &headers, const HeaderList &passthrough)
{
    for (const auto &p : passthrough) {
        removeHeader(headers, p.first);
    }
    headers.append(passthrough);
}

QByteArray contentTypeOf(const HttpRequest &r)
{
    const QByteArray ct = r.header("Content-Type");
    return ct.isEmpty() ? TEXT_PLAIN : ct;
}

// Headers a consumer or responder receives with a message (PROTOCOL §6).
HeaderList carriedHeaders(const HttpRequest &r, const QByteArray &patchUri, const QByteArray &method)
{
    HeaderList headers;
    headers.reserve(8);
    headers.append({CONTENT_TYPE, contentTypeOf(r)});
    if (!method.isEmpty()) {
        headers.append({QByteArrayLiteral("Patch-Method"), method});
    }
    headers.append({QByteArrayLiteral("Patch-Uri"), patchUri});
    static const QByteArrayView copied[] = {"User-Agent", "Accept", "Accept-Language", "Referer", "Origin"};
    for (const auto &h : r.headers) {
        for (QByteArrayView name : copied) {
            if (QByteArrayView(h.first).compare(name, Qt::CaseInsensitive) == 0) {
                headers.append({name.toByteArray(), h.second});
            }
        }
    }
    overlay(headers, passthroughHeaders(r));
    return headers;
}

// Headers a requester receives with a reply: Content-Type and the Patch-H-* ones (PROTOCOL §5).
HeaderList replyHeaders(const HttpRequest &r)
{
    HeaderList headers;
    headers.append({CONTENT_TYPE, contentTypeOf(r)});
    overlay(headers, passthroughHeaders(r));
    return headers;
}

// Patch-Status of a reply: an integer 200–599, or 200 when absent; -1 when invalid.
int replyStatus(const HttpRequest &r)
{
    if (!r.hasHeader("Patch-Status")) {
        return 200;
    }
    bool ok = false;
    const int status = r.header("Patch-Status").trimmed().toInt(&ok);
    return ok && status >= 200 && status <= 599 ? status : -1;
}

// Whether a request may bring a streamed body (above --max-body): one that hands its body to the engine.
bool takesStreamedBody(const RequestClass &request, const QByteArray &method)
{
    if (request.route != RequestClass::Route::Channel) {
        return false;
    }
    switch (request.role) {
    case Waiter::Role::Producer:
        return method != "GET";
    case Waiter::Role::Requester:
    case Waiter::Role::Replier:
        return true;
    case Waiter::Role::Responder:
        return request.responderKind == Waiter::ResponderKind::OneShot;
    case Waiter::Role::Consumer:
        return false;
    }
    return false;
}

QByteArray tooLargeText(qint64 limit)
{
    return "Payload too large (limit " + QByteArray::number(limit) + " bytes)";
}

QByteArray uriWithoutSecrets(const QByteArray &path, const QByteArray &query)
{
    const QByteArray q = QueryParams::without(query, {"token", "secret"});
    return q.isEmpty() ? path : path + '?' + q;
}

// When c has written w's answer, w is delivered and deleted later. Once: a pipelined request that follows
// on c drains c again before w is gone, and every drain reaching every waiter not yet deleted made a long
// pipeline quadratic.
void deliverWhenDrained(HttpConnection *c, Waiter *w)
{
    QObject::connect(
        c,
        &HttpConnection::drained,
        w,
        [w]() {
            w->delivered();
            w->deleteLater();
        },
        Qt::SingleShotConnection);
}

} // namespace

RelayServer::RelayServer(Clock *clock, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
    , m_hub(new ChannelHub(clock, this))
    , m_http(new HttpServer(this, this))
{
    m_tunnels = new TunnelServer(clock, this);
    m_events = new EventStreams(m_hub, this);
    connect(m_hub,
            &ChannelHub::switchRequested,
            this,
            [this](Waiter *requester, const QByteArray &ns, const QByteArray &channel) {
                if (m_remoteSwitch) {
                    m_remoteSwitch->fetch(requester, ns, channel);
                }
            });
}

RelayServer::~RelayServer()
{
    // Connections (and the waiters they own) go before the engine they report to.
    delete m_http;
    m_http = nullptr;
}

void RelayServer::setSettings(const Settings &settings)
{
    const bool newClusterUrl = settings.clusterUrl != m_settings.clusterUrl;
    m_settings = settings;
    m_http->setLimits(settings.limits);
    m_http->setResponseHeaders(settings.hub.nodeId.isEmpty()
                                   ? HeaderList()
                                   : HeaderList{{QByteArrayLiteral("Patch-Node"), settings.hub.nodeId}});
    ChannelHub::Settings hub = settings.hub;
    hub.remoteSwitch = !settings.clusterUrl.isEmpty();
    m_hub->setSettings(hub);
    m_tunnels->setSettings(settings.tunnel);
    if (newClusterUrl) {
        updateRemoteSwitch(); // only then: a reload (SIGHUP) keeps the fetches under way
    }
    m_events->setSettings(settings.events);
}

bool RelayServer::listen(const QHostAddress &address, quint16 port, QString *error)
{
    if (!m_http->listen(address, port)) {
        if (error) {
            *error = m_http->errorString();
        }
        return false;
    }
    return true;
}

quint16 RelayServer::port() const
{
    return m_http->serverPort();
}

ChannelHub *RelayServer::hub() const
{
    return m_hub;
}

HttpServer *RelayServer::httpServer() const
{
    return m_http;
}

void RelayServer::setAccessGate(AccessGate *gate)
{
    m_gate = gate;
    delete m_metrics;
    m_metrics = gate && gate->metrics() ? new RelayMetrics(gate->metrics(), m_hub, m_http, this) : nullptr;
    m_tunnels->setMetrics(gate ? gate->metrics() : nullptr);
    m_tunnels->setAuthorizer(gate && gate->configSource()
                                 ? TunnelServer::configAuthorizer(gate->configSource(), m_clock)
                                 : TunnelServer::Authorizer());
    delete m_notify;
    m_notify = gate && gate->configSource() ? new NotifyEndpoint(m_clock, m_hub, gate, this) : nullptr;
    updateRemoteSwitch();
}

// A remote switch needs the cluster URL and the gate's secret (the nodes share SECRET_KEY).
void RelayServer::updateRemoteSwitch()
{
    delete m_remoteSwitch;
    m_remoteSwitch = m_gate && !m_settings.clusterUrl.isEmpty()
                         ? new RemoteSwitch(m_hub, m_settings.clusterUrl, m_gate->hookSecret(), this)
                         : nullptr;
}

NotifyEndpoint *RelayServer::notifyEndpoint() const
{
    return m_notify;
}

TunnelServer *RelayServer::tunnelServer() const
{
    return m_tunnels;
}

AccessGate *RelayServer::accessGate() const
{
    return m_gate;
}

void RelayServer::responseStarted(HttpConnection *connection, int status, qint64 elapsedMs)
{
    if (m_metrics) {
        m_metrics->responseStarted(connection, status, elapsedMs);
    }
}

// --- routing -----------------------------------------------------------------------------------------

void RelayServer::handleRequest(HttpConnection *c)
{
    const HttpRequest &r = c->request();
    const std::optional<QByteArray> path = decodeRequestPath(r.rawPath);
    if (!path) {
        // Parts of the path end up in headers (Patch-Uri) and in names the tunnel dials: refused, not encoded.
        c->respondText(400, INVALID_PATH_TEXT);
        return;
    }
    const QueryParams query(r.query);
    const RequestClass request = classifyRequest(r.method, *path, query);
    if (r.hasHeader("Patch-Shard")) {
        // Behind a front proxy (installer/cluster/): the proxy's key must be this daemon's key, or the
        // channel's parties would wait on different nodes.
        const QByteArray expected = shardHeaderValue(shardKey(request));
        if (r.header("Patch-Shard").trimmed() != expected) {
            c->respondText(
                421,
                QByteArray("Misdirected request: Patch-Shard does not match this request's shard key " + expected));
            return;
        }
    }
    using Route = RequestClass::Route;
    // Without an access gate only the public namespace is served.
    const bool needsGate = request.route == Route::CreateHook || request.route == Route::Notify
                           || request.route == Route::Admin
                           || (request.route == Route::Channel && request.zone != RequestNamespace::Public);
    if (needsGate && !m_gate) {
        c->respondText(404, "Not found");
        return;
    }
    if (request.pathError.isError()) {
        respondError(c, request.pathError);
        return;
    }
    if (c->bodyTransfer() && !takesStreamedBody(request, r.method)) {
        c->respondText(413, tooLargeText(m_settings.limits.maxBody));
        return;
    }
    switch (request.route) {
    case Route::NotFound:
        c->respondText(404, "Not found");
        return;
    case Route::Index:
        serveIndex(c);
        return;
    case Route::Health:
        // A stopping node tells the proxy at once, so that it drains it (installer/cluster/).
        if (m_stopping) {
            c->respondText(503, "Server shutting down");
        } else {
            c->respondText(200, "OK!");
        }
        return;
    case Route::ClientScript:
        serveAsset(c, u":/assets/patchwork.sh"_qs, QByteArrayLiteral("text/x-shellscript; charset=utf-8"));
        return;
    case Route::Favicon:
        serveAsset(c, u":/assets/favicon.svg"_qs, QByteArrayLiteral("image/svg+xml"));
        return;
    case Route::Metrics:
        serveMetrics(c);
        return;
    case Route::CreateHook:
        m_gate->createHook(c, request.ns.at(0));
        return;
    case Route::Channel:
        handleChannel(c, r, request, query);
        return;
    case Route::Notify:
        if (m_notify) {
            m_notify->handle(c, r, request);
        } else {
            c->respondText(503, "Notification backend not configured");
        }
        return;
    case Route::Admin:
        m_gate->handleAdmin(c, request.userName(), request.path);
        return;
    case Route::Tunnel:
        m_tunnels->handle(c, request.path);
        return;
    }
}

void RelayServer::respondError(HttpConnection *c, const RequestError &error)
{
    if (error.allow.isEmpty()) {
        c->respondText(error.status, error.reason.toByteArray());
    } else {
        c->respondText(
            error.status, error.reason.toByteArray(), {{QByteArrayLiteral("Allow"), error.allow.toByteArray()}});
    }
}

void RelayServer::serveMetrics(HttpConnection *c)
{
    if (!m_gate || !m_metrics) {
        c->respondText(404, "Not found");
        return;
    }
    if (m_gate->allowMetrics(c)) {
        m_metrics->serve(c);
    }
}

void RelayServer::serveAsset(HttpConnection *c, const QString &resource, const QByteArray &contentType)
{
    if (c->request().method != "GET" && c->request().method != "HEAD") {
        c->respondText(405, "Method not allowed", {{QByteArrayLiteral("Allow"), QByteArrayLiteral("GET, HEAD")}});
        return;
    }
    QFile file(resource);
    if (!file.open(QIODevice::ReadOnly)) {
        c->respondText(404, "Not found");
        return;
    }
    c->respond(200,
               {{CONTENT_TYPE, contentType}, {QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("max-age=3600")}},
               file.readAll());
}

void RelayServer::serveIndex(HttpConnection *c)
{
    const HttpRequest &r = c->request();
    if (r.method != "GET" && r.method != "HEAD") {
        c->respondText(405, "Method not allowed", {{QByteArrayLiteral("Allow"), QByteArrayLiteral("GET, HEAD")}});
        return;
    }
    QByteArray scheme = QByteArrayLiteral("http");
    QByteArray host = r.header("Host");
    if (m_gate ? m_gate->isFromTrustedProxy(r) : TrustedProxies::isLoopback(r.peer)) {
        const QByteArray proto = r.header("X-Forwarded-Proto").trimmed().toLower();
        if (proto == "https" || proto == "http") {
            scheme = proto;
        }
        const QByteArray fwdHost = r.header("X-Forwarded-Host").trimmed();
        if (!fwdHost.isEmpty()) {
            host = fwdHost;
        }
    }
    if (host.isEmpty()) {
        host = "localhost:" + QByteArray::number(port());
    }
    const QByteArray base = htmlEscape(QByteArray(scheme + "://" + host));
    QFile file(u":/assets/index.html"_qs);
    QByteArray page = file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    page.replace("{{BASE}}", base);
    c->respond(200, {{CONTENT_TYPE, QByteArrayLiteral("text/html; charset=utf-8")}}, page);
}

// --- channels ----------------------------------------------------------------------------------------

// Read the request from `r`, never from c->request(): after a configuration fetch (AccessGate's
// Pending) this runs again with a copy, and the connection no longer holds the headers and body.
void RelayServer::handleChannel(HttpConnection *c,
                                const HttpRequest &r,
                                const RequestClass &request,
                                const QueryParams &query)
{
    const QByteArray &ns = request.ns;
    const QByteArray &path = request.path;
    if (r.hasHeader(RemoteSwitch::SIGNATURE_HEADER)) {
        serveSwitchFetch(c, request);
        return;
    }
    // Rate limit, then the hook secret or the token (PROTOCOL §2 "Order of checks").
    AccessGate::Ticket ticket;
    if (m_gate) {
        switch (m_gate->check(c, r, {request.zone, ns, path, request.action, &query}, &ticket)) {
        case AccessGate::Verdict::Allowed:
            break;
        case AccessGate::Verdict::Denied:
            return;
        case AccessGate::Verdict::Pending:
            // The user's configuration is being fetched: handle the request again once it is known.
            m_gate->whenConfigReady(c, request.userName(), [this, c, copy = r, request]() {
                handleChannel(c, copy, request, QueryParams(copy.query));
            });
            return;
        }
    }

    if (request.action == RequestAction::Preflight) {
        c->respond(204,
                   {{QByteArrayLiteral("Access-Control-Allow-Methods"),
                     QByteArrayLiteral("GET, POST, PUT, DELETE, PATCH, OPTIONS")},
                    {QByteArrayLiteral("Access-Control-Allow-Headers"), QByteArrayLiteral("*")},
                    {QByteArrayLiteral("Access-Control-Max-Age"), QByteArrayLiteral("86400")}},
                   {});
        return;
    }
    if (request.error.isError()) {
        respondError(c, request.error);
        return;
    }

    const QByteArray &method = r.method;
    switch (request.role) {
    case Waiter::Role::Requester: {
        auto *w = new Waiter(Waiter::Role::Requester, ns + '/' + path, c);
        Message m;
        m.body = r.body;
        m.stream = c->bodyTransfer();
        m.headers = carriedHeaders(r, uriWithoutSecrets('/' + request.id, r.query), method);
        w->setMessage(m);
        w->setReqRes(ns, request.id);
        w->setTimeoutMs(request.timeoutMs);
        waitFor(c, w, ticket);
        return;
    }
    case Waiter::Role::Replier: {
        const int status = replyStatus(r);
        if (status < 0) {
            c->respondText(400, "Invalid Patch-Status");
            return;
        }
        auto *w = new Waiter(Waiter::Role::Replier, ns + '/' + path, c);
        Message m;
        m.body = r.body;
        m.stream = c->bodyTransfer();
        m.headers = replyHeaders(r);
        m.status = status;
        w->setMessage(m);
        w->setReplyTo(query.value("reply"));
        waitFor(c, w, ticket);
        return;
    }
    case Waiter::Role::Responder: {
        auto *w = new Waiter(Waiter::Role::Responder, ns + '/' + path, c);
        w->setReqRes(ns, request.id);
        w->setTimeoutMs(request.timeoutMs);
        if (request.responderKind == Waiter::ResponderKind::Switch) {
            const QByteArray channelName = r.body.trimmed();
            if (channelName.isEmpty() || channelName.size() > 200) {
                delete w;
                c->respondText(400, "New channel ID required in request body");
                return;
            }
            if (channelName.contains('/') || channelName.contains('?')) {
                delete w;
                c->respondText(400, "Invalid channel ID format - must not contain '/' or '?'");
                return;
            }
            w->setResponderKind(Waiter::ResponderKind::Switch, channelName);
        } else if (request.responderKind == Waiter::ResponderKind::OneShot) {
            const int status = replyStatus(r);
            if (status < 0) {
                delete w;
                c->respondText(400, "Invalid Patch-Status");
                return;
            }
            Message reply;
            reply.body = r.body;
            reply.stream = c->bodyTransfer();
            reply.headers = replyHeaders(r);
            reply.status = status;
            w->setMessage(reply);
            w->setResponderKind(Waiter::ResponderKind::OneShot);
        }
        waitFor(c, w, ticket);
        return;
    }
    case Waiter::Role::Consumer: {
        auto *w = new Waiter(Waiter::Role::Consumer, ns + '/' + path, c);
        w->setTimeoutMs(request.timeoutMs);
        if (!EventStreams::prepareConsumer(c, r, query, path, w)) { // since=, stream=sse (PROTOCOL §4.1)
            delete w;
            return;
        }
        waitFor(c, w, ticket);
        return;
    }
    case Waiter::Role::Producer: {
        const bool isGet = method == "GET";
        const QByteArray bodyParam = isGet ? query.value("body") : QByteArray();
        if (bodyParam.size() > m_settings.limits.maxBody) {
            c->respondText(413, tooLargeText(m_settings.limits.maxBody));
            return;
        }
        int minSubscribers = 0;
        if (request.mode == Waiter::Mode::Pubsub && query.has("subscribers")) {
            bool ok = false;
            minSubscribers = query.value("subscribers").toInt(&ok);
            if (!ok || minSubscribers < 1 || minSubscribers > MAX_SUBSCRIBERS_PARAM) {
                c->respondText(
                    400, QByteArray("Invalid subscribers (1 to " + QByteArray::number(MAX_SUBSCRIBERS_PARAM) + ")"));
                return;
            }
        }
        auto *w = new Waiter(Waiter::Role::Producer, ns + '/' + path, c);
        w->setMinSubscribers(minSubscribers);
        Message m;
        m.body = isGet ? bodyParam : r.body;
        m.stream = c->bodyTransfer();
        m.headers = carriedHeaders(r, uriWithoutSecrets(r.rawPath, r.query), {});
        m.status = qMax(200, replyStatus(r));
        w->setMessage(m);
        w->setMode(request.mode);
        w->setTimeoutMs(request.timeoutMs);
        waitFor(c, w, ticket);
        return;
    }
    }
}

// Another node's double clutch fetches its reply here (RemoteSwitch): a consumer that the signature admits
// (no rate limit, secret or token: the producers were checked), answered with the message's status and
// carried headers as they are.
void RelayServer::serveSwitchFetch(HttpConnection *c, const RequestClass &request)
{
    const QByteArray presented = c->request().header(RemoteSwitch::SIGNATURE_HEADER);
    if (!m_gate || request.role != Waiter::Role::Consumer || request.error.isError()
        || !HookSecret::constantTimeEquals(RemoteSwitch::signature(m_gate->hookSecret(), request.ns, request.path),
                                           presented)) {
        c->respondText(403, "Invalid switch signature");
        return;
    }
    auto *w = new Waiter(Waiter::Role::Consumer, request.ns + '/' + request.path, c);
    connect(w, &Waiter::answered, c, [c](const Answer &a) {
        if (a.kind == Answer::Kind::Message) {
            c->respond(200, RemoteSwitch::responseHeaders(a.message), a.message.body);
        } else {
            c->setCloseAfterResponse();
            c->respondText(503, "Server shutting down");
        }
    });
    deliverWhenDrained(c, w);
    m_hub->submit(w);
}

bool RelayServer::isConnectionLimitExempt(const QHostAddress &peer) const
{
    return m_gate ? m_gate->isConnectionLimitExempt(peer) : HttpHandler::isConnectionLimitExempt(peer);
}

bool RelayServer::admitUpload(HttpConnection *connection, QObject *upload)
{
    return !m_gate || m_gate->admitUpload(connection, upload);
}

void RelayServer::waitFor(HttpConnection *c, Waiter *w, const AccessGate::Ticket &ticket)
{
    if (m_gate && !m_gate->admitWaiter(c, w, ticket)) {
        delete w;
        return;
    }
    if (m_metrics) {
        m_metrics->waiterSubmitted(w);
        if (BodyTransfer *t = c->bodyTransfer()) {
            connect(t, &BodyTransfer::finished, m_metrics, [this](qint64 bytes, bool complete) {
                m_metrics->metrics()->streamedTransfer(complete, bytes);
            });
        }
    }
    if (w->isStreaming()) {
        m_events->run(c, w);
        return;
    }
    connect(w, &Waiter::answered, c, [this, c, w](const Answer &a) { onAnswered(c, w, a); });
    deliverWhenDrained(c, w);
    m_hub->submit(w);
    if (m_gate && w->isWaiting() && m_gate->refuseOverUserCap(c, ticket)) {
        delete w;
    }
}

void RelayServer::onAnswered(HttpConnection *c, Waiter *w, const Answer &a)
{
    const Waiter::Role role = w->role();
    switch (a.kind) {
    case Answer::Kind::Message: {
        if (auto *transfer = qobject_cast<BodyTransfer *>(a.message.stream.data())) {
            HeaderList headers = a.message.headers;
            if (!a.message.id.isEmpty()) {
                headers.append({QByteArrayLiteral("Patch-Id"), a.message.id});
                headers.append({QByteArrayLiteral("Patch-Time"), QByteArray::number(a.message.time)});
            }
            transfer->addSink(c, role == Waiter::Role::Requester ? a.message.status : 200, headers);
            break;
        }
        if (role == Waiter::Role::Consumer && !a.message.id.isEmpty() && !a.gap) {
            // A pubsub fan-out: every subscriber gets the same head, built once per message.
            if (m_fanoutId != a.message.id) {
                HeaderList headers = a.message.headers;
                headers.append({QByteArrayLiteral("Patch-Id"), a.message.id});
                headers.append({QByteArrayLiteral("Patch-Time"), QByteArray::number(a.message.time)});
                m_fanoutResponse = HttpConnection::prepare(m_http, 200, headers, a.message.body);
                m_fanoutId = a.message.id;
                // The engine hands a message to all its receivers within one call: once control is back
                // in the event loop the fan-out is over, and the body (up to the body limit) is let go.
                QMetaObject::invokeMethod(
                    this,
                    [this]() {
                        m_fanoutId.clear();
                        m_fanoutResponse = {};
                    },
                    Qt::QueuedConnection);
            }
            c->respondPrepared(m_fanoutResponse);
            break;
        }
        HeaderList headers = a.message.headers;
        if (!a.message.id.isEmpty()) {
            headers.append({QByteArrayLiteral("Patch-Id"), a.message.id});
            headers.append({QByteArrayLiteral("Patch-Time"), QByteArray::number(a.message.time)});
        }
        if (a.gap) {
            headers.append({QByteArrayLiteral("Patch-Gap"), QByteArrayLiteral("true")});
        }
        c->respond(role == Waiter::Role::Requester ? a.message.status : 200, headers, a.message.body);
        break;
    }
    case Answer::Kind::Done: {
        HeaderList headers;
        if (a.subscribers >= 0) {
            headers.append({QByteArrayLiteral("Patch-Subscribers"), QByteArray::number(a.subscribers)});
            headers.append({QByteArrayLiteral("Patch-Id"), a.message.id});
            headers.append({QByteArrayLiteral("Patch-Time"), QByteArray::number(a.message.time)});
        }
        c->respond(200, headers, {});
        break;
    }
    case Answer::Kind::Timeout:
        if (role == Waiter::Role::Producer) {
            c->respondText(504, "No consumer within timeout");
        } else if (role == Waiter::Role::Requester) {
            c->respondText(504, "No responder within timeout");
        } else {
            c->respond(204, {}, {});
        }
        break;
    case Answer::Kind::ReplyTimeout:
        c->respondText(504, "Responder did not reply");
        break;
    case Answer::Kind::SwitchTimeout:
        c->respondText(504,
                       QByteArray("Double clutch timeout: No response received on channel '" + a.detail + "' within "
                                  + QByteArray::number(a.seconds) + " seconds"));
        break;
    case Answer::Kind::NoPendingRequest:
        c->respondText(404, "No pending request");
        break;
    case Answer::Kind::ShuttingDown:
        c->setCloseAfterResponse();
        c->respondText(503, "Server shutting down");
        break;
    case Answer::Kind::ReceiverLeft: {
        const BodyTransfer *t = c->bodyTransfer();
        const qint64 relayed = t ? t->bytesRelayed() : 0;
        QByteArray text = "Receiver left after " + QByteArray::number(relayed);
        if (t && t->contentLength() >= 0) {
            text += " of " + QByteArray::number(t->contentLength());
        }
        text += " bytes (a streamed body is not re-queued)";
        c->respondText(502, text);
        break;
    }
    }
}

// --- lifecycle ---------------------------------------------------------------------------------------

void RelayServer::shutdown(int graceMs)
{
    if (m_stopping) {
        return;
    }
    m_stopping = true;
    m_http->stopAccepting();
    m_hub->shutdown();
    m_tunnels->closeAll();
    m_grace.setRemainingTime(graceMs);
    // Polled: the first check comes one interval later, which gives the last responses a moment to flush.
    connect(&m_stopPoll, &QTimer::timeout, this, &RelayServer::checkStopped);
    m_stopPoll.start(50);
}

void RelayServer::checkStopped()
{
    if (m_hub->inFlightCount() == 0 || m_grace.hasExpired()) {
        m_stopPoll.stop();
        Q_EMIT stopped();
    }
}

} // namespace Patchwork::Server
