// SPDX-License-Identifier: MIT
// /metrics over loopback (PROTOCOL §12): who may read it, every family, and counters that follow
// what the relay does.
#include <QRegularExpression>
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

const QByteArray METRICS_TOKEN = "scrape-token";

AccessGate::Settings metricsSettings(const QByteArray &token = METRICS_TOKEN, bool isPublic = false)
{
    AccessGate::Settings s = unlimitedSettings();
    s.metricsToken = token;
    s.metricsPublic = isPublic;
    return s;
}

// The value of one sample (`name{labels}`), or -1 when the exposition has no such line.
double sampleValue(const QByteArray &text, const QByteArray &sample)
{
    const QByteArray prefix = sample + ' ';
    for (const QByteArray &line : text.split('\n')) {
        if (line.startsWith(prefix)) {
            bool ok = false;
            const double v = line.mid(prefix.size()).toDouble(&ok);
            return ok ? v : -2;
        }
    }
    return -1;
}

} // namespace

class TestMetricsEndpoint final : public QObject
{
    Q_OBJECT

private:
    void start(const AccessGate::Settings &settings, ConfigSource *configs = nullptr)
    {
        m_f.reset();
        m_f = std::make_unique<AccessFixture>(&m_clock, settings, configs ? configs : m_configs.get());
        QVERIFY(m_f->port != 0);
    }
    QByteArray scrape()
    {
        const TestResponse r = m_f->get("/metrics");
        [&] { QCOMPARE(r.status, 200); }();
        return r.body;
    }
    double value(const QByteArray &sample)
    {
        return sampleValue(scrape(), sample);
    }

