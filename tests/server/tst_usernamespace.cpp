// SPDX-License-Identifier: MIT
// User namespaces and the admin endpoint over loopback (PROTOCOL §8, §9): tokens, ACL outcomes,
// config files (hashed tokens, expiry, broken files, hot reload) and asynchronous config sources.
#include <QCryptographicHash>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include "access/userconfig.h"
#include "accessfixture.h"
#include "manualclock.h"

using namespace Patchwork;
using namespace Patchwork::Server;
using namespace Patchwork::Test;
using namespace Qt::StringLiterals;

namespace
{

QByteArray sha256Hex(QByteArrayView text)
{
    return QCryptographicHash::hash(text, QCryptographicHash::Sha256).toHex();
}

// 2026-06-01T12:00:00Z: the gate's wall clock in these tests.
constexpr qint64 NOW_MS = 1'780'315'200'000;

QByteArray aliceConfig(QByteArrayView plainPost = "[\"/projects/**\"]")
{
    return "# alice's tokens\n"
           "tokens:\n"
           "  \"plain-token\":\n"
           "    GET: [\"/projects/**\", \"!/projects/secret/*\"]\n"
           "    POST: "
           + plainPost.toByteArray()
           + "\n"
             "    PUT: []\n"
             "    PATCH: [\"/req/*\"]\n"
             "  \"sha256:"
           + sha256Hex("hashed-token")
           + "\":\n"
             "    GET: [\"/hashed/*\"]\n"
             "    POST: [\"/hashed/*\", \"/res/*\"]\n"
             "    PUT: [\"/res/*\"]\n"
             "    DELETE: [\"/req/api/*\"]\n"
             "  \"expiring-token\":\n"
             "    GET: [\"/projects/*\"]\n"
             "    expires_at: 2026-06-01T13:00:00Z\n"
             "  \"reader-token\":\n"
             "    GET: [\"*\"]\n"
             "  \"admin-token\":\n"
             "    is_admin: true\n"
             "    GET: [\"*\"]\n"
             "    DELETE: [\"*\"]\n"
             "  \"expired-admin\":\n"
             "    is_admin: true\n"
             "    GET: [\"*\"]\n"
             "    expires_at: 2000-01-01T00:00:00Z\n"
             "  public:\n"
             "    GET: [\"/pub/*\"]\n"
             "unknown_key: kept and ignored\n";
}

HeaderList bearer(const QByteArray &token)
{
    return {{"Authorization", "Bearer " + token}};
}

} // namespace

class TestUserNamespace final : public QObject
{
    Q_OBJECT

private:
    QString configPath(const QString &user) const
    {
        return m_dir->path() + u'/' + user + u"/config.yaml"_s;
    }
    void start()
    {
        m_configs = std::make_unique<DirectoryConfigSource>(m_dir->path());
        m_f = std::make_unique<AccessFixture>(&m_clock, unlimitedSettings(), m_configs.get());
        QVERIFY(m_f->port != 0);
    }

    ManualClock m_clock;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<DirectoryConfigSource> m_configs;
    std::unique_ptr<AccessFixture> m_f;

private Q_SLOTS:
    void init()
    {
        QTest::failOnWarning(QRegularExpression(u".*"_s));
        m_clock.setUnixMs(NOW_MS);
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        writeFile(configPath(u"alice"_s), aliceConfig());
        QDir().mkpath(m_dir->path() + u"/nobody"_s); // a user directory without a config file
        start();
    }
    void cleanup()
    {
        m_f.reset();
        m_configs.reset();
        m_dir.reset();
    }

    // PROTOCOL §8 "Outcomes" and "Which list", each with its exact status, text and header.
    void outcomes_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<HeaderList>("headers");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body"); // checked when not empty

