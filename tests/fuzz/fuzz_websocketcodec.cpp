// SPDX-License-Identifier: MIT
// Fuzzes the WebSocket codec (PROTOCOL §11) in both roles.
//  - Raw mode: the input is a byte stream from a peer. It is decoded once whole and once cut into chunks
//    chosen by the input; both must report the same events (data merged, control frames, close, error),
//    every event must stay inside the bytes it was given, and every call must make progress.
//  - Round-trip mode: the input describes messages (text/binary, fragmented with control frames in
//    between, pings, pongs, closes with reasons); they are framed as the other role would, masked when
//    that role is the client, and decoded in random chunks: the decoder must report exactly them.
#include <cstdlib>
#include <memory>
#include <vector>

#include <QByteArray>
#include <QList>
#include <QString>
#include <QtEndian>

#include <fuzzer/FuzzedDataProvider.h>

#include "fuzzcheck.h"
#include "protocol/websocketcodec.h"

using Patchwork::Server::WebSocketCodec;
using Event = WebSocketCodec::Event;
using Kind = WebSocketCodec::Event::Kind;
using OpCode = WebSocketCodec::OpCode;

namespace
{

// What a decoder reported: consecutive data events merged (their split depends on the chunking only).
// Entries: 'D' + data, 'P' + ping payload, 'O' + pong payload, 'C' + code + reason, 'E' + code.
using Trace = QList<QByteArray>;
using Patchwork::Fuzz::check;
using Patchwork::Fuzz::Chunker;
using Patchwork::Fuzz::fail;
using Patchwork::Fuzz::heapCopy;

QByteArray codeBytes(quint16 code)
{
    QByteArray b(2, Qt::Uninitialized);
    qToBigEndian<quint16>(code, b.data());
    return b;
}

void addData(Trace &trace, QByteArrayView data)
{
    if (!trace.isEmpty() && trace.last().startsWith('D')) {
        trace.last().append(data);
    } else {
        trace.append('D' + data.toByteArray());
    }
}

// Decodes `stream` in chunks (each copied into its own heap block, so reading past a chunk is an ASan
// report) and returns the events. Stops at the first error, checking that it stays.
Trace decode(WebSocketCodec::Role role, const QByteArray &stream, Chunker *chunker)
{
    WebSocketCodec codec(role);
    Trace trace;
    qsizetype at = 0;
    while (at < stream.size()) {
        const qsizetype size = chunker ? qMin(chunker->next(), stream.size() - at) : stream.size() - at;
        const std::unique_ptr<char[]> chunk = heapCopy(QByteArrayView(stream).sliced(at, size));
        at += size;
        qsizetype pos = 0;
        int idle = 0;
        for (;;) {
            const Event e = codec.decode(chunk.get() + pos, size - pos);
            check(e.consumed >= 0 && e.consumed <= size - pos, "consumed out of range");
            if (e.kind == Kind::NeedMore) {
                check(e.consumed == size - pos, "NeedMore without consuming everything");
                break;
            }
            if (e.kind == Kind::Error) {
                trace.append('E' + codeBytes(e.closeCode));
                const Event again = codec.decode(chunk.get(), size);
                check(again.kind == Kind::Error && again.closeCode == e.closeCode, "error did not stay");
                return trace;
            }
            idle = e.consumed == 0 ? idle + 1 : 0;
            check(idle < 2, "two events without progress");
            switch (e.kind) {
            case Kind::Data:
                check(e.payload.data() >= chunk.get() + pos
                          && e.payload.data() + e.payload.size() <= chunk.get() + pos + e.consumed,
                      "data outside the consumed bytes");
                check(!e.payload.isEmpty(), "empty data event");
                addData(trace, e.payload);
                break;
            case Kind::Ping:
                check(e.payload.size() <= 125, "ping payload too long");
                trace.append('P' + e.payload.toByteArray());
                break;
            case Kind::Pong:
                check(e.payload.size() <= 125, "pong payload too long");
                trace.append('O' + e.payload.toByteArray());
                break;
            case Kind::Close:
                check(e.closeCode == WebSocketCodec::CloseNoStatus || WebSocketCodec::isValidCloseCode(e.closeCode),
                      "invalid close code reported");
                trace.append('C' + codeBytes(e.closeCode) + e.payload.toByteArray());
                break;
            default:
                fail("unexpected event kind");
            }
            pos += e.consumed;
        }
    }
    return trace;
}

void rawMode(FuzzedDataProvider &in)
{
    const auto role = in.ConsumeBool() ? WebSocketCodec::Role::Server : WebSocketCodec::Role::Client;
    Chunker chunker(in.ConsumeIntegral<quint32>(), in.ConsumeIntegral<quint8>());
    const std::vector<char> bytes = in.ConsumeRemainingBytes<char>();
    const QByteArray stream(bytes.data(), qsizetype(bytes.size()));
    check(decode(role, stream, nullptr) == decode(role, stream, &chunker), "chunking changed the events");
    WebSocketCodec::isValidKey(stream);
}

QByteArray consumePayload(FuzzedDataProvider &in, size_t max)
{
    QByteArray payload = QByteArray::fromStdString(in.ConsumeRandomLengthString(max));
    // Now and then a payload long enough for the 16- and 64-bit length forms.
    if (!payload.isEmpty() && max > 125 && in.ConsumeIntegralInRange(0, 7) == 0) {
        payload = payload.repeated(70'000 / payload.size() + 1).left(in.ConsumeIntegralInRange(126, 70'000));
    }
    return payload;
}

