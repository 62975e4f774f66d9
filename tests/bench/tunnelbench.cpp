// SPDX-License-Identifier: MIT
// tunnelbench: throughput of one tunnel stream and server memory per idle tunnel (PROTOCOL §11),
// against a patchworkd that it starts itself on 127.0.0.1. Not a test: it prints measurements.
//
//   tunnelbench --daemon build/bin/patchworkd [--bytes 1073741824] [--rounds 3] [--idle 1000] [--idle-wait 35]
//
// Scenarios, each round:
//   up      a WebSocket client on a raw socket sends --bytes as 256 KiB binary frames; the target counts
//   down    the target sends --bytes; the client decodes the frames and counts
//   client> `patchworkd tunnel` (the real client, a child process): --bytes into its standard input,
//           through the relay to the target
//   client< the target's bytes through the relay out of its standard output
// First a check run (64 MiB each way, byte sums compared). At the end, --idle tunnels are opened and
// left idle for --idle-wait seconds (past the relay's first ping); the daemon's VmRSS before and after
// gives the memory per open idle tunnel (both of its sockets, the bridge, Qt's buffers).
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

#include <sys/resource.h>

#include "procstat.h"
#include "protocol/websocketcodec.h"

using namespace Qt::StringLiterals;
using Patchwork::Server::WebSocketCodec;

namespace
{

constexpr qint64 KiB = 1024;
constexpr qint64 MiB = 1024 * KiB;
constexpr qint64 FRAME = 256 * KiB;
constexpr qint64 HIGH_WATER = 4 * MiB;
const QByteArray TOKEN = "bench-token";

QByteArray noise(qint64 n)
{
    QByteArray b(n, Qt::Uninitialized);
    QRandomGenerator(7).fillRange(reinterpret_cast<quint32 *>(b.data()), b.size() / 4);
    return b;
}

quint64 byteSum(QByteArrayView data)
{
    quint64 sum = 0;
    for (const char c : data) {
        sum += uchar(c);
    }
    return sum;
}

// Runs the event loop until `done()` or `ms` elapsed; false on timeout.
bool waitFor(const std::function<bool()> &done, int ms)
{
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > ms) {
            return false;
        }
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 10);
    }
    return true;
}

// The tunnel target: counts what arrives; sends `sendTotal` bytes when asked.
struct Target
{
    QTcpServer server;
    std::vector<QTcpSocket *> sockets;
    qint64 received = 0;
    qint64 sendTotal = 0;
    qint64 sent = 0;
    QByteArray block = noise(FRAME);
    bool verify = false; // sum the bytes received (a check run, not timed)
    quint64 sum = 0;

    Target()
    {
        server.setMaxPendingConnections(100'000);
        server.listen(QHostAddress::LocalHost, 0);
        QObject::connect(&server, &QTcpServer::newConnection, &server, [this]() {
            while (QTcpSocket *s = server.nextPendingConnection()) {
                sockets.push_back(s);
                QObject::connect(s, &QTcpSocket::readyRead, s, [this, s]() {
                    if (verify) {
                        const QByteArray data = s->readAll();
                        sum += byteSum(data);
                        received += data.size();
                    } else {
                        received += s->skip(s->bytesAvailable());
                    }
                });
                QObject::connect(s, &QTcpSocket::bytesWritten, s, [this, s]() { pump(s); });
            }
        });
    }
    void startSending(qint64 total)
    {
        sendTotal = total;
        sent = 0;
        pump(sockets.back());
    }
    void pump(QTcpSocket *s)
    {
        while (sent < sendTotal && s->bytesToWrite() < HIGH_WATER) {
            const qint64 n = qMin(FRAME, sendTotal - sent);
            s->write(n == FRAME ? block : block.left(n));
            sent += n;
        }
    }
    void closeAll()
    {
        for (QTcpSocket *s : sockets) {
            s->abort();
            s->deleteLater();
        }
        sockets.clear();
    }
};

// A WebSocket client on a plain socket.
struct Client
{
    QTcpSocket socket;
    WebSocketCodec codec{WebSocketCodec::Role::Client};
    QByteArray head;
    bool upgraded = false;
    qint64 received = 0;
    quint64 sum = 0;
    qint64 sendTotal = 0;
    qint64 sent = 0;
    QByteArray frame; // one masked frame, sent again and again (the relay unmasks each one)

