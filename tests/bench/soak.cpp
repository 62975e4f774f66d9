// SPDX-License-Identifier: MIT
// soak: hours of mixed load against a patchworkd it starts on 127.0.0.1, to find leaks and slow decay.
//
// Load (all on one event loop, plain HTTP/1.1 over QTcpSocket, every message numbered and checked):
//  - queue pairs (one producer, one consumer each): every number arrives once, in order;
//  - pubsub: one publisher, two Server-Sent Event subscribers and two long-poll subscribers that
//    resume with `since=<Patch-Id>`: every subscriber sees every number once, in order;
//  - request/response pairs: the reply names the request it answers;
//  - tunnels (/huproxy/ to a TCP echo server in this process): the echoed bytes are the bytes sent;
//    each tunnel is closed and reopened every few MiB;
//  - clients vanishing mid-transfer: half uploads, a consumer leaving in the middle of a 1 MiB body
//    (the next consumer must get that message whole), abandoned streams, tunnels and requests;
//  - slow readers: SSE subscribers reading 20 KiB/s (the server closes them at 1 MiB unsent; they
//    resume), a queue consumer reading 256 KiB bodies at 32 KiB/s.
// The first --calibrate seconds run unthrottled to measure the maximum of this mix; the rest runs at
// --load (default half) of it. Every 10 s the daemon's VmRSS and open descriptors go to samples.csv.
// At the end: RSS slope (KiB/hour, least squares over the second half), errors, lost messages; the
// summary is printed and written to summary.txt. Exit code 1 on any error or lost message.
//
//   soak --daemon build/bin/patchworkd [--duration 1h] [--load 0.5] [--out DIR] [-- DAEMON-OPTIONS...]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QPointer>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <csignal>

#include "procstat.h"
#include "protocol/websocketcodec.h"
#include "util/duration.h"

using Patchwork::Server::WebSocketCodec;

namespace
{

QRandomGenerator s_random(0x50a4);

// ---------------------------------------------------------------------------------------------
// Counters and the error log

struct Stats
{
    qint64 queueMessages = 0;
    qint64 pubsubDeliveries = 0;
    qint64 requests = 0;
    qint64 tunnelBytes = 0;
    qint64 tunnelsOpened = 0;
    qint64 vanished = 0;
    qint64 bigTransfers = 0;
    qint64 bigTakenByVanished = 0; // whole in the kernel when its consumer left: delivered
    qint64 slowMessages = 0;
    qint64 slowReconnects = 0;
    qint64 errors = 0;
    qint64 lost = 0;
    qint64 paced = 0; // operations through the pacer: what calibration measures
    QStringList firstErrors;
};
Stats s_stats;
QElapsedTimer s_clock;

void reportError(const QString &what)
{
    ++s_stats.errors;
    const QString line = QStringLiteral("[%1 s] %2").arg(s_clock.elapsed() / 1000).arg(what);
    if (s_stats.firstErrors.size() < 50) {
        s_stats.firstErrors.append(line);
    }
    std::fprintf(stderr, "soak: error: %s\n", qPrintable(line));
}

void reportLost(qint64 n, const QString &where)
{
    s_stats.lost += n;
    reportError(QStringLiteral("%1 lost %2 message(s)").arg(where).arg(n));
}

QByteArray padding(int max)
{
    return QByteArray(int(s_random.bounded(max + 1)), 'x');
}

// Checks numbered messages: each exactly once and in order.
class Sequence
{
public:
    explicit Sequence(QString name)
        : m_name(std::move(name))
    {
    }
    // `strict`: a number that skips ahead is a loss (else the gap is only remembered).
    void seen(qint64 n, bool strict = true)
    {
        if (m_next >= 0 && n < m_next) {
            reportError(QStringLiteral("%1: message %2 again (expected %3)").arg(m_name).arg(n).arg(m_next));
            return;
        }
        if (strict && m_next >= 0 && n > m_next) {
            reportLost(n - m_next, m_name);
        }
        m_next = n + 1;
    }
    qint64 next() const
    {
        return m_next;
    }

private:
    QString m_name;
    qint64 m_next = -1; // the first message seen sets the start
};

// "tag:<n>:..." => n, or -1.
qint64 numberIn(QByteArrayView body, QByteArrayView tag)
{
    if (!body.startsWith(tag) || body.size() <= tag.size() || body[tag.size()] != ':') {
        return -1;
    }
    const QByteArrayView rest = body.sliced(tag.size() + 1);
    const qsizetype end = rest.indexOf(':');
    bool ok = false;
    const qint64 n = (end < 0 ? rest : rest.first(end)).toLongLong(&ok);
    return ok ? n : -1;
}

// ---------------------------------------------------------------------------------------------
// Pacing: a token bucket shared by the paced operations (unlimited while calibrating).

class Pacer final : public QObject
{
public:
    Pacer()
    {
        m_tick.setInterval(5);
        QObject::connect(&m_tick, &QTimer::timeout, this, [this] { refill(); });
        m_tick.start();
        m_last.start();
    }
    // 0 = unlimited.
    void setRate(double perSecond)
    {
        m_rate = perSecond;
    }
    double rate() const
    {
        return m_rate;
    }
    // Runs `go` when the budget allows `cost` operations.
    void acquire(double cost, QObject *context, std::function<void()> go)
    {
        m_waiting.push_back({cost, QPointer<QObject>(context), std::move(go)});
        if (m_rate <= 0) {
            QTimer::singleShot(0, this, [this] { refill(); });
        }
    }

private:
    struct Waiting
    {
        double cost;
        QPointer<QObject> context;
        std::function<void()> go;
    };

    void refill()
    {
        const double seconds = double(m_last.restart()) / 1000.0;
        m_tokens = std::min(m_tokens + seconds * m_rate, std::max(1.0, m_rate * 0.05));
        while (!m_waiting.empty() && (m_rate <= 0 || m_tokens >= m_waiting.front().cost)) {
            Waiting w = std::move(m_waiting.front());
            m_waiting.pop_front();
            if (!w.context) {
                continue;
            }
            if (m_rate > 0) {
                m_tokens -= w.cost;
            }
            s_stats.paced += qint64(w.cost);
            w.go();
        }
    }

