// SPDX-License-Identifier: MIT
#include <QRegularExpression>
#include <QTest>

#include "access/clientaddress.h"

using namespace Qt::StringLiterals;
using Patchwork::TrustedProxies;

namespace
{

QHostAddress ip(const char *text)
{
    return QHostAddress(QString::fromLatin1(text));
}

} // namespace

class TestClientAddress final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();

    void clientAddress_data();
    void clientAddress();
    void parseAddress_data();
    void parseAddress();
    void parseCidrs_data();
    void parseCidrs();
    void invalidCidr_data();
    void invalidCidr();
    void defaults();
    void isLoopback_data();
    void isLoopback();
};

void TestClientAddress::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
}

void TestClientAddress::clientAddress_data()
{
    QTest::addColumn<QStringList>("trusted"); // empty: the default (loopback)
    QTest::addColumn<QHostAddress>("peer");
    QTest::addColumn<QByteArray>("xff");
    QTest::addColumn<QByteArray>("xRealIp");
    QTest::addColumn<QByteArray>("cfConnectingIp");
    QTest::addColumn<QHostAddress>("expected");

    const QStringList loopback;
    const QStringList proxies = {u"10.0.0.0/8"_s, u"192.168.1.1"_s, u"2001:db8:ffff::/48"_s};

    QTest::addRow("untrusted peer, no headers")
        << loopback << ip("203.0.113.5") << QByteArray() << QByteArray() << QByteArray() << ip("203.0.113.5");
    QTest::addRow("untrusted peer ignores XFF")
        << loopback << ip("203.0.113.5") << "198.51.100.1"_ba << QByteArray() << QByteArray() << ip("203.0.113.5");
    QTest::addRow("untrusted peer ignores X-Real-IP and CF")
        << loopback << ip("203.0.113.5") << QByteArray() << "198.51.100.1"_ba
        << "198.51.100.2"_ba << ip("203.0.113.5");
    QTest::addRow("trusted peer, no headers")
        << loopback << ip("127.0.0.1") << QByteArray() << QByteArray() << QByteArray() << ip("127.0.0.1");
    QTest::addRow("trusted peer, one XFF entry")
        << loopback << ip("127.0.0.1") << "198.51.100.1"_ba << QByteArray() << QByteArray() << ip("198.51.100.1");
    QTest::addRow("127/8 is trusted") << loopback << ip("127.45.6.7") << "198.51.100.1"_ba << QByteArray()
                                      << QByteArray() << ip("198.51.100.1");
    QTest::addRow("::1 is trusted") << loopback << ip("::1") << "198.51.100.1"_ba << QByteArray() << QByteArray()
                                    << ip("198.51.100.1");
    QTest::addRow("spoofed left end") << loopback << ip("127.0.0.1") << "6.6.6.6, 198.51.100.1"_ba << QByteArray()
                                      << QByteArray() << ip("198.51.100.1");
    QTest::addRow("right to left skipping trusted hops")
        << proxies << ip("10.1.2.3") << "6.6.6.6, 198.51.100.1, 10.9.9.9, 192.168.1.1"_ba << QByteArray()
        << QByteArray() << ip("198.51.100.1");
    QTest::addRow("loopback no longer trusted with custom CIDRs")
        << proxies << ip("127.0.0.1") << "198.51.100.1"_ba << QByteArray() << QByteArray() << ip("127.0.0.1");
    QTest::addRow("trusted hop that is not the peer's network")
        << proxies << ip("10.1.2.3") << "198.51.100.1, 192.168.1.2"_ba << QByteArray() << QByteArray()
        << ip("192.168.1.2");
    QTest::addRow("all trusted: the leftmost") << proxies << ip("10.1.2.3") << "10.0.0.1, 192.168.1.1, 10.0.0.2"_ba
                                               << QByteArray() << QByteArray() << ip("10.0.0.1");
    QTest::addRow("malformed rightmost: the peer") << proxies << ip("10.1.2.3") << "198.51.100.1, bogus"_ba
                                                   << "198.51.100.9"_ba << QByteArray() << ip("10.1.2.3");
    QTest::addRow("malformed after a trusted hop: the last good")
        << proxies << ip("10.1.2.3") << "198.51.100.1, not-an-ip, 10.0.0.7"_ba << QByteArray() << QByteArray()
        << ip("10.0.0.7");
    QTest::addRow("malformed left of the client does not matter")
        << proxies << ip("10.1.2.3") << "garbage, 198.51.100.1, 10.0.0.7"_ba << QByteArray() << QByteArray()
        << ip("198.51.100.1");
    QTest::addRow("out-of-range octet is malformed")
        << loopback << ip("127.0.0.1") << "198.51.100.256"_ba << QByteArray() << QByteArray() << ip("127.0.0.1");
    QTest::addRow("empty elements and blanks are skipped")
        << loopback << ip("127.0.0.1") << " ,198.51.100.1 , ,\t127.0.0.1,"_ba << QByteArray() << QByteArray()
        << ip("198.51.100.1");
    QTest::addRow("blank XFF falls back to X-Real-IP") << loopback << ip("127.0.0.1") << "  "_ba
                                                       << "198.51.100.3"_ba << QByteArray() << ip("198.51.100.3");
    QTest::addRow("XFF wins over X-Real-IP") << loopback << ip("127.0.0.1") << "198.51.100.1"_ba
                                             << "198.51.100.2"_ba
                                             << "198.51.100.3"_ba << ip("198.51.100.1");
    QTest::addRow("X-Real-IP") << loopback << ip("127.0.0.1") << QByteArray() << " 198.51.100.2 "_ba << QByteArray()
                               << ip("198.51.100.2");
    QTest::addRow("X-Real-IP wins over CF") << loopback << ip("127.0.0.1") << QByteArray() << "198.51.100.2"_ba
                                            << "198.51.100.3"_ba << ip("198.51.100.2");
    QTest::addRow("CF-Connecting-IP") << loopback << ip("127.0.0.1") << QByteArray() << QByteArray()
                                      << "2001:db8::77"_ba << ip("2001:db8::77");
    QTest::addRow("malformed X-Real-IP falls back to CF") << loopback << ip("127.0.0.1") << QByteArray() << "unknown"_ba
                                                          << "198.51.100.3"_ba << ip("198.51.100.3");
    QTest::addRow("malformed everything: the peer") << loopback << ip("::1") << QByteArray() << "unknown"_ba
                                                    << "1.2.3"_ba << ip("::1");
    QTest::addRow("IPv6 entries") << proxies << ip("2001:db8:ffff:1::5") << "2001:db8:1::1, 2001:db8:ffff:2::9"_ba
                                  << QByteArray() << QByteArray() << ip("2001:db8:1::1");
    QTest::addRow("IPv6 peer outside trusted /48") << proxies << ip("2001:db8:fffe::5") << "198.51.100.1"_ba
                                                   << QByteArray() << QByteArray() << ip("2001:db8:fffe::5");
    QTest::addRow("bracketed IPv6 with port")
        << loopback << ip("127.0.0.1") << "[2001:db8::1]:443"_ba << QByteArray() << QByteArray() << ip("2001:db8::1");
    QTest::addRow("IPv4 with port") << loopback << ip("127.0.0.1") << "198.51.100.1:5555"_ba << QByteArray()
                                    << QByteArray() << ip("198.51.100.1");
    QTest::addRow("mapped XFF entry becomes IPv4") << loopback << ip("127.0.0.1") << "::ffff:198.51.100.1"_ba
                                                   << QByteArray() << QByteArray() << ip("198.51.100.1");
    QTest::addRow("mapped trusted hop is skipped") << proxies << ip("10.0.0.1") << "198.51.100.1, ::ffff:10.2.2.2"_ba
                                                   << QByteArray() << QByteArray() << ip("198.51.100.1");
    QTest::addRow("mapped untrusted peer becomes IPv4") << loopback << ip("::ffff:203.0.113.5") << "198.51.100.1"_ba
                                                        << QByteArray() << QByteArray() << ip("203.0.113.5");
    QTest::addRow("mapped loopback peer is trusted") << loopback << ip("::ffff:127.0.0.1") << "198.51.100.1"_ba
                                                     << QByteArray() << QByteArray() << ip("198.51.100.1");
    QTest::addRow("mapped loopback peer without headers becomes IPv4")
        << loopback << ip("::ffff:127.0.0.1") << QByteArray() << QByteArray() << QByteArray() << ip("127.0.0.1");
    QTest::addRow("zone ids are malformed")
        << loopback << ip("127.0.0.1") << "fe80::1%eth0"_ba << QByteArray() << QByteArray() << ip("127.0.0.1");
    QTest::addRow("null peer") << loopback << QHostAddress() << "198.51.100.1"_ba << QByteArray() << QByteArray()
                               << QHostAddress();
}

