// SPDX-License-Identifier: MIT
// Fuzzes the HTTP/1.1 request parser, the chunked decoder and everything behind them through real
// connections: the real HttpServer and RelayServer (with access control, a user `alice` and the tunnel)
// run in this process on 127.0.0.1; each input is sent as it is over new QTcpSockets (`@@@` separates
// what goes to the next connection, at most four), and the event
// loop runs until the answers are complete (or a short bound). Then a checker reads what came back and
// aborts on anything malformed:
//  - status lines `HTTP/1.1 NNN reason` and header lines `name: value` with CRLF, no control characters
//    (CR, LF, NUL...) in a reason or value, no duplicate Content-Length, not both framings;
//  - bodies framed exactly: Content-Length bytes, or valid chunked framing; none after HEAD, 204, 304;
//  - exactly the responses the server reported starting, in order and with their statuses: no second
//    response injected into a header or a body;
//  - the tunnel never reaches a destination its ACL did not allow: alice may dial only
//    `127.*.2:<canary port>`, and a listener on 127.0.0.1:<canary port> aborts on any connection. An
//    input's `@C@` is replaced by the canary port. Inputs whose tunnel host has a letter are skipped,
//    so the fuzzer never makes a DNS query.
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <vector>

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QHash>
#include <QList>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTimer>
#include <QUrl>

#include "access/directoryconfigsource.h"
#include "access/hooksecret.h"
#include "fuzzcheck.h"
#include "http/httpconnection.h"
#include "http/httpserver.h"
#include "relay/accessgate.h"
#include "relay/relayserver.h"
#include "util/clock.h"
#include "util/metrics.h"

using namespace Patchwork;
using namespace Patchwork::Server;
using namespace Qt::StringLiterals;
using Patchwork::Fuzz::fail;

namespace
{

// What the server said it started, per response on the fuzzed connection.
struct Started
{
    int status = 0;
    bool head = false;
};

// The relay's handler, seen through: records each response the server starts on the current
// connection, then lets the relay do everything as usual.
class RecordingHandler final : public HttpHandler
{
public:
    explicit RecordingHandler(RelayServer *relay)
        : m_relay(relay)
    {
    }
    void handleRequest(HttpConnection *connection) override
    {
        m_relay->handleRequest(connection);
    }
    void connectionCountChanged(qsizetype count) override
    {
        m_relay->connectionCountChanged(count);
    }
    void responseStarted(HttpConnection *connection, int status, qint64 elapsedMs) override
    {
        if (connection->socket()) {
            const auto it = started.find(connection->socket()->peerPort());
            if (it != started.end()) {
                it->append({status, connection->request().method == "HEAD"});
            }
        }
        m_relay->responseStarted(connection, status, elapsedMs);
    }

    // Per fuzzed connection (by its local port): the responses started on it.
    QHash<quint16, QList<Started>> started;

private:
    RelayServer *m_relay;
};

struct World
{
    World()
    {
        static int argc = 1;
        static char name[] = "fuzz_httpconnection";
        static char *argv[] = {name, nullptr};
        app = std::make_unique<QCoreApplication>(argc, argv);

        // A connection to the canary means the tunnel dialled what alice's ACL does not allow.
        canary = std::make_unique<QTcpServer>();
        if (!canary->listen(QHostAddress::LocalHost, 0)) {
            fail("cannot listen");
        }
        QObject::connect(canary.get(), &QTcpServer::newConnection, canary.get(), [] {
            fail("the tunnel reached a destination its ACL does not allow");
        });
        canaryPort = QByteArray::number(canary->serverPort());

        QDir().mkpath(dir.filePath(u"alice"_s));
        QFile config(dir.filePath(u"alice/config.yaml"_s));
        if (!config.open(QIODevice::WriteOnly)) {
            fail("cannot write the config");
        }
        config.write("tokens:\n"
                     "  fuzz-token:\n"
                     "    GET: [\"/*\"]\n"
                     "    POST: [\"/*\"]\n"
                     "    PUT: [\"/*\"]\n"
                     "    DELETE: [\"/*\", \"!/private/*\"]\n"
                     "    PATCH: [\"/a?c\"]\n"
                     "    huproxy: [\"127.*.2:"
                     + canaryPort + "\"]\n");
        config.close();

        configs = std::make_unique<DirectoryConfigSource>(dir.path());
        gate = std::make_unique<AccessGate>(&clock, HookSecret::fromKey("fuzz-server-key"), configs.get(), &metrics);
        relay = std::make_unique<RelayServer>(&clock);
        RelayServer::Settings settings;
        settings.limits.maxBody = 64 * 1024;
        settings.limits.maxHeaderBytes = 8 * 1024;
        relay->setSettings(settings);
        relay->setAccessGate(gate.get());
        handler = std::make_unique<RecordingHandler>(relay.get());
        http = std::make_unique<HttpServer>(handler.get());
        http->setLimits(settings.limits);
        if (!http->listen(QHostAddress::LocalHost, 0)) {
            fail("cannot listen");
        }
    }

