// SPDX-License-Identifier: MIT
// Fuzzes the incremental SSE parser (SseParser) and the relay's SSE encoder (Sse::encodeMessage).
//  - Raw mode: the input is an event stream. It is parsed once whole and once cut into chunks chosen by
//    the input; both must give the same events, comments, last event id and retry. After every chunk,
//    pendingBytes() stays within the bytes of the event not yet ended by a blank line (a reference line
//    splitter finds those).
//  - Round-trip mode: the input describes messages (ids without CR, LF or NUL, as the relay makes them;
//    any body bytes), interleaved with keep-alives and gap events; they are encoded as the relay does and
//    parsed in random chunks: every message must come back with its id and body (base64 under
//    `event: binary` when the body is not UTF-8, its line ends as LF otherwise).
#include <memory>
#include <vector>

#include <QByteArray>
#include <QList>
#include <QUtf8StringView>

#include <fuzzer/FuzzedDataProvider.h>

#include "fuzzcheck.h"
#include "protocol/sse.h"

using Patchwork::SseEvent;
using Patchwork::SseParser;
using Patchwork::Fuzz::check;
using Patchwork::Fuzz::Chunker;
using Patchwork::Fuzz::heapCopy;
namespace Sse = Patchwork::Sse;

namespace
{

struct Result
{
    QList<SseEvent> events;
    QByteArrayList comments;
    QByteArray lastEventId;
    qint64 retryMs = -1;
};

bool sameEvents(const QList<SseEvent> &a, const QList<SseEvent> &b)
{
    if (a.size() != b.size()) {
        return false;
    }
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (a[i].id != b[i].id || a[i].type != b[i].type || a[i].data != b[i].data) {
            return false;
        }
    }
    return true;
}

// For each offset of `stream`, where the event that is open there started: just past the last blank
// line before it (CR, LF and CRLF end lines; a line is blank when it ends right where the previous one did).
std::vector<qsizetype> eventStarts(const QByteArray &stream)
{
    std::vector<qsizetype> starts(size_t(stream.size()) + 1, 0);
    qsizetype eventStart = 0;
    qsizetype lineStart = 0;
    for (qsizetype i = 0; i < stream.size(); ++i) {
        starts[size_t(i)] = eventStart;
        const char c = stream[i];
        if (c != '\r' && c != '\n') {
            continue;
        }
        const bool blank = i == lineStart;
        if (c == '\r' && i + 1 < stream.size() && stream[i + 1] == '\n') {
            starts[size_t(++i)] = eventStart;
        }
        lineStart = i + 1;
        if (blank) {
            eventStart = lineStart;
        }
    }
    starts[size_t(stream.size())] = eventStart;
    return starts;
}

// Parses `stream` in chunks (each copied into its own heap block, so reading past a chunk is an ASan
// report); with `starts`, checks pendingBytes() after every chunk.
Result parse(const QByteArray &stream, bool keepComments, Chunker *chunker, const std::vector<qsizetype> *starts)
{
    SseParser parser;
    parser.setKeepComments(keepComments);
    Result r;
    qsizetype at = 0;
    while (at < stream.size()) {
        const qsizetype size = chunker ? qMin(chunker->next(), stream.size() - at) : stream.size() - at;
        const std::unique_ptr<char[]> chunk = heapCopy(QByteArrayView(stream).sliced(at, size));
        at += size;
        r.events += parser.feed(QByteArrayView(chunk.get(), size));
        r.comments += parser.takeComments();
        if (starts) {
            const qsizetype open = at - (*starts)[size_t(at)];
            check(parser.pendingBytes() >= 0 && parser.pendingBytes() <= open,
                  "pendingBytes exceeds the bytes of the open event");
        }
    }
    r.lastEventId = parser.lastEventId();
    r.retryMs = parser.retryMs();
    return r;
}

void rawMode(FuzzedDataProvider &in)
{
    const bool keepComments = in.ConsumeBool();
    Chunker chunker(in.ConsumeIntegral<quint32>(), in.ConsumeIntegral<quint8>());
    const std::vector<char> bytes = in.ConsumeRemainingBytes<char>();
    const QByteArray stream(bytes.data(), qsizetype(bytes.size()));
    const std::vector<qsizetype> starts = eventStarts(stream);
    const Result whole = parse(stream, keepComments, nullptr, &starts);
    const Result pieces = parse(stream, keepComments, &chunker, &starts);
    check(sameEvents(whole.events, pieces.events), "chunking changed the events");
    check(whole.comments == pieces.comments, "chunking changed the comments");
    check(whole.lastEventId == pieces.lastEventId, "chunking changed the last event id");
    check(whole.retryMs == pieces.retryMs, "chunking changed retry");
    for (const SseEvent &e : whole.events) {
        check(!e.type.isEmpty(), "event without a type");
        check(!e.id.contains('\0'), "event id with NUL");
    }
}

// A body's data as the parser gives it back: line ends (CRLF, CR, LF) become LF.
QByteArray expectedData(const QByteArray &body)
{
    QByteArray out = body;
    out.replace("\r\n", "\n");
    out.replace('\r', '\n');
    return out;
}

void roundTripMode(FuzzedDataProvider &in)
{
    Chunker chunker(in.ConsumeIntegral<quint32>(), in.ConsumeIntegral<quint8>());
    QByteArray stream;
    QList<SseEvent> expected;
    QByteArray lastId;
    const int messages = in.ConsumeIntegralInRange(1, 16);
    for (int m = 0; m < messages && in.remaining_bytes() > 0; ++m) {
        switch (in.ConsumeIntegralInRange(0, 7)) {
        case 0:
            stream += Sse::KEEPALIVE;
            break;
        case 1:
            stream += Sse::GAP_EVENT;
            expected.append({lastId, "gap", "true"});
            break;
        default: {
            QByteArray id = QByteArray::fromStdString(in.ConsumeRandomLengthString(24));
            id.replace('\r', '_').replace('\n', '_').replace('\0', '_');
            const QByteArray body = QByteArray::fromStdString(in.ConsumeRandomLengthString(2048));
            stream += Sse::encodeMessage(id, body);
            if (!id.isEmpty()) {
                lastId = id;
            }
            if (QUtf8StringView(body).isValidUtf8()) {
                expected.append({lastId, "message", expectedData(body)});
            } else {
                expected.append({lastId, "binary", body.toBase64()});
            }
            break;
        }
        }
    }
    const Result r = parse(stream, false, &chunker, nullptr);
    check(sameEvents(r.events, expected), "round trip lost or changed a message");
    check(r.lastEventId == lastId, "round trip changed the last event id");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzedDataProvider in(data, size);
    if (in.ConsumeBool()) {
        rawMode(in);
    } else {
        roundTripMode(in);
    }
    return 0;
}
