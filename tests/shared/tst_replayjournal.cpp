// SPDX-License-Identifier: MIT
// The replay journal (PROTOCOL §4.1 "Durable replay") on real files: what a run stores comes back in the
// next one exactly, under that run's limits; an unclean stop turns into Patch-Gap where a client may have
// missed something, and nowhere else; a damaged file is moved aside; a newer one is left alone.
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <sqlite3.h>

#include "engine/replaybuffer.h"
#include "journal/replayjournal.h"
#include "manualclock.h"
#include "testutil.h"

using namespace Qt::StringLiterals;
using Patchwork::HeaderList;
using Patchwork::ManualClock;
using Patchwork::Message;
using Patchwork::parseSince;
using Patchwork::ReplayBuffer;
using Patchwork::ReplayJournal;
using Patchwork::ReplayStore;

namespace
{

constexpr qint64 HOUR = 3600 * 1000;

// A buffer of one run: its clock, its journal (restored into it) and the id counter of its run.
struct Run
{
    Run(const QString &path, const QByteArray &runPrefix, const ReplayBuffer::Limits &limits = {}, qint64 unixMs = 0)
        : prefix(runPrefix)
    {
        if (unixMs > 0) {
            clock.setUnixMs(unixMs);
        }
        buffer.setLimits(limits);
        buffer.setCurrentRun(prefix);
        journal = ReplayJournal::open({path}, runPrefix, &contents);
        if (journal) {
            buffer.attachStore(journal.get(), contents.runs, contents.records);
        }
    }

    Message publish(const QByteArray &key, const QByteArray &body, const HeaderList &headers = {})
    {
        Message m;
        m.body = body;
        m.headers = headers;
        m.id = prefix + QByteArray::number(++counter, 36);
        m.time = clock.unixMs() / 1000;
        buffer.append(key, m);
        return m;
    }

    // Waits until the writer has written everything queued.
    bool flushed() const
    {
        return QTest::qWaitFor([this]() { return journal->stats().queued == 0; }, Patchwork::Test::timeoutMs(5000));
    }

    // "!body" when the match reports a gap before it (or before the next message, with none).
    QByteArrayList find(const QByteArray &key, QByteArrayView since) const
    {
        const ReplayBuffer::Match match = buffer.find(key, parseSince(since));
        QByteArrayList out;
        for (qsizetype i = 0; i < match.messages.size(); ++i) {
            const bool gap = i == 0 ? match.gap : match.holes.contains(i);
            out.append((gap ? "!" : "") + match.messages[i].body);
        }
        if (match.messages.isEmpty() && match.gap) {
            out.append("!"_ba);
        }
        return out;
    }

    QByteArray prefix;
    int counter = 0;
    ManualClock clock;
    ReplayBuffer buffer{&clock};
    ReplayJournal::Contents contents;
    std::unique_ptr<ReplayJournal> journal;
};

// Copies the journal's files as a crash would leave them (the file and its WAL, written but not closed).
void snapshot(const QString &from, const QString &to)
{
    for (const QString &suffix : {u""_s, u"-wal"_s}) {
        QFile::remove(to + suffix);
        if (QFile::exists(from + suffix)) {
            QVERIFY(QFile::copy(from + suffix, to + suffix));
        }
    }
}

// Runs `statements` on the file (closed by its journal); what they yield, a row per line and its columns
// separated by '|', or the error.
QByteArray sql(const QString &path, const char *statements)
{
    sqlite3 *db = nullptr;
    QByteArray out;
    if (sqlite3_open(QFile::encodeName(path).constData(), &db) != SQLITE_OK) {
        out = "cannot open: " + QByteArray(sqlite3_errmsg(db));
    } else {
        char *error = nullptr;
        const auto row = [](void *to, int columns, char **values, char **) {
            QByteArray *rows = static_cast<QByteArray *>(to);
            for (int i = 0; i < columns; ++i) {
                *rows += (i > 0 ? "|" : "") + QByteArray(values[i] ? values[i] : "NULL");
            }
            *rows += '\n';
            return 0;
        };
        if (sqlite3_exec(db, statements, row, &out, &error) != SQLITE_OK) {
            out = "error: " + QByteArray(error);
            sqlite3_free(error);
        }
    }
    sqlite3_close(db);
    return out;
}

QStringList asideFiles(const QString &dir)
{
    return QDir(dir).entryList({u"replay.sqlite.corrupt-*"_s}, QDir::Files, QDir::Name);
}

} // namespace