    QTimer m_tick;
    QElapsedTimer m_last;
    double m_rate = 0;
    double m_tokens = 0;
    std::deque<Waiting> m_waiting;
};
Pacer *s_pacer = nullptr;
quint16 s_port = 0;

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client: one request at a time on a keep-alive connection, reconnecting when the
// server closed it in between.

struct Response
{
    int status = 0;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;

    QByteArray header(QByteArrayView name) const
    {
        for (const auto &h : headers) {
            if (QByteArrayView(h.first).compare(name, Qt::CaseInsensitive) == 0) {
                return h.second;
            }
        }
        return {};
    }
};

QByteArray
request(QByteArrayView method, const QByteArray &target, const QByteArray &body = {}, const QByteArray &extra = {})
{
    QByteArray r = method.toByteArray() + ' ' + target + " HTTP/1.1\r\nHost: soak\r\n";
    if (!body.isEmpty() || method == "POST" || method == "PUT") {
        r += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    }
    r += extra + "\r\n" + body;
    return r;
}

class HttpConn final : public QObject
{
public:
    std::function<void(const Response &)> onResponse;
    std::function<void(QByteArrayView)> onBody; // when set: body bytes as they arrive, not collected
    std::function<void()> onFailed; // lost while a response was due

    explicit HttpConn(QObject *parent)
        : QObject(parent)
    {
        QObject::connect(&m_socket, &QTcpSocket::readyRead, this, [this] { read(); });
        QObject::connect(&m_socket, &QTcpSocket::disconnected, this, [this] { onDisconnected(); });
        QObject::connect(&m_socket, &QTcpSocket::errorOccurred, this, [this] {
            if (m_socket.state() == QAbstractSocket::UnconnectedState) {
                onDisconnected();
            }
        });
        m_slowTick.setInterval(100);
        QObject::connect(&m_slowTick, &QTimer::timeout, this, [this] {
            m_budget += m_bytesPerTick;
            read();
        });
    }
    // A slow reader: at most `bytesPerSecond`, with a small socket buffer so the server sees it.
    void setSlow(qint64 bytesPerSecond)
    {
        m_bytesPerTick = bytesPerSecond / 10;
        m_budget = 0;
        m_socket.setReadBufferSize(16 * 1024);
        m_slowTick.start();
    }
    void send(const QByteArray &bytes)
    {
        if (m_socket.state() == QAbstractSocket::UnconnectedState) {
            m_buf.clear();
            m_state = State::Idle;
            m_closing = false;
            m_socket.connectToHost(QHostAddress::LocalHost, s_port);
        }
        m_pending = true;
        m_socket.write(bytes);
    }
    bool pending() const
    {
        return m_pending;
    }
    void abort()
    {
        m_pending = false;
        m_socket.abort();
        m_buf.clear();
        m_state = State::Idle;
    }

private:
    enum class State
    {
        Idle,
        Head,
        Body,
        ChunkSize,
        ChunkData,
        ChunkEnd,
    };

    void read()
    {
        qint64 n = m_socket.bytesAvailable();
        if (m_bytesPerTick > 0) {
            n = std::min(n, m_budget);
            m_budget = std::min(m_budget - n, m_bytesPerTick);
        }
        if (n > 0) {
            m_buf += m_socket.read(n);
        }
        parse();
    }

    void parse()
    {
        for (;;) {
            switch (m_state) {
            case State::Idle:
                if (m_buf.isEmpty()) {
                    return;
                }
                m_state = State::Head;
                break;
            case State::Head: {
                const qsizetype end = m_buf.indexOf("\r\n\r\n");
                if (end < 0) {
                    return;
                }
                const QList<QByteArray> lines = m_buf.first(end).split('\n');
                m_buf.remove(0, end + 4);
                m_response = {};
                m_response.status = lines.first().mid(9, 3).toInt();
                for (qsizetype i = 1; i < lines.size(); ++i) {
                    const qsizetype colon = lines[i].indexOf(':');
                    if (colon > 0) {
                        m_response.headers.append({lines[i].first(colon), lines[i].sliced(colon + 1).trimmed()});
                    }
                }
                if (m_response.status == 100) {
                    m_state = State::Idle;
                    break;
                }
                m_closing = m_response.header("Connection").compare("close", Qt::CaseInsensitive) == 0;
                if (m_response.header("Transfer-Encoding") == "chunked") {
                    m_state = State::ChunkSize;
                } else {
                    m_remaining = m_response.header("Content-Length").toLongLong();
                    m_state = State::Body;
                    if (m_remaining == 0) {
                        complete();
                    }
                }
                break;
            }
            case State::Body:
            case State::ChunkData: {
                const qsizetype take = qsizetype(std::min<qint64>(m_remaining, m_buf.size()));
                if (take > 0) {
                    deliver(QByteArrayView(m_buf).first(take));
                    m_buf.remove(0, take);
                    m_remaining -= take;
                }
                if (m_remaining > 0) {
                    return;
                }
                if (m_state == State::Body) {
                    complete();
                    break;
                }
                if (m_buf.size() < 2) {
                    return;
                }
                m_buf.remove(0, 2);
                m_state = State::ChunkSize;
                break;
            }
            case State::ChunkSize: {
                const qsizetype end = m_buf.indexOf("\r\n");
                if (end < 0) {
                    return;
                }
                m_remaining = m_buf.first(end).toLongLong(nullptr, 16);
                m_buf.remove(0, end + 2);
                m_state = m_remaining == 0 ? State::ChunkEnd : State::ChunkData;
                break;
            }
            case State::ChunkEnd: {
                const qsizetype end = m_buf.indexOf("\r\n");
                if (end < 0) {
                    return;
                }
                m_buf.remove(0, end + 2);
                if (end == 0) {
                    complete();
                }
                break;
            }
            }
        }
    }

