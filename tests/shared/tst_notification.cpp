// SPDX-License-Identifier: MIT
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTest>
#include <QUrl>
#include <QUrlQuery>

#include "notify/notification.h"

using namespace Qt::StringLiterals;
using Patchwork::Notification;

namespace
{

struct Expected
{
    QString type = u"plain"_s;
    QString title;
    QString message;
    QString room;
    int priority = 3;
    QStringList tags;
    QString click;
};

// The query as the HTTP front end hands it over: parsed from the request URL.
QUrlQuery queryOf(const QString &encoded)
{
    return QUrlQuery(QUrl(u"http://relay.test/u/alice/_/ntfy?"_s + encoded));
}

} // namespace

Q_DECLARE_METATYPE(Expected)
Q_DECLARE_METATYPE(Patchwork::Notification)

class TestNotification final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void parse_data();
    void parse();
    void priority_data();
    void priority();
    void toJson_data();
    void toJson();
    void markdownToHtml_data();
    void markdownToHtml();
    void messageRendering_data();
    void messageRendering();
    void htmlToPlain();
};

void TestNotification::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
}

void TestNotification::parse_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("query");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("error");
    QTest::addColumn<Expected>("expected");

    const QByteArray json = "application/json"_ba;
    const QByteArray form = "application/x-www-form-urlencoded"_ba;
    const QByteArray text = "text/plain"_ba;
    const auto ok = [](const char *name,
                       const QByteArray &method,
                       const QByteArray &contentType,
                       const QByteArray &body,
                       const QString &query,
                       const Expected &expected) {
        QTest::addRow("%s", name) << method << contentType << body << query << 200 << QString() << expected;
    };
    const auto fails = [](const char *name,
                          const QByteArray &method,
                          const QByteArray &contentType,
                          const QByteArray &body,
                          const QString &query,
                          int status,
                          const QString &error) {
        QTest::addRow("%s", name) << method << contentType << body << query << status << error << Expected();
    };
    const auto msg = [](const QString &message) {
        Expected e;
        e.message = message;
        return e;
    };
    const QString contentRequired = u"Content is required"_s;

    // GET: the query.
    ok("GET all fields",
       "GET",
       {},
       {},
       u"message=Hello&title=Hi&type=markdown&room=%21r:example.org&priority=4&tags=a,b&click=https://example.org/x"_s,
       {u"markdown"_s, u"Hi"_s, u"Hello"_s, u"!r:example.org"_s, 4, {u"a"_s, u"b"_s}, u"https://example.org/x"_s});
    ok("GET plus is a space, %2B a plus",
       "GET",
       {},
       {},
       u"message=Backup+done&title=C%2B%2B"_s,
       {u"plain"_s, u"C++"_s, u"Backup done"_s, {}, 3, {}, {}});
    ok("GET percent-encoded UTF-8", "GET", {}, {}, u"message=Gr%C3%BC%C3%9Fe"_s, msg(u"Grüße"_s));
    ok("GET content alias", "GET", {}, {}, u"content=c"_s, msg(u"c"_s));
    ok("GET body alias", "GET", {}, {}, u"body=b"_s, msg(u"b"_s));
    ok("GET message beats content and body", "GET", {}, {}, u"body=b&content=c&message=m"_s, msg(u"m"_s));
    ok("GET content beats body", "GET", {}, {}, u"body=b&content=c"_s, msg(u"c"_s));
    ok("GET empty message falls back to body", "GET", {}, {}, u"message=&body=b"_s, msg(u"b"_s));
    ok("GET first occurrence wins", "GET", {}, {}, u"message=one&message=two"_s, msg(u"one"_s));
    ok("GET lowercase method", "get", {}, {}, u"message=m"_s, msg(u"m"_s));
    fails("GET without message", "GET", {}, {}, u"title=t"_s, 400, contentRequired);
    fails("GET whitespace message", "GET", {}, {}, u"message=%20%20"_s, 400, contentRequired);
    fails("GET ignores the body", "GET", text, "hello", {}, 400, contentRequired);

    // POST JSON.
    ok("JSON all fields",
       "POST",
       json,
       R"({"type":"html","title":"T","message":"<b>x</b>","room":"r","priority":5,"tags":["a","b"],"click":"https://e.org"})",
       {},
       {u"html"_s, u"T"_s, u"<b>x</b>"_s, u"r"_s, 5, {u"a"_s, u"b"_s}, u"https://e.org"_s});
    ok("JSON with charset", "POST", "Application/JSON; charset=utf-8", R"({"message":"m"})", {}, msg(u"m"_s));
    ok("JSON priority as string",
       "POST",
       json,
       R"({"message":"m","priority":"2"})",
       {},
       {u"plain"_s, {}, u"m"_s, {}, 2, {}, {}});
    ok("JSON tags as comma string",
       "POST",
       json,
       R"({"message":"m","tags":" a, b ,,"})",
       {},
       {u"plain"_s, {}, u"m"_s, {}, 3, {u"a"_s, u"b"_s}, {}});
    ok("JSON content beats body", "POST", json, R"({"body":"b","content":"c"})", {}, msg(u"c"_s));
    ok("JSON message beats content", "POST", json, R"({"content":"c","message":"m"})", {}, msg(u"m"_s));
    ok("JSON null is absent", "POST", json, R"({"message":"m","title":null,"priority":null})", {}, msg(u"m"_s));
    ok("JSON unknown fields ignored", "POST", json, R"({"message":"m","extra":{"a":1}})", {}, msg(u"m"_s));
    ok("JSON takes missing fields from the query",
       "POST",
       json,
       R"({"message":"m","title":"body title"})",
       u"title=query+title&priority=5&message=q"_s,
       {u"plain"_s, u"body title"_s, u"m"_s, {}, 5, {}, {}});
    fails("JSON invalid", "POST", json, "{\"message\":", {}, 400, u"Invalid JSON"_s);
    fails("JSON array", "POST", json, "[1,2]", {}, 400, u"Invalid JSON"_s);
    fails("JSON empty body", "POST", json, "", {}, 400, u"Invalid JSON"_s);
    fails("JSON title not a string",
          "POST",
          json,
          R"({"message":"m","title":5})",
          {},
          400,
          u"Invalid title: must be a string"_s);
    fails("JSON tags with a number",
          "POST",
          json,
          R"({"message":"m","tags":["a",1]})",
          {},
          400,
          u"Invalid tags: must be a list of strings or a comma-separated string"_s);
    fails("JSON without message", "POST", json, R"({"title":"t"})", {}, 400, contentRequired);

    // POST form.
    ok("form with fields",
       "POST",
       form,
       "title=Hi&message=Hello+world%21&priority=high&tags=x",
       {},
       {u"plain"_s, u"Hi"_s, u"Hello world!"_s, {}, 4, {u"x"_s}, {}});
    ok("form content beats body", "POST", form, "body=b&content=c", {}, msg(u"c"_s));
    ok("form without fields is plain text", "POST", form, "Backup done", {}, msg(u"Backup done"_s));
    ok("form with unknown fields is plain text", "POST", form, "foo=bar&x=1", {}, msg(u"foo=bar&x=1"_s));
    ok("form key without = is plain text", "POST", form, "message", {}, msg(u"message"_s));
    ok("form plain text kept verbatim", "POST", form, "50% done + more", {}, msg(u"50% done + more"_s));
    ok("form plain text with query fields",
       "POST",
       form,
       "Backup done",
       u"title=Backup&priority=5&type=markdown"_s,
       {u"markdown"_s, u"Backup"_s, u"Backup done"_s, {}, 5, {}, {}});
    fails("form with empty message", "POST", form, "message=&title=t", {}, 400, contentRequired);

    // POST multipart form.
    const QByteArray multipart = "multipart/form-data; boundary=XyZ"_ba;
    ok("multipart with fields",
       "POST",
       multipart,
       "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHi\r\n"
       "--XyZ\r\ncontent-disposition: form-data; name=\"message\"; filename=\"m.txt\"\r\n"
       "Content-Type: text/plain\r\n\r\nline 1\r\nline 2\r\n--XyZ--\r\n",
       {},
       {u"plain"_s, u"Hi"_s, u"line 1\r\nline 2"_s, {}, 3, {}, {}});
    ok("multipart without fields is plain text",
       "POST",
       multipart,
       "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\ndata\r\n--XyZ--\r\n",
       {},
       msg(u"--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\ndata\r\n--XyZ--\r\n"_s));

    // POST anything else: plain text.
    ok("text/plain keeps the whole body", "POST", text, "line1\nline2\n", {}, msg(u"line1\nline2\n"_s));
    ok("no content type", "POST", {}, "x", {}, msg(u"x"_s));
    ok("text/plain that looks like JSON", "POST", text, R"({"message":"x"})", {}, msg(uR"({"message":"x"})"_s));
    ok("text/plain that looks like a form", "POST", text, "message=x", {}, msg(u"message=x"_s));
    ok("plain text, empty body, message from the query", "POST", text, "", u"message=q"_s, msg(u"q"_s));
    fails("plain text, empty body", "POST", text, "", {}, 400, contentRequired);
    fails("plain text, whitespace body", "POST", text, " \n\t", {}, 400, contentRequired);

    // Field checks.
    ok("type is case-insensitive",
       "GET",
       {},
       {},
       u"message=m&type=MarkDown"_s,
       {u"markdown"_s, {}, u"m"_s, {}, 3, {}, {}});
    ok("empty type is plain", "GET", {}, {}, u"message=m&type="_s, msg(u"m"_s));
    fails("unknown type",
          "GET",
          {},
          {},
          u"message=m&type=rich"_s,
          400,
          u"Invalid type: must be plain, markdown or html"_s);
    ok("mailto click",
       "GET",
       {},
       {},
       u"message=m&click=mailto:a@example.org"_s,
       {u"plain"_s, {}, u"m"_s, {}, 3, {}, u"mailto:a@example.org"_s});
    fails("javascript click",
          "GET",
          {},
          {},
          u"message=m&click=javascript:alert(1)"_s,
          400,
          u"Invalid click: must be an http, https or mailto URL"_s);
    fails("relative click",
          "GET",
          {},
          {},
          u"message=m&click=/x"_s,
          400,
          u"Invalid click: must be an http, https or mailto URL"_s);
    fails("file click",
          "GET",
          {},
          {},
          u"message=m&click=file:///etc/passwd"_s,
          400,
          u"Invalid click: must be an http, https or mailto URL"_s);
    const QString badPriority =
        u"Invalid priority: must be a number from 1 to 5 or one of min, low, default, high, max, urgent"_s;
    fails("priority out of range", "GET", {}, {}, u"message=m&priority=6"_s, 400, badPriority);
    fails("JSON priority out of range", "POST", json, R"({"message":"m","priority":0})", {}, 400, badPriority);
    fails("JSON priority fraction", "POST", json, R"({"message":"m","priority":2.5})", {}, 400, badPriority);
    fails("JSON priority boolean", "POST", json, R"({"message":"m","priority":true})", {}, 400, badPriority);
    fails("a bad field wins over a missing message", "GET", {}, {}, u"priority=9"_s, 400, badPriority);
    fails("PUT", "PUT", text, "x", {}, 405, u"Method not allowed"_s);
    fails("DELETE", "DELETE", {}, {}, u"message=m"_s, 405, u"Method not allowed"_s);
}

