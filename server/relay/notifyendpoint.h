// SPDX-License-Identifier: MIT
#pragma once

#include <QObject>

#include "notify/notifier.h"

namespace Patchwork
{
class ChannelHub;
class Clock;
struct RequestClass;
} // namespace Patchwork

namespace Patchwork::Server
{

class AccessGate;
class HttpConnection;
struct HttpRequest;

// `/u/<user>/_/ntfy` (PROTOCOL §10): checks the method and the user's token, parses the notification
// and sends it through the backend of the user's configuration. The `channel` backend publishes into
// this relay's own engine, which is how the tray shows notifications.
class NotifyEndpoint final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NotifyEndpoint)

public:
    NotifyEndpoint(Clock *clock, ChannelHub *hub, AccessGate *gate, QObject *parent = nullptr);

    Notifier *notifier();
    // A request the router classified as RequestClass::Route::Notify (its method checked).
    void handle(HttpConnection *c, const HttpRequest &r, const RequestClass &request);

private:
    void send(HttpConnection *c, const HttpRequest &r, const QByteArray &user);
    void publish(const QString &user, const QString &channelPath, const QByteArray &json, Notifier::PublishDone done);

    ChannelHub *m_hub;
    AccessGate *m_gate;
    Notifier m_notifier;
};

} // namespace Patchwork::Server