void roundTripMode(FuzzedDataProvider &in)
{
    // The decoder's role; the frames come from the other one (masked when that is the client).
    const bool decoderIsServer = in.ConsumeBool();
    const auto role = decoderIsServer ? WebSocketCodec::Role::Server : WebSocketCodec::Role::Client;
    Chunker chunker(in.ConsumeIntegral<quint32>(), in.ConsumeIntegral<quint8>());
    auto mask = [&]() -> std::optional<WebSocketCodec::MaskKey> {
        if (!decoderIsServer) {
            return std::nullopt;
        }
        WebSocketCodec::MaskKey key;
        for (char &c : key) {
            c = char(in.ConsumeIntegral<quint8>());
        }
        return key;
    };
    auto frame = [&](OpCode op, QByteArrayView payload, bool final) {
        QByteArray f = WebSocketCodec::frame(op, payload, mask());
        if (!final) {
            f[0] = char(f[0] & 0x7F);
        }
        return f;
    };
    auto control = [&](Trace &expected) {
        const QByteArray payload = consumePayload(in, 125);
        const bool ping = in.ConsumeBool();
        expected.append((ping ? 'P' : 'O') + payload);
        return frame(ping ? OpCode::Ping : OpCode::Pong, payload, true);
    };

    QByteArray stream;
    Trace expected;
    const int messages = in.ConsumeIntegralInRange(1, 16);
    for (int m = 0; m < messages && in.remaining_bytes() > 0; ++m) {
        switch (in.ConsumeIntegralInRange(0, 3)) {
        case 0: { // one frame
            const QByteArray payload = consumePayload(in, 4096);
            stream += frame(in.ConsumeBool() ? OpCode::Text : OpCode::Binary, payload, true);
            if (!payload.isEmpty()) {
                addData(expected, payload);
            }
            break;
        }
        case 1: { // fragments, with control frames in between
            const int fragments = in.ConsumeIntegralInRange(2, 6);
            for (int f = 0; f < fragments; ++f) {
                const QByteArray payload = consumePayload(in, 512);
                const OpCode op = f == 0 ? OpCode::Binary : OpCode::Continuation;
                stream += frame(op, payload, f == fragments - 1);
                if (!payload.isEmpty()) {
                    addData(expected, payload);
                }
                if (f < fragments - 1 && in.ConsumeBool()) {
                    stream += control(expected);
                }
            }
            break;
        }
        case 2:
            stream += control(expected);
            break;
        case 3: { // close: any valid code, a reason cut to 123 bytes at a UTF-8 boundary
            const quint16 code = in.ConsumeIntegralInRange<quint16>(1000, 4999);
            if (!WebSocketCodec::isValidCloseCode(code)) {
                break;
            }
            const QByteArray reason = QByteArray::fromStdString(in.ConsumeRandomLengthString(300));
            const QByteArray payload = WebSocketCodec::closePayload(code, reason);
            check(payload.size() <= 125, "close payload too long");
            const QByteArray cut = payload.sliced(2);
            check(reason.startsWith(cut), "close reason is not a prefix");
            if (QString::fromUtf8(reason).toUtf8() == reason) {
                check(QString::fromUtf8(cut).toUtf8() == cut, "close reason cut inside a UTF-8 sequence");
            }
            stream += frame(OpCode::Close, payload, true);
            expected.append('C' + payload);
            break;
        }
        }
    }
    check(decode(role, stream, &chunker) == expected, "round trip lost or changed a message");
}

void maskMode(FuzzedDataProvider &in)
{
    WebSocketCodec::MaskKey key;
    for (char &c : key) {
        c = char(in.ConsumeIntegral<quint8>());
    }
    const qint64 offset = in.ConsumeIntegralInRange<qint64>(0, 1 << 20);
    const std::vector<char> bytes = in.ConsumeRemainingBytes<char>();
    QByteArray whole(bytes.data(), qsizetype(bytes.size()));
    QByteArray pieces = whole;
    WebSocketCodec::applyMask(whole.data(), whole.size(), key, offset);
    const qsizetype split = whole.size() / 3;
    WebSocketCodec::applyMask(pieces.data(), split, key, offset);
    WebSocketCodec::applyMask(pieces.data() + split, pieces.size() - split, key, offset + split);
    check(whole == pieces, "masking in pieces differs from masking at once");
    for (qsizetype i = 0; i < whole.size(); ++i) {
        check(char(whole[i] ^ key[size_t((offset + i) & 3)]) == bytes[size_t(i)], "mask is not the RFC 6455 XOR");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzedDataProvider in(data, size);
    switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:
    case 1:
        rawMode(in);
        break;
    case 2:
        roundTripMode(in);
        break;
    default:
        maskMode(in);
        break;
    }
    return 0;
}
