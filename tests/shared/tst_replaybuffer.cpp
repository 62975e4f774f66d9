// SPDX-License-Identifier: MIT
// The replay buffers of PROTOCOL §4.1: since= parsing, lookups, gaps, and eviction by each limit.
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>

#include <limits>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "engine/message.h"
#include "engine/replaybuffer.h"
#include "manualclock.h"

using namespace Qt::StringLiterals;
using Patchwork::HeaderList;
using Patchwork::ManualClock;
using Patchwork::Message;
using Patchwork::parseSince;
using Patchwork::ReplayBuffer;
using Patchwork::ReplaySince;

Q_DECLARE_METATYPE(Patchwork::ReplaySince::Kind)

namespace
{

using Kind = ReplaySince::Kind;
using Limits = ReplayBuffer::Limits;

constexpr qint64 SECOND = 1000;
constexpr qint64 HOUR = 3600 * SECOND;
constexpr qint64 QMAX = std::numeric_limits<qint64>::max();

// A message as the engine publishes it: id and time set. Ids sort by (length, bytes) like the engine's.
Message published(int n, const QByteArray &body, qint64 unixSeconds, const HeaderList &headers = {})
{
    Message m;
    m.body = body;
    m.headers = headers;
    m.id = "t-" + QByteArray::number(n, 36);
    m.time = unixSeconds;
    return m;
}

QByteArrayList bodies(const ReplayBuffer::Match &match)
{
    QByteArrayList out;
    for (const Message &m : match.messages) {
        out.append(m.body);
    }
    return out;
}

ReplaySince since(QByteArrayView text)
{
    return parseSince(text);
}

} // namespace

class TestReplayBuffer final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();

    void parseSinceValues_data();
    void parseSinceValues();

    void findMatches_data();
    void findMatches();
    void findMax();
    void findUnknownChannel();

    void evictByCount();
    void evictByAge();
    void expiryFollowsClock();
    void evictByChannelBytes();
    void evictByTotalBytesOldestFirstAcrossChannels();
    void messageLargerThanChannel();
    void disabledByAnyZeroLimit_data();
    void disabledByAnyZeroLimit();
    void shrinkingLimitsEvicts();
    void accounting();
    void compactsWastefulBodies();
    void manyChannelsAndLargeMessagesStayBounded_data();
    void manyChannelsAndLargeMessagesStayBounded();
};

void TestReplayBuffer::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
}

// --- since= ------------------------------------------------------------------------------------------

void TestReplayBuffer::parseSinceValues_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<Kind>("kind");
    QTest::addColumn<qint64>("value");
    QTest::addColumn<QByteArray>("id");

    QTest::addRow("empty") << ""_ba << Kind::None << qint64(0) << QByteArray();
    QTest::addRow("all") << "all"_ba << Kind::All << qint64(0) << QByteArray();
    QTest::addRow("ALL") << "ALL"_ba << Kind::All << qint64(0) << QByteArray();
    QTest::addRow("unix seconds") << "1700000000"_ba << Kind::UnixSeconds << qint64(1'700'000'000) << QByteArray();
    QTest::addRow("zero seconds") << "0"_ba << Kind::UnixSeconds << qint64(0) << QByteArray();
    QTest::addRow("huge seconds saturate") << "99999999999999999999999"_ba << Kind::UnixSeconds << QMAX << QByteArray();
    QTest::addRow("seconds ago") << "90s"_ba << Kind::Ago << 90 * SECOND << QByteArray();
    QTest::addRow("minutes ago") << "15m"_ba << Kind::Ago << 15 * 60 * SECOND << QByteArray();
    QTest::addRow("hours ago") << "2h"_ba << Kind::Ago << 2 * HOUR << QByteArray();
    QTest::addRow("days ago") << "7d"_ba << Kind::Ago << 7 * 24 * HOUR << QByteArray();
    QTest::addRow("zero ago") << "0s"_ba << Kind::Ago << qint64(0) << QByteArray();
    QTest::addRow("huge duration saturates") << "9999999999999999999d"_ba << Kind::Ago << QMAX << QByteArray();
    QTest::addRow("engine id") << "lxk3c1a2-1f"_ba << Kind::Id << qint64(0) << "lxk3c1a2-1f"_ba;
    QTest::addRow("unit only") << "s"_ba << Kind::Id << qint64(0) << "s"_ba;
    QTest::addRow("unknown unit") << "5w"_ba << Kind::Id << qint64(0) << "5w"_ba;
    QTest::addRow("two units") << "1h30m"_ba << Kind::Id << qint64(0) << "1h30m"_ba;
    QTest::addRow("upper-case unit") << "5M"_ba << Kind::Id << qint64(0) << "5M"_ba;
    QTest::addRow("decimal") << "1.5"_ba << Kind::Id << qint64(0) << "1.5"_ba;
    QTest::addRow("negative") << "-5"_ba << Kind::Id << qint64(0) << "-5"_ba;
    QTest::addRow("space") << " 5"_ba << Kind::Id << qint64(0) << " 5"_ba;
    QTest::addRow("allx") << "allx"_ba << Kind::Id << qint64(0) << "allx"_ba;
}