void TestNotification::parse()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    QFETCH(QString, query);
    QFETCH(int, status);
    QFETCH(QString, error);
    QFETCH(Expected, expected);

    const auto result = Notification::parse(method, contentType, body, queryOf(query));
    QCOMPARE(result.status, status);
    QCOMPARE(result.error, error);
    QCOMPARE(result.ok(), status == 200);
    if (!result.ok()) {
        return;
    }
    const Notification &n = *result.notification;
    QCOMPARE(Notification::typeName(n.type), expected.type);
    QCOMPARE(n.title, expected.title);
    QCOMPARE(n.message, expected.message);
    QCOMPARE(n.room, expected.room);
    QCOMPARE(n.priority, expected.priority);
    QCOMPARE(n.tags, expected.tags);
    QCOMPARE(n.click, expected.click);
    QCOMPARE(n.time, 0);
}

void TestNotification::priority_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("expected"); // 0 = invalid

    QTest::addRow("1") << u"1"_s << 1;
    QTest::addRow("5") << u"5"_s << 5;
    QTest::addRow("padded") << u" 2 "_s << 2;
    QTest::addRow("min") << u"min"_s << 1;
    QTest::addRow("LOW") << u"LOW"_s << 2;
    QTest::addRow("default") << u"default"_s << 3;
    QTest::addRow("High") << u"High"_s << 4;
    QTest::addRow("max") << u"max"_s << 5;
    QTest::addRow("urgent") << u"urgent"_s << 5;
    QTest::addRow("0") << u"0"_s << 0;
    QTest::addRow("6") << u"6"_s << 0;
    QTest::addRow("-1") << u"-1"_s << 0;
    QTest::addRow("2.5") << u"2.5"_s << 0;
    QTest::addRow("word") << u"loud"_s << 0;
    QTest::addRow("empty") << QString() << 0;
}

