// SPDX-License-Identifier: MIT
// 60 s of mixed load through HAProxy (installer/cluster/haproxy.cfg) on three patchworkd nodes (issue 15):
// queue channels with several producers and consumers, pubsub channels with long-pollers chaining since=
// and SSE subscribers, pubsub channels with plain long-pollers, prefix responders answering with ?reply=,
// and double clutches whose switch channel is on another node. One node is killed with SIGKILL after a
// third of the run and restarted after two thirds. Required: every queue message confirmed with 200
// received exactly once and none twice; no crossed reply and the longest prefix always winning; every
// lossless subscriber of a surviving node's channel sees every id once, in order; Patch-Subscribers
// equal to the receivers seen; no error at all on the other nodes' channels.
// PATCHWORK_CLUSTER_LOAD_SECONDS shortens the run (default 60).
#include <QElapsedTimer>
#include <QHash>
#include <QRandomGenerator>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <array>
#include <functional>
#include <memory>
#include <numeric>
#include <utility>

#include "client/subscription.h"
#include "haproxyprocess.h"
#include "nodeprocess.h"
#include "testhttpclient.h"
#include "testutil.h"
#include "util/clock.h"

using namespace Patchwork;
using namespace Patchwork::Test;

namespace
{

// What one subscriber of a pubsub channel saw.
struct Subscriber
{
    int channel = 0;
    QByteArray lastId; // since= of the next poll
    QList<QByteArray> ids;
    int gaps = 0;
    QSet<qsizetype> gapBefore; // positions in `ids` of the messages that came with a gap
    bool gapPending = false; // an SSE `event: gap` came; the next message gets it
};

} // namespace

class TestClusterLoad final : public QObject
{
    Q_OBJECT

private:
    using Done = std::function<void(const TestResponse &)>;

    // One request on its own connection through the proxy; `done` gets the response, or status 0 when the
    // connection ended without one.
    void request(QByteArrayView method,
                 const QByteArray &target,
                 const QByteArray &body,
                 const HeaderList &headers,
                 Done done)
    {
        auto *client = new TestHttpClient(m_proxyPort, this);
        m_clients.insert(client);
        auto finished = std::make_shared<bool>(false);
        const auto finish = [this, client, finished, done](const TestResponse &r) {
            if (*finished) {
                return;
            }
            *finished = true;
            m_clients.remove(client);
            client->deleteLater();
            done(r);
        };
        connect(
            client, &TestHttpClient::responseReceived, this, [client, finish]() { finish(client->takeResponse()); });
        connect(client->socket(), &QTcpSocket::disconnected, this, [client, finish]() {
            finish(client->hasResponse() ? client->takeResponse() : TestResponse());
        });
        client->send(TestHttpClient::request(method, target, body, headers));
    }
    void later(int ms, std::function<void()> f)
    {
        QTimer::singleShot(ms, this, std::move(f));
    }
    // An error on a channel tag; tolerated only on the killed node's channels.
    void error(const QByteArray &tag, const TestResponse &r)
    {
        ++m_errors[tag];
        if (!m_killedTags.contains(tag) && m_errorSamples.size() < 10) {
            m_errorSamples.append(tag + ": " + QByteArray::number(r.status) + ' ' + r.body.trimmed());
        }
    }
    QByteArray ownerOf(const QByteArray &target)
    {
        return fetch(m_proxyPort, "GET", target).header("Patch-Node");
    }
    // `count` channel names `<prefix><i>` (tried in order) spread over the nodes, as `target(name)` sees them.
    QList<QByteArray>
    spread(const QByteArray &prefix, int perNode, const std::function<QByteArray(const QByteArray &)> &target)
    {
        QHash<QByteArray, int> taken;
        QList<QByteArray> names;
        for (int i = 0; i < 500 && names.size() < perNode * 3; ++i) {
            const QByteArray name = prefix + QByteArray::number(i);
            const QByteArray owner = ownerOf(target(name) + "?timeout=0.01");
            if (!owner.isEmpty() && taken[owner] < perNode) {
                ++taken[owner];
                names.append(name);
                m_owner.insert(name, owner);
            }
        }
        return names;
    }
    void tag(const QByteArray &tagName, const QList<QByteArray> &nodes)
    {
        if (nodes.contains(m_victim)) {
            m_killedTags.insert(tagName);
        }
    }

