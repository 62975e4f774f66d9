// SPDX-License-Identifier: MIT
#pragma once

#include <QHostAddress>
#include <QObject>

#include "channelhub.h"
#include "httpserver.h"

namespace Patchwork
{
class Clock;
}

namespace Patchwork::Server
{

class HttpConnection;
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
    };

    explicit RelayServer(Clock *clock, QObject *parent = nullptr);
    ~RelayServer() override;

    void setSettings(const Settings &settings);
    bool listen(const QHostAddress &address, quint16 port, QString *error = nullptr);
    quint16 port() const;
    ChannelHub *hub() const;
    HttpServer *httpServer() const;

    // PROTOCOL §14: stop accepting, answer every waiting request with 503, let deliveries in flight
    // finish (at most `graceMs`), then emit stopped().
    void shutdown(int graceMs = 10'000);

    void handleRequest(HttpConnection *connection) override;

Q_SIGNALS:
    void stopped();

private:
    enum class Namespace
    {
        Public,
        Hooks,
        User
    };

    void handleChannel(HttpConnection *c, const QByteArray &ns, const QByteArray &path, Namespace kind);
    void serveIndex(HttpConnection *c);
    void serveAsset(HttpConnection *c, const QString &resource, const QByteArray &contentType);
    void waitFor(HttpConnection *c, Waiter *waiter);
    void onAnswered(HttpConnection *c, Waiter *waiter, const Answer &answer);
    void checkStopped();

    Clock *m_clock;
    ChannelHub *m_hub;
    HttpServer *m_http;
    Settings m_settings;
    bool m_stopping = false;
};

} // namespace Patchwork::Server