void TestNotification::priority()
{
    QFETCH(QString, text);
    QFETCH(int, expected);

    const auto value = Notification::priorityFromString(text);
    QCOMPARE(value.value_or(0), expected);

    // The same through the request parser: an empty value is the default, anything invalid a 400.
    const auto result = Notification::parse("GET", {}, {}, queryOf(u"message=m&priority="_s + text));
    if (text.isEmpty()) {
        QCOMPARE(result.notification->priority, 3);
    } else if (expected == 0) {
        QCOMPARE(result.status, 400);
        QVERIFY(result.error.startsWith(u"Invalid priority: "_s));
    } else {
        QVERIFY(result.ok());
        QCOMPARE(result.notification->priority, expected);
    }
}

void TestNotification::toJson_data()
{
    QTest::addColumn<Notification>("notification");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QByteArray>("expected");

    Notification full;
    full.type = Notification::Type::Markdown;
    full.title = u"Backup"_s;
    full.message = u"**done**"_s;
    full.room = u"!r:example.org"_s;
    full.priority = 4;
    full.tags = {u"backup"_s, u"ok"_s};
    full.click = u"https://example.org/log"_s;
    full.time = 1'700'000'123;
    QTest::addRow("all fields")
        << full << u"alice"_s
        << R"({"click":"https://example.org/log","message":"**done**","priority":4,"room":"!r:example.org","tags":["backup","ok"],"time":1700000123,"title":"Backup","type":"markdown","user":"alice"})"_ba;

    Notification minimal;
    minimal.message = u"hi"_s;
    QTest::addRow("absent fields omitted")
        << minimal << u"bob"_s << R"({"message":"hi","priority":3,"type":"plain","user":"bob"})"_ba;

    Notification html = minimal;
    html.type = Notification::Type::Html;
    html.time = 5;
    QTest::addRow("html with time") << html << u"bob"_s
                                    << R"({"message":"hi","priority":3,"time":5,"type":"html","user":"bob"})"_ba;
}

