// SPDX-License-Identifier: MIT
#include "http/bodytransfer.h"

#include <QTcpSocket>

#include "http/httpconnection.h"

namespace Patchwork::Server
{

BodyTransfer::BodyTransfer(HttpConnection *source, qint64 contentLength)
    : QObject(source)
    , m_source(source)
    , m_contentLength(contentLength)
{
    connect(source->socket(), &QTcpSocket::readyRead, this, &BodyTransfer::pump);
    connect(source, &HttpConnection::closed, this, &BodyTransfer::cutSinks);
}

BodyTransfer::~BodyTransfer()
{
    cutSinks();
}

qint64 BodyTransfer::contentLength() const
{
    return m_contentLength;
}

qint64 BodyTransfer::bytesRelayed() const
{
    return m_relayed;
}

bool BodyTransfer::isComplete() const
{
    return m_complete;
}

void BodyTransfer::addSink(HttpConnection *sink, int status, const HeaderList &headers)
{
    if (m_finished) {
        sink->respondText(502, "Producer left before the transfer started");
        return;
    }
    sink->startStream(status, headers, m_contentLength);
    m_started = true;
    m_sinks.append(sink);
    connect(sink, &HttpConnection::closed, this, [this, sink]() { dropSink(sink); });
    connect(sink->socket(), &QTcpSocket::bytesWritten, this, &BodyTransfer::pump);
    if (m_sinks.size() == 1) {
        m_source->sendContinue(); // Expect: 100-continue is answered once a receiver is there
    }
    schedule();
}

void BodyTransfer::schedule()
{
    if (!m_scheduled) {
        m_scheduled = true;
        QMetaObject::invokeMethod(this, &BodyTransfer::pump, Qt::QueuedConnection);
    }
}

void BodyTransfer::pump()
{
    m_scheduled = false;
    if (m_pumping || m_finished || m_sinks.isEmpty()) {
        return;
    }
    m_pumping = true;
    for (;;) {
        bool paused = false;
        for (const QPointer<HttpConnection> &sink : std::as_const(m_sinks)) {
            paused = paused || !sink || sink->bytesToWrite() >= HIGH_WATER;
        }
        if (paused) {
            break; // bytesWritten() of the sink resumes it
        }
        bool failed = false;
        const QByteArray piece = m_source->readStreamedBody(PIECE, &failed);
        if (failed) {
            cutSinks();
            break;
        }
        if (!piece.isEmpty()) {
            m_relayed += piece.size();
            const QList<QPointer<HttpConnection>> sinks = m_sinks;
            for (const QPointer<HttpConnection> &sink : sinks) {
                if (sink) {
                    sink->writeChunk(piece);
                }
            }
        }
        if (!m_source->isReadingStreamedBody()) {
            m_complete = true;
            const QList<QPointer<HttpConnection>> sinks = std::exchange(m_sinks, {});
            for (const QPointer<HttpConnection> &sink : sinks) {
                if (sink) {
                    sink->endStream();
                }
            }
            finish(true);
            break;
        }
        if (piece.isEmpty()) {
            break; // readyRead() of the source resumes it
        }
    }
    m_pumping = false;
}

void BodyTransfer::dropSink(HttpConnection *sink)
{
    m_sinks.removeIf([sink](const QPointer<HttpConnection> &s) { return !s || s == sink; });
    if (m_sinks.isEmpty()) {
        finish(false);
    } else {
        schedule(); // the slowest one may have left
    }
}

void BodyTransfer::cutSinks()
{
    const QList<QPointer<HttpConnection>> sinks = std::exchange(m_sinks, {});
    for (const QPointer<HttpConnection> &sink : sinks) {
        if (sink) {
            sink->abortResponse();
        }
    }
    finish(false);
}

void BodyTransfer::finish(bool complete)
{
    if (!m_finished) {
        m_finished = true;
        if (m_started) {
            Q_EMIT finished(m_relayed, complete);
        }
    }
}

} // namespace Patchwork::Server
