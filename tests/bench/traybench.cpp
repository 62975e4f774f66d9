// SPDX-License-Identifier: MIT
// traybench: the tray app's notification latency, memory and burst behaviour (README, "Tray").
//
// Starts a private D-Bus session bus with a recording org.freedesktop.Notifications service (the one the
// gui tests use; it timestamps each Notify call), then the built `patchwork-tray --relay` as a child
// process (offscreen, its settings and data in a temporary directory) with N subscriptions to pubsub
// channels of its own local relay. One subscription is measured, the others stay idle. The storm limit
// (pop-ups per subscription per 10 s) is raised in the seeded settings (`notifications/stormLimit`), so
// every message pops up. Measures:
//  - latency: M messages at R/s, from the start of each POST to the recorded Notify call (p50/p99);
//  - memory: the tray's VmRSS with the subscriptions idle and the relay running, once it is quiet;
//  - burst: B messages in S seconds; the largest event-loop stall inside the tray during the burst
//    (PATCHWORK_TRAY_STALL_LOG) and the history rows of the measured subscription afterwards.
// Prints one JSON line and a summary; exits 1 when messages are lost, 2 when the set-up fails.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <vector>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSettings>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTimer>
#include <QUuid>

#include "gui/subscriptionconfig.h"
#include "tests/gui/privatebus.h"
#include "tests/gui/recordingnotifications.h"

namespace
{

using namespace Qt::StringLiterals;
using Patchwork::Gui::SubscriptionConfig;
using SteadyClock = std::chrono::steady_clock;

constexpr int STORM_LIMIT = 1'000'000;
constexpr int HISTORY_MAX_COUNT = 100'000;

struct Options
{
    QString tray;
    int subscriptions = 20;
    int messages = 1000;
    double rate = 50;
    int burst = 5000;
    double burstSeconds = 5;
};

// Set-up failures (exit 2); thrown only outside event-loop callbacks.
struct SetupError : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

// Runs the event loop until `done` or `timeoutMs`. A real event loop (no sleeping between polls), so the
// recorded Notify calls are timestamped as soon as they arrive.
bool waitUntil(const std::function<bool()> &done, int timeoutMs)
{
    if (done()) {
        return true;
    }
    QEventLoop loop;
    QTimer poll;
    QElapsedTimer elapsed;
    elapsed.start();
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (done() || elapsed.elapsed() > timeoutMs) {
            loop.quit();
        }
    });
    poll.start(5);
    loop.exec();
    return done();
}

// A status line of /proc/PID/status in KiB, or -1.
qint64 procStatusKiB(qint64 pid, const QByteArray &key)
{
    QFile status(u"/proc/%1/status"_s.arg(pid));
    if (!status.open(QIODevice::ReadOnly)) {
        return -1;
    }
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith(QByteArray(key + ':'))) {
            return line.mid(key.size() + 1).trimmed().split(' ').first().toLongLong();
        }
    }
    return -1;
}

// utime + stime of a process in clock ticks, or -1.
qint64 cpuTicks(qint64 pid)
{
    QFile stat(u"/proc/%1/stat"_s.arg(pid));
    if (!stat.open(QIODevice::ReadOnly)) {
        return -1;
    }
    const QByteArray text = stat.readAll();
    const QList<QByteArray> fields = text.mid(text.lastIndexOf(')') + 2).split(' ');
    return fields.size() > 12 ? fields.at(11).toLongLong() + fields.at(12).toLongLong() : -1;
}

QString loadAverage()
{
    QFile file(u"/proc/loadavg"_s);
    return file.open(QIODevice::ReadOnly) ? QString::fromLatin1(file.readAll().split(' ').mid(0, 3).join(' '))
                                          : QString();
}

quint16 freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0)) {
        throw SetupError("no free port");
    }
    return probe.serverPort();
}

