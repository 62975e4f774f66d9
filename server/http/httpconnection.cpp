// SPDX-License-Identifier: MIT
#include "http/httpconnection.h"

#include <QTimer>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#endif

#include "http/bodytransfer.h"
#include "http/directwrite.h"
#include "http/httpserver.h"
#include "http/httputil.h"
#include "http/serverlogging.h"

namespace Patchwork::Server
{

namespace
{

constexpr qint64 READ_CHUNK = 256 * 1024;
// Bodies up to this size are copied behind their head and written with it in one system call.
constexpr qsizetype SMALL_BODY = 16 * 1024;
// The answer when a response head could not be written safely; the connection then closes.
const QByteArray INTERNAL_ERROR = QByteArrayLiteral("Internal server error: invalid response header\n");

QByteArrayView reasonPhrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 421:
        return "Misdirected Request";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error" : "Server Error";
    }
}

HttpRequestParser::Limits parserLimits(const HttpServer::Limits &limits)
{
    return {limits.maxBody, limits.maxHeaderBytes, limits.maxStreamBody};
}

} // namespace

HttpConnection::HttpConnection(HttpServer *server, QTcpSocket *socket, const QHostAddress &peer)
    : QObject(server)
    , m_server(server)
    , m_socket(socket)
    , m_peer(peer)
    , m_parser(parserLimits(server->limits()))
{
    m_socket->setParent(this);
    m_socket->setReadBufferSize(READ_CHUNK);
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    m_lastActivity = m_server->nowMs();
    connect(m_socket, &QTcpSocket::readyRead, this, &HttpConnection::onReadyRead);
    connect(m_socket, &QTcpSocket::bytesWritten, this, &HttpConnection::onBytesWritten);
    connect(m_socket, &QTcpSocket::disconnected, this, &HttpConnection::onDisconnected);
    m_server->attach(this);
}

HttpConnection::~HttpConnection()
{
    releaseBody();
    m_server->detach(this);
}

const HttpRequest &HttpConnection::request() const
{
    return m_request;
}

BodyTransfer *HttpConnection::bodyTransfer() const
{
    return m_transfer;
}

qint64 HttpConnection::requestStartMs() const
{
    return m_requestStart;
}

QTcpSocket *HttpConnection::socket() const
{
    return m_socket;
}

bool HttpConnection::isResponding() const
{
    return m_responding;
}

qint64 HttpConnection::bytesToWrite() const
{
    return m_socket->bytesToWrite();
}

qint64 HttpConnection::lastActivityMs() const
{
    return m_lastActivity;
}

void HttpConnection::setCloseAfterResponse()
{
    m_closeAfter = true;
    if (isIdle() || m_state == State::Lingering) {
        closeNow();
    }
}

QTcpSocket *HttpConnection::detachForUpgrade(QByteArray *pending)
{
    if (m_gone || m_responding || m_state != State::Handling) {
        return nullptr;
    }
    QTcpSocket *socket = m_socket;
    disconnect(socket, nullptr, this, nullptr);
    socket->setParent(nullptr);
    pending->append(m_buf);
    m_buf = QByteArray();
    m_gone = true;
    m_state = State::Closing;
    deleteLater();
    return socket;
}

// --- reading ---------------------------------------------------------------------------------------

void HttpConnection::onReadyRead()
{
    if (m_state == State::Lingering) {
        discardInput();
    } else if (m_state == State::Reading && !m_gone) {
        parse(); // else the next request waits until this one is answered
    }
}

bool HttpConnection::isIdle() const
{
    // Blank lines before a head leave the parser idle, but they start the head deadline.
    return m_state == State::Reading && m_parser.state() == HttpRequestParser::State::Idle && m_buf.isEmpty()
           && m_headStart < 0 && !m_responding;
}