void TestClientAddress::clientAddress()
{
    QFETCH(QStringList, trusted);
    QFETCH(QHostAddress, peer);
    QFETCH(QByteArray, xff);
    QFETCH(QByteArray, xRealIp);
    QFETCH(QByteArray, cfConnectingIp);
    QFETCH(QHostAddress, expected);

    QString error;
    const auto proxies = trusted.isEmpty() ? std::optional(TrustedProxies()) : TrustedProxies::parse(trusted, &error);
    QVERIFY2(proxies, qPrintable(error));
    const QHostAddress client = proxies->clientAddress(peer, xff, xRealIp, cfConnectingIp);
    QCOMPARE(client, expected);
    // Same protocol too: IPv4 results are never returned as IPv4-mapped IPv6.
    QCOMPARE(client.protocol(), expected.protocol());
}

void TestClientAddress::parseAddress_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("expected"); // empty: malformed

    QTest::addRow("IPv4") << "192.0.2.1"_ba << u"192.0.2.1"_s;
    QTest::addRow("IPv4 zeros") << "0.0.0.0"_ba << u"0.0.0.0"_s;
    QTest::addRow("IPv4 max") << "255.255.255.255"_ba << u"255.255.255.255"_s;
    QTest::addRow("IPv4 blanks") << " \t192.0.2.1 "_ba << u"192.0.2.1"_s;
    QTest::addRow("IPv4 leading zero") << "192.0.2.01"_ba << QString();
    QTest::addRow("IPv4 three parts") << "192.0.2"_ba << QString();
    QTest::addRow("IPv4 five parts") << "192.0.2.1.5"_ba << QString();
    QTest::addRow("IPv4 256") << "192.0.2.256"_ba << QString();
    QTest::addRow("IPv4 trailing dot") << "192.0.2.1."_ba << QString();
    QTest::addRow("IPv4 sign") << "+1.2.3.4"_ba << QString();
    QTest::addRow("IPv4 bad port") << "192.0.2.1:"_ba << QString();
    QTest::addRow("IPv4 port too long") << "192.0.2.1:123456"_ba << QString();
    QTest::addRow("IPv6 full") << "2001:0db8:0000:0000:0000:0000:0000:0001"_ba << u"2001:db8::1"_s;
    QTest::addRow("IPv6 compressed") << "2001:db8::1"_ba << u"2001:db8::1"_s;
    QTest::addRow("IPv6 uppercase") << "2001:DB8::A"_ba << u"2001:db8::a"_s;
    QTest::addRow("IPv6 any") << "::"_ba << u"::"_s;
    QTest::addRow("IPv6 loopback") << "::1"_ba << u"::1"_s;
    QTest::addRow("IPv6 trailing ::") << "2001:db8::"_ba << u"2001:db8::"_s;
    QTest::addRow("IPv6 :: for one group") << "1:2:3:4:5:6:7::"_ba << u"1:2:3:4:5:6:7:0"_s;
    QTest::addRow("IPv6 dotted tail") << "64:ff9b::192.0.2.33"_ba << u"64:ff9b::c000:221"_s;
    QTest::addRow("IPv6 full with dotted tail") << "1:2:3:4:5:6:1.2.3.4"_ba << u"1:2:3:4:5:6:102:304"_s;
    QTest::addRow("IPv4-mapped") << "::ffff:192.0.2.1"_ba << u"192.0.2.1"_s;
    QTest::addRow("IPv4-mapped hex") << "::ffff:c000:201"_ba << u"192.0.2.1"_s;
    QTest::addRow("brackets") << "[2001:db8::1]"_ba << u"2001:db8::1"_s;
    QTest::addRow("brackets with port") << "[2001:db8::1]:8080"_ba << u"2001:db8::1"_s;
    QTest::addRow("IPv6 two ::") << "1::2::3"_ba << QString();
    QTest::addRow("IPv6 :::") << ":::"_ba << QString();
    QTest::addRow("IPv6 leading single colon") << ":1::2"_ba << QString();
    QTest::addRow("IPv6 trailing single colon") << "1::2:"_ba << QString();
    QTest::addRow("IPv6 nine groups") << "1:2:3:4:5:6:7:8:9"_ba << QString();
    QTest::addRow("IPv6 seven groups") << "1:2:3:4:5:6:7"_ba << QString();
    QTest::addRow("IPv6 :: with eight groups") << "1:2:3:4::5:6:7:8"_ba << QString();
    QTest::addRow("IPv6 five hex digits") << "12345::1"_ba << QString();
    QTest::addRow("IPv6 bad hex") << "2001:db8::g"_ba << QString();
    QTest::addRow("IPv6 dotted tail not last") << "::1.2.3.4:5"_ba << QString();
    QTest::addRow("IPv6 dotted tail too late") << "1:2:3:4:5:6:7:1.2.3.4"_ba << QString();
    QTest::addRow("IPv6 bare with port-like tail") << "2001:db8::1:99999"_ba << QString();
    QTest::addRow("IPv6 zone") << "fe80::1%eth0"_ba << QString();
    QTest::addRow("brackets unclosed") << "[2001:db8::1"_ba << QString();
    QTest::addRow("brackets junk after") << "[2001:db8::1]x"_ba << QString();
    QTest::addRow("brackets around IPv4") << "[192.0.2.1]"_ba << QString();
    QTest::addRow("host name") << "localhost"_ba << QString();
    QTest::addRow("unknown") << "unknown"_ba << QString();
    QTest::addRow("empty") << QByteArray() << QString();
    QTest::addRow("blank") << "  "_ba << QString();
}

