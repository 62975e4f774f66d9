// SPDX-License-Identifier: MIT
// Server-Sent Events: the relay's encoder and the incremental parser, alone and against each other.
#include <QRandomGenerator>
#include <QTest>

#include "protocol/sse.h"

using namespace Qt::StringLiterals;
using namespace Patchwork;

namespace
{

// Feeds `wire` to a fresh parser in pieces of the given sizes (the rest in one piece).
QList<SseEvent> parseInPieces(QByteArrayView wire, const QList<qsizetype> &sizes, SseParser *parser = nullptr)
{
    SseParser own;
    SseParser &p = parser ? *parser : own;
    QList<SseEvent> out;
    for (const qsizetype size : sizes) {
        const qsizetype n = qMin(size, wire.size());
        out += p.feed(wire.first(n));
        wire = wire.sliced(n);
    }
    out += p.feed(wire);
    return out;
}

QList<SseEvent> parseByteByByte(QByteArrayView wire)
{
    SseParser p;
    QList<SseEvent> out;
    for (const char c : wire) {
        out += p.feed(QByteArrayView(&c, 1));
    }
    return out;
}

// What the parser gives back for a UTF-8 body: its lines joined with LF, whatever ended them.
QByteArray normalisedLines(QByteArray body)
{
    return body.replace("\r\n", "\n").replace('\r', '\n');
}

} // namespace