void HttpConnection::parse()
{
    while (!m_gone && m_state == State::Reading) {
        if (m_buf.isEmpty()) {
            const qint64 available = m_socket->bytesAvailable();
            if (available <= 0) {
                return;
            }
            m_lastActivity = m_server->nowMs();
            if (const qint64 missing = m_parser.bodyRemaining(); missing > 0) {
                // A Content-Length body goes from the socket straight into the request.
                const qint64 room = qMin(missing, available);
                const qint64 n = m_socket->read(m_parser.bodyTail(room), room);
                if (n <= 0) {
                    return;
                }
                m_parser.bodyWritten(n);
            } else {
                // Reading exactly what is buffered takes Qt's read block itself instead of copying it,
                // so the block is freed with m_buf once parsed: an idle or waiting connection then holds
                // no read buffer at all.
                m_buf = m_socket->read(available);
            }
        }
        if (!m_buf.isEmpty()) {
            if (m_headStart < 0 && !m_parser.isHeadComplete()) {
                m_headStart = m_server->nowMs(); // the head deadline runs from its first byte
            }
            const qsizetype used = m_parser.feed(m_buf);
            if (used == m_buf.size()) {
                m_buf = QByteArray();
            } else {
                m_buf.remove(0, used);
            }
        }
        if (m_parser.state() == HttpRequestParser::State::Error) {
            fail(m_parser.errorStatus(), m_parser.errorReason());
            return;
        }
        if (m_parser.isHeadComplete() && !m_headSeen) {
            m_headSeen = true;
            m_headStart = -1;
            headParsed();
            if (m_state != State::Reading) {
                return; // refused
            }
        }
        if (m_headSeen && m_parser.isStreamed()) {
            startStreamedRequest();
            return;
        }
        // A chunked body is charged chunk by chunk (a Content-Length one was charged whole with the head).
        if (m_headSeen && !chargeBody(m_parser.bodyAnnounced() - m_bodyCharge)) {
            return;
        }
        if (m_parser.state() == HttpRequestParser::State::Complete) {
            requestComplete();
            return;
        }
    }
}

void HttpConnection::headParsed()
{
    if (m_parser.isStreamed()) {
        return; // nothing is buffered, and 100 Continue waits for a receiver
    }
    if (m_parser.state() == HttpRequestParser::State::Body) {
        // What of the body is here already: the rest of m_buf and what the socket holds.
        const qint64 announced = m_parser.bodyRemaining(); // 0 for a chunked body
        const bool incomplete = announced == 0 || m_buf.size() + m_socket->bytesAvailable() < announced;
        if (!admitBody(announced, incomplete)) {
            return;
        }
    }
    if (m_parser.expectsContinue()) {
        m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    }
}

void HttpConnection::requestComplete()
{
    m_request = m_parser.takeRequest();
    delete m_upload; // the upload is complete
    m_upload = nullptr;
    m_parser.setLimits(parserLimits(m_server->limits()));
    handOver();
}

// The head is here; the body is read while it is relayed. For a chunked body that grew past the limit,
// what was read of it stays in the parser and goes first.
void HttpConnection::startStreamedRequest()
{
    m_continuePending = m_parser.expectsContinue();
    m_bodyStreaming = true;
    m_transfer = new BodyTransfer(this, m_parser.contentLength());
    m_request = m_parser.request();
    m_request.body = QByteArray();
    handOver();
}

QByteArray HttpConnection::readStreamedBody(qint64 max, bool *failed)
{
    *failed = false;
    if (!m_bodyStreaming) {
        return {};
    }
    QByteArray in;
    if (!m_buf.isEmpty()) {
        in = std::exchange(m_buf, QByteArray());
    } else {
        qint64 want = qMin(max, m_socket->bytesAvailable());
        if (const qint64 missing = m_parser.bodyRemaining(); missing > 0) {
            want = qMin(want, missing);
        }
        if (want > 0) {
            in = m_socket->read(want);
            m_lastActivity = m_server->nowMs();
        }
    }
    QByteArray out;
    if (!in.isEmpty() && m_parser.bodyRemaining() >= in.size()) {
        // Content-Length body bytes go on as read, without a copy.
        m_parser.bodyForwarded(in.size());
        out = std::move(in);
    } else {
        const qsizetype used = in.isEmpty() ? 0 : m_parser.feed(in);
        out = m_parser.takeBody();
        if (used < in.size()) {
            m_buf = in.sliced(used);
        }
    }
    if (m_parser.state() == HttpRequestParser::State::Error) {
        *failed = true;
        m_bodyStreaming = false;
        fail(m_parser.errorStatus(), m_parser.errorReason());
        return {};
    }
    if (m_parser.state() == HttpRequestParser::State::Complete) {
        m_bodyStreaming = false;
        m_parser.takeRequest();
        m_parser.setLimits(parserLimits(m_server->limits()));
    }
    return out;
}

bool HttpConnection::isReadingStreamedBody() const
{
    return m_bodyStreaming;
}

void HttpConnection::sendContinue()
{
    if (m_continuePending && !m_gone) {
        m_continuePending = false;
        m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    }
}

