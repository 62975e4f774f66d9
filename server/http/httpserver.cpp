// SPDX-License-Identifier: MIT
#include "http/httpserver.h"

#include <QTcpSocket>

#ifdef Q_OS_UNIX
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include "access/clientaddress.h"
#include "http/httpconnection.h"
#include "http/serverlogging.h"

namespace Patchwork::Server
{

namespace
{

// How long accepting stays paused after the process ran out of descriptors.
constexpr int ACCEPT_RETRY_MS = 250;
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
    m_acceptRetry.setSingleShot(true);
    m_acceptRetry.setInterval(ACCEPT_RETRY_MS);
    connect(&m_acceptRetry, &QTimer::timeout, this, &HttpServer::resumeAfterAcceptError);
    connect(this, &QTcpServer::acceptError, this, &HttpServer::onAcceptError);
    m_bodyBudget.setCapacity(m_limits.maxBufferedBytes);
    setMaxPendingConnections(4096);
    // Qt's default backlog of 50 drops connections when a thousand subscribers arrive at once.
    setListenBacklogSize(4096);
}

HttpServer::~HttpServer()
{
    m_housekeeping.stop();
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

bool HttpServer::isAcceptPaused() const
{
    return m_acceptPaused;
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
    if (m_acceptPaused) {
        qCInfo(lcServer) << "accepting connections again";
        m_acceptPaused = false;
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
#ifdef Q_OS_UNIX
    const int fd = int(socket->socketDescriptor());
    if (::send(fd, response.constData(), size_t(response.size()), MSG_NOSIGNAL | MSG_DONTWAIT) == response.size()) {
        ::shutdown(fd, SHUT_WR);
        return;
    }
#endif
    socket->write(response);
    socket->disconnectFromHost();
}

void HttpServer::onAcceptError(QAbstractSocket::SocketError error)
{
    // QTcpServer has paused accepting. Resume later rather than at once: out of descriptors (the
    // usual cause) accepting would only fail again; a connection closing resumes sooner.
    if (!m_acceptPaused) {
        qCWarning(lcServer) << "accepting a connection failed (" << error << errorString()
                            << "): accepting paused until a connection closes or for" << ACCEPT_RETRY_MS << "ms";
    }
    m_acceptPaused = true;
    m_acceptRetry.start();
}

void HttpServer::resumeAfterAcceptError()
{
    if (!m_acceptPaused || m_stopping) {
        return;
    }
    m_acceptRetry.stop();
#ifdef Q_OS_UNIX
    // Qt's socket engine keeps the first error it records, so after EMFILE each later "nothing more to
    // accept" (EAGAIN) would read as out of resources again and pause accepting after every batch.
    // Give the listening socket a fresh engine; while descriptors are still exhausted even the
    // duplicate fails, and the timer tries again.
    const int copy = ::fcntl(int(socketDescriptor()), F_DUPFD_CLOEXEC, 0);
    if (copy < 0) {
        m_acceptRetry.start();
        return;
    }
    close();
    if (!setSocketDescriptor(copy)) {
        qCCritical(lcServer) << "cannot listen again after running out of descriptors:" << errorString();
        ::close(copy);
    }
#else
    resumeAccepting();
#endif
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
    // A descriptor was freed: try accepting again at once.
    resumeAfterAcceptError();
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
    close();
    for (HttpConnection *c = m_first; c;) {
        HttpConnection *next = c->m_nextConn;
        c->setCloseAfterResponse();
        c = next;
    }
}

} // namespace Patchwork::Server