void TestClientAddress::parseAddress()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, expected);
    const QHostAddress parsed = TrustedProxies::parseAddress(text);
    if (expected.isEmpty()) {
        QVERIFY2(parsed.isNull(), qPrintable(parsed.toString()));
        return;
    }
    QCOMPARE(parsed.toString(), expected);
    // Agrees with Qt's own parser on what the address is (Qt keeps mapped addresses as IPv6).
    const QHostAddress qt(QString::fromLatin1(text.trimmed()));
    if (!qt.isNull()) {
        QVERIFY(parsed.isEqual(qt, QHostAddress::ConvertV4MappedToIPv4));
    }
}

void TestClientAddress::parseCidrs_data()
{
    QTest::addColumn<QStringList>("cidrs");
    QTest::addColumn<QStringList>("canonical");
    QTest::addColumn<QHostAddress>("inside");
    QTest::addColumn<QHostAddress>("outside");

    QTest::addRow("IPv4 /8") << QStringList{u"10.0.0.0/8"_s} << QStringList{u"10.0.0.0/8"_s} << ip("10.255.1.2")
                             << ip("11.0.0.0");
    QTest::addRow("host bits cleared") << QStringList{u"10.1.2.3/8"_s} << QStringList{u"10.0.0.0/8"_s}
                                       << ip("10.200.0.1") << ip("9.255.255.255");
    QTest::addRow("IPv4 /23") << QStringList{u"192.0.2.0/23"_s} << QStringList{u"192.0.2.0/23"_s} << ip("192.0.3.255")
                              << ip("192.0.4.0");
    QTest::addRow("IPv4 host") << QStringList{u" 192.0.2.7 "_s} << QStringList{u"192.0.2.7/32"_s} << ip("192.0.2.7")
                               << ip("192.0.2.8");
    QTest::addRow("IPv4 /0") << QStringList{u"0.0.0.0/0"_s} << QStringList{u"0.0.0.0/0"_s} << ip("203.0.113.1")
                             << ip("2001:db8::1");
    QTest::addRow("IPv4 CIDR matches mapped")
        << QStringList{u"10.0.0.0/8"_s} << QStringList{u"10.0.0.0/8"_s} << ip("::ffff:10.0.0.1") << ip("::10.0.0.1");
    QTest::addRow("IPv6 /48") << QStringList{u"2001:db8:1::/48"_s} << QStringList{u"2001:db8:1::/48"_s}
                              << ip("2001:db8:1:ffff::1") << ip("2001:db8:2::1");
    QTest::addRow("IPv6 /61") << QStringList{u"2001:db8::/61"_s} << QStringList{u"2001:db8::/61"_s}
                              << ip("2001:db8:0:7::1") << ip("2001:db8:0:8::1");
    QTest::addRow("IPv6 host") << QStringList{u"fd00::5"_s} << QStringList{u"fd00::5/128"_s} << ip("fd00::5")
                               << ip("fd00::6");
    QTest::addRow("IPv6 /0 trusts everything")
        << QStringList{u"::/0"_s} << QStringList{u"::/0"_s} << ip("203.0.113.1") << QHostAddress();
    QTest::addRow("several") << QStringList{u"10.0.0.0/8"_s, u"fd00::/8"_s}
                             << QStringList{u"10.0.0.0/8"_s, u"fd00::/8"_s} << ip("fd12::1") << ip("127.0.0.1");
    QTest::addRow("empty list trusts nobody") << QStringList() << QStringList() << QHostAddress() << ip("127.0.0.1");
}

