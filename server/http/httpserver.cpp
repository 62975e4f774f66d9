// SPDX-License-Identifier: MIT
#include "http/httpserver.h"

#include <QTcpSocket>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#endif

#include "access/clientaddress.h"
#include "http/acceptor.h"
#include "http/directwrite.h"
#include "http/httpconnection.h"
#include "http/serverlogging.h"

namespace Patchwork::Server
{

namespace
{

// How long a refused connection may take to close after its 503.
constexpr int REFUSED_LINGER_MS = 2000;

} // namespace

bool HttpHandler::isConnectionLimitExempt(const QHostAddress &peer) const
{
    return TrustedProxies::isLoopback(peer);
}

HttpServer::HttpServer(HttpHandler *handler, QObject *parent)
    : QTcpServer(parent)
    , m_handler(handler)
{
    m_elapsed.start();
    m_housekeeping.setInterval(1000);
    connect(&m_housekeeping, &QTimer::timeout, this, &HttpServer::onHousekeeping);
    m_housekeeping.start();
    m_bodyBudget.setCapacity(m_limits.maxBufferedBytes);
    setMaxPendingConnections(4096);
    // Qt's default backlog of 50 drops connections when a thousand subscribers arrive at once.
    setListenBacklogSize(4096);
}

HttpServer::~HttpServer()
{
    m_housekeeping.stop();
    delete m_acceptor;
    m_acceptor = nullptr;
    // Delete the connections (and the waiters they own) while this object is still whole: each one
    // detaches itself from the list.
    while (m_first) {
        delete m_first;
    }
}

void HttpServer::setLimits(const Limits &limits)
{
    m_limits = limits;
    m_bodyBudget.setCapacity(limits.maxBufferedBytes);
    m_connectionLimits.setSettings(limits.connections);
}

const HttpServer::Limits &HttpServer::limits() const
{
    return m_limits;
}

void HttpServer::setResponseHeaders(const HeaderList &headers)
{
    m_responseHeaders = headers;
}

const HeaderList &HttpServer::responseHeaders() const
{
    return m_responseHeaders;
}

HttpHandler *HttpServer::handler() const
{
    return m_handler;
}

qint64 HttpServer::nowMs() const
{
    return m_elapsed.elapsed();
}

qsizetype HttpServer::connectionCount() const
{
    return m_count;
}

BodyBudget &HttpServer::bodyBudget()
{
    return m_bodyBudget;
}

const ConnectionLimits &HttpServer::connectionLimits() const
{
    return m_connectionLimits;
}

bool HttpServer::listen(const QHostAddress &address, quint16 port)
{
    if (!QTcpServer::listen(address, port)) {
        return false;
    }
    // Our own accept loop (see Acceptor); QTcpServer's stays paused.
    pauseAccepting();
    m_acceptor = new Acceptor(socketDescriptor(), this);
    connect(m_acceptor, &Acceptor::accepted, this, &HttpServer::incomingConnection);
    return true;
}

bool HttpServer::isAcceptPaused() const
{
    return m_acceptor && m_acceptor->isPaused();
}

void HttpServer::incomingConnection(qintptr socketDescriptor)
{
    auto *socket = new QTcpSocket;
    if (!socket->setSocketDescriptor(socketDescriptor)) {
        qCWarning(lcServer) << "could not accept a connection:" << socket->errorString();
        delete socket;
        return;
    }
    if (m_stopping) {
        socket->abort();
        delete socket;
        return;
    }
    const QHostAddress peer = socket->peerAddress();
    const QByteArrayView refusal = m_connectionLimits.admit(peer, m_count, m_handler->isConnectionLimitExempt(peer));
    if (!refusal.isEmpty()) {
        refuse(socket, refusal);
        return;
    }
    new HttpConnection(this, socket, peer);
}

void HttpServer::refuse(QTcpSocket *socket, QByteArrayView reason)
{
    qCDebug(lcServer) << "refused a connection from" << socket->peerAddress().toString() << reason;
    socket->setParent(this);
    const QByteArray body = reason.toByteArray() + '\n';
    const QByteArray response = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                "Retry-After: 1\r\nConnection: close\r\nContent-Length: "
                                + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    // Answer, stop writing and discard what the client sends until it closes (closing with unread
    // input would reset the connection and could destroy the answer), for REFUSED_LINGER_MS at most.
    connect(socket, &QTcpSocket::readyRead, socket, [socket]() { socket->skip(socket->bytesAvailable()); });
    connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    QTimer::singleShot(REFUSED_LINGER_MS, socket, [socket]() {
        socket->abort();
        socket->deleteLater();
    });
    if (writeDirect(socket, response)) {
#ifdef Q_OS_UNIX
        ::shutdown(int(socket->socketDescriptor()), SHUT_WR);
#endif
        return;
    }
    socket->disconnectFromHost();
}

void HttpServer::attach(HttpConnection *c)
{
    c->m_nextConn = m_first;
    if (m_first) {
        m_first->m_prevConn = c;
    }
    m_first = c;
    ++m_count;
    m_handler->connectionCountChanged(m_count);
}

void HttpServer::detach(HttpConnection *c)
{
    if (c->m_prevConn) {
        c->m_prevConn->m_nextConn = c->m_nextConn;
    } else if (m_first == c) {
        m_first = c->m_nextConn;
    }
    if (c->m_nextConn) {
        c->m_nextConn->m_prevConn = c->m_prevConn;
    }
    c->m_prevConn = c->m_nextConn = nullptr;
    --m_count;
    m_connectionLimits.release(c->m_peer);
    m_handler->connectionCountChanged(m_count);
    if (m_acceptor) {
        m_acceptor->retryNow(); // a descriptor was freed
    }
}

void HttpServer::onHousekeeping()
{
    const qint64 now = nowMs();
    for (HttpConnection *c = m_first; c;) {
        HttpConnection *next = c->m_nextConn;
        c->checkTimeouts(now);
        c = next;
    }
}

void HttpServer::stopAccepting()
{
    m_stopping = true;
    delete m_acceptor;
    m_acceptor = nullptr;
    close();
    for (HttpConnection *c = m_first; c;) {
        HttpConnection *next = c->m_nextConn;
        c->setCloseAfterResponse();
        c = next;
    }
}

} // namespace Patchwork::Server