class TestReplayJournal : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanRestartRestoresExactly();
    void restoreUnderLoweredLimits();
    void restoreLetsExpiredMessagesGo();
    void uncleanStopTellsOfGaps();
    void droppedQueueMarksTheRunUnclean();
    void messagesKeptAndLetGoAtOnceAreNotWritten();
    void writeDelaysAreCounted();
    void channelsKeepBlocksAndCuts();
    void versionOneFileIsConverted();
    void notADatabaseIsMovedAside();
    void damagedRecordIsMovedAside();
    void newerFileIsLeftAlone();

private:
    QTemporaryDir m_dir;
    QString m_path;
};

void TestReplayJournal::init()
{
    QVERIFY(m_dir.isValid());
    m_path = m_dir.filePath(u"replay.sqlite"_s);
    for (const QString &name : QDir(m_dir.path()).entryList(QDir::Files)) {
        QFile::remove(m_dir.filePath(name));
    }
}

void TestReplayJournal::cleanRestartRestoresExactly()
{
    const HeaderList headers{{"Content-Type"_ba, "application/octet-stream"_ba}, {"X-Trace"_ba, ""_ba}};
    const QByteArray binary("\0\x01\xff\r\n"_ba);
    QList<Message> sent;
    qint64 firstUnixMs = 0;
    {
        Run one(m_path, "r1-");
        QVERIFY(one.journal);
        QVERIFY(one.contents.runs.isEmpty());
        firstUnixMs = one.clock.unixMs();
        sent.append(one.publish("public/a"_ba, binary, headers));
        one.clock.advance(1500);
        sent.append(one.publish("public/b"_ba, {}));
        sent.append(one.publish("public/a"_ba, "two"_ba));
    }
    Run two(m_path, "r2-");
    QVERIFY(two.journal);
    QCOMPARE(two.contents.runs.size(), 1);
    QCOMPARE(two.contents.runs[0].prefix, "r1-"_ba);
    QVERIFY(two.contents.runs[0].clean);
    QCOMPARE(two.contents.records.size(), 3);
    QCOMPARE(two.contents.records[0].unixMs, firstUnixMs);
    QCOMPARE(two.contents.records[1].unixMs, firstUnixMs + 1500);
    for (qsizetype i = 0; i < sent.size(); ++i) {
        const ReplayStore::Record &r = two.contents.records[i];
        QCOMPARE(r.message.id, sent[i].id);
        QCOMPARE(r.message.time, sent[i].time);
        QCOMPARE(r.message.headers, sent[i].headers);
        QCOMPARE(r.message.body, sent[i].body);
        QVERIFY(!r.gapBefore);
    }
    const ReplayBuffer::Match a = two.buffer.find("public/a"_ba, parseSince("all"));
    QCOMPARE(a.messages.size(), 2);
    QCOMPARE(a.messages[0].body, binary);
    QCOMPARE(a.messages[0].headers, headers);
    QCOMPARE(a.messages[0].id, sent[0].id);
    // Ids of the clean run resolve exactly, with no gap, also on a channel that has nothing.
    QCOMPARE(two.find("public/a"_ba, sent[0].id), QByteArrayList{"two"_ba});
    QCOMPARE(two.find("public/a"_ba, sent[2].id), QByteArrayList{});
    QCOMPARE(two.find("public/empty"_ba, "r1-zz"), QByteArrayList{});
    // New ids continue after the old ones, in the same order.
    two.publish("public/a"_ba, "three"_ba);
    QCOMPARE(two.find("public/a"_ba, sent[2].id), QByteArrayList{"three"_ba});
}

