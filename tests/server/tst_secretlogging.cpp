// SPDX-License-Identifier: MIT
// Tokens and secrets never appear in log output (PROTOCOL §14): every message of every category, debug
// included, is captured while the relay handles requests that carry tokens and secrets, right and
// wrong, and while configurations with tokens are loaded, broken and reloaded.
#include <QCryptographicHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QMutex>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include "accessfixture.h"
#include "manualclock.h"

using namespace Patchwork;
using namespace Patchwork::Server;
using namespace Patchwork::Test;
using namespace Qt::StringLiterals;

namespace
{

QMutex s_mutex;
QStringList s_messages;
QtMessageHandler s_previous = nullptr;

void capture(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    {
        QMutexLocker lock(&s_mutex);
        s_messages.append(QString::fromLatin1(context.category ? context.category : "") + u": "_s + message);
    }
    if (s_previous) {
        s_previous(type, context, message);
    }
}

} // namespace

class TestSecretLogging final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        s_previous = qInstallMessageHandler(capture);
        QLoggingCategory::setFilterRules(u"*.debug=true\nqt.*.debug=false"_s);
    }
    void cleanupTestCase()
    {
        QLoggingCategory::setFilterRules(QString());
        qInstallMessageHandler(s_previous);
    }

    void noSecretsInLogs()
    {
        const QByteArray plain = "tok-PLAIN-1234567";
        const QByteArray hashed = "tok-HASHED-7654321";
        const QByteArray hashedKey = QCryptographicHash::hash(hashed, QCryptographicHash::Sha256).toHex();
        const QByteArray broken = "tok-BROKEN-99999";
        const QByteArray duplicate = "tok-DUPLICATE-424242";
        const QByteArray wrong = "tok-WRONG-1111";
        const QByteArray metricsToken = "tok-METRICS-5555";
        QList<QByteArray> secrets = {plain, hashed, hashedKey, broken, duplicate, wrong, metricsToken};

        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        // A generated server key, logged (its creation, not the key) on first start.
        qunsetenv("SECRET_KEY");
        const std::optional<HookSecret> secret = HookSecret::load(dir.path() + u"/data"_s);
        QVERIFY(secret);
        QCOMPARE(secret->source(), HookSecret::Source::Generated);
        QFile keyFile(dir.path() + u"/data/secret_key"_s);
        QVERIFY(keyFile.open(QIODevice::ReadOnly));
        const QByteArray key = keyFile.readAll();
        secrets << key.toHex() << key.toBase64() << key.toHex().toUpper();

        const QString users = dir.path() + u"/users"_s;
        writeFile(users + u"/alice/config.yaml"_s,
                  "tokens:\n  \"" + plain
                      + "\":\n    is_admin: true\n    GET: [\"/x/*\"]\n    POST: [\"/x/*\"]\n  \"sha256:" + hashedKey
                      + "\":\n    GET: [\"/y/*\"]\n");
        writeFile(users + u"/carol/config.yaml"_s, "tokens:\n  \"" + broken + "\": [unclosed\n");
        writeFile(users + u"/dave/config.yaml"_s,
                  "tokens:\n  \"" + duplicate + "\":\n    GET: [\"*\"]\n  \"" + duplicate + "\":\n    POST: [\"*\"]\n");
        writeFile(users + u"/erin/config.yaml"_s,
                  "tokens:\n  \"" + duplicate + "\":\n    GET: [\"!\"]\n    is_admin: \"" + duplicate + "\"\n");
        DirectoryConfigSource configs(users);
        ManualClock clock;
        AccessGate::Settings settings = unlimitedSettings();
        settings.metricsToken = metricsToken;
        {
            AccessFixture f(&clock, settings, &configs);
            QVERIFY(f.port != 0);
            const HookSecret hooks = HookSecret::fromKey(TEST_SERVER_KEY);
            const QJsonObject hook = QJsonDocument::fromJson(f.get("/h").body).object();
            const QByteArray channel = hook.value(u"channel"_s).toString().toLatin1();
            const QByteArray hookSecret = hook.value(u"secret"_s).toString().toLatin1();
            const QByteArray wrongSecret = hooks.secretFor('h', "another-channel");
            secrets << hookSecret << wrongSecret << hooks.secretFor('r', channel) << TEST_SERVER_KEY.toByteArray();

            // User namespaces: tokens in every place, right and wrong, allowed and denied.
            for (const QByteArray &t : {plain, hashed, wrong, broken, duplicate, hashedKey}) {
                for (const QByteArray user : {"alice", "carol", "dave", "erin", "nobody"}) {
                    f.get("/u/" + user + "/x/a?timeout=0.05", {{"Authorization", "Bearer " + t}});
                    f.get("/u/" + user + "/y/a?timeout=0.05&token=" + t);
                    f.send("POST", "/u/" + user + "/x/a?pubsub=1", "m", {{"Authorization", t}});
                    f.get("/u/" + user + "/_/invalidate_cache", {{"Authorization", "token " + t}});
                }
            }
            // Hooks: right and wrong secrets.
            f.send("POST", "/h/" + channel + "?pubsub=1&secret=" + hookSecret, "m");
            f.send("POST", "/h/" + channel + "?pubsub=1&secret=" + wrongSecret, "m");
            f.get("/r/" + channel + "?timeout=0.05&secret=" + wrongSecret);
            // A responder and a requester whose URIs carry secrets.
            TestHttpClient responder(f.port);
            responder.get(QByteArray("/h/res/" + channel + "?secret=" + hookSecret));
            QVERIFY(f.waitWaiting(Waiter::Role::Responder, 1));
            TestHttpClient requester(f.port);
            requester.get(QByteArray("/h/req/" + channel + "?secret=" + hookSecret + "&token=" + plain));
            QVERIFY(responder.waitForResponse(timeoutMs(5000)));
            // Metrics from a forged remote client.
            for (const QByteArray &t : {metricsToken, wrong}) {
                f.get("/metrics?token=" + t, {{"X-Forwarded-For", "203.0.113.5"}});
                f.get("/metrics", {{"X-Forwarded-For", "203.0.113.5"}, {"Authorization", "Bearer " + t}});
            }
            // Malformed requests that carry a token.
            f.send("GET", "/u/alice/x/a?token=" + plain, {}, {{"Content-Length", "x" + wrong}});
            TestHttpClient raw(f.port);
            raw.send("GET /u/alice/x?token=" + plain + " HTTP/1.1\r\nAuthorization: " + wrong
                     + "\r\n bad fold\r\n\r\n");
            raw.waitForResponse(timeoutMs(5000));
            // Reloads and invalidations.
            configs.reload();
            configs.invalidate(u"alice"_s);
        }

        QMutexLocker lock(&s_mutex);
        const QString all = s_messages.join(u'\n');
        QVERIFY2(all.contains(u"Created a new server secret key"_s), "the key's creation is logged");
        QVERIFY2(all.contains(u"loaded "_s), "config loads are logged");
        QVERIFY2(all.contains(u"carol/config.yaml:"_s), "the broken file is logged with its line");
        QVERIFY2(all.contains(u"dave/config.yaml:"_s), "the duplicate token is logged with its line");
        QVERIFY2(all.contains(u"bad request"_s), "debug output was captured");
        for (const QByteArray &s : std::as_const(secrets)) {
            QVERIFY2(!all.contains(QString::fromLatin1(s), Qt::CaseInsensitive),
                     qPrintable(u"a secret appears in the log: "_s + QString::fromLatin1(s.left(12)) + u"..."_s));
        }
        QVERIFY(s_messages.size() > 10);
    }
};

QTEST_GUILESS_MAIN(TestSecretLogging)
#include "tst_secretlogging.moc"
