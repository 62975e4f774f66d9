// SPDX-License-Identifier: MIT
#include "journal/replayjournal.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSet>
#include <QtEndian>

#include <sqlite3.h>

#ifdef Q_OS_LINUX
#include <pthread.h>
#include <sched.h>
#endif

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "util/logging.h"

using namespace Qt::StringLiterals;

namespace Patchwork
{

namespace
{

constexpr int SCHEMA_VERSION = 2; // blocks (1: a row per message, converted when opened)
// One transaction takes at most this much of the queue (group commit).
constexpr size_t BATCH_OPERATIONS = 4096;
constexpr qint64 BATCH_BYTES = qint64(4) * 1024 * 1024;
// The WAL is checkpointed into the file every 8192 pages (32 MiB: few checkpoints, each with its fsyncs,
// rather than SQLite's default of one every 4 MiB), and cut back to WAL_SIZE_LIMIT after each.
constexpr int WAL_CHECKPOINT_PAGES = 8192;
constexpr qint64 WAL_SIZE_LIMIT = qint64(32) * 1024 * 1024;
// The page cache: the deletes of evicted messages find their pages here.
constexpr int CACHE_KIB = 16 * 1024;
// Every so many commits, free pages beyond the threshold are given back to the file system.
constexpr int VACUUM_EVERY = 256;
constexpr int VACUUM_FREE_PAGES = 1024;
// Runs remembered, newest first; ids of older runs are no longer vouched for.
constexpr int KEEP_RUNS = 1000;
// Operations are handed to the writer when the owner's event loop has a pass without new ones, or at once
// when this many wait (or BATCH_BYTES) or the oldest has waited HAND_OVER_AGE.
constexpr size_t HAND_OVER_OPERATIONS = 1024;
constexpr auto HAND_OVER_AGE = std::chrono::milliseconds(10);

using SteadyClock = std::chrono::steady_clock;

QString errorText(sqlite3 *db)
{
    return QString::fromUtf8(sqlite3_errmsg(db));
}

bool isCorruption(int rc)
{
    const int primary = rc & 0xff;
    return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

// A block's data: its messages in seq order, each as its seq, time and unix_ms (64-bit little-endian), a
// byte for gapBefore, then its id, its headers (a 32-bit count, then each name and value) and its body,
// each of these byte strings as a 32-bit little-endian length and the bytes.
constexpr qsizetype GAP_OFFSET = 3 * sizeof(qint64); // where a message's gapBefore byte is

// Appends a message to `out` in the block format: one resize and plain copies (QByteArray::append per
// field cost more than the rest of the packing).
void appendRecord(QByteArray *out, qint64 seq, const Message &message, qint64 unixMs, bool gapBefore)
{
    qsizetype size = 3 * sizeof(qint64) + 1 + 3 * sizeof(quint32) + message.id.size() + message.body.size();
    for (const auto &h : message.headers) {
        size += 2 * sizeof(quint32) + h.first.size() + h.second.size();
    }
    const qsizetype at = out->size();
    out->resize(at + size);
    char *p = out->data() + at;
    const auto putInt = [&p](qint64 value) {
        qToLittleEndian(value, p);
        p += sizeof(value);
    };
    const auto putLength = [&p](qsizetype length) {
        qToLittleEndian(quint32(length), p);
        p += sizeof(quint32);
    };
    const auto putBytes = [&p, &putLength](const QByteArray &bytes) {
        putLength(bytes.size());
        if (!bytes.isEmpty()) {
            std::memcpy(p, bytes.constData(), size_t(bytes.size()));
            p += bytes.size();
        }
    };
    putInt(seq);
    putInt(message.time);
    putInt(unixMs);
    *p++ = gapBefore ? 1 : 0;
    putBytes(message.id);
    putLength(message.headers.size());
    for (const auto &h : message.headers) {
        putBytes(h.first);
        putBytes(h.second);
    }
    putBytes(message.body);
}

// Reads a block's data back; false when it is damaged.
class BlockReader
{
public:
    explicit BlockReader(QByteArrayView data)
        : m_data(data)
    {
    }
    bool atEnd() const
    {
        return m_at == m_data.size();
    }
    bool next(ReplayStore::Record *r)
    {
        quint32 headers = 0;
        char gap = 0;
        if (!takeInt(&r->seq) || !takeInt(&r->message.time) || !takeInt(&r->unixMs) || !takeByte(&gap)
            || !takeBytes(&r->message.id) || !takeLength(&headers)) {
            return false;
        }
        r->gapBefore = gap != 0;
        for (quint32 i = 0; i < headers; ++i) {
            QByteArray name;
            QByteArray value;
            if (!takeBytes(&name) || !takeBytes(&value)) {
                return false;
            }
            r->message.headers.append({name, value});
        }
        return takeBytes(&r->message.body);
    }

private:
    bool takeInt(qint64 *value)
    {
        if (m_data.size() - m_at < qsizetype(sizeof(qint64))) {
            return false;
        }
        *value = qFromLittleEndian<qint64>(m_data.data() + m_at);
        m_at += sizeof(qint64);
        return true;
    }
    bool takeByte(char *value)
    {
        if (m_at >= m_data.size()) {
            return false;
        }
        *value = m_data[m_at++];
        return true;
    }
    bool takeLength(quint32 *length)
    {
        if (m_data.size() - m_at < 4) {
            return false;
        }
        *length = qFromLittleEndian<quint32>(m_data.data() + m_at);
        m_at += 4;
        return true;
    }
    bool takeBytes(QByteArray *bytes)
    {
        quint32 length = 0;
        if (!takeLength(&length) || quint64(m_data.size() - m_at) < length) {
            return false;
        }
        *bytes = m_data.sliced(m_at, length).toByteArray();
        m_at += length;
        return true;
    }

    QByteArrayView m_data;
    qsizetype m_at = 0;
};

// Headers as version 1 of the file stored them, in a column of their own: per header a 32-bit
// little-endian length and the bytes of the name, then the same for the value.
bool decodeV1Headers(QByteArrayView blob, HeaderList *headers)
{
    qsizetype at = 0;
    const auto take = [&](QByteArray *bytes) {
        if (blob.size() - at < 4) {
            return false;
        }
        const quint32 length = qFromLittleEndian<quint32>(blob.data() + at);
        at += 4;
        if (quint64(blob.size() - at) < length) {
            return false;
        }
        *bytes = blob.sliced(at, length).toByteArray();
        at += length;
        return true;
    };
    while (at < blob.size()) {
        QByteArray name;
        QByteArray value;
        if (!take(&name) || !take(&value)) {
            return false;
        }
        headers->append({name, value});
    }
    return true;
}

QByteArray columnBlob(sqlite3_stmt *statement, int column)
{
    const void *data = sqlite3_column_blob(statement, column);
    return QByteArray(static_cast<const char *>(data), sqlite3_column_bytes(statement, column));
}

// One prepared statement, finalized when it goes.
class Statement
{
public:
    Statement() = default;
    ~Statement()
    {
        sqlite3_finalize(m_statement);
    }
    Q_DISABLE_COPY_MOVE(Statement)

    int prepare(sqlite3 *db, const char *sql)
    {
        finalize();
        return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &m_statement, nullptr);
    }
    sqlite3_stmt *get() const
    {
        return m_statement;
    }
    void finalize()
    {
        sqlite3_finalize(m_statement);
        m_statement = nullptr;
    }

private:
    sqlite3_stmt *m_statement = nullptr;
};

int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
}

// Runs a statement that yields one integer (a PRAGMA); SQLITE_OK with the value, or the error.
int queryInt(sqlite3 *db, const char *sql, qint64 *value)
{
    Statement s;
    int rc = s.prepare(db, sql);
    if (rc != SQLITE_OK) {
        return rc;
    }
    rc = sqlite3_step(s.get());
    if (rc == SQLITE_ROW) {
        *value = sqlite3_column_int64(s.get(), 0);
        return SQLITE_OK;
    }
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

// Moves `path` and its WAL aside as `<path>.corrupt-<time>` (the WAL as `<that>-wal`).
QString moveAside(const QString &path)
{
    const QString aside = path + u".corrupt-"_s + QDateTime::currentDateTimeUtc().toString(u"yyyyMMdd'T'HHmmss'Z'"_s);
    QFile::rename(path, aside);
    QFile::rename(path + u"-wal"_s, aside + u"-wal"_s);
    QFile::remove(path + u"-shm"_s);
    return aside;
}

// The hash and equality of channel keys, for the writer's map of channels, which is looked up by the
// views of a batch.
struct KeyHash
{
    using is_transparent = void;
    size_t operator()(QByteArrayView key) const
    {
        return qHash(key);
    }
};
struct KeyEqual
{
    using is_transparent = void;
    bool operator()(QByteArrayView a, QByteArrayView b) const
    {
        return a == b;
    }
};

// An operation on its way to the writer is packed into the buffer of its batch: this head, the channel's
// key, and for a message kept its data in the block format (recordSize 0 when it only lets go). The writer
// thus shares no message with the relay: no reference count is touched and nothing is freed across threads
// (README "Durable replay").
struct PackedHead
{
    qint64 seq;
    qint64 queuedAt; // steady clock ticks
    qint64 cut; // the channel lets go of its messages up to this seq; 0 = none
    quint32 keySize;
    quint32 recordSize;
};

// The runs a file remembers, oldest first.
int readRuns(sqlite3 *db, QList<ReplayStore::Run> *runs)
{
    Statement s;
    int rc = s.prepare(db, "SELECT prefix, clean FROM runs ORDER BY seq");
    while (rc == SQLITE_OK && (rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        runs->append({columnBlob(s.get(), 0), sqlite3_column_int(s.get(), 1) != 0});
        rc = SQLITE_OK;
    }
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

// The messages of a version 1 file: a row each.
int readV1Records(sqlite3 *db, QList<ReplayStore::Record> *records)
{
    Statement messages;
    int rc = messages.prepare(
        db, "SELECT seq, channel, id, time, unix_ms, gap_before, headers, body FROM messages ORDER BY seq");
    while (rc == SQLITE_OK && (rc = sqlite3_step(messages.get())) == SQLITE_ROW) {
        sqlite3_stmt *s = messages.get();
        ReplayStore::Record r;
        r.seq = sqlite3_column_int64(s, 0);
        r.key = columnBlob(s, 1);
        r.message.id = columnBlob(s, 2);
        r.message.time = sqlite3_column_int64(s, 3);
        r.unixMs = sqlite3_column_int64(s, 4);
        r.gapBefore = sqlite3_column_int(s, 5) != 0;
        if (!decodeV1Headers(columnBlob(s, 6), &r.message.headers)) {
            return SQLITE_CORRUPT;
        }
        r.message.body = columnBlob(s, 7);
        records->append(std::move(r));
        rc = SQLITE_OK;
    }
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

// The messages of the blocks still kept (at or after their channel's cut), in seq order. `block` is told
// of every block: its channel, the seqs of its first and last message, and the channel's cut (0 if none).
template <typename BlockFound> int readBlocks(sqlite3 *db, QList<ReplayStore::Record> *records, BlockFound block)
{
    QHash<QByteArray, qint64> cuts;
    Statement s;
    int rc = s.prepare(db, "SELECT channel, live_from FROM cuts");
    while (rc == SQLITE_OK && (rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        cuts.insert(columnBlob(s.get(), 0), sqlite3_column_int64(s.get(), 1));
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) {
        return rc;
    }
    bool ordered = true;
    rc = s.prepare(db, "SELECT first_seq, channel, data FROM blocks ORDER BY first_seq");
    while (rc == SQLITE_OK && (rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        const qint64 first = sqlite3_column_int64(s.get(), 0);
        const QByteArray key = columnBlob(s.get(), 1);
        const qint64 cut = cuts.value(key);
        BlockReader reader(QByteArrayView(static_cast<const char *>(sqlite3_column_blob(s.get(), 2)),
                                          sqlite3_column_bytes(s.get(), 2)));
        qint64 last = first - 1;
        while (!reader.atEnd()) {
            ReplayStore::Record r;
            if (!reader.next(&r) || r.seq <= last || (last < first && r.seq != first)) {
                return SQLITE_CORRUPT;
            }
            last = r.seq;
            if (r.seq < cut) {
                continue;
            }
            r.key = key;
            ordered = ordered && (records->isEmpty() || records->constLast().seq < r.seq);
            records->append(std::move(r));
        }
        if (last < first) {
            return SQLITE_CORRUPT; // a block without a message
        }
        block(key, first, last, cut);
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) {
        return rc;
    }
    // The blocks of channels published to at once interleave.
    if (!ordered) {
        std::sort(records->begin(), records->end(), [](const auto &a, const auto &b) { return a.seq < b.seq; });
    }
    return SQLITE_OK;
}

constexpr const char *CREATE_V2 = "CREATE TABLE IF NOT EXISTS blocks(first_seq INTEGER PRIMARY KEY,"
                                  " channel BLOB NOT NULL, data BLOB NOT NULL);"
                                  "CREATE TABLE IF NOT EXISTS cuts(channel BLOB PRIMARY KEY,"
                                  " live_from INTEGER NOT NULL) WITHOUT ROWID;"
                                  "PRAGMA user_version=2;";

// The file's schema version; SQLITE_FORMAT for a newer one.
int schemaVersion(sqlite3 *db, qint64 *version)
{
    const int rc = queryInt(db, "PRAGMA user_version", version);
    return rc == SQLITE_OK && *version > SCHEMA_VERSION ? SQLITE_FORMAT : rc;
}

} // namespace

// The file and the thread that writes it.
//
// The file (schema version 2) keeps a channel's messages in blocks: the messages of one channel written
// in one transaction form one row of `blocks`, keyed by the seq of its first message. Since a channel
// always lets go of its oldest message first, what it let go of is a cut: `cuts` holds, for a channel
// whose oldest block is partly let go, the seq before which every message of it is let go; a block whose
// messages are all before the cut is deleted. A transaction therefore writes a row or two per channel it touched,
// not one per operation (README "Durable replay": the SQLite work per message was what the publish
// throughput lost). Version 1, a row per message, is converted when opened.
class ReplayJournal::Writer
{
public:
    Writer(sqlite3 *db, const Options &options, const QByteArray &run)
        : m_db(db)
        , m_options(options)
        , m_run(run)
    {
    }

    ~Writer()
    {
        close();
    }
    Q_DISABLE_COPY_MOVE(Writer)

    // Sets the file up, reads what earlier runs left and records this run. SQLITE_OK or the error.
    int open(Contents *contents);
    void start()
    {
        m_thread = std::thread([this]() { run(); });
    }
    // On the owner's thread, without a lock: packs an operation, a message kept (`message`, see
    // ReplayStore::Record) or one let go (null), into those not handed over yet (ignored after close()).
    // True when so many wait that they should be handed over now.
    bool
    add(QByteArrayView key, qint64 seq, const Message *message = nullptr, qint64 unixMs = 0, bool gapBefore = false);
    // On the owner's thread: hands what add() collected to the writer, under the mutex once, and wakes it.
    void handOver();
    // On the owner's thread: whether operations wait that are younger than HAND_OVER_AGE.
    bool pendingYoung() const;
    Stats stats() const;
    // Hands over what is left, stops the thread once everything queued is written, marks the run clean if
    // nothing was lost, and closes the file.
    void close();

private:
    // Operations packed one after the other (PackedHead).
    struct Operations
    {
        QByteArray data;
        qint64 count = 0;
        SteadyClock::time_point firstAt; // when the first was queued
        qsizetype lastAt = -1; // where the last one's head is
        bool empty() const
        {
            return count == 0;
        }
        qint64 bytes() const
        {
            return data.size();
        }
        void clear()
        {
            data.resize(0); // keeps the storage
            count = 0;
            lastAt = -1;
        }
        void swap(Operations &other)
        {
            data.swap(other.data);
            std::swap(count, other.count);
            std::swap(firstAt, other.firstAt);
            std::swap(lastAt, other.lastAt);
        }
    };
    // One operation of a batch as the writer reads it: views into the batch's buffer.
    struct Operation
    {
        qint64 seq = 0;
        SteadyClock::time_point queuedAt;
        qint64 cut = 0; // PackedHead
        QByteArrayView key;
        QByteArrayView record; // the message in the block format; empty when it only lets go
        qint64 size = 0; // packed
        bool insert() const
        {
            return !record.isEmpty();
        }
    };
    using OperationList = std::vector<Operation>;

    static void pack(Operations *operations,
                     SteadyClock::time_point now,
                     QByteArrayView key,
                     qint64 seq,
                     const Message *message,
                     qint64 unixMs,
                     bool gapBefore);
    // Joins a cut of channel `key` at `seq` to the last operation packed when that is of the same channel.
    static bool joinCut(Operations *operations, QByteArrayView key, qint64 seq);
    // Calls f(const Operation &) for each operation packed in `data`, in order.
    template <typename F> static void unpack(QByteArrayView data, F f);

    // A channel as the file holds it.
    struct Channel
    {
        struct Block
        {
            qint64 first;
            qint64 last;
        };
        std::deque<Block> blocks; // oldest first
        qint64 liveFrom = 0; // its messages before this seq are let go
        qint64 storedCut = 0; // its row in `cuts`, 0 for none
        quint64 transaction = 0; // the transaction `inserts` belongs to
        std::vector<size_t> inserts; // that transaction's inserts of the channel, as indexes into its batch
    };
    using Channels = std::unordered_map<QByteArray, Channel, KeyHash, KeyEqual>;

    int prepareStatements();
    void run();
    // One transaction: the operations [begin, end) of batch.
    int write(const OperationList &batch, size_t begin, size_t end);
    // The statements of write()'s transaction.
    int apply(const OperationList &batch, size_t begin, size_t end);
    void fail(int rc, const char *what);
    void drop(Operations *operations);

    sqlite3 *m_db;
    Options m_options;
    QByteArray m_run;
    Statement m_insertBlock;
    Statement m_deleteBlock;
    Statement m_storeCut;
    Statement m_deleteCut;
    // The writer's: the channels the file holds, and for apply(), reused by every transaction: the data
    // of the block being written and the channels the transaction touches.
    Channels m_channels;
    QByteArray m_data;
    std::vector<Channels::value_type *> m_touched;
    quint64 m_transactions = 0;
    std::thread m_thread;

    // The owner's thread only: operations not handed over yet. The buffers of m_pending, m_queue and the
    // writer's batch change hands by swapping, so their storage is reused rather than reallocated.
    Operations m_pending;
    bool m_shut = false; // close() was called

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    Operations m_queue;
    // What the writer took and has not committed yet, and the queueing time of its oldest operation.
    qint64 m_writing = 0;
    qint64 m_writingBytes = 0;
    SteadyClock::time_point m_writingSince;
    bool m_stopping = false;
    bool m_closed = false;
    bool m_failed = false; // a write error ended journaling for this run
    bool m_lost = false; // operations were dropped: this run cannot end cleanly
    // Channels whose inserts were dropped: their next message is written with gapBefore.
    QSet<QByteArray> m_holes;
    Stats m_stats;
};

int ReplayJournal::Writer::open(Contents *contents)
{
    int rc = exec(m_db, "PRAGMA locking_mode=EXCLUSIVE");
    // Set on a new file only (before the first table); lets incremental_vacuum give pages back.
    if (rc == SQLITE_OK) {
        rc = exec(m_db, "PRAGMA auto_vacuum=INCREMENTAL");
    }
    qint64 version = 0;
    if (rc == SQLITE_OK) {
        rc = schemaVersion(m_db, &version); // a newer file is left alone
    }
    if (rc != SQLITE_OK) {
        return rc;
    }
    {
        Statement mode;
        rc = mode.prepare(m_db, "PRAGMA journal_mode=WAL");
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(mode.get()) == SQLITE_ROW
                         && qstrcmp(reinterpret_cast<const char *>(sqlite3_column_text(mode.get(), 0)), "wal") == 0
                     ? SQLITE_OK
                     : sqlite3_errcode(m_db);
        }
        if (rc != SQLITE_OK) {
            return rc == SQLITE_ROW ? SQLITE_ERROR : rc;
        }
    }
    const QByteArray pragmas =
        QByteArrayLiteral("PRAGMA synchronous=") + (m_options.sync == Sync::Full ? "FULL" : "NORMAL")
        + ";PRAGMA journal_size_limit=" + QByteArray::number(WAL_SIZE_LIMIT) + ";PRAGMA wal_autocheckpoint="
        + QByteArray::number(WAL_CHECKPOINT_PAGES) + ";PRAGMA cache_size=-" + QByteArray::number(CACHE_KIB) + ';';
    rc = exec(m_db, pragmas.constData());
    if (rc == SQLITE_OK && version == 0) {
        const QByteArray create = QByteArrayLiteral("BEGIN;"
                                                    "CREATE TABLE IF NOT EXISTS runs(seq INTEGER PRIMARY KEY,"
                                                    " prefix BLOB NOT NULL UNIQUE, clean INTEGER NOT NULL);")
                                  + CREATE_V2 + "COMMIT;";
        rc = exec(m_db, create.constData());
    }
    if (rc == SQLITE_OK) {
        rc = readRuns(m_db, &contents->runs);
    }
    if (rc != SQLITE_OK) {
        return rc;
    }

    if (version == 1) {
        // A row per message: converted to blocks in one transaction, as if published anew.
        rc = readV1Records(m_db, &contents->records);
        if (rc == SQLITE_OK) {
            const QByteArray create = QByteArrayLiteral("BEGIN;") + CREATE_V2;
            rc = exec(m_db, create.constData());
        }
        if (rc == SQLITE_OK) {
            rc = prepareStatements();
        }
        Operations packed;
        for (const Record &r : std::as_const(contents->records)) {
            pack(&packed, {}, r.key, r.seq, &r.message, r.unixMs, r.gapBefore);
        }
        OperationList all;
        unpack(packed.data, [&all](const Operation &op) { all.push_back(op); });
        if (rc == SQLITE_OK) {
            rc = apply(all, 0, all.size());
        }
        if (rc == SQLITE_OK) {
            rc = exec(m_db, "DROP TABLE messages; COMMIT;");
        }
        if (rc != SQLITE_OK) {
            exec(m_db, "ROLLBACK");
            return rc;
        }
    } else {
        rc = readBlocks(m_db, &contents->records, [this](const QByteArray &key, qint64 first, qint64 last, qint64 cut) {
            Channel &c = m_channels[key];
            c.blocks.push_back({first, last});
            c.liveFrom = c.storedCut = cut;
        });
        if (rc == SQLITE_OK) {
            rc = prepareStatements();
        }
    }
    if (rc != SQLITE_OK) {
        return rc;
    }

    Statement addRun;
    rc = addRun.prepare(m_db, "INSERT OR REPLACE INTO runs(prefix, clean) VALUES(?1, 0)");
    if (rc == SQLITE_OK) {
        sqlite3_bind_blob(addRun.get(), 1, m_run.constData(), int(m_run.size()), SQLITE_STATIC);
        rc = sqlite3_step(addRun.get()) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(m_db);
    }
    if (rc == SQLITE_OK) {
        const QByteArray prune =
            "DELETE FROM runs WHERE seq <= (SELECT max(seq) FROM runs) - " + QByteArray::number(KEEP_RUNS);
        rc = exec(m_db, prune.constData());
    }
    return rc;
}

int ReplayJournal::Writer::prepareStatements()
{
    int rc = m_insertBlock.prepare(m_db, "INSERT OR REPLACE INTO blocks(first_seq, channel, data) VALUES(?1, ?2, ?3)");
    if (rc == SQLITE_OK) {
        rc = m_deleteBlock.prepare(m_db, "DELETE FROM blocks WHERE first_seq = ?1");
    }
    if (rc == SQLITE_OK) {
        rc = m_storeCut.prepare(m_db, "INSERT OR REPLACE INTO cuts(channel, live_from) VALUES(?1, ?2)");
    }
    if (rc == SQLITE_OK) {
        rc = m_deleteCut.prepare(m_db, "DELETE FROM cuts WHERE channel = ?1");
    }
    return rc;
}

void ReplayJournal::Writer::pack(Operations *operations,
                                 SteadyClock::time_point now,
                                 QByteArrayView key,
                                 qint64 seq,
                                 const Message *message,
                                 qint64 unixMs,
                                 bool gapBefore)
{
    if (operations->empty()) {
        operations->firstAt = now;
    }
    QByteArray &data = operations->data;
    const qsizetype at = data.size();
    data.resize(at + qsizetype(sizeof(PackedHead)) + key.size());
    std::memcpy(data.data() + at + sizeof(PackedHead), key.data(), size_t(key.size()));
    if (message) {
        appendRecord(&data, seq, *message, unixMs, gapBefore);
    }
    const PackedHead head{seq,
                          qint64(now.time_since_epoch().count()),
                          message ? 0 : seq,
                          quint32(key.size()),
                          quint32(data.size() - at - qsizetype(sizeof(PackedHead)) - key.size())};
    std::memcpy(data.data() + at, &head, sizeof(head));
    operations->lastAt = at;
    ++operations->count;
}

bool ReplayJournal::Writer::joinCut(Operations *operations, QByteArrayView key, qint64 seq)
{
    if (operations->lastAt < 0) {
        return false;
    }
    char *last = operations->data.data() + operations->lastAt;
    PackedHead head;
    std::memcpy(&head, last, sizeof(head));
    if (QByteArrayView(last + sizeof(head), head.keySize) != key) {
        return false;
    }
    head.cut = seq; // a channel lets go of its messages oldest first
    std::memcpy(last, &head, sizeof(head));
    return true;
}

template <typename F> void ReplayJournal::Writer::unpack(QByteArrayView data, F f)
{
    for (qsizetype at = 0; at < data.size();) {
        PackedHead head;
        std::memcpy(&head, data.data() + at, sizeof(head));
        Operation op;
        op.seq = head.seq;
        op.queuedAt = SteadyClock::time_point(SteadyClock::duration(head.queuedAt));
        op.cut = head.cut;
        op.key = data.sliced(at + qsizetype(sizeof(head)), head.keySize);
        op.record = data.sliced(at + qsizetype(sizeof(head)) + head.keySize, head.recordSize);
        op.size = qint64(sizeof(head)) + head.keySize + head.recordSize;
        at += op.size;
        f(op);
    }
}

bool ReplayJournal::Writer::add(QByteArrayView key, qint64 seq, const Message *message, qint64 unixMs, bool gapBefore)
{
    if (m_shut) {
        return false;
    }
    // A channel mostly lets go of its oldest message right after it kept a new one (its count limit): that
    // cut joins the new message's operation.
    if (!message && joinCut(&m_pending, key, seq)) {
        return false;
    }
    const SteadyClock::time_point now = SteadyClock::now();
    pack(&m_pending, now, key, seq, message, unixMs, gapBefore);
    return m_pending.count >= qint64(HAND_OVER_OPERATIONS) || m_pending.bytes() >= BATCH_BYTES
           || now - m_pending.firstAt >= HAND_OVER_AGE;
}

bool ReplayJournal::Writer::pendingYoung() const
{
    return !m_pending.empty() && SteadyClock::now() - m_pending.firstAt < HAND_OVER_AGE;
}

void ReplayJournal::Writer::handOver()
{
    if (m_pending.empty()) {
        return;
    }
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (m_closed || m_failed) {
            m_pending.clear();
            return;
        }
        // The bound counts everything not committed yet. Past it, what waits goes first; what is handed
        // over now as well if that is not enough.
        const auto over = [this](qint64 count, qint64 bytes) {
            return m_writing + count > m_options.maxQueued || m_writingBytes + bytes > m_options.maxQueuedBytes;
        };
        if (!m_queue.empty() && over(m_queue.count + m_pending.count, m_queue.bytes() + m_pending.bytes())) {
            drop(&m_queue);
        }
        if (over(m_pending.count, m_pending.bytes())) {
            drop(&m_pending);
        } else {
            if (!m_holes.isEmpty()) {
                char *data = m_pending.data.data();
                unpack(QByteArrayView(data, m_pending.data.size()), [this, data](const Operation &op) {
                    if (op.insert() && m_holes.remove(QByteArray::fromRawData(op.key.data(), op.key.size()))) {
                        data[op.record.data() - data + GAP_OFFSET] = 1;
                    }
                });
            }
            if (m_queue.empty()) {
                m_queue.swap(m_pending);
            } else {
                m_queue.data.append(m_pending.data);
                m_queue.count += m_pending.count;
            }
        }
        m_pending.clear();
    }
    m_wake.notify_one();
}

// With m_mutex held: the writer fell too far behind. `operations` (the queue, or what is handed over) go;
// the messages stay in memory.
void ReplayJournal::Writer::drop(Operations *operations)
{
    if (!m_lost) {
        qCWarning(lcEngine).nospace() << "replay journal: the writer is " << m_writing + m_queue.count + m_pending.count
                                      << " operations behind; dropping them (this run's replay stays in memory, "
                                         "and after a restart resuming clients are told of a gap)";
    }
    m_lost = true;
    unpack(operations->data, [this](const Operation &op) {
        if (op.insert()) {
            m_holes.insert(op.key.toByteArray());
        }
    });
    m_stats.dropped += quint64(operations->count);
    operations->clear();
}

void ReplayJournal::Writer::run()
{
#ifdef Q_OS_LINUX
    // A batch thread: its wake-ups do not preempt the relay's thread, it runs when a core is free or at
    // the end of the relay's time slice (README "Durable replay": the publish ratio's worst rounds).
    {
        sched_param param{};
        pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
    }
#endif
    Operations batch;
    OperationList operations;
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [this]() { return !m_queue.empty() || m_stopping; });
        if (m_queue.empty()) {
            return; // stopping, and everything is written
        }
        batch.swap(m_queue); // all of it, without holding the lock long; m_queue gets the empty storage
        m_writing = batch.count;
        m_writingBytes = batch.bytes();
        m_writingSince = batch.firstAt;
        lock.unlock();
        unpack(batch.data, [&operations](const Operation &op) { operations.push_back(op); });

        // One transaction for up to BATCH_OPERATIONS operations or BATCH_BYTES (group commit).
        int rc = SQLITE_OK;
        for (size_t begin = 0; begin < operations.size() && rc == SQLITE_OK;) {
            size_t end = begin;
            qint64 bytes = 0;
            while (end < operations.size() && end - begin < BATCH_OPERATIONS && bytes < BATCH_BYTES) {
                bytes += operations[end++].size;
            }
            rc = write(operations, begin, end);
            // The delays from queueing to commit, each counted in the first bucket whose bound it does not
            // exceed. The operations are in queueing order, so those within a bound are a tail of them.
            const SteadyClock::time_point now = SteadyClock::now();
            Stats delays;
            const auto first = operations.cbegin() + qsizetype(begin);
            const auto last = operations.cbegin() + qsizetype(end);
            quint64 within = 0;
            for (size_t b = 0; b < delays.delayBuckets.size(); ++b) {
                const auto bound = now
                                   - std::chrono::duration_cast<SteadyClock::duration>(
                                       std::chrono::duration<double>(Metrics::DurationBuckets[b]));
                const auto tail =
                    std::partition_point(first, last, [bound](const Operation &op) { return op.queuedAt < bound; });
                delays.delayBuckets[b] = quint64(last - tail) - within;
                within = quint64(last - tail);
            }
            SteadyClock::duration waited{};
            for (auto op = first; op != last; ++op) {
                waited += now - op->queuedAt;
            }
            delays.delaySum = std::chrono::duration<double>(waited).count();
            lock.lock();
            m_writing -= qint64(end - begin);
            m_writingBytes -= bytes;
            if (end < operations.size()) {
                m_writingSince = operations[end].queuedAt;
            }
            if (rc == SQLITE_OK) {
                for (size_t i = 0; i < delays.delayBuckets.size(); ++i) {
                    m_stats.delayBuckets[i] += delays.delayBuckets[i];
                }
                m_stats.delayCount += end - begin;
                m_stats.delaySum += delays.delaySum;
            }
            lock.unlock();
            begin = end;
        }
        operations.clear();
        batch.clear();
        if (batch.data.capacity() > 2 * BATCH_BYTES) {
            batch.data = QByteArray(); // after a backlog, not kept for good
        }

        lock.lock();
        m_writing = 0;
        m_writingBytes = 0;
        if (rc != SQLITE_OK) {
            fail(rc, "write");
        }
    }
}

int ReplayJournal::Writer::write(const OperationList &batch, size_t begin, size_t end)
{
    int rc = exec(m_db, "BEGIN");
    if (rc == SQLITE_OK) {
        rc = apply(batch, begin, end);
    }
    if (rc == SQLITE_OK) {
        rc = exec(m_db, "COMMIT");
    }
    if (rc != SQLITE_OK) {
        exec(m_db, "ROLLBACK");
        return rc;
    }
    if (m_transactions % VACUUM_EVERY == 0) {
        qint64 freePages = 0;
        if (queryInt(m_db, "PRAGMA freelist_count", &freePages) == SQLITE_OK && freePages > VACUUM_FREE_PAGES) {
            exec(m_db, "PRAGMA incremental_vacuum");
        }
    }
    return SQLITE_OK;
}

int ReplayJournal::Writer::apply(const OperationList &batch, size_t begin, size_t end)
{
    // The operations by channel: its inserts, and its cut moved past what it let go.
    const quint64 transaction = ++m_transactions;
    m_touched.clear();
    Channels::value_type *channel = nullptr;
    for (size_t i = begin; i < end; ++i) {
        const Operation &op = batch[i];
        if (!channel || channel->first != op.key) {
            auto found = m_channels.find(op.key);
            if (found == m_channels.end()) {
                found = m_channels.try_emplace(op.key.toByteArray()).first;
            }
            channel = &*found;
            if (channel->second.transaction != transaction) {
                channel->second.transaction = transaction;
                channel->second.inserts.clear();
                m_touched.push_back(channel);
            }
        }
        if (op.insert()) {
            channel->second.inserts.push_back(i);
        }
        if (op.cut > 0) {
            channel->second.liveFrom = qMax(channel->second.liveFrom, op.cut + 1);
        }
    }

    // Per channel: its blocks let go entirely are deleted; what it keeps of this transaction's messages
    // becomes a block (a message kept and let go within the transaction is never written; only within
    // one, so that a crash between two commits cannot leave a hole among what a channel keeps); its cut
    // is stored while its oldest block starts before it.
    int rc = SQLITE_OK;
    const auto step = [this](sqlite3_stmt *s) {
        int result = sqlite3_step(s);
        sqlite3_reset(s); // every parameter is bound anew for the next use
        return result == SQLITE_DONE ? SQLITE_OK : result;
    };
    for (Channels::value_type *touched : m_touched) {
        const QByteArray &key = touched->first;
        Channel &c = touched->second;
        while (rc == SQLITE_OK && !c.blocks.empty() && c.blocks.front().last < c.liveFrom) {
            sqlite3_bind_int64(m_deleteBlock.get(), 1, c.blocks.front().first);
            rc = step(m_deleteBlock.get());
            c.blocks.pop_front();
        }
        m_data.resize(0); // keeps the storage
        qint64 first = -1;
        qint64 last = -1;
        for (const size_t i : c.inserts) {
            const Operation &op = batch[i];
            if (op.seq >= c.liveFrom) {
                m_data.append(op.record);
                first = first < 0 ? op.seq : first;
                last = op.seq;
            }
        }
        if (rc == SQLITE_OK && first >= 0) {
            sqlite3_stmt *s = m_insertBlock.get();
            sqlite3_bind_int64(s, 1, first);
            sqlite3_bind_blob(s, 2, key.constData(), int(key.size()), SQLITE_STATIC);
            sqlite3_bind_blob(s, 3, m_data.constData(), int(m_data.size()), SQLITE_STATIC);
            rc = step(s);
            c.blocks.push_back({first, last});
        }
        const qint64 cut = !c.blocks.empty() && c.blocks.front().first < c.liveFrom ? c.liveFrom : 0;
        if (rc == SQLITE_OK && cut != c.storedCut) {
            sqlite3_stmt *s = cut ? m_storeCut.get() : m_deleteCut.get();
            sqlite3_bind_blob(s, 1, key.constData(), int(key.size()), SQLITE_STATIC);
            if (cut) {
                sqlite3_bind_int64(s, 2, cut);
            }
            rc = step(s);
            c.storedCut = cut;
        }
        if (rc != SQLITE_OK) {
            return rc; // the transaction is rolled back and journaling ends: the map no longer matters
        }
    }
    // Channels the file no longer holds are forgotten.
    for (Channels::value_type *touched : m_touched) {
        if (touched->second.blocks.empty() && touched->second.storedCut == 0) {
            m_channels.erase(m_channels.find(touched->first));
        }
    }
    return SQLITE_OK;
}

// With m_mutex held: the first write error ends journaling for this run, logged once.
void ReplayJournal::Writer::fail(int rc, const char *what)
{
    ++m_stats.errors;
    if (m_failed) {
        return;
    }
    m_failed = true;
    m_stats.dropped += quint64(m_queue.count);
    m_queue.clear();
    qCWarning(lcEngine).noquote()
        << u"replay journal: cannot %1 %2: %3 (%4); replay is kept in memory only until the next start"_s.arg(
               QString::fromLatin1(what), m_options.path, QString::fromUtf8(sqlite3_errstr(rc)), errorText(m_db));
}

ReplayStore::Stats ReplayJournal::Writer::stats() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    Stats s = m_stats;
    s.queued = m_queue.count + m_writing + m_pending.count;
    if (s.queued > 0) {
        const SteadyClock::time_point oldest = m_writing > 0      ? m_writingSince
                                               : !m_queue.empty() ? m_queue.firstAt
                                                                  : m_pending.firstAt;
        s.lagSeconds = std::chrono::duration<double>(SteadyClock::now() - oldest).count();
    }
    return s;
}

void ReplayJournal::Writer::close()
{
    handOver();
    m_shut = true;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (m_closed) {
            return;
        }
        m_closed = true;
        m_stopping = true;
    }
    m_wake.notify_one();
    if (!m_thread.joinable()) {
        sqlite3_close_v2(m_db); // open() failed
        m_db = nullptr;
        return;
    }
    m_thread.join();
    if (!m_failed && !m_lost) {
        Statement clean;
        int rc = clean.prepare(m_db, "UPDATE runs SET clean = 1 WHERE prefix = ?1");
        if (rc == SQLITE_OK) {
            sqlite3_bind_blob(clean.get(), 1, m_run.constData(), int(m_run.size()), SQLITE_STATIC);
            rc = sqlite3_step(clean.get()) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(m_db);
        }
        if (rc != SQLITE_OK) {
            qCWarning(lcEngine).noquote()
                << u"replay journal: cannot mark the run clean in %1: %2"_s.arg(m_options.path, errorText(m_db));
        }
    }
    m_insertBlock.finalize();
    m_deleteBlock.finalize();
    m_storeCut.finalize();
    m_deleteCut.finalize();
    sqlite3_close_v2(m_db);
    m_db = nullptr;
}

