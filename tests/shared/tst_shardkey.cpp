// SPDX-License-Identifier: MIT
// The shard key (docs/DECISIONS.md "Several daemons: the shard key"): every party of one channel, and a
// requester with every responder whose id is a prefix of its own, gets the same key.
#include <QTest>

#include "access/shardkey.h"

using namespace Patchwork;

class TestShardKey final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void keys_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QByteArray>("key");
        const auto row = [](const char *name, const char *method, const char *target, const char *key) {
            QTest::addRow("%s", name) << QByteArray(method) << QByteArray(target) << QByteArray(key);
        };
        row("queue", "POST", "/public/queue/jobs", "public/queue/jobs");
        row("p alias", "GET", "/p/queue/jobs", "public/queue/jobs");
        row("pubsub", "GET", "/p/pubsub/news?since=all", "public/pubsub/news");
        row("flexible sse", "GET", "/p/news?stream=sse", "public/news");
        row("query ignored", "GET", "/p/x?pubsub=true&timeout=5", "public/x");
        row("dot segments", "GET", "/p/a/../b/./c", "public/b/c");
        row("dot segments leave namespace", "GET", "/p/../public/x", "public/x");
        row("encoded slash", "GET", "/p/queue%2Fjobs", "public/queue/jobs");
        row("encoded dots stay", "GET", "/p/%2e%2e/x", "public/../x");
        row("utf-8", "GET", "/p/caf%C3%A9", "public/caf\xc3\xa9");
        row("trailing slash matters", "GET", "/p/x/", "public/x/");
        row("hooks", "POST", "/h/pubsub/c?secret=s", "h/pubsub/c");
        row("reverse hooks", "GET", "/r/c", "r/c");
        row("user channel", "GET", "/u/alice/queue/x", "u/alice/queue/x");
        row("requester", "DELETE", "/p/req/api/users/7", "public/rr/api");
        row("responder prefix", "GET", "/p/res/api/users", "public/rr/api");
        row("responder exact", "POST", "/p/res/api", "public/rr/api");
        row("reply", "POST", "/p/res/api/users?reply=abc", "public/rr/api");
        row("switch", "POST", "/p/res/api?switch=true", "public/rr/api");
        row("empty first segment", "GET", "/p/req//x", "public/rr/");
        row("user requester", "PUT", "/u/bob/req/x/y", "u/bob/rr/x");
        row("hook requester", "POST", "/h/req/x", "h/rr/x");
        row("ntfy", "POST", "/u/alice/_/ntfy", "u/alice");
        row("ntfy wrong method", "DELETE", "/u/alice/_/ntfy", "u/alice");
        row("admin", "GET", "/u/alice/_/invalidate_cache", "u/alice");
        row("tunnel", "GET", "/huproxy/alice/host/22", "u/alice");
        row("tunnel bad user", "GET", "/huproxy/-x/host/22", "");
        row("tunnel no user", "GET", "/huproxy/alice", "");
        row("index", "GET", "/", "");
        row("health", "GET", "/healthz", "");
        row("metrics", "GET", "/metrics", "");
        row("client script", "GET", "/patchwork.sh", "");
        row("create hook", "GET", "/h", "");
        row("not found", "GET", "/nothing", "");
        row("empty channel", "GET", "/p/", "");
        row("reserved", "GET", "/p/_/x", "");
        row("no id", "GET", "/p/req/", "");
        row("bad user", "GET", "/u/.x/queue/y", "");
        row("control character", "GET", "/p/a%0Ab", "");
        row("options", "OPTIONS", "/p/x", "public/x");
    }
    void keys()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        QFETCH(QByteArray, key);
        QCOMPARE(shardKey(method, target), key);
    }

    void headerValue()
    {
        QCOMPARE(shardHeaderValue(""), QByteArray("*"));
        QCOMPARE(shardHeaderValue("public/a-b_c.d~e/f"), QByteArray("public/a-b_c.d~e/f"));
        QCOMPARE(shardHeaderValue("public/x y*%\xc3\xa9"), QByteArray("public/x%20y%2A%25%C3%A9"));
    }
};

QTEST_GUILESS_MAIN(TestShardKey)
#include "tst_shardkey.moc"
