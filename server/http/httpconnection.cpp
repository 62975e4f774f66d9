// SPDX-License-Identifier: MIT
#include "http/httpconnection.h"

#include <QTimer>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#endif

#include "http/httpserver.h"
#include "http/serverlogging.h"

namespace Patchwork::Server
{

namespace
{

constexpr qint64 READ_CHUNK = 256 * 1024;
// Bodies up to this size are copied behind their head and written with it in one system call.
constexpr qsizetype SMALL_BODY = 16 * 1024;

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

bool isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

bool isToken(QByteArrayView s)
{
    if (s.isEmpty()) {
        return false;
    }
    for (char c : s) {
        if (!isTokenChar(c)) {
            return false;
        }
    }
    return true;
}

// Parses a non-negative decimal; false on anything else or overflow.
bool parseLength(QByteArrayView s, qint64 *out)
{
    if (s.isEmpty() || s.size() > 18) {
        return false;
    }
    qint64 v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

bool parseHex(QByteArrayView s, qint64 *out)
{
    if (s.isEmpty() || s.size() > 15) {
        return false;
    }
    qint64 v = 0;
    for (char c : s) {
        int d;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            d = c - 'A' + 10;
        } else {
            return false;
        }
        v = v * 16 + d;
    }
    *out = v;
    return true;
}

} // namespace

HttpConnection::HttpConnection(HttpServer *server, QTcpSocket *socket, const QHostAddress &peer)
    : QObject(server)
    , m_server(server)
    , m_socket(socket)
    , m_peer(peer)
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
    if (m_state == State::Idle && m_buf.isEmpty() && !m_responding) {
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
    if (m_state == State::Handling || m_state == State::Closing || m_gone) {
        return; // the next request waits until this one is answered
    }
    parse();
}

void HttpConnection::parse()
{
    const auto &limits = m_server->limits();
    while (!m_gone) {
        switch (m_state) {
        case State::Idle:
        case State::Headers: {
            const qint64 available = qMin(m_socket->bytesAvailable(), limits.maxHeaderBytes + 4 - m_buf.size());
            if (m_headStart < 0 && (available > 0 || !m_buf.isEmpty())) {
                m_headStart = m_server->nowMs(); // the head deadline runs from its first byte
            }
            if (available > 0 && m_buf.isEmpty()) {
                // Reading exactly what is buffered takes Qt's read block itself instead of copying it,
                // so the block is freed with m_buf once the head is parsed: an idle or waiting
                // connection then holds no read buffer at all.
                m_buf = m_socket->read(available);
                m_lastActivity = m_server->nowMs();
            } else if (available > 0) {
                const qsizetype old = m_buf.size();
                m_buf.resize(old + available);
                m_buf.resize(old + qMax<qint64>(0, m_socket->read(m_buf.data() + old, available)));
                m_lastActivity = m_server->nowMs();
            }
            // Skip empty lines between requests.
            qsizetype start = 0;
            while (start < m_buf.size() && (m_buf.at(start) == '\r' || m_buf.at(start) == '\n')) {
                ++start;
            }
            if (start > 0) {
                m_buf.remove(0, start);
            }
            if (m_buf.isEmpty()) {
                return;
            }
            m_state = State::Headers;
            qsizetype end = m_buf.indexOf("\r\n\r\n");
            qsizetype headLen = end >= 0 ? end + 4 : -1;
            if (end < 0) {
                const qsizetype lf = m_buf.indexOf("\n\n");
                if (lf >= 0) {
                    end = lf;
                    headLen = lf + 2;
                }
            }
            if (end < 0) {
                if (m_buf.size() > limits.maxHeaderBytes) {
                    fail(431, "Request header fields too large");
                }
                return;
            }
            if (end > limits.maxHeaderBytes) {
                fail(431, "Request header fields too large");
                return;
            }
            if (!parseHead(end)) {
                return;
            }
            m_headStart = -1;
            if (headLen == m_buf.size()) {
                m_buf = QByteArray(); // an idle or waiting connection keeps no buffer
            } else {
                m_buf.remove(0, headLen);
            }
            if (m_state == State::Handling) {
                requestComplete();
                return;
            }
            break;
        }
        case State::Body:
            readBody();
            if (m_state == State::Body) {
                return;
            }
            break;
        case State::ChunkSize:
        case State::ChunkData:
        case State::ChunkTrailer:
            readChunked();
            if (m_state == State::ChunkSize || m_state == State::ChunkData || m_state == State::ChunkTrailer) {
                return;
            }
            break;
        case State::Handling:
        case State::Closing:
            return;
        }
    }
}

bool HttpConnection::parseHead(qsizetype headEnd)
{
    const auto &limits = m_server->limits();
    m_request = HttpRequest();
    m_request.peer = m_peer;
    const QByteArrayView head(m_buf.constData(), headEnd);
    qsizetype lineEnd = head.indexOf('\n');
    if (lineEnd < 0) {
        lineEnd = head.size();
    }
    QByteArrayView line = head.first(lineEnd);
    if (line.endsWith('\r')) {
        line.chop(1);
    }
    // Request-Line = method SP request-target SP HTTP-version
    const qsizetype sp1 = line.indexOf(' ');
    const qsizetype sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 <= sp1 + 1 || line.indexOf(' ', sp2 + 1) >= 0) {
        fail(400, "Malformed request line");
        return false;
    }
    const QByteArrayView method = line.first(sp1);
    const QByteArrayView target = line.sliced(sp1 + 1, sp2 - sp1 - 1);
    const QByteArrayView version = line.sliced(sp2 + 1);
    if (!isToken(method)) {
        fail(400, "Malformed request line");
        return false;
    }
    if (version.size() != 8 || !version.startsWith("HTTP/1.") || (version[7] != '0' && version[7] != '1')) {
        if (version.startsWith("HTTP/")) {
            fail(505, "HTTP version not supported");
        } else {
            fail(400, "Malformed request line");
        }
        return false;
    }
    for (char c : target) {
        if (uchar(c) <= 0x20 || c == 0x7f) {
            fail(400, "Malformed request line");
            return false;
        }
    }
    m_request.method = method.toByteArray();
    m_request.minorVersion = version[7] - '0';
    QByteArrayView path = target;
    if (target.startsWith("http://") || target.startsWith("https://")) {
        // absolute-form: keep the path
        const qsizetype slash = target.indexOf('/', target.indexOf("//") + 2);
        path = slash < 0 ? QByteArrayView("/") : target.sliced(slash);
    } else if (!target.startsWith('/') && !(target == "*" && method == "OPTIONS")) {
        fail(400, "Malformed request target");
        return false;
    }
    m_request.target = path.toByteArray();
    const qsizetype q = path.indexOf('?');
    m_request.rawPath = (q < 0 ? path : path.first(q)).toByteArray();
    if (q >= 0) {
        m_request.query = path.sliced(q + 1).toByteArray();
    }