class TestSse final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parse_data()
    {
        QTest::addColumn<QByteArray>("wire");
        QTest::addColumn<QByteArrayList>("ids");
        QTest::addColumn<QByteArrayList>("types");
        QTest::addColumn<QByteArrayList>("datas");
        QTest::addRow("one message") << "id: a1\nevent: message\ndata: hello\n\n"_ba << QByteArrayList{"a1"}
                                     << QByteArrayList{"message"} << QByteArrayList{"hello"};
        QTest::addRow("multi-line data") << "data: one\ndata: two\ndata:\n\n"_ba << QByteArrayList{""}
                                         << QByteArrayList{"message"} << QByteArrayList{"one\ntwo\n"};
        QTest::addRow("CRLF line ends") << "id: x\r\ndata: a\r\ndata: b\r\n\r\n"_ba << QByteArrayList{"x"}
                                        << QByteArrayList{"message"} << QByteArrayList{"a\nb"};
        QTest::addRow("CR line ends") << "id: x\rdata: a\rdata: b\r\r"_ba << QByteArrayList{"x"}
                                      << QByteArrayList{"message"} << QByteArrayList{"a\nb"};
        QTest::addRow("mixed line ends") << "data: a\r\ndata: b\rdata: c\n\r\n"_ba << QByteArrayList{""}
                                         << QByteArrayList{"message"} << QByteArrayList{"a\nb\nc"};
        QTest::addRow("comments and keep-alives")
            << ":keepalive\n\n: hi\ndata: x\n:mid\n\n:keepalive\n\n"_ba << QByteArrayList{""}
            << QByteArrayList{"message"} << QByteArrayList{"x"};
        QTest::addRow("leading BOM") << "\xEF\xBB\xBFid: 1\ndata: x\n\n"_ba << QByteArrayList{"1"}
                                     << QByteArrayList{"message"} << QByteArrayList{"x"};
        QTest::addRow("only the first BOM")
            << "\xEF\xBB\xBF\xEF\xBB\xBF"
               "data: x\n\ndata: y\n\n"_ba
            << QByteArrayList{"", ""} << QByteArrayList{"message", "message"} << QByteArrayList{"y"};
        QTest::addRow("one space dropped, not two")
            << "data:  x\ndata:y\n\n"_ba << QByteArrayList{""} << QByteArrayList{"message"} << QByteArrayList{" x\ny"};
        QTest::addRow("field without colon")
            << "data\ndata\n\n"_ba << QByteArrayList{""} << QByteArrayList{"message"} << QByteArrayList{"\n"};
        QTest::addRow("no data: not dispatched") << "id: 5\nevent: x\n\ndata: y\n\n"_ba << QByteArrayList{"5"}
                                                 << QByteArrayList{"message"} << QByteArrayList{"y"};
        QTest::addRow("id carries over") << "id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n"_ba
                                         << QByteArrayList{"1", "1", ""}
                                         << QByteArrayList{"message", "message", "message"}
                                         << QByteArrayList{"a", "b", "c"};
        QTest::addRow("id with NUL ignored") << "id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"_ba << QByteArrayList{"1", "1"}
                                             << QByteArrayList{"message", "message"} << QByteArrayList{"a", "b"};
        QTest::addRow("event types") << "event: gap\ndata: true\n\nevent: binary\ndata: AAE=\n\n"_ba
                                     << QByteArrayList{"", ""} << QByteArrayList{"gap", "binary"}
                                     << QByteArrayList{"true", "AAE="};
        QTest::addRow("unknown fields ignored") << "foo: bar\ndata: x\nretry: soon\n\n"_ba << QByteArrayList{""}
                                                << QByteArrayList{"message"} << QByteArrayList{"x"};
        QTest::addRow("incomplete event at the end")
            << "data: a\n\ndata: b\n"_ba << QByteArrayList{""} << QByteArrayList{"message"} << QByteArrayList{"a"};
    }

    void parse()
    {
        QFETCH(QByteArray, wire);
        QFETCH(QByteArrayList, ids);
        QFETCH(QByteArrayList, types);
        QFETCH(QByteArrayList, datas);
        // The same events whether the stream comes at once or byte by byte.
        for (const QList<SseEvent> &events : {parseInPieces(wire, {}), parseByteByByte(wire)}) {
            QCOMPARE(events.size(), datas.size());
            for (qsizetype i = 0; i < events.size(); ++i) {
                QCOMPARE(events.at(i).id, ids.at(i));
                QCOMPARE(events.at(i).type, types.at(i));
                QCOMPARE(events.at(i).data, datas.at(i));
            }
        }
    }

    void crLfSplitAcrossChunks()
    {
        // A CR ending one chunk and the LF starting the next are one line end, not an empty line
        // (which would dispatch early).
        SseParser p;
        QVERIFY(p.feed("data: a\r").isEmpty());
        QVERIFY(p.feed("\ndata: b\r").isEmpty());
        const QList<SseEvent> events = p.feed("\n\r\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events.first().data, "a\nb"_ba);
    }

    void bomSplitAcrossChunks()
    {
        SseParser p;
        QVERIFY(p.feed("\xEF").isEmpty());
        QVERIFY(p.feed("\xBB").isEmpty());
        const QList<SseEvent> events = p.feed("\xBF"
                                              "data: x\n\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events.first().data, "x"_ba);
    }

    void partialBomIsData()
    {
        // Bytes that start like a BOM but are not one are kept.
        SseParser p;
        QVERIFY(p.feed("\xEF").isEmpty());
        const QList<SseEvent> events = p.feed("data: x\n\n");
        QCOMPARE(events.size(), 0); // "\xEF" "data" is an unknown field
        QCOMPARE(p.feed("data: y\n\n").first().data, "y"_ba);
    }

    void retryAndLastEventId()
    {
        SseParser p;
        QCOMPARE(p.retryMs(), -1);
        p.feed("retry: 2500\nid: abc\n\n");
        QCOMPARE(p.retryMs(), 2500);
        QCOMPARE(p.lastEventId(), "abc"_ba); // set even though no event was dispatched
        p.feed("retry: 1e3\nretry: -5\nretry:\n\n");
        QCOMPARE(p.retryMs(), 2500);
        p.feed("retry: 99999999999999999999999\n\n");
        QCOMPARE(p.retryMs(), 2500);
    }

    void comments()
    {
        SseParser p;
        p.feed(":dropped\n");
        p.setKeepComments(true);
        p.feed(":keepalive\n\n: x\n");
        QCOMPARE(p.takeComments(), (QByteArrayList{"keepalive", " x"}));
        QVERIFY(p.takeComments().isEmpty());
    }

    void pendingBytes()
    {
        SseParser p;
        p.feed("data: 12345");
        QCOMPARE(p.pendingBytes(), 11);
        p.feed("\n");
        QCOMPARE(p.pendingBytes(), 6); // "12345\n" waits for the blank line
        p.feed("\n");
        QCOMPARE(p.pendingBytes(), 0);
    }

    void encode_data()
    {
        QTest::addColumn<QByteArray>("id");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("wire");
        QTest::addRow("text") << "a1"_ba
                              << "hi"_ba
                              << "id: a1\nevent: message\ndata: hi\n\n"_ba;
        QTest::addRow("no id") << QByteArray() << "hi"_ba
                               << "event: message\ndata: hi\n\n"_ba;
        QTest::addRow("lines") << "a"_ba
                               << "x\r\ny\rz\n"_ba
                               << "id: a\nevent: message\ndata: x\ndata: y\ndata: z\ndata: \n\n"_ba;
        QTest::addRow("empty") << "a"_ba << QByteArray() << "id: a\nevent: message\ndata: \n\n"_ba;
        QTest::addRow("binary") << "a"_ba
                                << "\xff\x00\x01"_ba
                                << "id: a\nevent: binary\ndata: /wAB\n\n"_ba;
    }

    void encode()
    {
        QFETCH(QByteArray, id);
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, wire);
        QCOMPARE(Sse::encodeMessage(id, body), wire);
    }

    void roundTripWithRandomChunks()
    {
        // Random messages (text with every kind of line end, leading spaces and colons, and binary),
        // encoded as the relay does, interleaved with keep-alives and gaps, cut into random pieces:
        // the parser gives back every message, in order.
        QRandomGenerator rng(20261203);
        static const QByteArray alphabet = "ab :\r\n\xc3\xa9 "_ba;
        for (int round = 0; round < 200; ++round) {
            QList<QByteArray> bodies;
            QList<QByteArray> ids;
            QByteArray wire = round % 2 ? "\xEF\xBB\xBF"_ba : QByteArray();
            for (int m = 0; m < 20; ++m) {
                QByteArray body;
                const int length = rng.bounded(0, 40);
                const bool binary = rng.bounded(5) == 0;
                for (int i = 0; i < length; ++i) {
                    body += binary ? char(rng.bounded(256)) : alphabet.at(rng.bounded(int(alphabet.size())));
                }
                if (binary) {
                    body += '\xff'; // never valid UTF-8
                }
                const QByteArray id = "id-" + QByteArray::number(round) + "_" + QByteArray::number(m);
                bodies.append(body);
                ids.append(id);
                if (rng.bounded(4) == 0) {
                    wire += Sse::KEEPALIVE;
                }
                wire += Sse::encodeMessage(id, body);
            }
            QList<qsizetype> sizes;
            for (qsizetype at = 0; at < wire.size();) {
                sizes.append(rng.bounded(1, 9));
                at += sizes.last();
            }
            const QList<SseEvent> events = parseInPieces(wire, sizes);
            QCOMPARE(events.size(), bodies.size());
            for (qsizetype i = 0; i < events.size(); ++i) {
                const SseEvent &e = events.at(i);
                QCOMPARE(e.id, ids.at(i));
                if (QUtf8StringView(bodies.at(i)).isValidUtf8()) {
                    QCOMPARE(e.type, "message"_ba);
                    QCOMPARE(e.data, normalisedLines(bodies.at(i)));
                } else {
                    QCOMPARE(e.type, "binary"_ba);
                    QCOMPARE(QByteArray::fromBase64(e.data), bodies.at(i));
                }
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestSse)
#include "tst_sse.moc"
