// SPDX-License-Identifier: MIT
#include "relay/accessgate.h"

#include <QDateTime>

#include "access/acl.h"
#include "engine/waiter.h"
#include "http/httpconnection.h"
#include "http/httputil.h"
#include "http/serverlogging.h"
#include "util/clock.h"
#include "util/metrics.h"

namespace Patchwork::Server
{

namespace
{

const QByteArray WWW_AUTHENTICATE = QByteArrayLiteral("WWW-Authenticate");
const QByteArray BEARER_REALM = QByteArrayLiteral("Bearer realm=\"patchwork\"");
const QByteArray AUTHORIZATION = QByteArrayLiteral("Authorization");

// The user of a namespace "u/<user>".
QString userOf(QByteArrayView ns)
{
    return QString::fromLatin1(ns.sliced(2));
}

// A hook write (PROTOCOL §7): producers (GET ?body= and PUT included) and requesters. Everything else
// (consumers, responders of every kind, replies) reads.
bool isHookWrite(RequestAction action)
{
    return action == RequestAction::Produce || action == RequestAction::Request;
}

// The presented token: the Authorization header (Bearer, token or bare), else ?token=.
// `storage` keeps the bytes the returned view points into.
QByteArrayView presentedToken(const HttpRequest &r, const QueryParams *query, QByteArray *storage)
{
    *storage = r.header(AUTHORIZATION);
    QByteArrayView token = tokenFromAuthorization(*storage);
    if (token.isEmpty() && query) {
        *storage = query->value("token");
        token = tokenFromAuthorization(*storage);
    }
    return token;
}

} // namespace

AccessGate::AccessGate(Clock *clock, const HookSecret &secret, ConfigSource *configs, Metrics *metrics, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
    , m_secret(secret)
    , m_configs(configs)
    , m_metrics(metrics)
    , m_limiter(new RateLimiter(clock, RateLimitSettings(), this))
{
    if (m_configs && m_metrics) {
        connect(m_configs, &ConfigSource::cacheEvent, this, [this](ConfigCacheEvent event) {
            switch (event) {
            case ConfigCacheEvent::Hit:
                m_metrics->cache(MetricCacheEvent::Hit);
                break;
            case ConfigCacheEvent::Miss:
                m_metrics->cache(MetricCacheEvent::Miss);
                break;
            case ConfigCacheEvent::Stale:
                m_metrics->cache(MetricCacheEvent::Stale);
                break;
            }
        });
    }
}

AccessGate::~AccessGate() = default;

void AccessGate::setSettings(const Settings &settings)
{
    m_settings = settings;
    m_limiter->setSettings(settings.rateLimit);
}

const AccessGate::Settings &AccessGate::settings() const
{
    return m_settings;
}

ConfigSource *AccessGate::configSource() const
{
    return m_configs;
}

Metrics *AccessGate::metrics() const
{
    return m_metrics;
}

RateLimiter *AccessGate::rateLimiter() const
{
    return m_limiter;
}

const HookSecret &AccessGate::hookSecret() const
{
    return m_secret;
}

// --- client identity ---------------------------------------------------------------------------------

QHostAddress AccessGate::clientAddress(const HttpRequest &r) const
{
    const TrustedProxies &proxies = m_settings.trustedProxies;
    if (!proxies.isTrusted(r.peer)) {
        return TrustedProxies::normalized(r.peer);
    }
    // Repeated X-Forwarded-For lines are one list (RFC 9110 §5.3), joined with ", ".
    QByteArrayView xff;
    QByteArray joined;
    QByteArrayView realIp;
    QByteArrayView cfIp;
    for (const auto &h : r.headers) {
        const QByteArrayView name(h.first);
        if (name.compare("X-Forwarded-For", Qt::CaseInsensitive) == 0) {
            if (xff.isNull()) {
                xff = h.second;
            } else {
                if (joined.isEmpty()) {
                    joined = xff.toByteArray();
                }
                joined += ", ";
                joined += h.second;
                xff = joined;
            }
        } else if (realIp.isNull() && name.compare("X-Real-IP", Qt::CaseInsensitive) == 0) {
            realIp = h.second;
        } else if (cfIp.isNull() && name.compare("CF-Connecting-IP", Qt::CaseInsensitive) == 0) {
            cfIp = h.second;
        }
    }
    return proxies.clientAddress(r.peer, xff, realIp, cfIp);
}

bool AccessGate::isFromTrustedProxy(const HttpRequest &request) const
{
    return m_settings.trustedProxies.isTrusted(request.peer);
}

bool AccessGate::takeRateToken(HttpConnection *c, const QHostAddress &client)
{
    const RateLimiter::Decision decision = m_limiter->take(client);
    if (decision.allowed) {
        return true;
    }
    if (m_metrics) {
        m_metrics->rateLimited();
    }
    c->respondText(429,
                   "Rate limit exceeded",
                   {{QByteArrayLiteral("Retry-After"), QByteArray::number(decision.retryAfterSeconds)}});
    return false;
}

bool AccessGate::isLimited(const QHostAddress &client) const
{
    return m_settings.limitLoopback || !TrustedProxies::isLoopback(client);
}

bool AccessGate::admitWaiter(HttpConnection *c, QObject *waiter, const Ticket &ticket)
{
    if (ticket.limited && m_settings.rateLimit.maxWaiting > 0) {
        if (!m_limiter->acquireWaiting(ticket.client)) {
            if (m_metrics) {
                m_metrics->rateLimited();
            }
            c->respondText(429, "Too many waiting requests");
            return false;
        }
        // The slot is held while the waiter exists: until its answer drained, or its client left.
        connect(waiter, &QObject::destroyed, m_limiter, [limiter = m_limiter, client = ticket.client]() {
            limiter->releaseWaiting(client);
        });
    }
    if (!ticket.user.isEmpty() && m_settings.maxWaitingPerUser > 0) {
        // Counted here, refused by refuseOverUserCap() only if it is left waiting.
        ++m_userWaiting[ticket.user];
        connect(waiter, &QObject::destroyed, this, [this, user = ticket.user]() {
            const auto it = m_userWaiting.find(user);
            if (it != m_userWaiting.end() && --*it <= 0) {
                m_userWaiting.erase(it);
            }
        });
    }
    return true;
}

bool AccessGate::refuseOverUserCap(HttpConnection *c, const Ticket &ticket)
{
    if (ticket.user.isEmpty() || m_settings.maxWaitingPerUser <= 0
        || m_userWaiting.value(ticket.user) <= m_settings.maxWaitingPerUser) {
        return false;
    }
    if (m_metrics) {
        m_metrics->rateLimited();
    }
    c->respondText(429, "Too many waiting requests for this user");
    return true;
}

bool AccessGate::admitUpload(HttpConnection *c, QObject *upload)
{
    Ticket ticket;
    ticket.client = clientAddress(c->request());
    ticket.limited = isLimited(ticket.client);
    return admitWaiter(c, upload, ticket);
}

bool AccessGate::isConnectionLimitExempt(const QHostAddress &peer) const
{
    return m_settings.trustedProxies.isTrusted(peer) || !isLimited(TrustedProxies::normalized(peer));
}

// --- channels ----------------------------------------------------------------------------------------

AccessGate::Verdict AccessGate::check(HttpConnection *c, const HttpRequest &r, const Access &a, Ticket *ticket)
{
    const RateLimitSettings &limits = m_settings.rateLimit;
    if (a.zone != RequestNamespace::User && (limits.ratePerSecond > 0 || limits.maxWaiting > 0)) {
        ticket->client = clientAddress(r);
        ticket->limited = isLimited(ticket->client);
        if (ticket->limited && !takeRateToken(c, ticket->client)) {
            return Verdict::Denied;
        }
    } else if (a.zone == RequestNamespace::User && m_settings.maxWaitingPerUser > 0 && isLimited(clientAddress(r))) {
        ticket->user = userOf(a.ns);
    }
    if (a.action == RequestAction::Preflight) {
        return Verdict::Allowed;
    }
    switch (a.zone) {
    case RequestNamespace::Public:
        return Verdict::Allowed;
    case RequestNamespace::Hooks:
        return checkHookSecret(c, a) ? Verdict::Allowed : Verdict::Denied;
    case RequestNamespace::User:
        return checkUser(c, r, a);
    }
    return Verdict::Denied;
}

bool AccessGate::checkHookSecret(HttpConnection *c, const Access &a)
{
    const char kind = a.ns == "h" ? 'h' : 'r';
    // Forward hooks (/h) guard writes, reverse hooks (/r) guard reads.
    if (isHookWrite(a.action) != (kind == 'h')) {
        return true;
    }
    const QByteArray presented = a.query ? a.query->value("secret") : QByteArray();
    if (presented.isEmpty()) {
        c->respondText(401, "Secret required");
        return false;
    }
    if (!m_secret.verify(kind, HookSecret::channelNameView(a.path), presented)) {
        c->respondText(401, "Invalid secret");
        return false;
    }
    return true;
}

AccessGate::Verdict AccessGate::checkUser(HttpConnection *c, const HttpRequest &r, const Access &a)
{
    const std::optional<ConfigLookup> lookup = lookupNow(userOf(a.ns));
    if (!lookup) {
        return Verdict::Pending;
    }
    QByteArray storage;
    const QByteArrayView token = presentedToken(r, a.query, &storage);
    const AclResult result = Acl::checkRequest(*lookup,
                                               token,
                                               !token.isEmpty(),
                                               a.action,
                                               r.method,
                                               a.path,
                                               QDateTime::fromMSecsSinceEpoch(m_clock->unixMs(), Qt::UTC));
    countAuth(result.status);
    if (result.allowed) {
        return Verdict::Allowed;
    }
    if (result.status == 401) {
        c->respondText(401, Acl::denialText(result), {{WWW_AUTHENTICATE, BEARER_REALM}});
    } else {
        c->respondText(result.status, Acl::denialText(result));
    }
    return Verdict::Denied;
}

std::optional<ConfigLookup> AccessGate::lookupNow(const QString &user)
{
    if (!m_configs) {
        return ConfigLookup::noConfig();
    }
    std::optional<ConfigLookup> result;
    m_syncResult = &result;
    // A source that answers later calls this after m_syncResult was reset (or points at another
    // lookup: the generation tells them apart), so the late answer is dropped; the router then waits
    // through whenConfigReady(), and the source has the configuration by the time it asks again.
    m_configs->lookup(user, this, [this, generation = ++m_lookupGeneration](const ConfigLookup &lookup) {
        if (m_syncResult && generation == m_lookupGeneration) {
            *m_syncResult = lookup;
        }
    });
    m_syncResult = nullptr;
    return result;
}

void AccessGate::whenConfigReady(HttpConnection *c, QByteArrayView user, std::function<void()> resume)
{
    if (!m_configs) {
        resume();
        return;
    }
    m_configs->lookup(QString::fromLatin1(user), c, [resume = std::move(resume)](const ConfigLookup &) { resume(); });
}

void AccessGate::countAuth(int status)
{
    if (!m_metrics) {
        return;
    }
    m_metrics->auth(status == 0     ? MetricAuthResult::Success
                    : status == 503 ? MetricAuthResult::Error
                                    : MetricAuthResult::Denied);
}

// --- hooks -------------------------------------------------------------------------------------------

void AccessGate::createHook(HttpConnection *c, char kind)
{
    const HttpRequest &r = c->request();
    if (!takeRateToken(c, clientAddress(r))) {
        return;
    }
    if (r.method != "GET") {
        c->respondText(405, "Method not allowed", {{QByteArrayLiteral("Allow"), QByteArrayLiteral("GET")}});
        return;
    }
    const QByteArray channel = HookSecret::newUuidV4();
    QByteArray body;
    body.reserve(128);
    body += "{\"channel\":\"";
    body += channel;
    body += "\",\"secret\":\"";
    body += m_secret.secretFor(kind, channel);
    body += "\"}\n";
    c->respond(200, {{QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json")}}, body);
}

// --- admin -------------------------------------------------------------------------------------------

void AccessGate::handleAdmin(HttpConnection *c, QByteArrayView user, QByteArrayView name)
{
    const HttpRequest &r = c->request();
    // PROTOCOL §9: the Authorization header only, never ?token= and never the implicit `public`.
    const QByteArray header = r.header(AUTHORIZATION);
    const QByteArray token = tokenFromAuthorization(header).toByteArray();
    if (token.isEmpty()) {
        countAuth(401);
        c->respondText(401, "Authorization required", {{WWW_AUTHENTICATE, BEARER_REALM}});
        return;
    }
    const QString userName = QString::fromLatin1(user);
    if (!m_configs) {
        finishAdmin(c, userName, name, r.method, token, ConfigLookup::noConfig());
        return;
    }
    // The request's own data is gone once handleRequest() returns, so the answer keeps copies.
    m_configs->lookup(
        userName,
        c,
        [self = QPointer<AccessGate>(this), c, userName, name = name.toByteArray(), method = r.method, token](
            const ConfigLookup &lookup) {
            if (self) {
                self->finishAdmin(c, userName, name, method, token, lookup);
            }
        });
}

void AccessGate::finishAdmin(HttpConnection *c,
                             const QString &user,
                             QByteArrayView name,
                             QByteArrayView method,
                             QByteArrayView token,
                             const ConfigLookup &lookup)
{
    const AclResult result =
        Acl::checkAdmin(lookup, token, true, QDateTime::fromMSecsSinceEpoch(m_clock->unixMs(), Qt::UTC));
    countAuth(result.status);
    if (!result.allowed) {
        if (result.status == 401) {
            c->respondText(401, Acl::adminDenialText(result), {{WWW_AUTHENTICATE, BEARER_REALM}});
        } else {
            c->respondText(result.status, Acl::adminDenialText(result));
        }
        return;
    }
    if (name != "invalidate_cache") {
        c->respondText(404, "Unknown administrative endpoint");
        return;
    }
    if (method != "GET" && method != "POST") {
        c->respondText(405, "Method not allowed", {{QByteArrayLiteral("Allow"), QByteArrayLiteral("GET, POST")}});
        return;
    }
    if (m_configs) {
        m_configs->invalidate(user);
    }
    qCInfo(lcServer).noquote() << "admin: configuration cache of user" << user << "invalidated";
    c->respond(200,
               {{QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json")}},
               QByteArrayLiteral("{\"status\": \"cache invalidated\"}\n"));
}

// --- metrics -----------------------------------------------------------------------------------------

bool AccessGate::allowMetrics(HttpConnection *c)
{
    if (m_settings.metricsPublic) {
        return true;
    }
    const HttpRequest &r = c->request();
    if (TrustedProxies::isLoopback(clientAddress(r))) {
        return true;
    }
    const QueryParams query(r.query);
    QByteArray storage;
    const QByteArrayView token = presentedToken(r, &query, &storage);
    if (token.isEmpty()) {
        c->respondText(401, "Access denied: metrics token required", {{WWW_AUTHENTICATE, BEARER_REALM}});
        return false;
    }
    if (m_settings.metricsToken.isEmpty()) {
        c->respondText(403, "Access denied: no metrics token configured");
        return false;
    }
    if (!HookSecret::constantTimeEquals(m_settings.metricsToken, token)) {
        c->respondText(403, "Access denied: invalid metrics token");
        return false;
    }
    return true;
}

} // namespace Patchwork::Server