    // --- queue ---------------------------------------------------------------------------------------
    void produce(int ch, int producer, int seq)
    {
        if (m_stopping) {
            --m_active;
            return;
        }
        const QByteArray body = m_queues[ch] + '|' + QByteArray::number(producer) + '|' + QByteArray::number(seq);
        m_sent.insert(body);
        request("POST", "/p/queue/" + m_queues[ch], body, {}, [this, ch, producer, seq, body](const TestResponse &r) {
            if (r.status == 200) {
                m_confirmed.insert(body);
            } else {
                error(m_queues[ch], r);
            }
            later(5 + int(m_random.bounded(20)), [this, ch, producer, seq]() { produce(ch, producer, seq + 1); });
        });
    }
    void consume(int ch)
    {
        if (m_finished) {
            return;
        }
        request("GET", "/p/queue/" + m_queues[ch], {}, {}, [this, ch](const TestResponse &r) {
            if (r.status == 200) {
                ++m_received[r.body];
                consume(ch);
            } else {
                if (!m_finished) {
                    error(m_queues[ch], r);
                }
                later(50, [this, ch]() { consume(ch); });
            }
        });
    }

    // --- pubsub --------------------------------------------------------------------------------------
    void publish(const QByteArray &channel, QHash<QByteArray, QList<QByteArray>> *published, int intervalMs, int seq)
    {
        if (m_stopping) {
            --m_active;
            return;
        }
        request("POST", "/p/pubsub/" + channel, QByteArray::number(seq), {}, [=, this](const TestResponse &r) {
            if (r.status == 200) {
                (*published)[channel].append(r.header("Patch-Id"));
                m_subscribers.insert(r.header("Patch-Id"), r.header("Patch-Subscribers").toInt());
            } else {
                error(channel, r);
            }
            later(intervalMs, [=, this]() { publish(channel, published, intervalMs, seq + 1); });
        });
    }
    // A long-poller chaining since= (`lossless`), or a plain one.
    void poll(Subscriber *s, const QByteArray &channel, bool lossless)
    {
        if (m_finished) {
            return;
        }
        const QByteArray target =
            "/p/pubsub/" + channel + (lossless && !s->lastId.isEmpty() ? "?since=" + s->lastId : QByteArray());
        request("GET", target, {}, {}, [=, this](const TestResponse &r) {
            if (r.status == 200) {
                s->lastId = r.header("Patch-Id");
                if (r.header("Patch-Gap") == "true") {
                    ++s->gaps;
                    s->gapBefore.insert(s->ids.size());
                }
                s->ids.append(s->lastId);
                if (!lossless) {
                    ++m_receivers[s->lastId];
                }
                poll(s, channel, lossless);
            } else {
                if (!m_finished) {
                    error(channel, r);
                }
                later(50, [=, this]() { poll(s, channel, lossless); });
            }
        });
    }

    // --- request/response ----------------------------------------------------------------------------
    void respond(const QByteArray &id, const QByteArray &name)
    {
        if (m_finished) {
            return;
        }
        request("GET", "/p/res/" + id, {}, {}, [=, this](const TestResponse &r) {
            if (r.status != 200) {
                if (!m_finished) {
                    error("rr", r);
                }
                later(50, [=, this]() { respond(id, name); });
                return;
            }
            request("POST",
                    "/p/res/" + id + "?reply=" + r.header("Patch-Request-Id"),
                    name + '|' + r.header("Patch-Uri"),
                    {},
                    [=, this](const TestResponse &reply) {
                        if (reply.status != 200) {
                            error("rr", reply);
                        }
                    });
            respond(id, name);
        });
    }
    void ask(int worker, int n)
    {
        if (m_stopping) {
            --m_active;
            return;
        }
        const bool users = n % 2 == 0;
        const QByteArray id = m_api + '/' + QByteArray(users ? "users/" : "other/") + QByteArray::number(worker) + '-'
                              + QByteArray::number(n);
        request("GET", "/p/req/" + id, {}, {}, [=, this](const TestResponse &r) {
            if (r.status == 200) {
                ++m_answered;
                if (!r.body.endsWith(QByteArray("|/" + id))) {
                    ++m_crossed;
                } else if (!r.body.startsWith(users ? "users|" : "api|")) {
                    ++m_wrongPrefix;
                }
            } else {
                error("rr", r);
            }
            ask(worker, n + 1);
        });
    }

