// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTcpServer>
#include <QUrl>

#include "engine/message.h"

class QTcpSocket;

namespace Patchwork::Test
{

// An HTTP server on loopback that answers each request with the next response a test scripted, byte
// for byte, so a client can be shown any status, header or stream the test wants. A request with no
// response scripted waits until one is.
class ScriptedHttpServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ScriptedHttpServer)

public:
    struct Request
    {
        QByteArray method;
        QByteArray target;
        HeaderList headers;

        QByteArray header(QByteArrayView name) const;
    };

    explicit ScriptedHttpServer(QObject *parent = nullptr);

    bool listen();
    QUrl url(const QString &path) const;

    // A complete response that closes its connection.
    static QByteArray response(int status, const QByteArray &body = {}, const HeaderList &headers = {});
    // The head of an event stream whose body lasts until the connection closes; the connection then
    // stays open for send().
    static QByteArray streamHead();

    // The next request's answer.
    void enqueue(const QByteArray &raw);
    // Writes to the connection of the last stream opened, then closes it (gracefully) or cuts it.
    void send(const QByteArray &bytes);
    void endStream();
    void cutStream();
    bool isStreamOpen() const;

    // Every request received so far, in order.
    QList<Request> requests;

Q_SIGNALS:
    void requestReceived();

private:
    void onNewConnection();
    void onReadyRead(QTcpSocket *socket);
    void answer();

    QTcpServer m_server;
    QByteArrayList m_script;
    QList<QPointer<QTcpSocket>> m_waiting;
    QPointer<QTcpSocket> m_stream;
};

} // namespace Patchwork::Test
