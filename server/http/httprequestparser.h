// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>

#include "http/httprequest.h"

namespace Patchwork::Server
{

// An incremental HTTP/1.1 request parser (RFC 9112), without sockets: feed() it the bytes of a
// connection as they arrive. It stops right after the head (so the caller can answer
// `Expect: 100-continue` or refuse before the body is read), after a complete request, and on the
// first error, which carries the status and one-line reason to answer with; the connection then closes.
//
// Strict where a lenient reading could differ from a front proxy's: every line ends in CRLF (a bare LF
// or CR is an error), HTTP/1.1 needs exactly one Host, Content-Length is digits only, header values hold
// no control character but HTAB, and a chunk size line is hex digits optionally followed by `;` and an
// extension. The body is kept in the request and grows as it arrives (an announced Content-Length
// reserves nothing); a Content-Length body may be filled without a copy through bodyTail()/bodyWritten().
//
// A body above maxBody (announced by Content-Length, or a chunked one that grows past it) is streamed
// when maxStreamBody allows it (docs/DECISIONS.md "Streamed transfers"): isStreamed() turns true, and
// the caller takes the body piece by piece with takeBody() instead of waiting for the whole of it.
class HttpRequestParser final
{
public:
    struct Limits
    {
        qint64 maxBody = 64 * 1024 * 1024;
        qint64 maxHeaderBytes = 64 * 1024;
        // A larger body is streamed up to this size: -1 = no limit, 0 = never (413 above maxBody).
        qint64 maxStreamBody = 0;
    };

    enum class State
    {
        Idle, // nothing of a request yet (empty CRLF lines before one are skipped)
        Head,
        Body,
        Complete,
        Error
    };

    explicit HttpRequestParser(const Limits &limits);

    void setLimits(const Limits &limits);

    // Consumes bytes up to the end of the head, the end of the request or an error, whichever comes
    // first; returns how many it took. Bytes past a complete request belong to the next one.
    qsizetype feed(const char *data, qsizetype size);
    qsizetype feed(QByteArrayView data)
    {
        return feed(data.data(), data.size());
    }

    State state() const
    {
        return m_state;
    }
    // The head is parsed: request() holds method, target and headers (state Body or Complete).
    bool isHeadComplete() const
    {
        return m_state == State::Body || m_state == State::Complete;
    }
    // The status (400, 413, 431, 501, 505) and reason of the error.
    int errorStatus() const
    {
        return m_errorStatus;
    }
    const QByteArray &errorReason() const
    {
        return m_errorReason;
    }
    // The client asked for `100 Continue` before sending the body it announced.
    bool expectsContinue() const
    {
        return m_expectContinue;
    }

    const HttpRequest &request() const
    {
        return m_request;
    }
    // Hands out the complete request and gets ready for the next one on the same connection.
    HttpRequest takeRequest();

    // The body bytes announced so far, for charging them before they arrive: the Content-Length, or for
    // a chunked body the chunks received and the size of the one under way.
    qint64 bodyAnnounced() const;
    // While a Content-Length body is read: how many bytes are still missing and where they go. bodyTail()
    // makes room for `room` more bytes (at most bodyRemaining()); write up to that many there, then report
    // how many with bodyWritten().
    qint64 bodyRemaining() const;
    char *bodyTail(qint64 room);
    void bodyWritten(qint64 n);

    // The body is streamed (see above). The head is complete; for a chunked body, what was read of it
    // before it grew past maxBody is in the request's body.
    bool isStreamed() const
    {
        return m_streamed;
    }
    // The announced Content-Length; -1 for a chunked body.
    qint64 contentLength() const;
    // A streamed body: hands out the body bytes fed so far (framing removed).
    QByteArray takeBody();
    // A streamed Content-Length body: `n` more body bytes (at most bodyRemaining()) went to the caller
    // without being fed.
    void bodyForwarded(qint64 n);

private:
    enum class Chunk
    {
        None,
        Size,
        Data,
        DataEnd,
        Trailer
    };

    qsizetype feedIdle(const char *data, qsizetype size);
    qsizetype feedHead(const char *data, qsizetype size);
    qsizetype feedChunked(const char *data, qsizetype size);
    // Fills m_request and moves to Body or Complete; false (state Error) on a malformed head.
    bool parseHead(QByteArrayView head);
    bool chunkLine(QByteArrayView line);
    // Whether a body of `total` bytes may be read (buffered or streamed); fails with 413 if not.
    bool admitBodySize(qint64 total);
    qsizetype fail(int status, QByteArrayView reason);
    void finishBody();

    Limits m_limits;
    State m_state = State::Idle;
    Chunk m_chunk = Chunk::None;
    HttpRequest m_request;
    QByteArray m_head; // a head (or chunk line) split over several feed() calls
    qsizetype m_lineStart = 0; // offset of the current line in the head
    qsizetype m_trailerBytes = 0;
    qint64 m_contentLength = 0;
    qint64 m_bodyRead = 0;
    qint64 m_chunkRemaining = 0;
    int m_errorStatus = 0;
    QByteArray m_errorReason;
    bool m_idleCr = false;
    bool m_expectContinue = false;
    bool m_chunked = false;
    bool m_streamed = false;
};

} // namespace Patchwork::Server