void TestReplayJournal::restoreUnderLoweredLimits()
{
    {
        Run one(m_path, "r1-");
        for (int i = 1; i <= 5; ++i) {
            one.publish("public/a"_ba, "m" + QByteArray::number(i));
        }
        one.publish("public/b"_ba, "b1"_ba);
    }
    {
        ReplayBuffer::Limits limits;
        limits.count = 2;
        Run two(m_path, "r2-", limits);
        QCOMPARE(two.find("public/a"_ba, "all"), (QByteArrayList{"m4"_ba, "m5"_ba}));
        QCOMPARE(two.find("public/b"_ba, "all"), QByteArrayList{"b1"_ba});
        // The oldest let go is no gap: its successor is the oldest kept.
        QCOMPARE(two.find("public/a"_ba, "r1-3"), (QByteArrayList{"m4"_ba, "m5"_ba}));
    }
    // What the lowered limits let go is gone from the file too.
    Run three(m_path, "r3-");
    QCOMPARE(three.contents.records.size(), 3);
    QCOMPARE(three.find("public/a"_ba, "all"), (QByteArrayList{"m4"_ba, "m5"_ba}));
    // Total bytes: only the newest message of all fits.
    three.journal.reset();
    ReplayBuffer::Limits tight;
    tight.totalBytes = ReplayBuffer::channelCost("public/a"_ba) + 300;
    Run four(m_path, "r4-", tight);
    QCOMPARE(four.buffer.messageCount(), 1);
    QCOMPARE(four.find("public/b"_ba, "all"), QByteArrayList{"b1"_ba});
}

void TestReplayJournal::restoreLetsExpiredMessagesGo()
{
    qint64 start = 0;
    {
        Run one(m_path, "r1-");
        start = one.clock.unixMs();
        one.publish("public/a"_ba, "old"_ba);
        one.clock.setUnixMs(start + 2 * HOUR);
        one.publish("public/a"_ba, "new"_ba);
    }
    ReplayBuffer::Limits limits;
    limits.ageMs = 3 * HOUR;
    Run two(m_path, "r2-", limits, start + 4 * HOUR); // "old" is 4 h old, "new" 2 h
    QCOMPARE(two.find("public/a"_ba, "all"), QByteArrayList{"new"_ba});
    two.clock.advance(HOUR); // "new" reaches 3 h: it goes when its time comes, not later
    QCOMPARE(two.buffer.messageCount(), 0);
}

void TestReplayJournal::uncleanStopTellsOfGaps()
{
    const QString crashed = m_dir.filePath(u"crashed.sqlite"_s);
    {
        Run one(m_path, "r1-");
        one.publish("public/a"_ba, "a1"_ba);
        one.publish("public/a"_ba, "a2"_ba);
        one.publish("public/b"_ba, "b1"_ba);
        QVERIFY(one.flushed());
        snapshot(m_path, crashed); // the daemon is killed here: "a3" below never reaches the file
        one.publish("public/a"_ba, "a3"_ba);
    }
    {
        Run two(crashed, "r2-");
        QCOMPARE(two.contents.runs.size(), 1);
        QVERIFY(!two.contents.runs[0].clean);
        QCOMPARE(two.find("public/a"_ba, "all"), (QByteArrayList{"a1"_ba, "a2"_ba}));
        // Within what was restored, nothing is missing.
        QCOMPARE(two.find("public/a"_ba, "r1-1"), QByteArrayList{"a2"_ba});
        // After the newest restored message of the crashed run, anything may have been lost: the client
        // waits and is told with the next message.
        QCOMPARE(two.find("public/a"_ba, "r1-2"), QByteArrayList{"!"_ba});
        QCOMPARE(two.find("public/b"_ba, "r1-3"), QByteArrayList{"!"_ba});
        // A lost id (a3 was r1-4), on a channel with messages and on one without.
        QCOMPARE(two.find("public/a"_ba, "r1-4"), (QByteArrayList{"!a1"_ba, "a2"_ba}));
        QCOMPARE(two.find("public/c"_ba, "r1-4"), QByteArrayList{"!"_ba});
        // Ids of this run are vouched for.
        QCOMPARE(two.find("public/c"_ba, "r2-9"), QByteArrayList{});
        // The first new message of a channel carries the gap, for every later run too.
        two.publish("public/a"_ba, "a4"_ba);
        QCOMPARE(two.find("public/a"_ba, "r1-2"), QByteArrayList{"!a4"_ba});
        QCOMPARE(two.find("public/a"_ba, "r1-1"), (QByteArrayList{"a2"_ba, "!a4"_ba}));
    }
    Run three(crashed, "r3-");
    QCOMPARE(three.contents.runs.size(), 2);
    QVERIFY(!three.contents.runs[0].clean);
    QVERIFY(three.contents.runs[1].clean);
    QCOMPARE(three.find("public/a"_ba, "r1-2"), QByteArrayList{"!a4"_ba});
    QCOMPARE(three.find("public/b"_ba, "r1-3"), QByteArrayList{"!"_ba});
    QCOMPARE(three.find("public/c"_ba, "r1-4"), QByteArrayList{"!"_ba});
    // The clean run after the crash is vouched for, the crashed one still is not.
    QCOMPARE(three.find("public/c"_ba, "r2-9"), QByteArrayList{});
    QCOMPARE(three.find("public/c"_ba, "r0-1"), QByteArrayList{"!"_ba}); // a run it never knew
}