        const HeaderList none;
        const QByteArray notFound = "Access denied: token not found\n";
        const QByteArray noMatch = "Access denied: token does not match patterns\n";
        const QByteArray noPatterns = "Access denied: no patterns found\n";
        QTest::addRow("implicit public allowed")
            << QByteArray("GET") << QByteArray("/u/alice/pub/x?timeout=0.1") << none << 204 << QByteArray();
        QTest::addRow("implicit public no match")
            << QByteArray("GET") << QByteArray("/u/alice/projects/a") << none << 401 << noMatch;
        QTest::addRow("implicit public no list")
            << QByteArray("POST") << QByteArray("/u/alice/pub/x") << none << 401 << noPatterns;
        QTest::addRow("unknown token") << QByteArray("GET") << QByteArray("/u/alice/projects/a") << bearer("nope")
                                       << 401 << notFound;
        QTest::addRow("unknown token never falls back to public")
            << QByteArray("GET") << QByteArray("/u/alice/pub/x") << bearer("nope") << 401 << notFound;
        QTest::addRow("user without a config")
            << QByteArray("GET") << QByteArray("/u/bob/x") << bearer("plain-token") << 401 << notFound;
        QTest::addRow("user directory without a config")
            << QByteArray("GET") << QByteArray("/u/nobody/x") << none << 401 << notFound;
        QTest::addRow("expired token") << QByteArray("GET") << QByteArray("/u/alice/x") << bearer("expired-admin")
                                       << 401 << QByteArray("Access denied: token expired\n");
        QTest::addRow("empty list") << QByteArray("PUT") << QByteArray("/u/alice/projects/a") << bearer("plain-token")
                                    << 403 << noPatterns;
        QTest::addRow("absent list") << QByteArray("DELETE") << QByteArray("/u/alice/projects/a")
                                     << bearer("plain-token") << 403 << noPatterns;
        QTest::addRow("negated pattern") << QByteArray("GET") << QByteArray("/u/alice/projects/secret/x")
                                         << bearer("plain-token") << 403 << noMatch;
        QTest::addRow("allowed") << QByteArray("GET") << QByteArray("/u/alice/projects/a/b?timeout=0.1")
                                 << bearer("plain-token") << 204 << QByteArray();
        QTest::addRow("explicit public is an ordinary token")
            << QByteArray("GET") << QByteArray("/u/alice/projects/a?token=public") << none << 403 << noMatch;
        QTest::addRow("hashed token") << QByteArray("GET") << QByteArray("/u/alice/hashed/x?timeout=0.1")
                                      << bearer("hashed-token") << 204 << QByteArray();
        QTest::addRow("the hash is not the token") << QByteArray("GET") << QByteArray("/u/alice/hashed/x")
                                                   << bearer("sha256:" + sha256Hex("hashed-token")) << 401 << notFound;
        QTest::addRow("GET ?body= needs POST")
            << QByteArray("GET") << QByteArray("/u/alice/x?body=hi") << bearer("reader-token") << 403 << noPatterns;
        QTest::addRow("GET ?body= with POST") << QByteArray("GET") << QByteArray("/u/alice/projects/x?pubsub=1&body=hi")
                                              << bearer("plain-token") << 200 << QByteArray();
        QTest::addRow("requester DELETE list") << QByteArray("DELETE") << QByteArray("/u/alice/req/api/7?timeout=0.1")
                                               << bearer("hashed-token") << 504 << QByteArray();
        QTest::addRow("requester PATCH list") << QByteArray("PATCH") << QByteArray("/u/alice/req/x?timeout=0.1")
                                              << bearer("plain-token") << 504 << QByteArray();
        QTest::addRow("requester GET list")
            << QByteArray("GET") << QByteArray("/u/alice/req/api/7") << bearer("hashed-token") << 403 << noMatch;
        QTest::addRow("GET responder uses GET")
            << QByteArray("GET") << QByteArray("/u/alice/res/api") << bearer("hashed-token") << 403 << noMatch;
        QTest::addRow("GET responder allowed") << QByteArray("GET") << QByteArray("/u/alice/res/api?timeout=0.1")
                                               << bearer("reader-token") << 204 << QByteArray();
        QTest::addRow("POST responder uses POST") << QByteArray("POST") << QByteArray("/u/alice/res/api?timeout=0.1")
                                                  << bearer("hashed-token") << 204 << QByteArray();
        QTest::addRow("PUT responder uses PUT") << QByteArray("PUT") << QByteArray("/u/alice/res/api?timeout=0.1")
                                                << bearer("hashed-token") << 204 << QByteArray();
        QTest::addRow("switch responder uses POST")
            << QByteArray("POST") << QByteArray("/u/alice/res/api?switch=1&timeout=0.1") << bearer("reader-token")
            << 403 << noPatterns;
        QTest::addRow("PUT reply uses POST") << QByteArray("PUT") << QByteArray("/u/alice/res/api?reply=nope")
                                             << bearer("hashed-token") << 404 << QByteArray("No pending request\n");
        QTest::addRow("reply without POST") << QByteArray("POST") << QByteArray("/u/alice/res/api?reply=nope")
                                            << bearer("reader-token") << 403 << noPatterns;
        QTest::addRow("OPTIONS needs no token")
            << QByteArray("OPTIONS") << QByteArray("/u/alice/projects/x") << none << 204 << QByteArray();
        // The token comes before the method (405) and the parameters (400): PROTOCOL §2.
        QTest::addRow("405 after the token") << QByteArray("DELETE") << QByteArray("/u/alice/x")
                                             << bearer("admin-token") << 405 << QByteArray("Method not allowed\n");
        QTest::addRow("405 only for the allowed")
            << QByteArray("DELETE") << QByteArray("/u/alice/x") << bearer("reader-token") << 403 << noPatterns;
        QTest::addRow("switch on GET after the token")
            << QByteArray("GET") << QByteArray("/u/alice/res/x?switch=1") << bearer("reader-token") << 405
            << QByteArray("Switch mode requires POST or PUT method\n");
        QTest::addRow("400 after the token") << QByteArray("GET") << QByteArray("/u/alice/x?timeout=abc")
                                             << bearer("reader-token") << 400 << QByteArray("Invalid timeout\n");
        QTest::addRow("400 for nobody") << QByteArray("GET") << QByteArray("/u/alice/x?timeout=abc") << none << 401
                                        << noMatch;
        // Routing (PROTOCOL §1).
        QTest::addRow("bad user name") << QByteArray("GET") << QByteArray("/u/-alice/x") << none << 404
                                       << QByteArray("Not found\n");
        QTest::addRow("dot user name") << QByteArray("GET") << QByteArray("/u/.alice/x") << none << 404 << QByteArray();
        QTest::addRow("encoded space") << QByteArray("GET") << QByteArray("/u/al%20ice/x") << none << 404
                                       << QByteArray();
        QTest::addRow("user name too long")
            << QByteArray("GET") << QByteArray("/u/" + QByteArray(65, 'a') + "/x") << none << 404 << QByteArray();
        QTest::addRow("longest user name")
            << QByteArray("GET") << QByteArray("/u/" + QByteArray(64, 'a') + "/x") << none << 401 << notFound;
        QTest::addRow("no path") << QByteArray("GET") << QByteArray("/u/alice") << none << 404 << QByteArray();
        QTest::addRow("empty path") << QByteArray("GET") << QByteArray("/u/alice/") << none << 404 << QByteArray();
        QTest::addRow("ntfy needs the token's /_/ntfy permission")
            << QByteArray("POST") << QByteArray("/u/alice/_/ntfy") << none << 401
            << QByteArray("Access denied: no patterns found\n");
    }
    void outcomes()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        QFETCH(HeaderList, headers);
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        const TestResponse r = m_f->send(method, target, method == "POST" || method == "PUT" ? "m"_ba : ""_ba, headers);
        QCOMPARE(r.status, status);
        if (!body.isEmpty()) {
            QCOMPARE(r.body, body);
        }
        // Every 401 of a missing or bad token carries the challenge; nothing else does.
        const QList<QByteArray> challenge = r.headerValues("WWW-Authenticate");
        if (status == 401) {
            QCOMPARE(challenge, QList<QByteArray>({"Bearer realm=\"patchwork\""}));
        } else {
            QVERIFY(challenge.isEmpty());
        }
    }

    void tokenPlaces_data()
    {
        QTest::addColumn<HeaderList>("headers");
        QTest::addColumn<QByteArray>("query");
        QTest::addRow("Bearer") << HeaderList{{"Authorization", "Bearer plain-token"}} << QByteArray();
        QTest::addRow("bearer, any case") << HeaderList{{"Authorization", "bEaReR   plain-token "}} << QByteArray();
        QTest::addRow("token") << HeaderList{{"Authorization", "token plain-token"}} << QByteArray();
        QTest::addRow("bare") << HeaderList{{"Authorization", "plain-token"}} << QByteArray();
        QTest::addRow("query") << HeaderList() << QByteArray("&token=plain-token");
        QTest::addRow("blank header, query") << HeaderList{{"Authorization", " "}} << QByteArray("&token=plain-token");
    }
    void tokenPlaces()
    {
        QFETCH(HeaderList, headers);
        QFETCH(QByteArray, query);
        QCOMPARE(m_f->get("/u/alice/projects/a?timeout=0.1" + query, headers).status, 204);
    }

    // The header wins over the query; a wrong header is not rescued by a right ?token=.
    void headerBeforeQuery()
    {
        QCOMPARE(m_f->get("/u/alice/projects/a?token=plain-token", bearer("nope")).status, 401);
        QCOMPARE(m_f->get("/u/alice/projects/a?timeout=0.1&token=nope", bearer("plain-token")).status, 204);
    }

    // A whole exchange in a user namespace; the token never reaches the receiver.
    void exchange()
    {
        TestHttpClient consumer(m_f->port);
        consumer.get("/u/alice/projects/jobs", bearer("plain-token"));
        QVERIFY(m_f->waitWaiting(Waiter::Role::Consumer, 1));
        const TestResponse sent =
            m_f->send("POST", "/u/alice/projects/jobs?k=v&token=plain-token", "job", {{"Content-Type", "text/x-job"}});
        QCOMPARE(sent.status, 200);
        QVERIFY(consumer.waitForResponse(timeoutMs(5000)));
        const TestResponse got = consumer.takeResponse();
        QCOMPARE(got.body, QByteArray("job"));
        QCOMPARE(got.header("Content-Type"), QByteArray("text/x-job"));
        QCOMPARE(got.header("Patch-Uri"), QByteArray("/u/alice/projects/jobs?k=v"));
        // Namespaces are separate: the same path elsewhere is another channel.
        QCOMPARE(m_f->get("/public/projects/jobs?timeout=0.1").status, 204);
    }

    void expiry()
    {
        QCOMPARE(m_f->get("/u/alice/projects/a?timeout=0.1", bearer("expiring-token")).status, 204);
        m_clock.setUnixMs(NOW_MS + 3600 * 1000); // exactly expires_at: still valid
        QCOMPARE(m_f->get("/u/alice/projects/a?timeout=0.1", bearer("expiring-token")).status, 204);
        m_clock.setUnixMs(NOW_MS + 3600 * 1000 + 1000);
        const TestResponse r = m_f->get("/u/alice/projects/a", bearer("expiring-token"));
        QCOMPARE(r.status, 401);
        QCOMPARE(r.body, QByteArray("Access denied: token expired\n"));
    }

    // A broken file closes only its user's namespace, with 503; fixing it reopens it.
    void brokenConfigFailsClosed()
    {
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"carol/config\\.yaml:3: "_s));
        writeFile(configPath(u"carol"_s), "tokens:\n  carol-token:\n    is_admin: \"true\"\n    GET: [\"*\"]\n");
        QTRY_COMPARE_WITH_TIMEOUT(m_f->get("/u/carol/x", bearer("carol-token")).status, 503, timeoutMs(2000));
        TestResponse r = m_f->get("/u/carol/x");
        QCOMPARE(r.status, 503);
        QCOMPARE(r.body, QByteArray("User configuration unavailable\n"));
        QVERIFY(r.headerValues("WWW-Authenticate").isEmpty());
        r = m_f->get("/u/carol/_/invalidate_cache", {{"Authorization", "carol-token"}});
        QCOMPARE(r.status, 503);
        QCOMPARE(r.body, QByteArray("User configuration unavailable\n"));
        // Others are unaffected.
        QCOMPARE(m_f->get("/u/alice/projects/a?timeout=0.1", bearer("plain-token")).status, 204);

        writeFile(configPath(u"carol"_s), "tokens:\n  carol-token:\n    GET: [\"*\"]\n");
        QTRY_COMPARE_WITH_TIMEOUT(
            m_f->get("/u/carol/x?timeout=0.1", bearer("carol-token")).status, 204, timeoutMs(2000));
    }

    // PROTOCOL §8: a changed file takes effect within 2 s, without a signal.
    void hotReload()
    {
        QCOMPARE(m_f->send("POST", "/u/alice/projects/x?pubsub=1", "m", bearer("plain-token")).status, 200);
        QElapsedTimer t;
        t.start();
        writeFile(configPath(u"alice"_s), aliceConfig("[]"));
        QTRY_COMPARE_WITH_TIMEOUT(
            m_f->send("POST", "/u/alice/projects/x?pubsub=1", "m", bearer("plain-token")).status, 403, timeoutMs(2000));
        qInfo("new ACL seen after %lld ms", t.elapsed());
        // A new user appears, and a removed one disappears.
        writeFile(configPath(u"dave"_s), "tokens:\n  dave-token:\n    GET: [\"*\"]\n");
        QTRY_COMPARE_WITH_TIMEOUT(m_f->get("/u/dave/x?timeout=0.1", bearer("dave-token")).status, 204, timeoutMs(2000));
        QVERIFY(QFile::remove(configPath(u"dave"_s)));
        QTRY_COMPARE_WITH_TIMEOUT(m_f->get("/u/dave/x", bearer("dave-token")).status, 401, timeoutMs(2000));
    }

    // What SIGHUP does (reload()) and what invalidate_cache does, when no watcher or poll noticed.
    void reloadAndInvalidate()
    {
        m_configs->setWatching(false);
        m_configs->setPollInterval(0);
        writeFile(configPath(u"alice"_s), aliceConfig("[]"));
        QTest::qWait(100);
        QCOMPARE(m_f->send("POST", "/u/alice/projects/x?pubsub=1", "m", bearer("plain-token")).status, 200);
        m_configs->reload();
        QCOMPARE(m_f->send("POST", "/u/alice/projects/x?pubsub=1", "m", bearer("plain-token")).status, 403);

        writeFile(configPath(u"alice"_s), aliceConfig());
        QCOMPARE(m_f->send("POST", "/u/alice/projects/x?pubsub=1", "m", bearer("plain-token")).status, 403);
        const TestResponse r = m_f->send("POST", "/u/alice/_/invalidate_cache", {}, bearer("admin-token"));
        QCOMPARE(r.status, 200);
        QCOMPARE(m_f->send("POST", "/u/alice/projects/x?pubsub=1", "m", bearer("plain-token")).status, 200);
    }

    void admin_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<HeaderList>("headers");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        const QByteArray ok = "{\"status\": \"cache invalidated\"}\n";
        const QByteArray target = "/u/alice/_/invalidate_cache";
        QTest::addRow("no Authorization")
            << QByteArray("GET") << target << HeaderList() << 401 << QByteArray("Authorization required\n");
        QTest::addRow("query token not accepted") << QByteArray("GET") << QByteArray(target + "?token=admin-token")
                                                  << HeaderList() << 401 << QByteArray("Authorization required\n");
        QTest::addRow("unknown token") << QByteArray("GET") << target << bearer("nope") << 403
                                       << QByteArray("Admin access denied: token not found\n");
        QTest::addRow("expired token") << QByteArray("GET") << target << bearer("expired-admin") << 403
                                       << QByteArray("Admin access denied: token expired\n");
        QTest::addRow("not admin") << QByteArray("GET") << target << bearer("plain-token") << 403
                                   << QByteArray("Admin access denied: not an admin token\n");
        QTest::addRow("public is not implied")
            << QByteArray("GET") << QByteArray("/u/bob/_/invalidate_cache") << bearer("admin-token") << 403
            << QByteArray("Admin access denied: token not found\n");
        QTest::addRow("GET") << QByteArray("GET") << target << bearer("admin-token") << 200 << ok;
        QTest::addRow("POST, token scheme")
            << QByteArray("POST") << target << HeaderList{{"Authorization", "token admin-token"}} << 200 << ok;
        QTest::addRow("bare") << QByteArray("POST") << target << HeaderList{{"Authorization", "admin-token"}} << 200
                              << ok;
        QTest::addRow("DELETE") << QByteArray("DELETE") << target << bearer("admin-token") << 405
                                << QByteArray("Method not allowed\n");
        QTest::addRow("unknown endpoint")
            << QByteArray("GET") << QByteArray("/u/alice/_/reboot") << bearer("admin-token") << 404
            << QByteArray("Unknown administrative endpoint\n");
        QTest::addRow("empty endpoint") << QByteArray("GET") << QByteArray("/u/alice/_/") << bearer("admin-token")
                                        << 404 << QByteArray("Unknown administrative endpoint\n");
        QTest::addRow("below ntfy") << QByteArray("GET") << QByteArray("/u/alice/_/ntfy/x") << bearer("admin-token")
                                    << 404 << QByteArray("Unknown administrative endpoint\n");
        QTest::addRow("unknown endpoint needs auth") << QByteArray("GET") << QByteArray("/u/alice/_/reboot")
                                                     << HeaderList() << 401 << QByteArray("Authorization required\n");
    }
    void admin()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        QFETCH(HeaderList, headers);
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        const TestResponse r = m_f->send(method, target, {}, headers);
        QCOMPARE(r.status, status);
        QCOMPARE(r.body, body);
        if (status == 200) {
            QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
        }
        const QList<QByteArray> challenge = r.headerValues("WWW-Authenticate");
        QCOMPARE(challenge.size(), status == 401 ? 1 : 0);
    }

    // A source that answers later (Forgejo): requests wait for it, keep their body and headers,
    // and are decided as usual once the configuration is known.
    void asynchronousSource()
    {
        m_f.reset();
        DeferredConfigSource deferred;
        m_f = std::make_unique<AccessFixture>(&m_clock, unlimitedSettings(), &deferred);

        TestHttpClient consumer(m_f->port);
        consumer.get("/u/dave/jobs", bearer("dave-token"));
        TestHttpClient producer(m_f->port);
        producer.post("/u/dave/jobs?x=1",
                      "payload",
                      {{"Authorization", "Bearer dave-token"}, {"Content-Type", "text/x-p"}, {"Patch-H-X-A", "a"}});
        TestHttpClient intruder(m_f->port);
        intruder.get("/u/dave/jobs", bearer("wrong"));
        TestHttpClient admin(m_f->port);
        admin.get("/u/dave/_/invalidate_cache", bearer("dave-token"));
        TestHttpClient leaver(m_f->port);
        leaver.post("/u/dave/jobs", "never", bearer("dave-token"));
        QTRY_COMPARE_WITH_TIMEOUT(deferred.pending(), 9, timeoutMs(5000)); // four channel requests twice, one admin
        leaver.abort();
        QTRY_COMPARE_WITH_TIMEOUT(m_f->relay->httpServer()->connectionCount(), 4, timeoutMs(5000));
        QVERIFY(!consumer.hasResponse() && !producer.hasResponse() && !intruder.hasResponse());

        auto config = UserConfig::parse(
            "tokens:\n  dave-token:\n    is_admin: true\n    GET: [\"*\"]\n    POST: [\"*\"]\n", u"dave.yaml"_s);
        QVERIFY(config);
        deferred.answer(u"dave"_s, ConfigLookup::found(config));

        QVERIFY(consumer.waitForResponse(timeoutMs(5000)));
        const TestResponse got = consumer.takeResponse();
        QCOMPARE(got.status, 200);
        QCOMPARE(got.body, QByteArray("payload"));
        QCOMPARE(got.header("Content-Type"), QByteArray("text/x-p"));
        QCOMPARE(got.header("X-A"), QByteArray("a"));
        QCOMPARE(got.header("Patch-Uri"), QByteArray("/u/dave/jobs?x=1"));
        QVERIFY(producer.waitForResponse(timeoutMs(5000)));
        QCOMPARE(producer.takeResponse().status, 200);
        QVERIFY(intruder.waitForResponse(timeoutMs(5000)));
        QCOMPARE(intruder.takeResponse().status, 401);
        QVERIFY(admin.waitForResponse(timeoutMs(5000)));
        QCOMPARE(admin.takeResponse().status, 200);
        // invalidate_cache reached the source; the request whose client left is gone for good.
        QCOMPARE(deferred.pending(), 0);
        deferred.answer(u"dave"_s, ConfigLookup::found(config));
        QCOMPARE(m_f->get("/u/dave/jobs?timeout=0.2", bearer("dave-token")).status, 204);
        m_f.reset();
    }
};

QTEST_GUILESS_MAIN(TestUserNamespace)
#include "tst_usernamespace.moc"
