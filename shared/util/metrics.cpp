// SPDX-License-Identifier: MIT
#include "util/metrics.h"

#include <cmath>
#include <iterator>

#include <QDateTime>
#include <QFile>
#include <QLocale>

#ifdef Q_OS_LINUX
#include <dirent.h>
#include <unistd.h>
#endif

namespace Patchwork
{

namespace
{

constexpr const char *METHOD_LABELS[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "other"};
constexpr const char *NAMESPACE_LABELS[] = {"public", "hooks", "user", "user_ntfy", "user_admin", "huproxy"};
constexpr const char *BEHAVIOR_LABELS[] = {"queue", "pubsub", "reqres"};
constexpr const char *ROLE_LABELS[] = {"consumer", "producer", "requester", "responder"};
constexpr const char *AUTH_LABELS[] = {"success", "denied", "error"};
constexpr const char *CACHE_LABELS[] = {"hit", "miss", "stale"};
constexpr const char *DIRECTION_LABELS[] = {"up", "down"};
// Bucket bounds as Go's client renders them (strconv 'g', shortest).
constexpr const char *DURATION_LE[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"};
constexpr const char *SIZE_LE[] = {"100", "1000", "10000", "100000", "1e+06", "1e+07"};

static_assert(std::size(METHOD_LABELS) == size_t(MetricMethod::Count));
static_assert(std::size(NAMESPACE_LABELS) == size_t(MetricNamespace::Count));
static_assert(std::size(BEHAVIOR_LABELS) == size_t(MetricBehavior::Count));
static_assert(std::size(ROLE_LABELS) == size_t(MetricWaitRole::Count));
static_assert(std::size(AUTH_LABELS) == size_t(MetricAuthResult::Count));
static_assert(std::size(CACHE_LABELS) == size_t(MetricCacheEvent::Count));
static_assert(std::size(DIRECTION_LABELS) == size_t(MetricDirection::Count));
static_assert(std::size(DURATION_LE) == Metrics::DurationBuckets.size());
static_assert(std::size(SIZE_LE) == Metrics::SizeBuckets.size());
static_assert(std::tuple_size_v<decltype(Metrics::DurationBuckets)> == 11); // replayJournalProgress()

template <size_t N> size_t bucketIndex(const std::array<double, N> &bounds, double value)
{
    size_t i = 0;
    while (i < N && value > bounds[i]) {
        ++i;
    }
    return i; // N: only in +Inf
}

QByteArray number(double value)
{
    return QByteArray::number(value, 'g', QLocale::FloatingPointShortest);
}

void header(QByteArray &out, const char *name, const char *type, const char *help)
{
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

// name{labels} value\n; `labels` is the text inside the braces, possibly empty.
void sample(QByteArray &out, const char *name, const QByteArray &labels, const QByteArray &value)
{
    out += name;
    if (!labels.isEmpty()) {
        out += '{';
        out += labels;
        out += '}';
    }
    out += ' ';
    out += value;
    out += '\n';
}

QByteArray label(const char *name, const char *value)
{
    QByteArray text(name);
    text += "=\"";
    text += value;
    text += '"';
    return text;
}

template <typename Histogram, size_t N> void histogram(QByteArray &out,
                                                       const char *name,
                                                       const QByteArray &labels,
                                                       const Histogram &h,
                                                       const char *const (&le)[N],
                                                       const QByteArray &sum)
{
    const QByteArray base(name);
    const QByteArray bucketName = base + "_bucket";
    const QByteArray sumName = base + "_sum";
    const QByteArray countName = base + "_count";
    const QByteArray prefix = labels.isEmpty() ? QByteArray("le=\"") : labels + ",le=\"";
    quint64 cumulative = 0;
    for (size_t i = 0; i < N; ++i) {
        cumulative += h.buckets[i];
        sample(out, bucketName.constData(), prefix + le[i] + '"', QByteArray::number(cumulative));
    }
    sample(out, bucketName.constData(), prefix + "+Inf\"", QByteArray::number(h.count));
    sample(out, sumName.constData(), labels, sum);
    sample(out, countName.constData(), labels, QByteArray::number(h.count));
}

#ifdef Q_OS_LINUX
qint64 residentMemoryBytes()
{
    QFile statm(QStringLiteral("/proc/self/statm"));
    if (!statm.open(QIODevice::ReadOnly)) {
        return -1;
    }
    const QList<QByteArray> fields = statm.readAll().split(' ');
    bool ok = false;
    const qint64 pages = fields.size() > 1 ? fields.at(1).toLongLong(&ok) : 0;
    return ok ? pages * qint64(sysconf(_SC_PAGESIZE)) : -1;
}

qint64 openFds()
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir) {
        return -1;
    }
    const QByteArray own = QByteArray::number(dirfd(dir));
    qint64 count = 0;
    while (const dirent *entry = readdir(dir)) {
        const QByteArrayView name(entry->d_name);
        if (name != ".." && name != "." && name != own) {
            ++count;
        }
    }
    closedir(dir);
    return count;
}
#endif

} // namespace

Metrics::Metrics()
    : m_counters(std::make_unique<Counters>())
    , m_startTimeSeconds(double(QDateTime::currentMSecsSinceEpoch()) / 1000.0)
{
}

Metrics::~Metrics() = default;

MetricMethod Metrics::fromMethod(QByteArrayView method) noexcept
{
    switch (method.size()) {
    case 3:
        return method == "GET" ? MetricMethod::Get : method == "PUT" ? MetricMethod::Put : MetricMethod::Other;
    case 4:
        return method == "POST" ? MetricMethod::Post : method == "HEAD" ? MetricMethod::Head : MetricMethod::Other;
    case 5:
        return method == "PATCH" ? MetricMethod::Patch : MetricMethod::Other;
    case 6:
        return method == "DELETE" ? MetricMethod::Delete : MetricMethod::Other;
    case 7:
        return method == "OPTIONS" ? MetricMethod::Options : MetricMethod::Other;
    default:
        return MetricMethod::Other;
    }
}

void Metrics::requestFinished(MetricMethod method, MetricNamespace ns, int status, double seconds) noexcept
{
    const auto m = size_t(method);
    const auto n = size_t(ns);
    if (m >= size_t(MethodCount) || n >= size_t(NamespaceCount)) {
        return;
    }
    if (status >= FirstStatus && status < FirstStatus + StatusCount) {
        ++m_counters->requests[m][n][size_t(status - FirstStatus)];
    }
    if (!std::isfinite(seconds) || seconds < 0) {
        seconds = 0;
    }
    DurationHistogram &h = m_counters->durations[m][n];
    const size_t bucket = bucketIndex(DurationBuckets, seconds);
    if (bucket < h.buckets.size()) {
        ++h.buckets[bucket];
    }
    ++h.count;
    h.sum += seconds;
}

void Metrics::message(MetricNamespace ns, MetricBehavior behavior, qint64 bytes) noexcept
{
    const auto n = size_t(ns);
    const auto b = size_t(behavior);
    if (n >= size_t(NamespaceCount) || b >= size_t(BehaviorCount)) {
        return;
    }
    bytes = qMax<qint64>(0, bytes);
    ++m_counters->messages[n][b];
    SizeHistogram &h = m_counters->sizes[n][b];
    const size_t bucket = bucketIndex(SizeBuckets, double(bytes));
    if (bucket < h.buckets.size()) {
        ++h.buckets[bucket];
    }
    ++h.count;
    h.sum += bytes;
}

void Metrics::setChannels(qint64 channels) noexcept
{
    m_channels = channels;
}

void Metrics::addActiveConnections(int delta) noexcept
{
    m_activeConnections += delta;
}

void Metrics::addWaiting(MetricWaitRole role, int delta) noexcept
{
    if (size_t(role) < m_waiting.size()) {
        m_waiting[size_t(role)] += delta;
    }
}

void Metrics::auth(MetricAuthResult result) noexcept
{
    if (size_t(result) < m_auth.size()) {
        ++m_auth[size_t(result)];
    }
}

void Metrics::cache(MetricCacheEvent event) noexcept
{
    if (size_t(event) < m_cache.size()) {
        ++m_cache[size_t(event)];
    }
}

void Metrics::huproxyConnection(int status) noexcept
{
    if (status >= FirstStatus && status < FirstStatus + StatusCount) {
        ++m_counters->huproxyConnections[size_t(status - FirstStatus)];
    }
}

void Metrics::huproxyBytes(MetricDirection direction, qint64 bytes) noexcept
{
    if (size_t(direction) < m_huproxyBytes.size() && bytes > 0) {
        m_huproxyBytes[size_t(direction)] += quint64(bytes);
    }
}

void Metrics::rateLimited() noexcept
{
    ++m_rateLimited;
}

void Metrics::setReplayJournalBacklog(qint64 queued, double lagSeconds) noexcept
{
    m_journalQueued = queued;
    m_journalLag = lagSeconds;
}

void Metrics::replayJournalProgress(quint64 errors,
                                    quint64 dropped,
                                    const std::array<quint64, 11> &delayBuckets,
                                    quint64 delayCount,
                                    double delaySum) noexcept
{
    m_journalErrors += errors;
    m_journalDropped += dropped;
    for (size_t i = 0; i < delayBuckets.size(); ++i) {
        m_journalDelays.buckets[i] += delayBuckets[i];
    }
    m_journalDelays.count += delayCount;
    m_journalDelays.sum += delaySum;
}

void Metrics::streamedTransfer(bool complete, qint64 bytes) noexcept
{
    ++m_streamedTransfers[complete ? 1 : 0];
    if (bytes > 0) {
        m_streamedBytes += quint64(bytes);
    }
}

double Metrics::startTimeSeconds() const
{
    return m_startTimeSeconds;
}

QByteArray Metrics::render() const
{
    QByteArray out;
    out.reserve(16 * 1024);
    const Counters &c = *m_counters;

    header(
        out, "patchwork_http_requests_total", "counter", "Total HTTP requests by method, namespace and status code.");
    for (int m = 0; m < MethodCount; ++m) {
        for (int n = 0; n < NamespaceCount; ++n) {
            const QByteArray labels = label("method", METHOD_LABELS[m]) + ',' + label("namespace", NAMESPACE_LABELS[n]);
            for (int s = 0; s < StatusCount; ++s) {
                if (const quint64 value = c.requests[size_t(m)][size_t(n)][size_t(s)]) {
                    sample(out,
                           "patchwork_http_requests_total",
                           labels + ",status=\"" + QByteArray::number(FirstStatus + s) + '"',
                           QByteArray::number(value));
                }
            }
        }
    }

    header(out,
           "patchwork_http_request_duration_seconds",
           "histogram",
           "HTTP request duration in seconds, waiting included, by method and namespace.");
    for (int m = 0; m < MethodCount; ++m) {
        for (int n = 0; n < NamespaceCount; ++n) {
            const DurationHistogram &h = c.durations[size_t(m)][size_t(n)];
            if (h.count > 0) {
                histogram(out,
                          "patchwork_http_request_duration_seconds",
                          label("method", METHOD_LABELS[m]) + ',' + label("namespace", NAMESPACE_LABELS[n]),
                          h,
                          DURATION_LE,
                          number(h.sum));
            }
        }
    }

    header(out, "patchwork_channels_total", "gauge", "Number of live channels.");
    sample(out, "patchwork_channels_total", {}, QByteArray::number(m_channels));

    header(out, "patchwork_active_connections", "gauge", "Number of open client connections.");
    sample(out, "patchwork_active_connections", {}, QByteArray::number(m_activeConnections));

    header(out, "patchwork_waiting_requests", "gauge", "Number of requests currently waiting, by role.");
    for (size_t r = 0; r < m_waiting.size(); ++r) {
        sample(out, "patchwork_waiting_requests", label("role", ROLE_LABELS[r]), QByteArray::number(m_waiting[r]));
    }

    header(out, "patchwork_messages_total", "counter", "Total messages relayed, by namespace and behavior.");
    for (int n = 0; n < NamespaceCount; ++n) {
        for (int b = 0; b < BehaviorCount; ++b) {
            if (const quint64 value = c.messages[size_t(n)][size_t(b)]) {
                sample(out,
                       "patchwork_messages_total",
                       label("namespace", NAMESPACE_LABELS[n]) + ',' + label("behavior", BEHAVIOR_LABELS[b]),
                       QByteArray::number(value));
            }
        }
    }

    header(out,
           "patchwork_message_size_bytes",
           "histogram",
           "Size of relayed messages in bytes, by namespace and behavior.");
    for (int n = 0; n < NamespaceCount; ++n) {
        for (int b = 0; b < BehaviorCount; ++b) {
            const SizeHistogram &h = c.sizes[size_t(n)][size_t(b)];
            if (h.count > 0) {
                histogram(out,
                          "patchwork_message_size_bytes",
                          label("namespace", NAMESPACE_LABELS[n]) + ',' + label("behavior", BEHAVIOR_LABELS[b]),
                          h,
                          SIZE_LE,
                          QByteArray::number(h.sum));
            }
        }
    }

    header(out, "patchwork_auth_requests_total", "counter", "Total token authentications, by result.");
    for (size_t r = 0; r < m_auth.size(); ++r) {
        sample(out, "patchwork_auth_requests_total", label("result", AUTH_LABELS[r]), QByteArray::number(m_auth[r]));
    }

    header(out, "patchwork_cache_hits_total", "counter", "Total ACL cache lookups, by type.");
    for (size_t t = 0; t < m_cache.size(); ++t) {
        sample(out, "patchwork_cache_hits_total", label("type", CACHE_LABELS[t]), QByteArray::number(m_cache[t]));
    }

    header(out, "patchwork_huproxy_connections_total", "counter", "Total tunnel connection attempts, by HTTP status.");
    for (int s = 0; s < StatusCount; ++s) {
        if (const quint64 value = c.huproxyConnections[size_t(s)]) {
            sample(out,
                   "patchwork_huproxy_connections_total",
                   "status=\"" + QByteArray::number(FirstStatus + s) + '"',
                   QByteArray::number(value));
        }
    }

    header(out,
           "patchwork_huproxy_bytes_transferred_total",
           "counter",
           "Total bytes relayed through tunnels, by direction (up = client to target).");
    for (size_t d = 0; d < m_huproxyBytes.size(); ++d) {
        sample(out,
               "patchwork_huproxy_bytes_transferred_total",
               label("direction", DIRECTION_LABELS[d]),
               QByteArray::number(m_huproxyBytes[d]));
    }

    header(out, "patchwork_rate_limited_total", "counter", "Total requests refused by the rate limiter.");
    sample(out, "patchwork_rate_limited_total", {}, QByteArray::number(m_rateLimited));

    header(out, "patchwork_replay_journal_queued_operations", "gauge", "Replay journal operations not yet written.");
    sample(out, "patchwork_replay_journal_queued_operations", {}, QByteArray::number(m_journalQueued));
    header(out,
           "patchwork_replay_journal_lag_seconds",
           "gauge",
           "How long the oldest replay journal operation not yet written has waited.");
    sample(out, "patchwork_replay_journal_lag_seconds", {}, number(m_journalLag));
    header(out,
           "patchwork_replay_journal_write_delay_seconds",
           "histogram",
           "Time from queueing to commit of the replay journal's written operations.");
    histogram(out,
              "patchwork_replay_journal_write_delay_seconds",
              {},
              m_journalDelays,
              DURATION_LE,
              number(m_journalDelays.sum));
    header(out, "patchwork_replay_journal_errors_total", "counter", "Total replay journal write errors.");
    sample(out, "patchwork_replay_journal_errors_total", {}, QByteArray::number(m_journalErrors));
    header(out,
           "patchwork_replay_journal_dropped_operations_total",
           "counter",
           "Total replay journal operations dropped (the writer fell behind, or a write error ended journaling).");
    sample(out, "patchwork_replay_journal_dropped_operations_total", {}, QByteArray::number(m_journalDropped));
    header(out,
           "patchwork_streamed_transfers_total",
           "counter",
           "Total streamed transfers (bodies above the buffer limit) that ended, by result (cut = a party left).");
    sample(out,
           "patchwork_streamed_transfers_total",
           label("result", "complete"),
           QByteArray::number(m_streamedTransfers[1]));
    sample(
        out, "patchwork_streamed_transfers_total", label("result", "cut"), QByteArray::number(m_streamedTransfers[0]));
    header(out, "patchwork_streamed_bytes_total", "counter", "Total body bytes relayed by streamed transfers.");
    sample(out, "patchwork_streamed_bytes_total", {}, QByteArray::number(m_streamedBytes));

    header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
#ifdef Q_OS_LINUX
    if (const qint64 rss = residentMemoryBytes(); rss >= 0) {
        sample(out, "process_resident_memory_bytes", {}, QByteArray::number(rss));
    }
#endif
    header(out, "process_open_fds", "gauge", "Number of open file descriptors.");
#ifdef Q_OS_LINUX
    if (const qint64 fds = openFds(); fds >= 0) {
        sample(out, "process_open_fds", {}, QByteArray::number(fds));
    }
#endif
    header(out, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
    sample(out, "process_start_time_seconds", {}, number(m_startTimeSeconds));
    return out;
}

} // namespace Patchwork