double percentile(std::vector<double> sorted, double p)
{
    if (sorted.empty()) {
        return -1;
    }
    std::sort(sorted.begin(), sorted.end());
    return sorted.at(std::min(sorted.size() - 1, size_t(p * double(sorted.size()))));
}

class Bench
{
public:
    explicit Bench(const Options &options)
        : m_options(options)
    {
    }

    ~Bench()
    {
        stopTray();
    }
    Q_DISABLE_COPY_MOVE(Bench)

    int run()
    {
        const QString loadBefore = loadAverage();
        startBus();
        seedSettings();
        startTray();
        warmUp();

        settle();
        const qint64 rssKiB = procStatusKiB(m_tray.processId(), "VmRSS");

        const Latency latency = measureLatency();
        const Burst burst = measureBurst();
        const qint64 peakKiB = procStatusKiB(m_tray.processId(), "VmHWM");
        const QString loadAfter = loadAverage();
        stopTray();

        const bool lost = latency.missing > 0 || burst.failures > 0 || burst.rows != m_options.burst;
        const QJsonObject json{
            {u"subscriptions"_s, m_options.subscriptions},
            {u"storm_limit"_s, STORM_LIMIT},
            {u"history_max_count"_s, HISTORY_MAX_COUNT},
            {u"latency_messages"_s, m_options.messages},
            {u"latency_rate_per_s"_s, m_options.rate},
            {u"latency_p50_ms"_s, latency.p50},
            {u"latency_p99_ms"_s, latency.p99},
            {u"latency_max_ms"_s, latency.max},
            {u"latency_missing"_s, latency.missing},
            {u"latency_max_stall_ms"_s, latency.maxStallMs},
            {u"rss_idle_kib"_s, rssKiB},
            {u"rss_peak_kib"_s, peakKiB},
            {u"burst_messages"_s, m_options.burst},
            {u"burst_seconds"_s, m_options.burstSeconds},
            {u"burst_publish_failures"_s, burst.failures},
            {u"burst_history_rows"_s, burst.rows},
            {u"burst_notify_calls"_s, burst.notifyCalls},
            {u"burst_drained_ms"_s, burst.drainedMs},
            {u"burst_max_stall_ms"_s, burst.maxStallMs},
            {u"loadavg_before"_s, loadBefore},
            {u"loadavg_after"_s, loadAfter},
            {u"lost"_s, lost},
        };
        std::printf("%s\n", QJsonDocument(json).toJson(QJsonDocument::Compact).constData());

        const auto verdict = [](bool met) { return met ? "met" : "NOT met"; };
        std::printf(
            "\npatchwork-tray, %d subscriptions on its local relay (1 measured, %d idle), storm limit raised to "
            "%d pop-ups per subscription per 10 s (settings key notifications/stormLimit), history bound raised to "
            "%d rows (history/maxCount)\n",
            m_options.subscriptions,
            m_options.subscriptions - 1,
            STORM_LIMIT,
            HISTORY_MAX_COUNT);
        std::printf("latency publish -> Notify, %d messages at %.0f/s: p50 %.1f ms, p99 %.1f ms, max %.1f ms, "
                    "%d missing (targets p50 <= 20 ms: %s, p99 <= 100 ms: %s); largest stall %lld ms\n",
                    m_options.messages,
                    m_options.rate,
                    latency.p50,
                    latency.p99,
                    latency.max,
                    latency.missing,
                    verdict(latency.p50 >= 0 && latency.p50 <= 20),
                    verdict(latency.p99 >= 0 && latency.p99 <= 100),
                    latency.maxStallMs);
        std::printf("memory, idle and quiet: VmRSS %.1f MiB (target <= 60 MiB: %s); peak VmHWM %.1f MiB\n",
                    double(rssKiB) / 1024,
                    verdict(rssKiB > 0 && rssKiB <= 60 * 1024),
                    double(peakKiB) / 1024);
        std::printf("burst, %d messages in %.1f s: %d publish failures, %d history rows (lost %d), %d Notify calls, "
                    "history complete %lld ms after the first publish, largest event-loop stall %lld ms "
                    "(target <= 100 ms: %s)\n",
                    m_options.burst,
                    m_options.burstSeconds,
                    burst.failures,
                    burst.rows,
                    m_options.burst - burst.rows,
                    burst.notifyCalls,
                    burst.drainedMs,
                    burst.maxStallMs,
                    verdict(burst.maxStallMs >= 0 && burst.maxStallMs <= 100));
        std::printf("load average before %s, after %s\n", qPrintable(loadBefore), qPrintable(loadAfter));
        return lost ? 1 : 0;
    }

private:
    struct Latency
    {
        double p50 = -1;
        double p99 = -1;
        double max = -1;
        int missing = 0;
        qint64 maxStallMs = -1;
    };
    struct Burst
    {
        int failures = 0;
        int rows = -1;
        int notifyCalls = 0;
        qint64 drainedMs = -1;
        qint64 maxStallMs = -1;
    };

