// SPDX-License-Identifier: MIT
#include <memory>
#include <optional>
#include <vector>

#include <QAbstractHttpServer>
#include <QCoreApplication>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QMetaEnum>
#include <QNetworkAccessManager>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>
#include <QTimer>

#include "manualclock.h"
#include "notify/notification.h"
#include "notify/notifier.h"
#include "testutil.h"

using namespace Qt::StringLiterals;
using Patchwork::ManualClock;
using Patchwork::Notification;
using Patchwork::Notifier;

Q_DECLARE_METATYPE(Patchwork::Notification)

namespace
{

// Every secret in these tests contains this, so one check finds any leak.
constexpr QLatin1StringView SECRET_MARK = "s3cr3t"_L1;
const QString MATRIX_TOKEN = u"mx-s3cr3t-token"_s;
// What the ManualClock's Unix time gives as `time` (1 700 000 000 000 ms + 1000 ms).
constexpr qint64 CLOCK_UNIX_SECONDS = 1'700'000'001;

// One request as the fake upstream received it.
struct Received
{
    QByteArray method;
    // Percent-encoded, as sent.
    QByteArray path;
    QByteArray query;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;

    std::optional<QByteArray> header(QByteArrayView name) const
    {
        for (const auto &[key, value] : headers) {
            if (QByteArrayView(key).compare(name, Qt::CaseInsensitive) == 0) {
                return value;
            }
        }
        return std::nullopt;
    }

    QJsonObject json() const
    {
        return QJsonDocument::fromJson(body).object();
    }
};

// An in-process HTTP upstream on 127.0.0.1 that records every request and answers with `status` and
// `responseBody`, or holds the request unanswered when `hold` is set.
class FakeUpstream final : public QAbstractHttpServer
{
public:
    using QAbstractHttpServer::QAbstractHttpServer;

    bool start()
    {
        m_port = listen(QHostAddress::LocalHost, 0);
        return m_port != 0;
    }

    QString url(const QString &path = {}) const
    {
        return u"http://127.0.0.1:%1"_s.arg(m_port) + path;
    }

    int status = 200;
    QByteArray responseBody = "{}"_ba;
    QList<std::pair<QByteArray, QByteArray>> responseHeaders;
    bool hold = false;
    QList<Received> received;

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override
    {
        Received r;
        r.method =
            QByteArray(QMetaEnum::fromType<QHttpServerRequest::Method>().valueToKey(int(request.method()))).toUpper();
        r.path = request.url().path(QUrl::FullyEncoded).toUtf8();
        r.query = request.url().query(QUrl::FullyEncoded).toUtf8();
        r.headers = request.headers();
        r.body = request.body();
        received.append(r);

        QHttpServerResponder responder = makeResponder(request, socket);
        if (hold) {
            m_held.push_back(std::move(responder));
            return true;
        }
        responder.writeStatusLine(QHttpServerResponder::StatusCode(status));
        responder.writeHeader("Content-Type"_ba, "application/json"_ba);
        responder.writeHeader("Content-Length"_ba, QByteArray::number(responseBody.size()));
        for (const auto &[name, value] : std::as_const(responseHeaders)) {
            responder.writeHeader(name, value);
        }
        responder.writeBody(responseBody);
        return true;
    }

    void missingHandler(const QHttpServerRequest &, QTcpSocket *) override
    {
    }

private:
    quint16 m_port = 0;
    std::vector<QHttpServerResponder> m_held;
};

Notification makeNotification(Notification::Type type = Notification::Type::Plain,
                              const QString &title = {},
                              const QString &message = u"Backup done"_s)
{
    Notification n;
    n.type = type;
    n.title = title;
    n.message = message;
    return n;
}

} // namespace

class TestNotifier final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void matrix_data();
    void matrix();
    void matrixTransactionIdsAreUnique();
    void matrixRoomFromNotification();
    void matrixEndpointWithPath();
    void defaultMatrixEndpoint_data();
    void defaultMatrixEndpoint();
    void ntfy_data();
    void ntfy();
    void gotifyPriority_data();
    void gotifyPriority();
    void gotifyExtras_data();
    void gotifyExtras();
    void webhook();
    void channel_data();
    void channel();
    void channelFailure();
    void channelTimeout();
    void channelWithoutPublisher();
    void upstreamError_data();
    void upstreamError();
    void urlPasswordIsScrubbed();
    void unreachableUpstream();
    void slowUpstreamTimesOut();
    void invalidConfig_data();
    void invalidConfig();
    void noBackend();
    void destroyedWhileSending();
    void injectedNetworkManager();
    void logsNeverContainSecrets();

private:
    // Sends and waits for the result; checks that the callback and the signal agree and that neither
    // ran inside send().
    std::optional<Notifier::Result>
    sendAndWait(const QString &type, const QVariantMap &config, const Notification &notification);
    QVariantMap matrixConfig() const;

    std::unique_ptr<ManualClock> m_clock;
    std::unique_ptr<FakeUpstream> m_upstream;
    std::unique_ptr<Notifier> m_notifier;
};

void TestNotifier::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
    m_clock = std::make_unique<ManualClock>();
    m_upstream = std::make_unique<FakeUpstream>();
    QVERIFY(m_upstream->start());
    m_notifier = std::make_unique<Notifier>(m_clock.get());
}