void TestReplayBuffer::parseSinceValues()
{
    QFETCH(QByteArray, text);
    QFETCH(Kind, kind);
    QFETCH(qint64, value);
    QFETCH(QByteArray, id);
    const ReplaySince s = parseSince(text);
    QCOMPARE(int(s.kind), int(kind));
    QCOMPARE(s.value, value);
    QCOMPARE(s.id, id);
}

// Five messages m1..m5 published 10 s apart on one channel; "now" is the time of m5.
void TestReplayBuffer::findMatches_data()
{
    QTest::addColumn<QByteArray>("since");
    QTest::addColumn<QByteArrayList>("expected");
    QTest::addColumn<bool>("gap");

    const QByteArrayList all{"m1"_ba, "m2"_ba, "m3"_ba, "m4"_ba, "m5"_ba};
    QTest::addRow("not given") << ""_ba << QByteArrayList() << false;
    QTest::addRow("all") << "all"_ba << all << false;
    QTest::addRow("after the oldest id") << "t-1"_ba << all.mid(1) << false;
    QTest::addRow("after a middle id") << "t-3"_ba << all.mid(3) << false;
    QTest::addRow("after the newest id") << "t-5"_ba << QByteArrayList() << false;
    QTest::addRow("unknown id") << "zz-1"_ba << all << true;
    QTest::addRow("id from the future") << "t-9"_ba << all << true;
    QTest::addRow("unix seconds, exact") << "1700000020"_ba << all.mid(2) << false;
    QTest::addRow("unix seconds, between") << "1700000021"_ba << all.mid(3) << false;
    QTest::addRow("unix seconds, before all") << "0"_ba << all << false;
    QTest::addRow("unix seconds, future") << "1700000041"_ba << QByteArrayList() << false;
    QTest::addRow("25 s ago") << "25s"_ba << all.mid(2) << false;
    QTest::addRow("exactly 20 s ago") << "20s"_ba << all.mid(2) << false;
    QTest::addRow("0 s ago") << "0s"_ba << all.mid(4) << false;
    QTest::addRow("1 m ago") << "1m"_ba << all << false;
    QTest::addRow("1 d ago") << "1d"_ba << all << false;
}

void TestReplayBuffer::findMatches()
{
    QFETCH(QByteArray, since);
    QFETCH(QByteArrayList, expected);
    QFETCH(bool, gap);

    ManualClock clock;
    clock.setUnixMs(1'700'000'000'000);
    ReplayBuffer buffer(&clock);
    for (int i = 1; i <= 5; ++i) {
        if (i > 1) {
            clock.advance(10 * SECOND);
        }
        buffer.append("public/pubsub/a"_ba, published(i, "m" + QByteArray::number(i), clock.unixMs() / 1000));
        // Another channel in between must not show up.
        buffer.append("public/pubsub/b"_ba, published(100 + i, "other"_ba, clock.unixMs() / 1000));
    }
    const ReplayBuffer::Match match = buffer.find("public/pubsub/a"_ba, parseSince(since));
    QCOMPARE(bodies(match), expected);
    QCOMPARE(match.gap, gap);
    for (const Message &m : match.messages) {
        QVERIFY(!m.id.isEmpty());
    }
}

