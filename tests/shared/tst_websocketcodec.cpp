// SPDX-License-Identifier: MIT
// RFC 6455 framing of the tunnel (PROTOCOL §11): frames in, events out, whatever the read sizes.
#include <QRandomGenerator>
#include <QTest>

#include "protocol/websocketcodec.h"

using namespace Patchwork::Server;

namespace
{

using Codec = WebSocketCodec;
using Kind = WebSocketCodec::Event::Kind;
using OpCode = WebSocketCodec::OpCode;

const Codec::MaskKey MASK = {'\x12', '\x34', '\x56', '\x78'};

struct Decoded
{
    QByteArray data; // all Data payload, concatenated
    QList<Kind> kinds; // every event except NeedMore; consecutive Data events count once
    QList<QByteArray> controls; // payloads of Ping, Pong and Close events
    quint16 closeCode = 0;
    quint16 errorCode = 0;
};

// Feeds `input` to `codec` in pieces of `piece` bytes (0 = all at once).
Decoded decodeAll(Codec &codec, QByteArray input, qsizetype piece = 0)
{
    Decoded out;
    qsizetype at = 0;
    while (at < input.size()) {
        const qsizetype n = piece > 0 ? qMin(piece, input.size() - at) : input.size() - at;
        char *data = input.data() + at;
        qsizetype pos = 0;
        while (pos < n) {
            const Codec::Event e = codec.decode(data + pos, n - pos);
            pos += e.consumed;
            if (e.kind == Kind::NeedMore) {
                continue;
            }
            if (e.kind != Kind::Data || out.kinds.isEmpty() || out.kinds.last() != Kind::Data) {
                out.kinds.append(e.kind);
            }
            switch (e.kind) {
            case Kind::Data:
                out.data.append(e.payload);
                break;
            case Kind::Ping:
            case Kind::Pong:
                out.controls.append(e.payload.toByteArray());
                break;
            case Kind::Close:
                out.closeCode = e.closeCode;
                out.controls.append(e.payload.toByteArray());
                break;
            case Kind::Error:
                out.errorCode = e.closeCode;
                return out;
            case Kind::NeedMore:
                break;
            }
        }
        at += n;
    }
    return out;
}

QByteArray randomBytes(qsizetype n)
{
    QByteArray b(n, Qt::Uninitialized);
    for (qsizetype i = 0; i < n; ++i) {
        b[i] = char(QRandomGenerator::global()->bounded(256));
    }
    return b;
}

// A frame header with every bit under the test's control.
QByteArray rawFrame(quint8 b0, QByteArrayView payload, bool masked, bool longLength = false)
{
    QByteArray f;
    f.append(char(b0));
    const char maskBit = masked ? char(0x80) : char(0);
    if (longLength) {
        f.append(char(maskBit | 127));
        f.append(QByteArray(7, '\0'));
        f.append(char(payload.size()));
    } else {
        f.append(char(maskBit | char(payload.size())));
    }
    QByteArray body = payload.toByteArray();
    if (masked) {
        f.append(MASK.data(), 4);
        Codec::applyMask(body.data(), body.size(), MASK);
    }
    return f + body;
}

} // namespace

