// SPDX-License-Identifier: MIT
// The incremental HTTP/1.1 request parser without sockets (RFC 9112): every input is fed both in one
// piece and one byte at a time, and must give the same result.
#include <QTest>

#include "http/httprequestparser.h"

using namespace Patchwork::Server;
using namespace Qt::StringLiterals;

namespace
{

constexpr qint64 MAX_BODY = 1024;
constexpr qint64 MAX_HEAD = 512;

HttpRequestParser::Limits limits()
{
    return {MAX_BODY, MAX_HEAD};
}

// Feeds `input` in pieces of `step` bytes (0 = all at once) until the parser completes or fails;
// returns the bytes consumed.
qsizetype feedAll(HttpRequestParser &parser, QByteArrayView input, qsizetype step)
{
    qsizetype pos = 0;
    while (pos < input.size()) {
        const qsizetype n = step > 0 ? qMin(step, input.size() - pos) : input.size() - pos;
        const qsizetype used = parser.feed(input.sliced(pos, n));
        pos += used;
        if (parser.state() == HttpRequestParser::State::Complete || parser.state() == HttpRequestParser::State::Error) {
            break;
        }
        if (used < n && !parser.isHeadComplete()) {
            return -1; // the parser must take everything while it reads a head
        }
    }
    return pos;
}

} // namespace