void TestReplayBuffer::findMax()
{
    ManualClock clock;
    ReplayBuffer buffer(&clock);
    for (int i = 1; i <= 4; ++i) {
        buffer.append("k"_ba, published(i, "m" + QByteArray::number(i), 1));
    }
    QCOMPARE(bodies(buffer.find("k"_ba, since("all"), 1)), QByteArrayList{"m1"_ba});
    QCOMPARE(bodies(buffer.find("k"_ba, since("t-2"), 1)), QByteArrayList{"m3"_ba});
    const ReplayBuffer::Match gap = buffer.find("k"_ba, since("gone"), 1);
    QCOMPARE(bodies(gap), QByteArrayList{"m1"_ba});
    QVERIFY(gap.gap);
    QCOMPARE(bodies(buffer.find("k"_ba, since("all"), 0)), QByteArrayList());
}

void TestReplayBuffer::findUnknownChannel()
{
    ManualClock clock;
    ReplayBuffer buffer(&clock);
    buffer.append("k"_ba, published(1, "m1"_ba, 1));
    // No buffer: the client waits. An id of this run has missed nothing; one of an unknown run may have.
    buffer.setCurrentRun("t-"_ba);
    const ReplayBuffer::Match match = buffer.find("other"_ba, since("t-1"));
    QVERIFY(match.messages.isEmpty());
    QVERIFY(!match.gap);
    const ReplayBuffer::Match unknown = buffer.find("other"_ba, since("u-1"));
    QVERIFY(unknown.messages.isEmpty());
    QVERIFY(unknown.gap);
}

// --- limits ------------------------------------------------------------------------------------------

void TestReplayBuffer::evictByCount()
{
    ManualClock clock;
    ReplayBuffer buffer(&clock);
    buffer.setLimits({3, HOUR, 1 << 20, 1 << 24});
    for (int i = 1; i <= 5; ++i) {
        buffer.append("a"_ba, published(i, "a" + QByteArray::number(i), 1));
        buffer.append("b"_ba, published(10 + i, "b" + QByteArray::number(i), 1));
    }
    QCOMPARE(buffer.messageCount("a"_ba), 3);
    QCOMPARE(bodies(buffer.find("a"_ba, since("all"))), (QByteArrayList{"a3"_ba, "a4"_ba, "a5"_ba}));
    QCOMPARE(bodies(buffer.find("b"_ba, since("all"))), (QByteArrayList{"b3"_ba, "b4"_ba, "b5"_ba}));
    // An evicted id is a gap: the client missed a2. The oldest remaining comes first.
    const ReplayBuffer::Match match = buffer.find("a"_ba, since("t-1"));
    QVERIFY(match.gap);
    QCOMPARE(bodies(match).first(), "a3"_ba);
    // The newest evicted id is no gap: its successor is the oldest buffered.
    const ReplayBuffer::Match next = buffer.find("a"_ba, since("t-2"));
    QVERIFY(!next.gap);
    QCOMPARE(bodies(next), (QByteArrayList{"a3"_ba, "a4"_ba, "a5"_ba}));
    QCOMPARE(buffer.find("a"_ba, since("t-3")).gap, false);
    QCOMPARE(buffer.find("b"_ba, since("t-2")).gap, true); // another channel's id
}