    void deliver(QByteArrayView data)
    {
        if (onBody) {
            onBody(data);
        } else {
            m_response.body += data;
        }
    }

    void complete()
    {
        m_state = State::Idle;
        m_pending = false;
        const Response response = std::move(m_response);
        m_response = {};
        if (onResponse) {
            onResponse(response);
        }
    }

    void onDisconnected()
    {
        const bool failed = m_pending;
        m_pending = false;
        m_buf.clear();
        m_state = State::Idle;
        if (failed && onFailed) {
            onFailed();
        }
    }

    QTcpSocket m_socket;
    QByteArray m_buf;
    State m_state = State::Idle;
    Response m_response;
    qint64 m_remaining = 0;
    bool m_pending = false;
    bool m_closing = false;
    QTimer m_slowTick;
    qint64 m_bytesPerTick = 0;
    qint64 m_budget = 0;
};

// ---------------------------------------------------------------------------------------------
// Workers. Each one restarts itself after an error; the watchdog reports one that makes no progress.

class Worker : public QObject
{
public:
    explicit Worker(QString name, qint64 stallMs = 60'000)
        : m_name(std::move(name))
        , m_stallMs(stallMs)
    {
    }
    virtual void start() = 0;
    virtual void stop() = 0;
    void progress()
    {
        m_lastProgress = s_clock.elapsed();
    }
    void watchdog()
    {
        if (s_clock.elapsed() - m_lastProgress > m_stallMs) {
            reportError(QStringLiteral("%1: no progress for %2 s").arg(m_name).arg(m_stallMs / 1000));
            restart();
        }
    }
    // A connection whose loss is an error that restarts this worker.
    HttpConn *newConnection()
    {
        auto *c = new HttpConn(this);
        c->onFailed = [this] {
            reportError(m_name + QStringLiteral(": connection lost"));
            restart();
        };
        return c;
    }
    // Stops and starts again, later: it may be called from inside a socket's signal, where aborting
    // that socket is not safe.
    void restart()
    {
        if (m_restarting) {
            return;
        }
        m_restarting = true;
        QTimer::singleShot(0, this, [this] {
            stop();
            progress();
            QTimer::singleShot(100, this, [this] {
                m_restarting = false;
                start();
            });
        });
    }
    const QString &name() const
    {
        return m_name;
    }

protected:
    QString m_name;
    qint64 m_stallMs;
    qint64 m_lastProgress = 0;
    bool m_restarting = false;
};

bool expectStatus(Worker *w, const Response &r, int status, QByteArrayView what)
{
    if (r.status == status) {
        return true;
    }
    reportError(QStringLiteral("%1: %2 answered %3: %4")
                    .arg(w->name(), QString::fromUtf8(what))
                    .arg(r.status)
                    .arg(QString::fromUtf8(r.body.left(120)).trimmed()));
    w->restart();
    return false;
}

// One producer, one consumer on a queue channel: every number arrives once, in order. The paced kind
// sends up to 1 KiB; the slow kind sends 256 KiB unpaced to a consumer that reads 32 KiB/s.
class QueuePair final : public Worker
{
public:
    enum class Kind
    {
        Paced,
        Slow,
    };

    QueuePair(const QString &name, const QByteArray &channel, Kind kind, qint64 *counter)
        : Worker(name, kind == Kind::Slow ? 120'000 : 60'000)
        , m_path("/public/queue/" + channel)
        , m_kind(kind)
        , m_counter(counter)
        , m_seq(name)
        , m_producer(newConnection())
        , m_consumer(newConnection())
    {
        if (kind == Kind::Slow) {
            m_consumer->setSlow(32 * 1024);
        }
        m_producer->onResponse = [this](const Response &r) {
            if (expectStatus(this, r, 200, "producer")) {
                produce();
            }
        };
        m_consumer->onResponse = [this](const Response &r) {
            if (!expectStatus(this, r, 200, "consumer")) {
                return;
            }
            const qint64 n = numberIn(r.body, "q");
            if (n < 0) {
                reportError(this->name() + QStringLiteral(": a message without a number"));
            } else {
                m_seq.seen(n);
                ++*m_counter;
                progress();
            }
            consume();
        };
    }
    void start() override
    {
        progress();
        consume();
        produce();
    }
    void stop() override
    {
        m_producer->abort();
        m_consumer->abort();
    }

private:
    void produce()
    {
        if (m_kind == Kind::Slow) {
            QByteArray body = "q:" + QByteArray::number(m_sent++) + ':';
            body += QByteArray(256 * 1024 - body.size(), 's');
            m_producer->send(request("POST", m_path, body));
            return;
        }
        s_pacer->acquire(1, m_producer, [this] {
            m_producer->send(request("POST", m_path, "q:" + QByteArray::number(m_sent++) + ':' + padding(1024)));
        });
    }
    void consume()
    {
        m_consumer->send(request("GET", m_path));
    }