void HttpConnection::handOver()
{
    m_request.peer = m_peer;
    m_headSeen = false;
    m_state = State::Handling;
    m_responding = false;
    m_streaming = false;
    m_responseDone = false;
    m_requestStart = m_server->nowMs();
    m_server->handler()->handleRequest(this);
    if (m_state == State::Handling && !m_responding) {
        // The request waits: the handler took what it needs, so keep only what the response needs.
        m_request.headers = HeaderList();
        m_request.body = QByteArray();
        m_request.target = QByteArray();
        m_request.query = QByteArray();
    }
}

// --- writing ---------------------------------------------------------------------------------------

PreparedResponse
HttpConnection::prepare(const HttpServer *server, int status, const HeaderList &headers, const QByteArray &body)
{
    PreparedResponse p;
    p.head = buildHead(server, status, headers, body.size(), false);
    if (p.head.isEmpty()) {
        return prepare(server,
                       500,
                       {{QByteArrayLiteral("Content-Type"), QByteArrayLiteral("text/plain; charset=utf-8")}},
                       INTERNAL_ERROR);
    }
    p.body = body;
    if (body.size() <= SMALL_BODY) {
        p.full.reserve(p.head.size() + 2 + body.size());
        p.full += p.head;
        p.full += "\r\n";
        p.full += body;
    }
    return p;
}

QByteArray HttpConnection::buildHead(const HttpServer *server,
                                     int status,
                                     const HeaderList &headers,
                                     qint64 contentLength,
                                     bool chunked)
{
    // The one place every response head passes: nothing that could end a line or the head gets out.
    for (const HeaderList *list : {&server->responseHeaders(), &headers}) {
        for (const auto &h : *list) {
            if (!isHttpToken(h.first) || !isHttpFieldValue(h.second)) {
                qCWarning(lcServer).noquote() << "internal error: refusing to write an invalid response header"
                                              << QString::fromLatin1(h.first.toPercentEncoding());
                return {};
            }
        }
    }
    QByteArray head;
    head.reserve(256);
    head += "HTTP/1.1 ";
    head += QByteArray::number(status);
    head += ' ';
    head += reasonPhrase(status);
    head += "\r\nAccess-Control-Allow-Origin: *\r\n";
    for (const HeaderList *list : {&server->responseHeaders(), &headers}) {
        for (const auto &h : *list) {
            head += h.first;
            head += ": ";
            head += h.second;
            head += "\r\n";
        }
    }
    if (chunked) {
        head += "Transfer-Encoding: chunked\r\n";
    } else if (contentLength >= 0 && status != 204 && status != 304 && status >= 200) {
        head += "Content-Length: ";
        head += QByteArray::number(contentLength);
        head += "\r\n";
    }
    return head;
}

void HttpConnection::finishHead(QByteArray &head) const
{
    if (m_closeAfter || !m_request.keepAlive) {
        head += "Connection: close\r\n";
    }
    head += "\r\n";
}

void HttpConnection::respondPrepared(const PreparedResponse &response)
{
    if (m_gone || m_responding) {
        return;
    }
    // The head starts with "HTTP/1.1 NNN ".
    const QByteArrayView statusLine = response.full.isEmpty() ? response.head : response.full;
    reportResponse(statusLine.size() > 12 ? statusLine.sliced(9, 3).toInt() : 0);
    if (!response.full.isEmpty() && !m_closeAfter && m_request.keepAlive) {
        // The same bytes for every receiver, sent with one send().
        m_responding = true;
        m_responseDone = true;
        sendSmall(response.full);
        return;
    }
    QByteArray head = response.head;
    finishHead(head);
    writeResponse(head, response.body);
}

void HttpConnection::writeResponse(QByteArray &head, const QByteArray &body)
{
    m_responding = true;
    m_responseDone = true;
    if (body.size() <= SMALL_BODY) {
        // One buffer, so one send(): Qt writes one buffer block per system call.
        head += body;
        sendSmall(head);
        return;
    }
    m_socket->write(head);
    m_socket->write(body);
    // Hand the response to the kernel now rather than on the next event loop pass; drained() may be
    // emitted from here.
    m_socket->flush();
}

void HttpConnection::sendSmall(const QByteArray &data)
{
    if (writeDirect(m_socket, data)) {
        onBytesWritten(); // Qt does not report bytes it never saw
    } else {
        m_socket->flush();
    }
}

