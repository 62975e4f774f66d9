// SPDX-License-Identifier: MIT
// The proxy and the daemon agree on the shard key (issue 15): HAProxy runs the Lua action of
// installer/cluster/patchwork-shard.lua on 5000 tricky request targets (encodings, dot segments, /p/, prefix
// ids, users, tunnels) and answers each with the Patch-Shard value it would send to a node; every one must
// equal the daemon's shardHeaderValue(shardKey()).
#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include "access/shardkey.h"
#include "haproxyprocess.h"
#include "testhttpclient.h"
#include "testutil.h"

using namespace Patchwork;
using namespace Patchwork::Test;

namespace
{

// Request targets as a client may send them. HAProxy refuses '#' and bytes outside ASCII (400) and the
// daemon control characters and spaces, so the raw bytes are printable ASCII; everything else is encoded.
QList<QByteArray> trickyTargets(int count)
{
    static const char *const starts[] = {
        "/",
        "/p/",
        "/public/",
        "/h/",
        "/r/",
        "/u/alice/",
        "/u/a.b-c_d/",
        "/u/-x/",
        "/u/",
        "/u/alice",
        "/huproxy/",
        "/huproxy/bob/",
        "/huproxy/bob/h/22",
        "/%70/",
        "/%2e/p/",
        "/./p/",
        "/../u/bob/",
        "/p",
        "/healthz",
        "/metrics",
        "/h",
        "/r",
        "//p/",
        "/u/bob/_/",
        "/u/bob/_/ntfy",
        "/P/",
        "/%2Fp/",
        "/p/req/",
        "/p/res/",
        "/u/bob/req/",
        "/h/res/",
        "/public",
        "/u/%61lice/",
        "/u/x%2Fy/",
    };
    static const char *const pieces[] = {
        "queue/",     "pubsub/",  "req/",
        "res/",       "req",      "res",
        "_/",         "rr/",      ".",
        "..",         "./",       "../",
        "/",          "//",       "%2e",
        "%2E",        "%2e%2e",   "%2F",
        "%2f",        "%2F..%2F", "a",
        "api",        "users/",   "7",
        "x",          "%20",      "%00",
        "%0a",        "%0D",      "%1f",
        "%7f",        "%7F",      "%C3%A9",
        "%ff",        "%zz",      "%g1",
        "%1g",        "%",        "%4",
        "%%",         "%25",      "%252F",
        "~",          "-",        "_",
        ".x",         "x.",       "...",
        ";",          ",",        "=",
        "@",          ":",        "!",
        "$",          "&",        "'",
        "(",          ")",        "*",
        "+",          "\"",       "<",
        ">",          "[",        "]",
        "{",          "}",        "|",
        "\\",         "^",        "`",
        "u/",         "alice",    "p/",
        "ntfy",       "%5F/",     "%72eq/",
        "%72es%2Fx/", "_",        "%2e%2E/",
        "/./",        "/../",     "a/..",
        "%2E.",       "u/-",      "%2Fu%2Fbob%2F",
    };
    static const char *const queries[] = {
        "",
        "",
        "",
        "?reply=abc",
        "?switch=true",
        "?pubsub",
        "?a=%2F/../",
        "?",
        "?since=all&timeout=1",
        "?x=/p/y",
    };
    QRandomGenerator random(15);
    QList<QByteArray> targets;
    targets.reserve(count);
    while (targets.size() < count) {
        QByteArray target = starts[random.bounded(int(std::size(starts)))];
        for (int n = random.bounded(7); n > 0; --n) {
            target += pieces[random.bounded(int(std::size(pieces)))];
        }
        target += queries[random.bounded(int(std::size(queries)))];
        targets.append(target);
    }
    return targets;
}

} // namespace

class TestShardProxy final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void luaAgreesWithDaemon()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const quint16 port = HaproxyProcess::freePort();
        // The key only: HAProxy answers itself with the header it would send to a node.
        const QByteArray config =
            "global\n"
            "    lua-load \"${PATCHWORK_CLUSTER_DIR}/patchwork-shard.lua\"\n"
            "defaults\n"
            "    mode http\n"
            "    timeout connect 1s\n"
            "    timeout client 30s\n"
            "    timeout server 30s\n"
            "frontend keys\n"
            "    bind 127.0.0.1:${PATCHWORK_TEST_PORT}\n"
            "    http-request lua.patchwork_shard\n"
            "    http-request return status 200 hdr Patch-Shard \"%[var(txn.patchwork_shard)]\"\n";
        QFile file(dir.filePath(QStringLiteral("keys.cfg")));
        QVERIFY(file.open(QIODevice::WriteOnly) && file.write(config) == config.size());
        file.close();
        QProcessEnvironment env;
        env.insert(QStringLiteral("PATCHWORK_CLUSTER_DIR"), HaproxyProcess::clusterDir());
        env.insert(QStringLiteral("PATCHWORK_TEST_PORT"), QString::number(port));
        HaproxyProcess haproxy;
        QString error;
        QVERIFY2(haproxy.start(file.fileName(), env, port, &error), qPrintable(error));

        static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
        const QList<QByteArray> targets = trickyTargets(5000);
        TestHttpClient client(port);
        constexpr int BATCH = 100; // pipelined on one keep-alive connection
        int keyed = 0;
        for (qsizetype first = 0; first < targets.size(); first += BATCH) {
            const qsizetype end = qMin(targets.size(), first + BATCH);
            QByteArray batch;
            for (qsizetype i = first; i < end; ++i) {
                batch += TestHttpClient::request(
                    methods[i % std::size(methods)], targets.at(i), {}, {{"Content-Length", "0"}});
            }
            client.send(batch);
            for (qsizetype i = first; i < end; ++i) {
                const QByteArray &target = targets.at(i);
                QVERIFY2(client.waitForResponse(timeoutMs(10000)), target.constData());
                const TestResponse r = client.takeResponse();
                QVERIFY2(r.status == 200, target.constData());
                const QByteArray expected = shardHeaderValue(shardKey(methods[i % std::size(methods)], target));
                if (r.header("Patch-Shard") != expected) {
                    QFAIL(qPrintable(QStringLiteral("%1: proxy %2, daemon %3")
                                         .arg(QString::fromLatin1(target),
                                              QString::fromLatin1(r.header("Patch-Shard")),
                                              QString::fromLatin1(expected))));
                }
                keyed += expected != "*";
            }
        }
        // The generator is not degenerate: most targets name a channel, a user or a responder.
        QVERIFY2(keyed > 1500, qPrintable(QString::number(keyed)));
    }
};

QTEST_GUILESS_MAIN(TestShardProxy)
#include "tst_shardproxy.moc"