class TestHttpRequestParser final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void accepts_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("rawPath");
        QTest::addColumn<QByteArray>("query");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("keepAlive");

        QTest::addRow("get") << "GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"_ba
                             << "GET"_ba
                             << "/a/b"_ba
                             << "x=1"_ba << QByteArray() << true;
        QTest::addRow("empty lines before") << "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"_ba
                                            << "GET"_ba
                                            << "/"_ba << QByteArray() << QByteArray() << true;
        QTest::addRow("http/1.0 without host") << "GET / HTTP/1.0\r\n\r\n"_ba
                                               << "GET"_ba
                                               << "/"_ba << QByteArray() << QByteArray() << false;
        QTest::addRow("absolute form") << "GET http://h:1/p?q HTTP/1.1\r\nHost: h:1\r\n\r\n"_ba
                                       << "GET"_ba
                                       << "/p"_ba
                                       << "q"_ba << QByteArray() << true;
        QTest::addRow("content-length") << "POST /q HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"_ba
                                        << "POST"_ba
                                        << "/q"_ba << QByteArray() << "hello"_ba << true;
        QTest::addRow("length with ows") << "POST /q HTTP/1.1\r\nHost: h\r\nContent-Length: \t5 \r\n\r\nhello"_ba
                                         << "POST"_ba
                                         << "/q"_ba << QByteArray() << "hello"_ba << true;
        QTest::addRow("same length twice")
            << "POST /q HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nhi"_ba
            << "POST"_ba
            << "/q"_ba << QByteArray() << "hi"_ba << true;
        QTest::addRow("chunked") << "POST /q HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    "5\r\nhello\r\n1;name=value\r\n!\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n"_ba
                                 << "POST"_ba
                                 << "/q"_ba << QByteArray() << "hello!0123456789"_ba << true;
        QTest::addRow("connection close") << "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"_ba
                                          << "GET"_ba
                                          << "/"_ba << QByteArray() << QByteArray() << false;
        QTest::addRow("http/1.0 keep-alive") << "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"_ba
                                             << "GET"_ba
                                             << "/"_ba << QByteArray() << QByteArray() << true;
        QTest::addRow("htab and obs-text in value") << "GET / HTTP/1.1\r\nHost: h\r\nX: a\tb \xc3\xa9\r\n\r\n"_ba
                                                    << "GET"_ba
                                                    << "/"_ba << QByteArray() << QByteArray() << true;
    }
    void accepts()
    {
        QFETCH(QByteArray, input);
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, rawPath);
        QFETCH(QByteArray, query);
        QFETCH(QByteArray, body);
        QFETCH(bool, keepAlive);
        const QByteArray next = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
        for (qsizetype step : {qsizetype(0), qsizetype(1), qsizetype(7)}) {
            HttpRequestParser parser(limits());
            const QByteArray stream = input + next;
            const qsizetype used = feedAll(parser, stream, step);
            QCOMPARE(parser.state(), HttpRequestParser::State::Complete);
            QCOMPARE(used, input.size()); // a pipelined request is left for later
            const HttpRequest r = parser.takeRequest();
            QCOMPARE(r.method, method);
            QCOMPARE(r.rawPath, rawPath);
            QCOMPARE(r.query, query);
            QCOMPARE(r.body, body);
            QCOMPARE(r.keepAlive, keepAlive);
            // The parser is ready for the next request on the same connection.
            QCOMPARE(parser.state(), HttpRequestParser::State::Idle);
            QCOMPARE(feedAll(parser, QByteArrayView(stream).sliced(used), step), next.size());
            QCOMPARE(parser.takeRequest().rawPath, "/next"_ba);
        }
    }

    void rejects_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("reason");

        const QByteArray get = "GET / HTTP/1.1\r\nHost: h\r\n";
        const QByteArray post = "POST /q HTTP/1.1\r\nHost: h\r\n";
        const QByteArray chunked = post + "Transfer-Encoding: chunked\r\n\r\n";
        // Bare LF: rejected everywhere, never a line end (issue 8 item 8).
        QTest::addRow("LF-only empty line ends nothing") << get + "\nX: y\r\n\r\n"
                                                         << 400 << "Bare LF in request head"_ba;
        QTest::addRow("LF line end") << "GET / HTTP/1.1\nHost: h\r\n\r\n"_ba << 400 << "Bare LF in request head"_ba;
        QTest::addRow("LF LF") << "GET / HTTP/1.1\n\n"_ba << 400 << "Bare LF in request head"_ba;
        QTest::addRow("CRLF LF") << get + "\n"_ba << 400 << "Bare LF in request head"_ba;
        QTest::addRow("LF before request")
            << "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"_ba << 400 << "Bare LF in request head"_ba;
        QTest::addRow("bare CR in value") << get + "X: a\rb\r\n\r\n" << 400 << "Malformed header value"_ba;
        QTest::addRow("LF in chunk line") << chunked + "5\nhello\r\n0\r\n\r\n" << 400 << "Bare LF in chunked body"_ba;
        QTest::addRow("LF after chunk") << chunked + "5\r\nhello\n0\r\n\r\n" << 400 << "Bare LF in chunked body"_ba;
        QTest::addRow("LF in trailer") << chunked + "0\r\n\n" << 400 << "Bare LF in chunked body"_ba;
        // Host (RFC 9112 §3.2).
        QTest::addRow("no host") << "GET / HTTP/1.1\r\n\r\n"_ba << 400 << "Host header required"_ba;
        QTest::addRow("two hosts") << get + "Host: evil\r\n\r\n" << 400 << "More than one Host header"_ba;
        // Content-Length: digits only; OWS is SP or HTAB.
        QTest::addRow("length trailing VT")
            << post + "Content-Length: 5\v\r\n\r\nhello" << 400 << "Malformed header value"_ba;
        QTest::addRow("length trailing FF")
            << post + "Content-Length: 5\f\r\n\r\nhello" << 400 << "Malformed header value"_ba;
        QTest::addRow("length sign") << post + "Content-Length: +5\r\n\r\nhello" << 400 << "Invalid Content-Length"_ba;
        QTest::addRow("length list") << post + "Content-Length: 5, 5\r\n\r\nhello" << 400
                                     << "Invalid Content-Length"_ba;
        QTest::addRow("two lengths") << post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello" << 400
                                     << "Invalid Content-Length"_ba;
        QTest::addRow("length and chunked") << post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                                            << 400 << "Both Content-Length and Transfer-Encoding given"_ba;
        QTest::addRow("chunked twice") << post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
                                       << 400 << "Transfer-Encoding given twice"_ba;
        QTest::addRow("gzip") << post + "Transfer-Encoding: gzip\r\n\r\n"
                              << 501 << "Transfer-Encoding not supported (only chunked)"_ba;
        // Chunk sizes: hex digits, nothing around them but an extension.
        QTest::addRow("space before size") << chunked + " 5\r\nhello\r\n0\r\n\r\n"
                                           << 400 << "Malformed chunked body"_ba;
        QTest::addRow("space after size") << chunked + "5 \r\nhello\r\n0\r\n\r\n" << 400 << "Malformed chunked body"_ba;
        QTest::addRow("tab after size") << chunked + "5\t\r\nhello\r\n0\r\n\r\n" << 400 << "Malformed chunked body"_ba;
        QTest::addRow("space before ext") << chunked + "5 ;x\r\nhello\r\n0\r\n\r\n"
                                          << 400 << "Malformed chunked body"_ba;
        QTest::addRow("0x prefix") << chunked + "0x5\r\nhello\r\n0\r\n\r\n" << 400 << "Malformed chunked body"_ba;
        QTest::addRow("no size") << chunked + "\r\n" << 400 << "Malformed chunked body"_ba;
        QTest::addRow("huge size") << chunked + "1000000000000000\r\n" << 400 << "Malformed chunked body"_ba;
        QTest::addRow("data too long") << chunked + "2\r\nabc\r\n0\r\n\r\n" << 400 << "Malformed chunked body"_ba;
        QTest::addRow("control char in ext") << chunked + "5;\x01\r\nhello\r\n0\r\n\r\n"
                                             << 400 << "Malformed chunked body"_ba;
        QTest::addRow("chunk line too long")
            << chunked + "5;" + QByteArray(2000, 'x') << 400 << "Malformed chunked body"_ba;
        // Header fields.
        QTest::addRow("NUL in value") << get + "X: a\0b\r\n\r\n"_ba << 400 << "Malformed header value"_ba;
        QTest::addRow("control char in value") << get + "User-Agent: a\x01\r\n\r\n"
                                               << 400 << "Malformed header value"_ba;
        QTest::addRow("DEL in value") << get + "X: a\x7f\r\n\r\n" << 400 << "Malformed header value"_ba;
        QTest::addRow("space before colon") << get + "X : a\r\n\r\n" << 400 << "Malformed header line"_ba;
        QTest::addRow("no colon") << get + "NoColon\r\n\r\n" << 400 << "Malformed header line"_ba;
        QTest::addRow("folding") << get + "X: a\r\n b\r\n\r\n"
                                 << 400 << "Obsolete header line folding is not supported"_ba;
        // Request line.
        QTest::addRow("garbage") << "HELLO\r\n\r\n"_ba << 400 << "Malformed request line"_ba;
        QTest::addRow("two spaces") << "GET  / HTTP/1.1\r\nHost: h\r\n\r\n"_ba << 400 << "Malformed request line"_ba;
        QTest::addRow("bad method") << "G(T / HTTP/1.1\r\nHost: h\r\n\r\n"_ba << 400 << "Malformed request line"_ba;
        QTest::addRow("relative target") << "GET x HTTP/1.1\r\nHost: h\r\n\r\n"_ba << 400
                                         << "Malformed request target"_ba;
        QTest::addRow("http/2") << "GET / HTTP/2.0\r\nHost: h\r\n\r\n"_ba << 505 << "HTTP version not supported"_ba;
        // Limits.
        QTest::addRow("head too large") << get + "X: " + QByteArray(600, 'a') + "\r\n\r\n"
                                        << 431 << "Request header fields too large"_ba;
        QTest::addRow("head never ends") << get + "X: " + QByteArray(600, 'a') << 431
                                         << "Request header fields too large"_ba;
        // Bytes past the head limit are never looked at, however they arrive (a fuzz finding: in one piece a
        // bare LF there gave 400, byte by byte 431).
        QTest::addRow("bare LF past the head limit") << get + "X: " + QByteArray(600, 'a') + "\n"
                                                     << 431 << "Request header fields too large"_ba;
        QTest::addRow("body too large") << post + "Content-Length: 1025\r\n\r\n"
                                        << 413 << "Payload too large (limit 1024 bytes)"_ba;
        QTest::addRow("chunked too large") << chunked + "400\r\n" + QByteArray(1024, 'a') + "\r\n1\r\n"
                                           << 413 << "Payload too large (limit 1024 bytes)"_ba;
        QTest::addRow("trailer too large")
            << chunked + "0\r\n" + QByteArray(300, 'a') + "\r\n" + QByteArray(300, 'a') + "\r\n"
            << 431 << "Request header fields too large"_ba;
    }
    void rejects()
    {
        QFETCH(QByteArray, input);
        QFETCH(int, status);
        QFETCH(QByteArray, reason);
        for (qsizetype step : {qsizetype(0), qsizetype(1), qsizetype(5)}) {
            HttpRequestParser parser(limits());
            feedAll(parser, input, step);
            QCOMPARE(parser.state(), HttpRequestParser::State::Error);
            QCOMPARE(parser.errorStatus(), status);
            QCOMPARE(parser.errorReason(), reason);
        }
    }

    // An announced Content-Length reserves nothing: the body grows as it arrives, never past its length.
    void bodyGrowsAsItArrives()
    {
        HttpRequestParser parser({qint64(1) << 40, MAX_HEAD});
        const QByteArray head = "POST /q HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000000000\r\n\r\n";
        QCOMPARE(parser.feed(head), head.size());
        QCOMPARE(parser.state(), HttpRequestParser::State::Body);
        QCOMPARE(parser.bodyAnnounced(), qint64(1'000'000'000'000));
        QVERIFY(parser.request().body.capacity() < 1024 * 1024);
        QCOMPARE(parser.feed(QByteArray(1000, 'x')), qsizetype(1000));
        QCOMPARE(parser.request().body.size(), qsizetype(1000));
        QVERIFY(parser.request().body.capacity() < 1024 * 1024);

        HttpRequestParser small(limits());
        QCOMPARE(small.feed(QByteArray("POST /q HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n")), qsizetype(48));
        memcpy(small.bodyTail(10), "abc", 3);
        QCOMPARE(small.request().body.size(), qsizetype(3)); // room for the 3 announced bytes only
        small.bodyWritten(3);
        QCOMPARE(small.takeRequest().body, "abc"_ba);
    }

    // The parser stops after the head, so the connection can answer 100-continue or refuse first.
    void stopsAfterHead()
    {
        HttpRequestParser parser(limits());
        const QByteArray head = "POST /q HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n";
        QCOMPARE(parser.feed(QByteArray(head + "abc")), head.size());
        QCOMPARE(parser.state(), HttpRequestParser::State::Body);
        QVERIFY(parser.isHeadComplete());
        QVERIFY(parser.expectsContinue());
        QCOMPARE(parser.request().header("expect"), "100-continue"_ba);
        // A Content-Length body can be written in place.
        QCOMPARE(parser.bodyRemaining(), qint64(3));
        memcpy(parser.bodyTail(2), "ab", 2);
        parser.bodyWritten(2);
        QCOMPARE(parser.state(), HttpRequestParser::State::Body);
        QCOMPARE(parser.feed("cdef"), qsizetype(1));
        QCOMPARE(parser.state(), HttpRequestParser::State::Complete);
        QCOMPARE(parser.takeRequest().body, "abc"_ba);
    }

    void idleUntilARequestStarts()
    {
        HttpRequestParser parser(limits());
        QCOMPARE(parser.feed("\r\n\r"), qsizetype(3));
        QCOMPARE(parser.state(), HttpRequestParser::State::Idle);
        QCOMPARE(parser.feed("\nG"), qsizetype(2));
        QCOMPARE(parser.state(), HttpRequestParser::State::Head);
    }
};

QTEST_GUILESS_MAIN(TestHttpRequestParser)
#include "tst_httprequestparser.moc"
