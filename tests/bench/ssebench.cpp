// SPDX-License-Identifier: MIT
// ssebench: fan-out latency and idle memory of Server-Sent Event subscribers (PROTOCOL §4.1).
//
// Opens N SSE subscribers on one pubsub channel of a patchworkd (one it starts, or one already
// running), waits until the server is quiet, samples the daemon's VmRSS, then publishes P messages one
// at a time and measures, for each, the time from the start of the POST to the moment the last
// subscriber has the complete event. Subscribers are plain non-blocking sockets on one epoll loop, so
// the client adds little to what is measured. Linux only; loopback only.
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QThread>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "procstat.h"

namespace
{

using Clock = QElapsedTimer;

struct Options
{
    QString daemon;
    quint16 port = 0;
    qint64 pid = 0;
    int subscribers = 1000;
    int publishes = 10;
    int size = 64;
    int settleMs = 1000;
};

// The daemon this tool started, stopped on any exit.
QProcess *s_daemon = nullptr;

[[noreturn]] void die(const QString &message)
{
    std::fprintf(stderr, "ssebench: %s\n", qPrintable(message));
    if (s_daemon && s_daemon->state() != QProcess::NotRunning) {
        s_daemon->kill();
        s_daemon->waitForFinished(5000);
    }
    std::exit(2);
}

void raiseFileLimit(rlim_t wanted)
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < wanted) {
        limit.rlim_cur = std::min(wanted, limit.rlim_max);
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

// utime + stime of a process in clock ticks, or -1.
qint64 cpuTicks(qint64 pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly)) {
        return -1;
    }
    const QByteArray text = stat.readAll();
    const QList<QByteArray> fields = text.mid(text.lastIndexOf(')') + 2).split(' ');
    return fields.size() > 12 ? fields.at(11).toLongLong() + fields.at(12).toLongLong() : -1;
}

// Waits until the server has used no CPU for 300 ms (at least `minMs`, at most 10 s).
void settle(qint64 pid, int minMs)
{
    Clock t;
    t.start();
    QThread::msleep(ulong(minMs));
    qint64 last = cpuTicks(pid);
    while (t.elapsed() < 10'000) {
        QThread::msleep(300);
        const qint64 now = cpuTicks(pid);
        if (now == last) {
            return;
        }
        last = now;
    }
}

int connectTo(quint16 port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        die(QStringLiteral("socket: %1").arg(QString::fromLocal8Bit(std::strerror(errno))));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) != 0) {
        die(QStringLiteral("connect: %1").arg(QString::fromLocal8Bit(std::strerror(errno))));
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

void sendAll(int fd, const std::string &data)
{
    size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN) {
            QThread::usleep(100);
            continue;
        }
        if (n <= 0) {
            die(QStringLiteral("send failed"));
        }
        done += size_t(n);
    }
}

struct Subscriber
{
    int fd = -1;
    std::string buf;
    bool headDone = false;
    qint64 doneAtNs = -1; // this round
};

