// SPDX-License-Identifier: MIT
#include "http/httpserver.h"

#include <QTcpSocket>

#include "http/httpconnection.h"
#include "http/serverlogging.h"

namespace Patchwork::Server
{

HttpServer::HttpServer(HttpHandler *handler, QObject *parent)
    : QTcpServer(parent)
    , m_handler(handler)
{
    m_elapsed.start();
    m_housekeeping.setInterval(1000);
    connect(&m_housekeeping, &QTimer::timeout, this, &HttpServer::onHousekeeping);
    m_housekeeping.start();
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
    new HttpConnection(this, socket);
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
    m_handler->connectionCountChanged(m_count);
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
