// SPDX-License-Identifier: MIT
#pragma once

#include <QList>
#include <QObject>
#include <QPointer>

#include "engine/message.h"

namespace Patchwork::Server
{

class HttpConnection;

// A request body above --max-body, moved from the connection that sends it (the source) to the
// connections that receive it (the sinks) while it arrives (docs/DECISIONS.md "Streamed transfers").
// The source's socket is read only while every sink's outgoing buffer is below HIGH_WATER, so the
// daemon holds at most about 1 MiB of a transfer (the source's read buffer, one piece, a sink's write
// buffer), and the slowest sink slows the source down through TCP. Its source connection owns it;
// when the source leaves or fails, the sinks' responses are cut (closed before their end).
class BodyTransfer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BodyTransfer)

public:
    // A sink's outgoing buffer above this pauses the source.
    static constexpr qint64 HIGH_WATER = 512 * 1024;
    // The most read from the source at once.
    static constexpr qint64 PIECE = 256 * 1024;

    // `contentLength` -1: a chunked body.
    BodyTransfer(HttpConnection *source, qint64 contentLength);
    ~BodyTransfer() override;

    qint64 contentLength() const;
    // Body bytes handed to the sinks so far.
    qint64 bytesRelayed() const;
    // The whole body went to the sinks.
    bool isComplete() const;
    // Starts the response on `sink` (with the source's Content-Length, else chunked) and makes it
    // receive the body. The bytes start flowing on the next event loop pass, so every receiver the
    // engine hands the message to in one call gets it from its first byte.
    void addSink(HttpConnection *sink, int status, const HeaderList &headers);

Q_SIGNALS:
    // Once: the sinks got the whole body (`complete`), or the transfer ended early (the source left or
    // failed, or every sink left).
    void finished(qint64 bytes, bool complete);

private:
    void schedule();
    void pump();
    void dropSink(HttpConnection *sink);
    void cutSinks();
    void finish(bool complete);

    HttpConnection *m_source;
    QList<QPointer<HttpConnection>> m_sinks;
    qint64 m_contentLength;
    qint64 m_relayed = 0;
    bool m_complete = false;
    bool m_started = false; // a sink was added
    bool m_finished = false;
    bool m_scheduled = false;
    bool m_pumping = false;
};

} // namespace Patchwork::Server