    void startBus()
    {
        if (!m_bus.start()) {
            throw SetupError("cannot start dbus-daemon");
        }
        QDBusConnection bus = m_bus.connect(u"notifications"_s);
        if (!bus.registerObject(u"/org/freedesktop/Notifications"_s, &m_notifications, QDBusConnection::ExportAllSlots)
            || !bus.registerService(u"org.freedesktop.Notifications"_s)) {
            throw SetupError("cannot register org.freedesktop.Notifications on the private bus");
        }
    }

    // The tray's settings file as QSettings finds it under XDG_CONFIG_HOME (organisation "patchwork").
    void seedSettings()
    {
        m_port = freePort();
        m_base = QUrl(u"http://127.0.0.1:%1"_s.arg(m_port));
        QSettings settings(m_dir.filePath(u"config/patchwork/patchwork-tray.conf"_s), QSettings::IniFormat);
        QList<SubscriptionConfig> list;
        for (int i = 0; i < m_options.subscriptions; ++i) {
            SubscriptionConfig c;
            c.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
            c.name = u"bench-%1"_s.arg(i, 2, 10, QChar(u'0'));
            c.serverUrl = m_base;
            c.channelPath = u"/public/pubsub/"_s + c.name;
            list.append(c);
        }
        m_measured = list.constFirst().name;
        Patchwork::Gui::SubscriptionSettings::save(settings, list);
        settings.setValue(u"notifications/stormLimit"_s, STORM_LIMIT);
        settings.setValue(u"history/maxCount"_s, HISTORY_MAX_COUNT);
        settings.sync();
        if (settings.status() != QSettings::NoError) {
            throw SetupError("cannot write the tray's settings");
        }
    }