    bool haveLength = false;
    bool chunked = false;
    qint64 length = 0;
    QByteArrayView connection;
    qsizetype pos = lineEnd + 1;
    while (pos < head.size()) {
        qsizetype next = head.indexOf('\n', pos);
        if (next < 0) {
            next = head.size();
        }
        QByteArrayView h = head.sliced(pos, next - pos);
        pos = next + 1;
        if (h.endsWith('\r')) {
            h.chop(1);
        }
        if (h.isEmpty()) {
            continue;
        }
        if (h.front() == ' ' || h.front() == '\t') {
            fail(400, "Obsolete header line folding is not supported");
            return false;
        }
        const qsizetype colon = h.indexOf(':');
        if (colon <= 0 || !isToken(h.first(colon))) {
            fail(400, "Malformed header line");
            return false;
        }
        const QByteArrayView name = h.first(colon);
        const QByteArrayView value = h.sliced(colon + 1).trimmed();
        for (char c : value) {
            if (c == '\0' || c == '\r' || c == '\n') {
                fail(400, "Malformed header value");
                return false;
            }
        }
        if (name.compare("Content-Length", Qt::CaseInsensitive) == 0) {
            qint64 v = 0;
            if (!parseLength(value, &v) || (haveLength && v != length)) {
                fail(400, "Invalid Content-Length");
                return false;
            }
            haveLength = true;
            length = v;
        } else if (name.compare("Transfer-Encoding", Qt::CaseInsensitive) == 0) {
            if (value.compare("chunked", Qt::CaseInsensitive) != 0) {
                fail(501, "Transfer-Encoding not supported (only chunked)");
                return false;
            }
            chunked = true;
        } else if (name.compare("Connection", Qt::CaseInsensitive) == 0) {
            connection = value;
        }
        m_request.headers.append({name.toByteArray(), value.toByteArray()});
    }
    if (chunked && haveLength) {
        fail(400, "Both Content-Length and Transfer-Encoding given");
        return false;
    }
    const QByteArray conn = connection.toByteArray().toLower();
    m_request.keepAlive = m_request.minorVersion == 1 ? !conn.contains("close") : conn.contains("keep-alive");
    if (length > limits.maxBody) {
        m_buf.clear();
        fail(413, QByteArray("Payload too large (limit " + QByteArray::number(limits.maxBody) + " bytes)"));
        return false;
    }
    // The bytes after the head's CRLF CRLF (at most 2 fewer than are there after an LF-only head).
    const qint64 atHand = m_buf.size() - headEnd - 4 + m_socket->bytesAvailable();
    if ((chunked || length > 0) && !admitBody(length, chunked || atHand < length)) {
        return false;
    }
    if ((chunked || length > 0) && m_request.minorVersion == 1
        && m_request.header("Expect").compare("100-continue", Qt::CaseInsensitive) == 0) {
        m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    }
    m_bodyRead = 0;
    if (chunked) {
        m_state = State::ChunkSize;
    } else if (length > 0) {
        m_contentLength = length;
        m_state = State::Body;
    } else {
        m_state = State::Handling;
    }
    return true;
}