void TestReplayJournal::droppedQueueMarksTheRunUnclean()
{
    const ReplayBuffer::Limits roomy{10'000'000, HOUR, qint64(1) << 30, qint64(1) << 30}; // nothing is evicted
    {
        ManualClock clock;
        ReplayBuffer buffer(&clock);
        buffer.setLimits(roomy);
        buffer.setCurrentRun("r1-");
        ReplayJournal::Contents contents;
        ReplayJournal::Options options{m_path};
        options.maxQueued = 1; // the writer cannot keep up with a bound of one operation
        auto journal = ReplayJournal::open(options, "r1-", &contents);
        QVERIFY(journal);
        buffer.attachStore(journal.get());
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(u"replay journal: the writer is \\d+ operations behind"_s));
        int n = 0;
        const auto publish = [&](const QByteArray &body) {
            Message m;
            m.id = "r1-" + QByteArray::number(++n, 36);
            m.body = body;
            buffer.append("public/a"_ba, m);
        };
        publish("first"_ba);
        QTRY_COMPARE_WITH_TIMEOUT(journal->stats().queued, 0, Patchwork::Test::timeoutMs(5000));
        while (journal->stats().dropped == 0 && n < 1'000'000) {
            publish("m"_ba);
        }
        QVERIFY(journal->stats().dropped > 0);
        publish("after"_ba); // the first message written after the hole
        QTRY_COMPARE_WITH_TIMEOUT(journal->stats().queued, 0, Patchwork::Test::timeoutMs(5000));
        QVERIFY(buffer.find("public/a"_ba, parseSince("r1-1")).messages.size() == n - 1); // memory lost nothing
    }
    Run two(m_path, "r2-", roomy);
    QCOMPARE(two.contents.runs.size(), 1);
    QVERIFY(!two.contents.runs[0].clean);
    const ReplayStore::Record &last = two.contents.records.constLast();
    QCOMPARE(last.message.body, "after"_ba);
    QVERIFY(last.gapBefore);
    // A client resuming from the message written just before the hole is told when it crosses it.
    QCOMPARE(two.contents.records.constFirst().message.body, "first"_ba);
    const QByteArray before = two.contents.records[two.contents.records.size() - 2].message.id;
    QCOMPARE(two.find("public/a"_ba, before), QByteArrayList{"!after"_ba});
}

void TestReplayJournal::messagesKeptAndLetGoAtOnceAreNotWritten()
{
    {
        ReplayBuffer::Limits limits;
        limits.channelBytes = 1024;
        Run one(m_path, "r1-", limits);
        one.publish("public/a"_ba, QByteArray(4096, 'x')); // larger than a channel may hold
        one.publish("public/a"_ba, "small"_ba);
    }
    Run two(m_path, "r2-");
    QCOMPARE(two.contents.records.size(), 1);
    QCOMPARE(two.contents.records[0].message.body, "small"_ba);
    QVERIFY(two.contents.runs[0].clean);
}