    void open(quint16 relayPort, quint16 targetPort)
    {
        QObject::connect(&socket, &QTcpSocket::readyRead, &socket, [this]() { onReadyRead(); });
        QObject::connect(&socket, &QTcpSocket::bytesWritten, &socket, [this]() { pump(); });
        QObject::connect(&socket, &QTcpSocket::connected, &socket, [this, targetPort]() {
            socket.write("GET /huproxy/bench/127.0.0.1/" + QByteArray::number(targetPort)
                         + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                           "Authorization: Bearer "
                         + TOKEN + "\r\n\r\n");
        });
        socket.connectToHost(QHostAddress::LocalHost, relayPort);
    }
    void onReadyRead()
    {
        if (!upgraded) {
            head += socket.readAll();
            const qsizetype end = head.indexOf("\r\n\r\n");
            if (end < 0) {
                return;
            }
            if (!head.startsWith("HTTP/1.1 101 ")) {
                std::fprintf(stderr, "upgrade refused: %s\n", head.constData());
                std::exit(1);
            }
            upgraded = true;
            head = head.mid(end + 4);
            decode(head);
            head = QByteArray();
            return;
        }
        QByteArray chunk = socket.readAll();
        decode(chunk);
    }
    void decode(QByteArray &chunk)
    {
        qsizetype pos = 0;
        while (pos < chunk.size()) {
            const WebSocketCodec::Event e = codec.decode(chunk.data() + pos, chunk.size() - pos);
            pos += e.consumed;
            if (e.kind == WebSocketCodec::Event::Kind::Data) {
                received += e.payload.size();
                sum += byteSum(e.payload);
            } else if (e.kind == WebSocketCodec::Event::Kind::Ping) {
                socket.write(WebSocketCodec::frame(WebSocketCodec::OpCode::Pong, e.payload, WebSocketCodec::MaskKey{}));
            }
        }
    }
    void startSending(qint64 total)
    {
        if (frame.isEmpty()) {
            frame = WebSocketCodec::frame(
                WebSocketCodec::OpCode::Binary, noise(FRAME), WebSocketCodec::MaskKey{1, 2, 3, 4});
        }
        sendTotal = total;
        sent = 0;
        pump();
    }
    void pump()
    {
        while (sent < sendTotal && socket.bytesToWrite() < HIGH_WATER) {
            socket.write(frame);
            sent += FRAME;
        }
    }
};

void report(const char *scenario, int round, qint64 bytes, qint64 ms)
{
    const double mbps = ms > 0 ? double(bytes) / 1e6 / (double(ms) / 1000.0) : 0;
    std::printf(
        "%-8s round %d: %lld bytes in %lld ms = %.0f MB/s\n", scenario, round, qlonglong(bytes), qlonglong(ms), mbps);
    std::fflush(stdout);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QString daemonPath;
    qint64 bytes = 1024 * MiB;
    int rounds = 3;
    int idle = 1000;
    int idleWaitS = 35; // past the relay's first ping (30 s), so its answer is counted too
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i + 1 < args.size(); i += 2) {
        if (args.at(i) == u"--daemon") {
            daemonPath = args.at(i + 1);
        } else if (args.at(i) == u"--bytes") {
            bytes = args.at(i + 1).toLongLong();
        } else if (args.at(i) == u"--rounds") {
            rounds = args.at(i + 1).toInt();
        } else if (args.at(i) == u"--idle") {
            idle = args.at(i + 1).toInt();
        } else if (args.at(i) == u"--idle-wait") {
            idleWaitS = args.at(i + 1).toInt();
        }
    }
    if (daemonPath.isEmpty() || bytes <= 0 || rounds <= 0 || idle < 0) {
        std::fputs("usage: tunnelbench --daemon PATH [--bytes N] [--rounds N] [--idle N] [--idle-wait S]\n", stderr);
        return 2;
    }
    bytes = (bytes + FRAME - 1) / FRAME * FRAME;