    std::unique_ptr<QCoreApplication> app;
    QTemporaryDir dir;
    std::unique_ptr<QTcpServer> canary;
    QByteArray canaryPort;
    SystemClock clock;
    Metrics metrics;
    std::unique_ptr<DirectoryConfigSource> configs;
    std::unique_ptr<AccessGate> gate;
    std::unique_ptr<RelayServer> relay;
    std::unique_ptr<RecordingHandler> handler;
    std::unique_ptr<HttpServer> http;
};

bool isTokenChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

// Field values and reasons: HTAB, SP, visible ASCII, obs-text. Never CR, LF, NUL or another control.
bool isFieldText(QByteArrayView v)
{
    for (const char c : v) {
        const auto u = uchar(c);
        if ((u < 0x20 && u != '\t') || u == 0x7F) {
            return false;
        }
    }
    return true;
}

// Reads the responses in `data` against what the server reported starting; aborts on anything malformed.
class ResponseChecker
{
public:
    ResponseChecker(const QByteArray &data, const QList<Started> &started, bool closed)
        : m_data(data)
        , m_started(started)
        , m_closed(closed)
    {
    }

    void run()
    {
        qsizetype index = 0;
        while (m_pos < m_data.size()) {
            int status = 0;
            Framing framing;
            if (!readHead(&status, &framing)) {
                return; // cut off by the time bound
            }
            if (status == 100) {
                continue; // interim, not reported
            }
            if (status == 101) {
                return; // the tunnel's WebSocket follows
            }
            if (index >= m_started.size()) {
                fail("a response the server did not start (injected?)", m_data);
            }
            const Started &expected = m_started.at(index++);
            if (expected.status != status) {
                fail("a status other than the one the server started", m_data);
            }
            const bool noBody = expected.head || status == 204 || status == 304;
            if (noBody) {
                continue;
            }
            if (framing.chunked) {
                if (!readChunked()) {
                    return;
                }
            } else if (framing.contentLength >= 0) {
                if (m_data.size() - m_pos < framing.contentLength) {
                    return;
                }
                m_pos += framing.contentLength;
            } else {
                fail("a body without framing", m_data);
            }
        }
        if (m_closed && index < m_started.size() && m_started.at(index).status != 101) {
            // The server closed after starting a response it never finished writing: allowed only when
            // the connection was lost mid-stream, which the fuzzer never does.
            fail("a started response is missing from a closed connection", m_data);
        }
    }

private:
    struct Framing
    {
        qint64 contentLength = -1;
        bool chunked = false;
    };

    // The next CRLF-terminated line; false when the data ends first. A bare LF or CR is malformed.
    bool readLine(QByteArrayView *line)
    {
        const qsizetype end = m_data.indexOf("\r\n", m_pos);
        if (end < 0) {
            const QByteArrayView rest = QByteArrayView(m_data).sliced(m_pos);
            if (rest.contains('\n')) {
                fail("a bare LF", m_data);
            }
            return false;
        }
        *line = QByteArrayView(m_data).sliced(m_pos, end - m_pos);
        if (line->contains('\n') || line->contains('\r')) {
            fail("a bare CR or LF in a line", m_data);
        }
        m_pos = end + 2;
        return true;
    }

    bool readHead(int *status, Framing *framing)
    {
        QByteArrayView line;
        if (!readLine(&line)) {
            return false;
        }
        if (line.size() < 12 || !line.startsWith("HTTP/1.1 ") || (line.size() > 12 && line[12] != ' ')
            || !isFieldText(line)) {
            fail("a malformed status line", m_data);
        }
        for (int i = 9; i < 12; ++i) {
            if (line[i] < '0' || line[i] > '9') {
                fail("a malformed status code", m_data);
            }
        }
        *status = line.sliced(9, 3).toInt();
        bool sawLength = false;
        for (;;) {
            if (!readLine(&line)) {
                return false;
            }
            if (line.isEmpty()) {
                return true;
            }
            const qsizetype colon = line.indexOf(':');
            if (colon <= 0) {
                fail("a header line without a name", m_data);
            }
            const QByteArrayView name = line.first(colon);
            for (const char c : name) {
                if (!isTokenChar(c)) {
                    fail("a header name with a character outside token", m_data);
                }
            }
            const QByteArrayView value = line.sliced(colon + 1).trimmed();
            if (!isFieldText(value)) {
                fail("a control character in a header value", m_data);
            }
            if (name.compare("Content-Length", Qt::CaseInsensitive) == 0) {
                bool ok = false;
                framing->contentLength = value.toLongLong(&ok);
                if (sawLength || !ok || framing->contentLength < 0) {
                    fail("a bad or second Content-Length", m_data);
                }
                sawLength = true;
            } else if (name.compare("Transfer-Encoding", Qt::CaseInsensitive) == 0) {
                if (value != "chunked" || framing->chunked) {
                    fail("a bad Transfer-Encoding", m_data);
                }
                framing->chunked = true;
            }
            if (sawLength && framing->chunked) {
                fail("both Content-Length and chunked", m_data);
            }
        }
    }

