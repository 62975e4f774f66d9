// SPDX-License-Identifier: MIT
#include <QRegularExpression>
#include <QTest>

#include "access/pattern.h"

using namespace Qt::StringLiterals;
using Patchwork::Pattern;
using Patchwork::PatternList;

class TestPattern final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void matches_data();
    void matches();
    void invalid_data();
    void invalid();
    void textRoundTrip();
    void list_data();
    void list();
    void listParseReportsIndex();
    void noBacktrackingBlowUp();
};

void TestPattern::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
}

void TestPattern::matches_data()
{
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<QByteArray>("subject");
    QTest::addColumn<bool>("expected");
    QTest::addColumn<bool>("negated");

    // Literal and anchoring
    QTest::addRow("exact") << u"/a/b"_s << "/a/b"_ba << true << false;
    QTest::addRow("exact is anchored at the end") << u"/a/b"_s << "/a/bc"_ba << false << false;
    QTest::addRow("exact is anchored at the start") << u"/a/b"_s << "x/a/b"_ba << false << false;
    QTest::addRow("case matters") << u"/A"_s << "/a"_ba << false << false;
    QTest::addRow("trailing slash matters") << u"/a/"_s << "/a"_ba << false << false;
    QTest::addRow("no leading slash never matches a path") << u"projects/*"_s << "/projects/x"_ba << false << false;

    // `*`
    QTest::addRow("star alone matches everything") << u"*"_s << "/x/y/z"_ba << true << false;
    QTest::addRow("star alone matches empty") << u"*"_s << ""_ba << true << false;
    QTest::addRow("star crosses slashes") << u"/projects/*"_s << "/projects/a/b/c"_ba << true << false;
    QTest::addRow("star matches empty run") << u"/projects/*"_s << "/projects/"_ba << true << false;
    QTest::addRow("star needs the prefix") << u"/projects/*"_s << "/projects"_ba << false << false;
    QTest::addRow("double star equals star") << u"/projects/**"_s << "/projects/a/b"_ba << true << false;
    QTest::addRow("double star in the middle") << u"/a/**/z"_s << "/a/b/c/z"_ba << true << false;
    QTest::addRow("star in the middle needs both ends") << u"/a/*/z"_s << "/a/b/c/y"_ba << false << false;
    QTest::addRow("star with suffix") << u"*.txt"_s << "/dir/file.txt"_ba << true << false;
    QTest::addRow("star with suffix, wrong suffix") << u"*.txt"_s << "/dir/file.txt.bak"_ba << false << false;
    QTest::addRow("several stars") << u"/*/x/*/y"_s << "/a/x/b/x/c/y"_ba << true << false;
    QTest::addRow("several stars, no match") << u"/*/x/*/y"_s << "/a/x/b/y/c"_ba << false << false;
    QTest::addRow("ends may not overlap") << u"ab*ba"_s << "aba"_ba << false << false;
    QTest::addRow("ends touch") << u"ab*ba"_s << "abba"_ba << true << false;
    QTest::addRow("middle segment found leftmost") << u"*a*a*"_s << "xaya"_ba << true << false;
    QTest::addRow("middle segment after prefix") << u"a*a"_s << "a"_ba << false << false;
    QTest::addRow("star matches a newline") << u"/*"_s << "/a\nb"_ba << true << false;
    QTest::addRow("host pattern") << u"*.example.com:22"_s << "ssh.example.com:22"_ba << true << false;
    QTest::addRow("host pattern, other port") << u"*.example.com:22"_s << "ssh.example.com:2222"_ba << false << false;
    QTest::addRow("port pattern") << u"localhost:*"_s << "localhost:8080"_ba << true << false;

    // `?` is exactly one byte (PROTOCOL §16 item 14: the original matched zero or one)
    QTest::addRow("? matches one") << u"/a?c"_s << "/abc"_ba << true << false;
    QTest::addRow("? does not match zero") << u"/a?c"_s << "/ac"_ba << false << false;
    QTest::addRow("? does not match two") << u"/a?c"_s << "/abbc"_ba << false << false;
    QTest::addRow("? matches a slash") << u"/a?c"_s << "/a/c"_ba << true << false;
    QTest::addRow("? at the end") << u"/v?"_s << "/v1"_ba << true << false;
    QTest::addRow("? at the end, missing") << u"/v?"_s << "/v"_ba << false << false;
    QTest::addRow("?? is exactly two") << u"/??"_s << "/ab"_ba << true << false;
    QTest::addRow("?? is not three") << u"/??"_s << "/abc"_ba << false << false;
    QTest::addRow("? is one byte of UTF-8") << u"/?"_s << "/\xc3\xa9"_ba << false << false;
    QTest::addRow("?? covers a two-byte character") << u"/??"_s << "/\xc3\xa9"_ba << true << false;
    QTest::addRow("? inside a middle segment") << u"*/a?c/*"_s << "/x/abc/y"_ba << true << false;
    QTest::addRow("? inside a middle segment, no match") << u"*/a?c/*"_s << "/x/ac/y"_ba << false << false;
    QTest::addRow("? with star after") << u"/?*"_s << "/"_ba << false << false;
    QTest::addRow("star and ? combined") << u"/*?"_s << "/x"_ba << true << false;

    // Everything else is literal, including regex metacharacters
    QTest::addRow("dot is literal") << u"/a.b"_s << "/a.b"_ba << true << false;
    QTest::addRow("dot is not any char") << u"/a.b"_s << "/axb"_ba << false << false;
    QTest::addRow("plus is literal") << u"/a+"_s << "/a+"_ba << true << false;
    QTest::addRow("plus is not repetition") << u"/a+"_s << "/aa"_ba << false << false;
    QTest::addRow("parentheses are literal") << u"/(a)"_s << "/(a)"_ba << true << false;
    QTest::addRow("parentheses do not group") << u"/(a)"_s << "/a"_ba << false << false;
    QTest::addRow("brackets are literal") << u"/[ab]"_s << "/[ab]"_ba << true << false;
    QTest::addRow("brackets are no class") << u"/[ab]"_s << "/a"_ba << false << false;
    QTest::addRow("dollar is literal") << u"/a$"_s << "/a$"_ba << true << false;
    QTest::addRow("dollar is no anchor") << u"/a$"_s << "/a"_ba << false << false;
    QTest::addRow("caret is literal") << u"^/a"_s << "^/a"_ba << true << false;
    QTest::addRow("caret is no anchor") << u"^/a"_s << "/a"_ba << false << false;
    QTest::addRow("backslash is literal") << u"/a\\*"_s << "/a\\xyz"_ba << true << false;
    QTest::addRow("backslash does not escape the star") << u"/a\\*"_s << "/a*"_ba << false << false;
    QTest::addRow("pipe is literal") << u"/a|/b"_s << "/b"_ba << false << false;
    QTest::addRow("braces are literal") << u"/a{2}"_s << "/a{2}"_ba << true << false;
    QTest::addRow("UTF-8 literal") << u"/caf\u00e9/*"_s << "/caf\xc3\xa9/x"_ba << true << false;

    // Negation: matches() ignores it, isNegated() reports it
    QTest::addRow("negated glob still matches") << u"!/secret/*"_s << "/secret/x"_ba << true << true;
    QTest::addRow("double bang is a literal bang") << u"!!x"_s << "!x"_ba << true << true;
    QTest::addRow("bang later is literal") << u"/a!"_s << "/a!"_ba << true << false;
}