    void startTray()
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(u"QT_QPA_PLATFORM"_s, u"offscreen"_s);
        env.insert(u"DBUS_SESSION_BUS_ADDRESS"_s, m_bus.address());
        env.insert(u"XDG_CONFIG_HOME"_s, m_dir.filePath(u"config"_s));
        env.insert(u"XDG_DATA_HOME"_s, m_dir.filePath(u"data"_s));
        env.insert(u"XDG_RUNTIME_DIR"_s, m_dir.filePath(u"run"_s));
        env.insert(u"PATCHWORK_TRAY_STALL_LOG"_s, m_dir.filePath(u"stalls.log"_s));
        QDir(m_dir.path()).mkpath(u"run"_s);
        QFile::setPermissions(m_dir.filePath(u"run"_s), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        m_tray.setProcessEnvironment(env);
        m_tray.setProcessChannelMode(QProcess::MergedChannels);
        m_tray.setStandardOutputFile(m_dir.filePath(u"tray.log"_s));
        m_tray.start(m_options.tray, {u"--relay"_s, u"--relay-port"_s, QString::number(m_port)});
        if (!m_tray.waitForStarted(10'000)) {
            throw SetupError(qPrintable(u"cannot start %1: %2"_s.arg(m_options.tray, m_tray.errorString())));
        }
        int status = 0;
        const bool up = waitUntil(
            [&] {
                if (status == 0) {
                    status = -1;
                    QNetworkReply *reply = m_nam.get(QNetworkRequest(m_base.resolved(QUrl(u"/healthz"_s))));
                    QObject::connect(reply, &QNetworkReply::finished, reply, [reply, &status] {
                        status = reply->error() == QNetworkReply::NoError ? 200 : 0;
                        reply->deleteLater();
                    });
                }
                return status == 200 || m_tray.state() == QProcess::NotRunning;
            },
            20'000);
        if (!up || status != 200) {
            throw SetupError(qPrintable(u"the tray's relay did not come up; its log:\n"_s + trayLog()));
        }
    }

    QString trayLog() const
    {
        QFile log(m_dir.filePath(u"tray.log"_s));
        return log.open(QIODevice::ReadOnly) ? QString::fromUtf8(log.readAll().right(4000)) : QString();
    }

    void stopTray()
    {
        if (m_tray.state() != QProcess::NotRunning) {
            m_tray.terminate();
            if (!m_tray.waitForFinished(5000)) {
                m_tray.kill();
                m_tray.waitForFinished(5000);
            }
        }
    }

    // POSTs "<tag> <n>" to a pubsub channel of the tray's relay.
    void publish(const QString &channel, const QByteArray &tag, int n)
    {
        QNetworkRequest request(m_base.resolved(QUrl(u"/public/pubsub/"_s + channel)));
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("text/plain"));
        QNetworkReply *reply = m_nam.post(request, tag + ' ' + QByteArray::number(n));
        ++m_inFlight;
        QObject::connect(reply, &QNetworkReply::finished, reply, [this, reply] {
            --m_inFlight;
            if (reply->error() != QNetworkReply::NoError) {
                if (m_failures++ == 0) {
                    std::fprintf(stderr, "traybench: publish failed: %s\n", qPrintable(reply->errorString()));
                }
            }
            reply->deleteLater();
        });
    }

    // Publishes `count` messages to `channel` at `rate` per second; `started` gets each POST's start.
    void publishPaced(const QString &channel,
                      const QByteArray &tag,
                      int count,
                      double rate,
                      std::vector<SteadyClock::time_point> *started)
    {
        started->assign(size_t(count), {});
        int sent = 0;
        QElapsedTimer elapsed;
        elapsed.start();
        QTimer tick;
        tick.setTimerType(Qt::PreciseTimer);
        QEventLoop loop;
        QObject::connect(&tick, &QTimer::timeout, &loop, [&] {
            const int due = std::min(count, int(double(elapsed.nsecsElapsed()) * rate / 1e9) + 1);
            for (; sent < due; ++sent) {
                (*started)[size_t(sent)] = SteadyClock::now();
                publish(channel, tag, sent);
            }
            if (sent == count) {
                loop.quit();
            }
        });
        tick.start(1);
        loop.exec();
    }

    // Notify calls whose body is "<tag> <n>", from call index `from` on: n -> arrival.
    std::vector<SteadyClock::time_point> notified(const QString &tag, int count, qsizetype from = 0) const
    {
        std::vector<SteadyClock::time_point> at(static_cast<size_t>(count));
        const QRegularExpression pattern(u"^%1 (\\d+)$"_s.arg(tag));
        for (qsizetype i = from; i < m_notifications.calls.size(); ++i) {
            const auto &call = m_notifications.calls.at(i);
            const QRegularExpressionMatch match = pattern.match(call.body);
            const int n = match.hasMatch() ? match.captured(1).toInt() : -1;
            if (n >= 0 && n < count && at[size_t(n)] == SteadyClock::time_point{}) {
                at[size_t(n)] = call.received;
            }
        }
        return at;
    }

    // One message on every channel until each subscription has popped one up: all streams are connected.
    void warmUp()
    {
        QElapsedTimer elapsed;
        elapsed.start();
        while (elapsed.elapsed() < 30'000) {
            const std::vector<SteadyClock::time_point> seen = notified(u"warm"_s, m_options.subscriptions);
            int missing = 0;
            for (int i = 0; i < m_options.subscriptions; ++i) {
                if (seen[size_t(i)] == SteadyClock::time_point{}) {
                    ++missing;
                    publish(u"bench-%1"_s.arg(i, 2, 10, QChar(u'0')), "warm", i);
                }
            }
            if (missing == 0) {
                return;
            }
            waitUntil([] { return false; }, 1000);
        }
        throw SetupError(
            qPrintable(u"not every subscription received a message within 30 s; the tray's log:\n"_s + trayLog()));
    }

    // Waits until the tray has used no CPU for 500 ms (at least 2 s, at most 15 s).
    void settle()
    {
        waitUntil([] { return false; }, 2000);
        qint64 last = cpuTicks(m_tray.processId());
        for (int i = 0; i < 30; ++i) {
            waitUntil([] { return false; }, 500);
            const qint64 now = cpuTicks(m_tray.processId());
            if (now == last) {
                return;
            }
            last = now;
        }
    }

    // The largest gap in the tray's stall log over lines written in [fromMs, toMs] (epoch ms), or -1.
    qint64 maxStall(qint64 fromMs, qint64 toMs) const
    {
        QFile log(m_dir.filePath(u"stalls.log"_s));
        if (!log.open(QIODevice::ReadOnly)) {
            return -1;
        }
        qint64 max = -1;
        for (const QByteArray &line : log.readAll().split('\n')) {
            const QList<QByteArray> fields = line.split(' ');
            if (fields.size() == 2 && fields.at(0).toLongLong() >= fromMs && fields.at(0).toLongLong() <= toMs) {
                max = std::max(max, fields.at(1).toLongLong());
            }
        }
        return max;
    }

    Latency measureLatency()
    {
        Latency result;
        const qsizetype from = m_notifications.calls.size();
        const qint64 startMs = QDateTime::currentMSecsSinceEpoch();
        std::vector<SteadyClock::time_point> started;
        publishPaced(m_measured, "lat", m_options.messages, m_options.rate, &started);
        const auto complete = [&] {
            const std::vector<SteadyClock::time_point> at = notified(u"lat"_s, m_options.messages, from);
            return std::none_of(at.begin(), at.end(), [](auto t) { return t == SteadyClock::time_point{}; });
        };
        waitUntil(complete, 10'000);
        const std::vector<SteadyClock::time_point> at = notified(u"lat"_s, m_options.messages, from);
        std::vector<double> ms;
        for (size_t i = 0; i < at.size(); ++i) {
            if (at[i] == SteadyClock::time_point{}) {
                ++result.missing;
            } else {
                ms.push_back(std::chrono::duration<double, std::milli>(at[i] - started[i]).count());
            }
        }
        result.p50 = percentile(ms, 0.50);
        result.p99 = percentile(ms, 0.99);
        result.max = ms.empty() ? -1 : *std::max_element(ms.begin(), ms.end());
        waitUntil([] { return false; }, 1100); // the stall log's line for the last second
        result.maxStallMs = maxStall(startMs, QDateTime::currentMSecsSinceEpoch());
        return result;
    }

    int historyRows(const QString &tag)
    {
        QSqlDatabase db = QSqlDatabase::database(u"history"_s, false);
        if (!db.isValid()) {
            db = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"history"_s);
            db.setDatabaseName(m_dir.filePath(u"data/patchwork/patchwork-tray/history.sqlite"_s));
        }
        if (!db.isOpen() && !db.open()) {
            return -1;
        }
        QSqlQuery query(db);
        query.prepare(u"SELECT COUNT(*) FROM messages WHERE subscription = ? AND body LIKE ?"_s);
        query.addBindValue(m_measured);
        query.addBindValue(QString(tag + u" %"_s));
        return query.exec() && query.next() ? query.value(0).toInt() : -1;
    }

    Burst measureBurst()
    {
        Burst result;
        const int failuresBefore = m_failures;
        const qsizetype from = m_notifications.calls.size();
        const qint64 startMs = QDateTime::currentMSecsSinceEpoch();
        QElapsedTimer elapsed;
        elapsed.start();
        std::vector<SteadyClock::time_point> started;
        publishPaced(m_measured, "burst", m_options.burst, m_options.burst / m_options.burstSeconds, &started);
        waitUntil([&] { return m_inFlight == 0; }, 60'000);
        waitUntil([&] { return historyRows(u"burst"_s) >= m_options.burst; }, 60'000);
        result.drainedMs = elapsed.elapsed();
        const qint64 endMs = QDateTime::currentMSecsSinceEpoch();
        waitUntil([] { return false; }, 1100); // the stall log's line for the last second
        result.maxStallMs = maxStall(startMs, endMs + 1000);
        result.rows = historyRows(u"burst"_s);
        result.failures = m_failures - failuresBefore;
        const std::vector<SteadyClock::time_point> at = notified(u"burst"_s, m_options.burst, from);
        result.notifyCalls =
            int(std::count_if(at.begin(), at.end(), [](auto t) { return t != SteadyClock::time_point{}; }));
        QSqlDatabase::database(u"history"_s, false).close();
        return result;
    }

    Options m_options;
    QTemporaryDir m_dir;
    Patchwork::Test::PrivateBus m_bus;
    Patchwork::Test::RecordingNotifications m_notifications;
    QProcess m_tray;
    QNetworkAccessManager m_nam;
    quint16 m_port = 0;
    QUrl m_base;
    QString m_measured;
    int m_inFlight = 0;
    int m_failures = 0;
};

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(u"Latency, memory and burst behaviour of patchwork-tray (see the README)."_s);
    parser.addHelpOption();
    const QCommandLineOption tray(u"tray"_s, u"The patchwork-tray binary (default: next to this tool)."_s, u"path"_s);
    const QCommandLineOption subscriptions(u"subscriptions"_s, u"Subscriptions (default 20)."_s, u"n"_s);
    const QCommandLineOption messages(u"messages"_s, u"Latency messages (default 1000)."_s, u"n"_s);
    const QCommandLineOption rate(u"rate"_s, u"Latency messages per second (default 50)."_s, u"n"_s);
    const QCommandLineOption burst(u"burst"_s, u"Burst messages (default 5000)."_s, u"n"_s);
    const QCommandLineOption burstSeconds(u"burst-seconds"_s, u"Burst duration (default 5)."_s, u"s"_s);
    parser.addOptions({tray, subscriptions, messages, rate, burst, burstSeconds});
    parser.process(app);

    Options options;
    options.tray = parser.isSet(tray) ? parser.value(tray)
                                      : QDir(QCoreApplication::applicationDirPath()).filePath(u"patchwork-tray"_s);
    const auto number = [&](const QCommandLineOption &option, double fallback) {
        bool ok = true;
        const double value = parser.isSet(option) ? parser.value(option).toDouble(&ok) : fallback;
        if (!ok || value <= 0) {
            std::fprintf(stderr, "traybench: --%s: not a positive number\n", qPrintable(option.names().constFirst()));
            std::exit(2);
        }
        return value;
    };
    options.subscriptions = int(number(subscriptions, options.subscriptions));
    options.messages = int(number(messages, options.messages));
    options.rate = number(rate, options.rate);
    options.burst = int(number(burst, options.burst));
    options.burstSeconds = number(burstSeconds, options.burstSeconds);

    try {
        Bench bench(options);
        return bench.run();
    } catch (const SetupError &e) {
        std::fprintf(stderr, "traybench: %s\n", e.what());
        return 2;
    }
}
