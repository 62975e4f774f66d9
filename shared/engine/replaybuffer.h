// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>

#include "engine/message.h"
#include "engine/replaystore.h"

namespace Patchwork
{

class Clock;

// Where a subscriber asks to resume: the `since=` query value or a Last-Event-ID (PROTOCOL §4.1).
struct ReplaySince
{
    enum class Kind
    {
        None, // not given (or empty): wait for the next message
        All, // `all`: every buffered message
        UnixSeconds, // digits only: messages whose Patch-Time is at least `value`
        Ago, // digits and a unit s/m/h/d: messages published at most `value` milliseconds ago
        Id, // anything else: messages published after the one whose Patch-Id is `id`
    };
    Kind kind = Kind::None;
    qint64 value = 0;
    QByteArray id;

    bool operator==(const ReplaySince &other) const = default;
};

// Parses a `since=` value: empty = None, `all` (any case) = All, `1700000000` = UnixSeconds,
// `90s`/`15m`/`2h`/`7d` = Ago, anything else = Id. Never fails: an unknown id is reported as a gap
// when it is looked up. Values too large to represent saturate (a time in the far future matches
// nothing, a duration that long matches everything).
ReplaySince parseSince(QByteArrayView text);

// The replay buffers of every pubsub channel (PROTOCOL §4.1): recent messages per channel key,
// bounded by a count and an age per message, bytes per channel and bytes in all. Oldest messages are
// evicted first, whichever limit is hit; expiry by age follows the injected clock. A message's cost
// is its body, headers and id plus a fixed bookkeeping overhead, and each channel adds an overhead of
// its own to the total, so the total bound holds for the memory actually used, however many channels
// there are. Bodies and headers are implicitly shared with the messages in flight.
//
// Durability (a ReplayStore, optional): every message kept and every one let go is told to the store.
// What earlier runs stored comes back through restore(). Ids are `<run prefix><counter>` (ChannelHub);
// the buffer vouches for an id it does not hold only when it knows that nothing published after it
// was lost: the id is of this run, or of an earlier run that it knows with no unclean stop since. For
// any other id a client resuming from it learns that it may have missed messages (Match::gap).
//
// Messages must be appended in publish order (ChannelHub does this). Single-threaded.
class ReplayBuffer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ReplayBuffer)

public:
    struct Limits
    {
        int count = 100; // messages per channel
        qint64 ageMs = qint64(12) * 3600 * 1000; // per message
        qint64 channelBytes = qint64(1024) * 1024; // per channel
        qint64 totalBytes = qint64(64) * 1024 * 1024; // all channels
        // Any limit 0 (or negative) disables replay.
        bool isEnabled() const;
    };

    // Messages a subscriber gets, oldest first; `gap` when it may have missed messages before the first
    // of them (with no messages: before the next one published on the channel). That is when the id it
    // asked for is not (or no longer) buffered while others are (an id that is the newest evicted from
    // the channel is no gap: its successor is the oldest buffered message), when the buffer cannot
    // vouch for the id (see above), and when an unclean stop lies between it and its successor.
    struct Match
    {
        QList<Message> messages;
        bool gap = false;
        // Positions in `messages` (never the first) of those before which an unclean stop lost some.
        QList<qsizetype> holes;
    };

    explicit ReplayBuffer(Clock *clock, QObject *parent = nullptr);
    ~ReplayBuffer() override;

    // Applies new limits at once (evicting what no longer fits; everything when disabled).
    void setLimits(const Limits &limits);
    const Limits &limits() const;
    bool isEnabled() const;

    // Keeps `message` (its id and time set) as the newest of channel `key`, then evicts oldest first
    // until every limit holds again, which may evict `message` itself when it is larger than a
    // channel may hold. No-op when replay is disabled.
    void append(const QByteArray &key, const Message &message);
    // The buffered messages of `key` that match `since`, at most `max` (-1 = all).
    Match find(const QByteArray &key, const ReplaySince &since, qsizetype max = -1) const;

    // The id prefix of this run (ChannelHub sets it once).
    void setCurrentRun(const QByteArray &prefix);
    // Tells `store` (not owned, null = none) of every message from now on, after keeping again what it
    // stored in earlier runs: `records` in seq order, under the current limits (what no longer fits or
    // is too old is let go, and the store told so), with `runs` (oldest first) to vouch for ids by.
    // Keeping a channel's restored messages again emits channelRestored(). Call once, before anything
    // is appended.
    void attachStore(ReplayStore *store,
                     const QList<ReplayStore::Run> &runs = {},
                     const QList<ReplayStore::Record> &records = {});
    ReplayStore *store() const;

    bool contains(const QByteArray &key) const;
    qsizetype channelCount() const;
    qsizetype messageCount(const QByteArray &key) const;
    qsizetype messageCount() const; // all channels
    // The accounted bytes of one channel's messages, and of everything (overheads included).
    qint64 channelBytes(const QByteArray &key) const;
    qint64 totalBytes() const;
    void clear();

    // What one message and one channel count for.
    static qint64 messageCost(const Message &message);
    static qint64 channelCost(const QByteArray &key);

Q_SIGNALS:
    // The last buffered message of channel `key` was evicted or expired.
    void channelEmptied(const QByteArray &key);
    // attachStore() kept messages of channel `key` again.
    void channelRestored(const QByteArray &key);

private:
    struct Entry;
    struct Buffer;

    Buffer *bufferFor(const QByteArray &key);
    void keep(Buffer *buffer, const Message &message, qint64 seq, qint64 unixMs, bool gapBefore);
    bool vouchesFor(const QByteArray &id) const;
    void evictOldest(Buffer *buffer);
    void enforce(Buffer *buffer);
    void expire();
    void armExpiry();
    void onClockWoke();

    Clock *m_clock;
    Limits m_limits;
    QHash<QByteArray, Buffer *> m_buffers;
    // Every entry of every channel in publish order (the global eviction and expiry order).
    Entry *m_oldest = nullptr;
    Entry *m_newest = nullptr;
    qint64 m_totalBytes = 0;
    qint64 m_armedAt = -1;
    ReplayStore *m_store = nullptr;
    qint64 m_nextSeq = 1;
    QByteArray m_currentRun;
    // Earlier runs by prefix, with their place in time (0 = oldest), and the place of the last one
    // that stopped uncleanly (-1 = none).
    QHash<QByteArray, qsizetype> m_runs;
    qsizetype m_lastUnclean = -1;
};

} // namespace Patchwork
