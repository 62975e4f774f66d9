// SPDX-License-Identifier: MIT
// Hook channels over loopback (PROTOCOL §7): creation, and the secret checked per action.
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTest>

#include <memory>

#include "accessfixture.h"

using namespace Patchwork;
using namespace Patchwork::Server;
using namespace Patchwork::Test;
using namespace Qt::StringLiterals;

class TestHooks final : public QObject
{
    Q_OBJECT

private:
    static QByteArray secretFor(char kind, QByteArrayView channel)
    {
        return HookSecret::fromKey(TEST_SERVER_KEY).secretFor(kind, channel);
    }
    static QByteArray withQuery(const QByteArray &target, const QByteArray &item)
    {
        return target + (target.contains('?') ? '&' : '?') + item;
    }

    SystemClock m_clock;
    std::unique_ptr<AccessFixture> m_f;

private Q_SLOTS:
    void init()
    {
        QTest::failOnWarning(QRegularExpression(u".*"_s));
        m_f = std::make_unique<AccessFixture>(&m_clock, unlimitedSettings(), nullptr);
        QVERIFY(m_f->port != 0);
    }
    void cleanup()
    {
        m_f.reset();
    }

    void create_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<char>("kind");
        QTest::addRow("forward") << QByteArray("/h") << 'h';
        QTest::addRow("reverse") << QByteArray("/r") << 'r';
    }
    void create()
    {
        QFETCH(QByteArray, path);
        QFETCH(char, kind);
        const TestResponse r = m_f->get(path);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
        QVERIFY(r.body.endsWith("\"}\n"));
        const QJsonObject o = QJsonDocument::fromJson(r.body).object();
        QCOMPARE(o.keys(), QStringList({u"channel"_s, u"secret"_s}));
        QVERIFY(r.body.startsWith("{\"channel\":")); // field order: channel, secret
        const QString channel = o.value(u"channel"_s).toString();
        // RFC 4122 version 4: random, version nibble 4, variant 10xx.
        static const QRegularExpression uuidV4(
            u"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"_s);
        QVERIFY2(uuidV4.match(channel).hasMatch(), qPrintable(channel));
        QCOMPARE(o.value(u"secret"_s).toString().toLatin1(), secretFor(kind, channel.toLatin1()));
        // Every call makes a new channel.
        const QJsonObject again = QJsonDocument::fromJson(m_f->get(path).body).object();
        QVERIFY(again.value(u"channel"_s).toString() != channel);
    }

    void createOtherMethods_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("path");
        QTest::addRow("POST /h") << QByteArray("POST") << QByteArray("/h");
        QTest::addRow("PUT /r") << QByteArray("PUT") << QByteArray("/r");
        QTest::addRow("HEAD /h") << QByteArray("HEAD") << QByteArray("/h");
        QTest::addRow("DELETE /r") << QByteArray("DELETE") << QByteArray("/r");
    }
    void createOtherMethods()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, path);
        const TestResponse r = m_f->send(method, path);
        QCOMPARE(r.status, 405);
        QCOMPARE(r.header("Allow"), QByteArray("GET"));
    }

    // Every action on both hook kinds: which need the secret, and what they get with it.
    void secretPerAction_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("secret"); // empty: the action is free
        QTest::addColumn<int>("status"); // with the right secret (or none when free)

        const QByteArray hc = secretFor('h', "c");
        const QByteArray rc = secretFor('r', "c");
        // Forward hooks: writes need the secret, reads are free.
        QTest::addRow("h consumer free") << QByteArray("GET") << QByteArray("/h/queue/c?timeout=0.2") << QByteArray()
                                         << QByteArray() << 204;
        QTest::addRow("h POST producer") << QByteArray("POST") << QByteArray("/h/queue/c?timeout=0.2")
                                         << QByteArray("m") << hc << 504;
        QTest::addRow("h PUT producer") << QByteArray("PUT") << QByteArray("/h/c?timeout=0.2") << QByteArray("m") << hc
                                        << 504;
        QTest::addRow("h GET ?body= producer")
            << QByteArray("GET") << QByteArray("/h/c?body=m&timeout=0.2") << QByteArray() << hc << 504;
        QTest::addRow("h pubsub producer")
            << QByteArray("POST") << QByteArray("/h/pubsub/c") << QByteArray("m") << hc << 200;
        QTest::addRow("h requester") << QByteArray("GET") << QByteArray("/h/req/api/x?timeout=0.2") << QByteArray()
                                     << secretFor('h', "api/x") << 504;
        QTest::addRow("h DELETE requester")
            << QByteArray("DELETE") << QByteArray("/h/req/c?timeout=0.2") << QByteArray() << hc << 504;
        QTest::addRow("h GET responder free")
            << QByteArray("GET") << QByteArray("/h/res/api?timeout=0.2") << QByteArray() << QByteArray() << 204;
        QTest::addRow("h one-shot responder free")
            << QByteArray("POST") << QByteArray("/h/res/api?timeout=0.2") << QByteArray("pong") << QByteArray() << 204;
        QTest::addRow("h switch responder free") << QByteArray("POST") << QByteArray("/h/res/api?switch=1&timeout=0.2")
                                                 << QByteArray("other") << QByteArray() << 204;
        QTest::addRow("h reply free") << QByteArray("POST") << QByteArray("/h/res/api?reply=nope") << QByteArray("r")
                                      << QByteArray() << 404;
        QTest::addRow("h DELETE counts as a write")
            << QByteArray("DELETE") << QByteArray("/h/queue/c") << QByteArray() << hc << 405;
        // Reverse hooks: reads need the secret, writes are free.
        QTest::addRow("r consumer") << QByteArray("GET") << QByteArray("/r/queue/c?timeout=0.2") << QByteArray() << rc
                                    << 204;
        QTest::addRow("r pubsub consumer")
            << QByteArray("GET") << QByteArray("/r/pubsub/c?timeout=0.2") << QByteArray() << rc << 204;
        QTest::addRow("r POST producer free")
            << QByteArray("POST") << QByteArray("/r/c?timeout=0.2") << QByteArray("m") << QByteArray() << 504;
        QTest::addRow("r GET ?body= producer free")
            << QByteArray("GET") << QByteArray("/r/c?body=m&timeout=0.2") << QByteArray() << QByteArray() << 504;
        QTest::addRow("r requester free")
            << QByteArray("POST") << QByteArray("/r/req/c?timeout=0.2") << QByteArray("q") << QByteArray() << 504;
        QTest::addRow("r GET responder") << QByteArray("GET") << QByteArray("/r/res/c?timeout=0.2") << QByteArray()
                                         << rc << 204;
        QTest::addRow("r one-shot responder")
            << QByteArray("PUT") << QByteArray("/r/res/c?timeout=0.2") << QByteArray("pong") << rc << 204;
        QTest::addRow("r switch responder")
            << QByteArray("POST") << QByteArray("/r/res/c?switch=true&timeout=0.2") << QByteArray("other") << rc << 204;
        QTest::addRow("r reply") << QByteArray("POST") << QByteArray("/r/res/c?reply=nope") << QByteArray("r") << rc
                                 << 404;
        QTest::addRow("r PUT reply") << QByteArray("PUT") << QByteArray("/r/res/c?reply=nope") << QByteArray("r") << rc
                                     << 404;
    }
    void secretPerAction()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, secret);
        QFETCH(int, status);
        if (secret.isEmpty()) {
            QCOMPARE(m_f->send(method, target, body).status, status);
            return;
        }
        TestResponse r = m_f->send(method, target, body);
        QCOMPARE(r.status, 401);
        QCOMPARE(r.body, QByteArray("Secret required\n"));
        QVERIFY(r.headerValues("WWW-Authenticate").isEmpty());
        QCOMPARE(m_f->send(method, withQuery(target, "secret="), body).body, QByteArray("Secret required\n"));

        const char otherKind = target.startsWith("/h/") ? 'r' : 'h';
        const QList<QByteArray> wrong = {"0123",
                                         secret.toUpper(),
                                         secret.left(63),
                                         secret + '0',
                                         secretFor(otherKind, "c"),
                                         secretFor(target.at(1), "other")};
        for (const QByteArray &bad : wrong) {
            r = m_f->send(method, withQuery(target, "secret=" + bad), body);
            QCOMPARE(r.status, 401);
            QCOMPARE(r.body, QByteArray("Invalid secret\n"));
        }
        r = m_f->send(method, withQuery(target, "secret=" + secret), body);
        QCOMPARE(r.status, status);
    }

    // Path validity comes before the secret (PROTOCOL §2).
    void pathCheckedFirst()
    {
        QCOMPARE(m_f->send("POST", "/h/req/", "x").body, QByteArray("Channel ID required\n"));
        QCOMPARE(m_f->get("/r/").status, 404);
        QCOMPARE(m_f->get("/r/_/x").status, 404);
    }

    // A forward hook end to end: anyone may read, only the secret's holder may write, and the secret
    // never reaches the reader through Patch-Uri.
    void forwardHookDelivers()
    {
        const QJsonObject hook = QJsonDocument::fromJson(m_f->get("/h").body).object();
        const QByteArray channel = hook.value(u"channel"_s).toString().toLatin1();
        const QByteArray secret = hook.value(u"secret"_s).toString().toLatin1();
        TestHttpClient reader(m_f->port);
        reader.get(QByteArray("/h/" + channel));
        QVERIFY(m_f->waitWaiting(Waiter::Role::Consumer, 1));
        QCOMPARE(m_f->send("POST", "/h/" + channel, "forged").status, 401);
        QCOMPARE(m_f->send("POST", "/h/" + channel + "?x=1&secret=" + secret, "event").status, 200);
        QVERIFY(reader.waitForResponse(timeoutMs(5000)));
        const TestResponse got = reader.takeResponse();
        QCOMPARE(got.body, QByteArray("event"));
        QCOMPARE(got.header("Patch-Uri"), "/h/" + channel + "?x=1");
    }

    // A reverse hook end to end: anyone may write, only the holder reads.
    void reverseHookDelivers()
    {
        const QJsonObject hook = QJsonDocument::fromJson(m_f->get("/r").body).object();
        const QByteArray channel = hook.value(u"channel"_s).toString().toLatin1();
        const QByteArray secret = hook.value(u"secret"_s).toString().toLatin1();
        TestHttpClient writer(m_f->port);
        writer.post(QByteArray("/r/" + channel), "report");
        QVERIFY(m_f->waitWaiting(Waiter::Role::Producer, 1));
        QCOMPARE(m_f->get("/r/" + channel).status, 401);
        const TestResponse got = m_f->get("/r/" + channel + "?secret=" + secret);
        QCOMPARE(got.status, 200);
        QCOMPARE(got.body, QByteArray("report"));
        QVERIFY(writer.waitForResponse(timeoutMs(5000)));
        QCOMPARE(writer.takeResponse().status, 200);
    }

    // Double clutch on /h: the responder names a fresh hook channel; the answer on it is a write and
    // needs that channel's secret.
    void doubleClutchOnForwardHook()
    {
        TestHttpClient requester(m_f->port);
        requester.get(QByteArray("/h/req/svc?secret=" + secretFor('h', "svc")));
        QVERIFY(m_f->waitWaiting(Waiter::Role::Requester, 1));
        const QJsonObject fresh = QJsonDocument::fromJson(m_f->get("/h").body).object();
        const QByteArray channel = fresh.value(u"channel"_s).toString().toLatin1();
        const QByteArray secret = fresh.value(u"secret"_s).toString().toLatin1();
        const TestResponse taken = m_f->send("POST", "/h/res/svc?switch=true", channel);
        QCOMPARE(taken.status, 200);
        QCOMPARE(taken.header("Patch-Method"), QByteArray("GET"));
        QVERIFY(!taken.header("Patch-Uri").contains("secret"));

        TestResponse answer = m_f->send("POST", "/h/" + channel, "forged", {{"Patch-Status", "201"}});
        QCOMPARE(answer.status, 401);
        QCOMPARE(answer.body, QByteArray("Secret required\n"));
        answer = m_f->send("POST", "/h/" + channel + "?secret=" + secretFor('h', "svc"), "forged");
        QCOMPARE(answer.body, QByteArray("Invalid secret\n"));
        QVERIFY(!requester.hasResponse());
        answer = m_f->send("POST", "/h/" + channel + "?secret=" + secret, "the answer", {{"Patch-Status", "201"}});
        QCOMPARE(answer.status, 200);
        QVERIFY(requester.waitForResponse(timeoutMs(5000)));
        const TestResponse got = requester.takeResponse();
        QCOMPARE(got.status, 201);
        QCOMPARE(got.body, QByteArray("the answer"));
    }

    // The secret belongs to the channel name: the mode prefix is not part of it.
    void secretIgnoresModePrefix()
    {
        const QByteArray s = secretFor('h', "jobs");
        QCOMPARE(m_f->send("POST", "/h/pubsub/jobs?secret=" + s, "x").status, 200);
        QCOMPARE(m_f->send("POST", "/h/jobs?pubsub=1&secret=" + s, "x").status, 200);
        QCOMPARE(m_f->send("POST", "/h/queue/jobs?timeout=0.1&secret=" + s, "x").status, 504);
        QCOMPARE(m_f->send("POST", "/h/pubsub/jobs/more?secret=" + s, "x").status, 401);
    }
};

QTEST_GUILESS_MAIN(TestHooks)
#include "tst_hooks.moc"
