// SPDX-License-Identifier: MIT
#pragma once

#include <functional>
#include <optional>

#include <QByteArray>
#include <QByteArrayView>
#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QPointer>

#include "access/clientaddress.h"
#include "access/configsource.h"
#include "access/hooksecret.h"
#include "access/ratelimiter.h"
#include "access/requestclass.h"

namespace Patchwork
{
class Clock;
class Metrics;
class QueryParams;
class Waiter;
} // namespace Patchwork

namespace Patchwork::Server
{

class HttpConnection;
struct HttpRequest;

// Who may do what on the relay: hook secrets (PROTOCOL §7), user tokens and ACLs (§8), the admin
// endpoint (§9), access to /metrics (§12), rate limits and the waiting cap per client (§13).
//
// The router asks it at one point of each request (after the path was found valid, before the
// method and parameters are checked, PROTOCOL §2 "Order of checks"); when it refuses, it has
// written the response itself. It keeps no per-request state: hot paths do one hash lookup for the
// rate limiter, one HMAC for a hook secret, or one config lookup plus a pattern match for a user
// namespace (configurations are parsed once by the ConfigSource, patterns compiled once).
//
// The daemon and the tray construct it with the same parts; none of them is optional except the
// config source (without one no user has a configuration) and the metrics registry.
class AccessGate final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AccessGate)

public:
    // What may change at run time (SIGHUP).
    struct Settings
    {
        TrustedProxies trustedProxies; // default: loopback only
        RateLimitSettings rateLimit; // public and hook namespaces
        QByteArray metricsToken; // empty = none: remote clients get 403 on /metrics
        bool metricsPublic = false; // /metrics for everyone
        // Clients on this machine (after trusted-proxy resolution) are not rate limited unless set.
        bool limitLoopback = false;
        // Waiting requests in one user namespace (from clients that are limited); 0 = no limit.
        int maxWaitingPerUser = 1024;
    };

    struct Access
    {
        RequestNamespace zone = RequestNamespace::Public;
        QByteArrayView ns; // "public", "h", "r" or "u/<user>"
        QByteArrayView path; // <path> inside the namespace, percent-decoded
        RequestAction action = RequestAction::Consume;
        const QueryParams *query = nullptr; // the request's query, parsed once by the router
    };

    // What check() learnt about the client, for admitWaiter().
    struct Ticket
    {
        QHostAddress client;
        bool limited = false; // public or hook namespace: the waiting cap applies
        QString user; // user namespace, client not exempt: the per-user waiting cap applies
    };

    enum class Verdict
    {
        Allowed,
        Denied, // the response has been written
        Pending, // the user's configuration is being fetched: call whenConfigReady() and try again
    };

    // `configs` (may be null) and `metrics` (may be null) are not owned and must outlive the gate.
    AccessGate(Clock *clock,
               const HookSecret &secret,
               ConfigSource *configs,
               Metrics *metrics,
               QObject *parent = nullptr);
    ~AccessGate() override;

    void setSettings(const Settings &settings);
    const Settings &settings() const;
    ConfigSource *configSource() const;
    Metrics *metrics() const;
    RateLimiter *rateLimiter() const;
    const HookSecret &hookSecret() const;

    // The client of a request (PROTOCOL §13): the peer, or what a trusted proxy forwarded for.
    QHostAddress clientAddress(const HttpRequest &request) const;
    // Whether the request came through a trusted proxy, so its X-Forwarded-Proto/-Host count.
    bool isFromTrustedProxy(const HttpRequest &request) const;

    // The channel check: rate limit (public and hooks), then the hook secret or the user's token.
    // `request` is the request being handled (the connection's, or a copy kept across a Pending).
    Verdict check(HttpConnection *c, const HttpRequest &request, const Access &access, Ticket *ticket);
    // After Pending: calls `resume` once the configuration of `user` (the <user> of /u/<user>/) is
    // known; never if `c` goes first.
    void whenConfigReady(HttpConnection *c, QByteArrayView user, std::function<void()> resume);
    // The waiting caps (PROTOCOL §13, and per user): count a request that starts to wait until
    // `waiter` is destroyed. False (after answering 429) when the client already has the maximum
    // waiting.
    bool admitWaiter(HttpConnection *c, QObject *waiter, const Ticket &ticket);
    // After the engine took an admitted request that is left waiting (not matched at once): true
    // (after answering 429; the caller drops the waiter) when its user has more than the maximum
    // waiting. Requests that are answered at once, e.g. a producer for a waiting consumer, always pass.
    bool refuseOverUserCap(HttpConnection *c, const Ticket &ticket);
    // A request body starts to upload: it counts against its client's waiting cap until `upload` is
    // destroyed (in any namespace: the body arrives before any credentials are checked).
    bool admitUpload(HttpConnection *c, QObject *upload);
    // Whether a peer is exempt from the per-address connection limit: a trusted proxy, or a client on
    // this machine unless loopback clients are limited.
    bool isConnectionLimitExempt(const QHostAddress &peer) const;

    // GET /h, GET /r (PROTOCOL §7); kind is 'h' or 'r'.
    void createHook(HttpConnection *c, char kind);
    // /u/<user>/_/<name> (PROTOCOL §9).
    void handleAdmin(HttpConnection *c, QByteArrayView user, QByteArrayView name);
    // Whether /metrics may be served to this client (PROTOCOL §12); false after answering 401/403.
    bool allowMetrics(HttpConnection *c);

private:
    bool takeRateToken(HttpConnection *c, const QHostAddress &client);
    bool isLimited(const QHostAddress &client) const;
    bool checkHookSecret(HttpConnection *c, const Access &access);
    Verdict checkUser(HttpConnection *c, const HttpRequest &request, const Access &access);
    // The configuration of `user` if the source answers at once.
    std::optional<ConfigLookup> lookupNow(const QString &user);
    void finishAdmin(HttpConnection *c,
                     const QString &user,
                     QByteArrayView name,
                     QByteArrayView method,
                     QByteArrayView token,
                     const ConfigLookup &lookup);
    void countAuth(int status);

    Clock *m_clock;
    HookSecret m_secret;
    QPointer<ConfigSource> m_configs;
    Metrics *m_metrics;
    RateLimiter *m_limiter;
    Settings m_settings;
    // lookupNow(): where a synchronous answer goes, and which lookup it belongs to.
    std::optional<ConfigLookup> *m_syncResult = nullptr;
    quint64 m_lookupGeneration = 0;
    QHash<QString, int> m_userWaiting;
};

} // namespace Patchwork::Server
