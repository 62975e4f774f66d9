// SPDX-License-Identifier: MIT
#include <QDateTime>
#include <QFile>
#include <QRegularExpression>
#include <QTest>

#include "util/metrics.h"

using namespace Qt::StringLiterals;
using Patchwork::MetricAuthResult;
using Patchwork::MetricBehavior;
using Patchwork::MetricCacheEvent;
using Patchwork::MetricDirection;
using Patchwork::MetricMethod;
using Patchwork::MetricNamespace;
using Patchwork::Metrics;
using Patchwork::MetricWaitRole;

namespace
{

struct Family
{
    const char *name;
    const char *type;
};

// PROTOCOL §12, in that order.
constexpr Family FAMILIES[] = {
    {"patchwork_http_requests_total", "counter"},
    {"patchwork_http_request_duration_seconds", "histogram"},
    {"patchwork_channels_total", "gauge"},
    {"patchwork_active_connections", "gauge"},
    {"patchwork_waiting_requests", "gauge"},
    {"patchwork_messages_total", "counter"},
    {"patchwork_message_size_bytes", "histogram"},
    {"patchwork_auth_requests_total", "counter"},
    {"patchwork_cache_hits_total", "counter"},
    {"patchwork_huproxy_connections_total", "counter"},
    {"patchwork_huproxy_bytes_transferred_total", "counter"},
    {"patchwork_rate_limited_total", "counter"},
    {"patchwork_replay_journal_queued_operations", "gauge"},
    {"patchwork_replay_journal_lag_seconds", "gauge"},
    {"patchwork_replay_journal_write_delay_seconds", "histogram"},
    {"patchwork_replay_journal_errors_total", "counter"},
    {"patchwork_replay_journal_dropped_operations_total", "counter"},
    {"patchwork_streamed_transfers_total", "counter"},
    {"patchwork_streamed_bytes_total", "counter"},
    {"process_resident_memory_bytes", "gauge"},
    {"process_open_fds", "gauge"},
    {"process_start_time_seconds", "gauge"},
};

QList<QByteArray> lines(const QByteArray &text)
{
    QList<QByteArray> result = text.split('\n');
    if (!result.isEmpty() && result.back().isEmpty()) {
        result.removeLast();
    }
    return result;
}

// Sample lines of one metric name (exact name, e.g. "x_bucket"), without the name.
QList<QByteArray> samplesOf(const QByteArray &text, const QByteArray &name)
{
    QList<QByteArray> result;
    for (const QByteArray &line : lines(text)) {
        if (line.startsWith(QByteArray(name + '{')) || line.startsWith(QByteArray(name + ' '))) {
            result.append(line.mid(name.size()));
        }
    }
    return result;
}

// The value of the sample "name{labels}" (or "name"), or a null QByteArray when absent.
QByteArray valueOf(const QByteArray &text, const QByteArray &series)
{
    for (const QByteArray &line : lines(text)) {
        if (line.startsWith(QByteArray(series + ' '))) {
            return line.mid(series.size() + 1);
        }
    }
    return {};
}

} // namespace

class TestMetrics final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();

    void everyFamilyHasHelpAndType();
    void samplesFollowTheirHeader();
    void emptyRegistry();
    void fromMethod_data();
    void fromMethod();
    void requestCounters();
    void durationHistogram();
    void messageCountersAndSizes();
    void gauges();
    void simpleCounters();
    void replayJournal();
    void processMetrics();
};

void TestMetrics::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
}

void TestMetrics::everyFamilyHasHelpAndType()
{
    const Metrics metrics;
    const QList<QByteArray> text = lines(metrics.render());
    qsizetype previous = -1;
    for (const Family &family : FAMILIES) {
        const QByteArray help = "# HELP "_ba + family.name + ' ';
        const auto it = std::find_if(text.begin(), text.end(), [&](const QByteArray &l) { return l.startsWith(help); });
        QVERIFY2(it != text.end(), family.name);
        QVERIFY2(it->size() > help.size() + 5, family.name); // a real help text
        const qsizetype at = it - text.begin();
        QVERIFY2(at > previous, family.name); // in the order of PROTOCOL §12
        previous = at;
        QVERIFY(at + 1 < text.size());
        QCOMPARE(text.at(at + 1), "# TYPE "_ba + family.name + ' ' + family.type);
    }
    // Nothing else is declared.
    const auto declared =
        std::count_if(text.begin(), text.end(), [](const QByteArray &l) { return l.startsWith("# TYPE "); });
    QCOMPARE(declared, qsizetype(std::size(FAMILIES)));
}

