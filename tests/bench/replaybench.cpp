// SPDX-License-Identifier: MIT
// replaybench: what the replay journal (README "Durable replay") costs, against patchworkd instances it
// starts on 127.0.0.1 itself, the journal on (its default) and off (`--replay-store none`) alternating
// round by round, so each comparison is a ratio measured in one run.
//
//  1. publish: pubsub publishes with nobody subscribed, as fast as `--conns` keep-alive connections with
//     `--depth` pipelined requests each go, for `--seconds`; messages/s, journal on / off.
//  2. fanout: `--subscribers` long-poll subscribers on one channel, one publish, the time until the last
//     of them has the message; `--fanouts` times per round, the median; journal on minus off.
//  3. steady: `--rate` publishes/s for `--steady-seconds` with the journal on; every second the daemon's
//     /metrics (journal queue, lag, the write delay histogram) and the size of its WAL file; the p99 of
//     the write delay (from the histogram: the smallest bucket bound that holds 99 % of the operations),
//     the largest lag seen, the largest WAL.
//  4. restore: a journal filled to `--replay-total-bytes` (64 MiB, the default total), a clean stop, and
//     the time from starting the daemon to its listening (the restore happens before it listens), and
//     the same start with an empty journal.
//
//   replaybench --daemon build/bin/patchworkd [--rounds 3] [--only publish,fanout,steady,restore] ...
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QThread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace
{

using namespace Qt::StringLiterals;

[[noreturn]] void die(const QString &message)
{
    std::fprintf(stderr, "replaybench: %s\n", qPrintable(message));
    std::exit(2);
}

int connectTo(quint16 port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) != 0) {
        die(u"connect: %1"_s.arg(QString::fromLocal8Bit(std::strerror(errno))));
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

void sendAll(int fd, const QByteArray &bytes)
{
    qsizetype at = 0;
    while (at < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.constData() + at, size_t(bytes.size() - at), MSG_NOSIGNAL);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            die(u"send: %1"_s.arg(QString::fromLocal8Bit(std::strerror(errno))));
        }
        at += n;
    }
}

// Counts complete responses in what arrived on a connection (small bodies with Content-Length).
struct ResponseCounter
{
    QByteArray buffer;
    int count(const char *data, qsizetype size)
    {
        buffer.append(data, size);
        int n = 0;
        for (;;) {
            const qsizetype head = buffer.indexOf("\r\n\r\n");
            if (head < 0) {
                return n;
            }
            qsizetype length = 0;
            const qsizetype cl = buffer.indexOf("Content-Length: ");
            if (cl >= 0 && cl < head) {
                length = buffer.mid(cl + 16, buffer.indexOf("\r\n", cl) - cl - 16).toLongLong();
            }
            if (buffer.size() < head + 4 + length) {
                return n;
            }
            if (!buffer.startsWith("HTTP/1.1 200")) {
                die(u"unexpected answer: %1"_s.arg(QString::fromUtf8(buffer.left(head))));
            }
            buffer.remove(0, head + 4 + length);
            ++n;
        }
    }
};

QByteArray publishRequest(const QByteArray &channel, const QByteArray &body)
{
    return "POST /public/pubsub/" + channel
           + " HTTP/1.1\r\nHost: b\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

QByteArray httpGet(quint16 port, const QByteArray &target)
{
    const int fd = connectTo(port);
    sendAll(fd, "GET " + target + " HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n");
    QByteArray out;
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) {
        out.append(buf, n);
    }
    ::close(fd);
    return out.mid(out.indexOf("\r\n\r\n") + 4);
}

double metric(const QByteArray &text, const QByteArray &series)
{
    for (const QByteArray &line : text.split('\n')) {
        if (line.startsWith(QByteArray(series + ' '))) {
            return line.mid(series.size() + 1).toDouble();
        }
    }
    return -1;
}