    // --- double clutch -------------------------------------------------------------------------------
    void clutch(int k, int n)
    {
        if (m_stopping) {
            --m_active;
            return;
        }
        const QByteArray tagName = "c" + QByteArray::number(k);
        const QByteArray id = "ld-clutch" + QByteArray::number(k);
        const QByteArray reply = tagName + '|' + QByteArray::number(n);
        auto pending = std::make_shared<int>(2);
        const auto next = [=, this]() {
            if (--*pending == 0) {
                later(10, [=, this]() { clutch(k, n + 1); });
            }
        };
        request("GET", "/p/req/" + id + '/' + QByteArray::number(n), {}, {}, [=, this](const TestResponse &r) {
            if (r.status == 202 && r.body == reply) {
                ++m_clutched;
            } else if (r.status == 200 || r.status == 202) {
                ++m_crossed;
            } else {
                error(tagName, r);
            }
            next();
        });
        request("POST", "/p/res/" + id + "?switch=true", m_switches[k], {}, [=, this](const TestResponse &r) {
            if (r.status != 200) {
                error(tagName, r);
                next();
                return;
            }
            request("POST",
                    "/p/" + m_switches[k] + "?timeout=10",
                    reply,
                    {{"Patch-Status", "202"}},
                    [=, this](const TestResponse &produced) {
                        if (produced.status != 200) {
                            error(tagName, produced);
                        }
                        next();
                    });
        });
    }