    QByteArray m_path;
    Kind m_kind;
    qint64 *m_counter;
    Sequence m_seq;
    qint64 m_sent = 0;
    HttpConn *m_producer;
    HttpConn *m_consumer;
};

// A subscriber of the pubsub channel: SSE or long-poll with since=<last id>; slow ones read 20 KiB/s.
class Subscriber final : public Worker
{
public:
    Subscriber(const QByteArray &path, bool sse, bool slow, int k)
        : Worker(QStringLiteral("%1 %2subscriber %3")
                     .arg(sse ? QStringLiteral("SSE") : QStringLiteral("long-poll"),
                          slow ? QStringLiteral("slow ") : QString())
                     .arg(k),
                 slow ? 600'000 : 60'000)
        , m_path(path)
        , m_sse(sse)
        , m_slow(slow)
        , m_seq(name())
    {
        m_conn = newConn();
    }
    void start() override
    {
        progress();
        subscribe();
    }
    void stop() override
    {
        m_conn->abort();
    }
    qint64 next() const
    {
        return m_seq.next();
    }
    bool isSlow() const
    {
        return m_slow;
    }

private:
    HttpConn *newConn()
    {
        auto *c = new HttpConn(this);
        if (m_slow) {
            c->setSlow(20 * 1024);
        }
        if (m_sse) {
            c->onBody = [this](QByteArrayView data) { onSse(data); };
        }
        c->onResponse = [this](const Response &r) { onResponse(r); };
        c->onFailed = [this] {
            if (m_slow) {
                ++s_stats.slowReconnects;
            } else {
                reportError(name() + QStringLiteral(": connection lost"));
            }
            QTimer::singleShot(100, this, [this] { subscribe(); });
        };
        return c;
    }
    void subscribe()
    {
        if (m_sse) {
            const QByteArray resume = m_lastId.isEmpty() ? QByteArray() : "Last-Event-ID: " + m_lastId + "\r\n";
            m_sseBuf.clear();
            m_conn->send(request("GET", m_path + "?stream=sse", {}, resume));
        } else {
            m_conn->send(request("GET", m_path + "?since=" + m_lastId));
        }
    }
    void onResponse(const Response &r)
    {
        if (m_sse) {
            // The stream ended (the server closes a slow one); resume.
            if (m_slow) {
                ++s_stats.slowReconnects;
            } else {
                reportError(name() + QStringLiteral(": stream ended with %1").arg(r.status));
            }
            subscribe();
            return;
        }
        if (!expectStatus(this, r, 200, "long poll")) {
            return;
        }
        message(r.header("Patch-Id"), r.body);
        subscribe();
    }
    void onSse(QByteArrayView data)
    {
        m_sseBuf += data;
        qsizetype end;
        while ((end = m_sseBuf.indexOf("\n\n")) >= 0) {
            const QByteArray event = m_sseBuf.first(end);
            m_sseBuf.remove(0, end + 2);
            QByteArray id;
            QByteArray body;
            for (const QByteArray &line : event.split('\n')) {
                if (line.startsWith("id: ")) {
                    id = line.sliced(4);
                } else if (line.startsWith("data: ")) {
                    body = line.sliced(6);
                }
            }
            if (!id.isEmpty()) {
                message(id, body);
            }
        }
    }
    void message(const QByteArray &id, QByteArrayView body)
    {
        const qint64 n = numberIn(body, "ps");
        if (n < 0) {
            reportError(name() + QStringLiteral(": a message without a number"));
            return;
        }
        // A slow SSE subscriber is cut off and resumes from the buffer; what the buffer no longer
        // holds is skipped by design (Patch-Gap / event: gap), so only its order is checked.
        m_seq.seen(n, !m_slow);
        m_lastId = id;
        ++s_stats.pubsubDeliveries;
        progress();
    }

    QByteArray m_path;
    bool m_sse;
    bool m_slow;
    Sequence m_seq;
    HttpConn *m_conn;
    QByteArray m_lastId;
    QByteArray m_sseBuf;
};

// The publisher: paced, and never more than 50 messages ahead of the slowest fast subscriber, so that
// the replay buffer (100 messages) always holds what a subscriber has yet to get.
class Publisher final : public Worker
{
public:
    Publisher(const QByteArray &path, std::vector<Subscriber *> subscribers)
        : Worker(QStringLiteral("publisher"))
        , m_path(path)
        , m_subscribers(std::move(subscribers))
        , m_conn(newConnection())
    {
        m_conn->onResponse = [this](const Response &r) {
            if (expectStatus(this, r, 200, "publish")) {
                progress();
                publish();
            }
        };
        m_wait.setInterval(20);
        m_wait.setSingleShot(true);
        QObject::connect(&m_wait, &QTimer::timeout, this, [this] { publish(); });
    }
    void start() override
    {
        progress();
        publish();
    }
    void stop() override
    {
        m_conn->abort();
        m_wait.stop();
    }

private:
    void publish()
    {
        for (const Subscriber *s : m_subscribers) {
            if (!s->isSlow() && s->next() >= 0 && s->next() < m_sent - 50) {
                m_wait.start();
                return;
            }
        }
        s_pacer->acquire(1, m_conn, [this] {
            m_conn->send(request("POST", m_path, "ps:" + QByteArray::number(m_sent++) + ':' + padding(1024)));
        });
    }

    QByteArray m_path;
    std::vector<Subscriber *> m_subscribers;
    HttpConn *m_conn;
    QTimer m_wait;
    qint64 m_sent = 0;
};

// A responder (GET res/<id>, then reply by Patch-Request-Id) and a requester that checks each reply.
class RequestPair final : public Worker
{
public:
    explicit RequestPair(int k)
        : Worker(QStringLiteral("request/response %1").arg(k))
        , m_id("soak-r" + QByteArray::number(k))
        , m_responder(newConnection())
        , m_requester(newConnection())
    {
        m_responder->onResponse = [this](const Response &r) {
            if (m_replying) {
                m_replying = false;
                if (expectStatus(this, r, 200, "reply")) {
                    respond();
                }
                return;
            }
            if (!expectStatus(this, r, 200, "responder")) {
                return;
            }
            const qint64 n = numberIn(r.body, "r");
            m_replying = true;
            m_responder->send(request("POST",
                                      "/public/res/" + m_id + "?reply=" + r.header("Patch-Request-Id"),
                                      "reply:" + QByteArray::number(n)));
        };
        m_requester->onResponse = [this](const Response &r) {
            if (!expectStatus(this, r, 200, "requester")) {
                return;
            }
            if (r.body != "reply:" + QByteArray::number(m_sent - 1)) {
                reportError(name() + QStringLiteral(": a reply to another request"));
            }
            ++s_stats.requests;
            progress();
            requestNext();
        };
    }
    void start() override
    {
        progress();
        m_replying = false;
        respond();
        requestNext();
    }
    void stop() override
    {
        m_responder->abort();
        m_requester->abort();
    }

private:
    void respond()
    {
        m_responder->send(request("GET", "/public/res/" + m_id));
    }
    void requestNext()
    {
        s_pacer->acquire(1, m_requester, [this] {
            m_requester->send(request("POST",
                                      "/public/req/" + m_id + "/item/" + QByteArray::number(m_sent),
                                      "r:" + QByteArray::number(m_sent) + ':' + padding(512)));
            ++m_sent;
        });
    }

