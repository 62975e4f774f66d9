// SPDX-License-Identifier: MIT
#include "relay/relaymetrics.h"

#include "engine/channelhub.h"
#include "http/httpconnection.h"
#include "http/httpserver.h"
#include "http/httputil.h"

namespace Patchwork::Server
{

namespace
{

std::optional<MetricNamespace> classifyPath(QByteArrayView path)
{
    if (path.startsWith("/public/") || path.startsWith("/p/")) {
        return MetricNamespace::Public;
    }
    if (path == "/h" || path == "/r" || path.startsWith("/h/") || path.startsWith("/r/")) {
        return MetricNamespace::Hooks;
    }
    if (path.startsWith("/u/")) {
        const QByteArrayView rest = path.sliced(3);
        const qsizetype slash = rest.indexOf('/');
        if (slash >= 0) {
            const QByteArrayView inside = rest.sliced(slash + 1);
            if (inside == "_/ntfy") {
                return MetricNamespace::UserNtfy;
            }
            if (inside.startsWith("_/")) {
                return MetricNamespace::UserAdmin;
            }
        }
        return MetricNamespace::User;
    }
    if (path.startsWith("/huproxy/")) {
        return MetricNamespace::Huproxy;
    }
    return std::nullopt;
}

} // namespace

RelayMetrics::RelayMetrics(Metrics *metrics, ChannelHub *hub, HttpServer *http, QObject *parent)
    : QObject(parent)
    , m_metrics(metrics)
    , m_hub(hub)
    , m_http(http)
{
}

RelayMetrics::~RelayMetrics()
{
    // Take this relay's share out of the gauges, in case the registry lives on (the tray restarts
    // its relay with the same registry).
    for (size_t i = 0; i < m_waiting.size(); ++i) {
        m_metrics->addWaiting(MetricWaitRole(i), int(-m_waiting[i]));
    }
    m_metrics->addActiveConnections(int(-m_connections));
    m_metrics->setReplayJournalBacklog(0, 0);
}

Metrics *RelayMetrics::metrics() const
{
    return m_metrics;
}

std::optional<MetricNamespace> RelayMetrics::namespaceOfPath(QByteArrayView rawPath)
{
    // The router normalises paths (dot segments, percent-encoding); so does this, but only when
    // the path needs it, which ordinary requests do not.
    if (rawPath.contains('%') || rawPath.contains("/.")) {
        return classifyPath(QByteArray::fromPercentEncoding(removeDotSegments(rawPath)));
    }
    return classifyPath(rawPath);
}

std::optional<MetricNamespace> RelayMetrics::namespaceOfKey(QByteArrayView key)
{
    if (key.startsWith("public/")) {
        return MetricNamespace::Public;
    }
    if (key.startsWith("h/") || key.startsWith("r/")) {
        return MetricNamespace::Hooks;
    }
    if (key.startsWith("u/")) {
        return MetricNamespace::User;
    }
    return std::nullopt;
}

void RelayMetrics::responseStarted(HttpConnection *c, int status, qint64 elapsedMs)
{
    const HttpRequest &r = c->request();
    const std::optional<MetricNamespace> ns = namespaceOfPath(r.rawPath);
    if (!ns) {
        return;
    }
    m_metrics->requestFinished(Metrics::fromMethod(r.method), *ns, status, double(elapsedMs) / 1000.0);
}

void RelayMetrics::waiterSubmitted(const Waiter *w)
{
    MetricBehavior behavior = MetricBehavior::Reqres;
    switch (w->role()) {
    case Waiter::Role::Producer:
        behavior = w->mode() == Waiter::Mode::Pubsub ? MetricBehavior::Pubsub : MetricBehavior::Queue;
        break;
    case Waiter::Role::Requester:
    case Waiter::Role::Replier:
        break;
    case Waiter::Role::Responder:
        // Only a one-shot responder brings a message (its reply); its headers are never empty.
        if (w->message().headers.isEmpty()) {
            return;
        }
        break;
    case Waiter::Role::Consumer:
        return;
    }
    if (const std::optional<MetricNamespace> ns = namespaceOfKey(w->key())) {
        m_metrics->message(*ns, behavior, w->message().body.size());
    }
}

void RelayMetrics::syncGauges()
{
    m_metrics->setChannels(m_hub->channelCount());
    static constexpr Waiter::Role ROLES[] = {
        Waiter::Role::Consumer, Waiter::Role::Producer, Waiter::Role::Requester, Waiter::Role::Responder};
    static_assert(std::size(ROLES) == size_t(MetricWaitRole::Count));
    for (size_t i = 0; i < m_waiting.size(); ++i) {
        const qsizetype now = m_hub->waitingCount(ROLES[i]);
        m_metrics->addWaiting(MetricWaitRole(i), int(now - m_waiting[i]));
        m_waiting[i] = now;
    }
    const qsizetype connections = m_http->connectionCount();
    m_metrics->addActiveConnections(int(connections - m_connections));
    m_connections = connections;
    if (const ReplayStore *store = m_hub->replayBuffer()->store()) {
        const ReplayStore::Stats now = store->stats();
        ReplayStore::Stats &seen = m_journalSeen;
        std::array<quint64, Metrics::DurationBuckets.size()> buckets{};
        for (size_t i = 0; i < buckets.size(); ++i) {
            buckets[i] = now.delayBuckets[i] - seen.delayBuckets[i];
        }
        m_metrics->setReplayJournalBacklog(now.queued, now.lagSeconds);
        m_metrics->replayJournalProgress(now.errors - seen.errors,
                                         now.dropped - seen.dropped,
                                         buckets,
                                         now.delayCount - seen.delayCount,
                                         now.delaySum - seen.delaySum);
        seen = now;
    }
}

QByteArray RelayMetrics::render()
{
    syncGauges();
    return m_metrics->render();
}

void RelayMetrics::serve(HttpConnection *c)
{
    const QByteArray &method = c->request().method;
    if (method != "GET" && method != "HEAD") {
        c->respondText(405, "Method not allowed", {{QByteArrayLiteral("Allow"), QByteArrayLiteral("GET, HEAD")}});
        return;
    }
    c->respond(200,
               {{QByteArrayLiteral("Content-Type"), QByteArray(Metrics::ContentType)},
                {QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store")}},
               render());
}

} // namespace Patchwork::Server
