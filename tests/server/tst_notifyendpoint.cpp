// SPDX-License-Identifier: MIT
// /u/<user>/_/ntfy over loopback (PROTOCOL §10): method, ACL, input, backends (a recording webhook upstream
// and the channel backend into the relay itself), and every status.
#include <QAbstractHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include "accessfixture.h"

using namespace Patchwork;
using namespace Patchwork::Test;
using namespace Qt::StringLiterals;

namespace
{

// A webhook target on 127.0.0.1 that records what it receives and answers `status`.
class RecordingUpstream final : public QAbstractHttpServer
{
public:
    using QAbstractHttpServer::QAbstractHttpServer;

    quint16 start()
    {
        return listen(QHostAddress::LocalHost, 0);
    }

    int status = 200;
    QList<QByteArray> bodies;
    QList<QByteArray> paths;
    QList<QByteArray> contentTypes;

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override
    {
        bodies.append(request.body());
        paths.append(request.url().path().toUtf8());
        contentTypes.append(request.value("Content-Type"_ba));
        QHttpServerResponder responder = makeResponder(request, socket);
        responder.write(QByteArray("{}"), "application/json"_ba, QHttpServerResponder::StatusCode(status));
        return true;
    }
    void missingHandler(const QHttpServerRequest &, QTcpSocket *) override
    {
    }
};

} // namespace

class TestNotifyEndpoint final : public QObject
{
    Q_OBJECT

private:
    QJsonObject lastJson() const
    {
        return QJsonDocument::fromJson(m_upstream->bodies.constLast()).object();
    }

    SystemClock m_clock;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<DirectoryConfigSource> m_configs;
    std::unique_ptr<RecordingUpstream> m_upstream;
    std::unique_ptr<RecordingUpstream> m_failing;
    std::unique_ptr<AccessFixture> m_f;

private Q_SLOTS:
    void init()
    {
        m_upstream = std::make_unique<RecordingUpstream>();
        m_failing = std::make_unique<RecordingUpstream>();
        m_failing->status = 500;
        const QByteArray okUrl = "http://127.0.0.1:" + QByteArray::number(m_upstream->start()) + "/hook";
        const QByteArray failUrl = "http://127.0.0.1:" + QByteArray::number(m_failing->start()) + "/hook";
        m_dir = std::make_unique<QTemporaryDir>();
        const QString dir = m_dir->path();
        writeFile(dir + u"/alice/config.yaml"_s,
                  "tokens:\n"
                  "  alice-token: {POST: [\"/_/ntfy\"], GET: [\"/_/ntfy\"]}\n"
                  "  reader: {GET: [\"/other\"]}\n"
                  "ntfy: {type: webhook, config: {url: \""
                      + okUrl + "\"}}\n");
        writeFile(dir + u"/bob/config.yaml"_s,
                  "tokens:\n"
                  "  bob-token: {POST: [\"/_/ntfy\"], GET: [\"/desk\"]}\n"
                  "ntfy: {type: channel, config: {path: /desk}}\n");
        writeFile(dir + u"/carol/config.yaml"_s, "tokens:\n  public: {POST: [\"/_/ntfy\"]}\n");
        writeFile(dir + u"/dave/config.yaml"_s,
                  "tokens:\n"
                  "  public: {POST: [\"/_/ntfy\"]}\n"
                  "ntfy: {type: webhook, config: {url: \""
                      + failUrl + "\"}}\n");
        writeFile(dir + u"/erin/config.yaml"_s,
                  "tokens:\n  public: {POST: [\"/_/ntfy\"]}\nntfy: {type: gotify, config: {}}\n");
        m_configs = std::make_unique<DirectoryConfigSource>(dir);
        m_f = std::make_unique<AccessFixture>(&m_clock, unlimitedSettings(), m_configs.get());
        QVERIFY(m_f->port != 0);
    }
    void cleanup()
    {
        m_f.reset();
        m_configs.reset();
        m_dir.reset();
        m_upstream.reset();
        m_failing.reset();
    }