void TestNotification::toJson()
{
    QFETCH(Notification, notification);
    QFETCH(QString, user);
    QFETCH(QByteArray, expected);

    QCOMPARE(QJsonDocument(notification.toJson(user)).toJson(QJsonDocument::Compact), expected);
    QCOMPARE(notification.toJson(user).value("time"_L1).isDouble(), notification.time > 0);
}

void TestNotification::markdownToHtml_data()
{
    QTest::addColumn<QString>("markdown");
    QTest::addColumn<QString>("html");

    QTest::addRow("HTML is escaped") << uR"(<script>alert(1)</script> & "q")"_s
                                     << u"<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;</p>"_s;
    QTest::addRow("paragraphs and line breaks") << u"a\nb\n\nc"_s << u"<p>a<br>b</p><p>c</p>"_s;
    QTest::addRow("CRLF") << u"a\r\nb"_s << u"<p>a<br>b</p>"_s;
    QTest::addRow("bold and italic") << u"**b** and *i*"_s << u"<p><strong>b</strong> and <em>i</em></p>"_s;
    QTest::addRow("italic inside bold") << u"**a *b* c**"_s << u"<p><strong>a <em>b</em> c</strong></p>"_s;
    QTest::addRow("lone stars") << u"2 * 3 * 4"_s << u"<p>2 * 3 * 4</p>"_s;
    QTest::addRow("unclosed bold") << u"**x"_s << u"<p>**x</p>"_s;
    QTest::addRow("backslash escapes") << uR"(\*not italic\*)"_s << u"<p>*not italic*</p>"_s;
    QTest::addRow("code span keeps markers") << u"`a*b*` x"_s << u"<p><code>a*b*</code> x</p>"_s;
    QTest::addRow("code span is escaped") << u"`<b>`"_s << u"<p><code>&lt;b&gt;</code></p>"_s;
    QTest::addRow("fenced code block") << u"before\n```sh\necho <hi> **x**\n\n  indented\n```\nafter"_s
                                       << u"<p>before</p><pre><code class=\"language-sh\">echo &lt;hi&gt; "
                                          u"**x**\n\n  indented</code></pre><p>after</p>"_s;
    QTest::addRow("fence language is checked") << u"```a\"b\nx\n```"_s << u"<pre><code>x</code></pre>"_s;
    QTest::addRow("unclosed fence") << u"```\nx"_s << u"<pre><code>x</code></pre>"_s;
    QTest::addRow("http link") << u"[site](https://example.org/a?b=1&c=2)"_s
                               << u"<p><a href=\"https://example.org/a?b=1&amp;c=2\">site</a></p>"_s;
    QTest::addRow("mailto link with bold text")
        << u"[**mail**](mailto:a@example.org)"_s
        << u"<p><a href=\"mailto:a@example.org\"><strong>mail</strong></a></p>"_s;
    QTest::addRow("javascript link is text") << u"[x](javascript:alert(1))"_s << u"<p>[x](javascript:alert(1))</p>"_s;
    QTest::addRow("data link is text") << u"[x](data:text/html,hi)"_s << u"<p>[x](data:text/html,hi)</p>"_s;
    QTest::addRow("entity-obfuscated scheme is text")
        << u"[x](java&#115;cript:alert(1))"_s << u"<p>[x](java&amp;#115;cript:alert(1))</p>"_s;
    QTest::addRow("link with a space is text") << u"[x](http://a b)"_s << u"<p>[x](http://a b)</p>"_s;
    QTest::addRow("quote cannot leave the attribute")
        << uR"([x](https://e.org/"onmouseover="alert(1)))"_s
        << u"<p><a href=\"https://e.org/&quot;onmouseover=&quot;alert(1\">x</a>)</p>"_s;
    QTest::addRow("headings") << u"# Title\n## Sub ##\n###### Six"_s << u"<h1>Title</h1><h2>Sub</h2><h6>Six</h6>"_s;
    QTest::addRow("heading is escaped") << u"# <i>x</i>"_s << u"<h1>&lt;i&gt;x&lt;/i&gt;</h1>"_s;
    QTest::addRow("hashtag is no heading") << u"#tag\n####### seven"_s << u"<p>#tag<br>####### seven</p>"_s;
    QTest::addRow("bullet list")
        << u"Items:\n- one\n* **two**\n+ three\nafter"_s
        << u"<p>Items:</p><ul><li>one</li><li><strong>two</strong></li><li>three</li></ul><p>after</p>"_s;
    QTest::addRow("two lists") << u"- a\n\n- b"_s << u"<ul><li>a</li></ul><ul><li>b</li></ul>"_s;
    QTest::addRow("empty") << QString() << QString();
}