ReplayJournal::ReplayJournal(std::unique_ptr<Writer> writer)
    : m_writer(std::move(writer))
{
}

ReplayJournal::~ReplayJournal()
{
    close();
}

std::unique_ptr<ReplayJournal>
ReplayJournal::open(const Options &options, const QByteArray &runPrefix, Contents *contents)
{
    QDir().mkpath(QFileInfo(options.path).absolutePath());
    for (int attempt = 0;; ++attempt) {
        *contents = {};
        sqlite3 *db = nullptr;
        int rc = sqlite3_open_v2(QFile::encodeName(options.path).constData(),
                                 &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
        auto writer = std::make_unique<Writer>(db, options, runPrefix);
        if (rc == SQLITE_OK) {
            rc = writer->open(contents);
        }
        if (rc == SQLITE_OK) {
            writer->start();
            return std::unique_ptr<ReplayJournal>(new ReplayJournal(std::move(writer)));
        }
        const QString reason = db ? errorText(db) : QString::fromUtf8(sqlite3_errstr(rc));
        writer.reset(); // closes the file
        if (isCorruption(rc) && attempt == 0) {
            const QString aside = moveAside(options.path);
            qCWarning(lcEngine).noquote()
                << u"replay journal %1 is damaged (%2): moved it aside to %3 and starting with an empty replay"_s.arg(
                       options.path, reason, aside);
            continue;
        }
        if (rc == SQLITE_FORMAT) {
            qCWarning(lcEngine).noquote()
                << u"replay journal %1 was written by a newer version: left alone; replay is kept in memory only"_s.arg(
                       options.path);
        } else {
            qCWarning(lcEngine).noquote()
                << u"cannot use the replay journal %1: %2; replay is kept in memory only"_s.arg(options.path, reason);
        }
        *contents = {};
        return nullptr;
    }
}

QString ReplayJournal::read(const QString &path, Contents *contents)
{
    *contents = {};
    sqlite3 *db = nullptr;
    int rc = sqlite3_open_v2(QFile::encodeName(path).constData(), &db, SQLITE_OPEN_READWRITE, nullptr);
    qint64 version = 0;
    if (rc == SQLITE_OK) {
        rc = schemaVersion(db, &version);
    }
    if (rc == SQLITE_OK) {
        rc = readRuns(db, &contents->runs);
    }
    if (rc == SQLITE_OK) {
        rc = version == 1 ? readV1Records(db, &contents->records)
                          : readBlocks(db, &contents->records, [](const QByteArray &, qint64, qint64, qint64) {});
    }
    sqlite3_close_v2(db);
    return rc == SQLITE_OK ? QString() : QString::fromUtf8(sqlite3_errstr(rc));
}

void ReplayJournal::stored(qint64 seq, const QByteArray &key, const Message &message, qint64 unixMs, bool gapBefore)
{
    queued(m_writer->add(key, seq, &message, unixMs, gapBefore));
}

void ReplayJournal::removed(const QByteArray &key, qint64 seq)
{
    queued(m_writer->add(key, seq));
}

// When the writer gets the operations: when the owner thread's event loop has a pass in which none were
// added (a posted call sees that nothing came since it was posted), so that a burst of requests becomes
// one hand-over and one transaction; at once when many wait or the oldest has waited HAND_OVER_AGE. The
// writer's cost is per transaction and channel (README "Durable replay"): handing over every pass made
// transactions of a couple of hundred operations under load, each a commit of its own. No timer is
// involved, and an idle loop hands over in the pass after the last operation.
void ReplayJournal::queued(bool handOverNow)
{
    m_added = true;
    if (handOverNow) {
        m_writer->handOver();
        return;
    }
    postHandOver();
}

void ReplayJournal::postHandOver()
{
    if (m_handOverPosted) {
        return;
    }
    m_handOverPosted = true;
    QMetaObject::invokeMethod(
        &m_context,
        [this]() {
            m_handOverPosted = false;
            if (std::exchange(m_added, false) && m_writer->pendingYoung()) {
                postHandOver(); // more came in this pass: wait for a pass without
            } else {
                m_writer->handOver();
            }
        },
        Qt::QueuedConnection);
}

ReplayStore::Stats ReplayJournal::stats() const
{
    return m_writer->stats();
}

void ReplayJournal::close()
{
    m_writer->close();
}

} // namespace Patchwork
