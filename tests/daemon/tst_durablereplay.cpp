// SPDX-License-Identifier: MIT
// Durable replay (PROTOCOL §4.1) with the real patchworkd: a clean restart replays byte for byte; fifty
// SIGKILLs while publishing leave a sound file holding, per channel, a gap-free prefix of each run with
// everything acknowledged a second before the kill, and Patch-Gap for what may be lost; lowered limits,
// a damaged file, a full disk and disabled replay.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

#include <csignal>

#include "journal/replayjournal.h"
#include "testhttpclient.h"
#include "testutil.h"

using namespace Qt::StringLiterals;
using Patchwork::HeaderList;
using Patchwork::Test::fetch;
using Patchwork::Test::TestHttpClient;
using Patchwork::Test::TestResponse;
using Patchwork::Test::timeoutMs;

namespace
{

// One patchworkd process on 127.0.0.1 and a free port, its log kept.
class Daemon
{
public:
    ~Daemon()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished();
        }
    }

    // Starts `patchworkd start` with `args` (through `wrapper` when given: a program and its arguments
    // that end by exec'ing the rest) and waits until it listens.
    bool start(const QStringList &args, const QStringList &wrapper = {})
    {
        m_log.clear();
        m_port = 0;
        QStringList command = wrapper;
        command << QString::fromLocal8Bit(qgetenv("PATCHWORK_BIN_DIR")) + u"/patchworkd"_s << u"start"_s << u"--host"_s
                << u"127.0.0.1"_s << u"--port"_s << u"0"_s << u"--rate-limit"_s << u"0"_s << args;
        m_process.setProgram(command.takeFirst());
        m_process.setArguments(command);
        m_process.setProcessChannelMode(QProcess::ForwardedOutputChannel);
        m_process.start();
        if (!m_process.waitForStarted()) {
            return false;
        }
        static const QRegularExpression listening(u"listening on http://127\\.0\\.0\\.1:(\\d+)"_s);
        const bool up = QTest::qWaitFor(
            [&]() {
                m_log += m_process.readAllStandardError();
                const QRegularExpressionMatch m = listening.match(QString::fromUtf8(m_log));
                if (m.hasMatch()) {
                    m_port = quint16(m.captured(1).toUInt());
                }
                return m_port != 0 || m_process.state() == QProcess::NotRunning;
            },
            timeoutMs(10000));
        if (!up || m_port == 0) {
            qWarning().noquote() << "patchworkd did not start:" << m_log;
            return false;
        }
        return true;
    }

    // SIGTERM; true when it exits with 0.
    bool stop()
    {
        m_process.terminate();
        const bool done = m_process.waitForFinished(timeoutMs(15000));
        m_log += m_process.readAllStandardError();
        return done && m_process.exitStatus() == QProcess::NormalExit && m_process.exitCode() == 0;
    }

    void kill()
    {
        ::kill(pid_t(m_process.processId()), SIGKILL);
        m_process.waitForFinished(timeoutMs(10000));
    }

    QByteArray log()
    {
        m_log += m_process.readAllStandardError();
        return m_log;
    }

    quint16 port() const
    {
        return m_port;
    }

private:
    QProcess m_process;
    QByteArray m_log;
    quint16 m_port = 0;
};

TestResponse get(quint16 port, const QByteArray &target)
{
    return fetch(port, "GET", target, {}, {}, timeoutMs(10000));
}

TestResponse publish(quint16 port, const QByteArray &channel, const QByteArray &body, const HeaderList &headers = {})
{
    return fetch(port, "POST", QByteArray("/public/pubsub/" + channel), body, headers, timeoutMs(10000));
}

// The long-poll answers to `since=all`, then `since=<each id>`, until the channel has nothing newer.
QList<TestResponse> replayAll(quint16 port, const QByteArray &channel, int count)
{
    QList<TestResponse> out;
    QByteArray since = "all";
    for (int i = 0; i < count; ++i) {
        out.append(get(port, "/public/pubsub/" + channel + "?since=" + since));
        since = out.back().header("Patch-Id");
    }
    return out;
}