    QTemporaryDir m_dir;
    std::array<std::unique_ptr<NodeProcess>, 3> m_nodes;
    HaproxyProcess m_proxy;
    quint16 m_proxyPort = 0;
    QByteArray m_victim;
    QRandomGenerator m_random{15};
    QSet<TestHttpClient *> m_clients; // with a request under way
    bool m_stopping = false; // no new messages, requests or clutches
    bool m_finished = false; // no new polls either
    int m_active = 0; // producers, publishers, requesters and clutch workers still running
    QHash<QByteArray, QByteArray> m_owner; // channel name -> node at the start
    QSet<QByteArray> m_killedTags; // tags that involve the killed node
    QHash<QByteArray, int> m_errors;
    QList<QByteArray> m_errorSamples;
    QList<QByteArray> m_queues;
    QSet<QByteArray> m_sent;
    QSet<QByteArray> m_confirmed;
    QHash<QByteArray, int> m_received;
    QHash<QByteArray, QList<QByteArray>> m_lossless; // channel -> ids published with 200, in order
    QHash<QByteArray, QList<QByteArray>> m_live;
    QHash<QByteArray, int> m_subscribers; // id -> Patch-Subscribers
    QHash<QByteArray, int> m_receivers; // id -> plain long-pollers that received it
    int m_answered = 0;
    int m_crossed = 0;
    int m_wrongPrefix = 0;
    int m_clutched = 0;
    QList<QByteArray> m_switches;
    QByteArray m_api; // the responders' shorter prefix

private Q_SLOTS:
    void mixedLoadWithKill()
    {
        const int seconds = qEnvironmentVariableIsSet("PATCHWORK_CLUSTER_LOAD_SECONDS")
                                ? qEnvironmentVariableIntValue("PATCHWORK_CLUSTER_LOAD_SECONDS")
                                : 60;
        const int runMs = seconds * 1000;
        QVERIFY(m_dir.isValid());
        m_proxyPort = HaproxyProcess::freePort();
        QList<quint16> ports;
        for (size_t i = 0; i < m_nodes.size(); ++i) {
            const QByteArray id = "n" + QByteArray::number(qsizetype(i + 1));
            ports.append(HaproxyProcess::freePort());
            m_nodes.at(i) =
                std::make_unique<NodeProcess>(id, ports.last(), m_dir.filePath(QString::fromLatin1(id)), m_proxyPort);
            QVERIFY2(m_nodes.at(i)->start(), id.constData());
        }
        QString proxyError;
        QVERIFY2(m_proxy.startCluster(m_proxyPort, ports, 1'000'000, &proxyError), qPrintable(proxyError));
        m_victim = m_nodes[2]->id();

        // Channels on every node.
        m_queues = spread("ld-q", 2, [](const QByteArray &n) { return "/p/queue/" + n; });
        const QList<QByteArray> lossless = spread("ld-s", 1, [](const QByteArray &n) { return "/p/pubsub/" + n; });
        const QList<QByteArray> live = spread("ld-l", 1, [](const QByteArray &n) { return "/p/pubsub/" + n; });
        QCOMPARE(m_queues.size(), 6);
        QCOMPARE(lossless.size(), 3);
        QCOMPARE(live.size(), 3);
        for (const QByteArray &name : m_queues + lossless + live) {
            tag(name, {m_owner.value(name)});
        }
        // The responders live on a node that stays up, so that the longest waiting prefix always wins.
        for (int i = 0; i < 100 && m_api.isEmpty(); ++i) {
            const QByteArray name = "ld-api" + QByteArray::number(i);
            const QByteArray node = ownerOf("/p/req/" + name + "?timeout=0.01");
            if (!node.isEmpty() && node != m_victim) {
                m_api = name;
            }
        }
        QVERIFY(!m_api.isEmpty());
        for (int k = 0; k < 2; ++k) {
            const QByteArray requesterNode = ownerOf("/p/req/ld-clutch" + QByteArray::number(k) + "?timeout=0.01");
            for (int i = 0; i < 100; ++i) {
                const QByteArray name = "ld-sw" + QByteArray::number(k) + '-' + QByteArray::number(i);
                const QByteArray node = ownerOf("/p/" + name + "?timeout=0.01");
                if (!node.isEmpty() && node != requesterNode) {
                    m_switches.append(name);
                    tag("c" + QByteArray::number(k), {requesterNode, node});
                    break;
                }
            }
        }
        QCOMPARE(m_switches.size(), 2);
        // A channel of the node to be killed that nobody else uses, to see who answers for it.
        QByteArray probe;
        for (int i = 0; i < 200 && probe.isEmpty(); ++i) {
            const QByteArray target = "/p/ld-probe" + QByteArray::number(i) + "?timeout=0.01";
            if (ownerOf(target) == m_victim) {
                probe = target;
            }
        }
        QVERIFY(!probe.isEmpty());

        // The load.
        for (int ch = 0; ch < m_queues.size(); ++ch) {
            for (int i = 0; i < 2; ++i) {
                consume(ch);
                ++m_active;
                produce(ch, i, 0);
            }
        }
        SystemClock clock;
        std::vector<std::unique_ptr<Subscriber>> subscribers;
        std::vector<std::unique_ptr<Client::Subscription>> streams;
        for (int ch = 0; ch < 3; ++ch) {
            ++m_active;
            publish(lossless[ch], &m_lossless, 50, 0);
            ++m_active;
            publish(live[ch], &m_live, 100, 0);
            for (int i = 0; i < 2; ++i) {
                subscribers.push_back(std::make_unique<Subscriber>());
                subscribers.back()->channel = ch;
                poll(subscribers.back().get(), lossless[ch], true);
                auto plain = std::make_unique<Subscriber>();
                poll(plain.get(), live[ch], false);
                subscribers.push_back(std::move(plain));
                subscribers.back()->channel = -1;
            }
            // A Server-Sent Events subscriber (the client library's, resuming with Last-Event-ID).
            auto stream = std::make_unique<Client::Subscription>(&clock);
            Client::Subscription::Settings settings;
            settings.initialBackoffMs = 100;
            settings.maxBackoffMs = 500;
            stream->setSettings(settings);
            stream->setUrl(QUrl(QStringLiteral("http://127.0.0.1:%1/p/pubsub/%2")
                                    .arg(m_proxyPort)
                                    .arg(QString::fromLatin1(lossless[ch]))));
            subscribers.push_back(std::make_unique<Subscriber>());
            Subscriber *seen = subscribers.back().get();
            seen->channel = ch;
            connect(stream.get(), &Client::Subscription::messageReceived, this, [seen](const Client::Event &e) {
                if (std::exchange(seen->gapPending, false)) {
                    seen->gapBefore.insert(seen->ids.size());
                }
                seen->ids.append(e.id);
            });
            connect(stream.get(), &Client::Subscription::gapDetected, this, [seen]() {
                ++seen->gaps;
                seen->gapPending = true;
            });
            stream->start();
            streams.push_back(std::move(stream));
        }
        // More responders for the longer prefix than requesters: one of them always waits.
        for (int i = 0; i < 2; ++i) {
            respond(m_api, "api");
        }
        for (int i = 0; i < 8; ++i) {
            respond(m_api + "/users", "users");
        }
        // The requesters start once every responder waits.
        QTRY_COMPARE_WITH_TIMEOUT(
            std::accumulate(m_nodes.cbegin(),
                            m_nodes.cend(),
                            0,
                            [](int n, const auto &node) { return n + node->waiting("responder"); }),
            10,
            timeoutMs(10000));
        for (int worker = 0; worker < 4; ++worker) {
            ++m_active;
            ask(worker, 0);
        }
        for (int k = 0; k < 2; ++k) {
            ++m_active;
            clutch(k, 0);
        }

        QElapsedTimer run;
        run.start();
        QTRY_VERIFY_WITH_TIMEOUT(run.elapsed() >= runMs / 3, runMs);
        m_nodes[2]->kill();
        // Its slots go to the backup (n1) within a second (plus the proxy's one retry of the connection
        // a request to the dead node made before it was marked down).
        QElapsedTimer failover;
        failover.start();
        while (ownerOf(probe) != m_nodes[0]->id() && failover.elapsed() < timeoutMs(10000)) {
            QTest::qWait(20);
        }
        const qint64 failoverMs = failover.elapsed();
        QVERIFY2(failoverMs < timeoutMs(2500), qPrintable(QString::number(failoverMs)));
        QTRY_VERIFY_WITH_TIMEOUT(run.elapsed() >= 2 * runMs / 3, runMs);
        QVERIFY(m_nodes[2]->start());
        QTRY_VERIFY_WITH_TIMEOUT(run.elapsed() >= runMs, runMs);
        m_stopping = true;
        QTRY_VERIFY_WITH_TIMEOUT(m_active == 0, timeoutMs(40000));
        // Let the subscribers catch up with the last messages (those of the killed node's channels too: its
        // journal brought its replay back), then end the polls.
        QTRY_VERIFY_WITH_TIMEOUT(
            std::all_of(subscribers.begin(),
                        subscribers.end(),
                        [this, &lossless](const std::unique_ptr<Subscriber> &s) {
                            return s->channel < 0
                                   || (!s->ids.isEmpty() && s->ids.last() == m_lossless[lossless[s->channel]].last());
                        }),
            timeoutMs(10000));
        m_finished = true;
        for (TestHttpClient *client : std::as_const(m_clients)) {
            client->abort();
        }
        for (auto &stream : streams) {
            stream->stop();
        }

        // Queue: every confirmed message exactly once, none twice, none invented.
        int lost = 0;
        for (const QByteArray &body : std::as_const(m_confirmed)) {
            lost += m_received.value(body) != 1;
        }
        int duplicated = 0;
        int invented = 0;
        for (auto it = m_received.cbegin(); it != m_received.cend(); ++it) {
            duplicated += it.value() > 1;
            invented += !m_sent.contains(it.key());
        }
        // Lossless subscribers of the surviving nodes: every id once, in order, from their first one.
        int subscriberMismatches = 0;
        int killedNodeUnaccounted = 0;
        for (const auto &s : subscribers) {
            if (s->channel < 0 || s->ids.isEmpty()) {
                subscriberMismatches += s->channel >= 0 && !m_killedTags.contains(lossless[s->channel]);
                continue;
            }
            const QList<QByteArray> &published = m_lossless[lossless[s->channel]];
            if (m_killedTags.contains(lossless[s->channel])) {
                // Across the kill, the failover and the failback: every id once, or a Patch-Gap. Each message
                // follows the one before it in publish order unless it came with a gap (then it may also be
                // one seen before: a node resumed from an id it cannot place replays from its oldest).
                // Messages whose publish was never confirmed (the node died before answering) may appear.
                qsizetype previous = -1;
                for (qsizetype i = 0; i < s->ids.size(); ++i) {
                    const qsizetype at = published.indexOf(s->ids[i]);
                    if (at < 0) {
                        continue;
                    }
                    if (previous >= 0 && at != previous + 1 && !s->gapBefore.contains(i)) {
                        ++killedNodeUnaccounted;
                        qInfo("a subscriber of the killed node's channel got %s after %s without a gap (%lld published "
                              "between)",
                              s->ids[i].constData(),
                              published[previous].constData(),
                              qlonglong(at - previous - 1));
                    }
                    previous = at;
                }
                if (previous != published.size() - 1) {
                    ++killedNodeUnaccounted;
                    qInfo(
                        "a subscriber of the killed node's channel ends at %lld of %lld published (%lld ids, %d gaps)",
                        qlonglong(previous),
                        qlonglong(published.size()),
                        qlonglong(s->ids.size()),
                        s->gaps);
                }
                continue;
            }
            const qsizetype first = published.indexOf(s->ids.first());
            subscriberMismatches += first < 0 || published.mid(first) != s->ids || s->gaps != 0;
        }
        // Plain long-pollers: Patch-Subscribers is how many received the message.
        int subscriberCounts = 0;
        for (const QByteArray &channel : live) {
            if (m_killedTags.contains(channel)) {
                continue;
            }
            for (const QByteArray &id : m_live[channel]) {
                subscriberCounts += m_subscribers.value(id) != m_receivers.value(id);
            }
        }
        int errorsElsewhere = 0;
        int errorsOnKilled = 0;
        for (auto it = m_errors.cbegin(); it != m_errors.cend(); ++it) {
            (m_killedTags.contains(it.key()) ? errorsOnKilled : errorsElsewhere) += it.value();
        }
        qInfo(
            "queue: %lld sent, %lld confirmed; pubsub: %lld + %lld published; %d replies, %d clutches; "
            "errors on the killed node's channels: %d; failover seen after %lld ms",
            qlonglong(m_sent.size()),
            qlonglong(m_confirmed.size()),
            qlonglong(std::accumulate(m_lossless.cbegin(),
                                      m_lossless.cend(),
                                      qsizetype(0),
                                      [](qsizetype n, const auto &l) { return n + l.size(); })),
            qlonglong(std::accumulate(
                m_live.cbegin(), m_live.cend(), qsizetype(0), [](qsizetype n, const auto &l) { return n + l.size(); })),
            m_answered,
            m_clutched,
            errorsOnKilled,
            qlonglong(failoverMs));
        QVERIFY2(errorsElsewhere == 0, m_errorSamples.join("; ").constData());
        QCOMPARE(lost, 0);
        QCOMPARE(duplicated, 0);
        QCOMPARE(invented, 0);
        QCOMPARE(m_crossed, 0);
        QCOMPARE(m_wrongPrefix, 0);
        QCOMPARE(subscriberMismatches, 0);
        QCOMPARE(killedNodeUnaccounted, 0);
        QCOMPARE(subscriberCounts, 0);
        QVERIFY(m_confirmed.size() > 20 * seconds);
        QVERIFY(m_answered > 5 * seconds);
        QVERIFY(m_clutched > seconds);
    }
};

QTEST_GUILESS_MAIN(TestClusterLoad)
#include "tst_clusterload.moc"
