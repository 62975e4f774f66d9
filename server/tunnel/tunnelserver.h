// SPDX-License-Identifier: MIT
#pragma once

#include <functional>

#include <QObject>
#include <QSet>

#include "access/acl.h"
#include "engine/message.h"
#include "tunnel/tunnelbridge.h"

namespace Patchwork
{
class Clock;
class ConfigSource;
class Metrics;
} // namespace Patchwork

namespace Patchwork::Server
{

class HttpConnection;

// The `/huproxy/<user>/<host>/<port>` route (PROTOCOL §11): authorises the request before the
// upgrade (400 for a target that TunnelTarget::parse() refuses, 401/403 from the authoriser, then 400
// when it is not a WebSocket request), answers the handshake itself, takes the socket from the HTTP
// layer and hands it to a TunnelBridge.
class TunnelServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TunnelServer)

public:
    // What an authoriser decides on.
    struct Request
    {
        QString user;
        QByteArray target; // TunnelTarget::subject(): `<host>:<port>`, IPv6 literals in brackets
        QByteArray token; // empty when none was presented
        bool tokenPresented = false;
    };
    // Answers `done` exactly once with {allowed, status 401/403/503, reason}, now or later; when
    // `context` is destroyed first, `done` may be dropped.
    using Authorizer =
        std::function<void(const Request &request, QObject *context, std::function<void(const AclResult &)> done)>;

    explicit TunnelServer(Clock *clock, QObject *parent = nullptr);
    ~TunnelServer() override;

    // Without an authoriser every request is denied as Acl::check denies an unknown user.
    void setAuthorizer(Authorizer authorizer);
    // Acl::check on the huproxy list of the user's configuration from `source`.
    static Authorizer configAuthorizer(ConfigSource *source, Clock *clock);
    void setSettings(const TunnelBridge::Settings &settings);
    const TunnelBridge::Settings &settings() const;
    // Optional; not owned.
    void setMetrics(Metrics *metrics);

    // Handles a request whose percent-decoded path is `/huproxy/` + `rest`.
    void handle(HttpConnection *connection, const QByteArray &rest);

    // Closes every tunnel (1001, `server shutting down`); later requests get 503.
    void closeAll();
    qsizetype tunnelCount() const;

Q_SIGNALS:
    void tunnelOpened(Patchwork::Server::TunnelBridge *bridge);

private:
    struct Upgrade
    {
        int status = 0; // 0 = a valid WebSocket handshake
        QByteArray message;
        QByteArray accept; // Sec-WebSocket-Accept
    };

    static Upgrade checkUpgrade(HttpConnection *connection);
    void
    onDecision(HttpConnection *connection, const AclResult &result, const Upgrade &upgrade, const TunnelTarget &target);
    void openTunnel(HttpConnection *connection, const QByteArray &accept, const TunnelTarget &target);
    void refuse(HttpConnection *connection, int status, QByteArrayView line, const HeaderList &headers = {});
    void scheduleCheck(qint64 atMs);
    void onWoke();

    Clock *m_clock;
    Metrics *m_metrics = nullptr;
    Authorizer m_authorizer;
    TunnelBridge::Settings m_settings;
    QSet<TunnelBridge *> m_bridges;
    qint64 m_nextCheck = -1;
    bool m_closing = false;
};

} // namespace Patchwork::Server