void HttpConnection::readBody()
{
    if (!m_buf.isEmpty()) {
        const qint64 n = qMin<qint64>(m_buf.size(), m_contentLength - m_bodyRead);
        growBody(m_bodyRead + n);
        memcpy(m_request.body.data() + m_bodyRead, m_buf.constData(), size_t(n));
        m_bodyRead += n;
        m_buf.remove(0, n);
        if (m_buf.isEmpty()) {
            m_buf = QByteArray();
        }
    }
    while (m_bodyRead < m_contentLength && m_socket->bytesAvailable() > 0) {
        growBody(m_bodyRead + qMin(m_socket->bytesAvailable(), m_contentLength - m_bodyRead));
        const qint64 n = m_socket->read(m_request.body.data() + m_bodyRead, m_request.body.size() - m_bodyRead);
        if (n <= 0) {
            m_request.body.resize(m_bodyRead);
            break;
        }
        m_bodyRead += n;
        m_request.body.resize(m_bodyRead);
        m_lastActivity = m_server->nowMs();
    }
    if (m_bodyRead == m_contentLength) {
        m_state = State::Handling;
        requestComplete();
    }
}

void HttpConnection::readChunked()
{
    const qint64 maxBody = m_server->limits().maxBody;
    for (;;) {
        if (m_socket->bytesAvailable() > 0) {
            m_buf.append(m_socket->read(READ_CHUNK));
            m_lastActivity = m_server->nowMs();
        }
        if (m_state == State::ChunkData) {
            const qint64 n = qMin<qint64>(m_buf.size(), m_chunkRemaining);
            if (n > 0) {
                m_request.body.append(m_buf.constData(), n);
                m_buf.remove(0, n);
                m_chunkRemaining -= n;
            }
            if (m_chunkRemaining > 0) {
                if (m_socket->bytesAvailable() > 0) {
                    continue;
                }
                return;
            }
            if (m_buf.size() < 2) {
                if (m_socket->bytesAvailable() > 0) {
                    continue;
                }
                return;
            }
            if (!m_buf.startsWith("\r\n")) {
                fail(400, "Malformed chunked body");
                return;
            }
            m_buf.remove(0, 2);
            m_state = State::ChunkSize;
        }
        const qsizetype nl = m_buf.indexOf('\n');
        if (nl < 0) {
            if (m_buf.size() > 1024) {
                fail(400, "Malformed chunked body");
                return;
            }
            if (m_socket->bytesAvailable() > 0) {
                continue;
            }
            return;
        }
        QByteArrayView line(m_buf.constData(), nl);
        if (line.endsWith('\r')) {
            line.chop(1);
        }
        if (m_state == State::ChunkTrailer) {
            m_buf.remove(0, nl + 1);
            if (line.isEmpty()) {
                m_state = State::Handling;
                requestComplete();
                return;
            }
            continue; // trailer fields are ignored
        }
        const qsizetype semi = line.indexOf(';');
        qint64 size = 0;
        if (!parseHex((semi < 0 ? line : line.first(semi)).trimmed(), &size)) {
            fail(400, "Malformed chunked body");
            return;
        }
        m_buf.remove(0, nl + 1);
        if (size == 0) {
            m_state = State::ChunkTrailer;
            continue;
        }
        if (m_request.body.size() + size > maxBody) {
            fail(413, QByteArray("Payload too large (limit " + QByteArray::number(maxBody) + " bytes)"));
            return;
        }
        if (!chargeBody(size)) {
            return;
        }
        m_chunkRemaining = size;
        m_state = State::ChunkData;
    }
}