class TestWebSocketCodec final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roundTrip_data()
    {
        QTest::addColumn<qsizetype>("size");
        QTest::addColumn<qsizetype>("piece");
        QTest::addColumn<bool>("toServer");
        for (const qsizetype size : {qsizetype(0),
                                     qsizetype(1),
                                     qsizetype(125),
                                     qsizetype(126),
                                     qsizetype(65535),
                                     qsizetype(65536),
                                     qsizetype(200'000)}) {
            for (const qsizetype piece : {qsizetype(0), qsizetype(1), qsizetype(7), qsizetype(4096)}) {
                if (piece == 1 && size > 70'000) {
                    continue;
                }
                QTest::addRow("%lld bytes in pieces of %lld, to server", qlonglong(size), qlonglong(piece))
                    << size << piece << true;
                QTest::addRow("%lld bytes in pieces of %lld, to client", qlonglong(size), qlonglong(piece))
                    << size << piece << false;
            }
        }
    }
    void roundTrip()
    {
        QFETCH(qsizetype, size);
        QFETCH(qsizetype, piece);
        QFETCH(bool, toServer);
        const QByteArray payload = randomBytes(size);
        Codec codec(toServer ? Codec::Role::Server : Codec::Role::Client);
        const std::optional<Codec::MaskKey> mask = toServer ? std::optional(MASK) : std::nullopt;
        // Two messages back to back, so the second header follows the first payload in one piece.
        const QByteArray wire = Codec::frame(OpCode::Binary, payload, mask) + Codec::frame(OpCode::Text, "end", mask);
        const Decoded d = decodeAll(codec, wire, piece);
        QCOMPARE(d.errorCode, quint16(0));
        QCOMPARE(d.data.size(), size + 3);
        QVERIFY(d.data == payload + "end");
        QVERIFY(!codec.inMessage());
    }

    void headerLengths_data()
    {
        QTest::addColumn<qint64>("size");
        QTest::addColumn<int>("headerSize");
        QTest::addRow("7-bit") << qint64(125) << 2;
        QTest::addRow("16-bit") << qint64(126) << 4;
        QTest::addRow("16-bit max") << qint64(65535) << 4;
        QTest::addRow("64-bit") << qint64(65536) << 10;
    }
    void headerLengths()
    {
        QFETCH(qint64, size);
        QFETCH(int, headerSize);
        QCOMPARE(Codec::frameHeader(OpCode::Binary, size).size(), headerSize);
        QCOMPARE(Codec::frameHeader(OpCode::Binary, size, MASK).size(), headerSize + 4);
        QCOMPARE(quint8(Codec::frameHeader(OpCode::Binary, size).at(0)), quint8(0x82)); // FIN + binary
    }

    void fragmentedMessageWithPingInBetween()
    {
        Codec codec(Codec::Role::Server);
        QByteArray wire = rawFrame(0x02, "abc", true); // binary, not final
        wire += Codec::frame(OpCode::Ping, "p", MASK);
        wire += rawFrame(0x00, "def", true); // continuation, not final
        wire += rawFrame(0x80, "gh", true); // continuation, final
        for (const qsizetype piece : {qsizetype(0), qsizetype(1)}) {
            Codec c(Codec::Role::Server);
            const Decoded d = decodeAll(c, wire, piece);
            QCOMPARE(d.errorCode, quint16(0));
            QCOMPARE(d.data, QByteArray("abcdefgh"));
            QCOMPARE(d.kinds, (QList<Kind>{Kind::Data, Kind::Ping, Kind::Data}));
            QCOMPARE(d.controls, QList<QByteArray>{"p"});
            QVERIFY(!c.inMessage());
        }
    }

    void controlFrames()
    {
        Codec codec(Codec::Role::Client);
        QByteArray wire = Codec::frame(OpCode::Ping, "hello") + Codec::frame(OpCode::Pong, "")
                          + Codec::frame(OpCode::Close, Codec::closePayload(1011, "cannot connect"));
        const Decoded d = decodeAll(codec, wire, 3);
        QCOMPARE(d.kinds, (QList<Kind>{Kind::Ping, Kind::Pong, Kind::Close}));
        QCOMPARE(d.controls, (QList<QByteArray>{"hello", "", "cannot connect"}));
        QCOMPARE(d.closeCode, quint16(1011));

        Codec empty(Codec::Role::Client);
        const Decoded e = decodeAll(empty, Codec::frame(OpCode::Close, {}));
        QCOMPARE(e.kinds, QList<Kind>{Kind::Close});
        QCOMPARE(e.closeCode, Codec::CloseNoStatus);
    }

    void protocolErrors_data()
    {
        QTest::addColumn<bool>("server");
        QTest::addColumn<QByteArray>("wire");
        QTest::addRow("unmasked frame to the server") << true << rawFrame(0x82, "x", false);
        QTest::addRow("masked frame to the client") << false << rawFrame(0x82, "x", true);
        QTest::addRow("reserved bit") << true << rawFrame(0xC2, "x", true);
        QTest::addRow("unknown opcode") << true << rawFrame(0x83, "x", true);
        QTest::addRow("unknown control opcode") << true << rawFrame(0x8B, "", true);
        QTest::addRow("fragmented control frame") << true << rawFrame(0x09, "", true);
        QTest::addRow("long control frame") << true << rawFrame(0x89, QByteArray(126, 'p'), true, true);
        QTest::addRow("continuation without a message") << true << rawFrame(0x80, "x", true);
        QTest::addRow("new message inside a fragmented one")
            << true << rawFrame(0x02, "a", true) + rawFrame(0x82, "b", true);
        QTest::addRow("one-byte close payload") << true << rawFrame(0x88, "x", true);
        QTest::addRow("close code 1005 on the wire") << true << rawFrame(0x88, Codec::closePayload(1005, {}), true);
        QTest::addRow("close code 999") << true << rawFrame(0x88, Codec::closePayload(999, {}), true);
        QByteArray huge = rawFrame(0x82, "", true, true);
        huge[2] = char(0x80); // the most significant bit of a 64-bit length
        QTest::addRow("64-bit length with the top bit") << true << huge;
    }
    void protocolErrors()
    {
        QFETCH(bool, server);
        QFETCH(QByteArray, wire);
        Codec codec(server ? Codec::Role::Server : Codec::Role::Client);
        const Decoded d = decodeAll(codec, wire);
        QCOMPARE(d.errorCode, Codec::CloseProtocolError);
        // A failed codec stays failed.
        QByteArray more = Codec::frame(OpCode::Binary, "later", server ? std::optional(MASK) : std::nullopt);
        const Codec::Event again = codec.decode(more.data(), more.size());
        QCOMPARE(again.kind, Kind::Error);
        QCOMPARE(again.consumed, more.size());
    }

    void validCloseCodes()
    {
        for (const quint16 code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999}) {
            QVERIFY2(Codec::isValidCloseCode(code), QByteArray::number(code).constData());
        }
        for (const quint16 code : {0, 999, 1004, 1005, 1006, 1015, 2999, 5000}) {
            QVERIFY2(!Codec::isValidCloseCode(code), QByteArray::number(code).constData());
        }
    }

    void closeReasonIsCutAtCharacterBoundary()
    {
        const QByteArray reason = QString(100, QChar(0xE9)).toUtf8(); // 200 bytes of 'é'
        const QByteArray payload = Codec::closePayload(1011, reason);
        QVERIFY(payload.size() <= 125);
        QCOMPARE(payload.size(), 2 + 122); // 61 whole characters
        QVERIFY(QString::fromUtf8(payload.mid(2)).toUtf8() == payload.mid(2));
        QCOMPARE(Codec::closePayload(1000, "short").mid(2), QByteArray("short"));
    }

    void maskOffsets()
    {
        const QByteArray plain = randomBytes(1000);
        QByteArray whole = plain;
        Codec::applyMask(whole.data(), whole.size(), MASK);
        for (const qsizetype split : {qsizetype(1), qsizetype(3), qsizetype(8), qsizetype(501)}) {
            QByteArray parts = plain;
            Codec::applyMask(parts.data(), split, MASK, 0);
            Codec::applyMask(parts.data() + split, parts.size() - split, MASK, split);
            QVERIFY(parts == whole);
        }
        Codec::applyMask(whole.data(), whole.size(), MASK);
        QVERIFY(whole == plain);
    }

    void handshakeKeys()
    {
        // RFC 6455 §1.3.
        QCOMPARE(Codec::acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
        QVERIFY(Codec::isValidKey("dGhlIHNhbXBsZSBub25jZQ=="));
        QVERIFY(!Codec::isValidKey(""));
        QVERIFY(!Codec::isValidKey("dGhlIHNhbXBsZQ=="));
        QVERIFY(!Codec::isValidKey("dGhlIHNhbXBsZSBub25jZ!=="));
    }
};

QTEST_GUILESS_MAIN(TestWebSocketCodec)
#include "tst_websocketcodec.moc"
