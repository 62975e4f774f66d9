// SPDX-License-Identifier: MIT
#pragma once

#include <QObject>
#include <QTcpSocket>

#include "http/httprequest.h"
#include "http/httprequestparser.h"

namespace Patchwork::Server
{

class BodyTransfer;
class HttpServer;

// A response serialised once: `head` without its final empty line (a connection that closes adds
// `Connection: close`), and for small bodies `full` = head, empty line and body in one buffer.
struct PreparedResponse
{
    QByteArray head;
    QByteArray body;
    QByteArray full;
};

// One client connection: feeds what the socket reads to an HttpRequestParser, one request at a time
// (pipelined ones wait their turn), and writes the response the handler gives. Every response head is
// checked once here: a header name that is not a token or a value with a control character is never
// written (the response becomes a 500). A request refused while it is read is answered and the
// connection closed gracefully (lingering close). The handler may answer at once or much later;
// drained() tells it when everything written so far reached the operating system, and closed() that
// the client left.
class HttpConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpConnection)

public:
    HttpConnection(HttpServer *server, QTcpSocket *socket, const QHostAddress &peer);
    ~HttpConnection() override;

    const HttpRequest &request() const;
    // The current request's body is above --max-body and streamed (docs/DECISIONS.md "Streamed
    // transfers"): request().body is empty and this moves the body to the receivers; nullptr otherwise.
    BodyTransfer *bodyTransfer() const;
    // The time (server clock, ms) the current request's headers were complete.
    qint64 requestStartMs() const;

    // Writes a complete response. `headers` must not contain Content-Length or framing headers; a header
    // that could not be written safely (see above) turns it into `500` and closes the connection.
    void respond(int status, const HeaderList &headers, const QByteArray &body);
    // A one-line text/plain error or status message; a '\n' is appended.
    void respondText(int status, QByteArrayView line, const HeaderList &extraHeaders = {});
    // A response built once and sent to many connections (a pubsub fan-out) of `server`.
    static PreparedResponse
    prepare(const HttpServer *server, int status, const HeaderList &headers, const QByteArray &body);
    void respondPrepared(const PreparedResponse &response);
    // A streamed response: chunked transfer encoding (e.g. Server-Sent Events), or with a known
    // `contentLength` the body as is. drained() comes once, after endStream() when all is written.
    void startStream(int status, const HeaderList &headers, qint64 contentLength = -1);
    void writeChunk(const QByteArray &data);
    void endStream();
    // Cuts a streamed response: the connection closes before the response's end, so the client sees an
    // incomplete transfer, never a clean end.
    void abortResponse();

    bool isResponding() const;
    qint64 bytesToWrite() const;
    QTcpSocket *socket() const;
    // Closes the connection after the current response (e.g. on shutdown); an idle or lingering one at once.
    void setCloseAfterResponse();
    // Protocol upgrade (PROTOCOL §11): while the current request waits for its answer, hands its socket
    // to the caller, who writes the 101 response and speaks the new protocol on it. Appends the bytes
    // already read past the request to *pending. The socket loses its parent and every connection to
    // this object, which deletes itself later without emitting closed(). nullptr once a response has
    // begun or the client has left.
    QTcpSocket *detachForUpgrade(QByteArray *pending);

    // Used by HttpServer's housekeeping.
    qint64 lastActivityMs() const;
    void checkTimeouts(qint64 nowMs);

Q_SIGNALS:
    void drained();
    void closed();

private:
    enum class State
    {
        Reading, // a request (or the wait for one): see m_parser
        Handling,
        Closing,
        Lingering // refused: output shut down, input discarded until the client closes or lingerMs pass
    };

    void onReadyRead();
    void onBytesWritten();
    void onDisconnected();
    void parse();
    void headParsed();
    void requestComplete();
    void startStreamedRequest();
    // Hands the request in m_request to the handler.
    void handOver();
    // For BodyTransfer, while a streamed body is read: up to `max` more body bytes (framing removed),
    // empty when none are buffered; `*failed` when the body is malformed (the client got the error).
    QByteArray readStreamedBody(qint64 max, bool *failed);
    bool isReadingStreamedBody() const;
    // Answers `Expect: 100-continue` of a streamed request, once a receiver is there.
    void sendContinue();
    bool isIdle() const;
    void fail(int status, QByteArrayView reason, const HeaderList &extraHeaders = {});
    void finishResponse();
    void closeNow();
    void closeWhenWritten();
    void discardInput();
    // Tells the handler that a response starts (metrics).
    void reportResponse(int status);
    void respondInternalError();
    static QByteArray
    buildHead(const HttpServer *server, int status, const HeaderList &headers, qint64 contentLength, bool chunked);
    void finishHead(QByteArray &head) const;
    void writeResponse(QByteArray &head, const QByteArray &body);
    void sendSmall(const QByteArray &data);
    // Resource limits (docs/DECISIONS.md "Hardening: resource limits").
    // Charges the body to the budget and, unless all of it was received with the head, asks the
    // handler to admit the upload; false after answering (503 or the handler's refusal).
    bool admitBody(qint64 announcedLength, bool incomplete);
    bool chargeBody(qint64 bytes);
    void releaseBody();

    HttpServer *m_server;
    QTcpSocket *m_socket;
    QHostAddress m_peer;
    State m_state = State::Reading;
    HttpRequestParser m_parser;
    QByteArray m_buf; // read from the socket, not yet given to the parser
    HttpRequest m_request;
    qint64 m_lastActivity = 0;
    qint64 m_requestStart = 0;
    qint64 m_lingerUntil = 0;
    qint64 m_headStart = -1; // when the first byte of the current head arrived; -1 = none yet
    qint64 m_bodyCharge = 0; // bytes charged to the server's BodyBudget
    QObject *m_upload = nullptr; // exists while a body is being read (HttpHandler::admitUpload)
    BodyTransfer *m_transfer = nullptr; // the current request's streamed body
    bool m_bodyStreaming = false; // a streamed body is being read
    bool m_continuePending = false;
    bool m_chunked = false; // the streamed response is chunked
    bool m_headSeen = false;
    bool m_responding = false;
    bool m_streaming = false;
    bool m_responseDone = false;
    bool m_closeAfter = false;
    bool m_lingerOnClose = false;
    bool m_gone = false;

    friend class HttpServer;
    friend class BodyTransfer;
    HttpConnection *m_prevConn = nullptr;
    HttpConnection *m_nextConn = nullptr;
};

} // namespace Patchwork::Server