void HttpConnection::requestComplete()
{
    if (m_gone || m_state != State::Handling) {
        return;
    }
    delete m_upload; // the upload is complete
    m_upload = nullptr;
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

PreparedResponse HttpConnection::prepare(int status, const HeaderList &headers, const QByteArray &body)
{
    PreparedResponse p;
    p.head = buildHead(status, headers, body.size(), false);
    p.body = body;
    if (body.size() <= SMALL_BODY) {
        p.full.reserve(p.head.size() + 2 + body.size());
        p.full += p.head;
        p.full += "\r\n";
        p.full += body;
    }
    return p;
}

QByteArray HttpConnection::buildHead(int status, const HeaderList &headers, qint64 contentLength, bool chunked)
{
    QByteArray head;
    head.reserve(256);
    head += "HTTP/1.1 ";
    head += QByteArray::number(status);
    head += ' ';
    head += reasonPhrase(status);
    head += "\r\nAccess-Control-Allow-Origin: *\r\n";
    for (const auto &h : headers) {
        head += h.first;
        head += ": ";
        head += h.second;
        head += "\r\n";
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

QByteArray HttpConnection::statusHead(int status, const HeaderList &headers, qint64 contentLength, bool chunked)
{
    QByteArray head = buildHead(status, headers, contentLength, chunked);
    finishHead(head);
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
#ifdef Q_OS_UNIX
    // Fast path: with nothing queued in Qt's write buffer, give small responses straight to the kernel.
    // A pubsub fan-out then costs one send() per subscriber and no write-notifier round trip. What the
    // kernel does not take (or an error) goes through QTcpSocket as usual, so ordering and error
    // reporting stay Qt's.
    if (m_socket->bytesToWrite() == 0 && m_socket->state() == QAbstractSocket::ConnectedState) {
        const ssize_t sent =
            ::send(int(m_socket->socketDescriptor()), data.constData(), size_t(data.size()), MSG_NOSIGNAL);
        if (sent == data.size()) {
            onBytesWritten();
            return;
        }
        if (sent > 0) {
            m_socket->write(data.constData() + sent, data.size() - sent);
            m_socket->flush();
            return;
        }
    }
#endif
    m_socket->write(data);
    m_socket->flush();
}

void HttpConnection::respond(int status, const HeaderList &headers, const QByteArray &body)
{
    if (m_gone || m_responding) {
        return;
    }
    reportResponse(status);
    const bool noBody = status == 204 || status == 304 || m_request.method == "HEAD";
    QByteArray head = statusHead(status, headers, body.size(), false);
    writeResponse(head, noBody ? QByteArray() : body);
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

void HttpConnection::startStream(int status, const HeaderList &headers)
{
    if (m_gone || m_responding) {
        return;
    }
    reportResponse(status);
    m_responding = true;
    m_streaming = true;
    sendSmall(statusHead(status, headers, -1, true));
}

void HttpConnection::writeChunk(const QByteArray &data)
{
    if (m_gone || !m_streaming || m_responseDone || data.isEmpty()) {
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
    m_socket->write("0\r\n\r\n");
}

void HttpConnection::onBytesWritten()
{
    m_lastActivity = m_server->nowMs();
    if (m_socket->bytesToWrite() > 0 || m_gone) {
        return;
    }
    if (m_state == State::Closing) {
        m_socket->disconnectFromHost();
        return;
    }
    if (!m_responding) {
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
    m_responding = false;
    m_streaming = false;
    m_responseDone = false;
    if (m_closeAfter || !m_request.keepAlive) {
        closeNow();
        return;
    }
    m_request = HttpRequest();
    m_state = State::Idle;
    m_lastActivity = m_server->nowMs();
    if (!m_buf.isEmpty() || m_socket->bytesAvailable() > 0) {
        QMetaObject::invokeMethod(this, &HttpConnection::parse, Qt::QueuedConnection);
    }
}

void HttpConnection::fail(int status, QByteArrayView reason, const HeaderList &extraHeaders)
{
    qCDebug(lcServer) << "bad request from" << m_peer.toString() << status << reason;
    releaseBody();
    m_request.keepAlive = false;
    m_closeAfter = true;
    m_responding = false;
    respondText(status, reason, extraHeaders);
    m_state = State::Closing;
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
    // A refused upload is not read, so the refusal closes the connection.
    const bool closeAfter = m_closeAfter;
    m_closeAfter = true;
    if (!m_server->handler()->admitUpload(this, m_upload)) {
        releaseBody();
        m_buf.clear();
        m_state = State::Closing;
        return false;
    }
    m_closeAfter = closeAfter;
    return true;
}

bool HttpConnection::chargeBody(qint64 bytes)
{
    if (!m_server->bodyBudget().tryCharge(bytes)) {
        m_buf.clear();
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

void HttpConnection::growBody(qint64 size)
{
    // The body grows as it arrives, at most doubling per step, never beyond its announced length: an
    // announced Content-Length reserves no memory (nor address space) before the bytes come.
    constexpr qint64 MIN_STEP = READ_CHUNK;
    if (m_request.body.capacity() < size) {
        m_request.body.reserve(qMin(m_contentLength, qMax(size, qMax(2 * m_request.body.capacity(), MIN_STEP))));
    }
    m_request.body.resize(size);
}

void HttpConnection::reportResponse(int status)
{
    const qint64 elapsedMs = m_state == State::Handling ? m_server->nowMs() - m_requestStart : 0;
    m_server->handler()->responseStarted(this, status, elapsedMs);
}

void HttpConnection::closeNow()
{
    m_state = State::Closing;
    m_socket->disconnectFromHost();
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
    if ((m_state == State::Idle || m_state == State::Headers) && m_headStart >= 0 && limits.headTimeoutMs > 0
        && nowMs - m_headStart > limits.headTimeoutMs) {
        m_buf.clear();
        fail(408, "Request timeout: the request head was not complete in time");
        return;
    }
    switch (m_state) {
    case State::Idle:
        if (!m_responding && limits.idleMs > 0 && nowMs - m_lastActivity > limits.idleMs) {
            closeNow();
        }
        break;
    case State::Headers:
    case State::Body:
    case State::ChunkSize:
    case State::ChunkData:
    case State::ChunkTrailer:
        if (limits.uploadStallMs > 0 && nowMs - m_lastActivity > limits.uploadStallMs) {
            m_buf.clear();
            fail(408, "Request timeout: no data received");
        }
        break;
    case State::Handling:
    case State::Closing:
        break;
    }
}

} // namespace Patchwork::Server