void TestPattern::matches()
{
    QFETCH(QString, pattern);
    QFETCH(QByteArray, subject);
    QFETCH(bool, expected);
    QFETCH(bool, negated);

    QString error;
    const auto p = Pattern::parse(pattern, &error);
    QVERIFY2(p, qPrintable(error));
    QCOMPARE(p->isNegated(), negated);
    QCOMPARE(p->matches(subject), expected);
}

void TestPattern::invalid_data()
{
    QTest::addColumn<QString>("pattern");
    QTest::addRow("empty") << QString();
    QTest::addRow("lone bang") << u"!"_s;
}

void TestPattern::invalid()
{
    QFETCH(QString, pattern);
    QString error;
    QVERIFY(!Pattern::parse(pattern, &error));
    QVERIFY(!error.isEmpty());
    QVERIFY(!Pattern::parse(pattern)); // no error pointer is fine
}

void TestPattern::textRoundTrip()
{
    const auto p = Pattern::parse(u"!/a/*"_s);
    QVERIFY(p);
    QCOMPARE(p->text(), u"!/a/*"_s);
    const auto list = PatternList::parse({u"/a"_s, u"!/b"_s, u"*"_s});
    QVERIFY(list);
    QCOMPARE(list->toStringList(), (QStringList{u"/a"_s, u"!/b"_s, u"*"_s}));
    QCOMPARE(list->size(), 3);
}