void TestMetrics::samplesFollowTheirHeader()
{
    Metrics metrics;
    metrics.requestFinished(MetricMethod::Get, MetricNamespace::Public, 200, 0.1);
    metrics.message(MetricNamespace::User, MetricBehavior::Pubsub, 10);
    metrics.huproxyConnection(101);
    const QByteArray text = metrics.render();
    QVERIFY(text.endsWith('\n'));

    static const QRegularExpression sampleFormat(
        u"^([a-z_]+)(\\{[a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*\\})? (-?[0-9.e+]+|\\+Inf)$"_s);
    QByteArray current; // family of the last # TYPE line
    int samples = 0;
    for (const QByteArray &line : lines(text)) {
        if (line.startsWith("# HELP ")) {
            continue;
        }
        if (line.startsWith("# TYPE ")) {
            current = line.split(' ').at(2);
            continue;
        }
        const QRegularExpressionMatch match = sampleFormat.match(QString::fromUtf8(line));
        QVERIFY2(match.hasMatch(), line.constData());
        QByteArray name = match.captured(1).toUtf8();
        for (const char *suffix : {"_bucket", "_sum", "_count"}) {
            if (name != current && name.endsWith(suffix)) {
                name.chop(qsizetype(qstrlen(suffix)));
            }
        }
        QVERIFY2(name == current, line.constData());
        ++samples;
    }
    QVERIFY(samples > 30);
}

void TestMetrics::emptyRegistry()
{
    const Metrics metrics;
    const QByteArray text = metrics.render();
    // Labelled families with unbounded combinations show no sample before their first observation.
    for (const char *name : {"patchwork_http_requests_total",
                             "patchwork_http_request_duration_seconds_bucket",
                             "patchwork_http_request_duration_seconds_count",
                             "patchwork_messages_total",
                             "patchwork_message_size_bytes_count",
                             "patchwork_huproxy_connections_total"}) {
        QVERIFY2(samplesOf(text, name).isEmpty(), name);
    }
    // Fixed label sets and plain values start at zero.
    QCOMPARE(valueOf(text, "patchwork_channels_total"), "0");
    QCOMPARE(valueOf(text, "patchwork_active_connections"), "0");
    QCOMPARE(
        samplesOf(text, "patchwork_waiting_requests"),
        (QList<QByteArray>{
            "{role=\"consumer\"} 0", "{role=\"producer\"} 0", "{role=\"requester\"} 0", "{role=\"responder\"} 0"}));
    QCOMPARE(samplesOf(text, "patchwork_auth_requests_total"),
             (QList<QByteArray>{"{result=\"success\"} 0", "{result=\"denied\"} 0", "{result=\"error\"} 0"}));
    QCOMPARE(samplesOf(text, "patchwork_cache_hits_total"),
             (QList<QByteArray>{"{type=\"hit\"} 0", "{type=\"miss\"} 0", "{type=\"stale\"} 0"}));
    QCOMPARE(samplesOf(text, "patchwork_huproxy_bytes_transferred_total"),
             (QList<QByteArray>{"{direction=\"up\"} 0", "{direction=\"down\"} 0"}));
    QCOMPARE(valueOf(text, "patchwork_rate_limited_total"), "0");
}

void TestMetrics::fromMethod_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<MetricMethod>("expected");

    QTest::addRow("GET") << "GET"_ba << MetricMethod::Get;
    QTest::addRow("POST") << "POST"_ba << MetricMethod::Post;
    QTest::addRow("PUT") << "PUT"_ba << MetricMethod::Put;
    QTest::addRow("DELETE") << "DELETE"_ba << MetricMethod::Delete;
    QTest::addRow("PATCH") << "PATCH"_ba << MetricMethod::Patch;
    QTest::addRow("OPTIONS") << "OPTIONS"_ba << MetricMethod::Options;
    QTest::addRow("HEAD") << "HEAD"_ba << MetricMethod::Head;
    QTest::addRow("lowercase get") << "get"_ba << MetricMethod::Other;
    QTest::addRow("PROPFIND") << "PROPFIND"_ba << MetricMethod::Other;
    QTest::addRow("TRACE") << "TRACE"_ba << MetricMethod::Other;
    QTest::addRow("GETS") << "GETS"_ba << MetricMethod::Other;
    QTest::addRow("PUTT") << "PUTT"_ba << MetricMethod::Other;
    QTest::addRow("empty") << QByteArray() << MetricMethod::Other;
}

void TestMetrics::fromMethod()
{
    QFETCH(QByteArray, method);
    QFETCH(MetricMethod, expected);
    QCOMPARE(Metrics::fromMethod(method), expected);
}

