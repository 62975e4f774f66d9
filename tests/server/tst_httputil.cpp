// SPDX-License-Identifier: MIT
// Path and header helpers of the HTTP layer: RFC 3986 dot-segment removal, tokens, field values.
#include <QTest>

#include "http/httputil.h"

using namespace Patchwork;
using namespace Patchwork::Server;
using namespace Qt::StringLiterals;

class TestHttpUtil final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void removeDotSegments_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QByteArray>("output");
        // RFC 3986 §5.2.4 and §5.4 (the merged paths of its examples).
        QTest::addRow("none") << "/a/b/c"_ba
                              << "/a/b/c"_ba;
        QTest::addRow("rfc example 1") << "/a/b/c/./../../g"_ba
                                       << "/a/g"_ba;
        QTest::addRow("rfc example 2") << "mid/content=5/../6"_ba
                                       << "mid/6"_ba;
        QTest::addRow("dot") << "/a/b/."_ba
                             << "/a/b/"_ba;
        QTest::addRow("dot slash") << "/a/b/./"_ba
                                   << "/a/b/"_ba;
        QTest::addRow("dotdot") << "/a/b/.."_ba
                                << "/a/"_ba;
        QTest::addRow("dotdot slash") << "/a/b/../"_ba
                                      << "/a/"_ba;
        QTest::addRow("dotdot g") << "/a/b/../g"_ba
                                  << "/a/g"_ba;
        QTest::addRow("above root") << "/../../g"_ba
                                    << "/g"_ba;
        QTest::addRow("above root end") << "/.."_ba
                                        << "/"_ba;
        QTest::addRow("only dot") << "."_ba
                                  << ""_ba;
        QTest::addRow("only dotdot") << ".."_ba
                                     << ""_ba;
        QTest::addRow("leading dotdot") << "../a"_ba
                                        << "a"_ba;
        QTest::addRow("leading dot") << "./a"_ba
                                     << "a"_ba;
        QTest::addRow("dot in names") << "/a.b/..c/c../.d"_ba
                                      << "/a.b/..c/c../.d"_ba;
        QTest::addRow("g.") << "/b/c/g."_ba
                            << "/b/c/g."_ba;
        QTest::addRow("..g") << "/b/c/..g"_ba
                             << "/b/c/..g"_ba;
        QTest::addRow("g/./h") << "/b/c/./g/./h"_ba
                               << "/b/c/g/h"_ba;
        QTest::addRow("g/../h") << "/b/c/./g/../h"_ba
                                << "/b/c/h"_ba;
        QTest::addRow("empty segments") << "/a//../b"_ba
                                        << "/a/b"_ba;
        QTest::addRow("encoded dots stay") << "/a/%2e%2e/b"_ba
                                           << "/a/%2e%2e/b"_ba;
        QTest::addRow("channel") << "/public/../public/./queue/x"_ba
                                 << "/public/queue/x"_ba;
        QTest::addRow("many dotdots") << QByteArray("/a/b" + QByteArray("/..").repeated(100) + "/c") << "/c"_ba;
    }
    void removeDotSegments()
    {
        QFETCH(QByteArray, input);
        QFETCH(QByteArray, output);
        QCOMPARE(Patchwork::removeDotSegments(input), output);
    }

    // Linear in the path length (issue 8 item 10): a 1 MB path of /.. (and of /x/..) is still answered.
    void longDotSegmentPaths()
    {
        const QByteArray up = "/public" + QByteArray("/..").repeated(350'000) + "/queue/x";
        QCOMPARE(Patchwork::removeDotSegments(up), "/queue/x"_ba);
        const QByteArray inOut = "/public" + QByteArray("/x/..").repeated(200'000) + "/queue/x";
        QCOMPARE(Patchwork::removeDotSegments(inOut), "/public/queue/x"_ba);
    }

    void tokensAndFieldValues()
    {
        QVERIFY(isHttpToken("Patch-H-X_1.~"));
        QVERIFY(!isHttpToken(""));
        QVERIFY(!isHttpToken("Bad Name"));
        QVERIFY(!isHttpToken("a:b"));
        QVERIFY(isHttpFieldValue("text/plain; a=\"b\"\tc \xc3\xa9"));
        QVERIFY(isHttpFieldValue(""));
        for (char c : {'\r', '\n', '\0', '\x01', '\x0b', '\x1f', '\x7f'}) {
            const QByteArray value = QByteArray("a") + c + "b";
            QVERIFY2(!isHttpFieldValue(value), QByteArray::number(int(c)).constData());
            QVERIFY(containsControlChar(value));
        }
        QVERIFY(!containsControlChar("/public/caf\xc3\xa9 x"));
    }
};

QTEST_GUILESS_MAIN(TestHttpUtil)
#include "tst_httputil.moc"
