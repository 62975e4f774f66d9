// SPDX-License-Identifier: MIT
// Fuzzes the HTTP/1.1 request parser (HttpRequestParser) on its own, chunked decoder included. The input
// picks the limits and a chunking, the rest is what a client sends on one connection. It is parsed once
// whole, once cut into chunks chosen by the input and, when short, byte by byte; all must give the same
// outcomes (every request with method, target, headers, body, version, keep-alive and 100-continue, or
// the same error status and reason) and the same final state. Every feed() must consume within its
// bytes and either make progress or stop in a final state; a request never holds CR, LF or NUL in its
// method, target or headers; a body stays within the limit; errors are 400, 413, 431, 501 or 505 with a
// one-line reason.
#include <memory>
#include <vector>

#include <QByteArray>
#include <QList>

#include <fuzzer/FuzzedDataProvider.h>

#include "fuzzcheck.h"
#include "http/httprequestparser.h"

using Patchwork::Server::HttpRequest;
using Patchwork::Server::HttpRequestParser;
using State = HttpRequestParser::State;
using Patchwork::Fuzz::check;
using Patchwork::Fuzz::Chunker;
using Patchwork::Fuzz::fail;
using Patchwork::Fuzz::heapCopy;

namespace
{

// The outcomes in order: "R" + a serialized request, "E" + status + reason, and last "S" + the final state.
using Trace = QList<QByteArray>;

bool clean(QByteArrayView s)
{
    return !s.contains('\r') && !s.contains('\n') && !s.contains('\0');
}

QByteArray serialize(const HttpRequest &r, bool expectsContinue)
{
    QByteArray out = "R" + r.method + ' ' + r.target + ' ' + r.rawPath + '?' + r.query + ' '
                     + QByteArray::number(r.minorVersion) + (r.keepAlive ? " keep" : " close")
                     + (expectsContinue ? " continue\n" : "\n");
    for (const auto &h : r.headers) {
        out += h.first + ": " + h.second + '\n';
    }
    return out + '\n' + r.body;
}

void checkRequest(const HttpRequest &r, const HttpRequestParser::Limits &limits)
{
    check(!r.method.isEmpty() && clean(r.method) && !r.method.contains(' '), "bad method");
    check(clean(r.target) && !r.target.contains(' ') && !r.target.isEmpty(), "CR, LF, NUL or space in the target");
    check(r.target.startsWith(r.rawPath), "raw path is not the start of the target");
    check(r.minorVersion == 0 || r.minorVersion == 1, "bad version");
    for (const auto &h : r.headers) {
        check(!h.first.isEmpty() && clean(h.first) && !h.first.contains(':'), "bad header name");
        check(clean(h.second), "CR, LF or NUL in a header value");
    }
    check(r.body.size() <= limits.maxBody, "body over the limit");
    const QByteArray length = r.header("Content-Length");
    if (!length.isEmpty() && !r.hasHeader("Transfer-Encoding")) {
        check(r.body.size() == length.toLongLong(), "body size differs from Content-Length");
    }
}

Trace parse(const QByteArray &stream, const HttpRequestParser::Limits &limits, Chunker *chunker, bool byteByByte)
{
    HttpRequestParser parser(limits);
    Trace trace;
    qsizetype at = 0;
    while (at < stream.size() && parser.state() != State::Error) {
        qsizetype size = stream.size() - at;
        if (byteByByte) {
            size = 1;
        } else if (chunker) {
            size = qMin(chunker->next(), size);
        }
        const std::unique_ptr<char[]> chunk = heapCopy(QByteArrayView(stream).sliced(at, size));
        at += size;
        qsizetype pos = 0;
        while (pos < size) {
            const qsizetype used = parser.feed(chunk.get() + pos, size - pos);
            check(used >= 0 && used <= size - pos, "feed consumed out of range");
            pos += used;
            if (parser.state() == State::Complete) {
                const bool continues = parser.expectsContinue();
                checkRequest(parser.request(), limits);
                trace.append(serialize(parser.takeRequest(), continues));
                check(parser.state() == State::Idle, "takeRequest did not reset the parser");
            } else if (parser.state() == State::Error) {
                const int status = parser.errorStatus();
                check(status == 400 || status == 413 || status == 431 || status == 501 || status == 505,
                      "unexpected error status");
                check(!parser.errorReason().isEmpty() && clean(parser.errorReason()), "bad error reason");
                check(parser.feed(chunk.get(), size) == 0 && parser.state() == State::Error, "error did not stay");
                trace.append("E" + QByteArray::number(status) + ' ' + parser.errorReason());
                break;
            } else if (used == 0) {
                fail("feed made no progress", QByteArrayView(chunk.get() + pos, size - pos));
            }
        }
    }
    trace.append("S" + QByteArray::number(int(parser.state())));
    return trace;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzedDataProvider in(data, size);
    HttpRequestParser::Limits limits;
    if (in.ConsumeBool()) {
        limits.maxBody = in.ConsumeIntegralInRange<qint64>(0, 1 << 16);
        limits.maxHeaderBytes = in.ConsumeIntegralInRange<qint64>(0, 1 << 12);
    }
    Chunker chunker(in.ConsumeIntegral<quint32>(), in.ConsumeIntegral<quint8>());
    const std::vector<char> bytes = in.ConsumeRemainingBytes<char>();
    const QByteArray stream(bytes.data(), qsizetype(bytes.size()));
    const Trace whole = parse(stream, limits, nullptr, false);
    check(parse(stream, limits, &chunker, false) == whole, "chunking changed the outcomes");
    if (stream.size() <= 1024) {
        check(parse(stream, limits, nullptr, true) == whole, "feeding byte by byte changed the outcomes");
    }
    return 0;
}