void HttpConnection::respond(int status, const HeaderList &headers, const QByteArray &body)
{
    if (m_gone || m_responding) {
        return;
    }
    QByteArray head = buildHead(m_server, status, headers, body.size(), false);
    if (head.isEmpty()) {
        respondInternalError();
        return;
    }
    reportResponse(status);
    finishHead(head);
    const bool noBody = status == 204 || status == 304 || m_request.method == "HEAD";
    writeResponse(head, noBody ? QByteArray() : body);
}

void HttpConnection::respondInternalError()
{
    m_closeAfter = true;
    respondText(500, QByteArrayView(INTERNAL_ERROR).chopped(1));
}

void HttpConnection::respondText(int status, QByteArrayView line, const HeaderList &extraHeaders)
{
    HeaderList headers;
    headers.reserve(extraHeaders.size() + 1);
    headers.append({QByteArrayLiteral("Content-Type"), QByteArrayLiteral("text/plain; charset=utf-8")});
    headers.append(extraHeaders);
    QByteArray body;
    body.reserve(line.size() + 1);
    body.append(line);
    body.append('\n');
    respond(status, headers, body);
}

void HttpConnection::startStream(int status, const HeaderList &headers, qint64 contentLength)
{
    if (m_gone || m_responding) {
        return;
    }
    QByteArray head = buildHead(m_server, status, headers, contentLength, contentLength < 0);
    if (head.isEmpty()) {
        respondInternalError();
        return;
    }
    reportResponse(status);
    finishHead(head);
    m_responding = true;
    m_streaming = true;
    m_chunked = contentLength < 0;
    sendSmall(head);
}

void HttpConnection::writeChunk(const QByteArray &data)
{
    if (m_gone || !m_streaming || m_responseDone || data.isEmpty()) {
        return;
    }
    if (!m_chunked) {
        writeDirect(m_socket, data);
        return;
    }
    m_socket->write(QByteArray::number(data.size(), 16) + "\r\n");
    m_socket->write(data);
    m_socket->write("\r\n");
}

void HttpConnection::endStream()
{
    if (m_gone || !m_streaming || m_responseDone) {
        return;
    }
    m_responseDone = true;
    if (m_chunked) {
        m_socket->write("0\r\n\r\n");
    } else if (m_socket->bytesToWrite() == 0) {
        // Everything went straight to the kernel: Qt reports no bytesWritten() for it.
        QMetaObject::invokeMethod(this, &HttpConnection::onBytesWritten, Qt::QueuedConnection);
    }
}

void HttpConnection::abortResponse()
{
    if (m_gone || m_state == State::Closing || m_state == State::Lingering) {
        return;
    }
    m_state = State::Closing;
    if (m_socket->bytesToWrite() > 0) {
        m_socket->abort(); // a client that stopped reading must not keep it open
    } else {
        m_socket->disconnectFromHost();
    }
}

void HttpConnection::onBytesWritten()
{
    m_lastActivity = m_server->nowMs();
    if (m_socket->bytesToWrite() > 0 || m_gone) {
        return;
    }
    if (m_state == State::Closing) {
        closeWhenWritten();
        return;
    }
    if (!m_responding || (m_streaming && !m_responseDone)) {
        return;
    }
    Q_EMIT drained();
    if (m_responseDone) {
        finishResponse();
    }
}

void HttpConnection::finishResponse()
{
    releaseBody();
    if (m_transfer) {
        m_transfer->deleteLater();
        m_transfer = nullptr;
    }
    m_responding = false;
    m_streaming = false;
    m_responseDone = false;
    if (m_closeAfter || !m_request.keepAlive) {
        closeWhenWritten();
        return;
    }
    m_request = HttpRequest();
    m_state = State::Reading;
    m_lastActivity = m_server->nowMs();
    if (!m_buf.isEmpty() || m_socket->bytesAvailable() > 0) {
        QMetaObject::invokeMethod(this, &HttpConnection::parse, Qt::QueuedConnection);
    }
}

void HttpConnection::fail(int status, QByteArrayView reason, const HeaderList &extraHeaders)
{
    qCDebug(lcServer) << "bad request from" << m_peer.toString() << status << reason;
    releaseBody();
    // What was parsed of the refused request stays readable for the metrics hook; the rest of the input
    // is not read any more.
    m_request = m_parser.takeRequest();
    m_request.peer = m_peer;
    m_request.keepAlive = false;
    m_buf = QByteArray();
    m_closeAfter = true;
    m_lingerOnClose = true;
    m_responding = false;
    m_state = State::Closing;
    respondText(status, reason, extraHeaders);
}

