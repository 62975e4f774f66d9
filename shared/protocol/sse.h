// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QByteArrayList>
#include <QByteArrayView>
#include <QList>

namespace Patchwork
{

// Server-Sent Events (the WHATWG `text/event-stream` format) as the relay writes them and clients read
// them: the relay's event streams encode with the functions in `Sse`, the client library decodes with
// SseParser, and the tests check one against the other.
namespace Sse
{

// One message as an event: `id:` (when `id` is not empty), `event: message` and a `data:` line per line
// of the body (CRLF, CR and LF all end a line, so a parser gives the lines back joined with LF), or
// `event: binary` and the body in base64 when it is not valid UTF-8; a blank line ends it.
QByteArray encodeMessage(QByteArrayView id, QByteArrayView body);

// Sent before replayed events when the id a client resumes from is no longer buffered.
inline constexpr char GAP_EVENT[] = "event: gap\ndata: true\n\n";
// A comment, written to every open stream periodically so proxies and clients see the stream alive.
inline constexpr char KEEPALIVE[] = ":keepalive\n\n";

} // namespace Sse

// One dispatched event, as EventSource would report it.
struct SseEvent
{
    // The stream's last event id when the event was dispatched (the event's own `id:`, or the one
    // before it when it had none).
    QByteArray id;
    // `event:`; "message" when the event named none.
    QByteArray type;
    // The `data:` lines joined with LF.
    QByteArray data;
};

// An incremental `text/event-stream` parser: feed it the body in chunks of any size (a chunk may end
// anywhere, even between a CR and its LF, or inside the UTF-8 byte order mark), and it returns the
// events completed by each chunk. Follows the WHATWG algorithm: CR, LF and CRLF end lines, one leading
// BOM is skipped, `:` lines are comments, a field name without a colon has an empty value, one space
// after the colon is dropped, an `id` containing NUL is ignored, `retry` takes digits only, unknown
// fields are ignored, and an event with no `data` line is not dispatched.
class SseParser
{
public:
    SseParser();

    // Parses `chunk` and returns the events it completed, in order.
    QList<SseEvent> feed(QByteArrayView chunk);

    // The last event id the stream set (what a reconnecting client sends as `Last-Event-ID`).
    QByteArray lastEventId() const;
    // The reconnection time the stream asked for with `retry:`, or -1.
    qint64 retryMs() const;
    // Comments are dropped unless kept; the kept ones (text after the colon) are taken here.
    void setKeepComments(bool keep);
    QByteArrayList takeComments();
    // Bytes held for an incomplete line (bounded only by the caller's input).
    qsizetype pendingBytes() const;

private:
    void processLine(QByteArrayView line, QList<SseEvent> &out);

    QByteArray m_line; // an incomplete line carried over from the previous chunk
    QByteArray m_data; // every data line so far, each followed by LF
    QByteArray m_type;
    QByteArray m_lastEventId;
    QByteArrayList m_comments;
    qint64 m_retryMs = -1;
    qsizetype m_bomChecked = 0; // bytes of the stream start matched against the BOM (3 = done)
    bool m_skipLf = false; // the previous chunk ended with CR: a leading LF belongs to it
    bool m_keepComments = false;
};

} // namespace Patchwork