    QByteArray m_id;
    HttpConn *m_responder;
    HttpConn *m_requester;
    bool m_replying = false;
    qint64 m_sent = 0;
};

// A tunnel to the echo server: sends numbered bytes (masked frames), checks the echo, closes and
// reopens every 4 MiB.
class Tunnel final : public Worker
{
public:
    Tunnel(int k, quint16 echoPort)
        : Worker(QStringLiteral("tunnel %1").arg(k))
        , m_echoPort(echoPort)
    {
    }
    void start() override
    {
        progress();
        m_socket = new QTcpSocket(this);
        m_codec = std::make_unique<WebSocketCodec>(WebSocketCodec::Role::Client);
        m_open = false;
        m_head.clear();
        m_expected.clear();
        m_sessionBytes = 0;
        m_sending = false;
        m_closing = false;
        ++m_session;
        QObject::connect(m_socket, &QTcpSocket::readyRead, this, [this] { onReadyRead(); });
        QObject::connect(m_socket, &QTcpSocket::disconnected, this, [this] {
            if (!m_closing) {
                reportError(name() + QStringLiteral(": the relay closed the tunnel"));
            }
            restart();
        });
        m_socket->connectToHost(QHostAddress::LocalHost, s_port);
        m_socket->write(upgradeRequest(m_echoPort));
    }
    void stop() override
    {
        if (m_socket) {
            m_socket->disconnect(this);
            m_socket->abort();
            m_socket->deleteLater();
            m_socket = nullptr;
        }
    }
    static QByteArray upgradeRequest(quint16 port)
    {
        return "GET /huproxy/soak/127.0.0.1/" + QByteArray::number(port)
               + " HTTP/1.1\r\nHost: soak\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                 "Authorization: Bearer soak-token\r\n\r\n";
    }

private:
    void onReadyRead()
    {
        QByteArray data = m_socket->readAll();
        if (!m_open) {
            m_head += data;
            const qsizetype end = m_head.indexOf("\r\n\r\n");
            if (end < 0) {
                return;
            }
            if (!m_head.startsWith("HTTP/1.1 101")) {
                reportError(name() + QStringLiteral(": upgrade refused: ") + QString::fromUtf8(m_head.first(end)));
                restart();
                return;
            }
            data = m_head.sliced(end + 4);
            m_open = true;
            ++s_stats.tunnelsOpened;
            sendMore();
        }
        qsizetype at = 0;
        while (m_socket) {
            const WebSocketCodec::Event e = m_codec->decode(data.data() + at, data.size() - at);
            at += e.consumed;
            using Kind = WebSocketCodec::Event::Kind;
            if (e.kind == Kind::NeedMore) {
                break;
            }
            if (e.kind == Kind::Data) {
                if (!m_expected.startsWith(e.payload)) {
                    reportError(name() + QStringLiteral(": the echo differs from what was sent"));
                    restart();
                    return;
                }
                m_expected.remove(0, e.payload.size());
                s_stats.tunnelBytes += e.payload.size();
                progress();
            } else if (e.kind == Kind::Ping) {
                m_socket->write(WebSocketCodec::frame(WebSocketCodec::OpCode::Pong, e.payload, mask()));
            } else if (e.kind == Kind::Close || e.kind == Kind::Error) {
                if (!m_closing) {
                    reportError(name() + QStringLiteral(": closed by the relay (%1)").arg(e.closeCode));
                }
                m_closing = true; // the TCP close that follows is no error
                restart();
                return;
            }
        }
        if (m_socket && m_expected.size() < 32 * 1024) {
            sendMore();
        }
    }
    void sendMore()
    {
        if (m_sending || m_closing) {
            return;
        }
        if (m_sessionBytes >= 4 * 1024 * 1024) {
            if (m_expected.isEmpty()) {
                m_closing = true;
                m_socket->write(WebSocketCodec::frame(WebSocketCodec::OpCode::Close,
                                                      WebSocketCodec::closePayload(WebSocketCodec::CloseNormal, "done"),
                                                      mask()));
                QTimer::singleShot(2000, this, [this, session = m_session] {
                    if (session == m_session && m_closing) {
                        restart(); // the relay did not answer the close: start over anyway
                    }
                });
            }
            return;
        }
        // 8 KiB per paced operation.
        m_sending = true;
        s_pacer->acquire(1, this, [this, session = m_session] {
            if (session != m_session) {
                return; // a pacer slot of a session that ended
            }
            m_sending = false;
            if (!m_socket || !m_open) {
                return;
            }
            QByteArray chunk(int(1 + s_random.bounded(8 * 1024)), Qt::Uninitialized);
            for (char &c : chunk) {
                c = char(m_counter++ * 31);
            }
            m_expected += chunk;
            m_sessionBytes += chunk.size();
            m_socket->write(WebSocketCodec::frame(WebSocketCodec::OpCode::Binary, chunk, mask()));
            if (m_expected.size() < 32 * 1024) {
                sendMore();
            }
        });
    }
    static WebSocketCodec::MaskKey mask()
    {
        const quint32 v = s_random.generate();
        return {char(v), char(v >> 8), char(v >> 16), char(v >> 24)};
    }