    ManualClock m_clock;
    QTemporaryDir m_usersDir;
    std::unique_ptr<DirectoryConfigSource> m_configs;
    std::unique_ptr<AccessFixture> m_f;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_usersDir.isValid());
        writeFile(m_usersDir.path() + u"/alice/config.yaml"_s,
                  "tokens:\n  alice-token:\n    is_admin: true\n    GET: [\"*\"]\n    POST: [\"*\"]\n");
        writeFile(m_usersDir.path() + u"/carol/config.yaml"_s, "tokens: [\n");
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"carol/config\\.yaml:\\d+: "_s));
        m_configs = std::make_unique<DirectoryConfigSource>(m_usersDir.path());
    }
    void init()
    {
        QTest::failOnWarning(QRegularExpression(u".*"_s));
        start(metricsSettings());
    }
    void cleanup()
    {
        m_f.reset();
    }
    void cleanupTestCase()
    {
        m_configs.reset();
    }

    void loopbackIsFree()
    {
        const TestResponse r = m_f->get("/metrics");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("Content-Type"), QByteArray("text/plain; version=0.0.4; charset=utf-8"));
        QCOMPARE(m_f->send("HEAD", "/metrics").status, 200);
        QCOMPARE(m_f->send("POST", "/metrics", "x").status, 405);
    }

    void everyFamily_data()
    {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<QByteArray>("type");
        QTest::addRow("requests") << QByteArray("patchwork_http_requests_total") << QByteArray("counter");
        QTest::addRow("durations") << QByteArray("patchwork_http_request_duration_seconds") << QByteArray("histogram");
        QTest::addRow("channels") << QByteArray("patchwork_channels_total") << QByteArray("gauge");
        QTest::addRow("connections") << QByteArray("patchwork_active_connections") << QByteArray("gauge");
        QTest::addRow("waiting") << QByteArray("patchwork_waiting_requests") << QByteArray("gauge");
        QTest::addRow("messages") << QByteArray("patchwork_messages_total") << QByteArray("counter");
        QTest::addRow("sizes") << QByteArray("patchwork_message_size_bytes") << QByteArray("histogram");
        QTest::addRow("auth") << QByteArray("patchwork_auth_requests_total") << QByteArray("counter");
        QTest::addRow("cache") << QByteArray("patchwork_cache_hits_total") << QByteArray("counter");
        QTest::addRow("huproxy connections")
            << QByteArray("patchwork_huproxy_connections_total") << QByteArray("counter");
        QTest::addRow("huproxy bytes") << QByteArray("patchwork_huproxy_bytes_transferred_total")
                                       << QByteArray("counter");
        QTest::addRow("rate limited") << QByteArray("patchwork_rate_limited_total") << QByteArray("counter");
        QTest::addRow("rss") << QByteArray("process_resident_memory_bytes") << QByteArray("gauge");
        QTest::addRow("fds") << QByteArray("process_open_fds") << QByteArray("gauge");
        QTest::addRow("start time") << QByteArray("process_start_time_seconds") << QByteArray("gauge");
    }
    void everyFamily()
    {
        QFETCH(QByteArray, name);
        QFETCH(QByteArray, type);
        const QByteArray text = scrape();
        const QByteArray help = "# HELP " + name + ' ';
        QVERIFY2(text.contains(QByteArray('\n' + help)) || text.startsWith(help), name.constData());
        QVERIFY2(text.contains(QByteArray("# TYPE " + name + ' ' + type + '\n')), name.constData());
    }

    // A remote client (forged through the trusted loopback proxy) needs the metrics token.
    void remoteAccess_data()
    {
        QTest::addColumn<QByteArray>("configuredToken");
        QTest::addColumn<bool>("isPublic");
        QTest::addColumn<QByteArray>("query");
        QTest::addColumn<HeaderList>("headers");
        QTest::addColumn<int>("status");

        const HeaderList remote{{"X-Forwarded-For", "203.0.113.5"}};
        auto with = [&remote](const QByteArray &authorization) {
            HeaderList h = remote;
            h.append({"Authorization", authorization});
            return h;
        };
        QTest::addRow("no token") << METRICS_TOKEN << false << QByteArray() << remote << 401;
        QTest::addRow("wrong token") << METRICS_TOKEN << false << QByteArray() << with("Bearer nope") << 403;
        QTest::addRow("prefix of the token") << METRICS_TOKEN << false << QByteArray() << with("Bearer scrape") << 403;
        QTest::addRow("Bearer") << METRICS_TOKEN << false << QByteArray() << with("Bearer " + METRICS_TOKEN) << 200;
        QTest::addRow("token scheme") << METRICS_TOKEN << false << QByteArray() << with("token " + METRICS_TOKEN)
                                      << 200;
        QTest::addRow("bare") << METRICS_TOKEN << false << QByteArray() << with(METRICS_TOKEN) << 200;
        QTest::addRow("query") << METRICS_TOKEN << false << QByteArray("?token=" + METRICS_TOKEN) << remote << 200;
        QTest::addRow("none configured, no token") << QByteArray() << false << QByteArray() << remote << 401;
        QTest::addRow("none configured") << QByteArray() << false << QByteArray() << with("Bearer anything") << 403;
        QTest::addRow("none configured, empty guess")
            << QByteArray() << false << QByteArray("?token=") << remote << 401;
        QTest::addRow("public") << QByteArray() << true << QByteArray() << remote << 200;
        QTest::addRow("forwarded for loopback")
            << METRICS_TOKEN << false << QByteArray() << HeaderList{{"X-Forwarded-For", "127.0.0.9"}} << 200;
        QTest::addRow("forwarded for IPv6 loopback")
            << METRICS_TOKEN << false << QByteArray() << HeaderList{{"X-Forwarded-For", "::1"}} << 200;
    }
    void remoteAccess()
    {
        QFETCH(QByteArray, configuredToken);
        QFETCH(bool, isPublic);
        QFETCH(QByteArray, query);
        QFETCH(HeaderList, headers);
        QFETCH(int, status);
        start(metricsSettings(configuredToken, isPublic));
        const TestResponse r = m_f->get("/metrics" + query, headers);
        QCOMPARE(r.status, status);
        QCOMPARE(r.headerValues("WWW-Authenticate"),
                 status == 401 ? QList<QByteArray>{"Bearer realm=\"patchwork\""} : QList<QByteArray>());
        if (status == 200) {
            QVERIFY(r.body.contains("# TYPE patchwork_http_requests_total counter"));
        } else {
            QVERIFY(!r.body.contains("patchwork_"));
        }
    }

    // When loopback is not a trusted proxy, its forwarding headers are ignored: the client is local.
    void untrustedForwardingIgnored()
    {
        AccessGate::Settings settings = metricsSettings();
        settings.trustedProxies = *TrustedProxies::parse({u"10.0.0.0/8"_s});
        start(settings);
        QCOMPARE(m_f->get("/metrics", {{"X-Forwarded-For", "203.0.113.5"}}).status, 200);
    }

    void requestsCounted()
    {
        // Requests outside the namespaces are not counted; every label stays in its bounded set.
        m_f->get("/healthz");
        m_f->get("/nothing/here");
        m_f->get("/h");
        m_f->send("POST", "/h/x", "m");
        m_f->send("BREW", "/public/x");
        m_f->get("/u/alice/x");
        m_f->get("/u/alice/_/invalidate_cache");
        m_f->send("POST", "/u/alice/_/ntfy", "m");
        m_f->send("POST", "/p/x?pubsub=1", "m");
        const QByteArray text = scrape();
        QCOMPARE(sampleValue(text, R"(patchwork_http_requests_total{method="GET",namespace="hooks",status="200"})"), 1);
        QCOMPARE(sampleValue(text, R"(patchwork_http_requests_total{method="POST",namespace="hooks",status="401"})"),
                 1);
        QCOMPARE(sampleValue(text, R"(patchwork_http_requests_total{method="other",namespace="public",status="405"})"),
                 1);
        QCOMPARE(sampleValue(text, R"(patchwork_http_requests_total{method="GET",namespace="user",status="401"})"), 1);
        QCOMPARE(
            sampleValue(text, R"(patchwork_http_requests_total{method="GET",namespace="user_admin",status="401"})"), 1);
        QCOMPARE(
            sampleValue(text, R"(patchwork_http_requests_total{method="POST",namespace="user_ntfy",status="401"})"), 1);
        QCOMPARE(sampleValue(text, R"(patchwork_http_requests_total{method="POST",namespace="public",status="200"})"),
                 1);
        QCOMPARE(sampleValue(text, R"(patchwork_http_request_duration_seconds_count{method="GET",namespace="hooks"})"),
                 1);
        static const QRegularExpression requestLine(
            uR"re(^patchwork_http_requests_total\{method="(GET|POST|PUT|DELETE|PATCH|OPTIONS|HEAD|other)",)re"
            uR"re(namespace="(public|hooks|user|user_ntfy|user_admin|huproxy)",status="\d{3}"\} \d+$)re"_s);
        int lines = 0;
        for (const QByteArray &line : text.split('\n')) {
            if (line.startsWith("patchwork_http_requests_total")) {
                ++lines;
                QVERIFY2(requestLine.match(QString::fromUtf8(line)).hasMatch(), line.constData());
            }
        }
        QCOMPARE(lines, 7);
    }

    void messagesAndGauges()
    {
        TestHttpClient consumer(m_f->port);
        consumer.get("/public/queue/m");
        QVERIFY(m_f->waitWaiting(Waiter::Role::Consumer, 1));
        QByteArray text = scrape();
        QCOMPARE(sampleValue(text, R"(patchwork_waiting_requests{role="consumer"})"), 1);
        QCOMPARE(sampleValue(text, "patchwork_channels_total"), 1);
        QVERIFY(sampleValue(text, "patchwork_active_connections") >= 2);

        QCOMPARE(m_f->send("POST", "/public/queue/m", "12345").status, 200);
        QVERIFY(consumer.waitForResponse(timeoutMs(5000)));
        text = scrape();
        QCOMPARE(sampleValue(text, R"(patchwork_waiting_requests{role="consumer"})"), 0);
        QCOMPARE(sampleValue(text, "patchwork_channels_total"), 0);
        QCOMPARE(m_f->send("POST", "/public/pubsub/n", QByteArray(2000, 'x')).status, 200);
        TestHttpClient responder(m_f->port);
        responder.post("/public/res/api", "pong");
        QVERIFY(m_f->waitWaiting(Waiter::Role::Responder, 1));
        QCOMPARE(m_f->get("/public/req/api").body, QByteArray("pong"));
        QCOMPARE(m_f->send("POST", "/u/alice/x?pubsub=1", "hi", {{"Authorization", "alice-token"}}).status, 200);

        text = scrape();
        QCOMPARE(sampleValue(text, R"(patchwork_messages_total{namespace="public",behavior="queue"})"), 1);
        QCOMPARE(sampleValue(text, R"(patchwork_messages_total{namespace="public",behavior="pubsub"})"), 1);
        QVERIFY(sampleValue(text, R"(patchwork_messages_total{namespace="public",behavior="reqres"})") >= 1);
        QCOMPARE(sampleValue(text, R"(patchwork_messages_total{namespace="user",behavior="pubsub"})"), 1);
        QCOMPARE(sampleValue(text, R"(patchwork_message_size_bytes_sum{namespace="public",behavior="queue"})"), 5);
        QCOMPARE(
            sampleValue(text, R"(patchwork_message_size_bytes_bucket{namespace="public",behavior="pubsub",le="1000"})"),
            0);
        QCOMPARE(sampleValue(text,
                             R"(patchwork_message_size_bytes_bucket{namespace="public",behavior="pubsub",le="10000"})"),
                 1);
        // The consumer's request lasted while it waited.
        QCOMPARE(sampleValue(text, R"(patchwork_http_requests_total{method="GET",namespace="public",status="200"})"),
                 2);
    }

    void authCounted()
    {
        m_f->get("/u/alice/x?timeout=0.1", {{"Authorization", "alice-token"}});
        m_f->get("/u/alice/x", {{"Authorization", "nope"}});
        m_f->get("/u/alice/x");
        m_f->get("/u/carol/x");
        m_f->get("/u/alice/_/invalidate_cache", {{"Authorization", "alice-token"}});
        const QByteArray text = scrape();
        QCOMPARE(sampleValue(text, R"(patchwork_auth_requests_total{result="success"})"), 2);
        QCOMPARE(sampleValue(text, R"(patchwork_auth_requests_total{result="denied"})"), 2);
        QCOMPARE(sampleValue(text, R"(patchwork_auth_requests_total{result="error"})"), 1);
    }

    void rateLimitedCounted()
    {
        AccessGate::Settings settings = metricsSettings();
        settings.rateLimit.ratePerSecond = 1;
        settings.rateLimit.burst = 1;
        settings.limitLoopback = true;
        start(settings);
        m_f->send("POST", "/public/pubsub/x", "m");
        m_f->send("POST", "/public/pubsub/x", "m");
        m_f->get("/h");
        const QByteArray text = scrape();
        QCOMPARE(sampleValue(text, "patchwork_rate_limited_total"), 2);
        QCOMPARE(sampleValue(text, R"(patchwork_http_requests_total{method="POST",namespace="public",status="429"})"),
                 1);
    }

    void cacheEventsCounted()
    {
        DeferredConfigSource source;
        start(metricsSettings(), &source);
        Q_EMIT source.cacheEvent(ConfigCacheEvent::Hit);
        Q_EMIT source.cacheEvent(ConfigCacheEvent::Hit);
        Q_EMIT source.cacheEvent(ConfigCacheEvent::Miss);
        Q_EMIT source.cacheEvent(ConfigCacheEvent::Stale);
        const QByteArray text = scrape();
        QCOMPARE(sampleValue(text, R"(patchwork_cache_hits_total{type="hit"})"), 2);
        QCOMPARE(sampleValue(text, R"(patchwork_cache_hits_total{type="miss"})"), 1);
        QCOMPARE(sampleValue(text, R"(patchwork_cache_hits_total{type="stale"})"), 1);
        m_f.reset();
    }
};

QTEST_GUILESS_MAIN(TestMetricsEndpoint)
#include "tst_metricsendpoint.moc"