// The raw Server-Sent Events of `since=all` up to the `count`-th event.
QByteArray sseAll(quint16 port, const QByteArray &channel, int count)
{
    QTcpSocket socket;
    socket.connectToHost(u"127.0.0.1"_s, port);
    if (!socket.waitForConnected(timeoutMs(5000))) {
        return {};
    }
    socket.write("GET /public/pubsub/" + channel
                 + "?since=all HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
    QByteArray raw;
    static_cast<void>(QTest::qWaitFor( // on a timeout the comparison shows what came
        [&]() {
            raw += socket.readAll();
            const qsizetype head = raw.indexOf("\r\n\r\n");
            return head >= 0 && raw.mid(head).count("\n\n") >= count;
        },
        timeoutMs(5000)));
    return raw.mid(raw.indexOf("\r\n\r\n"));
}

// A message's id and body as the journal holds them, per channel in seq order.
struct Stored
{
    QByteArray id;
    QByteArray body;
};

// Opens the journal file (the daemon is not running) and checks it; the messages per channel.
QHash<QByteArray, QList<Stored>> readJournal(const QString &path, QByteArray *check)
{
    QHash<QByteArray, QList<Stored>> out;
    sqlite3 *db = nullptr;
    if (sqlite3_open_v2(QFile::encodeName(path).constData(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        *check = sqlite3_errmsg(db);
        sqlite3_close(db);
        return out;
    }
    sqlite3_stmt *s = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, nullptr);
    check->clear();
    while (sqlite3_step(s) == SQLITE_ROW) {
        *check += reinterpret_cast<const char *>(sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    // What a restart would restore, as the daemon reads it.
    Patchwork::ReplayJournal::Contents contents;
    const QString error = Patchwork::ReplayJournal::read(path, &contents);
    if (!error.isEmpty()) {
        *check += " cannot read: " + error.toUtf8();
    }
    for (const auto &r : std::as_const(contents.records)) {
        out[r.key].append({r.message.id, r.message.body});
    }
    return out;
}

QByteArray runOf(const QByteArray &id)
{
    return id.left(id.lastIndexOf('-') + 1);
}

// Waits (a long-poll resuming from `since`) while `then` publishes on the channel; the answer.
TestResponse resumeAcross(quint16 port, const QByteArray &channel, const QByteArray &since)
{
    TestHttpClient waiting(port);
    waiting.get(QByteArray("/public/pubsub/" + channel + "?since=" + since));
    // The consumer is waiting once /metrics counts it; nothing else waits on this relay.
    const bool waits = QTest::qWaitFor(
        [&]() { return get(port, "/metrics").body.contains("patchwork_waiting_requests{role=\"consumer\"} 1"); },
        timeoutMs(5000));
    publish(port, channel, "after " + since);
    if (!waits || !waiting.waitForResponse(timeoutMs(5000))) {
        return {};
    }
    return waiting.takeResponse();
}

} // namespace

class TestDurableReplay : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanRestartIsByteIdentical();
    void crashLoop();
    void loweredLimitsAtRestart();
    void damagedFileIsMovedAside();
    void fullDiskKeepsRelaying();
    void noFileWithoutReplay();

private:
    QTemporaryDir m_dir;
    QString m_data;
    QString m_store;
};

void TestDurableReplay::init()
{
    m_dir.remove();
    m_dir = QTemporaryDir();
    QVERIFY(m_dir.isValid());
    m_data = m_dir.filePath(u"data"_s);
    m_store = m_data + u"/replay.sqlite"_s;
}

void TestDurableReplay::cleanRestartIsByteIdentical()
{
    Daemon daemon;
    QVERIFY(daemon.start({u"--data-dir"_s, m_data}));
    QCOMPARE(publish(daemon.port(), "a", "first", {{"Content-Type"_ba, "text/plain"_ba}}).status, 200);
    QCOMPARE(publish(daemon.port(), "b", QByteArray("\0\x01\xfe binary\r\n", 12)).status, 200);
    QCOMPARE(publish(daemon.port(), "a", "second\nline", {{"Patch-H-Priority"_ba, "high"_ba}}).status, 200);
    QCOMPARE(publish(daemon.port(), "a", {}).status, 200);
    const QList<TestResponse> a = replayAll(daemon.port(), "a", 3);
    const QList<TestResponse> b = replayAll(daemon.port(), "b", 1);
    const QByteArray sse = sseAll(daemon.port(), "a", 3);
    QCOMPARE(sse.count("event: message"), 3);
    QVERIFY(daemon.stop());

    QVERIFY(daemon.start({u"--data-dir"_s, m_data}));
    QVERIFY(daemon.log().contains("restored 4 messages of 2 channels"));
    QVERIFY(!daemon.log().contains("did not stop cleanly"));
    for (const auto &[channel, before] : {std::pair{"a"_ba, a}, std::pair{"b"_ba, b}}) {
        const QList<TestResponse> after = replayAll(daemon.port(), channel, int(before.size()));
        for (qsizetype i = 0; i < before.size(); ++i) {
            QCOMPARE(after[i].status, 200);
            QCOMPARE(after[i].headers, before[i].headers); // Patch-Id, Patch-Time and the message's own
            QCOMPARE(after[i].body, before[i].body);
            QVERIFY(after[i].header("Patch-Gap").isEmpty());
        }
    }
    QCOMPARE(sseAll(daemon.port(), "a", 3), sse);
    // An id of the earlier (clean) run on a channel with nothing buffered: nothing was missed.
    const TestResponse across = resumeAcross(daemon.port(), "fresh", a[0].header("Patch-Id") + "zz");
    QCOMPARE(across.status, 200);
    QVERIFY(across.header("Patch-Gap").isEmpty());
    QVERIFY(daemon.stop());
}

void TestDurableReplay::crashLoop()
{
    const QStringList args{u"--data-dir"_s,
                           m_data,
                           u"--replay-count"_s,
                           u"20000"_s,
                           u"--replay-channel-bytes"_s,
                           u"64MiB"_s,
                           u"--replay-total-bytes"_s,
                           u"256MiB"_s};
    const QByteArrayList channels{"c1", "c2", "c3"};
    QRandomGenerator random(20261203);
    Daemon daemon;
    int kills = 0;
    qint64 acknowledged = 0;
    for (int round = 0; round < 50; ++round) {
        QVERIFY2(daemon.start(args), qPrintable(u"round %1"_s.arg(round)));
        if (round > 0) {
            QVERIFY(daemon.log().contains("did not stop cleanly"));
        }
        // Publishes on every channel, one request at a time each, until the kill.
        struct Acked
        {
            QByteArray id;
            QByteArray body;
            qint64 atMs;
        };
        QHash<QByteArray, QList<Acked>> acked;
        std::vector<std::unique_ptr<TestHttpClient>> publishers;
        for (qsizetype i = 0; i < channels.size(); ++i) {
            publishers.push_back(std::make_unique<TestHttpClient>(daemon.port()));
        }
        const qint64 killAtMs = 100 + random.bounded(1900);
        QElapsedTimer clock;
        clock.start();
        int n = 0;
        while (clock.elapsed() < killAtMs) {
            ++n;
            for (qsizetype i = 0; i < channels.size(); ++i) {
                publishers[i]->post(QByteArray("/public/pubsub/" + channels[i]),
                                    "r" + QByteArray::number(round) + "-" + QByteArray::number(n));
            }
            for (qsizetype i = 0; i < channels.size(); ++i) {
                QVERIFY(publishers[i]->waitForResponse(timeoutMs(5000)));
                const TestResponse r = publishers[i]->takeResponse();
                QCOMPARE(r.status, 200);
                acked[channels[i]].append({r.header("Patch-Id"),
                                           "r" + QByteArray::number(round) + "-" + QByteArray::number(n),
                                           clock.elapsed()});
            }
        }
        // The kill lands while requests are in flight.
        for (qsizetype i = 0; i < channels.size(); ++i) {
            publishers[i]->post(QByteArray("/public/pubsub/" + channels[i]), "in flight");
        }
        daemon.kill();
        const qint64 killedAtMs = clock.elapsed();
        ++kills;

        QByteArray check;
        const QHash<QByteArray, QList<Stored>> stored = readJournal(m_store, &check);
        QCOMPARE(check, "ok"_ba);
        const QByteArray run = runOf(acked[channels[0]].constFirst().id);
        for (const QByteArray &channel : channels) {
            const QList<Acked> &sent = acked[channel];
            acknowledged += sent.size();
            QList<Stored> restored;
            for (const Stored &s : stored.value("public/pubsub/" + channel)) {
                if (runOf(s.id) == run) {
                    restored.append(s);
                }
            }
            // A gap-free prefix of what this run published (at most the one in flight beyond what was acked).
            QVERIFY2(restored.size() <= sent.size() + 1, channel.constData());
            for (qsizetype i = 0; i < restored.size() && i < sent.size(); ++i) {
                QCOMPARE(restored[i].id, sent[i].id);
                QCOMPARE(restored[i].body, sent[i].body);
            }
            qsizetype durable = 0;
            while (durable < sent.size() && sent[durable].atMs <= killedAtMs - 1000) {
                ++durable;
            }
            QVERIFY2(
                restored.size() >= durable,
                qPrintable(u"round %1, %2: %3 restored, %4 acknowledged 1 s before the kill; its log:\n%5"_s.arg(round)
                               .arg(QString::fromUtf8(channel))
                               .arg(restored.size())
                               .arg(durable)
                               .arg(QString::fromUtf8(daemon.log()))));
        }
        // After the restart: an id of the killed run that is not in the file, on a channel with nothing,
        // and the newest one of a channel, both get Patch-Gap with the next message.
        QVERIFY(daemon.start(args));
        const TestResponse lost = resumeAcross(daemon.port(), "empty" + QByteArray::number(round), run + "zzzzzz");
        QCOMPARE(lost.status, 200);
        QCOMPARE(lost.header("Patch-Gap"), "true"_ba);
        const QList<Stored> c1 = stored.value("public/pubsub/c1");
        if (!c1.isEmpty() && runOf(c1.constLast().id) == run) {
            const TestResponse newest = resumeAcross(daemon.port(), "c1", c1.constLast().id);
            QCOMPARE(newest.status, 200);
            QCOMPARE(newest.header("Patch-Gap"), "true"_ba);
        }
        daemon.kill(); // before anything else is published: the next round starts from an unclean stop too
    }
    QCOMPARE(kills, 50);
    qInfo("%lld messages acknowledged in 50 runs", acknowledged);
    QVERIFY(daemon.start(args));
    QVERIFY(daemon.stop());
}

void TestDurableReplay::loweredLimitsAtRestart()
{
    Daemon daemon;
    QVERIFY(daemon.start({u"--data-dir"_s, m_data}));
    for (int i = 1; i <= 5; ++i) {
        QCOMPARE(publish(daemon.port(), "a", "m" + QByteArray::number(i)).status, 200);
    }
    QVERIFY(daemon.stop());
    QVERIFY(daemon.start({u"--data-dir"_s, m_data, u"--replay-count"_s, u"2"_s}));
    QVERIFY(daemon.log().contains("restored 2 messages of 1 channels"));
    const QList<TestResponse> kept = replayAll(daemon.port(), "a", 2);
    QCOMPARE(kept[0].body, "m4"_ba);
    QCOMPARE(kept[1].body, "m5"_ba);
    QVERIFY(daemon.stop());
    QByteArray check;
    const QHash<QByteArray, QList<Stored>> stored = readJournal(m_store, &check);
    QCOMPARE(check, "ok"_ba);
    QCOMPARE(stored.value("public/pubsub/a").size(), 2); // what the lower limit let go is gone from the file
}

void TestDurableReplay::damagedFileIsMovedAside()
{
    QVERIFY(QDir().mkpath(m_data));
    QFile file(m_store);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QByteArray(8192, '\x5a'));
    file.close();
    Daemon daemon;
    QVERIFY(daemon.start({u"--data-dir"_s, m_data}));
    QVERIFY(daemon.log().contains("is damaged"));
    QCOMPARE(QDir(m_data).entryList({u"replay.sqlite.corrupt-*"_s}).size(), 1);
    QCOMPARE(publish(daemon.port(), "a", "fresh").status, 200);
    QVERIFY(daemon.stop());
    QVERIFY(daemon.start({u"--data-dir"_s, m_data}));
    QCOMPARE(get(daemon.port(), "/public/pubsub/a?since=all").body, "fresh"_ba);
    QVERIFY(daemon.stop());
}

void TestDurableReplay::fullDiskKeepsRelaying()
{
    // A 192 KiB file system of the daemon's own (a tmpfs in a mount namespace of its own).
    const QString disk = m_dir.filePath(u"disk"_s);
    QVERIFY(QDir().mkpath(disk));
    const QStringList wrapper{
        u"unshare"_s, u"-Urm"_s, u"sh"_s, u"-c"_s, u"mount -t tmpfs -o size=192k tmpfs \"$0\" && exec \"$@\""_s, disk};
    Daemon daemon;
    QVERIFY2(daemon.start({u"--data-dir"_s, m_data, u"--replay-store"_s, disk + u"/replay.sqlite"_s}, wrapper),
             "unshare could not mount a tmpfs (user namespaces needed)");
    const QByteArray body(4096, 'x');
    int published = 0;
    while (!daemon.log().contains("replay journal: cannot write") && published < 1000) {
        QCOMPARE(publish(daemon.port(), "c" + QByteArray::number(published % 50), body).status, 200);
        ++published;
    }
    QVERIFY2(daemon.log().contains("replay journal: cannot write"), "the disk never filled up");
    // The relay goes on, replay from memory too, and the error is logged once.
    for (int i = 0; i < 20; ++i) {
        QCOMPARE(publish(daemon.port(), "after", "m" + QByteArray::number(i)).status, 200);
    }
    QCOMPARE(get(daemon.port(), "/public/pubsub/after?since=all").body, "m0"_ba);
    const TestResponse metrics = get(daemon.port(), "/metrics");
    QVERIFY(metrics.body.contains("patchwork_replay_journal_errors_total 1\n"));
    QCOMPARE(daemon.log().count("replay journal: cannot write"), 1);
    QVERIFY(daemon.stop());
}

void TestDurableReplay::noFileWithoutReplay()
{
    for (const QStringList &args :
         {QStringList{u"--replay-count"_s, u"0"_s}, QStringList{u"--replay-store"_s, u"none"_s}}) {
        Daemon daemon;
        QVERIFY(daemon.start(QStringList{u"--data-dir"_s, m_data} + args));
        QCOMPARE(publish(daemon.port(), "a", "m").status, 200);
        QVERIFY(daemon.stop());
        QVERIFY2(!QFile::exists(m_store), qPrintable(args.join(u' ')));
        QVERIFY(QDir(m_data).entryList({u"replay*"_s}).isEmpty());
    }
}

QTEST_GUILESS_MAIN(TestDurableReplay)
#include "tst_durablereplay.moc"
