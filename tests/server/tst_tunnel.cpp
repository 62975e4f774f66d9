// SPDX-License-Identifier: MIT
// The tunnel (PROTOCOL §11) over loopback: the real relay, real TCP targets, and QWebSocket, raw and
// `patchworkd tunnel` clients.
#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QLocalSocket>
#include <QNetworkRequest>
#include <QPointer>
#include <QProcess>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QSslKey>
#include <QSslServer>
#include <QSslSocket>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QWebSocket>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "access/directoryconfigsource.h"
#include "daemon/serveroptions.h"
#include "daemon/tunnelclient.h"
#include "manualclock.h"
#include "protocol/websocketcodec.h"
#include "relay/relayserver.h"
#include "testhttpclient.h"
#include "testutil.h"
#include "tunnel/tunnelserver.h"
#include "tunnel/tunneltarget.h"
#include "util/metrics.h"

using namespace Qt::StringLiterals;
using namespace Patchwork;
using namespace Patchwork::Server;
using namespace Patchwork::Test;

namespace
{

constexpr qint64 KiB = 1024;
constexpr qint64 MiB = 1024 * 1024;
const QByteArray TOKEN = "t0ken";
const QByteArray KEY = "dGhlIHNhbXBsZSBub25jZQ==";

// A self-signed certificate for localhost and 127.0.0.1, valid 2000-2100 (P-256; test use only).
const QByteArray TLS_CERTIFICATE = "-----BEGIN CERTIFICATE-----\n"
                                   "MIIBiDCCAS+gAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAlsb2NhbGhv\n"
                                   "c3QwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM\n"
                                   "CWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABPmaDqs+8BRFLdtk\n"
                                   "r0ZCNhuWQhj9LOynynxGXLVwRts7LUACkDCM/rGF4QynnmtIYvxHQrRHZOxOmmzr\n"
                                   "yoyjaCujcDBuMBoGA1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATAPBgNVHRMBAf8E\n"
                                   "BTADAQH/MAsGA1UdDwQEAwIChDATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4E\n"
                                   "FgQUA1UBpBIBxj5n0N3UimmHsTs9p2wwCgYIKoZIzj0EAwIDRwAwRAIgYvgZsRyA\n"
                                   "3ggQlBfVWpV9i/vVAV2SHVVmvsNQE2qTaQYCIGqkuVRpoZb11z8sePJEougV+I2v\n"
                                   "32isz6gkZN7PWLrx\n"
                                   "-----END CERTIFICATE-----\n";
const QByteArray TLS_KEY = "-----BEGIN PRIVATE KEY-----\n"
                           "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgxcTVAeZ6RtpwwxEr\n"
                           "IWWaeu7QzHIzlmXTd1MJqZwQ5IWhRANCAAT5mg6rPvAURS3bZK9GQjYblkIY/Szs\n"
                           "p8p8Rly1cEbbOy1AApAwjP6xheEMp55rSGL8R0K0R2TsTpps68qMo2gr\n"
                           "-----END PRIVATE KEY-----\n";

// 64 KiB of noise; chunk i is the block with i in its first bytes, so lost or reordered chunks change
// the checksum.
QByteArray chunkAt(qint64 index)
{
    static const QByteArray block = [] {
        QByteArray b(64 * KiB, Qt::Uninitialized);
        QRandomGenerator gen(42);
        gen.fillRange(reinterpret_cast<quint32 *>(b.data()), b.size() / 4);
        return b;
    }();
    QByteArray c = block;
    std::memcpy(c.data(), &index, sizeof index);
    return c;
}

// A TCP server the tunnel dials: it echoes, produces or holds data, as each test needs.
class Target
{
public:
    enum class Mode
    {
        Echo, // writes back what it reads
        Source, // sends `sourceTotal` bytes as fast as its client takes them, reads and drops input
        Sink, // reads and counts
    };

    explicit Target(Mode mode)
        : m_mode(mode)
    {
        m_server.listen(QHostAddress::LocalHost, 0);
        QObject::connect(&m_server, &QTcpServer::newConnection, &m_server, [this]() { onConnection(); });
    }

    quint16 port() const
    {
        return m_server.serverPort();
    }
    // Stops or resumes reading; a target that does not read lets the kernel's buffers fill.
    void setReading(bool reading)
    {
        m_reading = reading;
        if (reading && socket) {
            onReadyRead();
        }
    }

    QPointer<QTcpSocket> socket;
    qint64 sourceTotal = 0;
    qint64 sent = 0;
    qint64 received = 0;
    QCryptographicHash sentHash{QCryptographicHash::Sha256};
    QCryptographicHash receivedHash{QCryptographicHash::Sha256};
    QByteArray greeting; // sent on connect
    bool closeAfterGreeting = false;
    int connections = 0;
    int disconnects = 0;

private:
    void onConnection()
    {
        while (QTcpSocket *s = m_server.nextPendingConnection()) {
            socket = s;
            ++connections;
            s->setReadBufferSize(64 * KiB);
            QObject::connect(s, &QTcpSocket::readyRead, s, [this]() { onReadyRead(); });
            QObject::connect(s, &QTcpSocket::bytesWritten, s, [this]() { produce(); });
            QObject::connect(s, &QTcpSocket::disconnected, s, [this]() { ++disconnects; });
            if (!greeting.isEmpty()) {
                s->write(greeting);
                if (closeAfterGreeting) {
                    s->disconnectFromHost();
                    return;
                }
            }
            produce();
        }
    }
    void onReadyRead()
    {
        if (!m_reading || !socket) {
            return;
        }
        const QByteArray data = socket->readAll();
        received += data.size();
        receivedHash.addData(data);
        if (m_mode == Mode::Echo) {
            socket->write(data);
        }
    }
    void produce()
    {
        if (m_mode != Mode::Source || !socket) {
            return;
        }
        while (sent < sourceTotal && socket->bytesToWrite() < 256 * KiB) {
            QByteArray chunk = chunkAt(sent / (64 * KiB));
            chunk.truncate(qMin(chunk.size(), sourceTotal - sent));
            sentHash.addData(chunk);
            sent += chunk.size();
            socket->write(chunk);
        }
    }

    Mode m_mode;
    QTcpServer m_server;
    bool m_reading = true;
};

// A WebSocket client on a plain socket that reads only when told to, and the upgrade request.
QByteArray upgradeRequest(QByteArrayView path, QByteArrayView token = TOKEN, QByteArrayView extraHeaders = {})
{
    QByteArray r = "GET " + path.toByteArray() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                   + "Connection: Upgrade\r\nSec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n";
    if (!token.isEmpty()) {
        r += "Authorization: Bearer " + token.toByteArray() + "\r\n";
    }
    r += extraHeaders.toByteArray();
    r += "\r\n";
    return r;
}

// Reads one response head (and nothing after it) from `socket`, running the event loop meanwhile (the
// relay answers in this thread).
QByteArray readHead(QTcpSocket &socket)
{
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeoutMs(5000)) {
        const QByteArray peeked = socket.peek(4096);
        const qsizetype end = peeked.indexOf("\r\n\r\n");
        if (end >= 0) {
            return socket.read(end + 4);
        }
        QTest::qWait(2);
    }
    return {};
}

// Waits until `value()` stops changing for `quietMs`; returns false after `maxMs`.
template <typename F> bool waitUntilSteady(F value, int quietMs, int maxMs)
{
    QElapsedTimer total;
    total.start();
    qint64 last = value();
    QElapsedTimer quiet;
    quiet.start();
    while (total.elapsed() < maxMs) {
        QTest::qWait(20);
        const qint64 now = value();
        if (now != last) {
            last = now;
            quiet.restart();
        } else if (quiet.elapsed() >= quietMs) {
            return true;
        }
    }
    return false;
}

} // namespace

