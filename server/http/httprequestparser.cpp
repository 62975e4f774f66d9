// SPDX-License-Identifier: MIT
#include "http/httprequestparser.h"

#include <cstring>
#include <utility>

#include "http/httputil.h"
#include "protocol/httptext.h"

namespace Patchwork::Server
{

namespace
{

// A chunk size line (size and extensions) longer than this is refused.
constexpr qsizetype MAX_CHUNK_LINE = 1024;
// A Content-Length body grows by at least this much (and at most doubles) per step.
constexpr qint64 MIN_BODY_STEP = 256 * 1024;

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

QByteArray tooLarge(qint64 limit)
{
    return "Payload too large (limit " + QByteArray::number(limit) + " bytes)";
}

} // namespace

HttpRequestParser::HttpRequestParser(const Limits &limits)
    : m_limits(limits)
{
}

void HttpRequestParser::setLimits(const Limits &limits)
{
    m_limits = limits;
}

HttpRequest HttpRequestParser::takeRequest()
{
    HttpRequest request = std::move(m_request);
    m_request = HttpRequest();
    m_state = State::Idle;
    m_chunk = Chunk::None;
    m_head = QByteArray();
    m_lineStart = 0;
    m_trailerBytes = 0;
    m_contentLength = 0;
    m_bodyRead = 0;
    m_chunkRemaining = 0;
    m_idleCr = false;
    m_expectContinue = false;
    m_chunked = false;
    m_streamed = false;
    return request;
}

qint64 HttpRequestParser::bodyAnnounced() const
{
    if (!isHeadComplete()) {
        return 0;
    }
    return m_chunk == Chunk::None ? m_contentLength : m_request.body.size() + m_chunkRemaining;
}

qint64 HttpRequestParser::contentLength() const
{
    return m_chunked ? -1 : m_contentLength;
}

QByteArray HttpRequestParser::takeBody()
{
    return std::exchange(m_request.body, QByteArray());
}

void HttpRequestParser::bodyForwarded(qint64 n)
{
    m_bodyRead += n;
    if (m_bodyRead == m_contentLength) {
        finishBody();
    }
}

bool HttpRequestParser::admitBodySize(qint64 total)
{
    if (total <= m_limits.maxBody && !m_streamed) {
        return true;
    }
    if (m_limits.maxStreamBody == 0) {
        fail(413, tooLarge(m_limits.maxBody));
        return false;
    }
    if (m_limits.maxStreamBody > 0 && total > m_limits.maxStreamBody) {
        fail(413, tooLarge(m_limits.maxStreamBody));
        return false;
    }
    m_streamed = true;
    return true;
}

qint64 HttpRequestParser::bodyRemaining() const
{
    return m_state == State::Body && m_chunk == Chunk::None ? m_contentLength - m_bodyRead : 0;
}

char *HttpRequestParser::bodyTail(qint64 room)
{
    // The body grows as it arrives, at most doubling per step, never beyond its announced length: an
    // announced Content-Length reserves no memory (nor address space) before the bytes come.
    const qint64 size = m_bodyRead + qBound<qint64>(0, room, bodyRemaining());
    if (m_request.body.capacity() < size) {
        const qint64 doubled = qMax(2 * qint64(m_request.body.capacity()), MIN_BODY_STEP);
        m_request.body.reserve(qMin(m_contentLength, qMax(size, doubled)));
    }
    m_request.body.resize(size);
    return m_request.body.data() + m_bodyRead;
}

void HttpRequestParser::bodyWritten(qint64 n)
{
    m_bodyRead += n;
    m_request.body.resize(m_bodyRead);
    if (m_bodyRead == m_contentLength) {
        finishBody();
    }
}

void HttpRequestParser::finishBody()
{
    m_chunk = Chunk::None;
    m_head = QByteArray();
    m_state = State::Complete;
}

qsizetype HttpRequestParser::fail(int status, QByteArrayView reason)
{
    m_state = State::Error;
    m_errorStatus = status;
    m_errorReason = reason.toByteArray();
    m_head = QByteArray();
    return 0;
}

qsizetype HttpRequestParser::feed(const char *data, qsizetype size)
{
    qsizetype pos = 0;
    while (pos < size) {
        switch (m_state) {
        case State::Idle:
            pos += feedIdle(data + pos, size - pos);
            break;
        case State::Head:
            // Stops after the head, so the caller sees it before the body.
            return pos + feedHead(data + pos, size - pos);
        case State::Body:
            if (m_chunk != Chunk::None) {
                return pos + feedChunked(data + pos, size - pos);
            } else if (m_streamed) {
                const qint64 n = qMin<qint64>(size - pos, bodyRemaining());
                m_request.body.append(data + pos, n);
                bodyForwarded(n);
                return pos + n;
            } else {
                const qint64 n = qMin<qint64>(size - pos, bodyRemaining());
                memcpy(bodyTail(n), data + pos, size_t(n));
                bodyWritten(n);
                return pos + n;
            }
        case State::Complete:
        case State::Error:
            return pos;
        }
    }
    return pos;
}

qsizetype HttpRequestParser::feedIdle(const char *data, qsizetype size)
{
    // Empty lines (CRLF) before a request are ignored (RFC 9112 §2.2).
    qsizetype pos = 0;
    for (; pos < size; ++pos) {
        const char c = data[pos];
        if (m_idleCr) {
            if (c != '\n') {
                return fail(400, "Malformed request line");
            }
            m_idleCr = false;
        } else if (c == '\r') {
            m_idleCr = true;
        } else if (c == '\n') {
            return fail(400, "Bare LF in request head");
        } else {
            m_state = State::Head;
            break;
        }
    }
    return pos;
}

qsizetype HttpRequestParser::feedHead(const char *data, qsizetype size)
{
    const qsizetype base = m_head.size();
    // The head may be up to maxHeaderBytes plus its final CRLF CRLF; bytes past that are never looked at,
    // so the outcome does not depend on how the bytes arrive.
    const qsizetype room = qMin<qsizetype>(size, m_limits.maxHeaderBytes + 4 - base);
    qsizetype pos = 0;
    while (pos < room) {
        const auto *nl = static_cast<const char *>(memchr(data + pos, '\n', size_t(room - pos)));
        if (!nl) {
            break;
        }
        const qsizetype at = nl - data;
        const qsizetype offset = base + at; // of the LF in the head
        const char prev = at > 0 ? data[at - 1] : m_head.back(); // the head never starts with an LF
        if (prev != '\r') {
            return fail(400, "Bare LF in request head");
        }
        if (offset - 1 == m_lineStart) {
            // The empty line: the head is complete.
            const qsizetype used = at + 1;
            if (base == 0) {
                parseHead(QByteArrayView(data, used));
            } else {
                m_head.append(data, used);
                parseHead(m_head);
            }
            m_head = QByteArray();
            m_lineStart = 0;
            return used;
        }
        m_lineStart = offset + 1;
        pos = at + 1;
    }
    if (room < size) {
        return fail(431, "Request header fields too large");
    }
    m_head.append(data, size);
    return size;
}

bool HttpRequestParser::parseHead(QByteArrayView head)
{
    // Every LF in `head` follows a CR (feedHead checked), and it ends in CRLF CRLF.
    const auto nextLine = [&head](qsizetype *pos) {
        const qsizetype lf = head.indexOf('\n', *pos);
        const QByteArrayView line = head.sliced(*pos, lf - 1 - *pos);
        *pos = lf + 1;
        return line;
    };
    qsizetype pos = 0;
    const QByteArrayView line = nextLine(&pos);
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
    if (!isHttpToken(method)) {
        fail(400, "Malformed request line");
        return false;
    }
    if (version.size() != 8 || !version.startsWith("HTTP/1.") || (version[7] != '0' && version[7] != '1')) {
        fail(version.startsWith("HTTP/") ? 505 : 400,
             version.startsWith("HTTP/") ? "HTTP version not supported" : "Malformed request line");
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
    int hosts = 0;
    QByteArrayView connection;
    for (QByteArrayView h = nextLine(&pos); !h.isEmpty(); h = nextLine(&pos)) {
        if (h.front() == ' ' || h.front() == '\t') {
            fail(400, "Obsolete header line folding is not supported");
            return false;
        }
        const qsizetype colon = h.indexOf(':');
        if (colon <= 0 || !isHttpToken(h.first(colon))) {
            fail(400, "Malformed header line");
            return false;
        }
        const QByteArrayView name = h.first(colon);
        const QByteArrayView value = trimOws(h.sliced(colon + 1));
        if (!isHttpFieldValue(value)) {
            fail(400, "Malformed header value");
            return false;
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
            if (chunked) {
                fail(400, "Transfer-Encoding given twice");
                return false;
            }
            chunked = true;
        } else if (name.compare("Host", Qt::CaseInsensitive) == 0) {
            ++hosts;
        } else if (name.compare("Connection", Qt::CaseInsensitive) == 0) {
            connection = value;
        }
        m_request.headers.append({name.toByteArray(), value.toByteArray()});
    }
    if (hosts > 1) {
        fail(400, "More than one Host header");
        return false;
    }
    if (hosts == 0 && m_request.minorVersion == 1) {
        fail(400, "Host header required");
        return false;
    }
    if (chunked && haveLength) {
        fail(400, "Both Content-Length and Transfer-Encoding given");
        return false;
    }
    const QByteArray conn = connection.toByteArray().toLower();
    m_request.keepAlive = m_request.minorVersion == 1 ? !conn.contains("close") : conn.contains("keep-alive");
    if (!admitBodySize(length)) {
        return false;
    }
    m_expectContinue = (chunked || length > 0) && m_request.minorVersion == 1
                       && m_request.header("Expect").compare("100-continue", Qt::CaseInsensitive) == 0;
    m_bodyRead = 0;
    m_chunked = chunked;
    if (chunked) {
        m_chunk = Chunk::Size;
        m_state = State::Body;
    } else if (length > 0) {
        m_contentLength = length;
        m_state = State::Body;
    } else {
        m_state = State::Complete;
    }
    return true;
}

qsizetype HttpRequestParser::feedChunked(const char *data, qsizetype size)
{
    qsizetype pos = 0;
    while (pos < size && m_state == State::Body) {
        if (m_chunk == Chunk::Data) {
            const qint64 n = qMin<qint64>(size - pos, m_chunkRemaining);
            m_request.body.append(data + pos, n);
            pos += n;
            m_bodyRead += n;
            m_chunkRemaining -= n;
            if (m_chunkRemaining == 0) {
                m_chunk = Chunk::DataEnd;
            }
            continue;
        }
        // A line: chunk size, the CRLF after a chunk's data, or a trailer field.
        const qsizetype lineLimit =
            m_chunk == Chunk::Trailer ? m_limits.maxHeaderBytes - m_trailerBytes : MAX_CHUNK_LINE;
        const auto *nl = static_cast<const char *>(memchr(data + pos, '\n', size_t(size - pos)));
        const qsizetype end = nl ? nl - data : size;
        if (m_head.size() + (end - pos) > lineLimit + 1) {
            return m_chunk == Chunk::Trailer ? fail(431, "Request header fields too large")
                                             : fail(400, "Malformed chunked body");
        }
        if (!nl) {
            m_head.append(data + pos, size - pos);
            return size;
        }
        QByteArrayView line(data + pos, end - pos);
        if (!m_head.isEmpty()) {
            m_head.append(line);
            line = m_head;
        }
        pos = end + 1;
        if (!line.endsWith('\r')) {
            return fail(400, "Bare LF in chunked body");
        }
        line.chop(1);
        const bool ok = chunkLine(line);
        m_head.clear();
        if (!ok) {
            return pos;
        }
    }
    return pos;
}

bool HttpRequestParser::chunkLine(QByteArrayView line)
{
    switch (m_chunk) {
    case Chunk::Size: {
        // chunk-size [ ";" chunk-ext ]: hex digits, nothing around them but an extension.
        qsizetype digits = 0;
        qint64 size = 0;
        while (digits < line.size() && hexDigit(line[digits]) >= 0) {
            size = size * 16 + hexDigit(line[digits]);
            if (++digits > 15) {
                break;
            }
        }
        const QByteArrayView rest = line.sliced(digits);
        if (digits == 0 || digits > 15 || !(rest.isEmpty() || rest.front() == ';') || !isHttpFieldValue(rest)) {
            fail(400, "Malformed chunked body");
            return false;
        }
        if (size == 0) {
            m_chunk = Chunk::Trailer;
        } else if (!admitBodySize(m_bodyRead + size)) {
            return false;
        } else {
            m_chunkRemaining = size;
            m_chunk = Chunk::Data;
        }
        return true;
    }
    case Chunk::DataEnd:
        if (!line.isEmpty()) {
            fail(400, "Malformed chunked body");
            return false;
        }
        m_chunk = Chunk::Size;
        return true;
    case Chunk::Trailer:
        if (line.isEmpty()) {
            finishBody();
        } else {
            m_trailerBytes += line.size() + 2; // trailer fields are ignored, but count against the head limit
        }
        return true;
    case Chunk::None:
    case Chunk::Data:
        break;
    }
    return true;
}

} // namespace Patchwork::Server
