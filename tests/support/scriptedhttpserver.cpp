// SPDX-License-Identifier: MIT
#include "scriptedhttpserver.h"

#include <QTcpSocket>

namespace Patchwork::Test
{

namespace
{

const char *STREAM_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                          "Connection: close\r\n\r\n";

} // namespace

QByteArray ScriptedHttpServer::Request::header(QByteArrayView name) const
{
    for (const auto &h : headers) {
        if (QByteArrayView(h.first).compare(name, Qt::CaseInsensitive) == 0) {
            return h.second;
        }
    }
    return {};
}

ScriptedHttpServer::ScriptedHttpServer(QObject *parent)
    : QObject(parent)
{
    connect(&m_server, &QTcpServer::newConnection, this, &ScriptedHttpServer::onNewConnection);
}

bool ScriptedHttpServer::listen()
{
    return m_server.listen(QHostAddress::LocalHost, 0);
}

QUrl ScriptedHttpServer::url(const QString &path) const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_server.serverPort()).arg(path));
}

QByteArray ScriptedHttpServer::response(int status, const QByteArray &body, const HeaderList &headers)
{
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + " Scripted\r\n";
    for (const auto &h : headers) {
        out += h.first + ": " + h.second + "\r\n";
    }
    out += "Content-Length: " + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    return out;
}

QByteArray ScriptedHttpServer::streamHead()
{
    return STREAM_HEAD;
}

void ScriptedHttpServer::enqueue(const QByteArray &raw)
{
    m_script.append(raw);
    answer();
}

void ScriptedHttpServer::send(const QByteArray &bytes)
{
    if (m_stream) {
        m_stream->write(bytes);
        m_stream->flush();
    }
}

void ScriptedHttpServer::endStream()
{
    if (m_stream) {
        m_stream->disconnectFromHost();
    }
}

void ScriptedHttpServer::cutStream()
{
    if (m_stream) {
        m_stream->abort();
    }
}

bool ScriptedHttpServer::isStreamOpen() const
{
    return m_stream && m_stream->state() == QAbstractSocket::ConnectedState;
}

void ScriptedHttpServer::onNewConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        socket->setParent(this);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket]() { onReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    }
}

void ScriptedHttpServer::onReadyRead(QTcpSocket *socket)
{
    // One request per connection (every scripted response closes it); bodies are not read.
    if (socket->property("head").toBool()) {
        return;
    }
    QByteArray head = socket->property("buffer").toByteArray() + socket->readAll();
    const qsizetype end = head.indexOf("\r\n\r\n");
    if (end < 0) {
        socket->setProperty("buffer", head);
        return;
    }
    socket->setProperty("head", true);
    const QList<QByteArray> lines = head.left(end).split('\n');
    const QList<QByteArray> requestLine = lines.first().trimmed().split(' ');
    Request r{requestLine.value(0), requestLine.value(1), {}};
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        const qsizetype colon = line.indexOf(':');
        r.headers.append({line.left(colon), line.mid(colon + 1).trimmed()});
    }
    requests.append(r);
    m_waiting.append(socket);
    Q_EMIT requestReceived();
    answer();
}

void ScriptedHttpServer::answer()
{
    while (!m_script.isEmpty() && !m_waiting.isEmpty()) {
        QTcpSocket *socket = m_waiting.takeFirst();
        if (!socket) {
            continue;
        }
        const QByteArray raw = m_script.takeFirst();
        socket->write(raw);
        socket->flush();
        if (raw.startsWith(STREAM_HEAD)) {
            m_stream = socket;
        } else {
            socket->disconnectFromHost();
        }
    }
}

} // namespace Patchwork::Test