void TestMetrics::requestCounters()
{
    Metrics metrics;
    metrics.requestFinished(MetricMethod::Get, MetricNamespace::Public, 200, 0.01);
    metrics.requestFinished(MetricMethod::Get, MetricNamespace::Public, 200, 0.02);
    metrics.requestFinished(MetricMethod::Get, MetricNamespace::Public, 204, 0.02);
    metrics.requestFinished(MetricMethod::Post, MetricNamespace::Hooks, 429, 0);
    metrics.requestFinished(Metrics::fromMethod("PROPFIND"), MetricNamespace::User, 405, 0);
    metrics.requestFinished(Metrics::fromMethod("OPTIONS"), MetricNamespace::UserNtfy, 204, 0);
    metrics.requestFinished(MetricMethod::Delete, MetricNamespace::UserAdmin, 599, 0);
    metrics.requestFinished(MetricMethod::Get, MetricNamespace::Huproxy, 101, 0);
    metrics.requestFinished(MetricMethod::Get, MetricNamespace::Public, 600, 0); // not a status: not counted
    metrics.requestFinished(MetricMethod::Get, MetricNamespace::Public, 99, 0);

    QCOMPARE(samplesOf(metrics.render(), "patchwork_http_requests_total"),
             (QList<QByteArray>{
                 "{method=\"GET\",namespace=\"public\",status=\"200\"} 2",
                 "{method=\"GET\",namespace=\"public\",status=\"204\"} 1",
                 "{method=\"GET\",namespace=\"huproxy\",status=\"101\"} 1",
                 "{method=\"POST\",namespace=\"hooks\",status=\"429\"} 1",
                 "{method=\"DELETE\",namespace=\"user_admin\",status=\"599\"} 1",
                 "{method=\"OPTIONS\",namespace=\"user_ntfy\",status=\"204\"} 1",
                 "{method=\"other\",namespace=\"user\",status=\"405\"} 1",
             }));
}

void TestMetrics::durationHistogram()
{
    Metrics metrics;
    for (const double seconds : {0.003, 0.005, 0.3, 20.0, -1.0}) {
        metrics.requestFinished(MetricMethod::Get, MetricNamespace::Public, 200, seconds);
    }
    metrics.requestFinished(MetricMethod::Put, MetricNamespace::User, 201, 1.0);
    const QByteArray text = metrics.render();

    const QByteArray name = "patchwork_http_request_duration_seconds";
    const QByteArray getPublic = "{method=\"GET\",namespace=\"public\"";
    // Cumulative: each bucket counts every observation <= le (0.005 is in le="0.005"; -1 counts as 0).
    const QList<std::pair<const char *, int>> expected = {{"0.005", 3},
                                                          {"0.01", 3},
                                                          {"0.025", 3},
                                                          {"0.05", 3},
                                                          {"0.1", 3},
                                                          {"0.25", 3},
                                                          {"0.5", 4},
                                                          {"1", 4},
                                                          {"2.5", 4},
                                                          {"5", 4},
                                                          {"10", 4},
                                                          {"+Inf", 5}};
    QList<QByteArray> expectedLines;
    for (const auto &[le, count] : expected) {
        expectedLines.append(getPublic + ",le=\"" + le + "\"} " + QByteArray::number(count));
    }
    const QList<QByteArray> buckets = samplesOf(text, name + "_bucket");
    QCOMPARE(buckets.mid(0, expectedLines.size()), expectedLines);
    QCOMPARE(valueOf(text, name + "_count" + getPublic + '}'), "5");
    bool ok = false;
    const double sum = valueOf(text, name + "_sum" + getPublic + '}').toDouble(&ok);
    QVERIFY(ok);
    QVERIFY(qFuzzyCompare(sum, 20.308));

    // The other series, with an observation exactly on a bound.
    const QByteArray putUser = "{method=\"PUT\",namespace=\"user\"";
    QCOMPARE(valueOf(text, name + "_bucket" + putUser + ",le=\"0.5\"}"), "0");
    QCOMPARE(valueOf(text, name + "_bucket" + putUser + ",le=\"1\"}"), "1");
    QCOMPARE(valueOf(text, name + "_bucket" + putUser + ",le=\"+Inf\"}"), "1");
    QCOMPARE(valueOf(text, name + "_sum" + putUser + '}'), "1");
    QCOMPARE(valueOf(text, name + "_count" + putUser + '}'), "1");
    QCOMPARE(buckets.size(), 2 * 12);
}