    // Chunks: hex size CRLF data CRLF, ending with 0 CRLF CRLF (the server sends no trailers).
    bool readChunked()
    {
        for (;;) {
            QByteArrayView line;
            if (!readLine(&line)) {
                return false;
            }
            bool ok = false;
            const qint64 size = line.toLongLong(&ok, 16);
            if (line.isEmpty() || !ok || size < 0 || line.size() > 16) {
                fail("a malformed chunk size", m_data);
            }
            for (const char c : line) {
                if (!isxdigit(uchar(c))) {
                    fail("a chunk size with a character that is not hex", m_data);
                }
            }
            if (size == 0) {
                if (!readLine(&line)) {
                    return false;
                }
                if (!line.isEmpty()) {
                    fail("trailers after the last chunk", m_data);
                }
                return true;
            }
            if (m_data.size() - m_pos < size + 2) {
                return false;
            }
            if (QByteArrayView(m_data).sliced(m_pos + size, 2) != "\r\n") {
                fail("a chunk not followed by CRLF", m_data);
            }
            m_pos += size + 2;
        }
    }

    const QByteArray &m_data;
    const QList<Started> &m_started;
    bool m_closed;
    qsizetype m_pos = 0;
};

// Tunnel hosts with a letter would be looked up in DNS; skip such inputs.
bool dialsByName(const QByteArray &input)
{
    qsizetype at = 0;
    while ((at = input.indexOf("huproxy/", at)) >= 0) {
        at += 8;
        const qsizetype userEnd = input.indexOf('/', at);
        if (userEnd < 0) {
            return false;
        }
        qsizetype hostEnd = userEnd + 1;
        while (hostEnd < input.size() && !QByteArrayView("/ ?#\r\n").contains(input[hostEnd])) {
            ++hostEnd;
        }
        const QByteArray host = QByteArray::fromPercentEncoding(input.sliced(userEnd + 1, hostEnd - userEnd - 1));
        for (const char c : host) {
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
                return true;
            }
        }
    }
    return false;
}

// Runs the event loop until `done` holds or `ms` pass.
template <typename Predicate> void runUntil(Predicate done, int ms)
{
    QElapsedTimer timer;
    timer.start();
    while (!done() && timer.elapsed() < ms) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    }
}

constexpr int MAX_CONNECTIONS = 4;

struct Client
{
    explicit Client(quint16 port)
    {
        socket.connectToHost(QHostAddress::LocalHost, port);
    }
    QTcpSocket socket;
    quint16 port = 0; // the local port, which the socket forgets once closed
    QByteArray received;
    bool closed = false;
};

// Reads until every client is closed or nothing new arrived for `quietMs` (a request may wait for a
// partner that never comes), at most a second.
void receive(const std::vector<std::unique_ptr<Client>> &clients, int quietMs)
{
    QElapsedTimer quiet;
    quiet.start();
    QElapsedTimer total;
    total.start();
    while (quiet.elapsed() < quietMs && total.elapsed() < 1000) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
        bool open = false;
        for (const auto &c : clients) {
            if (c->socket.bytesAvailable() > 0) {
                c->received += c->socket.readAll();
                quiet.restart();
            }
            if (c->socket.state() != QAbstractSocket::ConnectedState) {
                c->closed = true;
            } else {
                open = true;
            }
        }
        if (!open) {
            break;
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static World *world = new World; // never destroyed: libFuzzer exits without unwinding
    QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    input.replace("@C@", world->canaryPort);
    if (input.isEmpty() || dialsByName(input)) {
        return 0;
    }

    // `@@@` separates what goes to different connections (a responder and its requester, say).
    QList<QByteArray> parts;
    for (qsizetype from = 0;;) {
        const qsizetype at = parts.size() + 1 < MAX_CONNECTIONS ? input.indexOf("@@@", from) : -1;
        parts.append(input.mid(from, at < 0 ? -1 : at - from));
        if (at < 0) {
            break;
        }
        from = at + 3;
    }
    std::vector<std::unique_ptr<Client>> clients;
    while (clients.size() < size_t(parts.size())) {
        clients.push_back(std::make_unique<Client>(world->http->serverPort()));
    }
    runUntil(
        [&] {
            return std::all_of(clients.begin(), clients.end(), [](const auto &c) {
                return c->socket.state() == QAbstractSocket::ConnectedState;
            });
        },
        2000);
    world->handler->started.clear();
    for (const auto &c : clients) {
        if (c->socket.state() != QAbstractSocket::ConnectedState) {
            fail("cannot connect");
        }
        c->port = c->socket.localPort();
        world->handler->started.insert(c->port, {});
    }
    // One part after the other, each given time to arrive and be handled first.
    for (size_t i = 0; i < clients.size(); ++i) {
        clients[i]->socket.write(parts.at(qsizetype(i)));
        receive(clients, i + 1 == clients.size() ? 20 : 5);
    }
    for (const auto &c : clients) {
        ResponseChecker(c->received, world->handler->started.value(c->port), c->closed).run();
    }

    // Leave nothing behind for the next input.
    world->handler->started.clear();
    for (const auto &c : clients) {
        c->socket.abort();
    }
    runUntil([&] { return world->http->connectionCount() == 0; }, 2000);
    return 0;
}
