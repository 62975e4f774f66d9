// SPDX-License-Identifier: MIT
#include <QTest>

#include "gui/messageformatter.h"

using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;

class TestMessageFormatter final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void format_data();
    void format();
    void magicPrefix_data();
    void magicPrefix();
    void reduceHtml_data();
    void reduceHtml();
};

void TestMessageFormatter::init()
{
    QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
}

void TestMessageFormatter::format_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<QByteArray>("eventType");
    QTest::addColumn<QString>("title");
    QTest::addColumn<QString>("body");
    QTest::addColumn<QString>("markup");
    QTest::addColumn<int>("priority");
    QTest::addColumn<QString>("click");

    QTest::addRow("plain one line") << QByteArray("Backup done") << QByteArray("message") << u"alerts"_s
                                    << u"Backup done"_s << u"Backup done"_s << 3 << QString();
    QTest::addRow("short first line is the title")
        << QByteArray("Disk full\r\n/var is at 99%\nclean up") << QByteArray("message") << u"Disk full"_s
        << u"/var is at 99%\nclean up"_s << u"/var is at 99%\nclean up"_s << 3 << QString();
    QTest::addRow("long first line is the body")
        << QByteArray(QByteArray(90, 'x') + "\nsecond") << QByteArray("message") << u"alerts"_s
        << QString(QString(90, u'x') + u"\nsecond") << QString(QString(90, u'x') + u"\nsecond") << 3 << QString();
    QTest::addRow("text is escaped for markup") << QByteArray("a <b> & c") << QByteArray("message") << u"alerts"_s
                                                << u"a <b> & c"_s << u"a &lt;b&gt; &amp; c"_s << 3 << QString();
    QTest::addRow("channel json markdown")
        << QByteArray(
               R"j({"user":"alice","title":"Deploy","message":"**done** in *3 s*\n- [log](https://x.invalid/l)",)j"
               R"j("type":"markdown","priority":5,"tags":["tada","prod"],"click":"https://x.invalid/c","time":1})j")
        << QByteArray("message") << QString::fromUtf8("\xF0\x9F\x8E\x89 Deploy") << u"done in 3 s\n- log\nTags: prod"_s
        << u"<b>done</b> in <i>3 s</i>\n\u2022 <a href=\"https://x.invalid/l\">log</a>\nTags: prod"_s << 5
        << u"https://x.invalid/c"_s;
    QTest::addRow("channel json html") << QByteArray(
        R"j({"title":"T","message":"<p>Hi <strong>there</strong><script>x</script></p>","type":"html"})j")
                                       << QByteArray("message") << u"T"_s << u"Hi therex"_s << u"Hi <b>there</b>x"_s
                                       << 3 << QString();
    QTest::addRow("channel json plain, no title, bad click")
        << QByteArray(R"j({"message":"line1\nline2","priority":1,"click":"relative/path"})j") << QByteArray("message")
        << u"alerts"_s << u"line1\nline2"_s << u"line1\nline2"_s << 1 << QString();
    QTest::addRow("json without message is text")
        << QByteArray(R"j({"temp": 21})j") << QByteArray("message") << u"alerts"_s << u"{\"temp\": 21}"_s
        << u"{&quot;temp&quot;: 21}"_s << 3 << QString();
    QTest::addRow("binary") << QByteArray("AAEC") << QByteArray("binary") << u"alerts"_s
                            << u"Binary message, size: 3 B"_s << u"Binary message, size: 3 B"_s << 3 << QString();
}

void TestMessageFormatter::format()
{
    QFETCH(QByteArray, data);
    QFETCH(QByteArray, eventType);
    const DisplayMessage m = MessageFormatter::format(data, eventType, {QStringLiteral("alerts"), false});
    QTEST(m.title, "title");
    QTEST(m.body, "body");
    QTEST(m.markupBody, "markup");
    QTEST(m.priority, "priority");
    QTEST(m.clickUrl, "click");
    QVERIFY(m.popup);
}

void TestMessageFormatter::magicPrefix_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<bool>("popup");
    QTest::addColumn<QString>("body");

    QTest::addRow("prefixed") << QByteArray("notify backup done") << true << u"backup done"_s;
    QTest::addRow("prefixed json") << QByteArray(R"j(notify {"message":"m","title":"t"})j") << true << u"m"_s;
    QTest::addRow("not prefixed: history only") << QByteArray("backup done") << false << u"backup done"_s;
    QTest::addRow("word must end") << QByteArray("notifyme") << false << u"notifyme"_s;
}

void TestMessageFormatter::magicPrefix()
{
    QFETCH(QByteArray, data);
    const DisplayMessage m = MessageFormatter::format(data, "message", {QStringLiteral("s"), true});
    QTEST(m.popup, "popup");
    QTEST(m.body, "body");
}

void TestMessageFormatter::reduceHtml_data()
{
    QTest::addColumn<QString>("html");
    QTest::addColumn<QString>("markup");
    QTest::addRow("kept") << u"<b>a</b><EM>b</EM><u>c</u>"_s << u"<b>a</b><i>b</i><u>c</u>"_s;
    QTest::addRow("links")
        << u"<a href='https://a.invalid/?x=1&amp;y=2' title=t>go</a> <a href=\"javascript:x\">no</a>"_s
        << u"<a href=\"https://a.invalid/?x=1&amp;y=2\">go</a> no"_s;
    QTest::addRow("blocks") << u"<h1>Head</h1><p>one<br/>two</p><ul><li>x</li><li>y</li></ul>"_s
                            << u"<b>Head</b>\none\ntwo\n\u2022 x\n\u2022 y"_s;
    QTest::addRow("unclosed link") << u"<a href=\"https://a.invalid\">x"_s << u"<a href=\"https://a.invalid\">x</a>"_s;
    QTest::addRow("dropped") << u"<img src=x onerror=y><span style=z>t</span>"_s << u"t"_s;
}

void TestMessageFormatter::reduceHtml()
{
    QFETCH(QString, html);
    QTEST(MessageFormatter::reduceHtml(html), "markup");
}

QTEST_MAIN(TestMessageFormatter)
#include "tst_messageformatter.moc"