void TestClientAddress::parseCidrs()
{
    QFETCH(QStringList, cidrs);
    QFETCH(QStringList, canonical);
    QFETCH(QHostAddress, inside);
    QFETCH(QHostAddress, outside);

    QString error;
    const auto proxies = TrustedProxies::parse(cidrs, &error);
    QVERIFY2(proxies, qPrintable(error));
    QVERIFY(error.isEmpty());
    QCOMPARE(proxies->cidrs(), canonical);
    if (!inside.isNull()) {
        QVERIFY(proxies->isTrusted(inside));
    }
    QVERIFY(!proxies->isTrusted(outside));
}

void TestClientAddress::invalidCidr_data()
{
    QTest::addColumn<QString>("cidr");

    QTest::addRow("IPv4 prefix too long") << u"10.0.0.0/33"_s;
    QTest::addRow("IPv6 prefix too long") << u"2001:db8::/129"_s;
    QTest::addRow("negative prefix") << u"10.0.0.0/-1"_s;
    QTest::addRow("empty prefix") << u"10.0.0.0/"_s;
    QTest::addRow("prefix with junk") << u"10.0.0.0/8x"_s;
    QTest::addRow("prefix blank") << u"10.0.0.0/ 8"_s;
    QTest::addRow("two slashes") << u"10.0.0.0/8/8"_s;
    QTest::addRow("bad address") << u"10.0.0/8"_s;
    QTest::addRow("host name") << u"localhost"_s;
    QTest::addRow("empty") << QString();
    QTest::addRow("only slash") << u"/8"_s;
    QTest::addRow("brackets") << u"[::1]/128"_s;
    QTest::addRow("non-Latin-1") << u"10.0.0.\u0661/8"_s;
    // Found by fuzz_smallparsers: the digits of a long prefix overflowed an int (UBSan) before the
    // length check rejected it.
    QTest::addRow("prefix of many digits") << u"10.0.0.0/9999999999999999999999"_s;
}