// --- resource limits (docs/DECISIONS.md "Hardening: resource limits") -------------------------------

bool HttpConnection::admitBody(qint64 announcedLength, bool incomplete)
{
    if (!chargeBody(announcedLength)) {
        return false;
    }
    if (!incomplete) {
        return true; // the whole body is here: it does not wait for the client
    }
    m_upload = new QObject(this);
    // The handler sees the head (peer, forwarding headers); a refusal answers it and closes the
    // connection (lingering: the body it announced may still come).
    m_request = m_parser.request();
    m_request.peer = m_peer;
    const bool closeAfter = m_closeAfter;
    m_closeAfter = true;
    m_lingerOnClose = true;
    if (!m_server->handler()->admitUpload(this, m_upload)) {
        releaseBody();
        m_buf = QByteArray();
        if (m_state == State::Reading) {
            m_state = State::Closing; // the answer is still being written
        }
        return false;
    }
    m_request = HttpRequest();
    m_closeAfter = closeAfter;
    m_lingerOnClose = false;
    return true;
}

bool HttpConnection::chargeBody(qint64 bytes)
{
    if (bytes <= 0) {
        return true;
    }
    if (!m_server->bodyBudget().tryCharge(bytes)) {
        fail(503,
             "Server busy: too many request bodies in memory, retry later",
             {{QByteArrayLiteral("Retry-After"), QByteArray::number(BodyBudget::RETRY_AFTER_SECONDS)}});
        return false;
    }
    m_bodyCharge += bytes;
    return true;
}

void HttpConnection::releaseBody()
{
    m_server->bodyBudget().release(m_bodyCharge);
    m_bodyCharge = 0;
    delete m_upload;
    m_upload = nullptr;
}

void HttpConnection::reportResponse(int status)
{
    if (m_bodyStreaming) {
        // Answered before its streamed body was read: the rest of it is discarded, then the connection closes.
        m_continuePending = false;
        m_closeAfter = true;
        m_lingerOnClose = true;
    }
    const qint64 elapsedMs = m_state == State::Handling ? m_server->nowMs() - m_requestStart : 0;
    m_server->handler()->responseStarted(this, status, elapsedMs);
}

void HttpConnection::closeNow()
{
    m_state = State::Closing;
    m_socket->disconnectFromHost();
}

// Everything is written. After a refused request the client may still be sending (a body after a 413):
// closing now would make the kernel answer that with a reset, which can destroy the response before the
// client reads it. So, as nginx's lingering close: shut down our side, read and discard what comes, and
// close when the client does, or after lingerMs.
void HttpConnection::closeWhenWritten()
{
    const qint64 lingerMs = m_server->limits().lingerMs;
#ifdef Q_OS_UNIX
    if (m_lingerOnClose && lingerMs > 0 && m_socket->state() == QAbstractSocket::ConnectedState) {
        m_state = State::Lingering;
        m_lingerUntil = m_server->nowMs() + lingerMs;
        ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
        discardInput();
        return;
    }
#endif
    closeNow();
}

void HttpConnection::discardInput()
{
    while (m_socket->bytesAvailable() > 0) {
        m_socket->skip(m_socket->bytesAvailable());
    }
}

void HttpConnection::onDisconnected()
{
    if (m_gone) {
        return;
    }
    m_gone = true;
    Q_EMIT closed();
    deleteLater();
}

void HttpConnection::checkTimeouts(qint64 nowMs)
{
    const auto &limits = m_server->limits();
    switch (m_state) {
    case State::Reading:
        if (isIdle()) {
            if (limits.idleMs > 0 && nowMs - m_lastActivity > limits.idleMs) {
                closeNow();
            }
        } else if (!m_parser.isHeadComplete() && m_headStart >= 0 && limits.headTimeoutMs > 0
                   && nowMs - m_headStart > limits.headTimeoutMs) {
            fail(408, "Request timeout: the request head was not complete in time");
        } else if (!m_responding && limits.uploadStallMs > 0 && nowMs - m_lastActivity > limits.uploadStallMs) {
            fail(408, "Request timeout: no data received");
        }
        break;
    case State::Lingering:
        if (nowMs >= m_lingerUntil) {
            closeNow();
        }
        break;
    case State::Handling:
    case State::Closing:
        break;
    }
}

} // namespace Patchwork::Server