void TestPattern::list_data()
{
    QTest::addColumn<QStringList>("patterns");
    QTest::addColumn<QByteArray>("subject");
    QTest::addColumn<bool>("allowed");

    const QStringList projects{u"/projects/**"_s, u"!/projects/secret/*"_s};
    QTest::addRow("positive match") << projects << "/projects/a"_ba << true;
    QTest::addRow("negation wins") << projects << "/projects/secret/x"_ba << false;
    QTest::addRow("no positive match") << projects << "/other"_ba << false;
    QTest::addRow("negation wins when listed first")
        << QStringList{u"!/projects/secret/*"_s, u"/projects/**"_s} << "/projects/secret/x"_ba << false;
    QTest::addRow("negation listed first, others pass")
        << QStringList{u"!/projects/secret/*"_s, u"/projects/**"_s} << "/projects/public"_ba << true;
    QTest::addRow("negation in the middle") << QStringList{u"/a"_s, u"!*"_s, u"/b"_s} << "/a"_ba << false;
    QTest::addRow("empty list allows nothing") << QStringList() << "/a"_ba << false;
    QTest::addRow("only negated allows nothing") << QStringList{u"!/secret"_s} << "/public"_ba << false;
    QTest::addRow("only negated, matching") << QStringList{u"!/secret"_s} << "/secret"_ba << false;
    QTest::addRow("several negations") << QStringList{u"*"_s, u"!/a/*"_s, u"!/b/*"_s} << "/b/x"_ba << false;
    QTest::addRow("several negations, passes") << QStringList{u"*"_s, u"!/a/*"_s, u"!/b/*"_s} << "/c/x"_ba << true;
    QTest::addRow("second positive matches") << QStringList{u"/x"_s, u"/y"_s} << "/y"_ba << true;
    QTest::addRow("huproxy list") << QStringList{u"*.example.com:22"_s, u"localhost:*"_s, u"!localhost:25"_s}
                                  << "localhost:25"_ba << false;
}

void TestPattern::list()
{
    QFETCH(QStringList, patterns);
    QFETCH(QByteArray, subject);
    QFETCH(bool, allowed);
    QString error;
    const auto list = PatternList::parse(patterns, &error);
    QVERIFY2(list, qPrintable(error));
    QCOMPARE(list->allows(subject), allowed);
}

void TestPattern::listParseReportsIndex()
{
    QString error;
    qsizetype index = -1;
    QVERIFY(!PatternList::parse({u"/a"_s, u"/b"_s, u"!"_s}, &error, &index));
    QCOMPARE(index, 2);
    QVERIFY(!error.isEmpty());
    QVERIFY(!PatternList::parse({u""_s}, &error, &index));
    QCOMPARE(index, 0);
    QVERIFY(PatternList().isEmpty());
    QVERIFY(!PatternList().allows("/"_ba));
}

void TestPattern::noBacktrackingBlowUp()
{
    // A backtracking matcher needs exponential time for these (the test would hit its CTest
    // timeout); the segment matcher scans the subject once per segment.
    QString glob;
    for (int i = 0; i < 30; ++i) {
        glob += u"*a"_s;
    }
    const auto failsInTheMiddle = Pattern::parse(glob + u"*c*b"_s);
    const auto matchesAtTheEnd = Pattern::parse(glob + u"*b"_s);
    QVERIFY(failsInTheMiddle && matchesAtTheEnd);
    const QByteArray subject = QByteArray(100000, 'a') + 'b';
    for (int i = 0; i < 100; ++i) {
        QVERIFY(!failsInTheMiddle->matches(subject));
        QVERIFY(matchesAtTheEnd->matches(subject));
    }
}

QTEST_GUILESS_MAIN(TestPattern)
#include "tst_pattern.moc"
