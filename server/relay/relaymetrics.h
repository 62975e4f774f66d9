// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <optional>

#include <QByteArray>
#include <QByteArrayView>
#include <QObject>

#include "engine/replaystore.h"
#include "util/metrics.h"

namespace Patchwork
{
class ChannelHub;
class Waiter;
} // namespace Patchwork

namespace Patchwork::Server
{

class HttpConnection;
class HttpServer;

// Feeds the relay's events into the Prometheus registry (PROTOCOL §12) and serves /metrics.
//
// Counters are updated where things happen: one request per response started (method, namespace,
// status, duration), one message per message a request brings (a producer's, a requester's, a reply),
// counted when it is handed to the engine, as the original did. Gauges that the engine
// and the listener already count (live channels, waiting requests per role, open connections) are
// read when the exposition is rendered, so they are exact at every scrape and cost nothing per event.
// Requests outside the namespaces (index, health, static files, /metrics itself, unknown paths) are
// not counted: their labels would not be bounded by the namespace list.
class RelayMetrics final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RelayMetrics)

public:
    // `metrics` (not owned) must outlive this object; `hub` and `http` are the relay's.
    RelayMetrics(Metrics *metrics, ChannelHub *hub, HttpServer *http, QObject *parent = nullptr);
    ~RelayMetrics() override;

    Metrics *metrics() const;

    // Counts the request on `c` whose response starts with `status`, `elapsedMs` after it arrived.
    void responseStarted(HttpConnection *c, int status, qint64 elapsedMs);
    // Counts the message `waiter` brings, if any (called when it is submitted to the engine).
    void waiterSubmitted(const Waiter *waiter);
    // The text exposition with every gauge brought up to date.
    QByteArray render();
    // Answers GET/HEAD /metrics on `c` (the caller decided that the client may see it).
    void serve(HttpConnection *c);

    // The namespace label of a request path as received (percent-encoded, dot segments allowed);
    // std::nullopt outside the namespaces.
    static std::optional<MetricNamespace> namespaceOfPath(QByteArrayView rawPath);
    // The namespace label of a channel key (`public/...`, `h/...`, `u/<user>/...`).
    static std::optional<MetricNamespace> namespaceOfKey(QByteArrayView key);

private:
    void syncGauges();

    Metrics *m_metrics;
    ChannelHub *m_hub;
    HttpServer *m_http;
    // What the gauges were last set to (Metrics keeps them as sums of deltas).
    std::array<qsizetype, size_t(MetricWaitRole::Count)> m_waiting{};
    qsizetype m_connections = 0;
    // The replay journal's totals at the last sync (the registry's counters grow by the difference).
    ReplayStore::Stats m_journalSeen;
};

} // namespace Patchwork::Server