    // Every idle tunnel costs this process two descriptors and the daemon two.
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }

    QTemporaryDir dir;
    QDir(dir.path()).mkpath(u"users/bench"_s);
    QFile config(dir.filePath(u"users/bench/config.yaml"_s));
    config.open(QIODevice::WriteOnly);
    config.write("tokens:\n  " + TOKEN + ":\n    huproxy: [\"127.0.0.1:*\"]\n");
    config.close();

    // A free port for the daemon.
    quint16 relayPort = 0;
    {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        relayPort = probe.serverPort();
    }
    QProcess daemon;
    daemon.setProcessChannelMode(QProcess::SeparateChannels);
    daemon.start(daemonPath,
                 {u"start"_s,
                  u"--host"_s,
                  u"127.0.0.1"_s,
                  u"--port"_s,
                  QString::number(relayPort),
                  u"--users-dir"_s,
                  dir.filePath(u"users"_s),
                  u"--data-dir"_s,
                  dir.filePath(u"data"_s),
                  u"--log-level"_s,
                  u"WARN"_s});
    if (!daemon.waitForStarted(5000)) {
        std::fprintf(stderr, "cannot start %s\n", qPrintable(daemonPath));
        return 1;
    }
    const qint64 pid = daemon.processId();
    const bool listening = waitFor(
        [&]() {
            QTcpSocket probe;
            probe.connectToHost(QHostAddress::LocalHost, relayPort);
            return probe.waitForConnected(200);
        },
        10'000);
    if (!listening) {
        std::fprintf(stderr, "the daemon did not start listening: %s\n", daemon.readAllStandardError().constData());
        return 1;
    }
    std::printf("patchworkd pid %lld on port %u; %lld bytes per run, %d rounds\n",
                qlonglong(pid),
                relayPort,
                qlonglong(bytes),
                rounds);

    Target target;
    const int timeout = 600'000;

    // A check run first: what arrives is what was sent, both ways (sums of all bytes).
    {
        const qint64 checkBytes = 64 * MiB;
        Client client;
        client.open(relayPort, target.server.serverPort());
        if (!waitFor([&]() { return client.upgraded && !target.sockets.empty(); }, 10'000)) {
            std::fputs("tunnel did not open\n", stderr);
            return 1;
        }
        target.verify = true;
        client.startSending(checkBytes);
        waitFor([&]() { return target.received >= checkBytes; }, timeout);
        QByteArray payload = client.frame.mid(client.frame.size() - FRAME);
        WebSocketCodec::applyMask(payload.data(), payload.size(), WebSocketCodec::MaskKey{1, 2, 3, 4});
        const bool upOk = target.received == checkBytes && target.sum == byteSum(payload) * quint64(checkBytes / FRAME);
        target.startSending(checkBytes);
        waitFor([&]() { return client.received >= checkBytes; }, timeout);
        const bool downOk =
            client.received == checkBytes && client.sum == byteSum(target.block) * quint64(checkBytes / FRAME);
        std::printf("check: %lld bytes each way, sums %s\n", qlonglong(checkBytes), upOk && downOk ? "ok" : "WRONG");
        if (!upOk || !downOk) {
            return 1;
        }
        target.verify = false;
        target.received = 0;
        target.closeAll();
    }
    for (int round = 1; round <= rounds; ++round) {
        {
            Client client;
            client.open(relayPort, target.server.serverPort());
            if (!waitFor([&]() { return client.upgraded && !target.sockets.empty(); }, 10'000)) {
                std::fputs("tunnel did not open\n", stderr);
                return 1;
            }
            target.received = 0;
            QElapsedTimer t;
            t.start();
            client.startSending(bytes);
            waitFor([&]() { return target.received >= bytes; }, timeout);
            report("up", round, target.received, t.elapsed());

            t.restart();
            target.startSending(bytes);
            waitFor([&]() { return client.received >= bytes; }, timeout);
            report("down", round, client.received, t.elapsed());
            target.closeAll();
        }
        {
            // The real client: stdin -> relay -> target, then target -> relay -> stdout.
            QProcess tunnel;
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert(u"PATCHWORK_TOKEN"_s, QString::fromUtf8(TOKEN));
            tunnel.setProcessEnvironment(env);
            tunnel.start(
                daemonPath,
                {u"tunnel"_s,
                 u"ws://127.0.0.1:%1/huproxy/bench/127.0.0.1/%2"_s.arg(relayPort).arg(target.server.serverPort())});
            if (!waitFor([&]() { return !target.sockets.empty(); }, 10'000)) {
                std::fputs("patchworkd tunnel did not connect\n", stderr);
                return 1;
            }
            const QByteArray block = noise(FRAME);
            qint64 written = 0;
            auto feed = [&]() {
                while (written < bytes && tunnel.bytesToWrite() < HIGH_WATER) {
                    tunnel.write(block);
                    written += block.size();
                }
            };
            QObject::connect(&tunnel, &QProcess::bytesWritten, &tunnel, feed);
            target.received = 0;
            QElapsedTimer t;
            t.start();
            feed();
            waitFor([&]() { return target.received >= bytes; }, timeout);
            report("client>", round, target.received, t.elapsed());

            qint64 out = 0;
            QObject::connect(&tunnel, &QProcess::readyReadStandardOutput, &tunnel, [&]() {
                out += tunnel.skip(tunnel.bytesAvailable());
            });
            t.restart();
            target.startSending(bytes);
            waitFor([&]() { return out >= bytes; }, timeout);
            report("client<", round, out, t.elapsed());
            tunnel.closeWriteChannel();
            tunnel.waitForFinished(10'000);
            target.closeAll();
        }
    }

    if (idle > 0) {
        // Warm up: one tunnel opened and closed, then the baseline.
        {
            Client warm;
            warm.open(relayPort, target.server.serverPort());
            waitFor([&]() { return warm.upgraded && !target.sockets.empty(); }, 10'000);
        }
        target.closeAll();
        QTest::qWait(1000);
        const qint64 before = Patchwork::Bench::vmRssKiB(pid);
        const qint64 fdsBefore = Patchwork::Bench::openDescriptors(pid);
        std::vector<std::unique_ptr<Client>> clients;
        for (int i = 0; i < idle; ++i) {
            clients.push_back(std::make_unique<Client>());
            clients.back()->open(relayPort, target.server.serverPort());
            if (i % 100 == 99) {
                waitFor([&]() { return qsizetype(target.sockets.size()) == i + 1; }, 30'000);
            }
        }
        waitFor(
            [&]() {
                for (const auto &c : clients) {
                    if (!c->upgraded) {
                        return false;
                    }
                }
                return qsizetype(target.sockets.size()) == idle;
            },
            60'000);
        QTest::qWait(idleWaitS * 1000);
        const qint64 after = Patchwork::Bench::vmRssKiB(pid);
        const qint64 fdsAfter = Patchwork::Bench::openDescriptors(pid);
        std::printf("idle: %d tunnels open for %d s (%zu targets connected); daemon VmRSS %lld KiB -> %lld KiB, "
                    "%.2f KiB per tunnel; %lld -> %lld descriptors\n",
                    idle,
                    idleWaitS,
                    target.sockets.size(),
                    qlonglong(before),
                    qlonglong(after),
                    double(after - before) / idle,
                    qlonglong(fdsBefore),
                    qlonglong(fdsAfter));
        clients.clear();
        target.closeAll();
    }
    daemon.terminate();
    daemon.waitForFinished(15'000);
    return 0;
}
