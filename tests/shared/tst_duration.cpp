// SPDX-License-Identifier: MIT
#include <limits>

#include <QRegularExpression>
#include <QTest>

#include "util/duration.h"

using namespace Qt::StringLiterals;

class TestDuration final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void duration_data();
    void duration();
    void size_data();
    void size();
};

void TestDuration::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
}

void TestDuration::duration_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<qint64>("ms");

    constexpr qint64 S = 1000;
    constexpr qint64 M = 60 * S;
    constexpr qint64 H = 60 * M;
    // Go syntax
    QTest::addRow("300ms") << u"300ms"_s << true << qint64(300);
    QTest::addRow("30s") << u"30s"_s << true << 30 * S;
    QTest::addRow("5m") << u"5m"_s << true << 5 * M;
    QTest::addRow("12h") << u"12h"_s << true << 12 * H;
    QTest::addRow("1.5h") << u"1.5h"_s << true << H + 30 * M;
    QTest::addRow("2h45m") << u"2h45m"_s << true << 2 * H + 45 * M;
    QTest::addRow("1h2m3s4ms") << u"1h2m3s4ms"_s << true << H + 2 * M + 3 * S + 4;
    QTest::addRow("zero") << u"0"_s << true << qint64(0);
    QTest::addRow("0s") << u"0s"_s << true << qint64(0);
    QTest::addRow("negative") << u"-1m30s"_s << true << -(M + 30 * S);
    QTest::addRow("plus sign") << u"+5s"_s << true << 5 * S;
    QTest::addRow(".5s") << u".5s"_s << true << 500 * S / 1000;
    QTest::addRow("1.s") << u"1.s"_s << true << S;
    QTest::addRow("microseconds round down") << u"400us"_s << true << qint64(0);
    QTest::addRow("microseconds round half up") << u"1500us"_s << true << qint64(2);
    QTest::addRow("micro sign") << u"2000\u00b5s"_s << true << qint64(2);
    QTest::addRow("greek mu") << u"2000\u03bcs"_s << true << qint64(2);
    QTest::addRow("nanoseconds") << u"3000000ns"_s << true << qint64(3);
    QTest::addRow("surrounding spaces") << u" 10s "_s << true << 10 * S;
    // Bare seconds
    QTest::addRow("bare 2") << u"2"_s << true << 2 * S;
    QTest::addRow("bare 0.5") << u"0.5"_s << true << qint64(500);
    QTest::addRow("bare .25") << u".25"_s << true << qint64(250);
    QTest::addRow("bare 86400") << u"86400"_s << true << 86400 * S;
    // Invalid
    QTest::addRow("empty") << QString() << false << qint64(0);
    QTest::addRow("blank") << u"  "_s << false << qint64(0);
    QTest::addRow("unit only") << u"s"_s << false << qint64(0);
    QTest::addRow("unknown unit") << u"5d"_s << false << qint64(0);
    QTest::addRow("upper-case unit") << u"5S"_s << false << qint64(0);
    QTest::addRow("dot only") << u"."_s << false << qint64(0);
    QTest::addRow("dot unit") << u".s"_s << false << qint64(0);
    QTest::addRow("missing unit after a part") << u"1h30"_s << false << qint64(0);
    QTest::addRow("space inside") << u"1h 30m"_s << false << qint64(0);
    QTest::addRow("sign only") << u"-"_s << false << qint64(0);
    QTest::addRow("two dots") << u"1.2.3"_s << false << qint64(0);
    QTest::addRow("letters") << u"abc"_s << false << qint64(0);
    QTest::addRow("overflow") << u"9999999999h"_s << false << qint64(0);
}

void TestDuration::duration()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    QFETCH(qint64, ms);
    const std::optional<qint64> parsed = Patchwork::parseDurationMs(text);
    QCOMPARE(parsed.has_value(), valid);
    if (valid) {
        QCOMPARE(*parsed, ms);
    }
}

void TestDuration::size_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<qint64>("bytes");

    constexpr qint64 KI = 1024;
    QTest::addRow("bytes") << u"1234"_s << true << qint64(1234);
    QTest::addRow("zero") << u"0"_s << true << qint64(0);
    QTest::addRow("B") << u"10B"_s << true << qint64(10);
    QTest::addRow("KiB") << u"4KiB"_s << true << 4 * KI;
    QTest::addRow("MiB") << u"64MiB"_s << true << 64 * KI * KI;
    QTest::addRow("GiB") << u"2GiB"_s << true << 2 * KI * KI * KI;
    QTest::addRow("TiB") << u"1TiB"_s << true << KI * KI * KI * KI;
    QTest::addRow("KB") << u"4KB"_s << true << qint64(4000);
    QTest::addRow("MB") << u"64MB"_s << true << qint64(64'000'000);
    QTest::addRow("GB") << u"2GB"_s << true << qint64(2'000'000'000);
    QTest::addRow("case-insensitive") << u"64mib"_s << true << 64 * KI * KI;
    QTest::addRow("short binary") << u"1M"_s << true << KI * KI;
    QTest::addRow("space before unit") << u"64 MiB"_s << true << 64 * KI * KI;
    QTest::addRow("fraction") << u"1.5MiB"_s << true << 3 * KI * KI / 2;
    QTest::addRow("fraction rounds down") << u"1.0001KiB"_s << true << qint64(1024);
    QTest::addRow("decimal fraction") << u"0.5KB"_s << true << qint64(500);
    QTest::addRow("surrounding spaces") << u" 1KiB "_s << true << KI;
    QTest::addRow("empty") << QString() << false << qint64(0);
    QTest::addRow("negative") << u"-1"_s << false << qint64(0);
    QTest::addRow("unit only") << u"MiB"_s << false << qint64(0);
    QTest::addRow("unknown unit") << u"5XB"_s << false << qint64(0);
    QTest::addRow("fractional bytes") << u"1.5"_s << false << qint64(0);
    QTest::addRow("fractional B") << u"1.5B"_s << false << qint64(0);
    QTest::addRow("dot without digits") << u"1.MiB"_s << false << qint64(0);
    QTest::addRow("overflow") << u"9999999999999GiB"_s << false << qint64(0);
    QTest::addRow("overflow digits") << u"99999999999999999999"_s << false << qint64(0);
    QTest::addRow("max") << u"9223372036854775807"_s << true << std::numeric_limits<qint64>::max();
}

void TestDuration::size()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    QFETCH(qint64, bytes);
    const std::optional<qint64> parsed = Patchwork::parseSize(text);
    QCOMPARE(parsed.has_value(), valid);
    if (valid) {
        QCOMPARE(*parsed, bytes);
    }
}

QTEST_GUILESS_MAIN(TestDuration)
#include "tst_duration.moc"