// Every operation written is counted once in the write-delay histogram of /metrics, in the bucket of how
// long it waited from queueing to commit.
void TestReplayJournal::writeDelaysAreCounted()
{
    Run run(m_path, "r1-");
    QVERIFY(run.journal);
    run.publish("public/a"_ba, "held"_ba);
    // The owner's event loop gets no pass for 60 ms: the first message is handed over with the second.
    QThread::msleep(60);
    run.publish("public/b"_ba, "prompt"_ba);
    QVERIFY(run.flushed());
    const ReplayStore::Stats stats = run.journal->stats();
    QCOMPARE(stats.delayCount, 2u);
    quint64 counted = 0;
    for (const quint64 n : stats.delayBuckets) {
        counted += n;
    }
    QCOMPARE(counted, 2u); // neither waited 10 s
    // Buckets up to 0.05 s hold the second message only; the first waited at least 60 ms.
    QCOMPARE(stats.delayBuckets[0] + stats.delayBuckets[1] + stats.delayBuckets[2] + stats.delayBuckets[3], 1u);
    QVERIFY2(stats.delaySum >= 0.06, QByteArray::number(stats.delaySum).constData());
}

void TestReplayJournal::channelsKeepBlocksAndCuts()
{
    ReplayBuffer::Limits three;
    three.count = 3;
    {
        // Two channels published to in turn, a transaction every third round: each transaction writes a
        // block per channel, and what the count limit lets go moves the channel's cut.
        Run one(m_path, "r1-", three);
        for (int i = 1; i <= 10; ++i) {
            one.publish("public/a"_ba, "a" + QByteArray::number(i));
            one.publish("public/b"_ba, "b" + QByteArray::number(i));
            if (i % 3 == 0) {
                QVERIFY(one.flushed());
            }
        }
    }
    // Kept: a8 a9 a10 and b8 b9 b10 (seqs 15-20). Blocks a7-a9 and a10, the same for b; the blocks of
    // rounds 1-6 are gone. A cut is the seq after the last message let go: a7 is 13, b7 14.
    QCOMPARE(sql(m_path, "SELECT count(*) FROM blocks GROUP BY channel ORDER BY channel"), "2\n2\n"_ba);
    QCOMPARE(sql(m_path, "SELECT channel, live_from FROM cuts ORDER BY channel"), "public/a|14\npublic/b|15\n"_ba);
    {
        Run two(m_path, "r2-", three);
        QByteArrayList bodies;
        qint64 seq = 0;
        for (const ReplayStore::Record &r : std::as_const(two.contents.records)) {
            QVERIFY(r.seq > seq); // in publish order over both channels
            seq = r.seq;
            bodies.append(r.message.body);
        }
        QCOMPARE(bodies, (QByteArrayList{"a8"_ba, "b8"_ba, "a9"_ba, "b9"_ba, "a10"_ba, "b10"_ba}));
        QCOMPARE(two.find("public/a"_ba, "r1-f"), (QByteArrayList{"a9"_ba, "a10"_ba})); // r1-f: a8
        QVERIFY(two.contents.runs[0].clean);
    }
    {
        ReplayBuffer::Limits one;
        one.count = 1;
        Run lower(m_path, "r3-", one); // lets a8, a9, b8, b9 go: the older blocks and the cuts go with them
    }
    QCOMPARE(sql(m_path, "SELECT count(*) FROM blocks; SELECT count(*) FROM cuts"), "2\n0\n"_ba);
    {
        ReplayBuffer::Limits none;
        none.count = 0;
        Run off(m_path, "r4-", none); // replay is off: everything goes
    }
    QCOMPARE(sql(m_path, "SELECT count(*) FROM blocks; SELECT count(*) FROM cuts"), "0\n0\n"_ba);
}

