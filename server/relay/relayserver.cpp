// SPDX-License-Identifier: MIT
#include "relay/relayserver.h"

#include <QFile>
#include <QTimer>

#include "http/httpconnection.h"
#include "http/httputil.h"
#include "http/serverlogging.h"
#include "relay/notifyendpoint.h"
#include "relay/relaymetrics.h"
#include "tunnel/tunnelserver.h"
#include "util/clock.h"

namespace Patchwork::Server
{

namespace
{

const QByteArray CONTENT_TYPE = QByteArrayLiteral("Content-Type");
const QByteArray TEXT_PLAIN = QByteArrayLiteral("text/plain");
const QByteArray PATCH_H = QByteArrayLiteral("patch-h-");

// Never carried from a request into a relayed response, whatever Patch-H- says (PROTOCOL §6).
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
    return name.size() >= 15 && name.first(15).compare("Access-Control-", Qt::CaseInsensitive) == 0;
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

QByteArray uriWithoutSecrets(const QByteArray &path, const QByteArray &query)
{
    const QByteArray q = QueryParams::without(query, {"token", "secret"});
    return q.isEmpty() ? path : path + '?' + q;
}

const QByteArray ALLOW_CHANNEL = QByteArrayLiteral("GET, POST, PUT, OPTIONS");

} // namespace

RelayServer::RelayServer(Clock *clock, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
    , m_hub(new ChannelHub(clock, this))
    , m_http(new HttpServer(this, this))
{
    m_tunnels = new TunnelServer(clock, this);
    m_events = new EventStreams(m_hub, this);
}

RelayServer::~RelayServer()
{
    // Connections (and the waiters they own) go before the engine they report to.
    delete m_http;
    m_http = nullptr;
}

void RelayServer::setSettings(const Settings &settings)
{
    m_settings = settings;
    m_http->setLimits(settings.limits);
    m_hub->setSettings(settings.hub);
    m_tunnels->setSettings(settings.tunnel);
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
    const QByteArray path = QByteArray::fromPercentEncoding(removeDotSegments(r.rawPath));

    if (path == "/") {
        serveIndex(c);
    } else if (path == "/healthz" || path == "/status") {
        c->respondText(200, "OK!");
    } else if (path == "/patchwork.sh" || path == "/static/patchwork.sh") {
        serveAsset(c, u":/assets/patchwork.sh"_qs, QByteArrayLiteral("text/x-shellscript; charset=utf-8"));
    } else if (path == "/favicon.ico" || path == "/static/favicon.svg") {
        serveAsset(c, u":/assets/favicon.svg"_qs, QByteArrayLiteral("image/svg+xml"));
    } else if (path == "/metrics") {
        serveMetrics(c);
    } else if (path.startsWith("/public/")) {
        handleChannel(c, r, QByteArrayLiteral("public"), path.mid(8), Namespace::Public);
    } else if (path.startsWith("/p/")) {
        handleChannel(c, r, QByteArrayLiteral("public"), path.mid(3), Namespace::Public);
    } else if (m_gate && (path == "/h" || path == "/r")) {
        m_gate->createHook(c, path.at(1));
    } else if (m_gate && (path.startsWith("/h/") || path.startsWith("/r/"))) {
        handleChannel(c, r, path.mid(1, 1), path.mid(3), Namespace::Hooks);
    } else if (m_gate && path.startsWith("/u/")) {
        handleUser(c, path);
    } else if (path.startsWith("/huproxy/")) {
        m_tunnels->handle(c, path.mid(9));
    } else {
        c->respondText(404, "Not found");
    }
}

// /u/<user>/<path>, /u/<user>/_/ntfy and /u/<user>/_/<admin> (PROTOCOL §1, §8–§10).
void RelayServer::handleUser(HttpConnection *c, const QByteArray &path)
{
    const qsizetype slash = path.indexOf('/', 3);
    if (slash < 0 || !AccessGate::isValidUserName(QByteArrayView(path).sliced(3, slash - 3))) {
        c->respondText(404, "Not found");
        return;
    }
    const QByteArrayView user = QByteArrayView(path).sliced(3, slash - 3);
    const QByteArray rest = path.mid(slash + 1);
    if (rest == "_/ntfy") {
        if (m_notify) {
            m_notify->handle(c, c->request(), user.toByteArray());
        } else {
            c->respondText(503, "Notification backend not configured");
        }
        return;
    }
    if (rest.startsWith("_/")) {
        m_gate->handleAdmin(c, user, QByteArrayView(rest).sliced(2));
        return;
    }
    handleChannel(c, c->request(), path.mid(1, slash - 1), rest, Namespace::User);
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
                                const QByteArray &ns,
                                const QByteArray &path,
                                Namespace kind)
{
    if (path.isEmpty() || path.startsWith("_/")) {
        c->respondText(404, "Not found");
        return;
    }
    if ((path.startsWith("req/") || path.startsWith("res/")) && path.size() == 4) {
        c->respondText(400, "Channel ID required");
        return;
    }
    const QByteArray &method = r.method;
    const QueryParams query(r.query);

    // Rate limit, then the hook secret or the token (PROTOCOL §2 "Order of checks").
    AccessGate::Ticket ticket;
    if (m_gate) {
        AccessGate::Action action = AccessGate::Action::Produce;
        if (method == "OPTIONS") {
            action = AccessGate::Action::Preflight;
        } else if (path.startsWith("req/")) {
            action = AccessGate::Action::Request;
        } else if (path.startsWith("res/")) {
            const bool reply = (method == "POST" || method == "PUT") && query.has("reply");
            action = reply ? AccessGate::Action::Reply : AccessGate::Action::Respond;
        } else if (method == "GET" && query.value("body").isEmpty()) {
            action = AccessGate::Action::Consume;
        }
        const AccessGate::Zone zone = kind == Namespace::User    ? AccessGate::Zone::User
                                      : kind == Namespace::Hooks ? AccessGate::Zone::Hooks
                                                                 : AccessGate::Zone::Public;
        switch (m_gate->check(c, r, {zone, ns, path, action, &query}, &ticket)) {
        case AccessGate::Verdict::Allowed:
            break;
        case AccessGate::Verdict::Denied:
            return;
        case AccessGate::Verdict::Pending:
            // The user's configuration is being fetched: handle the request again once it is known.
            m_gate->whenConfigReady(c, QByteArrayView(ns).sliced(2), [this, c, copy = r, ns, path, kind]() {
                handleChannel(c, copy, ns, path, kind);
            });
            return;
        }
    }

    if (method == "OPTIONS") {
        c->respond(204,
                   {{QByteArrayLiteral("Access-Control-Allow-Methods"),
                     QByteArrayLiteral("GET, POST, PUT, DELETE, PATCH, OPTIONS")},
                    {QByteArrayLiteral("Access-Control-Allow-Headers"), QByteArrayLiteral("*")},
                    {QByteArrayLiteral("Access-Control-Max-Age"), QByteArrayLiteral("86400")}},
                   {});
        return;
    }
    const bool isReq = path.startsWith("req/");
    const bool isRes = path.startsWith("res/");
    const bool isGet = method == "GET";
    const bool isPost = method == "POST" || method == "PUT";

    // Method check (405) before parameters (400).
    if (isRes && !isGet && !isPost) {
        c->respondText(405, "Method not allowed", {{QByteArrayLiteral("Allow"), ALLOW_CHANNEL}});
        return;
    }
    if (!isReq && !isRes && !isGet && !isPost) {
        c->respondText(405, "Method not allowed", {{QByteArrayLiteral("Allow"), ALLOW_CHANNEL}});
        return;
    }
    if (isRes && isGet && query.has("switch")) {
        c->respondText(405,
                       "Switch mode requires POST or PUT method",
                       {{QByteArrayLiteral("Allow"), QByteArrayLiteral("POST, PUT")}});
        return;
    }

    qint64 timeoutMs = 0;
    if (query.has("timeout")) {
        const auto t = parseTimeoutParam(query.value("timeout"));
        if (!t) {
            c->respondText(400, "Invalid timeout");
            return;
        }
        timeoutMs = *t;
    }

    if (isReq || isRes) {
        const QByteArray id = path.mid(4);
        if (isReq) {
            auto *w = new Waiter(Waiter::Role::Requester, ns + '/' + path, c);
            Message m;
            m.body = r.body;
            m.headers = carriedHeaders(r, uriWithoutSecrets('/' + id, r.query), method);
            w->setMessage(m);
            w->setReqRes(ns, id);
            w->setTimeoutMs(timeoutMs);
            waitFor(c, w, ticket);
            return;
        }
        if (isPost && query.has("reply")) {
            const int status = replyStatus(r);
            if (status < 0) {
                c->respondText(400, "Invalid Patch-Status");
                return;
            }
            auto *w = new Waiter(Waiter::Role::Replier, ns + "/res/" + id, c);
            Message m;
            m.body = r.body;
            m.headers = replyHeaders(r);
            m.status = status;
            w->setMessage(m);
            w->setReplyTo(query.value("reply"));
            waitFor(c, w, ticket);
            return;
        }
        auto *w = new Waiter(Waiter::Role::Responder, ns + "/res/" + id, c);
        w->setReqRes(ns, id);
        w->setTimeoutMs(timeoutMs);
        if (isPost && query.isTruthy("switch")) {
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
        } else if (isPost) {
            const int status = replyStatus(r);
            if (status < 0) {
                delete w;
                c->respondText(400, "Invalid Patch-Status");
                return;
            }
            Message reply;
            reply.body = r.body;
            reply.headers = replyHeaders(r);
            reply.status = status;
            w->setMessage(reply);
            w->setResponderKind(Waiter::ResponderKind::OneShot);
        }
        waitFor(c, w, ticket);
        return;
    }

    // Queue, pubsub or flexible.
    const QByteArray key = ns + '/' + path;
    const QByteArray bodyParam = isGet ? query.value("body") : QByteArray();
    if (isGet && bodyParam.isEmpty()) {
        auto *w = new Waiter(Waiter::Role::Consumer, key, c);
        w->setTimeoutMs(timeoutMs);
        if (!EventStreams::prepareConsumer(c, r, query, path, w)) { // since=, stream=sse (PROTOCOL §4.1)
            delete w;
            return;
        }
        waitFor(c, w, ticket);
        return;
    }
    if (bodyParam.size() > m_settings.limits.maxBody) {
        c->respondText(
            413, QByteArray("Payload too large (limit " + QByteArray::number(m_settings.limits.maxBody) + " bytes)"));
        return;
    }
    const bool pubsub = path.startsWith("pubsub/") || (!path.startsWith("queue/") && query.isTruthy("pubsub"));
    auto *w = new Waiter(Waiter::Role::Producer, key, c);
    Message m;
    m.body = isGet ? bodyParam : r.body;
    m.headers = carriedHeaders(r, uriWithoutSecrets(r.rawPath, r.query), {});
    m.status = qMax(200, replyStatus(r));
    w->setMessage(m);
    w->setMode(pubsub ? Waiter::Mode::Pubsub : Waiter::Mode::Queue);
    w->setTimeoutMs(timeoutMs);
    waitFor(c, w, ticket);
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
    }
    if (w->isStreaming()) {
        m_events->run(c, w);
        return;
    }
    connect(w, &Waiter::answered, c, [this, c, w](const Answer &a) { onAnswered(c, w, a); });
    connect(c, &HttpConnection::drained, w, [w]() {
        w->delivered();
        w->deleteLater();
    });
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
        if (role == Waiter::Role::Consumer && !a.message.id.isEmpty() && !a.gap) {
            // A pubsub fan-out: every subscriber gets the same head, built once per message.
            if (m_fanoutId != a.message.id) {
                HeaderList headers = a.message.headers;
                headers.append({QByteArrayLiteral("Patch-Id"), a.message.id});
                headers.append({QByteArrayLiteral("Patch-Time"), QByteArray::number(a.message.time)});
                m_fanoutResponse = HttpConnection::prepare(200, headers, a.message.body);
                m_fanoutId = a.message.id;
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
    QTimer::singleShot(graceMs, this, &RelayServer::stopped);
    auto *poll = new QTimer(this);
    connect(poll, &QTimer::timeout, this, &RelayServer::checkStopped);
    poll->start(50);
    checkStopped();
}

void RelayServer::checkStopped()
{
    if (m_hub->inFlightCount() == 0) {
        // Give the last responses a moment to flush, then report.
        QTimer::singleShot(50, this, &RelayServer::stopped);
    }
}

} // namespace Patchwork::Server