// One patchworkd with its own data directory; its log in <dataDir>.log.
class Daemon
{
public:
    Daemon(const QString &program, const QString &dataDir, const QStringList &extra)
        : m_log(dataDir + u".log"_s)
    {
        m_process.setProgram(program);
        m_process.setArguments(QStringList{u"start"_s,
                                           u"--host"_s,
                                           u"127.0.0.1"_s,
                                           u"--port"_s,
                                           u"0"_s,
                                           u"--rate-limit"_s,
                                           u"0"_s,
                                           u"--max-waiting-per-ip"_s,
                                           u"0"_s,
                                           u"--max-connections-per-ip"_s,
                                           u"0"_s,
                                           u"--data-dir"_s,
                                           dataDir}
                               + extra);
        m_process.setStandardErrorFile(m_log);
    }
    ~Daemon()
    {
        stop();
    }
    // Starts it and waits until it listens; the milliseconds that took.
    qint64 start()
    {
        QElapsedTimer t;
        t.start();
        m_process.start();
        static const QRegularExpression listening(u"listening on http://127\\.0\\.0\\.1:(\\d+)"_s);
        while (t.elapsed() < 60'000 && m_process.state() != QProcess::NotRunning) {
            QFile log(m_log);
            if (log.open(QIODevice::ReadOnly)) {
                const QRegularExpressionMatch m = listening.match(QString::fromUtf8(log.readAll()));
                if (m.hasMatch()) {
                    m_port = quint16(m.captured(1).toUInt());
                    return t.elapsed();
                }
            }
            QThread::usleep(500);
        }
        die(u"patchworkd did not listen; see %1"_s.arg(m_log));
    }
    void stop()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.terminate();
            if (!m_process.waitForFinished(60'000)) {
                m_process.kill();
                m_process.waitForFinished();
            }
        }
    }
    quint16 port() const
    {
        return m_port;
    }

private:
    QString m_log;
    QProcess m_process;
    quint16 m_port = 0;
};

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// Closed loop: `conns` connections with `depth` requests in flight each, for `seconds`; messages/s.
double publishRate(quint16 port, int conns, int depth, int seconds)
{
    const QByteArray body(64, 'x');
    std::vector<pollfd> fds;
    std::vector<ResponseCounter> counters{size_t(conns)};
    std::vector<QByteArray> requests;
    for (int i = 0; i < conns; ++i) {
        fds.push_back({connectTo(port), POLLIN, 0});
        requests.push_back(publishRequest("bench" + QByteArray::number(i % 64), body));
        QByteArray burst;
        for (int d = 0; d < depth; ++d) {
            burst += requests.back();
        }
        sendAll(fds.back().fd, burst);
    }
    QElapsedTimer t;
    t.start();
    qint64 done = 0;
    qint64 warm = -1;
    const qint64 warmupMs = 1000;
    char buf[65536];
    while (t.elapsed() < warmupMs + seconds * 1000) {
        if (warm < 0 && t.elapsed() >= warmupMs) {
            warm = done;
        }
        ::poll(fds.data(), fds.size(), 100);
        for (size_t i = 0; i < fds.size(); ++i) {
            if (!(fds[i].revents & POLLIN)) {
                continue;
            }
            const ssize_t n = ::recv(fds[i].fd, buf, sizeof(buf), 0);
            if (n <= 0) {
                die(u"a publisher's connection closed"_s);
            }
            const int answered = counters[i].count(buf, n);
            done += answered;
            QByteArray again;
            for (int k = 0; k < answered; ++k) {
                again += requests[i];
            }
            sendAll(fds[i].fd, again);
        }
    }
    for (const pollfd &p : fds) {
        ::close(p.fd);
    }
    return double(done - warm) / seconds;
}

