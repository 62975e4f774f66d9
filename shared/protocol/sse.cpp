// SPDX-License-Identifier: MIT
#include "protocol/sse.h"

#include <utility>

#include <QUtf8StringView>

namespace Patchwork
{

namespace
{

constexpr char BOM[] = "\xEF\xBB\xBF";
constexpr qsizetype BOM_SIZE = 3;

} // namespace

QByteArray Sse::encodeMessage(QByteArrayView id, QByteArrayView body)
{
    QByteArray out;
    out.reserve(body.size() + id.size() + 32);
    if (!id.isEmpty()) {
        out += "id: ";
        out += id;
        out += '\n';
    }
    if (!QUtf8StringView(body).isValidUtf8()) {
        out += "event: binary\ndata: ";
        out += body.toByteArray().toBase64();
        out += "\n\n";
        return out;
    }
    out += "event: message\n";
    // One data: line per line; the client joins them with LF.
    qsizetype start = 0;
    const qsizetype size = body.size();
    for (qsizetype i = 0; i <= size; ++i) {
        if (i < size && body.at(i) != '\n' && body.at(i) != '\r') {
            continue;
        }
        out += "data: ";
        out += body.sliced(start, i - start);
        out += '\n';
        if (i + 1 < size && body.at(i) == '\r' && body.at(i + 1) == '\n') {
            ++i;
        }
        start = i + 1;
    }
    out += '\n';
    return out;
}

SseParser::SseParser() = default;

QList<SseEvent> SseParser::feed(QByteArrayView chunk)
{
    QList<SseEvent> out;
    // The stream may start with one UTF-8 byte order mark, possibly split across chunks.
    while (m_bomChecked < BOM_SIZE && !chunk.isEmpty()) {
        if (chunk.front() != BOM[m_bomChecked]) {
            // Not a BOM after all: what looked like its start is ordinary input.
            const QByteArray held(BOM, m_bomChecked);
            m_bomChecked = BOM_SIZE;
            out += feed(held);
            break;
        }
        chunk = chunk.sliced(1);
        ++m_bomChecked;
    }
    if (m_bomChecked < BOM_SIZE) {
        return out;
    }
    if (m_skipLf && !chunk.isEmpty()) {
        m_skipLf = false;
        if (chunk.front() == '\n') {
            chunk = chunk.sliced(1);
        }
    }
    qsizetype start = 0;
    const qsizetype size = chunk.size();
    for (qsizetype i = 0; i < size; ++i) {
        const char c = chunk.at(i);
        if (c != '\n' && c != '\r') {
            continue;
        }
        if (m_line.isEmpty()) {
            processLine(chunk.sliced(start, i - start), out);
        } else {
            m_line += chunk.sliced(start, i - start);
            processLine(m_line, out);
            m_line.clear();
        }
        if (c == '\r') {
            if (i + 1 == size) {
                m_skipLf = true;
            } else if (chunk.at(i + 1) == '\n') {
                ++i;
            }
        }
        start = i + 1;
    }
    m_line += chunk.sliced(start);
    return out;
}

void SseParser::processLine(QByteArrayView line, QList<SseEvent> &out)
{
    if (line.isEmpty()) {
        // Dispatch: an event without data lines only resets the buffers.
        if (!m_data.isEmpty()) {
            if (m_data.endsWith('\n')) {
                m_data.chop(1);
            }
            out.append({m_lastEventId, m_type.isEmpty() ? QByteArrayLiteral("message") : m_type, m_data});
        }
        m_data.clear();
        m_type.clear();
        return;
    }
    if (line.front() == ':') {
        if (m_keepComments) {
            m_comments.append(line.sliced(1).toByteArray());
        }
        return;
    }
    const qsizetype colon = line.indexOf(':');
    const QByteArrayView field = colon < 0 ? line : line.first(colon);
    QByteArrayView value = colon < 0 ? QByteArrayView() : line.sliced(colon + 1);
    if (value.startsWith(' ')) {
        value = value.sliced(1);
    }
    if (field == "data") {
        m_data += value;
        m_data += '\n';
    } else if (field == "event") {
        m_type = value.toByteArray();
    } else if (field == "id") {
        if (!value.contains('\0')) {
            m_lastEventId = value.toByteArray();
        }
    } else if (field == "retry") {
        bool ok = !value.isEmpty();
        for (const char c : value) {
            ok = ok && c >= '0' && c <= '9';
        }
        const qint64 ms = ok ? value.toLongLong(&ok) : -1;
        if (ok) {
            m_retryMs = ms;
        }
    }
}

QByteArray SseParser::lastEventId() const
{
    return m_lastEventId;
}

qint64 SseParser::retryMs() const
{
    return m_retryMs;
}

void SseParser::setKeepComments(bool keep)
{
    m_keepComments = keep;
}

QByteArrayList SseParser::takeComments()
{
    return std::exchange(m_comments, {});
}

qsizetype SseParser::pendingBytes() const
{
    return m_line.size() + m_data.size();
}

} // namespace Patchwork