void TestReplayJournal::versionOneFileIsConverted()
{
    // A file as version 1 wrote it: a row per message, headers in a blob of their own.
    const qint64 at = 1'700'000'000'000;
    QCOMPARE(sql(m_path,
                 "CREATE TABLE runs(seq INTEGER PRIMARY KEY, prefix BLOB NOT NULL UNIQUE, clean INTEGER NOT NULL);"
                 "CREATE TABLE messages(seq INTEGER PRIMARY KEY, channel BLOB NOT NULL, id BLOB NOT NULL,"
                 " time INTEGER NOT NULL, unix_ms INTEGER NOT NULL, gap_before INTEGER NOT NULL,"
                 " headers BLOB NOT NULL, body BLOB NOT NULL);"
                 "INSERT INTO runs(prefix, clean) VALUES(CAST('r1-' AS BLOB), 1);"
                 "INSERT INTO messages VALUES(1, CAST('public/a' AS BLOB), CAST('r1-1' AS BLOB), 1700000000,"
                 " 1700000000000, 0, x'01000000580100000031', CAST('one' AS BLOB));"
                 "INSERT INTO messages VALUES(2, CAST('public/b' AS BLOB), CAST('r1-2' AS BLOB), 1700000000,"
                 " 1700000000000, 1, x'', CAST('two' AS BLOB));"
                 "INSERT INTO messages VALUES(3, CAST('public/a' AS BLOB), CAST('r1-3' AS BLOB), 1700000001,"
                 " 1700000001000, 0, x'', x'');"
                 "PRAGMA user_version = 1;"),
             QByteArray());
    for (const QByteArray &prefix : {"r2-"_ba, "r3-"_ba}) { // converted, then read as converted
        Run run(m_path, prefix, {}, at + 2000);
        QVERIFY(run.journal);
        QCOMPARE(run.contents.runs.size(), prefix == "r2-" ? 1 : 2);
        QVERIFY(run.contents.runs[0].clean);
        QCOMPARE(run.contents.records.size(), 3);
        const ReplayStore::Record &first = run.contents.records[0];
        QCOMPARE(first.seq, 1);
        QCOMPARE(first.key, "public/a"_ba);
        QCOMPARE(first.message.id, "r1-1"_ba);
        QCOMPARE(first.message.time, 1'700'000'000);
        QCOMPARE(first.unixMs, at);
        QCOMPARE(first.message.headers, (HeaderList{{"X"_ba, "1"_ba}}));
        QCOMPARE(first.message.body, "one"_ba);
        QVERIFY(run.contents.records[1].gapBefore);
        QCOMPARE(run.contents.records[2].message.id, "r1-3"_ba);
        QCOMPARE(run.contents.records[2].message.body, QByteArray());
        QCOMPARE(run.find("public/a"_ba, "all"), (QByteArrayList{"one"_ba, ""_ba}));
    }
    QCOMPARE(sql(m_path, "PRAGMA user_version; SELECT count(*) FROM sqlite_master WHERE name = 'messages'"),
             "2\n0\n"_ba);
}

void TestReplayJournal::notADatabaseIsMovedAside()
{
    QFile file(m_path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    const QByteArray garbage = QByteArray("this is not an SQLite file\n").repeated(200);
    file.write(garbage);
    file.close();
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(u"replay journal .* is damaged .*moved it aside to .*corrupt-"_s));
    {
        Run one(m_path, "r1-");
        QVERIFY(one.journal);
        QVERIFY(one.contents.records.isEmpty());
        one.publish("public/a"_ba, "fresh"_ba);
    }
    const QStringList aside = asideFiles(m_dir.path());
    QCOMPARE(aside.size(), 1);
    QFile moved(m_dir.filePath(aside[0]));
    QVERIFY(moved.open(QIODevice::ReadOnly));
    QCOMPARE(moved.readAll(), garbage);
    Run two(m_path, "r2-");
    QCOMPARE(two.find("public/a"_ba, "all"), QByteArrayList{"fresh"_ba});
}

void TestReplayJournal::damagedRecordIsMovedAside()
{
    {
        Run one(m_path, "r1-");
        one.publish("public/a"_ba, "m1"_ba, {{"X-A"_ba, "1"_ba}});
    }
    // A block that ends in the middle of a message: the file is sound, its content is not.
    QCOMPARE(sql(m_path, "UPDATE blocks SET data = substr(data, 1, length(data) - 1)"), QByteArray());
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"replay journal .* is damaged"_s));
    Run two(m_path, "r2-");
    QVERIFY(two.journal);
    QVERIFY(two.contents.records.isEmpty());
    QCOMPARE(asideFiles(m_dir.path()).size(), 1);
}

void TestReplayJournal::newerFileIsLeftAlone()
{
    QCOMPARE(sql(m_path, "CREATE TABLE future(x); PRAGMA user_version = 9"), QByteArray());
    QFile file(m_path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray before = file.readAll();
    file.close();
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(u"replay journal .* was written by a newer version: left alone"_s));
    Run one(m_path, "r1-");
    QVERIFY(!one.journal);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), before);
    QVERIFY(asideFiles(m_dir.path()).isEmpty());
}

QTEST_GUILESS_MAIN(TestReplayJournal)
#include "tst_replayjournal.moc"