void TestNotifier::cleanup()
{
    m_notifier.reset();
    m_upstream.reset();
    m_clock.reset();
}

std::optional<Notifier::Result>
TestNotifier::sendAndWait(const QString &type, const QVariantMap &config, const Notification &notification)
{
    auto result = std::make_shared<std::optional<Notifier::Result>>();
    auto inside = std::make_shared<bool>(true);
    auto calledInside = std::make_shared<bool>(false);
    QSignalSpy spy(m_notifier.get(), &Notifier::finished);
    const quint64 id = m_notifier->send(u"alice"_s, type, config, notification, [=](const Notifier::Result &r) {
        *result = r;
        *calledInside = *inside;
    });
    *inside = false;
    if (*calledInside || !spy.isEmpty()) {
        qCritical("the result arrived inside send()");
        return std::nullopt;
    }
    if (!spy.wait(Patchwork::Test::timeoutMs(10'000)) || !result->has_value()) {
        return std::nullopt;
    }
    if (spy.size() != 1 || spy.at(0).at(0).toULongLong() != id || spy.at(0).at(1).toInt() != (*result)->status
        || spy.at(0).at(2).toString() != (*result)->message) {
        qCritical("finished() and the callback disagree");
        return std::nullopt;
    }
    if ((*result)->message.contains(SECRET_MARK) || m_notifier->pendingCount() != 0) {
        qCritical("a secret leaked into the result, or the send is still pending");
        return std::nullopt;
    }
    return *result;
}

QVariantMap TestNotifier::matrixConfig() const
{
    return {
        {u"access_token"_s, MATRIX_TOKEN},
        {u"user"_s, u"@bot:example.org"_s},
        {u"endpoint"_s, m_upstream->url()},
        {u"room_id"_s, u"!room:example.org"_s},
    };
}

void TestNotifier::matrix_data()
{
    QTest::addColumn<Notification>("notification");
    QTest::addColumn<QString>("body");
    QTest::addColumn<QString>("formattedBody");

    QTest::addRow("plain, title escaped")
        << makeNotification(Notification::Type::Plain, u"<Alert> & co"_s, u"a < b\nline 2"_s)
        << u"<Alert> & co\na < b\nline 2"_s << u"<strong>&lt;Alert&gt; &amp; co</strong><br>a &lt; b<br>line 2"_s;
    QTest::addRow("plain without title") << makeNotification(Notification::Type::Plain, {}, u"<b>not bold</b>"_s)
                                         << u"<b>not bold</b>"_s << u"&lt;b&gt;not bold&lt;/b&gt;"_s;
    QTest::addRow("markdown rendered")
        << makeNotification(Notification::Type::Markdown, u"T"_s, u"**bold** [l](https://e.org)\n- x"_s)
        << u"T\n**bold** [l](https://e.org)\n- x"_s
        << u"<p><strong>T</strong></p><p><strong>bold</strong> <a href=\"https://e.org\">l</a></p><ul><li>x</li></ul>"_s;
    QTest::addRow("html passes through") << makeNotification(Notification::Type::Html, {}, u"<b>x</b> &amp; y"_s)
                                         << u"x & y"_s << u"<b>x</b> &amp; y"_s;
    QTest::addRow("html with title") << makeNotification(Notification::Type::Html, u"a&b"_s, u"<i>y</i>"_s)
                                     << u"a&b\ny"_s << u"<p><strong>a&amp;b</strong></p><i>y</i>"_s;
}

void TestNotifier::matrix()
{
    QFETCH(Notification, notification);
    QFETCH(QString, body);
    QFETCH(QString, formattedBody);

    const auto result = sendAndWait(u"matrix"_s, matrixConfig(), notification);
    QVERIFY(result);
    QCOMPARE(result->status, 200);
    QCOMPARE(result->message, u"sent"_s);

    QCOMPARE(m_upstream->received.size(), 1);
    const Received &r = m_upstream->received.constFirst();
    QCOMPARE(r.method, "PUT"_ba);
    const QByteArray prefix = "/_matrix/client/v3/rooms/%21room%3Aexample.org/send/m.room.message/"_ba;
    QVERIFY2(r.path.startsWith(prefix), r.path.constData());
    QVERIFY(r.path.size() > prefix.size());
    QVERIFY(!r.path.sliced(prefix.size()).contains('/'));
    QCOMPARE(r.header("Authorization"), "Bearer "_ba + MATRIX_TOKEN.toUtf8());
    QCOMPARE(r.header("Content-Type"), "application/json"_ba);
    const QJsonObject expected{
        {"msgtype"_L1, u"m.text"_s},
        {"body"_L1, body},
        {"format"_L1, u"org.matrix.custom.html"_s},
        {"formatted_body"_L1, formattedBody},
    };
    QCOMPARE(r.json(), expected);
}

void TestNotifier::matrixTransactionIdsAreUnique()
{
    for (int i = 0; i < 2; ++i) {
        const auto result = sendAndWait(u"matrix"_s, matrixConfig(), makeNotification());
        QVERIFY(result);
        QCOMPARE(result->status, 200);
    }
    QCOMPARE(m_upstream->received.size(), 2);
    const auto txnId = [](const Received &r) { return r.path.sliced(r.path.lastIndexOf('/') + 1); };
    const QByteArray first = txnId(m_upstream->received.at(0));
    const QByteArray second = txnId(m_upstream->received.at(1));
    QVERIFY(!first.isEmpty());
    QVERIFY(!second.isEmpty());
    QCOMPARE_NE(first, second);

    // A second notifier (a restarted server, with the same clock) still makes new ids.
    m_notifier = std::make_unique<Notifier>(m_clock.get());
    const auto result = sendAndWait(u"matrix"_s, matrixConfig(), makeNotification());
    QVERIFY(result);
    QCOMPARE(result->status, 200);
    const QByteArray third = txnId(m_upstream->received.at(2));
    QCOMPARE_NE(third, first);
    QCOMPARE_NE(third, second);
}

void TestNotifier::matrixRoomFromNotification()
{
    Notification n = makeNotification();
    n.room = u"#other room:example.org"_s;
    const auto result = sendAndWait(u"matrix"_s, matrixConfig(), n);
    QVERIFY(result);
    QCOMPARE(result->status, 200);
    QVERIFY(m_upstream->received.constFirst().path.startsWith(
        "/_matrix/client/v3/rooms/%23other%20room%3Aexample.org/send/m.room.message/"));

    // No room_id in the config: the notification's room is enough.
    QVariantMap config = matrixConfig();
    config.remove(u"room_id"_s);
    const auto second = sendAndWait(u"matrix"_s, config, n);
    QVERIFY(second);
    QCOMPARE(second->status, 200);
}

void TestNotifier::matrixEndpointWithPath()
{
    QVariantMap config = matrixConfig();
    config[u"endpoint"_s] = m_upstream->url(u"/synapse/"_s);
    const auto result = sendAndWait(u"MATRIX"_s, config, makeNotification());
    QVERIFY(result);
    QCOMPARE(result->status, 200);
    QVERIFY(m_upstream->received.constFirst().path.startsWith("/synapse/_matrix/client/v3/rooms/"));
}

void TestNotifier::defaultMatrixEndpoint_data()
{
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("endpoint"); // empty = invalid

    QTest::addRow("server") << u"@bot:example.org"_s << u"https://example.org"_s;
    QTest::addRow("server and port") << u"@bot:example.org:8448"_s << u"https://example.org:8448"_s;
    QTest::addRow("IPv6") << u"@bot:[::1]:8448"_s << u"https://[::1]:8448"_s;
    QTest::addRow("no @") << u"bot:example.org"_s << QString();
    QTest::addRow("no server") << u"@bot"_s << QString();
    QTest::addRow("empty server") << u"@bot:"_s << QString();
    QTest::addRow("path in server") << u"@bot:example.org/x"_s << QString();
    QTest::addRow("user info in server") << u"@bot:evil@example.org"_s << QString();
}

void TestNotifier::defaultMatrixEndpoint()
{
    QFETCH(QString, user);
    QFETCH(QString, endpoint);

    const QUrl url = Notifier::defaultMatrixEndpoint(user);
    QCOMPARE(url.isValid() ? url.toString() : QString(), endpoint);

    // Without an endpoint, a user id without a server part is a configuration error.
    if (endpoint.isEmpty()) {
        const auto error = Notifier::checkConfig(
            u"matrix"_s, {{u"access_token"_s, MATRIX_TOKEN}, {u"user"_s, user}, {u"room_id"_s, u"!r:x"_s}});
        QVERIFY(error);
        QCOMPARE(error->status, 500);
        QCOMPARE(error->message,
                 u"Invalid notification backend configuration: endpoint is missing and user is not a Matrix id "
                 u"like @name:server"_s);
    }
}

void TestNotifier::ntfy_data()
{
    QTest::addColumn<Notification>("notification");
    QTest::addColumn<QString>("token");
    QTest::addColumn<QStringList>("headers"); // "Name: value" that must be there
    QTest::addColumn<QStringList>("absent"); // names that must not
    QTest::addColumn<QByteArray>("body");

    Notification full = makeNotification(Notification::Type::Markdown, u"Backup"_s, u"**done**"_s);
    full.priority = 5;
    full.tags = {u"backup"_s, u"ok"_s};
    full.click = u"https://example.org/x?a=1"_s;
    QTest::addRow("markdown with every header") << full << u"tk-s3cr3t"_s
                                                << QStringList{u"Title: Backup"_s,
                                                               u"Priority: 5"_s,
                                                               u"Tags: backup,ok"_s,
                                                               u"Click: https://example.org/x?a=1"_s,
                                                               u"Markdown: yes"_s,
                                                               u"Authorization: Bearer tk-s3cr3t"_s}
                                                << QStringList() << "**done**"_ba;
    QTest::addRow("plain without token")
        << makeNotification() << QString() << QStringList{u"Priority: 3"_s}
        << QStringList{u"Authorization"_s, u"Markdown"_s, u"Title"_s, u"Tags"_s, u"Click"_s} << "Backup done"_ba;
    QTest::addRow("non-ASCII title") << makeNotification(Notification::Type::Plain, u"Grüße ✓"_s, u"ä"_s) << QString()
                                     << QStringList{u"Title: =?UTF-8?B?"_s
                                                    + QString::fromLatin1(u"Grüße ✓"_s.toUtf8().toBase64()) + u"?="_s}
                                     << QStringList() << u"ä"_s.toUtf8();
    QTest::addRow("line breaks in the title")
        << makeNotification(Notification::Type::Plain, u"a\r\nX-Evil: 1"_s) << QString()
        << QStringList{u"Title: a  X-Evil: 1"_s} << QStringList{u"X-Evil"_s} << "Backup done"_ba;
    QTest::addRow("html sends plain text") << makeNotification(Notification::Type::Html, {}, u"<b>x</b> &amp; y"_s)
                                           << QString() << QStringList() << QStringList{u"Markdown"_s} << "x & y"_ba;
}

void TestNotifier::ntfy()
{
    QFETCH(Notification, notification);
    QFETCH(QString, token);
    QFETCH(QStringList, headers);
    QFETCH(QStringList, absent);
    QFETCH(QByteArray, body);

    QVariantMap config{{u"url"_s, m_upstream->url(u"/ntfy/"_s)}, {u"topic"_s, u"alerts"_s}};
    if (!token.isEmpty()) {
        config.insert(u"token"_s, token);
    }
    const auto result = sendAndWait(u"ntfy"_s, config, notification);
    QVERIFY(result);
    QCOMPARE(result->status, 200);

    QCOMPARE(m_upstream->received.size(), 1);
    const Received &r = m_upstream->received.constFirst();
    QCOMPARE(r.method, "POST"_ba);
    QCOMPARE(r.path, "/ntfy/alerts"_ba);
    QCOMPARE(r.body, body);
    for (const QString &header : std::as_const(headers)) {
        const qsizetype colon = header.indexOf(u':');
        const QByteArray name = header.left(colon).toLatin1();
        QCOMPARE(r.header(name), header.mid(colon + 2).toUtf8());
    }
    for (const QString &name : std::as_const(absent)) {
        QVERIFY2(!r.header(name.toLatin1()), qPrintable(name));
    }
}

void TestNotifier::gotifyPriority_data()
{
    QTest::addColumn<int>("priority");
    QTest::addColumn<int>("gotifyPriority");

    QTest::addRow("1") << 1 << 1;
    QTest::addRow("2") << 2 << 3;
    QTest::addRow("3") << 3 << 5;
    QTest::addRow("4") << 4 << 8;
    QTest::addRow("5") << 5 << 10;
}

void TestNotifier::gotifyPriority()
{
    QFETCH(int, priority);
    QFETCH(int, gotifyPriority);

    Notification n = makeNotification(Notification::Type::Plain, u"Title"_s);
    n.priority = priority;
    const QVariantMap config{{u"url"_s, m_upstream->url(u"/gotify"_s)}, {u"token"_s, u"app-s3cr3t"_s}};
    const auto result = sendAndWait(u"gotify"_s, config, n);
    QVERIFY(result);
    QCOMPARE(result->status, 200);

    const Received &r = m_upstream->received.constFirst();
    QCOMPARE(r.method, "POST"_ba);
    QCOMPARE(r.path, "/gotify/message"_ba);
    QCOMPARE(r.header("X-Gotify-Key"), "app-s3cr3t"_ba);
    QCOMPARE(r.header("Content-Type"), "application/json"_ba);
    const QJsonObject expected{
        {"title"_L1, u"Title"_s},
        {"message"_L1, u"Backup done"_s},
        {"priority"_L1, gotifyPriority},
    };
    QCOMPARE(r.json(), expected);
}

void TestNotifier::gotifyExtras_data()
{
    QTest::addColumn<Notification>("notification");
    QTest::addColumn<QByteArray>("json");

    QTest::addRow("plain, no click") << makeNotification() << R"({"message":"Backup done","priority":5})"_ba;
    QTest::addRow("markdown") << makeNotification(Notification::Type::Markdown, {}, u"**x**"_s)
                              << R"({"extras":{"client::display":{"contentType":"text/markdown"}},)"
                                 R"("message":"**x**","priority":5})"_ba;
    Notification click = makeNotification(Notification::Type::Markdown);
    click.click = u"https://example.org/c"_s;
    QTest::addRow("markdown and click")
        << click
        << R"({"extras":{"client::display":{"contentType":"text/markdown"},)"
           R"("client::notification":{"click":{"url":"https://example.org/c"}}},"message":"Backup done","priority":5})"_ba;
    QTest::addRow("html as plain text") << makeNotification(Notification::Type::Html, {}, u"<p>x</p>"_s)
                                        << R"({"message":"x","priority":5})"_ba;
}

void TestNotifier::gotifyExtras()
{
    QFETCH(Notification, notification);
    QFETCH(QByteArray, json);

    const QVariantMap config{{u"url"_s, m_upstream->url()}, {u"token"_s, u"app-s3cr3t"_s}};
    const auto result = sendAndWait(u"gotify"_s, config, notification);
    QVERIFY(result);
    QCOMPARE(result->status, 200);
    QCOMPARE(m_upstream->received.constFirst().path, "/message"_ba);
    QCOMPARE(QJsonDocument(m_upstream->received.constFirst().json()).toJson(QJsonDocument::Compact), json);
}

void TestNotifier::webhook()
{
    Notification n = makeNotification(Notification::Type::Markdown, u"T"_s);
    n.tags = {u"a"_s};
    const QVariantMap config{
        {u"url"_s, m_upstream->url(u"/hook?key=1"_s)},
        {u"headers"_s, QVariantMap{{u"X-Api-Key"_s, u"hk-s3cr3t"_s}, {u"X-Source"_s, u"patchwork"_s}}},
    };
    const auto result = sendAndWait(u"webhook"_s, config, n);
    QVERIFY(result);
    QCOMPARE(result->status, 200);

    const Received &r = m_upstream->received.constFirst();
    QCOMPARE(r.method, "POST"_ba);
    QCOMPARE(r.path, "/hook"_ba);
    QCOMPARE(r.query, "key=1"_ba);
    QCOMPARE(r.header("Content-Type"), "application/json"_ba);
    QCOMPARE(r.header("X-Api-Key"), "hk-s3cr3t"_ba);
    QCOMPARE(r.header("X-Source"), "patchwork"_ba);
    // The JSON message of PROTOCOL §10, its time from the clock.
    n.time = CLOCK_UNIX_SECONDS;
    QCOMPARE(r.json(), n.toJson(u"alice"_s));
    QCOMPARE(r.json().value("time"_L1).toInteger(), CLOCK_UNIX_SECONDS);

    // A notification that already has a time keeps it.
    n.time = 42;
    const auto second = sendAndWait(u"webhook"_s, config, n);
    QVERIFY(second);
    QCOMPARE(second->status, 200);
    QCOMPARE(m_upstream->received.at(1).json().value("time"_L1).toInteger(), 42);
}

void TestNotifier::channel_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("channelPath");

    QTest::addRow("leading slash") << u"/desk/notify"_s << u"desk/notify"_s;
    QTest::addRow("relative") << u"desk"_s << u"desk"_s;
    QTest::addRow("double slash") << u"//desk/x"_s << u"desk/x"_s;
}

void TestNotifier::channel()
{
    QFETCH(QString, path);
    QFETCH(QString, channelPath);

    QStringList paths;
    QList<QByteArray> bodies;
    m_notifier->setChannelPublisher(
        [&](const QString &, const QString &p, const QByteArray &json, const Notifier::PublishDone &done) {
            paths.append(p);
            bodies.append(json);
            done(true, {}); // at once: the result must still come from the event loop
        });
    Notification n = makeNotification(Notification::Type::Plain, u"Title"_s);
    n.click = u"https://example.org"_s;
    const auto result = sendAndWait(u"channel"_s, {{u"path"_s, path}}, n);
    QVERIFY(result);
    QCOMPARE(result->status, 200);
    QCOMPARE(paths, QStringList{channelPath});
    n.time = CLOCK_UNIX_SECONDS;
    QCOMPARE(QJsonDocument::fromJson(bodies.constFirst()).object(), n.toJson(u"alice"_s));
    QVERIFY(m_upstream->received.isEmpty());
}

void TestNotifier::channelFailure()
{
    m_notifier->setChannelPublisher(
        [](const QString &, const QString &, const QByteArray &, const Notifier::PublishDone &done) {
            QTimer::singleShot(0, [done] { done(false, u"channel full\nsecond line"_s); });
        });
    const auto result = sendAndWait(u"channel"_s, {{u"path"_s, u"desk"_s}}, makeNotification());
    QVERIFY(result);
    QCOMPARE(result->status, 502);
    QCOMPARE(result->message, u"Failed to send notification: channel full second line"_s);
}

void TestNotifier::channelTimeout()
{
    Notifier::PublishDone pending;
    m_notifier->setChannelPublisher(
        [&](const QString &, const QString &, const QByteArray &, const Notifier::PublishDone &done) {
            pending = done;
        });
    QCOMPARE(m_notifier->timeoutMs(), 10'000);
    QSignalSpy spy(m_notifier.get(), &Notifier::finished);
    m_notifier->send(u"alice"_s, u"channel"_s, {{u"path"_s, u"desk"_s}}, makeNotification());
    QVERIFY(pending);
    m_clock->advance(9'999);
    QCoreApplication::processEvents();
    QCOMPARE(spy.size(), 0);
    m_clock->advance(1);
    QCOMPARE(spy.size(), 1);
    QCOMPARE(spy.at(0).at(1).toInt(), 502);
    QCOMPARE(spy.at(0).at(2).toString(), u"Failed to send notification: timed out after 10 s"_s);

    // A late answer changes nothing.
    pending(true, {});
    QCoreApplication::processEvents();
    QCOMPARE(spy.size(), 1);
    QCOMPARE(m_notifier->pendingCount(), 0);
}

void TestNotifier::channelWithoutPublisher()
{
    const auto result = sendAndWait(u"channel"_s, {{u"path"_s, u"desk"_s}}, makeNotification());
    QVERIFY(result);
    QCOMPARE(result->status, 503);
    QCOMPARE(result->message, u"Notification backend not configured: channel publishing is not available"_s);
}

void TestNotifier::upstreamError_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("message");

    QTest::addRow("500 echoing the token")
        << 500 << R"({"errcode":"M_UNKNOWN","error":"bad token mx-s3cr3t-token"})"_ba
        << u"Failed to send notification: upstream answered HTTP 500 Internal Server Error (M_UNKNOWN: bad token ***)"_s;
    QTest::addRow("403 with a Matrix error")
        << 403 << R"({"errcode":"M_FORBIDDEN","error":"not in room"})"_ba
        << u"Failed to send notification: upstream answered HTTP 403 Forbidden (M_FORBIDDEN: not in room)"_s;
    QTest::addRow("404 without JSON") << 404 << "nope"_ba
                                      << u"Failed to send notification: upstream answered HTTP 404 Not Found"_s;
    QTest::addRow("oversized answer") << 200 << QByteArray(3 * Notifier::MaxResponseBytes, 'x')
                                      << u"Failed to send notification: the upstream response is too large"_s;
    QTest::addRow("302 is not followed")
        << 302 << QByteArray()
        << u"Failed to send notification: upstream answered HTTP 302 Found (redirects are not followed)"_s;
}

void TestNotifier::upstreamError()
{
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    QFETCH(QString, message);

    m_upstream->status = status;
    m_upstream->responseBody = body;
    if (status == 302) {
        m_upstream->responseHeaders = {{"Location"_ba, m_upstream->url(u"/elsewhere"_s).toUtf8()}};
    }
    const auto result = sendAndWait(u"matrix"_s, matrixConfig(), makeNotification());
    QVERIFY(result);
    QCOMPARE(result->status, 502);
    QCOMPARE(result->message, message);
    QCOMPARE(m_upstream->received.size(), 1);
}

void TestNotifier::urlPasswordIsScrubbed()
{
    m_upstream->status = 400;
    m_upstream->responseBody = R"({"error":"bad credentials pw-s3cr3t"})"_ba;
    QString url = m_upstream->url(u"/hook"_s);
    url.replace(u"http://"_s, u"http://user:pw-s3cr3t@"_s);
    const auto result = sendAndWait(u"webhook"_s, {{u"url"_s, url}}, makeNotification());
    QVERIFY(result);
    QCOMPARE(result->status, 502);
    QCOMPARE(result->message,
             u"Failed to send notification: upstream answered HTTP 400 Bad Request (bad credentials ***)"_s);
}

void TestNotifier::unreachableUpstream()
{
    QTcpServer closed;
    QVERIFY(closed.listen(QHostAddress::LocalHost, 0));
    const quint16 port = closed.serverPort();
    closed.close();

    QVariantMap config = matrixConfig();
    config[u"endpoint"_s] = u"http://127.0.0.1:%1"_s.arg(port);
    const auto result = sendAndWait(u"matrix"_s, config, makeNotification());
    QVERIFY(result);
    QCOMPARE(result->status, 502);
    QCOMPARE(result->message, u"Failed to send notification: connection refused"_s);
}

void TestNotifier::slowUpstreamTimesOut()
{
    m_upstream->hold = true;
    m_notifier->setTimeoutMs(2'000);
    QSignalSpy spy(m_notifier.get(), &Notifier::finished);
    std::optional<Notifier::Result> result;
    m_notifier->send(u"alice"_s,
                     u"gotify"_s,
                     {{u"url"_s, m_upstream->url()}, {u"token"_s, u"app-s3cr3t"_s}},
                     makeNotification(),
                     [&](const Notifier::Result &r) { result = r; });
    QTRY_COMPARE_WITH_TIMEOUT(m_upstream->received.size(), 1, Patchwork::Test::timeoutMs(10'000));
    m_clock->advance(1'999);
    QCoreApplication::processEvents();
    QCOMPARE(spy.size(), 0);
    QCOMPARE(m_notifier->pendingCount(), 1);

    m_clock->advance(1);
    QCOMPARE(spy.size(), 1);
    QVERIFY(result);
    QCOMPARE(result->status, 502);
    QCOMPARE(result->message, u"Failed to send notification: timed out after 2 s"_s);
    QCOMPARE(m_notifier->pendingCount(), 0);
    QCoreApplication::processEvents();
    QCOMPARE(spy.size(), 1);

    m_notifier->setTimeoutMs(1'500);
    QCOMPARE(m_notifier->timeoutMs(), 1'500);
    m_notifier->send(
        u"alice"_s, u"gotify"_s, {{u"url"_s, m_upstream->url()}, {u"token"_s, u"app-s3cr3t"_s}}, makeNotification());
    QTRY_COMPARE_WITH_TIMEOUT(m_upstream->received.size(), 2, Patchwork::Test::timeoutMs(10'000));
    m_clock->advance(1'500);
    QCOMPARE(spy.size(), 2);
    QCOMPARE(spy.at(1).at(2).toString(), u"Failed to send notification: timed out after 1500 ms"_s);
}

void TestNotifier::invalidConfig_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QVariantMap>("config");
    QTest::addColumn<QString>("what");
    QTest::addColumn<bool>("checkPasses"); // checkConfig() cannot know the notification's room

    const QVariantMap matrix{
        {u"access_token"_s, MATRIX_TOKEN},
        {u"user"_s, u"@bot:example.org"_s},
        {u"room_id"_s, u"!room:example.org"_s},
    };
    const auto without = [](QVariantMap map, const QString &key) {
        map.remove(key);
        return map;
    };
    const auto with = [](QVariantMap map, const QString &key, const QVariant &value) {
        map.insert(key, value);
        return map;
    };
    QTest::addRow("matrix: no access_token")
        << u"matrix"_s << without(matrix, u"access_token"_s) << u"access_token is missing"_s << false;
    QTest::addRow("matrix: empty access_token")
        << u"matrix"_s << with(matrix, u"access_token"_s, QString()) << u"access_token is missing"_s << false;
    QTest::addRow("matrix: access_token is a list")
        << u"matrix"_s << with(matrix, u"access_token"_s, QVariantList{u"a-s3cr3t"_s})
        << u"access_token must be a string"_s << false;
    QTest::addRow("matrix: access_token with a line break")
        << u"matrix"_s << with(matrix, u"access_token"_s, u"a-s3cr3t\nX: y"_s)
        << u"access_token contains invalid characters"_s << false;
    QTest::addRow("matrix: no user") << u"matrix"_s << without(matrix, u"user"_s) << u"user is missing"_s << false;
    QTest::addRow("matrix: no room") << u"matrix"_s << without(matrix, u"room_id"_s)
                                     << u"room_id is missing and the notification names no room"_s << true;
    QTest::addRow("matrix: ftp endpoint") << u"matrix"_s << with(matrix, u"endpoint"_s, u"ftp://example.org"_s)
                                          << u"endpoint must be an http or https URL"_s << false;
    QTest::addRow("matrix: endpoint with a secret") << u"matrix"_s << with(matrix, u"endpoint"_s, u"s3cr3t"_s)
                                                    << u"endpoint must be an http or https URL"_s << false;

    const QVariantMap ntfy{{u"url"_s, u"https://ntfy.example.org"_s}, {u"topic"_s, u"alerts"_s}};
    QTest::addRow("ntfy: no url") << u"ntfy"_s << without(ntfy, u"url"_s) << u"url is missing"_s << false;
    QTest::addRow("ntfy: no topic") << u"ntfy"_s << without(ntfy, u"topic"_s) << u"topic is missing"_s << false;
    QTest::addRow("ntfy: url without host")
        << u"ntfy"_s << with(ntfy, u"url"_s, u"https://"_s) << u"url must be an http or https URL"_s << false;
    QTest::addRow("ntfy: topic is a map")
        << u"ntfy"_s << with(ntfy, u"topic"_s, QVariantMap{{u"a"_s, 1}}) << u"topic must be a string"_s << false;

    const QVariantMap gotify{{u"url"_s, u"https://gotify.example.org"_s}, {u"token"_s, u"g-s3cr3t"_s}};
    QTest::addRow("gotify: no url") << u"gotify"_s << without(gotify, u"url"_s) << u"url is missing"_s << false;
    QTest::addRow("gotify: no token") << u"gotify"_s << without(gotify, u"token"_s) << u"token is missing"_s << false;

    const QVariantMap webhook{{u"url"_s, u"https://hooks.example.org/s3cr3t"_s}};
    QTest::addRow("webhook: no url") << u"webhook"_s << QVariantMap() << u"url is missing"_s << false;
    QTest::addRow("webhook: relative url")
        << u"webhook"_s << with(webhook, u"url"_s, u"/hook/s3cr3t"_s) << u"url must be an http or https URL"_s << false;
    QTest::addRow("webhook: headers not a map")
        << u"webhook"_s << with(webhook, u"headers"_s, QVariantList{u"X-A: s3cr3t"_s})
        << u"headers must be a map of header names to values"_s << false;
    QTest::addRow("webhook: bad header name")
        << u"webhook"_s << with(webhook, u"headers"_s, QVariantMap{{u"Bad Name"_s, u"s3cr3t"_s}})
        << u"headers: \"Bad Name\" is not a valid header name"_s << false;
    QTest::addRow("webhook: Host header")
        << u"webhook"_s << with(webhook, u"headers"_s, QVariantMap{{u"Host"_s, u"example.org"_s}})
        << u"headers: Host cannot be set"_s << false;
    QTest::addRow("webhook: header value with a line break")
        << u"webhook"_s << with(webhook, u"headers"_s, QVariantMap{{u"X-Key"_s, u"s3cr3t\r\nX-Evil: 1"_s}})
        << u"headers: the value of X-Key must be a one-line string"_s << false;

    QTest::addRow("channel: no path") << u"channel"_s << QVariantMap() << u"path is missing"_s << false;
    QTest::addRow("channel: only a slash")
        << u"channel"_s << QVariantMap{{u"path"_s, u"/"_s}} << u"path must name a channel"_s << false;
    QTest::addRow("channel: query") << u"channel"_s << QVariantMap{{u"path"_s, u"desk?pubsub=false"_s}}
                                    << u"path must not contain ?, # or control characters"_s << false;
    QTest::addRow("channel: dot segments") << u"channel"_s << QVariantMap{{u"path"_s, u"/../bob/desk"_s}}
                                           << u"path must not contain . or .. segments"_s << false;
    QTest::addRow("channel: admin area") << u"channel"_s << QVariantMap{{u"path"_s, u"/_/ntfy"_s}}
                                         << u"path must not be in the reserved _/ area"_s << false;

    QTest::addRow("unknown type") << u"email"_s << QVariantMap{{u"to"_s, u"s3cr3t@example.org"_s}}
                                  << u"unknown type (expected matrix, ntfy, gotify, webhook or channel)"_s << false;
}

void TestNotifier::invalidConfig()
{
    QFETCH(QString, type);
    QFETCH(QVariantMap, config);
    QFETCH(QString, what);
    QFETCH(bool, checkPasses);

    m_notifier->setChannelPublisher(
        [](const QString &, const QString &, const QByteArray &, const Notifier::PublishDone &done) {
            done(true, {});
        });
    const QString message = u"Invalid notification backend configuration: "_s + what;
    const auto result = sendAndWait(type, config, makeNotification());
    QVERIFY(result);
    QCOMPARE(result->status, 500);
    QCOMPARE(result->message, message);
    QVERIFY(m_upstream->received.isEmpty());

    const auto check = Notifier::checkConfig(type, config);
    QCOMPARE(check.has_value(), !checkPasses);
    if (check) {
        QCOMPARE(check->status, 500);
        QCOMPARE(check->message, message);
    }
}

void TestNotifier::noBackend()
{
    const auto result = sendAndWait(QString(), {}, makeNotification());
    QVERIFY(result);
    QCOMPARE(result->status, 503);
    QCOMPARE(result->message, u"Notification backend not configured"_s);

    const auto check = Notifier::checkConfig(u" "_s, {});
    QVERIFY(check);
    QCOMPARE(check->status, 503);
    QCOMPARE(check->message, u"Notification backend not configured"_s);
    QVERIFY(!Notifier::checkConfig(u"ntfy"_s, {{u"url"_s, u"https://ntfy.sh"_s}, {u"topic"_s, u"t"_s}}));
}

void TestNotifier::destroyedWhileSending()
{
    m_upstream->hold = true;
    bool called = false;
    m_notifier->send(
        u"alice"_s, u"matrix"_s, matrixConfig(), makeNotification(), [&](const Notifier::Result &) { called = true; });
    QTRY_COMPARE_WITH_TIMEOUT(m_upstream->received.size(), 1, Patchwork::Test::timeoutMs(10'000));
    m_notifier.reset();
    for (int i = 0; i < 10; ++i) {
        QCoreApplication::processEvents();
    }
    QVERIFY(!called);
    m_clock->advance(60'000);
    QVERIFY(!called);
}

void TestNotifier::injectedNetworkManager()
{
    QNetworkAccessManager network;
    QSignalSpy used(&network, &QNetworkAccessManager::finished);
    m_notifier = std::make_unique<Notifier>(m_clock.get(), &network);
    const auto result = sendAndWait(u"webhook"_s, {{u"url"_s, m_upstream->url(u"/hook"_s)}}, makeNotification());
    QVERIFY(result);
    QCOMPARE(result->status, 200);
    QCOMPARE(m_upstream->received.size(), 1);
    QCOMPARE(used.size(), 1);
    m_notifier.reset(); // must not take the manager with it (a double delete would crash here)
}

namespace
{
QStringList *capturedLog = nullptr;

void logToList(QtMsgType, const QMessageLogContext &context, const QString &message)
{
    if (capturedLog) {
        capturedLog->append(QString::fromLatin1(context.category ? context.category : "") + u": "_s + message);
    }
}
} // namespace

void TestNotifier::logsNeverContainSecrets()
{
    QStringList log;
    capturedLog = &log;
    QLoggingCategory::setFilterRules(u"patchwork.notify.debug=true"_s);
    const QtMessageHandler previous = qInstallMessageHandler(logToList);
    const auto restore = qScopeGuard([previous] {
        qInstallMessageHandler(previous);
        QLoggingCategory::setFilterRules(QString());
        capturedLog = nullptr;
    });

    const auto expectStatus = [this](const QString &type, const QVariantMap &config, int status) {
        const auto result = sendAndWait(type, config, makeNotification());
        return result && result->status == status;
    };
    QVERIFY(expectStatus(u"matrix"_s, matrixConfig(), 200));
    m_upstream->status = 401;
    m_upstream->responseBody = R"({"errcode":"M_UNKNOWN_TOKEN","error":"Unknown token mx-s3cr3t-token"})"_ba;
    QVERIFY(expectStatus(u"matrix"_s, matrixConfig(), 502));
    m_upstream->status = 500;
    m_upstream->responseBody = "{}"_ba;
    QVERIFY(expectStatus(u"webhook"_s,
                         {{u"url"_s, m_upstream->url(u"/s3cr3t-path"_s)},
                          {u"headers"_s, QVariantMap{{u"Authorization"_s, u"Bearer hk-s3cr3t"_s}}}},
                         502));
    QVERIFY(expectStatus(u"ntfy"_s, {{u"url"_s, u"https://x"_s}, {u"token"_s, u"tk-s3cr3t"_s}}, 500));

    QVERIFY2(log.size() >= 4, qPrintable(log.join(u'\n')));
    QVERIFY2(log.filter(u"patchwork.notify"_s).size() >= 4, qPrintable(log.join(u'\n')));
    QVERIFY2(log.filter(u"failed: 502"_s).size() >= 2, qPrintable(log.join(u'\n')));
    for (const QString &line : std::as_const(log)) {
        QVERIFY2(!line.contains(SECRET_MARK), qPrintable(line));
    }
}

QTEST_GUILESS_MAIN(TestNotifier)
#include "tst_notifier.moc"