void TestClientAddress::invalidCidr()
{
    QFETCH(QString, cidr);
    QString error;
    QVERIFY(!TrustedProxies::parse({u"127.0.0.1/32"_s, cidr}, &error));
    QVERIFY2(error.contains(u'"' + cidr + u'"'), qPrintable(error));
    QVERIFY(!TrustedProxies::parse({cidr})); // no error pointer needed
}

void TestClientAddress::defaults()
{
    const TrustedProxies proxies;
    QCOMPARE(proxies.cidrs(), TrustedProxies::defaultCidrs());
    const auto parsed = TrustedProxies::parse(TrustedProxies::defaultCidrs());
    QVERIFY(parsed);
    QCOMPARE(parsed->cidrs(), TrustedProxies::defaultCidrs());
    QVERIFY(proxies.isTrusted(ip("127.0.0.1")));
    QVERIFY(proxies.isTrusted(ip("127.255.255.254")));
    QVERIFY(proxies.isTrusted(ip("::1")));
    QVERIFY(proxies.isTrusted(ip("::ffff:127.0.0.1")));
    QVERIFY(!proxies.isTrusted(ip("128.0.0.1")));
    QVERIFY(!proxies.isTrusted(ip("::2")));
    QVERIFY(!proxies.isTrusted(ip("10.0.0.1")));
    QVERIFY(!proxies.isTrusted(QHostAddress()));
    QVERIFY(!proxies.isTrusted(QHostAddress(QHostAddress::Any)));
}

void TestClientAddress::isLoopback_data()
{
    QTest::addColumn<QHostAddress>("address");
    QTest::addColumn<bool>("expected");

    QTest::addRow("127.0.0.1") << ip("127.0.0.1") << true;
    QTest::addRow("127.1.2.3") << ip("127.1.2.3") << true;
    QTest::addRow("::1") << ip("::1") << true;
    QTest::addRow("mapped 127.0.0.1") << ip("::ffff:127.0.0.1") << true;
    QTest::addRow("LocalHost") << QHostAddress(QHostAddress::LocalHost) << true;
    QTest::addRow("LocalHostIPv6") << QHostAddress(QHostAddress::LocalHostIPv6) << true;
    QTest::addRow("128.0.0.1") << ip("128.0.0.1") << false;
    QTest::addRow("10.0.0.1") << ip("10.0.0.1") << false;
    QTest::addRow("::") << ip("::") << false;
    QTest::addRow("::127.0.0.1 (compatible, not mapped)") << ip("::127.0.0.1") << false;
    QTest::addRow("2001:db8::1") << ip("2001:db8::1") << false;
    QTest::addRow("null") << QHostAddress() << false;
}

void TestClientAddress::isLoopback()
{
    QFETCH(QHostAddress, address);
    QFETCH(bool, expected);
    QCOMPARE(TrustedProxies::isLoopback(address), expected);
}

QTEST_GUILESS_MAIN(TestClientAddress)
#include "tst_clientaddress.moc"