void TestNotification::markdownToHtml()
{
    QFETCH(QString, markdown);
    QFETCH(QString, html);

    QCOMPARE(Notification::markdownToHtml(markdown), html);
}

void TestNotification::messageRendering_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("html");
    QTest::addColumn<QString>("plain");

    QTest::addRow("plain is escaped") << u"plain"_s << u"a < b\n**c**"_s << u"a &lt; b<br>**c**"_s << u"a < b\n**c**"_s;
    QTest::addRow("markdown is rendered")
        << u"markdown"_s << u"a < b\n**c**"_s << u"<p>a &lt; b<br><strong>c</strong></p>"_s << u"a < b\n**c**"_s;
    QTest::addRow("html passes through") << u"html"_s << u"<b>x</b> &amp; <i>y</i>"_s << u"<b>x</b> &amp; <i>y</i>"_s
                                         << u"x & y"_s;
}

void TestNotification::messageRendering()
{
    QFETCH(QString, type);
    QFETCH(QString, message);
    QFETCH(QString, html);
    QFETCH(QString, plain);

    Notification n;
    n.type = *Notification::typeFromName(type);
    n.message = message;
    QCOMPARE(n.htmlMessage(), html);
    QCOMPARE(n.plainMessage(), plain);
}

void TestNotification::htmlToPlain()
{
    QCOMPARE(Notification::htmlToPlain(
                 u"<p>Hello <b class=\"x\">world</b></p><ul><li>a</li><li>b</li></ul>x &amp; &lt;y&gt;<br/>z"_s),
             u"Hello world\n- a\n- b\n\nx & <y>\nz"_s);
    QCOMPARE(Notification::htmlToPlain(u"a <unclosed"_s), u"a <unclosed"_s);
    QCOMPARE(Notification::htmlToPlain(u"&amp;lt;"_s), u"&lt;"_s);
}

QTEST_GUILESS_MAIN(TestNotification)
#include "tst_notification.moc"