    void plainTextPost()
    {
        const TestResponse r = m_f->send("POST",
                                         "/u/alice/_/ntfy",
                                         "Backup done",
                                         {{"Authorization", "Bearer alice-token"}, {"Content-Type", "text/plain"}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
        QCOMPARE(r.body, QByteArray("{\"status\":\"sent\",\"type\":\"plain\"}\n"));
        QCOMPARE(m_upstream->bodies.size(), 1);
        QCOMPARE(m_upstream->paths.constLast(), QByteArray("/hook"));
        QVERIFY(m_upstream->contentTypes.constLast().startsWith("application/json"));
        const QJsonObject json = lastJson();
        QCOMPARE(json.value(u"user"_s).toString(), u"alice"_s);
        QCOMPARE(json.value(u"message"_s).toString(), u"Backup done"_s);
        QCOMPARE(json.value(u"priority"_s).toInt(), 3);
        QVERIFY(json.value(u"time"_s).toInteger() > 1'600'000'000);
    }

    void formAndJsonAndQuery()
    {
        // curl -d sends a form content type: without known fields the whole body is the message.
        TestResponse r = m_f->send("POST",
                                   "/u/alice/_/ntfy?token=alice-token",
                                   "disk full",
                                   {{"Content-Type", "application/x-www-form-urlencoded"}});
        QCOMPARE(r.status, 200);
        QCOMPARE(lastJson().value(u"message"_s).toString(), u"disk full"_s);

        r = m_f->send("POST",
                      "/u/alice/_/ntfy",
                      R"({"title":"Build","body":"**ok**","type":"markdown","priority":5,"tags":"ci,green"})",
                      {{"Authorization", "token alice-token"}, {"Content-Type", "application/json"}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, QByteArray("{\"status\":\"sent\",\"type\":\"markdown\"}\n"));
        QJsonObject json = lastJson();
        QCOMPARE(json.value(u"title"_s).toString(), u"Build"_s);
        QCOMPARE(json.value(u"message"_s).toString(), u"**ok**"_s);
        QCOMPARE(json.value(u"priority"_s).toInt(), 5);
        QCOMPARE(json.value(u"tags"_s).toArray().size(), 2);

        r = m_f->get("/u/alice/_/ntfy?message=from%20a%20link&title=T", {{"Authorization", "alice-token"}});
        QCOMPARE(r.status, 200);
        json = lastJson();
        QCOMPARE(json.value(u"message"_s).toString(), u"from a link"_s);
        QCOMPARE(json.value(u"title"_s).toString(), u"T"_s);
    }

    void statuses_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<HeaderList>("headers");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("text");
        const HeaderList alice{{"Authorization", "Bearer alice-token"}};
        const HeaderList json{{"Authorization", "Bearer alice-token"}, {"Content-Type", "application/json"}};
        QTest::addRow("method before ACL") << QByteArray("PUT") << QByteArray("/u/alice/_/ntfy") << QByteArray("x")
                                           << HeaderList{} << 405 << QByteArray("Method not allowed\n");
        QTest::addRow("no token") << QByteArray("POST") << QByteArray("/u/alice/_/ntfy") << QByteArray("x")
                                  << HeaderList{} << 401 << QByteArray("Access denied: token not found\n");
        QTest::addRow("unknown token") << QByteArray("POST") << QByteArray("/u/alice/_/ntfy") << QByteArray("x")
                                       << HeaderList{{"Authorization", "Bearer nope"}} << 401
                                       << QByteArray("Access denied: token not found\n");
        QTest::addRow("token without the pattern") << QByteArray("POST") << QByteArray("/u/alice/_/ntfy")
                                                   << QByteArray("x") << HeaderList{{"Authorization", "Bearer reader"}}
                                                   << 403 << QByteArray("Access denied: no patterns found\n");
        QTest::addRow("empty message") << QByteArray("POST") << QByteArray("/u/alice/_/ntfy") << QByteArray() << alice
                                       << 400 << QByteArray("Content is required\n");
        QTest::addRow("invalid json") << QByteArray("POST") << QByteArray("/u/alice/_/ntfy") << QByteArray("{oops")
                                      << json << 400 << QByteArray("Invalid JSON\n");
        QTest::addRow("no backend") << QByteArray("POST") << QByteArray("/u/carol/_/ntfy") << QByteArray("hi")
                                    << HeaderList{} << 503 << QByteArray("Notification backend not configured\n");
        QTest::addRow("backend fails") << QByteArray("POST") << QByteArray("/u/dave/_/ntfy") << QByteArray("hi")
                                       << HeaderList{} << 502 << QByteArray("Failed to send notification");
        QTest::addRow("bad backend config")
            << QByteArray("POST") << QByteArray("/u/erin/_/ntfy") << QByteArray("hi") << HeaderList{} << 500
            << QByteArray("Invalid notification backend configuration");
        QTest::addRow("no such user") << QByteArray("POST") << QByteArray("/u/zed/_/ntfy") << QByteArray("hi")
                                      << HeaderList{} << 401 << QByteArray("Access denied: token not found\n");
    }
    void statuses()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        QFETCH(QByteArray, body);
        QFETCH(HeaderList, headers);
        QFETCH(int, status);
        QFETCH(QByteArray, text);
        const TestResponse r = m_f->send(method, target, body, headers);
        QCOMPARE(r.status, status);
        QVERIFY2(r.body.startsWith(text), r.body.constData());
        QCOMPARE(r.body.count('\n'), 1);
        QVERIFY(m_upstream->bodies.isEmpty());
    }

    // The channel backend publishes the JSON message on the user's own pubsub channel (what the tray reads).
    void channelBackend()
    {
        TestHttpClient subscriber(m_f->port);
        subscriber.get("/u/bob/desk", {{"Authorization", "Bearer bob-token"}});
        QVERIFY(m_f->waitWaiting(Waiter::Role::Consumer, 1));
        const TestResponse r = m_f->send("POST",
                                         "/u/bob/_/ntfy",
                                         R"({"title":"Deploy","message":"v2 is live","click":"https://example.org"})",
                                         {{"Authorization", "Bearer bob-token"}, {"Content-Type", "application/json"}});
        QCOMPARE(r.status, 200);
        QVERIFY(subscriber.waitForResponse());
        const TestResponse got = subscriber.takeResponse();
        QCOMPARE(got.status, 200);
        QCOMPARE(got.header("Content-Type"), QByteArray("application/json"));
        QVERIFY(!got.header("Patch-Id").isEmpty());
        const QJsonObject json = QJsonDocument::fromJson(got.body).object();
        QCOMPARE(json.value(u"user"_s).toString(), u"bob"_s);
        QCOMPARE(json.value(u"title"_s).toString(), u"Deploy"_s);
        QCOMPARE(json.value(u"message"_s).toString(), u"v2 is live"_s);
        QCOMPARE(json.value(u"click"_s).toString(), u"https://example.org"_s);
    }

    // setAccessGate() again replaces the endpoint while a configuration fetch (Forgejo) is pending for
    // it: the fetch's answer must not reach the old endpoint, and the client still gets an answer.
    void gateReplacedWhileLookupPending()
    {
        m_f.reset();
        DeferredConfigSource deferred;
        m_f = std::make_unique<AccessFixture>(&m_clock, unlimitedSettings(), &deferred);
        TestHttpClient client(m_f->port);
        client.post("/u/alice/_/ntfy", "hello", {{"Authorization", "Bearer alice-token"}});
        QTRY_COMPARE_WITH_TIMEOUT(deferred.pending(), 2, timeoutMs(5000)); // the check and the retry
        m_f->relay->setAccessGate(m_f->gate.get());
        auto config = UserConfig::parse("tokens:\n  alice-token: {POST: [\"/_/ntfy\"]}\n", u"alice.yaml"_s);
        QVERIFY(config);
        deferred.answer(u"alice"_s, ConfigLookup::found(config));
        QVERIFY(client.waitForResponse(timeoutMs(5000)));
        const TestResponse r = client.takeResponse();
        QCOMPARE(r.status, 503);
        QCOMPARE(r.body, QByteArray("Notification backend not configured\n"));
        m_f.reset(); // before the source
    }
};

QTEST_GUILESS_MAIN(TestNotifyEndpoint)
#include "tst_notifyendpoint.moc"
