// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QString>

#include <memory>

#include "engine/replaystore.h"

namespace Patchwork
{

// The replay buffers' journal (PROTOCOL §4.1, "Durable replay"): an SQLite file written behind by one
// thread of its own, read only when opened.
//
// stored()/removed() only pack an operation into a buffer, without a lock (the writer shares no message
// with the relay); a cut of the channel whose message was just packed (its count limit) joins that
// message's operation. In the first pass of the opening thread's event loop that adds none (or when a
// thousand operations wait, or the oldest has waited 10 ms) they are handed to the writer under its mutex,
// and it is woken. The writer takes everything queued and commits it in transactions of up to a few
// thousand operations or a few MiB (group commit without a timer); a message stored and removed within one
// transaction is never written. If what is not committed outgrows its bound the journal drops what waits
// and the run can no longer end cleanly; the next message of each channel that lost some is written with
// gapBefore. The first write error (a full disk) is logged and ends journaling for the run: the relay goes
// on in memory.
//
// The file: WAL mode, `synchronous=NORMAL` (or FULL), exclusive locking, a bounded WAL, incremental
// vacuum. A transaction writes each channel's new messages as one block (a row) and what the channel let
// go as a cut, so the SQLite work is per channel and transaction, not per message. Each run is recorded by
// its id prefix; close() marks it clean when every message it published was written and nothing was
// dropped. A file that is not a database or is corrupt is moved aside (`<file>.corrupt-<time>`) and
// started afresh.
class ReplayJournal final : public ReplayStore
{
public:
    enum class Sync
    {
        Normal, // a crash of the daemon loses nothing committed; a power loss may lose the last commits
        Full, // a power loss loses nothing committed, at the price of an fsync per commit
    };

    struct Options
    {
        QString path;
        Sync sync = Sync::Normal;
        // The queue's bound: past it, the queue is dropped.
        qint64 maxQueued = 500'000; // operations
        qint64 maxQueuedBytes = qint64(256) * 1024 * 1024; // the packed operations: messages, keys, heads
    };

    // What earlier runs left: their runs, oldest first, and the messages, in seq order.
    struct Contents
    {
        QList<Run> runs;
        QList<Record> records;
    };

    // Opens (or creates) the journal at options.path for the run whose ids start with `runPrefix`, and
    // reads what earlier runs left into `contents`. Null (logged with the reason) when the file cannot
    // be used; the relay then keeps replay in memory only.
    static std::unique_ptr<ReplayJournal> open(const Options &options, const QByteArray &runPrefix, Contents *contents);
    // Reads what the journal at `path` holds without recording a run (its state after the last commit);
    // the reason when it cannot be read.
    static QString read(const QString &path, Contents *contents);
    ~ReplayJournal() override;
    Q_DISABLE_COPY_MOVE(ReplayJournal)

    void stored(qint64 seq, const QByteArray &key, const Message &message, qint64 unixMs, bool gapBefore) override;
    void removed(const QByteArray &key, qint64 seq) override;
    Stats stats() const override;

    // Writes what is queued, marks the run clean if nothing was lost, and closes the file. The
    // destructor does the same; stored()/removed() after close() are ignored.
    void close();

private:
    class Writer;
    explicit ReplayJournal(std::unique_ptr<Writer> writer);
    void queued(bool handOverNow);
    void postHandOver();

    std::unique_ptr<Writer> m_writer;
    QObject m_context; // the posted wake-ups go with the journal
    bool m_handOverPosted = false;
    bool m_added = false; // operations were added since the posted hand-over was posted
};

} // namespace Patchwork