void TestMetrics::messageCountersAndSizes()
{
    Metrics metrics;
    for (const qint64 bytes : {qint64(0), qint64(100), qint64(101), qint64(5000), qint64(20'000'000)}) {
        metrics.message(MetricNamespace::Public, MetricBehavior::Queue, bytes);
    }
    metrics.message(MetricNamespace::Hooks, MetricBehavior::Reqres, 1'000'000);
    const QByteArray text = metrics.render();

    QCOMPARE(samplesOf(text, "patchwork_messages_total"),
             (QList<QByteArray>{"{namespace=\"public\",behavior=\"queue\"} 5",
                                "{namespace=\"hooks\",behavior=\"reqres\"} 1"}));
    QCOMPARE(samplesOf(text, "patchwork_message_size_bytes_bucket"),
             (QList<QByteArray>{
                 "{namespace=\"public\",behavior=\"queue\",le=\"100\"} 2",
                 "{namespace=\"public\",behavior=\"queue\",le=\"1000\"} 3",
                 "{namespace=\"public\",behavior=\"queue\",le=\"10000\"} 4",
                 "{namespace=\"public\",behavior=\"queue\",le=\"100000\"} 4",
                 "{namespace=\"public\",behavior=\"queue\",le=\"1e+06\"} 4",
                 "{namespace=\"public\",behavior=\"queue\",le=\"1e+07\"} 4",
                 "{namespace=\"public\",behavior=\"queue\",le=\"+Inf\"} 5",
                 "{namespace=\"hooks\",behavior=\"reqres\",le=\"100\"} 0",
                 "{namespace=\"hooks\",behavior=\"reqres\",le=\"1000\"} 0",
                 "{namespace=\"hooks\",behavior=\"reqres\",le=\"10000\"} 0",
                 "{namespace=\"hooks\",behavior=\"reqres\",le=\"100000\"} 0",
                 "{namespace=\"hooks\",behavior=\"reqres\",le=\"1e+06\"} 1",
                 "{namespace=\"hooks\",behavior=\"reqres\",le=\"1e+07\"} 1",
                 "{namespace=\"hooks\",behavior=\"reqres\",le=\"+Inf\"} 1",
             }));
    QCOMPARE(samplesOf(text, "patchwork_message_size_bytes_sum"),
             (QList<QByteArray>{"{namespace=\"public\",behavior=\"queue\"} 20005201",
                                "{namespace=\"hooks\",behavior=\"reqres\"} 1000000"}));
    QCOMPARE(samplesOf(text, "patchwork_message_size_bytes_count"),
             (QList<QByteArray>{"{namespace=\"public\",behavior=\"queue\"} 5",
                                "{namespace=\"hooks\",behavior=\"reqres\"} 1"}));
}

void TestMetrics::gauges()
{
    Metrics metrics;
    metrics.setChannels(7);
    metrics.setChannels(5);
    metrics.addActiveConnections(3);
    metrics.addActiveConnections(-1);
    metrics.addWaiting(MetricWaitRole::Consumer, 2);
    metrics.addWaiting(MetricWaitRole::Responder, 1);
    metrics.addWaiting(MetricWaitRole::Consumer, -1);
    metrics.addWaiting(MetricWaitRole::Requester, 4);
    const QByteArray text = metrics.render();

    QCOMPARE(valueOf(text, "patchwork_channels_total"), "5");
    QCOMPARE(valueOf(text, "patchwork_active_connections"), "2");
    QCOMPARE(
        samplesOf(text, "patchwork_waiting_requests"),
        (QList<QByteArray>{
            "{role=\"consumer\"} 1", "{role=\"producer\"} 0", "{role=\"requester\"} 4", "{role=\"responder\"} 1"}));
}

