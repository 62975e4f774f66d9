// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <memory>

#include <QByteArray>
#include <QByteArrayView>

namespace Patchwork
{

// Label values of the metric families (PROTOCOL §12). The last enumerator of each enum is the count
// of the values before it; the Count values are not label values.
enum class MetricMethod
{
    Get,
    Post,
    Put,
    Delete,
    Patch,
    Options,
    Head,
    Other, // any other method, label "other"
    Count,
};

enum class MetricNamespace
{
    Public,
    Hooks,
    User,
    UserNtfy,
    UserAdmin,
    Huproxy,
    Count,
};

enum class MetricBehavior
{
    Queue,
    Pubsub,
    Reqres,
    Count,
};

enum class MetricWaitRole
{
    Consumer,
    Producer,
    Requester,
    Responder,
    Count,
};

enum class MetricAuthResult
{
    Success,
    Denied,
    Error,
    Count,
};

enum class MetricCacheEvent
{
    Hit,
    Miss,
    Stale,
    Count,
};

enum class MetricDirection
{
    Up, // client -> target
    Down, // target -> client
    Count,
};

// The Prometheus registry of the relay. Updates are O(1), allocation-free and lock-free (plain
// integers: use one Metrics from one thread); render() builds the text exposition format 0.0.4.
class Metrics
{
public:
    static constexpr char ContentType[] = "text/plain; version=0.0.4; charset=utf-8";

    // Captures process_start_time_seconds from the wall clock.
    Metrics();
    ~Metrics();
    Q_DISABLE_COPY_MOVE(Metrics)

    // The label of an HTTP method (case-sensitive, as methods are): GET ... HEAD, else Other.
    static MetricMethod fromMethod(QByteArrayView method) noexcept;

    // One finished request: counts status (100..599; others are not counted) and observes its
    // duration, waiting included.
    void requestFinished(MetricMethod method, MetricNamespace ns, int status, double seconds) noexcept;
    // One message brought by a producer (or a request/reply body).
    void message(MetricNamespace ns, MetricBehavior behavior, qint64 bytes) noexcept;
    void setChannels(qint64 channels) noexcept;
    void addActiveConnections(int delta) noexcept;
    void addWaiting(MetricWaitRole role, int delta) noexcept;
    void auth(MetricAuthResult result) noexcept;
    void cache(MetricCacheEvent event) noexcept;
    // One tunnel attempt ended with this HTTP status (101 when upgraded); 100..599, others ignored.
    void huproxyConnection(int status) noexcept;
    void huproxyBytes(MetricDirection direction, qint64 bytes) noexcept;
    void rateLimited() noexcept;
    // The replay journal: what it has queued and the age of the oldest of that (gauges); and what
    // happened since the last call: write errors, dropped operations, and the queue-to-commit delays
    // of the operations written (non-cumulative: bucket i counts the delays above DurationBuckets[i - 1] and at
    // most DurationBuckets[i]).
    void setReplayJournalBacklog(qint64 queued, double lagSeconds) noexcept;
    void replayJournalProgress(quint64 errors,
                               quint64 dropped,
                               const std::array<quint64, 11> &delayBuckets,
                               quint64 delayCount,
                               double delaySum) noexcept;
    // One streamed transfer (a body above --max-body) ended: `bytes` were relayed, all of them or not.
    void streamedTransfer(bool complete, qint64 bytes) noexcept;

    QByteArray render() const;

    double startTimeSeconds() const;

    static constexpr std::array<double, 11> DurationBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    static constexpr std::array<double, 6> SizeBuckets = {100, 1e3, 1e4, 1e5, 1e6, 1e7};

private:
    static constexpr int MethodCount = int(MetricMethod::Count);
    static constexpr int NamespaceCount = int(MetricNamespace::Count);
    static constexpr int BehaviorCount = int(MetricBehavior::Count);
    static constexpr int FirstStatus = 100;
    static constexpr int StatusCount = 500; // 100..599

    template <size_t N, typename Sum> struct Histogram
    {
        std::array<quint64, N> buckets{}; // not cumulative: observations in (bound[i-1], bound[i]]
        quint64 count = 0;
        Sum sum = 0;
    };
    using DurationHistogram = Histogram<DurationBuckets.size(), double>;
    using SizeHistogram = Histogram<SizeBuckets.size(), qint64>;

    struct Counters
    {
        // [method][namespace][status - 100]
        std::array<std::array<std::array<quint64, StatusCount>, NamespaceCount>, MethodCount> requests{};
        std::array<std::array<DurationHistogram, NamespaceCount>, MethodCount> durations{};
        std::array<std::array<quint64, BehaviorCount>, NamespaceCount> messages{};
        std::array<std::array<SizeHistogram, BehaviorCount>, NamespaceCount> sizes{};
        std::array<quint64, StatusCount> huproxyConnections{};
    };

    // The large arrays live on the heap, allocated once.
    std::unique_ptr<Counters> m_counters;
    qint64 m_channels = 0;
    qint64 m_activeConnections = 0;
    std::array<qint64, size_t(MetricWaitRole::Count)> m_waiting{};
    std::array<quint64, size_t(MetricAuthResult::Count)> m_auth{};
    std::array<quint64, size_t(MetricCacheEvent::Count)> m_cache{};
    std::array<quint64, size_t(MetricDirection::Count)> m_huproxyBytes{};
    quint64 m_rateLimited = 0;
    qint64 m_journalQueued = 0;
    double m_journalLag = 0;
    quint64 m_journalErrors = 0;
    quint64 m_journalDropped = 0;
    DurationHistogram m_journalDelays;
    std::array<quint64, 2> m_streamedTransfers{}; // [cut, complete]
    quint64 m_streamedBytes = 0;
    double m_startTimeSeconds = 0;
};

} // namespace Patchwork
