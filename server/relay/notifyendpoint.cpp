// SPDX-License-Identifier: MIT
#include "relay/notifyendpoint.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QUrlQuery>

#include "access/configsource.h"
#include "access/userconfig.h"
#include "engine/channelhub.h"
#include "http/httpconnection.h"
#include "http/httputil.h"
#include "notify/notification.h"
#include "relay/accessgate.h"

namespace Patchwork::Server
{

NotifyEndpoint::NotifyEndpoint(Clock *clock, ChannelHub *hub, AccessGate *gate, QObject *parent)
    : QObject(parent)
    , m_hub(hub)
    , m_gate(gate)
    , m_notifier(clock)
{
    m_notifier.setChannelPublisher(
        [this](const QString &user, const QString &channelPath, const QByteArray &json, Notifier::PublishDone done) {
            publish(user, channelPath, json, std::move(done));
        });
}

Notifier *NotifyEndpoint::notifier()
{
    return &m_notifier;
}

void NotifyEndpoint::handle(HttpConnection *c, const HttpRequest &r, const RequestClass &request)
{
    const QueryParams query(r.query);
    AccessGate::Ticket ticket;
    switch (m_gate->check(c, r, {request.zone, request.ns, request.path, request.action, &query}, &ticket)) {
    case AccessGate::Verdict::Allowed:
        send(c, r, request.userName().toByteArray());
        return;
    case AccessGate::Verdict::Denied:
        return;
    case AccessGate::Verdict::Pending:
        // The endpoint may be replaced (RelayServer::setAccessGate()) before the configuration arrives.
        m_gate->whenConfigReady(c, request.userName(), [self = QPointer<NotifyEndpoint>(this), c, copy = r, request]() {
            if (self) {
                self->handle(c, copy, request);
            } else {
                c->respondText(503, "Notification backend not configured");
            }
        });
        return;
    }
}

void NotifyEndpoint::send(HttpConnection *c, const HttpRequest &r, const QByteArray &user)
{
    const NotificationParseResult parsed =
        Notification::parse(r.method, r.header("Content-Type"), r.body, QUrlQuery(QString::fromUtf8(r.query)));
    if (!parsed.ok()) {
        c->respondText(parsed.status, parsed.error.toUtf8());
        return;
    }
    const Notification notification = *parsed.notification;
    const QString userName = QString::fromUtf8(user);
    QPointer<HttpConnection> connection(c);
    QPointer<NotifyEndpoint> self(this);
    m_gate->configSource()->lookup(userName, c, [self, connection, userName, notification](const ConfigLookup &lookup) {
        if (!connection) {
            return;
        }
        if (!self || lookup.state != ConfigLookup::State::Found || !lookup.config) {
            connection->respondText(503, "Notification backend not configured");
            return;
        }
        self->m_notifier.send(userName,
                              lookup.config->ntfyType(),
                              lookup.config->ntfyConfig(),
                              notification,
                              [connection, notification](const Notifier::Result &result) {
                                  if (!connection) {
                                      return;
                                  }
                                  if (result.status != 200) {
                                      connection->respondText(result.status, result.message.toUtf8());
                                      return;
                                  }
                                  QJsonObject body{{QStringLiteral("status"), QStringLiteral("sent")},
                                                   {QStringLiteral("type"), Notification::typeName(notification.type)}};
                                  connection->respond(
                                      200,
                                      {{QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json")}},
                                      QJsonDocument(body).toJson(QJsonDocument::Compact) + '\n');
                              });
    });
}

void NotifyEndpoint::publish(const QString &user,
                             const QString &channelPath,
                             const QByteArray &json,
                             Notifier::PublishDone done)
{
    auto *producer = new Waiter(Waiter::Role::Producer, "u/" + user.toUtf8() + '/' + channelPath.toUtf8(), this);
    Message m;
    m.body = json;
    m.headers = {{QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json")},
                 {QByteArrayLiteral("Patch-Uri"), "/u/" + user.toUtf8() + "/_/ntfy"}};
    producer->setMessage(m);
    producer->setMode(Waiter::Mode::Pubsub);
    connect(producer, &Waiter::answered, this, [producer, done = std::move(done)](const Answer &a) {
        done(a.kind == Answer::Kind::Done, a.kind == Answer::Kind::Done ? QString() : QStringLiteral("relay stopping"));
        producer->deleteLater();
    });
    m_hub->submit(producer);
}

} // namespace Patchwork::Server
