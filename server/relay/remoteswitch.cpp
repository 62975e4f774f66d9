// SPDX-License-Identifier: MIT
#include "relay/remoteswitch.h"

#include <QPointer>
#include <QTcpSocket>
#include <QTimer>

#include "engine/channelhub.h"
#include "engine/waiter.h"
#include "http/serverlogging.h"

namespace Patchwork::Server
{

namespace
{

const QByteArray PATCH_H = QByteArrayLiteral("Patch-H-");
const QByteArray PATCH_STATUS = QByteArrayLiteral("Patch-Status");

// The reply in the owning node's answer: status from Patch-Status, the carried headers from Patch-H-*.
std::optional<Message> parseAnswer(const QByteArray &raw)
{
    const qsizetype end = raw.indexOf("\r\n\r\n");
    if (end < 0 || !raw.startsWith("HTTP/1.1 200 ")) {
        return std::nullopt;
    }
    Message m;
    qint64 length = -1;
    const QList<QByteArray> lines = raw.left(end).split('\n');
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        const qsizetype colon = line.indexOf(':');
        const QByteArray name = line.left(colon);
        const QByteArray value = line.mid(colon + 1).trimmed();
        if (name.compare(PATCH_STATUS, Qt::CaseInsensitive) == 0) {
            m.status = value.toInt();
        } else if (name.size() > PATCH_H.size()
                   && QByteArrayView(name).first(PATCH_H.size()).compare(PATCH_H, Qt::CaseInsensitive) == 0) {
            m.headers.append({name.mid(PATCH_H.size()), value});
        } else if (name.compare("Content-Length", Qt::CaseInsensitive) == 0) {
            length = value.toLongLong();
        }
    }
    m.body = raw.mid(end + 4);
    if (m.status < 200 || m.status > 599 || length != m.body.size()) {
        return std::nullopt;
    }
    return m;
}

} // namespace

// One fetch: GET with Connection: close, the whole answer read until the owner closes.
class RemoteSwitch::Fetch final : public QObject
{
public:
    Fetch(RemoteSwitch *owner, Waiter *requester, QByteArray request)
        : QObject(owner)
        , m_owner(owner)
        , m_requester(requester)
        , m_request(std::move(request))
    {
        // The requester was answered otherwise (timeout, shutdown) or left: stop.
        connect(requester, &Waiter::answered, this, &QObject::deleteLater);
        connect(requester, &QObject::destroyed, this, &QObject::deleteLater);
        connect(&m_socket, &QTcpSocket::connected, this, [this]() {
            m_connected = true;
            m_socket.write(m_request);
        });
        connect(&m_socket, &QTcpSocket::readyRead, this, [this]() { m_answer += m_socket.readAll(); });
        // A connection that came up ends in disconnected(); one that did not is retried from here.
        connect(&m_socket, &QTcpSocket::disconnected, this, &Fetch::finish);
        connect(&m_socket, &QTcpSocket::errorOccurred, this, [this]() {
            if (!m_connected) {
                retry();
            }
        });
        m_retry.setSingleShot(true);
        connect(&m_retry, &QTimer::timeout, this, &Fetch::start);
    }
    ~Fetch() override
    {
        // The socket's destructor may still signal: not into a half-destroyed fetch.
        QObject::disconnect(&m_socket, nullptr, this, nullptr);
    }

    void start()
    {
        m_answer.clear();
        m_connected = false;
        m_socket.abort();
        m_socket.connectToHost(m_owner->m_url.host(), quint16(m_owner->m_url.port(80)));
    }

private:
    void finish()
    {
        if (!m_connected) {
            return;
        }
        m_connected = false;
        std::optional<Message> reply = parseAnswer(m_answer);
        if (!reply) {
            retry();
            return;
        }
        if (m_requester) {
            m_owner->m_hub->answerSwitch(m_requester, *reply);
        }
        deleteLater();
    }
    void retry()
    {
        qCDebug(lcServer) << "switch fetch failed, retrying";
        m_connected = false;
        m_socket.abort();
        m_retry.start(m_owner->m_retryMs);
    }

    RemoteSwitch *m_owner;
    QPointer<Waiter> m_requester;
    QByteArray m_request;
    QByteArray m_answer;
    bool m_connected = false;
    QTcpSocket m_socket;
    QTimer m_retry;
};

RemoteSwitch::RemoteSwitch(ChannelHub *hub, const QUrl &clusterUrl, const HookSecret &secret, QObject *parent)
    : QObject(parent)
    , m_hub(hub)
    , m_url(clusterUrl)
    , m_secret(secret)
{
}

QByteArray RemoteSwitch::signature(const HookSecret &secret, QByteArrayView ns, QByteArrayView channel)
{
    return secret.secretFor('s', QByteArray(ns.toByteArray() + '/' + channel.toByteArray()));
}

HeaderList RemoteSwitch::responseHeaders(const Message &message)
{
    HeaderList headers;
    headers.reserve(message.headers.size() + 1);
    headers.append({PATCH_STATUS, QByteArray::number(message.status)});
    for (const auto &h : message.headers) {
        headers.append({PATCH_H + h.first, h.second});
    }
    return headers;
}

void RemoteSwitch::setRetryInterval(int ms)
{
    m_retryMs = ms;
}

void RemoteSwitch::fetch(Waiter *requester, const QByteArray &ns, const QByteArray &channel)
{
    QByteArray path = m_url.path(QUrl::FullyEncoded).toLatin1();
    while (path.endsWith('/')) {
        path.chop(1);
    }
    path += '/' + ns + '/' + channel.toPercentEncoding();
    QByteArray request = "GET " + path + " HTTP/1.1\r\nHost: " + m_url.authority(QUrl::FullyEncoded).toLatin1()
                         + "\r\nConnection: close\r\n" + SIGNATURE_HEADER.toByteArray() + ": "
                         + signature(m_secret, ns, channel) + "\r\n\r\n";
    auto *fetch = new Fetch(this, requester, std::move(request));
    fetch->start();
}

} // namespace Patchwork::Server
