// SPDX-License-Identifier: MIT
#pragma once

#include <QElapsedTimer>
#include <QHostAddress>
#include <QTcpServer>
#include <QTimer>

#include "engine/message.h"
#include "http/bodybudget.h"
#include "http/connectionlimits.h"

namespace Patchwork::Server
{

class Acceptor;
class HttpConnection;

// What the relay does with a parsed request.
class HttpHandler
{
public:
    virtual ~HttpHandler() = default;
    // Called once per request; the handler answers on `connection` now or later.
    virtual void handleRequest(HttpConnection *connection) = 0;
    // Optional hooks for metrics.
    virtual void connectionCountChanged(qsizetype count)
    {
        Q_UNUSED(count);
    }
    // Whether a connection from `peer` is exempt from the per-address connection limit (default:
    // clients on this machine are).
    virtual bool isConnectionLimitExempt(const QHostAddress &peer) const;
    // A request head announced a body that did not arrive with it: the handler may refuse the upload
    // (and must then have answered on `connection`). `upload` exists until the body is complete or the
    // connection ends (e.g. to count uploads in progress while it lives).
    virtual bool admitUpload(HttpConnection *connection, QObject *upload)
    {
        Q_UNUSED(connection);
        Q_UNUSED(upload);
        return true;
    }
    // A response starts on `connection` (its request is still readable there); `elapsedMs` is the
    // time since the request was complete, 0 for a request refused while it was being read.
    virtual void responseStarted(HttpConnection *connection, int status, qint64 elapsedMs)
    {
        Q_UNUSED(connection);
        Q_UNUSED(status);
        Q_UNUSED(elapsedMs);
    }
};

// The HTTP/1.1 listener. Qt 6.4's QAbstractHttpServer buffers each body under a socket transaction
// (three copies of a large upload) and offers no hook to refuse a body before buffering it, so the relay
// parses HTTP itself on QTcpServer/QTcpSocket (see docs/DECISIONS.md).
class HttpServer final : public QTcpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpServer)

public:
    struct Limits
    {
        qint64 maxBody = 64 * 1024 * 1024;
        // A body above maxBody is streamed up to this size (BodyTransfer): -1 = no limit, 0 = 413.
        qint64 maxStreamBody = -1;
        qint64 maxHeaderBytes = 64 * 1024;
        qint64 uploadStallMs = 30'000;
        qint64 idleMs = 120'000;
        // After a refused request: how long to read and discard what the client still sends before
        // closing (lingering close); 0 closes at once.
        qint64 lingerMs = 5'000;
        // A request head must be complete this long after its first byte (slow-loris); 0 = no deadline.
        qint64 headTimeoutMs = 30'000;
        // Bodies held in memory in all (BodyBudget); 0 = no budget.
        qint64 maxBufferedBytes = BodyBudget::defaultCapacity();
        ConnectionLimits::Settings connections;
    };

    explicit HttpServer(HttpHandler *handler, QObject *parent = nullptr);
    ~HttpServer() override;

    // Listens with its own accept loop (Acceptor), which pauses instead of spinning when the process
    // runs out of descriptors. Hides QTcpServer::listen().
    bool listen(const QHostAddress &address, quint16 port);

    void setLimits(const Limits &limits);
    const Limits &limits() const;
    // Headers every response carries, e.g. Patch-Node (none by default).
    void setResponseHeaders(const HeaderList &headers);
    const HeaderList &responseHeaders() const;
    HttpHandler *handler() const;
    qint64 nowMs() const;
    qsizetype connectionCount() const;
    BodyBudget &bodyBudget();
    const ConnectionLimits &connectionLimits() const;
    // The last attempt to accept failed (the process ran out of descriptors). Accepting is retried
    // after a short delay and whenever a connection closes.
    bool isAcceptPaused() const;

    // Stops accepting; closes idle keep-alive connections and asks the others to close after their response.
    void stopAccepting();

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    friend class HttpConnection;
    void attach(HttpConnection *c);
    void detach(HttpConnection *c);
    void onHousekeeping();
    // Answers 503 with `reason` on a connection over a limit and closes it.
    void refuse(QTcpSocket *socket, QByteArrayView reason);

    HttpHandler *m_handler;
    Limits m_limits;
    HeaderList m_responseHeaders;
    QElapsedTimer m_elapsed;
    QTimer m_housekeeping;
    Acceptor *m_acceptor = nullptr;
    BodyBudget m_bodyBudget;
    ConnectionLimits m_connectionLimits;
    HttpConnection *m_first = nullptr;
    qsizetype m_count = 0;
    bool m_stopping = false;
};

} // namespace Patchwork::Server