double median(std::vector<double> v)
{
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Starts the daemon on a free loopback port; returns its port.
quint16 startDaemon(QProcess &process, const QString &program, const QString &dataDir)
{
    process.setProgram(program);
    process.setArguments({QStringLiteral("start"),
                          QStringLiteral("--host"),
                          QStringLiteral("127.0.0.1"),
                          QStringLiteral("--port"),
                          QStringLiteral("0"),
                          QStringLiteral("--data-dir"),
                          dataDir,
                          QStringLiteral("--users-dir"),
                          dataDir + QStringLiteral("/users"),
                          // One client opens every subscriber: no per-client limits.
                          QStringLiteral("--rate-limit"),
                          QStringLiteral("0"),
                          QStringLiteral("--max-waiting-per-ip"),
                          QStringLiteral("0")});
    process.setProcessChannelMode(QProcess::SeparateChannels);
    process.start();
    if (!process.waitForStarted(5000)) {
        die(QStringLiteral("cannot start %1").arg(program));
    }
    const QRegularExpression listening(QStringLiteral("listening on http://127\\.0\\.0\\.1:(\\d+)"));
    QByteArray log;
    Clock t;
    t.start();
    while (t.elapsed() < 10'000) {
        process.waitForReadyRead(100);
        log += process.readAllStandardError();
        const QRegularExpressionMatch m = listening.match(QString::fromUtf8(log));
        if (m.hasMatch()) {
            return quint16(m.captured(1).toUInt());
        }
    }
    die(QStringLiteral("the daemon did not start: %1").arg(QString::fromUtf8(log)));
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Fan-out latency and idle memory of SSE subscribers."));
    parser.addHelpOption();
    parser.addOption(
        {QStringLiteral("daemon"), QStringLiteral("patchworkd to start (on a free port)."), QStringLiteral("path")});
    parser.addOption(
        {QStringLiteral("port"), QStringLiteral("Use a running relay on 127.0.0.1:<port>."), QStringLiteral("port")});
    parser.addOption(
        {QStringLiteral("pid"), QStringLiteral("Its process id, for memory figures."), QStringLiteral("pid")});
    parser.addOption({QStringLiteral("subscribers"), QStringLiteral("SSE subscribers (1000)."), QStringLiteral("n")});
    parser.addOption({QStringLiteral("publishes"), QStringLiteral("Messages published (10)."), QStringLiteral("n")});
    parser.addOption({QStringLiteral("size"), QStringLiteral("Body bytes (64)."), QStringLiteral("n")});
    parser.addOption({QStringLiteral("settle"),
                      QStringLiteral("Minimum quiet time before measuring, ms (1000)."),
                      QStringLiteral("ms")});
    parser.process(app);

    Options o;
    o.daemon = parser.value(QStringLiteral("daemon"));
    o.port = quint16(parser.value(QStringLiteral("port")).toUInt());
    o.pid = parser.value(QStringLiteral("pid")).toLongLong();
    if (parser.isSet(QStringLiteral("subscribers"))) {
        o.subscribers = parser.value(QStringLiteral("subscribers")).toInt();
    }
    if (parser.isSet(QStringLiteral("publishes"))) {
        o.publishes = parser.value(QStringLiteral("publishes")).toInt();
    }
    if (parser.isSet(QStringLiteral("size"))) {
        o.size = qMax(16, parser.value(QStringLiteral("size")).toInt());
    }
    if (parser.isSet(QStringLiteral("settle"))) {
        o.settleMs = parser.value(QStringLiteral("settle")).toInt();
    }
    if (o.daemon.isEmpty() == (o.port == 0) || o.subscribers < 1 || o.publishes < 1) {
        die(QStringLiteral("give either --daemon PATH or --port PORT (see --help)"));
    }

    // The daemon inherits the raised limit; both ends need a descriptor per subscriber.
    raiseFileLimit(rlim_t(o.subscribers) * 2 + 256);
    QTemporaryDir dataDir;
    QProcess daemon;
    s_daemon = &daemon;
    if (!o.daemon.isEmpty()) {
        o.port = startDaemon(daemon, o.daemon, dataDir.path());
        o.pid = daemon.processId();
    }

    // Warm up: the first requests allocate what every later one reuses.
    const std::string channel = "/public/pubsub/ssebench-" + std::to_string(QCoreApplication::applicationPid());
    const std::string host = "Host: 127.0.0.1:" + std::to_string(o.port) + "\r\n";
    {
        const int fd = connectTo(o.port);
        sendAll(fd,
                "POST /public/pubsub/ssebench-warmup HTTP/1.1\r\n" + host
                    + "Content-Length: 4\r\nConnection: close\r\n\r\nwarm");
        char sink[4096];
        while (::recv(fd, sink, sizeof(sink), 0) > 0) {
        }
        ::close(fd);
    }
    if (o.pid > 0) {
        settle(o.pid, 300);
    }
    const qint64 rssBefore = o.pid > 0 ? Patchwork::Bench::vmRssKiB(o.pid) : -1;

    // Subscribe.
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    std::vector<Subscriber> subs(size_t(o.subscribers));
    const std::string subscribe =
        "GET " + channel + "?stream=sse HTTP/1.1\r\n" + host + "Accept: text/event-stream\r\n\r\n";
    Clock connectTimer;
    connectTimer.start();
    for (size_t i = 0; i < subs.size(); ++i) {
        Subscriber &s = subs[i];
        s.fd = connectTo(o.port);
        sendAll(s.fd, subscribe);
        fcntl(s.fd, F_SETFL, fcntl(s.fd, F_GETFL) | O_NONBLOCK);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        epoll_ctl(ep, EPOLL_CTL_ADD, s.fd, &ev);
    }
    std::vector<epoll_event> events(1024);
    char chunk[65536];
    size_t open = 0;
    auto pump = [&](int timeoutMs, const std::string &marker, Clock *round) {
        const int n = epoll_wait(ep, events.data(), int(events.size()), timeoutMs);
        for (int k = 0; k < n; ++k) {
            Subscriber &s = subs[size_t(events[size_t(k)].data.u64)];
            for (;;) {
                const ssize_t got = ::recv(s.fd, chunk, sizeof(chunk), 0);
                if (got <= 0) {
                    if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                        die(QStringLiteral("a subscriber was disconnected"));
                    }
                    break;
                }
                s.buf.append(chunk, size_t(got));
            }
            if (!s.headDone) {
                const size_t end = s.buf.find("\r\n\r\n");
                if (end == std::string::npos) {
                    continue;
                }
                if (s.buf.compare(0, 12, "HTTP/1.1 200") != 0) {
                    die(QStringLiteral("subscribe failed: %1").arg(QString::fromStdString(s.buf.substr(0, end))));
                }
                s.buf.erase(0, end + 4);
                s.headDone = true;
                ++open;
            }
            if (round && s.doneAtNs < 0) {
                const size_t at = s.buf.find(marker);
                if (at != std::string::npos && s.buf.find("\n\n", at) != std::string::npos) {
                    s.doneAtNs = round->nsecsElapsed();
                    s.buf.clear();
                }
            }
        }
    };
    while (open < subs.size() && connectTimer.elapsed() < 60'000) {
        pump(100, {}, nullptr);
    }
    if (open < subs.size()) {
        die(QStringLiteral("only %1 of %2 subscribers got their stream").arg(open).arg(subs.size()));
    }
    const qint64 connectMs = connectTimer.elapsed();
    if (o.pid > 0) {
        settle(o.pid, o.settleMs);
    }
    const qint64 rssIdle = o.pid > 0 ? Patchwork::Bench::vmRssKiB(o.pid) : -1;

    // Publish, one message at a time, on one keep-alive connection.
    const int publisher = connectTo(o.port);
    std::vector<double> lastMs;
    std::vector<double> middleMs;
    int missed = 0;
    for (int round = 0; round < o.publishes; ++round) {
        const std::string marker = "ssebench-round-" + std::to_string(round) + "-";
        std::string body = marker;
        body.resize(size_t(o.size), 'x');
        for (Subscriber &s : subs) {
            s.doneAtNs = -1;
        }
        const std::string request = "POST " + channel + " HTTP/1.1\r\n" + host
                                    + "Content-Type: text/plain\r\nContent-Length: " + std::to_string(body.size())
                                    + "\r\n\r\n" + body;
        Clock t;
        t.start();
        sendAll(publisher, request);
        size_t done = 0;
        while (done < subs.size() && t.elapsed() < 10'000) {
            pump(50, marker, &t);
            done = size_t(std::count_if(subs.begin(), subs.end(), [](const Subscriber &s) { return s.doneAtNs >= 0; }));
        }
        // The publisher's answer (a small response, Patch-Subscribers: N).
        std::string answer;
        while (answer.find("\r\n\r\n") == std::string::npos) {
            const ssize_t got = ::recv(publisher, chunk, sizeof(chunk), 0);
            if (got <= 0) {
                die(QStringLiteral("the publisher's connection failed"));
            }
            answer.append(chunk, size_t(got));
        }
        const std::string expected = "Patch-Subscribers: " + std::to_string(subs.size()) + "\r\n";
        if (answer.find(expected) == std::string::npos) {
            std::fprintf(stderr, "ssebench: unexpected answer: %s\n", answer.c_str());
            ++missed;
        }
        std::vector<double> times;
        for (const Subscriber &s : subs) {
            if (s.doneAtNs < 0) {
                ++missed;
            } else {
                times.push_back(double(s.doneAtNs) / 1e6);
            }
        }
        std::sort(times.begin(), times.end());
        lastMs.push_back(times.empty() ? 0 : times.back());
        middleMs.push_back(median(times));
        QThread::msleep(200);
    }

    const double kibPerSubscriber = rssBefore > 0 && rssIdle > 0 ? double(rssIdle - rssBefore) / subs.size() : -1;
    std::string rounds;
    for (double v : lastMs) {
        if (!rounds.empty()) {
            rounds += ',';
        }
        rounds += QByteArray::number(v, 'f', 2).toStdString();
    }
    std::printf("{\"scenario\":\"sse-fanout\",\"subscribers\":%zu,\"publishes\":%d,\"size\":%d,"
                "\"median_last_ms\":%.2f,\"max_last_ms\":%.2f,\"median_p50_ms\":%.2f,\"last_ms\":[%s],"
                "\"missed\":%d,\"connect_ms\":%lld,\"rss_before_kib\":%lld,\"rss_idle_kib\":%lld,"
                "\"kib_per_idle_subscriber\":%.2f}\n",
                subs.size(),
                o.publishes,
                o.size,
                median(lastMs),
                *std::max_element(lastMs.begin(), lastMs.end()),
                median(middleMs),
                rounds.c_str(),
                missed,
                connectMs,
                rssBefore,
                rssIdle,
                kibPerSubscriber);
    std::fprintf(stderr,
                 "ssebench: %zu SSE subscribers, %d publishes of %d B: publish -> last subscriber median %.2f ms "
                 "(max %.2f), median subscriber %.2f ms; %d missed; idle memory %.2f KiB per subscriber\n",
                 subs.size(),
                 o.publishes,
                 o.size,
                 median(lastMs),
                 *std::max_element(lastMs.begin(), lastMs.end()),
                 median(middleMs),
                 missed,
                 kibPerSubscriber);

    for (const Subscriber &s : subs) {
        ::close(s.fd);
    }
    ::close(publisher);
    ::close(ep);
    if (daemon.state() != QProcess::NotRunning) {
        daemon.terminate();
        daemon.waitForFinished(15'000);
    }
    return missed == 0 ? 0 : 1;
}