    quint16 m_echoPort;
    QTcpSocket *m_socket = nullptr;
    std::unique_ptr<WebSocketCodec> m_codec;
    QByteArray m_head;
    QByteArray m_expected;
    qint64 m_sessionBytes = 0;
    quint64 m_counter = 0;
    bool m_open = false;
    bool m_sending = false;
    bool m_closing = false;
    int m_session = 0;
};

// A producer of 4 MiB messages whose first consumer (with a small receive buffer) leaves after 64 KiB
// of the body: the message goes back to the queue and must reach the next consumer whole, in order,
// never twice. (When the kernel had already taken the whole message for the consumer that left, the
// server counts it delivered, by PROTOCOL; the next consumer then gets the next one.)
class BigTransfer final : public Worker
{
public:
    BigTransfer()
        : Worker(QStringLiteral("vanishing consumer"), 120'000)
        , m_producer(newConnection())
        , m_consumer(newConnection())
        , m_seq(name())
    {
        m_producer->onResponse = [this](const Response &r) {
            if (expectStatus(this, r, 200, "big producer")) {
                ++s_stats.bigTransfers;
                progress();
                cycle();
            }
        };
        m_consumer->onResponse = [this](const Response &r) {
            if (!expectStatus(this, r, 200, "big consumer")) {
                return;
            }
            if (r.body.size() != BIG) {
                reportError(name() + QStringLiteral(": a message of %1 bytes").arg(r.body.size()));
            }
            const qint64 n = numberIn(r.body, "big");
            if (m_seq.next() >= 0 && n > m_seq.next()) {
                s_stats.bigTakenByVanished += n - m_seq.next();
            }
            m_seq.seen(n, false);
        };
    }
    void start() override
    {
        progress();
        cycle();
    }
    void stop() override
    {
        m_producer->abort();
        m_consumer->abort();
        delete m_vanisher;
    }

private:
    static constexpr qsizetype BIG = 4 * 1024 * 1024;

    void cycle()
    {
        s_pacer->acquire(20, this, [this] {
            // The consumer that will vanish waits first; it leaves after 64 KiB of the body.
            delete m_vanisher;
            m_vanisher = new QTcpSocket(this);
            m_vanisher->setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 4096);
            m_vanisher->setReadBufferSize(4096);
            QObject::connect(m_vanisher, &QTcpSocket::readyRead, this, [this] {
                m_got += m_vanisher->readAll().size();
                if (m_got > 64 * 1024) {
                    // Leave, but not from inside the socket's own signal.
                    m_vanisher->disconnect(this);
                    QTimer::singleShot(0, this, [this] {
                        delete m_vanisher;
                        ++s_stats.vanished;
                        m_consumer->send(request("GET", "/public/queue/soak-big"));
                    });
                }
            });
            m_got = 0;
            m_vanisher->connectToHost(QHostAddress::LocalHost, s_port);
            m_vanisher->write(request("GET", "/public/queue/soak-big"));
            QTimer::singleShot(50, this, [this] {
                QByteArray body = "big:" + QByteArray::number(m_sent++) + ':';
                body += QByteArray(BIG - body.size(), 'b');
                m_producer->send(request("POST", "/public/queue/soak-big", body));
            });
        });
    }