void TestReplayBuffer::evictByAge()
{
    ManualClock clock;
    ReplayBuffer buffer(&clock);
    QSignalSpy emptied(&buffer, &ReplayBuffer::channelEmptied);
    buffer.setLimits({100, 60 * SECOND, 1 << 20, 1 << 24});
    buffer.append("a"_ba, published(1, "a1"_ba, 1));
    clock.advance(30 * SECOND);
    buffer.append("b"_ba, published(2, "b1"_ba, 1));
    buffer.append("a"_ba, published(3, "a2"_ba, 1));
    clock.advance(29'999);
    QCOMPARE(bodies(buffer.find("a"_ba, since("all"))), (QByteArrayList{"a1"_ba, "a2"_ba}));
    clock.advance(1);
    QCOMPARE(bodies(buffer.find("a"_ba, since("all"))), QByteArrayList{"a2"_ba});
    QCOMPARE(emptied.count(), 0);
    clock.advance(30 * SECOND);
    QCOMPARE(buffer.channelCount(), 0);
    QCOMPARE(emptied.count(), 2);
    QCOMPARE(emptied.at(0).at(0).toByteArray(), "b"_ba); // b1 was older than a2
    QCOMPARE(emptied.at(1).at(0).toByteArray(), "a"_ba);
    QCOMPARE(buffer.totalBytes(), 0);
}

void TestReplayBuffer::expiryFollowsClock()
{
    // The buffer asks the clock to wake it when its oldest message expires, and again for the next.
    ManualClock clock;
    ReplayBuffer buffer(&clock);
    buffer.setLimits({100, 10 * SECOND, 1 << 20, 1 << 24});
    const qint64 start = clock.monotonicMs();
    buffer.append("a"_ba, published(1, "a1"_ba, 1));
    QCOMPARE(clock.nextWake(), start + 10 * SECOND);
    clock.advance(4 * SECOND);
    buffer.append("a"_ba, published(2, "a2"_ba, 1));
    clock.advance(6 * SECOND); // a1 expires
    QCOMPARE(buffer.messageCount("a"_ba), 1);
    QCOMPARE(clock.nextWake(), start + 14 * SECOND);
    clock.advance(4 * SECOND);
    QCOMPARE(buffer.channelCount(), 0);
    QCOMPARE(clock.nextWake(), -1);
}

void TestReplayBuffer::evictByChannelBytes()
{
    ManualClock clock;
    ReplayBuffer buffer(&clock);
    const Message sample = published(1, QByteArray(1000, 'x'), 1);
    const qint64 cost = ReplayBuffer::messageCost(sample);
    QVERIFY(cost > 1000);
    buffer.setLimits({100, HOUR, 3 * cost + cost / 2, 1 << 24});
    for (int i = 1; i <= 6; ++i) {
        buffer.append("a"_ba, published(i, QByteArray(1000, char('0' + i)), 1));
        QVERIFY(buffer.channelBytes("a"_ba) <= 3 * cost + cost / 2);
    }
    QCOMPARE(buffer.messageCount("a"_ba), 3);
    QCOMPARE(buffer.channelBytes("a"_ba), 3 * cost);
    QCOMPARE(buffer.find("a"_ba, since("all")).messages.first().body, QByteArray(1000, '4'));
}

void TestReplayBuffer::evictByTotalBytesOldestFirstAcrossChannels()
{
    ManualClock clock;
    ReplayBuffer buffer(&clock);
    QSignalSpy emptied(&buffer, &ReplayBuffer::channelEmptied);
    const qint64 cost = ReplayBuffer::messageCost(published(1, QByteArray(500, 'x'), 1));
    const qint64 channel = ReplayBuffer::channelCost("c0"_ba);
    // Room for three channels of one message each, not four.
    buffer.setLimits({100, HOUR, 1 << 20, 3 * (cost + channel) + cost / 2});
    for (int i = 0; i < 3; ++i) {
        buffer.append("c" + QByteArray::number(i), published(i + 1, QByteArray(500, 'x'), 1));
    }
    QCOMPARE(buffer.channelCount(), 3);
    QCOMPARE(buffer.totalBytes(), 3 * (cost + channel));
    buffer.append("c3"_ba, published(4, QByteArray(500, 'y'), 1));
    QCOMPARE(buffer.channelCount(), 3);
    QVERIFY(!buffer.contains("c0"_ba)); // the oldest message of all went, though c0 was under its own limits
    QCOMPARE(emptied.count(), 1);
    QCOMPARE(emptied.at(0).at(0).toByteArray(), "c0"_ba);
    // A second message on c1 makes room by evicting c1's first message (the oldest of all), not c2's.
    buffer.append("c1"_ba, published(5, QByteArray(500, 'z'), 1));
    QVERIFY(buffer.totalBytes() <= buffer.limits().totalBytes);
    QCOMPARE(bodies(buffer.find("c1"_ba, since("all"))), QByteArrayList{QByteArray(500, 'z')});
    QVERIFY(buffer.contains("c2"_ba));
    QVERIFY(buffer.contains("c3"_ba));
}

void TestReplayBuffer::messageLargerThanChannel()
{
    ManualClock clock;
    ReplayBuffer buffer(&clock);
    QSignalSpy emptied(&buffer, &ReplayBuffer::channelEmptied);
    buffer.setLimits({100, HOUR, 4096, 1 << 24});
    buffer.append("a"_ba, published(1, "small"_ba, 1));
    buffer.append("a"_ba, published(2, QByteArray(4096, 'x'), 1));
    // Evicting oldest first leaves nothing: the large message does not fit on its own.
    QVERIFY(!buffer.contains("a"_ba));
    QCOMPARE(emptied.count(), 1);
    QCOMPARE(buffer.totalBytes(), 0);
    buffer.append("a"_ba, published(3, "small again"_ba, 1));
    QCOMPARE(buffer.messageCount("a"_ba), 1);
}

void TestReplayBuffer::disabledByAnyZeroLimit_data()
{
    QTest::addColumn<int>("count");
    QTest::addColumn<qint64>("ageMs");
    QTest::addColumn<qint64>("channelBytes");
    QTest::addColumn<qint64>("totalBytes");
    QTest::addRow("count 0") << 0 << HOUR << qint64(1 << 20) << qint64(1 << 24);
    QTest::addRow("age 0") << 100 << qint64(0) << qint64(1 << 20) << qint64(1 << 24);
    QTest::addRow("channel bytes 0") << 100 << HOUR << qint64(0) << qint64(1 << 24);
    QTest::addRow("total bytes 0") << 100 << HOUR << qint64(1 << 20) << qint64(0);
}

void TestReplayBuffer::disabledByAnyZeroLimit()
{
    QFETCH(int, count);
    QFETCH(qint64, ageMs);
    QFETCH(qint64, channelBytes);
    QFETCH(qint64, totalBytes);
    ManualClock clock;
    ReplayBuffer buffer(&clock);
    QSignalSpy emptied(&buffer, &ReplayBuffer::channelEmptied);
    QVERIFY(buffer.isEnabled()); // PROTOCOL §4.1 defaults
    QCOMPARE(buffer.limits().count, 100);
    QCOMPARE(buffer.limits().ageMs, 12 * HOUR);
    QCOMPARE(buffer.limits().channelBytes, 1 << 20);
    QCOMPARE(buffer.limits().totalBytes, 64 << 20);
    buffer.append("a"_ba, published(1, "kept"_ba, 1));
    QCOMPARE(buffer.channelCount(), 1);

    buffer.setLimits({count, ageMs, channelBytes, totalBytes});
    QVERIFY(!buffer.isEnabled());
    QCOMPARE(buffer.channelCount(), 0); // switching replay off drops what was kept
    QCOMPARE(emptied.count(), 1);
    buffer.append("a"_ba, published(2, "dropped"_ba, 1));
    QCOMPARE(buffer.channelCount(), 0);
    QCOMPARE(buffer.totalBytes(), 0);
    QVERIFY(buffer.find("a"_ba, since("all")).messages.isEmpty());
}

void TestReplayBuffer::shrinkingLimitsEvicts()
{
    ManualClock clock;
    ReplayBuffer buffer(&clock);
    for (int i = 1; i <= 10; ++i) {
        buffer.append("a"_ba, published(i, "a" + QByteArray::number(i), 1));
        clock.advance(SECOND);
    }
    buffer.setLimits({5, HOUR, 1 << 20, 1 << 24});
    QCOMPARE(bodies(buffer.find("a"_ba, since("all"))).first(), "a6"_ba);
    buffer.setLimits({5, 2500, 1 << 20, 1 << 24}); // messages older than 2.5 s go at once
    QCOMPARE(bodies(buffer.find("a"_ba, since("all"))), (QByteArrayList{"a9"_ba, "a10"_ba}));
}

void TestReplayBuffer::accounting()
{
    ManualClock clock;
    ReplayBuffer buffer(&clock);
    const HeaderList headers{{"Content-Type"_ba, "text/plain"_ba}, {"Patch-Uri"_ba, "/public/pubsub/x"_ba}};
    const Message m = published(1, "hello"_ba, 1, headers);
    const qint64 cost = ReplayBuffer::messageCost(m);
    // Body, id and headers are all counted, with their overheads.
    QVERIFY(cost >= 5 + m.id.size() + 12 + 10 + 9 + 16);
    QCOMPARE(ReplayBuffer::messageCost(published(1, "hello!"_ba, 1, headers)), cost + 1);
    buffer.append("public/pubsub/x"_ba, m);
    QCOMPARE(buffer.channelBytes("public/pubsub/x"_ba), cost);
    QCOMPARE(buffer.totalBytes(), cost + ReplayBuffer::channelCost("public/pubsub/x"_ba));
    QVERIFY(ReplayBuffer::channelCost("public/pubsub/x"_ba) > 2 * 15);
    // The body is shared, not copied.
    QVERIFY(buffer.find("public/pubsub/x"_ba, since("all")).messages.first().body.isSharedWith(m.body));
    buffer.clear();
    QCOMPARE(buffer.totalBytes(), 0);
    QCOMPARE(buffer.channelCount(), 0);
}

void TestReplayBuffer::compactsWastefulBodies()
{
    ManualClock clock;
    ReplayBuffer buffer(&clock);
    QByteArray grown;
    grown.reserve(256 * 1024);
    grown.append("a few bytes");
    buffer.append("a"_ba, published(1, grown, 1));
    const QByteArray stored = buffer.find("a"_ba, since("all")).messages.first().body;
    QCOMPARE(stored, grown);
    QVERIFY(!stored.isSharedWith(grown));
    QVERIFY(stored.capacity() < 4096);

    const QByteArray tight(100 * 1024, 'x');
    buffer.append("a"_ba, published(2, tight, 1));
    QVERIFY(buffer.find("a"_ba, since("t-1")).messages.first().body.isSharedWith(tight));
}

void TestReplayBuffer::manyChannelsAndLargeMessagesStayBounded_data()
{
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("bodySize");
    QTest::addColumn<int>("perChannel");
    QTest::addRow("20000 channels of tiny messages") << 20'000 << 0 << 3;
    QTest::addRow("3000 channels of 1 KiB") << 3000 << 1024 << 5;
    QTest::addRow("200 channels of 200 KiB") << 200 << 200 * 1024 << 2;
}

// Whatever the load, what the buffer counts stays within the total bound, and (with glibc) so does
// the heap memory the buffer actually holds.
void TestReplayBuffer::manyChannelsAndLargeMessagesStayBounded()
{
    QFETCH(int, channels);
    QFETCH(int, bodySize);
    QFETCH(int, perChannel);
    const qint64 total = 4 << 20;
    ManualClock clock;
#ifdef __GLIBC__
    malloc_trim(0);
    const auto heapInUse = []() {
        const struct mallinfo2 info = mallinfo2();
        return qint64(info.uordblks + info.hblkhd); // heap chunks and mmapped chunks
    };
    const qint64 heapBefore = heapInUse();
#endif
    qint64 peakHeap = 0;
    {
        ReplayBuffer buffer(&clock);
        buffer.setLimits({100, HOUR, 1 << 20, total});
        int id = 0;
        for (int round = 0; round < perChannel; ++round) {
            for (int c = 0; c < channels; ++c) {
                const QByteArray key = "public/pubsub/load/" + QByteArray::number(c);
                // A fresh body each time: nothing is shared with the test.
                buffer.append(
                    key,
                    published(++id,
                              QByteArray(bodySize, char('a' + c % 26)),
                              1,
                              {{"Content-Type"_ba, "application/octet-stream"_ba}, {"Patch-Uri"_ba, "/" + key}}));
                QVERIFY(buffer.totalBytes() <= total);
            }
#ifdef __GLIBC__
            peakHeap = qMax(peakHeap, heapInUse() - heapBefore);
#endif
        }
        QVERIFY(buffer.totalBytes() > total / 2); // it was really full
        // The newest messages survive; the oldest went first.
        const QByteArray lastKey = "public/pubsub/load/" + QByteArray::number(channels - 1);
        QCOMPARE(buffer.find(lastKey, since("all")).messages.last().id, "t-" + QByteArray::number(id, 36));
    }
#ifdef __GLIBC__
    qInfo("heap held at most %lld bytes for a bound of %lld", peakHeap, total);
    QVERIFY2(peakHeap <= total, QByteArray::number(peakHeap).constData());
#else
    Q_UNUSED(peakHeap);
#endif
}

QTEST_GUILESS_MAIN(TestReplayBuffer)
#include "tst_replaybuffer.moc"
