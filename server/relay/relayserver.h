// SPDX-License-Identifier: MIT
#pragma once

#include <QDeadlineTimer>
#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrl>

#include "access/requestclass.h"
#include "engine/channelhub.h"
#include "http/httpconnection.h"
#include "http/httpserver.h"
#include "relay/accessgate.h"
#include "relay/eventstreams.h"
#include "tunnel/tunnelbridge.h"

namespace Patchwork
{
class Clock;
}

namespace Patchwork::Server
{

class HttpConnection;
class RelayMetrics;
class TunnelServer;
class NotifyEndpoint;
class RemoteSwitch;
struct HttpRequest;

// The relay: turns HTTP requests into engine calls (PROTOCOL §1–§6) and engine answers into
// responses. The daemon and the tray both run it.
class RelayServer final : public QObject, public HttpHandler
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RelayServer)

public:
    struct Settings
    {
        HttpServer::Limits limits;
        ChannelHub::Settings hub;
        EventStreams::Settings events; // Server-Sent Events (PROTOCOL §4.1)
        TunnelBridge::Settings tunnel;
        // The front proxy, for double clutches whose switch channel another node owns (RemoteSwitch);
        // empty = one node.
        QUrl clusterUrl;
    };

    explicit RelayServer(Clock *clock, QObject *parent = nullptr);
    ~RelayServer() override;

    void setSettings(const Settings &settings);
    bool listen(const QHostAddress &address, quint16 port, QString *error = nullptr);
    quint16 port() const;
    ChannelHub *hub() const;
    HttpServer *httpServer() const;
    // The /huproxy/ tunnel (PROTOCOL §11); setAccessGate() connects it to the gate's configurations.
    TunnelServer *tunnelServer() const;
    // /u/<user>/_/ntfy (PROTOCOL §10); exists while an access gate with a config source is set.
    NotifyEndpoint *notifyEndpoint() const;

    // Hooks, user namespaces, rate limits and /metrics (PROTOCOL §7–§9, §12, §13). Not owned; its
    // metrics registry must outlive this relay. Without a gate only the public namespace is served,
    // with no limits, and /h, /r, /u and /metrics answer 404.
    void setAccessGate(AccessGate *gate);
    AccessGate *accessGate() const;

    // PROTOCOL §14: stop accepting, answer every waiting request with 503, let deliveries in flight
    // finish (at most `graceMs`), then emit stopped(), once. A stopped server stays stopped: Relay
    // builds a new one to start again.
    void shutdown(int graceMs = 10'000);

    void handleRequest(HttpConnection *connection) override;
    void responseStarted(HttpConnection *connection, int status, qint64 elapsedMs) override;
    bool isConnectionLimitExempt(const QHostAddress &peer) const override;
    bool admitUpload(HttpConnection *connection, QObject *upload) override;

Q_SIGNALS:
    void stopped();

private:
    void handleChannel(HttpConnection *c, const HttpRequest &r, const RequestClass &request, const QueryParams &query);
    void serveSwitchFetch(HttpConnection *c, const RequestClass &request);
    void updateRemoteSwitch();
    static void respondError(HttpConnection *c, const RequestError &error);
    void serveMetrics(HttpConnection *c);
    void serveIndex(HttpConnection *c);
    void serveAsset(HttpConnection *c, const QString &resource, const QByteArray &contentType);
    void waitFor(HttpConnection *c, Waiter *waiter, const AccessGate::Ticket &ticket);
    void onAnswered(HttpConnection *c, Waiter *waiter, const Answer &answer);
    void checkStopped();

    Clock *m_clock;
    ChannelHub *m_hub;
    HttpServer *m_http;
    Settings m_settings;
    bool m_stopping = false;
    QTimer m_stopPoll;
    QDeadlineTimer m_grace;
    QPointer<AccessGate> m_gate;
    RelayMetrics *m_metrics = nullptr;
    // The response of the pubsub message being fanned out, serialised once; kept until the event loop
    // runs again.
    QByteArray m_fanoutId;
    PreparedResponse m_fanoutResponse;
    TunnelServer *m_tunnels = nullptr;
    NotifyEndpoint *m_notify = nullptr;
    EventStreams *m_events = nullptr;
    RemoteSwitch *m_remoteSwitch = nullptr;
};

} // namespace Patchwork::Server