    HttpConn *m_producer;
    HttpConn *m_consumer;
    QPointer<QTcpSocket> m_vanisher;
    qint64 m_got = 0;
    qint64 m_sent = 0;
    Sequence m_seq;
};

// Every 100 ms a client that leaves: in the middle of an upload, while waiting as a consumer or a
// requester, with a stream open, or with a tunnel open.
class Vanishing final : public Worker
{
public:
    explicit Vanishing(quint16 echoPort)
        : Worker(QStringLiteral("vanishing clients"))
        , m_echoPort(echoPort)
    {
        m_timer.setInterval(100);
        QObject::connect(&m_timer, &QTimer::timeout, this, [this] { vanish(); });
    }
    void start() override
    {
        m_timer.start();
    }
    void stop() override
    {
        m_timer.stop();
    }

private:
    void vanish()
    {
        progress();
        auto *socket = new QTcpSocket(this);
        socket->connectToHost(QHostAddress::LocalHost, s_port);
        switch (s_random.bounded(5)) {
        case 0: // half an upload
            socket->write("POST /public/queue/soak-vanish HTTP/1.1\r\nHost: soak\r\nContent-Length: 100000\r\n\r\n"
                          + QByteArray(30'000, 'v'));
            break;
        case 1:
            socket->write(request("GET", "/public/queue/soak-vanish-" + QByteArray::number(s_random.bounded(100))));
            break;
        case 2:
            socket->write(request("POST", "/public/req/soak-nobody", "?"));
            break;
        case 3:
            socket->write(request("GET", "/public/pubsub/soak-ps?stream=sse&since=all"));
            break;
        default:
            socket->write(Tunnel::upgradeRequest(m_echoPort));
            break;
        }
        QTimer::singleShot(int(10 + s_random.bounded(200)), socket, [socket] {
            socket->abort();
            socket->deleteLater();
            ++s_stats.vanished;
        });
    }

    quint16 m_echoPort;
    QTimer m_timer;
};

// ---------------------------------------------------------------------------------------------
// The daemon and its samples

struct Sample
{
    double seconds = 0;
    qint64 rssKiB = -1;
    qint64 fds = -1;
};

// Least-squares slope of RSS over the second half of the samples, in KiB per hour.
double rssSlopePerHour(const std::vector<Sample> &samples)
{
    if (samples.size() < 4) {
        return 0;
    }
    const double half = samples.back().seconds / 2;
    double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const Sample &s : samples) {
        if (s.seconds < half || s.rssKiB < 0) {
            continue;
        }
        const double x = s.seconds / 3600;
        const double y = double(s.rssKiB);
        n += 1;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    const double d = n * sxx - sx * sx;
    return n >= 2 && d != 0 ? (n * sxy - sx * sy) / d : 0;
}

QProcess *s_daemon = nullptr;

[[noreturn]] void die(const QString &message)
{
    std::fprintf(stderr, "soak: %s\n", qPrintable(message));
    if (s_daemon && s_daemon->state() != QProcess::NotRunning) {
        s_daemon->kill();
        s_daemon->waitForFinished(5000);
    }
    std::exit(2);
}

void writeFile(const QString &path, const QByteArray &content)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(content) != content.size()) {
        die(QStringLiteral("cannot write %1").arg(path));
    }
}

quint16 startDaemon(QProcess &process, const QString &program, const QString &out, const QStringList &extra)
{
    const QString users = out + QStringLiteral("/users");
    QDir().mkpath(users + QStringLiteral("/soak"));
    writeFile(users + QStringLiteral("/soak/config.yaml"), "tokens:\n  soak-token:\n    huproxy: [\"127.0.0.1:*\"]\n");
    process.setProgram(program);
    process.setArguments(QStringList{QStringLiteral("start"),
                                     QStringLiteral("--host"),
                                     QStringLiteral("127.0.0.1"),
                                     QStringLiteral("--port"),
                                     QStringLiteral("0"),
                                     QStringLiteral("--users-dir"),
                                     users,
                                     // One client makes all the load: no per-client limits.
                                     QStringLiteral("--rate-limit"),
                                     QStringLiteral("0"),
                                     QStringLiteral("--max-waiting-per-ip"),
                                     QStringLiteral("0")}
                         + extra);
    const QString log = out + QStringLiteral("/daemon.log");
    process.setStandardErrorFile(log);
    process.setStandardOutputFile(QProcess::nullDevice());
    process.start();
    if (!process.waitForStarted(5000)) {
        die(QStringLiteral("cannot start %1").arg(program));
    }
    const QRegularExpression listening(QStringLiteral("listening on http://127\\.0\\.0\\.1:(\\d+)"));
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 10'000 && process.state() == QProcess::Running) {
        QFile f(log);
        if (f.open(QIODevice::ReadOnly)) {
            const QRegularExpressionMatch m = listening.match(QString::fromUtf8(f.readAll()));
            if (m.hasMatch()) {
                return quint16(m.captured(1).toUInt());
            }
        }
        process.waitForFinished(100);
    }
    die(QStringLiteral("the daemon did not start; see %1").arg(log));
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    std::signal(SIGPIPE, SIG_IGN);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Mixed load against patchworkd for a long time; samples "
                                                    "its memory and descriptors (see tests/bench/soak.cpp)."));
    parser.addHelpOption();
    parser.addOption({QStringLiteral("daemon"), QStringLiteral("patchworkd to start"), QStringLiteral("path")});
    parser.addOption({QStringLiteral("duration"),
                      QStringLiteral("how long (default 1h)"),
                      QStringLiteral("d"),
                      QStringLiteral("1h")});
    parser.addOption({QStringLiteral("calibrate"),
                      QStringLiteral("unthrottled start that measures the maximum (default 20s)"),
                      QStringLiteral("d"),
                      QStringLiteral("20s")});
    parser.addOption({QStringLiteral("load"),
                      QStringLiteral("fraction of the maximum (default 0.5)"),
                      QStringLiteral("f"),
                      QStringLiteral("0.5")});
    parser.addOption({QStringLiteral("out"),
                      QStringLiteral("folder for samples.csv, summary.txt, daemon.log"),
                      QStringLiteral("dir")});
    parser.addPositionalArgument(QStringLiteral("daemon-options"),
                                 QStringLiteral("after --: passed to patchworkd start"));
    parser.process(app);
    const std::optional<qint64> durationMs = Patchwork::parseDurationMs(parser.value(QStringLiteral("duration")));
    const std::optional<qint64> calibrateMs = Patchwork::parseDurationMs(parser.value(QStringLiteral("calibrate")));
    const double load = parser.value(QStringLiteral("load")).toDouble();
    if (!parser.isSet(QStringLiteral("daemon")) || !durationMs || !calibrateMs || *durationMs <= *calibrateMs
        || load <= 0) {
        parser.showHelp(2);
    }
    const QString out = parser.isSet(QStringLiteral("out")) ? parser.value(QStringLiteral("out"))
                                                            : QDir::tempPath() + QStringLiteral("/patchwork-soak-")
                                                                  + QString::number(QDateTime::currentSecsSinceEpoch());
    if (!QDir().mkpath(out)) {
        die(QStringLiteral("cannot create %1").arg(out));
    }

    QTcpServer echo;
    if (!echo.listen(QHostAddress::LocalHost, 0)) {
        die(QStringLiteral("cannot listen"));
    }
    QObject::connect(&echo, &QTcpServer::newConnection, &echo, [&echo] {
        while (QTcpSocket *s = echo.nextPendingConnection()) {
            QObject::connect(s, &QTcpSocket::readyRead, s, [s] { s->write(s->readAll()); });
            QObject::connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
        }
    });

    QProcess daemon;
    s_daemon = &daemon;
    s_port = startDaemon(daemon, parser.value(QStringLiteral("daemon")), out, parser.positionalArguments());
    const qint64 pid = daemon.processId();
    s_clock.start();
    Pacer pacer;
    s_pacer = &pacer;

    std::vector<Worker *> workers;
    for (int k = 0; k < 8; ++k) {
        workers.push_back(new QueuePair(QStringLiteral("queue %1").arg(k),
                                        "soak-q" + QByteArray::number(k),
                                        QueuePair::Kind::Paced,
                                        &s_stats.queueMessages));
    }
    const QByteArray topic = "/public/pubsub/soak-ps";
    std::vector<Subscriber *> subscribers;
    for (int k = 0; k < 6; ++k) {
        subscribers.push_back(new Subscriber(topic, k % 2 == 0, k >= 4, k));
    }
    workers.insert(workers.end(), subscribers.begin(), subscribers.end());
    auto *publisher = new Publisher(topic, subscribers);
    for (int k = 0; k < 4; ++k) {
        workers.push_back(new RequestPair(k));
    }
    for (int k = 0; k < 2; ++k) {
        workers.push_back(new Tunnel(k, echo.serverPort()));
    }
    workers.push_back(new BigTransfer);
    workers.push_back(new QueuePair(
        QStringLiteral("slow queue consumer"), "soak-slow", QueuePair::Kind::Slow, &s_stats.slowMessages));
    workers.push_back(new Vanishing(echo.serverPort()));
    for (Worker *w : workers) {
        w->start();
    }
    QTimer::singleShot(500, publisher, [publisher] { publisher->start(); }); // after the subscribers
    workers.push_back(publisher);

    QFile csv(out + QStringLiteral("/samples.csv"));
    if (!csv.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        die(QStringLiteral("cannot write %1").arg(csv.fileName()));
    }
    csv.write("seconds,rss_kib,fds,paced_ops,queue_msgs,pubsub_deliveries,requests,tunnel_kib,tunnels_opened,"
              "vanished,big_transfers,slow_msgs,slow_reconnects,errors,lost\n");
    std::vector<Sample> samples;
    auto sample = [&] {
        Sample s{double(s_clock.elapsed()) / 1000.0,
                 Patchwork::Bench::vmRssKiB(pid),
                 Patchwork::Bench::openDescriptors(pid)};
        samples.push_back(s);
        const Stats &t = s_stats;
        csv.write(QStringLiteral("%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15\n")
                      .arg(qRound(s.seconds))
                      .arg(s.rssKiB)
                      .arg(s.fds)
                      .arg(t.paced)
                      .arg(t.queueMessages)
                      .arg(t.pubsubDeliveries)
                      .arg(t.requests)
                      .arg(t.tunnelBytes / 1024)
                      .arg(t.tunnelsOpened)
                      .arg(t.vanished)
                      .arg(t.bigTransfers)
                      .arg(t.slowMessages)
                      .arg(t.slowReconnects)
                      .arg(t.errors)
                      .arg(t.lost)
                      .toUtf8());
        csv.flush();
        std::fprintf(stderr,
                     "soak: %5.0f s  rss %6lld KiB  fds %4lld  paced %lld  errors %lld  lost %lld\n",
                     s.seconds,
                     s.rssKiB,
                     s.fds,
                     t.paced,
                     t.errors,
                     t.lost);
        if (daemon.state() != QProcess::Running) {
            reportError(QStringLiteral("the daemon exited"));
            QCoreApplication::exit(1);
        }
    };
    QTimer sampler;
    QObject::connect(&sampler, &QTimer::timeout, &app, sample);
    sampler.start(10'000);
    QTimer watchdog;
    QObject::connect(&watchdog, &QTimer::timeout, &app, [&] {
        for (Worker *w : workers) {
            w->watchdog();
        }
    });
    watchdog.start(5'000);
    sample();

    double maxRate = 0;
    QTimer::singleShot(*calibrateMs, &app, [&] {
        maxRate = double(s_stats.paced) / (double(s_clock.elapsed()) / 1000.0);
        pacer.setRate(maxRate * load);
        std::fprintf(stderr,
                     "soak: calibrated: %.0f paced operations/s unthrottled; running at %.0f/s\n",
                     maxRate,
                     maxRate * load);
    });
    QTimer::singleShot(*durationMs, &app, [] { QCoreApplication::quit(); });
    app.exec();

    sample();
    for (Worker *w : workers) {
        w->stop();
    }
    daemon.terminate();
    if (!daemon.waitForFinished(20'000) || daemon.exitStatus() != QProcess::NormalExit || daemon.exitCode() != 0) {
        reportError(QStringLiteral("the daemon did not stop cleanly on SIGTERM"));
        daemon.kill();
        daemon.waitForFinished(5000);
    }

    qint64 maxRss = 0, maxFds = 0;
    for (const Sample &s : samples) {
        maxRss = std::max(maxRss, s.rssKiB);
        maxFds = std::max(maxFds, s.fds);
    }
    const double seconds = samples.back().seconds;
    const Stats &t = s_stats;
    QString summary;
    summary += QStringLiteral("duration: %1 s, calibrated maximum %2 paced ops/s, run at %3/s (load %4)\n")
                   .arg(qRound(seconds))
                   .arg(qRound(maxRate))
                   .arg(qRound(maxRate * load))
                   .arg(load);
    summary += QStringLiteral("RSS: first %1 KiB, last %2 KiB, max %3 KiB; slope over the second half %4 KiB/hour\n")
                   .arg(samples.front().rssKiB)
                   .arg(samples.back().rssKiB)
                   .arg(maxRss)
                   .arg(rssSlopePerHour(samples), 0, 'f', 0);
    summary += QStringLiteral("descriptors: first %1, last %2, max %3\n")
                   .arg(samples.front().fds)
                   .arg(samples.back().fds)
                   .arg(maxFds);
    summary += QStringLiteral("done: %1 queue messages, %2 pubsub deliveries, %3 requests, %4 MiB through %5 tunnels, "
                              "%6 vanished clients, %7 big transfers (%8 taken whole by the consumer that left), "
                              "%9 slow messages (%10 slow reconnects)\n")
                   .arg(t.queueMessages)
                   .arg(t.pubsubDeliveries)
                   .arg(t.requests)
                   .arg(t.tunnelBytes / (1024 * 1024))
                   .arg(t.tunnelsOpened)
                   .arg(t.vanished)
                   .arg(t.bigTransfers)
                   .arg(t.bigTakenByVanished)
                   .arg(t.slowMessages)
                   .arg(t.slowReconnects);
    summary += QStringLiteral("errors: %1, lost messages: %2\n").arg(t.errors).arg(t.lost);
    for (const QString &e : t.firstErrors) {
        summary += QStringLiteral("  %1\n").arg(e);
    }
    summary += QStringLiteral("samples: %1/samples.csv, daemon log: %1/daemon.log\n").arg(out);
    writeFile(out + QStringLiteral("/summary.txt"), summary.toUtf8());
    std::fputs(qPrintable(summary), stdout);
    return t.errors == 0 && t.lost == 0 ? 0 : 1;
}