void TestMetrics::simpleCounters()
{
    Metrics metrics;
    metrics.auth(MetricAuthResult::Success);
    metrics.auth(MetricAuthResult::Success);
    metrics.auth(MetricAuthResult::Denied);
    metrics.cache(MetricCacheEvent::Miss);
    metrics.cache(MetricCacheEvent::Stale);
    metrics.cache(MetricCacheEvent::Stale);
    metrics.cache(MetricCacheEvent::Stale);
    metrics.huproxyConnection(101);
    metrics.huproxyConnection(101);
    metrics.huproxyConnection(403);
    metrics.huproxyConnection(1011); // not an HTTP status: ignored
    metrics.huproxyBytes(MetricDirection::Up, 1500);
    metrics.huproxyBytes(MetricDirection::Up, 500);
    metrics.huproxyBytes(MetricDirection::Down, 5'000'000'000);
    metrics.huproxyBytes(MetricDirection::Down, -3);
    metrics.rateLimited();
    metrics.rateLimited();
    metrics.streamedTransfer(true, 3'000'000'000);
    metrics.streamedTransfer(false, 1000);
    metrics.streamedTransfer(false, 0);
    const QByteArray text = metrics.render();

    QCOMPARE(samplesOf(text, "patchwork_auth_requests_total"),
             (QList<QByteArray>{"{result=\"success\"} 2", "{result=\"denied\"} 1", "{result=\"error\"} 0"}));
    QCOMPARE(samplesOf(text, "patchwork_cache_hits_total"),
             (QList<QByteArray>{"{type=\"hit\"} 0", "{type=\"miss\"} 1", "{type=\"stale\"} 3"}));
    QCOMPARE(samplesOf(text, "patchwork_huproxy_connections_total"),
             (QList<QByteArray>{"{status=\"101\"} 2", "{status=\"403\"} 1"}));
    QCOMPARE(samplesOf(text, "patchwork_huproxy_bytes_transferred_total"),
             (QList<QByteArray>{"{direction=\"up\"} 2000", "{direction=\"down\"} 5000000000"}));
    QCOMPARE(valueOf(text, "patchwork_rate_limited_total"), "2");
    QCOMPARE(samplesOf(text, "patchwork_streamed_transfers_total"),
             (QList<QByteArray>{"{result=\"complete\"} 1", "{result=\"cut\"} 2"}));
    QCOMPARE(valueOf(text, "patchwork_streamed_bytes_total"), "3000001000");
}

void TestMetrics::replayJournal()
{
    Metrics metrics;
    std::array<quint64, 11> buckets{};
    buckets[0] = 3;
    buckets[3] = 1;
    metrics.replayJournalProgress(1, 7, buckets, 5, 11.5);
    metrics.replayJournalProgress(1, 0, buckets, 4, 0.25); // deltas add up
    metrics.setReplayJournalBacklog(12, 0.25);
    const QByteArray text = metrics.render();
    QCOMPARE(valueOf(text, "patchwork_replay_journal_queued_operations"), "12");
    QCOMPARE(valueOf(text, "patchwork_replay_journal_lag_seconds"), "0.25");
    QCOMPARE(valueOf(text, "patchwork_replay_journal_errors_total"), "2");
    QCOMPARE(valueOf(text, "patchwork_replay_journal_dropped_operations_total"), "7");
    QCOMPARE(valueOf(text, "patchwork_replay_journal_write_delay_seconds_bucket{le=\"0.005\"}"), "6");
    QCOMPARE(valueOf(text, "patchwork_replay_journal_write_delay_seconds_bucket{le=\"0.025\"}"), "6");
    QCOMPARE(valueOf(text, "patchwork_replay_journal_write_delay_seconds_bucket{le=\"0.05\"}"), "8");
    QCOMPARE(valueOf(text, "patchwork_replay_journal_write_delay_seconds_bucket{le=\"+Inf\"}"), "9");
    QCOMPARE(valueOf(text, "patchwork_replay_journal_write_delay_seconds_count"), "9");
    QCOMPARE(valueOf(text, "patchwork_replay_journal_write_delay_seconds_sum"), "11.75");
}

void TestMetrics::processMetrics()
{
    const qint64 before = QDateTime::currentSecsSinceEpoch();
    const Metrics metrics;
    const qint64 after = QDateTime::currentSecsSinceEpoch();
    const QByteArray text = metrics.render();
    bool ok = false;

    const double start = valueOf(text, "process_start_time_seconds").toDouble(&ok);
    QVERIFY(ok);
    QVERIFY(start >= double(before) && start <= double(after) + 1);
    QCOMPARE(start, metrics.startTimeSeconds());
    QVERIFY(!valueOf(text, "process_start_time_seconds").contains('e')); // plain decimal notation

    const qint64 rss = valueOf(text, "process_resident_memory_bytes").toLongLong(&ok);
    QVERIFY(ok);
    QVERIFY2(rss > 1024 * 1024 && rss < qint64(64) * 1024 * 1024 * 1024, QByteArray::number(rss).constData());

    const qint64 fds = valueOf(text, "process_open_fds").toLongLong(&ok);
    QVERIFY(ok);
    QVERIFY(fds >= 3); // at least stdin, stdout, stderr
    // One more open file is one more descriptor (the directory being read is not counted).
    QFile file(QCoreApplication::applicationFilePath());
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(valueOf(metrics.render(), "process_open_fds").toLongLong(), fds + 1);
    file.close();
    QCOMPARE(valueOf(metrics.render(), "process_open_fds").toLongLong(), fds);
}

QTEST_GUILESS_MAIN(TestMetrics)
#include "tst_metrics.moc"