// `subscribers` long-polls on one channel, one publish: the ms until the last has its answer.
double fanoutMs(quint16 port, int subscribers, int n)
{
    const QByteArray channel = "fan" + QByteArray::number(n);
    std::vector<pollfd> fds;
    for (int i = 0; i < subscribers; ++i) {
        fds.push_back({connectTo(port), POLLIN, 0});
        sendAll(fds.back().fd, "GET /public/pubsub/" + channel + " HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n");
    }
    // Wait until all of them wait (the daemon counts them in /metrics).
    QElapsedTimer w;
    w.start();
    while (metric(httpGet(port, "/metrics"), "patchwork_waiting_requests{role=\"consumer\"}") < subscribers) {
        if (w.elapsed() > 30'000) {
            die(u"the subscribers did not all wait"_s);
        }
        QThread::msleep(5);
    }
    const int publisher = connectTo(port);
    QElapsedTimer t;
    t.start();
    sendAll(publisher, publishRequest(channel, "fan"));
    int open = subscribers;
    char buf[4096];
    while (open > 0) {
        ::poll(fds.data(), fds.size(), 1000);
        for (pollfd &p : fds) {
            if (p.fd >= 0 && (p.revents & POLLIN)) {
                if (::recv(p.fd, buf, sizeof(buf), 0) <= 0) { // the whole answer, then the close
                    ::close(p.fd);
                    p.fd = -1;
                    --open;
                }
            }
        }
    }
    const double ms = double(t.nsecsElapsed()) / 1e6;
    ::close(publisher);
    return ms;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption daemonOption(u"daemon"_s, u"patchworkd"_s, u"path"_s);
    const QCommandLineOption onlyOption(u"only"_s, u"parts to run"_s, u"list"_s, u"publish,fanout,steady,restore"_s);
    const QCommandLineOption roundsOption(u"rounds"_s, u"rounds per comparison"_s, u"n"_s, u"3"_s);
    const QCommandLineOption secondsOption(u"seconds"_s, u"publish: seconds per round"_s, u"s"_s, u"10"_s);
    const QCommandLineOption connsOption(u"conns"_s, u"publish: connections"_s, u"n"_s, u"16"_s);
    const QCommandLineOption depthOption(u"depth"_s, u"publish: pipelined requests per connection"_s, u"n"_s, u"8"_s);
    const QCommandLineOption subscribersOption(u"subscribers"_s, u"fanout: subscribers"_s, u"n"_s, u"1000"_s);
    const QCommandLineOption fanoutsOption(u"fanouts"_s, u"fanout: publishes per round"_s, u"n"_s, u"15"_s);
    const QCommandLineOption rateOption(u"rate"_s, u"steady: publishes per second"_s, u"n"_s, u"20000"_s);
    const QCommandLineOption steadyOption(u"steady-seconds"_s, u"steady: seconds"_s, u"s"_s, u"600"_s);
    parser.addOptions({daemonOption,
                       onlyOption,
                       roundsOption,
                       secondsOption,
                       connsOption,
                       depthOption,
                       subscribersOption,
                       fanoutsOption,
                       rateOption,
                       steadyOption});
    parser.process(app);
    const QString program = parser.value(daemonOption);
    if (program.isEmpty()) {
        die(u"--daemon is required"_s);
    }
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    const QStringList only = parser.value(onlyOption).split(u',');
    const int rounds = parser.value(roundsOption).toInt();
    QTemporaryDir dir;
    const QStringList journalOff{u"--replay-store"_s, u"none"_s};
    int data = 0;
    const auto freshDir = [&]() { return dir.filePath(u"d%1"_s.arg(++data)); };

    if (only.contains(u"publish"_s)) {
        std::vector<double> on, off, ratio;
        for (int r = 0; r < rounds; ++r) {
            for (const bool journal : {false, true}) {
                Daemon d(program, freshDir(), journal ? QStringList{} : journalOff);
                d.start();
                const double rate = publishRate(d.port(),
                                                parser.value(connsOption).toInt(),
                                                parser.value(depthOption).toInt(),
                                                parser.value(secondsOption).toInt());
                (journal ? on : off).push_back(rate);
                std::printf("publish round %d journal %s: %.0f msg/s\n", r + 1, journal ? "on " : "off", rate);
            }
            ratio.push_back(on.back() / off.back());
        }
        std::printf("PUBLISH median on %.0f msg/s, off %.0f msg/s, ratio on/off (median of rounds) %.3f\n",
                    median(on),
                    median(off),
                    median(ratio));
    }
    if (only.contains(u"fanout"_s)) {
        std::vector<double> on, off, diff;
        const int subscribers = parser.value(subscribersOption).toInt();
        for (int r = 0; r < rounds; ++r) {
            for (const bool journal : {false, true}) {
                Daemon d(program, freshDir(), journal ? QStringList{} : journalOff);
                d.start();
                std::vector<double> times;
                for (int n = 0; n < parser.value(fanoutsOption).toInt(); ++n) {
                    times.push_back(fanoutMs(d.port(), subscribers, n));
                }
                (journal ? on : off).push_back(median(times));
                std::printf("fanout round %d journal %s: median %.2f ms to %d subscribers\n",
                            r + 1,
                            journal ? "on " : "off",
                            median(times),
                            subscribers);
            }
            diff.push_back(on.back() - off.back());
        }
        std::printf("FANOUT median on %.2f ms, off %.2f ms, on - off (median of rounds) %+.2f ms\n",
                    median(on),
                    median(off),
                    median(diff));
    }
    if (only.contains(u"steady"_s)) {
        const QString data1 = freshDir();
        Daemon d(program, data1, {});
        d.start();
        const int rate = parser.value(rateOption).toInt();
        const int seconds = parser.value(steadyOption).toInt();
        const int conns = 8;
        std::vector<pollfd> fds;
        std::vector<ResponseCounter> counters{size_t(conns)};
        for (int i = 0; i < conns; ++i) {
            fds.push_back({connectTo(d.port()), POLLIN, 0});
        }
        const QByteArray body(64, 'x');
        std::vector<QByteArray> pending(conns); // requests due but not yet taken by the socket
        QElapsedTimer t;
        t.start();
        qint64 sent = 0, answered = 0;
        double maxLag = 0;
        qint64 maxWal = 0, maxQueued = 0, maxBacklog = 0;
        qint64 nextSample = 1000;
        char buf[65536];
        QByteArray lastMetrics;
        // One poll: sends what the sockets take, counts the answers.
        const auto exchange = [&](int timeoutMs) {
            for (size_t i = 0; i < fds.size(); ++i) {
                fds[i].events = POLLIN | (pending[i].isEmpty() ? 0 : POLLOUT);
            }
            ::poll(fds.data(), fds.size(), timeoutMs);
            for (size_t i = 0; i < fds.size(); ++i) {
                if ((fds[i].revents & POLLOUT) && !pending[i].isEmpty()) {
                    const ssize_t n = ::send(
                        fds[i].fd, pending[i].constData(), size_t(pending[i].size()), MSG_NOSIGNAL | MSG_DONTWAIT);
                    if (n > 0) {
                        pending[i].remove(0, n);
                    }
                }
                if (fds[i].revents & POLLIN) {
                    const ssize_t n = ::recv(fds[i].fd, buf, sizeof(buf), 0);
                    if (n <= 0) {
                        die(u"a publisher's connection closed"_s);
                    }
                    answered += counters[i].count(buf, n);
                }
            }
        };
        while (t.elapsed() < qint64(seconds) * 1000) {
            const qint64 due = t.elapsed() * rate / 1000;
            while (sent < due) {
                pending[size_t(sent % conns)] += publishRequest("steady" + QByteArray::number(sent % 100), body);
                ++sent;
            }
            maxBacklog = std::max(maxBacklog, sent - answered);
            exchange(1);
            if (t.elapsed() >= nextSample) {
                nextSample += 1000;
                lastMetrics = httpGet(d.port(), "/metrics");
                maxLag = std::max(maxLag, metric(lastMetrics, "patchwork_replay_journal_lag_seconds"));
                maxQueued =
                    std::max(maxQueued, qint64(metric(lastMetrics, "patchwork_replay_journal_queued_operations")));
                maxWal = std::max(maxWal, QFileInfo(data1 + u"/replay.sqlite-wal"_s).size());
                if (nextSample % 60'000 == 0) {
                    std::printf("steady %llds: %lld answered, lag max %.3f s, WAL max %.1f MiB\n",
                                static_cast<long long>(nextSample / 1000),
                                static_cast<long long>(answered),
                                maxLag,
                                double(maxWal) / 1048576);
                    std::fflush(stdout);
                }
            }
        }
        // What was sent in the last moment is still being answered: wait for it (at most 10 s more).
        QElapsedTimer drain;
        drain.start();
        while (answered < sent && drain.elapsed() < 10'000) {
            exchange(10);
        }
        // p99 of the write delay from the histogram's cumulative buckets.
        const double count = metric(lastMetrics, "patchwork_replay_journal_write_delay_seconds_count");
        QString p99 = u"> 10 s"_s;
        for (const char *le : {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"}) {
            const double in = metric(
                lastMetrics, "patchwork_replay_journal_write_delay_seconds_bucket{le=\"" + QByteArray(le) + "\"}");
            if (in >= 0.99 * count) {
                p99 = u"<= %1 s"_s.arg(QString::fromLatin1(le));
                break;
            }
        }
        std::printf("STEADY %d msg/s for %d s: %lld published, %lld answered; write delay p99 %s (%.0f operations); "
                    "lag max %.3f s; queue max %lld; WAL max %.1f MiB; errors %.0f, dropped %.0f; publishes unanswered "
                    "max %lld\n",
                    rate,
                    seconds,
                    static_cast<long long>(sent),
                    static_cast<long long>(answered),
                    qPrintable(p99),
                    count,
                    maxLag,
                    static_cast<long long>(maxQueued),
                    double(maxWal) / 1048576,
                    metric(lastMetrics, "patchwork_replay_journal_errors_total"),
                    metric(lastMetrics, "patchwork_replay_journal_dropped_operations_total"),
                    static_cast<long long>(maxBacklog));
        for (const pollfd &p : fds) {
            ::close(p.fd);
        }
    }
    if (only.contains(u"restore"_s)) {
        // 64 channels of 1 MiB (the default limits): 64 MiB of 16 KiB messages.
        const QString full = freshDir();
        {
            Daemon d(program, full, {});
            d.start();
            const QByteArray body(16 * 1024, 'r');
            const int fd = connectTo(d.port());
            ResponseCounter counter;
            char buf[65536];
            for (int i = 0; i < 64 * 64; ++i) {
                sendAll(fd, publishRequest("fill" + QByteArray::number(i % 64), body));
                int got = 0;
                while (got == 0) {
                    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
                    if (n <= 0) {
                        die(u"fill: connection closed"_s);
                    }
                    got = counter.count(buf, n);
                }
            }
            ::close(fd);
            d.stop();
        }
        std::printf("restore: journal file %.1f MiB\n", double(QFileInfo(full + u"/replay.sqlite"_s).size()) / 1048576);
        std::vector<double> fullMs, emptyMs;
        for (int r = 0; r < rounds; ++r) {
            Daemon d(program, full, {});
            fullMs.push_back(double(d.start()));
            const QByteArray metrics = httpGet(d.port(), "/metrics");
            std::printf("restore round %d: listening after %.0f ms (%.0f channels)\n",
                        r + 1,
                        fullMs.back(),
                        metric(metrics, "patchwork_channels_total"));
            d.stop();
            Daemon e(program, freshDir(), {});
            emptyMs.push_back(double(e.start()));
        }
        std::printf("RESTORE 64 MiB: median %.0f ms to listening (an empty journal: %.0f ms)\n",
                    median(fullMs),
                    median(emptyMs));
    }
    return 0;
}