class TestTunnel final : public QObject
{
    Q_OBJECT

private:
    void startServer(const TunnelBridge::Settings &tunnel = {})
    {
        m_relay = std::make_unique<RelayServer>(&m_clock);
        RelayServer::Settings settings;
        settings.tunnel = tunnel;
        m_relay->setSettings(settings);
        QVERIFY(m_relay->listen(QHostAddress::LocalHost, 0));
        m_port = m_relay->port();
        m_metrics = std::make_unique<Metrics>();
        m_relay->tunnelServer()->setMetrics(m_metrics.get());
        m_relay->tunnelServer()->setAuthorizer(
            [this](const TunnelServer::Request &r, QObject *context, std::function<void(const AclResult &)> done) {
                m_requests.append(r);
                AclResult result;
                if (!r.tokenPresented) {
                    result.status = 401;
                    result.reason = u"Missing Authorization header"_s;
                } else if (r.token == "unavailable") {
                    result.status = 503;
                    result.reason = u"user configuration unavailable"_s;
                } else if (r.token != TOKEN) {
                    result.status = 403;
                    result.reason = u"token not found"_s;
                } else if (!r.target.startsWith("127.0.0.1:") && !r.target.startsWith("localhost:")
                           && !r.target.contains(".test:")) {
                    result.status = 403;
                    result.reason = u"token does not match patterns"_s;
                } else {
                    result.allowed = true;
                }
                if (m_asyncAuthorizer) {
                    QTimer::singleShot(20, context, [done, result]() { done(result); });
                } else {
                    done(result);
                }
            });
        connect(m_relay->tunnelServer(), &TunnelServer::tunnelOpened, this, [this](TunnelBridge *bridge) {
            m_bridge = bridge;
        });
    }
    QByteArray path(quint16 targetPort, QByteArrayView user = "alice") const
    {
        return "/huproxy/" + user.toByteArray() + "/127.0.0.1/" + QByteArray::number(targetPort);
    }
    std::unique_ptr<QWebSocket> openWebSocket(const QByteArray &p, const QByteArray &token = TOKEN)
    {
        auto ws = std::make_unique<QWebSocket>();
        QNetworkRequest request(QUrl(u"ws://127.0.0.1:%1"_s.arg(m_port) + QString::fromUtf8(p)));
        if (!token.isEmpty()) {
            request.setRawHeader("Authorization", "Bearer " + token);
        }
        ws->open(request);
        return ws;
    }
    bool waitConnected(QWebSocket *ws)
    {
        if (ws->state() == QAbstractSocket::ConnectedState) {
            return true;
        }
        QSignalSpy spy(ws, &QWebSocket::connected);
        return spy.wait(timeoutMs(5000));
    }
    bool waitNoTunnels()
    {
        QElapsedTimer t;
        t.start();
        while (m_relay->tunnelServer()->tunnelCount() > 0 && t.elapsed() < timeoutMs(5000)) {
            QTest::qWait(5);
        }
        return m_relay->tunnelServer()->tunnelCount() == 0;
    }
    // Buffers small enough for the backpressure tests to reach their limits quickly.
    static TunnelBridge::Settings smallBuffers()
    {
        TunnelBridge::Settings settings;
        settings.bufferLimit = 256 * KiB;
        settings.readBufferSize = 64 * KiB;
        return settings;
    }
    // Opens a tunnel to `targetPort` on a plain socket that reads only when the test does.
    bool openSlowReader(QTcpSocket &raw, quint16 targetPort)
    {
        raw.setReadBufferSize(16 * KiB);
        raw.connectToHost(QHostAddress::LocalHost, m_port);
        if (!raw.waitForConnected(timeoutMs(5000))) {
            return false;
        }
        raw.write(upgradeRequest(path(targetPort)));
        return readHead(raw).startsWith("HTTP/1.1 101 ") && m_bridge;
    }
    // Reads frames from `raw` as the client until `done()` (false after 60 s): `onEvent` sees each complete
    // frame and returns false for one that should not come. Tracks the bridge's memory in *maxBuffered.
    bool readFrames(QTcpSocket &raw,
                    const std::function<bool(const WebSocketCodec::Event &)> &onEvent,
                    const std::function<bool()> &done,
                    qint64 *maxBuffered)
    {
        WebSocketCodec codec(WebSocketCodec::Role::Client);
        QElapsedTimer timer;
        timer.start();
        while (!done()) {
            if (timer.elapsed() > timeoutMs(60'000)) {
                return false;
            }
            if (raw.bytesAvailable() == 0) {
                QTest::qWait(1);
                continue;
            }
            QByteArray chunk = raw.readAll();
            qsizetype pos = 0;
            while (pos < chunk.size()) {
                const WebSocketCodec::Event e = codec.decode(chunk.data() + pos, chunk.size() - pos);
                pos += e.consumed;
                if (e.kind != WebSocketCodec::Event::Kind::NeedMore && !onEvent(e)) {
                    return false;
                }
            }
            *maxBuffered = qMax(*maxBuffered, m_bridge->bufferedBytes());
        }
        return true;
    }
    // The bound a tunnel's memory must stay under (TunnelBridge's comment), plus frame headers.
    static qint64 bufferBound(const TunnelBridge::Settings &s)
    {
        return 2 * s.bufferLimit + 4 * s.readBufferSize + 4 * KiB;
    }

    ManualClock m_clock;
    std::unique_ptr<Metrics> m_metrics;
    std::unique_ptr<RelayServer> m_relay;
    quint16 m_port = 0;
    QList<TunnelServer::Request> m_requests;
    QPointer<TunnelBridge> m_bridge;
    bool m_asyncAuthorizer = false;

private Q_SLOTS:
    void init()
    {
        m_requests.clear();
        m_asyncAuthorizer = false;
        startServer();
    }
    void cleanup()
    {
        m_relay.reset();
    }

    // --- before the upgrade ---------------------------------------------------------------------

    void refusedBeforeUpgrade_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        const QByteArray p = "/huproxy/alice/127.0.0.1/22";
        QTest::addRow("no token") << upgradeRequest(p, {}) << 401
                                  << QByteArray("Unauthorized: Missing Authorization header\n");
        QTest::addRow("unknown token") << upgradeRequest(p, "wrong") << 403
                                       << QByteArray("Forbidden: token not found\n");
        QTest::addRow("target not allowed") << upgradeRequest("/huproxy/alice/10.0.0.1/22") << 403
                                            << QByteArray("Forbidden: token does not match patterns\n");
        QTest::addRow("config unavailable") << upgradeRequest(p, "unavailable") << 503
                                            << QByteArray("Service Unavailable: user configuration unavailable\n");
        QTest::addRow("no token, not a WebSocket request")
            << TestHttpClient::request("GET", p) << 401 << QByteArray("Unauthorized: Missing Authorization header\n");
        QTest::addRow("plain GET") << TestHttpClient::request("GET", p, {}, {{"Authorization", "Bearer " + TOKEN}})
                                   << 400 << QByteArray("Bad Request: WebSocket upgrade required\n");
        QByteArray post = upgradeRequest(p);
        post.replace("GET ", "POST ");
        QTest::addRow("POST upgrade") << post << 400 << QByteArray("Bad Request: WebSocket upgrade required\n");
        QByteArray http10 = upgradeRequest(p);
        http10.replace("HTTP/1.1", "HTTP/1.0");
        QTest::addRow("HTTP/1.0") << http10 << 400 << QByteArray("Bad Request: WebSocket upgrade required\n");
        QByteArray noConnection = upgradeRequest(p);
        noConnection.replace("Connection: Upgrade", "Connection: keep-alive");
        QTest::addRow("Connection without upgrade")
            << noConnection << 400 << QByteArray("Bad Request: WebSocket upgrade required\n");
        QByteArray version = upgradeRequest(p);
        version.replace("Version: 13", "Version: 8");
        QTest::addRow("old version") << version << 400
                                     << QByteArray("Bad Request: unsupported WebSocket version (expected 13)\n");
        QByteArray key = upgradeRequest(p);
        key.replace(KEY, "c2hvcnQ=");
        QTest::addRow("bad key") << key << 400 << QByteArray("Bad Request: invalid Sec-WebSocket-Key\n");
        QTest::addRow("port not a number") << upgradeRequest("/huproxy/alice/127.0.0.1/ssh") << 400
                                           << QByteArray("Bad Request: invalid port (expected 1-65535)\n");
        QTest::addRow("invalid host") << upgradeRequest("/huproxy/alice/a%20b/22") << 400
                                      << QByteArray("Bad Request: invalid host (expected a DNS name or an IP "
                                                    "address, IPv6 in brackets)\n");
        QTest::addRow("no port") << upgradeRequest("/huproxy/alice/127.0.0.1") << 404 << QByteArray("Not found\n");
        QTest::addRow("extra segment") << upgradeRequest("/huproxy/alice/127.0.0.1/22/x") << 404
                                       << QByteArray("Not found\n");
        QTest::addRow("user .. (encoded)")
            << upgradeRequest("/huproxy/%2E%2E/127.0.0.1/22") << 404 << QByteArray("Not found\n");
        QTest::addRow("user with a slash")
            << upgradeRequest("/huproxy/a%2Fb/127.0.0.1/22") << 404 << QByteArray("Not found\n");
        QTest::addRow("user not ASCII") << upgradeRequest("/huproxy/j%C3%B6rg/127.0.0.1/22") << 404
                                        << QByteArray("Not found\n");
    }
    void refusedBeforeUpgrade()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        TestHttpClient client(m_port);
        client.send(request);
        QVERIFY(client.waitForResponse(timeoutMs(5000)));
        const TestResponse r = client.takeResponse();
        QCOMPARE(r.status, status);
        QCOMPARE(r.body, body);
        QVERIFY(r.header("Content-Type").startsWith("text/plain"));
        QCOMPARE(r.header("Upgrade"), QByteArray());
        if (status == 401) {
            QCOMPARE(r.header("WWW-Authenticate"), QByteArray("Bearer realm=\"patchwork\""));
        }
        if (status == 400 && body.contains("WebSocket")) {
            QCOMPARE(r.header("Sec-WebSocket-Version"), QByteArray("13"));
        }
        if (request.contains("HTTP/1.0")) {
            return; // not kept alive
        }
        // The connection still serves HTTP.
        client.get("/healthz");
        QVERIFY(client.waitForResponse(timeoutMs(5000)));
        QCOMPARE(client.takeResponse().status, 200);
        QCOMPARE(m_relay->tunnelServer()->tunnelCount(), 0);
        if (status != 404) {
            const QByteArray sample =
                "patchwork_huproxy_connections_total{status=\"" + QByteArray::number(status) + "\"} 1";
            QVERIFY(m_metrics->render().contains(sample));
        }
    }

    void authorizerSees_data()
    {
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<QByteArray>("user");
        QTest::addColumn<QByteArray>("expectedTarget");
        QTest::addColumn<QByteArray>("expectedToken");
        QTest::addRow("bearer") << QByteArray("/huproxy/alice/example.org/22") << QByteArray("Bearer abc")
                                << QByteArray("alice") << QByteArray("example.org:22") << QByteArray("abc");
        QTest::addRow("token scheme") << QByteArray("/huproxy/bob/h/2222") << QByteArray("token abc")
                                      << QByteArray("bob") << QByteArray("h:2222") << QByteArray("abc");
        QTest::addRow("bare") << QByteArray("/huproxy/bob/h/1") << QByteArray("abc") << QByteArray("bob")
                              << QByteArray("h:1") << QByteArray("abc");
        QTest::addRow("query token") << QByteArray("/huproxy/bob/h/1?token=q%20t") << QByteArray() << QByteArray("bob")
                                     << QByteArray("h:1") << QByteArray("q t");
        QTest::addRow("header beats query") << QByteArray("/huproxy/bob/h/1?token=q") << QByteArray("Bearer abc")
                                            << QByteArray("bob") << QByteArray("h:1") << QByteArray("abc");
        QTest::addRow("IPv6 literal") << QByteArray("/huproxy/bob/::1/22") << QByteArray("abc") << QByteArray("bob")
                                      << QByteArray("[::1]:22") << QByteArray("abc");
        QTest::addRow("IPv6 in brackets") << QByteArray("/huproxy/bob/%5B::1%5D/22") << QByteArray("abc")
                                          << QByteArray("bob") << QByteArray("[::1]:22") << QByteArray("abc");
        QTest::addRow("percent-encoded user") << QByteArray("/huproxy/b%6Fb/h/22") << QByteArray("abc")
                                              << QByteArray("bob") << QByteArray("h:22") << QByteArray("abc");
        const QByteArray longest = QByteArray(63, 'a') + '.' + QByteArray(63, 'b') + '.' + QByteArray(63, 'c') + '.'
                                   + QByteArray(61, 'd'); // 253 characters
        QTest::addRow("longest name") << QByteArray("/huproxy/bob/" + longest + "/22") << QByteArray("abc")
                                      << QByteArray("bob") << QByteArray(longest + ":22") << QByteArray("abc");
        QTest::addRow("punycode, digits, hyphens")
            << QByteArray("/huproxy/bob/xn--bcher-kva.Ex-4mple.de/65535") << QByteArray("abc") << QByteArray("bob")
            << QByteArray("xn--bcher-kva.Ex-4mple.de:65535") << QByteArray("abc");
        QTest::addRow("IPv4-mapped IPv6")
            << QByteArray("/huproxy/bob/%5B::ffff:10.0.0.1%5D/1") << QByteArray("abc") << QByteArray("bob")
            << QByteArray("[::ffff:10.0.0.1]:1") << QByteArray("abc");
    }
    void authorizerSees()
    {
        QFETCH(QByteArray, target);
        QFETCH(QByteArray, header);
        QFETCH(QByteArray, user);
        QFETCH(QByteArray, expectedTarget);
        QFETCH(QByteArray, expectedToken);
        HeaderList headers;
        if (!header.isEmpty()) {
            headers.append({"Authorization", header});
        }
        const TestResponse r = fetch(m_port, "GET", target, {}, headers);
        QCOMPARE(r.status, 403);
        QCOMPARE(m_requests.size(), 1);
        QCOMPARE(m_requests.first().user, QString::fromUtf8(user));
        QCOMPARE(m_requests.first().target, expectedTarget);
        QCOMPARE(m_requests.first().token, expectedToken);
        QVERIFY(m_requests.first().tokenPresented);
    }

    // PROTOCOL §11: the ACL sees exactly what is dialled, so anything that one reader of the host could
    // take differently from another is refused before the ACL and the upgrade.
    void badTargets_data()
    {
        QTest::addColumn<QByteArray>("host");
        QTest::addColumn<QByteArray>("port");
        QTest::addColumn<QByteArray>("body");
        const QByteArray invalidHost =
            "Bad Request: invalid host (expected a DNS name or an IP address, IPv6 in brackets)\n";
        const QByteArray invalidPort = "Bad Request: invalid port (expected 1-65535)\n";
        // Control characters never reach the tunnel: the relay refuses such a path first.
        const QByteArray controlCharacters = "Invalid path: control characters are not allowed\n";
        const auto canonical = [](QByteArrayView use) -> QByteArray {
            return "Bad Request: IP address not in canonical form (use " + use.toByteArray() + ")\n";
        };
        QTest::addRow("NUL in a name") << QByteArray("127.0.0.1%00.example.com") << QByteArray("22")
                                       << controlCharacters;
        QTest::addRow("NUL at the end") << QByteArray("example.com%00") << QByteArray("22") << controlCharacters;
        QTest::addRow("percent") << QByteArray("127.0.0.1%25.example.com") << QByteArray("22") << invalidHost;
        QTest::addRow("space") << QByteArray("example.com%20") << QByteArray("22") << invalidHost;
        QTest::addRow("CR LF") << QByteArray("a%0D%0Ab.example.com") << QByteArray("22") << controlCharacters;
        QTest::addRow("at sign") << QByteArray("127.0.0.1@example.com") << QByteArray("22") << invalidHost;
        QTest::addRow("underscore") << QByteArray("my_host") << QByteArray("22") << invalidHost;
        QTest::addRow("UTF-8") << QByteArray("b%C3%BCcher.de") << QByteArray("22") << invalidHost;
        QTest::addRow("trailing dot") << QByteArray("example.com.") << QByteArray("22") << invalidHost;
        QTest::addRow("leading dot") << QByteArray(".example.com") << QByteArray("22") << invalidHost;
        QTest::addRow("empty label") << QByteArray("a..example.com") << QByteArray("22") << invalidHost;
        QTest::addRow("leading hyphen") << QByteArray("-a.example.com") << QByteArray("22") << invalidHost;
        QTest::addRow("trailing hyphen") << QByteArray("a-.example.com") << QByteArray("22") << invalidHost;
        QTest::addRow("label of 64") << QByteArray(64, 'a') + ".example.com" << QByteArray("22") << invalidHost;
        QTest::addRow("name of 254") << QByteArray(63, 'a') + '.' + QByteArray(63, 'b') + '.' + QByteArray(63, 'c')
                                            + '.' + QByteArray(62, 'd')
                                     << QByteArray("22") << invalidHost;
        QTest::addRow("numeric last label") << QByteArray("1.2.3.4.5") << QByteArray("22") << invalidHost;
        QTest::addRow("IPv4 in brackets") << QByteArray("%5B127.0.0.1%5D") << QByteArray("22") << invalidHost;
        QTest::addRow("unclosed bracket") << QByteArray("%5B::1") << QByteArray("22") << invalidHost;
        QTest::addRow("IPv6 zone") << QByteArray("%5Bfe80::1%25lo%5D") << QByteArray("22") << invalidHost;
        QTest::addRow("not an address") << QByteArray("%5B::g%5D") << QByteArray("22") << invalidHost;
        QTest::addRow("short IPv4") << QByteArray("127.1") << QByteArray("22") << canonical("127.0.0.1");
        QTest::addRow("decimal IPv4") << QByteArray("2130706433") << QByteArray("22") << canonical("127.0.0.1");
        QTest::addRow("hex IPv4") << QByteArray("0x7f000001") << QByteArray("22") << canonical("127.0.0.1");
        QTest::addRow("octal IPv4") << QByteArray("0177.0.0.1") << QByteArray("22") << canonical("127.0.0.1");
        QTest::addRow("leading zeros") << QByteArray("127.000.000.001") << QByteArray("22") << canonical("127.0.0.1");
        QTest::addRow("IPv6 upper case") << QByteArray("%5B::FFFF:7F00:1%5D") << QByteArray("22")
                                         << canonical("[::ffff:127.0.0.1]");
        QTest::addRow("IPv6 uncompressed") << QByteArray("0:0:0:0:0:0:0:1") << QByteArray("22") << canonical("[::1]");
        QTest::addRow("port with plus") << QByteArray("example.com") << QByteArray("+22") << invalidPort;
        QTest::addRow("port with minus") << QByteArray("example.com") << QByteArray("-1") << invalidPort;
        QTest::addRow("port 0") << QByteArray("example.com") << QByteArray("0") << invalidPort;
        QTest::addRow("port with leading zero") << QByteArray("example.com") << QByteArray("022") << invalidPort;
        QTest::addRow("port 65536") << QByteArray("example.com") << QByteArray("65536") << invalidPort;
        QTest::addRow("port 6 digits") << QByteArray("example.com") << QByteArray("000022") << invalidPort;
        QTest::addRow("port with space") << QByteArray("example.com") << QByteArray("22%20") << invalidPort;
        QTest::addRow("port with NUL") << QByteArray("example.com") << QByteArray("22%00") << controlCharacters;
        QTest::addRow("port in hex") << QByteArray("example.com") << QByteArray("0x16") << invalidPort;
    }
    void badTargets()
    {
        QFETCH(QByteArray, host);
        QFETCH(QByteArray, port);
        QFETCH(QByteArray, body);
        TestHttpClient client(m_port);
        client.send(upgradeRequest(QByteArray("/huproxy/alice/" + host + '/' + port)));
        QVERIFY(client.waitForResponse(timeoutMs(5000)));
        const TestResponse r = client.takeResponse();
        QCOMPARE(r.status, 400);
        QCOMPARE(r.body, body);
        QVERIFY(m_requests.isEmpty()); // refused before the ACL
        QCOMPARE(m_relay->tunnelServer()->tunnelCount(), 0);
    }

    // Beneath the relay's own check of the path, the target parser refuses control characters too.
    void targetParserRefusesControlCharacters()
    {
        for (const QByteArray &host : {QByteArray("127.0.0.1\0.example.com", 23), QByteArray("a\r\nb.example.com")}) {
            QByteArray error;
            QVERIFY(!TunnelTarget::parse(host, "22", &error));
            QVERIFY2(error.startsWith("Bad Request: invalid host"), error.constData());
        }
        QByteArray error;
        QVERIFY(!TunnelTarget::parse("example.com", QByteArray("22\0", 3), &error));
        QVERIFY2(error.startsWith("Bad Request: invalid port"), error.constData());
    }

    // The probe of issue 8: `127.0.0.1%00.example.com` matched `*.example.com:*` and the dial, which
    // stops at the NUL, reached the relay's loopback.
    void nulByteDoesNotReachLoopback()
    {
        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkpath(u"alice"_s));
        QFile config(dir.filePath(u"alice/config.yaml"_s));
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write("tokens:\n  t0ken:\n    huproxy: [\"*.example.com:*\"]\n");
        config.close();
        DirectoryConfigSource source(dir.path());
        m_relay->tunnelServer()->setAuthorizer(TunnelServer::configAuthorizer(&source, &m_clock));
        Target target(Target::Mode::Echo);
        TestHttpClient client(m_port);
        client.send(
            upgradeRequest(QByteArray("/huproxy/alice/127.0.0.1%00.example.com/" + QByteArray::number(target.port()))));
        QVERIFY(client.waitForResponse(timeoutMs(5000)));
        const TestResponse r = client.takeResponse();
        QCOMPARE(r.status, 400);
        QCOMPARE(r.body, QByteArray("Invalid path: control characters are not allowed\n"));
        QCOMPARE(m_relay->tunnelServer()->tunnelCount(), 0);
        QCOMPARE(target.connections, 0);
    }

    // Which resolved addresses a tunnel may dial (LocalTargets, docs/DECISIONS.md).
    void refusal_data()
    {
        QTest::addColumn<QByteArray>("host");
        QTest::addColumn<QStringList>("addresses");
        QTest::addColumn<LocalTargets>("policy");
        QTest::addColumn<QString>("refusal");
        const QString none;
        const QString viaName = u"refused: resolves to %1, local to the relay"_s;
        const QString denied = u"refused: %1 is local to the relay"_s;
        const QStringList lan{u"192.168.1.10"_s, u"fd00::10"_s};
        QTest::addRow("LAN name") << QByteArray("nas.lan") << lan << LocalTargets::Literal << none;
        QTest::addRow("LAN name, deny") << QByteArray("nas.lan") << lan << LocalTargets::Deny << none;
        QTest::addRow("LAN literal") << QByteArray("10.1.2.3") << QStringList{u"10.1.2.3"_s} << LocalTargets::Deny
                                     << none;
        QTest::addRow("CGNAT and public")
            << QByteArray("h.example") << QStringList{u"100.64.0.1"_s, u"8.8.8.8"_s} << LocalTargets::Literal << none;
        QTest::addRow("name to loopback") << QByteArray("evil.example.com") << QStringList{u"127.0.0.1"_s}
                                          << LocalTargets::Literal << viaName.arg(u"127.0.0.1"_s);
        QTest::addRow("name to 127.0.1.1") << QByteArray("myhost") << QStringList{u"127.0.1.1"_s}
                                           << LocalTargets::Literal << viaName.arg(u"127.0.1.1"_s);
        QTest::addRow("one of several addresses")
            << QByteArray("mixed.example.com") << QStringList{u"192.0.2.1"_s, u"::1"_s} << LocalTargets::Literal
            << viaName.arg(u"::1"_s);
        QTest::addRow("name to unspecified") << QByteArray("zero.example.com") << QStringList{u"0.0.0.0"_s}
                                             << LocalTargets::Literal << viaName.arg(u"0.0.0.0"_s);
        QTest::addRow("name to IPv6 unspecified")
            << QByteArray("zero.example.com") << QStringList{u"::"_s} << LocalTargets::Literal << viaName.arg(u"::"_s);
        QTest::addRow("name to cloud metadata") << QByteArray("meta.example.com") << QStringList{u"169.254.169.254"_s}
                                                << LocalTargets::Literal << viaName.arg(u"169.254.169.254"_s);
        QTest::addRow("name to IPv6 link-local") << QByteArray("ll.example.com") << QStringList{u"fe80::1"_s}
                                                 << LocalTargets::Literal << viaName.arg(u"fe80::1"_s);
        QTest::addRow("name to IPv4-mapped loopback")
            << QByteArray("m.example.com") << QStringList{u"::ffff:127.0.0.1"_s} << LocalTargets::Literal
            << viaName.arg(u"::ffff:127.0.0.1"_s);
        QTest::addRow("name to IPv4-compatible loopback")
            << QByteArray("c.example.com") << QStringList{u"::127.0.0.1"_s} << LocalTargets::Literal
            << viaName.arg(QHostAddress(u"::127.0.0.1"_s).toString());
        QTest::addRow("name to loopback, allow")
            << QByteArray("evil.example.com") << QStringList{u"127.0.0.1"_s} << LocalTargets::Allow << none;
        QTest::addRow("localhost") << QByteArray("localhost") << QStringList{u"::1"_s, u"127.0.0.1"_s}
                                   << LocalTargets::Literal << none;
        QTest::addRow("LocalHost") << QByteArray("LocalHost") << QStringList{u"127.0.0.1"_s} << LocalTargets::Literal
                                   << none;
        QTest::addRow("localhost, deny") << QByteArray("localhost") << QStringList{u"127.0.0.1"_s} << LocalTargets::Deny
                                         << denied.arg(u"127.0.0.1"_s);
        QTest::addRow("loopback literal")
            << QByteArray("127.0.0.1") << QStringList{u"127.0.0.1"_s} << LocalTargets::Literal << none;
        QTest::addRow("loopback literal, deny") << QByteArray("127.0.0.1") << QStringList{u"127.0.0.1"_s}
                                                << LocalTargets::Deny << denied.arg(u"127.0.0.1"_s);
        QTest::addRow("IPv6 loopback literal, deny")
            << QByteArray("::1") << QStringList{u"::1"_s} << LocalTargets::Deny << denied.arg(u"::1"_s);
    }
    void refusal()
    {
        QFETCH(QByteArray, host);
        QFETCH(QStringList, addresses);
        QFETCH(LocalTargets, policy);
        QFETCH(QString, refusal);
        QByteArray error;
        const std::optional<TunnelTarget> target = TunnelTarget::parse(host, "22", &error);
        QVERIFY2(target, error.constData());
        QList<QHostAddress> resolved;
        for (const QString &a : addresses) {
            resolved.append(QHostAddress(a));
        }
        QCOMPARE(target->refusal(resolved, policy), refusal);
    }

    // The same through real tunnels: `localhost` is reached by default, but not with `deny`.
    void localTargets()
    {
        Target target(Target::Mode::Echo);
        {
            auto ws = openWebSocket("/huproxy/alice/localhost/" + QByteArray::number(target.port()));
            QVERIFY(waitConnected(ws.get()));
            QSignalSpy echoed(ws.get(), &QWebSocket::binaryMessageReceived);
            ws->sendBinaryMessage("hi");
            QVERIFY(echoed.wait(timeoutMs(5000)));
            QCOMPARE(echoed.first().first().toByteArray(), QByteArray("hi"));
        }
        QVERIFY(waitNoTunnels());
        QCOMPARE(target.connections, 1);

        TunnelBridge::Settings settings;
        settings.localTargets = LocalTargets::Deny;
        startServer(settings);
        for (const QByteArray &host : {QByteArray("localhost"), QByteArray("127.0.0.1")}) {
            auto ws = openWebSocket("/huproxy/alice/" + host + '/' + QByteArray::number(target.port()));
            QSignalSpy disconnected(ws.get(), &QWebSocket::disconnected);
            QVERIFY(waitConnected(ws.get()));
            QTRY_COMPARE_WITH_TIMEOUT(disconnected.size(), 1, timeoutMs(5000));
            QCOMPARE(ws->closeCode(), QWebSocketProtocol::CloseCodeBadOperation);
            const QString prefix =
                u"cannot connect to %1:%2: refused: "_s.arg(QString::fromLatin1(host)).arg(target.port());
            QVERIFY2(ws->closeReason().startsWith(prefix), qPrintable(ws->closeReason()));
            QVERIFY2(ws->closeReason().endsWith(u" is local to the relay"_s), qPrintable(ws->closeReason()));
        }
        QVERIFY(waitNoTunnels());
        QCOMPARE(target.connections, 1);
    }

    // A name is resolved once, every address is checked, and the checked addresses are the ones
    // dialled, in order. Runs itself again in a child whose resolver answers for made-up names through
    // nss_wrapper (libnss-wrapper), so that no DNS server is needed.
    void resolvedNames()
    {
        if (!qEnvironmentVariableIsSet("NSS_WRAPPER_HOSTS")) {
            QTemporaryDir dir;
            QFile hosts(dir.filePath(u"hosts"_s));
            QVERIFY(hosts.open(QIODevice::WriteOnly));
            hosts.write("127.0.0.1 loopback.test\n127.0.0.2 twice.test\n127.0.0.1 twice.test\n");
            hosts.close();
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert(u"LD_PRELOAD"_s, u"libnss_wrapper.so"_s);
            env.insert(u"NSS_WRAPPER_HOSTS"_s, hosts.fileName());
            QProcess child;
            child.setProcessEnvironment(env);
            child.setProcessChannelMode(QProcess::MergedChannels);
            child.start(QCoreApplication::applicationFilePath(), {u"resolvedNames"_s});
            QVERIFY(child.waitForFinished(timeoutMs(60'000)));
            const QByteArray output = child.readAll();
            QVERIFY2(child.exitStatus() == QProcess::NormalExit && child.exitCode() == 0, output.constData());
            QVERIFY2(output.contains("PASS   : TestTunnel::resolvedNames()"), output.constData());
            return;
        }
        Target target(Target::Mode::Echo);
        const QByteArray port = QByteArray::number(target.port());
        // By default a name that resolves to loopback is refused, and nothing is dialled.
        {
            auto ws = openWebSocket("/huproxy/alice/loopback.test/" + port);
            QSignalSpy disconnected(ws.get(), &QWebSocket::disconnected);
            QVERIFY(waitConnected(ws.get()));
            QTRY_COMPARE_WITH_TIMEOUT(disconnected.size(), 1, timeoutMs(5000));
            QCOMPARE(ws->closeCode(), QWebSocketProtocol::CloseCodeBadOperation);
            QCOMPARE(ws->closeReason(),
                     u"cannot connect to loopback.test:%1: refused: resolves to 127.0.0.1, local to the relay"_s.arg(
                         target.port()));
        }
        QVERIFY(waitNoTunnels());
        QCOMPARE(target.connections, 0);

        // With `allow` the addresses are tried in order: nothing listens on 127.0.0.2, 127.0.0.1 answers.
        TunnelBridge::Settings settings;
        settings.localTargets = LocalTargets::Allow;
        startServer(settings);
        for (const QByteArray &host : {QByteArray("loopback.test"), QByteArray("twice.test")}) {
            auto ws = openWebSocket("/huproxy/alice/" + host + '/' + port);
            QVERIFY(waitConnected(ws.get()));
            QSignalSpy echoed(ws.get(), &QWebSocket::binaryMessageReceived);
            ws->sendBinaryMessage(host);
            QVERIFY2(echoed.wait(timeoutMs(5000)), host.constData());
            QCOMPARE(echoed.first().first().toByteArray(), host);
        }
        QCOMPARE(target.connections, 2);
    }

    // The users directory and the ACL of PROTOCOL §8/§11, as the daemon wires them.
    void configAuthorizer()
    {
        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkpath(u"alice"_s));
        QFile config(dir.filePath(u"alice/config.yaml"_s));
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write("tokens:\n"
                     "  ssh-token:\n"
                     "    huproxy: [\"127.0.0.1:*\", \"!127.0.0.1:23\"]\n"
                     "  web-token:\n"
                     "    GET: [\"/*\"]\n"
                     "  old-token:\n"
                     "    huproxy: [\"*\"]\n"
                     "    expires_at: 2001-01-01T00:00:00Z\n");
        config.close();
        DirectoryConfigSource source(dir.path());
        m_relay->tunnelServer()->setAuthorizer(TunnelServer::configAuthorizer(&source, &m_clock));
        struct Case
        {
            QByteArray path;
            QByteArray token;
            int status;
            QByteArray body;
        };
        const Case cases[] = {
            {"/huproxy/alice/127.0.0.1/22", "", 401, "Unauthorized: Missing Authorization header\n"},
            {"/huproxy/alice/127.0.0.1/22", "nope", 403, "Forbidden: token not found\n"},
            {"/huproxy/alice/127.0.0.1/22", "old-token", 403, "Forbidden: token expired\n"},
            {"/huproxy/alice/127.0.0.1/22", "web-token", 403, "Forbidden: no patterns found\n"},
            {"/huproxy/alice/127.0.0.1/23", "ssh-token", 403, "Forbidden: token does not match patterns\n"},
            {"/huproxy/alice/10.0.0.1/22", "ssh-token", 403, "Forbidden: token does not match patterns\n"},
            {"/huproxy/nobody/127.0.0.1/22", "ssh-token", 403, "Forbidden: token not found\n"},
            {"/huproxy/alice/127.0.0.1/22", "ssh-token", 400, "Bad Request: WebSocket upgrade required\n"},
        };
        for (const Case &c : cases) {
            HeaderList headers;
            if (!c.token.isEmpty()) {
                headers.append({"Authorization", "Bearer " + c.token});
            }
            const TestResponse r = fetch(m_port, "GET", c.path, {}, headers);
            QVERIFY2(r.status == c.status, QByteArray(c.path + ' ' + c.token + ": " + r.body).constData());
            QCOMPARE(r.body, c.body);
        }
        // And through the upgrade.
        Target target(Target::Mode::Echo);
        auto ws = openWebSocket(path(target.port()), "ssh-token");
        QVERIFY(waitConnected(ws.get()));
        QSignalSpy messages(ws.get(), &QWebSocket::binaryMessageReceived);
        ws->sendBinaryMessage("ping");
        QVERIFY(messages.wait(timeoutMs(5000)));
        QCOMPARE(messages.first().first().toByteArray(), QByteArray("ping"));
    }

    // --- data -----------------------------------------------------------------------------------

    void sixteenMebibytesBothWays()
    {
        Target target(Target::Mode::Echo);
        auto ws = openWebSocket(path(target.port()));
        QVERIFY(waitConnected(ws.get()));
        QCryptographicHash receivedHash(QCryptographicHash::Sha256);
        qint64 received = 0;
        connect(ws.get(), &QWebSocket::binaryMessageReceived, this, [&](const QByteArray &m) {
            received += m.size();
            receivedHash.addData(m);
        });
        QCryptographicHash sentHash(QCryptographicHash::Sha256);
        const qint64 total = 16 * MiB;
        for (qint64 i = 0; i < total / (64 * KiB); ++i) {
            const QByteArray chunk = chunkAt(i);
            sentHash.addData(chunk);
            ws->sendBinaryMessage(chunk);
            if (i % 16 == 0) {
                QCoreApplication::processEvents(); // both ways at once
            }
        }
        QTRY_COMPARE_WITH_TIMEOUT(received, total, timeoutMs(30'000));
        QCOMPARE(target.received, total);
        QCOMPARE(target.receivedHash.result(), sentHash.result());
        QCOMPARE(receivedHash.result(), sentHash.result());
        QVERIFY(m_bridge);
        QCOMPARE(m_bridge->bytesUp(), total);
        QCOMPARE(m_bridge->bytesDown(), total);
        const QByteArray metrics = m_metrics->render();
        QVERIFY(metrics.contains("patchwork_huproxy_connections_total{status=\"101\"} 1"));
        QVERIFY(metrics.contains("patchwork_huproxy_bytes_transferred_total{direction=\"up\"} 16777216"));
        QVERIFY(metrics.contains("patchwork_huproxy_bytes_transferred_total{direction=\"down\"} 16777216"));
    }

    void textFramesAndFragmentsAreBytes()
    {
        Target target(Target::Mode::Sink);
        QTcpSocket raw;
        raw.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(raw.waitForConnected(timeoutMs(5000)));
        raw.write(upgradeRequest(path(target.port())));
        QVERIFY(readHead(raw).startsWith("HTTP/1.1 101 "));
        const WebSocketCodec::MaskKey mask = {'a', 'b', 'c', 'd'};
        QByteArray first = WebSocketCodec::frame(WebSocketCodec::OpCode::Text, "hello ", mask);
        first[0] = char(0x01); // text, not final
        QByteArray last = WebSocketCodec::frame(WebSocketCodec::OpCode::Continuation, "world", mask);
        raw.write(first + WebSocketCodec::frame(WebSocketCodec::OpCode::Ping, "p", mask) + last);
        QTRY_COMPARE_WITH_TIMEOUT(target.received, qint64(11), timeoutMs(5000));
        QCryptographicHash expected(QCryptographicHash::Sha256);
        expected.addData("hello world");
        QCOMPARE(target.receivedHash.result(), expected.result());
        // The ping was answered.
        QTRY_VERIFY_WITH_TIMEOUT(raw.bytesAvailable() >= 3, timeoutMs(5000));
        QCOMPARE(raw.read(3), QByteArray("\x8A\x01p"));
    }

    // Bytes the client sends right behind its handshake, and a handshake that follows another
    // request on the same connection, reach the target.
    void earlyDataAndKeepAlive()
    {
        m_asyncAuthorizer = true; // the HTTP layer holds the bytes until the answer
        Target target(Target::Mode::Echo);
        QTcpSocket raw;
        raw.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(raw.waitForConnected(timeoutMs(5000)));
        const WebSocketCodec::MaskKey mask = {'w', 'x', 'y', 'z'};
        raw.write(TestHttpClient::request("GET", "/healthz") + upgradeRequest(path(target.port()))
                  + WebSocketCodec::frame(WebSocketCodec::OpCode::Binary, "early", mask));
        const QByteArray health = readHead(raw);
        QVERIFY2(health.startsWith("HTTP/1.1 200 "), health.constData());
        QTRY_VERIFY_WITH_TIMEOUT(raw.bytesAvailable() >= 4, timeoutMs(5000));
        QCOMPARE(raw.read(4), QByteArray("OK!\n"));
        const QByteArray upgrade = readHead(raw);
        QVERIFY2(upgrade.startsWith("HTTP/1.1 101 "), upgrade.constData());
        QVERIFY(upgrade.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        QVERIFY(upgrade.contains("\r\nUpgrade: websocket\r\n"));
        QTRY_VERIFY_WITH_TIMEOUT(raw.bytesAvailable() >= 7, timeoutMs(5000));
        QCOMPARE(raw.read(7),
                 QByteArray("\x82\x05"
                            "early"));
    }

    void closeFromClient()
    {
        Target target(Target::Mode::Echo);
        auto ws = openWebSocket(path(target.port()));
        QVERIFY(waitConnected(ws.get()));
        QSignalSpy echoed(ws.get(), &QWebSocket::binaryMessageReceived);
        ws->sendBinaryMessage("last words");
        QVERIFY(echoed.wait(timeoutMs(5000)));
        QSignalSpy disconnected(ws.get(), &QWebSocket::disconnected);
        ws->close(QWebSocketProtocol::CloseCodeNormal, u"bye"_s);
        QTRY_COMPARE_WITH_TIMEOUT(disconnected.size(), 1, timeoutMs(5000));
        QTRY_COMPARE_WITH_TIMEOUT(target.disconnects, 1, timeoutMs(5000));
        QVERIFY(waitNoTunnels());
    }

    // A close frame behind data the target has not taken yet: the data still arrives, then the close.
    void closeFromClientBehindPendingData()
    {
        Target target(Target::Mode::Sink);
        target.setReading(false);
        auto ws = openWebSocket(path(target.port()));
        QVERIFY(waitConnected(ws.get()));
        QCryptographicHash sentHash(QCryptographicHash::Sha256);
        const qint64 total = 8 * MiB;
        for (qint64 i = 0; i < total / (64 * KiB); ++i) {
            const QByteArray chunk = chunkAt(i);
            sentHash.addData(chunk);
            ws->sendBinaryMessage(chunk);
        }
        ws->close();
        QVERIFY(waitUntilSteady([&]() { return m_bridge ? m_bridge->bytesUp() : -1; }, 200, timeoutMs(10'000)));
        QCOMPARE(target.disconnects, 0);
        target.setReading(true);
        QTRY_COMPARE_WITH_TIMEOUT(target.disconnects, 1, timeoutMs(10'000));
        QCOMPARE(target.received, total);
        QCOMPARE(target.receivedHash.result(), sentHash.result());
        QVERIFY(waitNoTunnels());
    }

    void clientConnectionDropsDeliverPendingData()
    {
        Target target(Target::Mode::Sink);
        QTcpSocket raw;
        raw.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(raw.waitForConnected(timeoutMs(5000)));
        raw.write(upgradeRequest(path(target.port())));
        QVERIFY(readHead(raw).startsWith("HTTP/1.1 101 "));
        raw.write(WebSocketCodec::frame(WebSocketCodec::OpCode::Binary, "unannounced end", WebSocketCodec::MaskKey{}));
        raw.disconnectFromHost(); // no close frame
        QTRY_COMPARE_WITH_TIMEOUT(target.disconnects, 1, timeoutMs(5000));
        QCOMPARE(target.received, qint64(15));
        QVERIFY(waitNoTunnels());
    }

    void closeFromTarget()
    {
        Target target(Target::Mode::Echo);
        target.greeting = "SSH-2.0-fake\r\n";
        target.closeAfterGreeting = true;
        auto ws = openWebSocket(path(target.port()));
        QSignalSpy messages(ws.get(), &QWebSocket::binaryMessageReceived);
        QSignalSpy disconnected(ws.get(), &QWebSocket::disconnected);
        QVERIFY(waitConnected(ws.get()));
        QVERIFY(disconnected.wait(timeoutMs(5000)));
        QCOMPARE(messages.size(), 1);
        QCOMPARE(messages.first().first().toByteArray(), QByteArray("SSH-2.0-fake\r\n"));
        QCOMPARE(ws->closeCode(), QWebSocketProtocol::CloseCodeNormal);
        QVERIFY(waitNoTunnels());
    }

    void refusedTarget()
    {
        quint16 closedPort = 0;
        {
            QTcpServer s;
            QVERIFY(s.listen(QHostAddress::LocalHost, 0));
            closedPort = s.serverPort();
        }
        auto ws = openWebSocket(path(closedPort));
        QSignalSpy disconnected(ws.get(), &QWebSocket::disconnected);
        QVERIFY(waitConnected(ws.get())); // the upgrade happens before the dial
        QVERIFY(disconnected.wait(timeoutMs(5000)));
        QCOMPARE(ws->closeCode(), QWebSocketProtocol::CloseCodeBadOperation);
        QVERIFY2(ws->closeReason().startsWith(u"cannot connect to 127.0.0.1:%1: "_s.arg(closedPort)),
                 qPrintable(ws->closeReason()));
        QVERIFY2(ws->closeReason().contains(u"refused"_s, Qt::CaseInsensitive), qPrintable(ws->closeReason()));
        QVERIFY(waitNoTunnels());
    }

    void dialTimeout()
    {
        // A listener whose accept queue is full: further connection attempts hang.
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        QVERIFY(fd >= 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        QVERIFY(::bind(fd, reinterpret_cast<sockaddr *>(&addr), len) == 0);
        QVERIFY(::listen(fd, 0) == 0);
        QVERIFY(::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) == 0);
        const quint16 port = ntohs(addr.sin_port);
        QTcpSocket filler;
        filler.connectToHost(QHostAddress::LocalHost, port);
        QVERIFY(filler.waitForConnected(timeoutMs(5000)));

        auto ws = openWebSocket(path(port));
        QVERIFY(waitConnected(ws.get()));
        QVERIFY(m_bridge);
        QCOMPARE(m_bridge->state(), TunnelBridge::State::Dialing);
        QSignalSpy disconnected(ws.get(), &QWebSocket::disconnected);
        // The clock's wake-up is handled within advance(): the bridge would have given up by now.
        m_clock.advance(9'999);
        QVERIFY(m_bridge);
        QCOMPARE(m_bridge->state(), TunnelBridge::State::Dialing);
        m_clock.advance(1);
        QVERIFY(disconnected.wait(timeoutMs(5000)));
        QCOMPARE(ws->closeCode(), QWebSocketProtocol::CloseCodeBadOperation);
        QCOMPARE(ws->closeReason(), u"cannot connect to 127.0.0.1:%1: connection timed out"_s.arg(port));
        QVERIFY(waitNoTunnels());
        ::close(fd);
    }

    // --- backpressure ---------------------------------------------------------------------------

    // The client stops reading while the target keeps sending: the tunnel stops reading the
    // target instead of buffering, and everything arrives once the client reads again.
    void clientStopsReading()
    {
        const TunnelBridge::Settings settings = smallBuffers();
        startServer(settings);
        Target target(Target::Mode::Source);
        target.sourceTotal = 96 * MiB;
        QTcpSocket raw;
        QVERIFY(openSlowReader(raw, target.port()));

        qint64 maxBuffered = 0;
        QVERIFY(waitUntilSteady(
            [&]() {
                maxBuffered = qMax(maxBuffered, m_bridge->bufferedBytes());
                return target.sent;
            },
            300,
            timeoutMs(20'000)));
        QVERIFY2(target.sent < target.sourceTotal, "the target was never held back");
        QVERIFY2(maxBuffered <= bufferBound(settings), QByteArray::number(maxBuffered).constData());

        // The client reads again: every byte arrives, in order.
        QCryptographicHash hash(QCryptographicHash::Sha256);
        qint64 received = 0;
        QVERIFY(readFrames(
            raw,
            [&](const WebSocketCodec::Event &e) {
                hash.addData(e.payload);
                received += e.payload.size();
                return e.kind == WebSocketCodec::Event::Kind::Data;
            },
            [&]() { return received >= target.sourceTotal; },
            &maxBuffered));
        QCOMPARE(received, target.sourceTotal);
        QCOMPARE(hash.result(), target.sentHash.result());
        QVERIFY2(maxBuffered <= bufferBound(settings), QByteArray::number(maxBuffered).constData());
    }

    // The target stops reading while the client keeps sending.
    void targetStopsReading()
    {
        const TunnelBridge::Settings settings = smallBuffers();
        startServer(settings);
        Target target(Target::Mode::Sink);
        target.setReading(false);
        auto ws = openWebSocket(path(target.port()));
        QVERIFY(waitConnected(ws.get()));
        QVERIFY(m_bridge);
        QCryptographicHash sentHash(QCryptographicHash::Sha256);
        const qint64 total = 64 * MiB;
        for (qint64 i = 0; i < total / (64 * KiB); ++i) {
            const QByteArray chunk = chunkAt(i);
            sentHash.addData(chunk);
            ws->sendBinaryMessage(chunk);
        }
        qint64 maxBuffered = 0;
        QVERIFY(waitUntilSteady(
            [&]() {
                maxBuffered = qMax(maxBuffered, m_bridge->bufferedBytes());
                return m_bridge->bytesUp();
            },
            300,
            timeoutMs(20'000)));
        QVERIFY2(m_bridge->bytesUp() < total, "the client was never held back");
        QVERIFY2(maxBuffered <= bufferBound(settings), QByteArray::number(maxBuffered).constData());

        target.setReading(true);
        QElapsedTimer timer;
        timer.start();
        while (target.received < total && timer.elapsed() < timeoutMs(60'000)) {
            QTest::qWait(5);
            maxBuffered = qMax(maxBuffered, m_bridge->bufferedBytes());
        }
        QCOMPARE(target.received, total);
        QCOMPARE(target.receivedHash.result(), sentHash.result());
        QVERIFY2(maxBuffered <= bufferBound(settings), QByteArray::number(maxBuffered).constData());
    }

    // Issue 8: a client that sends pings and never reads. The pongs queue only up to a bound, then the
    // relay stops reading the client (its TCP flow control holds the pings back), serves others
    // meanwhile, and answers every ping once the client reads.
    void pingFloodIsHeldBack()
    {
        const TunnelBridge::Settings settings = smallBuffers();
        startServer(settings);
        Target target(Target::Mode::Sink);
        QTcpSocket raw;
        QVERIFY(openSlowReader(raw, target.port()));
        QTRY_COMPARE_WITH_TIMEOUT(m_bridge->state(), TunnelBridge::State::Open, timeoutMs(5000));

        // 32 MiB of pings with the largest payload a control frame may carry.
        const QByteArray ping = WebSocketCodec::frame(
            WebSocketCodec::OpCode::Ping, QByteArray(125, 'p'), WebSocketCodec::MaskKey{1, 2, 3, 4});
        const QByteArray block = ping.repeated(1024);
        const qint64 blocks = 32 * MiB / block.size();
        const qint64 pings = blocks * 1024;
        for (qint64 i = 0; i < blocks; ++i) {
            raw.write(block);
        }
        qint64 maxBuffered = 0;
        QVERIFY(waitUntilSteady(
            [&]() {
                maxBuffered = qMax(maxBuffered, m_bridge->bufferedBytes());
                return raw.bytesToWrite();
            },
            300,
            timeoutMs(20'000)));
        QVERIFY2(raw.bytesToWrite() > 0, "the client was never held back");
        QVERIFY2(maxBuffered <= bufferBound(settings), QByteArray::number(maxBuffered).constData());

        const TestResponse health = fetch(m_port, "GET", "/healthz");
        QCOMPARE(health.status, 200);

        // The client reads: a pong for every ping, and the tunnel's memory stays bounded meanwhile.
        qint64 pongs = 0;
        QVERIFY(readFrames(
            raw,
            [&](const WebSocketCodec::Event &e) {
                ++pongs;
                return e.kind == WebSocketCodec::Event::Kind::Pong;
            },
            [&]() { return pongs >= pings; },
            &maxBuffered));
        QCOMPARE(pongs, pings);
        QVERIFY2(maxBuffered <= bufferBound(settings), QByteArray::number(maxBuffered).constData());
        QCOMPARE(m_bridge->state(), TunnelBridge::State::Open);
    }

    // --- time -----------------------------------------------------------------------------------

    void pingAndIdleLimit()
    {
        TunnelBridge::Settings settings;
        settings.idleTimeoutMs = 70'000;
        startServer(settings);
        Target target(Target::Mode::Echo);
        auto ws = openWebSocket(path(target.port()));
        QVERIFY(waitConnected(ws.get()));
        QVERIFY(m_bridge);
        QTRY_COMPARE_WITH_TIMEOUT(m_bridge->state(), TunnelBridge::State::Open, timeoutMs(5000));
        m_clock.advance(29'999);
        // A barrier of two echoes: a ping written within advance() reaches the client before the first
        // echo, so the client's pong goes out before the second message, and the bridge reads that pong
        // before it echoes the second one.
        QSignalSpy echoedFirst(ws.get(), &QWebSocket::binaryMessageReceived);
        for (int i = 1; i <= 2; ++i) {
            ws->sendBinaryMessage("y");
            QTRY_COMPARE_WITH_TIMEOUT(echoedFirst.size(), i, timeoutMs(5000));
        }
        QCOMPARE(m_bridge->pongsReceived(), 0);
        m_clock.advance(1);
        QTRY_COMPARE_WITH_TIMEOUT(m_bridge->pongsReceived(), 1, timeoutMs(5000));
        // Data moves the idle limit; pings and pongs do not.
        QSignalSpy echoed(ws.get(), &QWebSocket::binaryMessageReceived);
        ws->sendBinaryMessage("x");
        QVERIFY(echoed.wait(timeoutMs(5000)));
        m_clock.advance(30'000);
        QTRY_COMPARE_WITH_TIMEOUT(m_bridge->pongsReceived(), 2, timeoutMs(5000));
        QSignalSpy disconnected(ws.get(), &QWebSocket::disconnected);
        m_clock.advance(39'999);
        QCOMPARE(m_bridge->state(), TunnelBridge::State::Open); // the idle limit is checked within advance()
        m_clock.advance(1);
        QVERIFY(disconnected.wait(timeoutMs(5000)));
        QCOMPARE(ws->closeCode(), QWebSocketProtocol::CloseCodeNormal);
        QCOMPARE(ws->closeReason(), u"idle timeout"_s);
        QTRY_COMPARE_WITH_TIMEOUT(target.disconnects, 1, timeoutMs(5000));
        QVERIFY(waitNoTunnels());
    }

    void silentClientIsDroppedAfterClosing()
    {
        Target target(Target::Mode::Echo);
        target.greeting = "bye";
        target.closeAfterGreeting = true;
        QTcpSocket raw;
        raw.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(raw.waitForConnected(timeoutMs(5000)));
        raw.write(upgradeRequest(path(target.port())));
        QVERIFY(readHead(raw).startsWith("HTTP/1.1 101 "));
        // The server sends the data and its close frame, then waits for ours, which never comes.
        QTRY_VERIFY_WITH_TIMEOUT(raw.bytesAvailable() >= 9, timeoutMs(5000));
        QCOMPARE(raw.read(5),
                 QByteArray("\x82\x03"
                            "bye"));
        QCOMPARE(raw.read(4), QByteArray("\x88\x02\x03\xe8"));
        QCOMPARE(m_relay->tunnelServer()->tunnelCount(), 1);
        m_clock.advance(10'000);
        QTRY_COMPARE_WITH_TIMEOUT(raw.state(), QAbstractSocket::UnconnectedState, timeoutMs(5000));
        QVERIFY(waitNoTunnels());
    }

    void shutdownClosesTunnels()
    {
        Target target(Target::Mode::Echo);
        auto ws = openWebSocket(path(target.port()));
        QVERIFY(waitConnected(ws.get()));
        QTRY_COMPARE_WITH_TIMEOUT(m_bridge->state(), TunnelBridge::State::Open, timeoutMs(5000));
        QSignalSpy disconnected(ws.get(), &QWebSocket::disconnected);
        m_relay->shutdown(1000);
        QVERIFY(disconnected.wait(timeoutMs(5000)));
        QCOMPARE(ws->closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
        QCOMPARE(ws->closeReason(), u"server shutting down"_s);
        QTRY_COMPARE_WITH_TIMEOUT(target.disconnects, 1, timeoutMs(5000));
    }

    void noNewTunnelsWhileShuttingDown()
    {
        TestHttpClient client(m_port);
        m_relay->tunnelServer()->closeAll();
        client.send(upgradeRequest("/huproxy/alice/127.0.0.1/22"));
        QVERIFY(client.waitForResponse(timeoutMs(5000)));
        const TestResponse r = client.takeResponse();
        QCOMPARE(r.status, 503);
        QCOMPARE(r.body, QByteArray("Server shutting down\n"));
        QCOMPARE(r.header("Connection"), QByteArray("close"));
    }

    void protocolViolationClosesWith1002()
    {
        Target target(Target::Mode::Sink);
        QTcpSocket raw;
        raw.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(raw.waitForConnected(timeoutMs(5000)));
        raw.write(upgradeRequest(path(target.port())));
        QVERIFY(readHead(raw).startsWith("HTTP/1.1 101 "));
        QTRY_COMPARE_WITH_TIMEOUT(target.connections, 1, timeoutMs(5000));
        raw.write(WebSocketCodec::frame(WebSocketCodec::OpCode::Binary, "unmasked")); // clients must mask
        QTRY_COMPARE_WITH_TIMEOUT(raw.state(), QAbstractSocket::UnconnectedState, timeoutMs(5000));
        const QByteArray close = raw.readAll();
        QVERIFY2(close.startsWith("\x88"), close.toHex().constData());
        QCOMPARE(close.mid(2, 2), QByteArray("\x03\xea")); // 1002
        QCOMPARE(close.mid(4), QByteArray("frame not masked"));
        QTRY_COMPARE_WITH_TIMEOUT(target.disconnects, 1, timeoutMs(5000));
        QCOMPARE(target.received, qint64(0));
    }

    // --- the `patchworkd tunnel` client -----------------------------------------------------------

    void clientEchoesThroughTunnel()
    {
        Target target(Target::Mode::Echo);
        int fds[2];
        QVERIFY(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
        TunnelClient::Options options;
        options.url = QUrl(u"ws://127.0.0.1:%1"_s.arg(m_port) + QString::fromUtf8(path(target.port())));
        options.token = TOKEN;
        auto client = std::make_unique<TunnelClient>(options, fds[0], fds[0], &m_clock);
        QSignalSpy finished(client.get(), &TunnelClient::finished);
        QLocalSocket local;
        QVERIFY(local.setSocketDescriptor(fds[1]));
        client->start();

        QCryptographicHash sentHash(QCryptographicHash::Sha256);
        QCryptographicHash receivedHash(QCryptographicHash::Sha256);
        qint64 received = 0;
        const qint64 total = 8 * MiB;
        connect(&local, &QLocalSocket::readyRead, this, [&]() {
            const QByteArray data = local.readAll();
            received += data.size();
            receivedHash.addData(data);
        });
        for (qint64 i = 0; i < total / (64 * KiB); ++i) {
            const QByteArray chunk = chunkAt(i);
            sentHash.addData(chunk);
            local.write(chunk);
            QCoreApplication::processEvents();
        }
        QTRY_COMPARE_WITH_TIMEOUT(received, total, timeoutMs(30'000));
        QCOMPARE(receivedHash.result(), sentHash.result());
        QCOMPARE(target.receivedHash.result(), sentHash.result());

        // End of input closes the tunnel normally.
        ::shutdown(fds[1], SHUT_WR);
        QVERIFY(finished.wait(timeoutMs(5000)));
        QCOMPARE(finished.first().at(0).toInt(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(target.disconnects, 1, timeoutMs(5000));
        client.reset();
        ::close(fds[0]);
    }

    // The output's reader is another thread, as ssh is another process: whatever the interleaving of
    // full and drained output, every byte arrives.
    void clientDeliversToAConcurrentReader()
    {
        Target target(Target::Mode::Source);
        target.sourceTotal = 32 * MiB;
        int fds[2];
        QVERIFY(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
        TunnelClient::Options options;
        options.url = QUrl(u"ws://127.0.0.1:%1"_s.arg(m_port) + QString::fromUtf8(path(target.port())));
        options.token = TOKEN;
        options.bufferLimit = 64 * KiB; // the output queue is often full, and often drained at once
        auto client = std::make_unique<TunnelClient>(options, fds[0], fds[0], &m_clock);
        std::atomic<qint64> received{0};
        QByteArray digest;
        std::thread reader([&]() {
            QCryptographicHash hash(QCryptographicHash::Sha256);
            std::vector<char> buffer(64 * KiB);
            qint64 nextPause = 0;
            while (received < target.sourceTotal) {
                if (received >= nextPause) {
                    // Now and then the reader is away, so the output fills up; then it drains it at once.
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
                    nextPause += 512 * KiB;
                }
                const ssize_t n = ::read(fds[1], buffer.data(), buffer.size());
                if (n <= 0) {
                    break;
                }
                hash.addData(QByteArrayView(buffer.data(), n));
                received += n;
            }
            digest = hash.result();
        });
        client->start();
        QElapsedTimer timer;
        timer.start();
        while (received < target.sourceTotal && timer.elapsed() < timeoutMs(60'000)) {
            QTest::qWait(5);
        }
        ::shutdown(fds[1], SHUT_RDWR); // ends the reader if bytes went missing
        reader.join();
        QCOMPARE(received.load(), target.sourceTotal);
        QCOMPARE(digest, target.sentHash.result());
        client.reset();
        ::close(fds[0]);
        ::close(fds[1]);
    }

    // wss://: the client speaks TLS to a front end (here a minimal TLS terminator in front of the relay).
    void clientOverTls()
    {
        QVERIFY(QSslSocket::supportsSsl());
        const QSslCertificate certificate(TLS_CERTIFICATE);
        QVERIFY(!certificate.isNull());
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setLocalCertificate(certificate);
        tls.setPrivateKey(QSslKey(TLS_KEY, QSsl::Ec));
        QSslServer front;
        front.setSslConfiguration(tls);
        QVERIFY(front.listen(QHostAddress::LocalHost, 0));
        connect(&front, &QSslServer::pendingConnectionAvailable, this, [&]() {
            while (QTcpSocket *outer = front.nextPendingConnection()) {
                auto *inner = new QTcpSocket(outer);
                inner->connectToHost(QHostAddress::LocalHost, m_port);
                connect(outer, &QTcpSocket::readyRead, inner, [outer, inner]() { inner->write(outer->readAll()); });
                connect(inner, &QTcpSocket::readyRead, outer, [outer, inner]() { outer->write(inner->readAll()); });
                connect(outer, &QTcpSocket::disconnected, inner, &QTcpSocket::disconnectFromHost);
                connect(inner, &QTcpSocket::disconnected, outer, &QTcpSocket::disconnectFromHost);
                Q_EMIT outer->readyRead();
            }
        });
        Target target(Target::Mode::Echo);
        const QUrl url(u"wss://localhost:%1"_s.arg(front.serverPort()) + QString::fromUtf8(path(target.port())));

        for (const bool trusted : {false, true}) {
            int fds[2];
            QVERIFY(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
            TunnelClient::Options options;
            options.url = url;
            options.token = TOKEN;
            if (trusted) {
                options.caCertificates = {certificate};
            }
            auto client = std::make_unique<TunnelClient>(options, fds[0], fds[0], &m_clock);
            QSignalSpy finished(client.get(), &TunnelClient::finished);
            client->start();
            if (!trusted) {
                QVERIFY(finished.wait(timeoutMs(5000)));
                QCOMPARE(finished.first().at(0).toInt(), 1);
                const QString message = finished.first().at(1).toString();
                QVERIFY2(message.startsWith(u"cannot connect to localhost:%1: "_s.arg(front.serverPort())),
                         qPrintable(message));
                QVERIFY2(message.contains(u"certificate"_s, Qt::CaseInsensitive), qPrintable(message));
            } else {
                const QByteArray data = chunkAt(3) + chunkAt(4);
                QCOMPARE(::send(fds[1], data.constData(), size_t(data.size()), 0), ssize_t(data.size()));
                QTRY_COMPARE_WITH_TIMEOUT(target.received, qint64(data.size()), timeoutMs(5000));
                QByteArray echoed;
                QTRY_VERIFY_WITH_TIMEOUT(
                    [&]() {
                        char buffer[65536];
                        const ssize_t n = ::recv(fds[1], buffer, sizeof buffer, MSG_DONTWAIT);
                        if (n > 0) {
                            echoed.append(buffer, n);
                        }
                        return echoed.size() >= data.size();
                    }(),
                    timeoutMs(5000));
                QVERIFY(echoed == data);
                ::shutdown(fds[1], SHUT_WR);
                QVERIFY(finished.wait(timeoutMs(5000)));
                QCOMPARE(finished.first().at(0).toInt(), 0);
            }
            client.reset();
            ::close(fds[0]);
            ::close(fds[1]);
        }
    }

    void clientReportsFailures_data()
    {
        QTest::addColumn<QByteArray>("token");
        QTest::addColumn<bool>("refusedTarget");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        QTest::addRow("refused by the relay")
            << QByteArray("wrong") << false << 1 << u"the server refused the tunnel: 403 Forbidden: token not found"_s;
        QTest::addRow("no token") << QByteArray() << false << 1
                                  << u"the server refused the tunnel: 401 Unauthorized: Missing Authorization header"_s;
        QTest::addRow("target refuses") << TOKEN << true << 1 << u"the server closed the tunnel: 1011 cannot connect"_s;
        QTest::addRow("target closes") << TOKEN << false << 0 << QString();
    }
    void clientReportsFailures()
    {
        QFETCH(QByteArray, token);
        QFETCH(bool, refusedTarget);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        Target target(Target::Mode::Echo);
        target.greeting = "hello from the target";
        target.closeAfterGreeting = true;
        quint16 port = target.port();
        if (refusedTarget) {
            QTcpServer s;
            QVERIFY(s.listen(QHostAddress::LocalHost, 0));
            port = s.serverPort();
        }
        int fds[2];
        QVERIFY(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
        TunnelClient::Options options;
        options.url = QUrl(u"ws://127.0.0.1:%1"_s.arg(m_port) + QString::fromUtf8(path(port)));
        options.token = token;
        auto client = std::make_unique<TunnelClient>(options, fds[0], fds[0], &m_clock);
        QSignalSpy finished(client.get(), &TunnelClient::finished);
        client->start();
        QVERIFY(finished.wait(timeoutMs(5000)));
        QCOMPARE(finished.first().at(0).toInt(), exitCode);
        QVERIFY2(finished.first().at(1).toString().startsWith(message), qPrintable(finished.first().at(1).toString()));
        if (exitCode == 0) {
            // What the target said before closing reached the output.
            char buffer[64];
            const ssize_t n = ::recv(fds[1], buffer, sizeof buffer, MSG_DONTWAIT);
            QCOMPARE(QByteArray(buffer, int(qMax<ssize_t>(n, 0))), QByteArray("hello from the target"));
        }
        client.reset();
        ::close(fds[0]);
        ::close(fds[1]);
    }

    void idleTimeoutOption()
    {
        QString error;
        QProcessEnvironment env;
        QCOMPARE(ServerOptions::parse({}, env, &error)->tunnelIdleTimeoutMs, 3'600'000);
        QCOMPARE(ServerOptions::parse({u"--tunnel-idle-timeout"_s, u"90s"_s}, env, &error)->tunnelIdleTimeoutMs,
                 90'000);
        QCOMPARE(ServerOptions::parse({u"--tunnel-idle-timeout=0"_s}, env, &error)->tunnelIdleTimeoutMs, 0);
        env.insert(u"PATCHWORK_TUNNEL_IDLE_TIMEOUT"_s, u"2m"_s);
        QCOMPARE(ServerOptions::parse({}, env, &error)->tunnelIdleTimeoutMs, 120'000);
        QVERIFY(!ServerOptions::parse({u"--tunnel-idle-timeout=soon"_s}, env, &error));
        QVERIFY(error.contains(u"--tunnel-idle-timeout"_s));
        QVERIFY(ServerOptions::usage().contains(u"  --tunnel-idle-timeout S "_s));
    }

    void clientUrls_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("url");
        QTest::addRow("ws") << u"ws://relay:8080/huproxy/a/h/22"_s << u"ws://relay:8080/huproxy/a/h/22"_s;
        QTest::addRow("wss") << u"wss://relay/huproxy/a/h/22"_s << u"wss://relay/huproxy/a/h/22"_s;
        QTest::addRow("http") << u"http://relay/huproxy/a/h/22"_s << u"ws://relay/huproxy/a/h/22"_s;
        QTest::addRow("https") << u"HTTPS://relay/x"_s << u"wss://relay/x"_s;
        QTest::addRow("ftp") << u"ftp://relay/x"_s << QString();
        QTest::addRow("no host") << u"ws:///x"_s << QString();
        QTest::addRow("not a URL") << u"relay:8080"_s << QString();
    }
    void clientUrls()
    {
        QFETCH(QString, input);
        QFETCH(QString, url);
        QString error;
        const QUrl result = TunnelClient::normalizeUrl(input, &error);
        QCOMPARE(result.toString(), url);
        QCOMPARE(error.isEmpty(), !url.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestTunnel)
#include "tst_tunnel.moc"
