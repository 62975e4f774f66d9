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
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "util/logging.h"

using namespace Qt::StringLiterals;

namespace Patchwork
{

namespace
{

constexpr int SCHEMA_VERSION = 1;
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
// Operations are handed to the writer at once when this many wait (or BATCH_BYTES), without waiting for
// the end of the event loop's pass.
constexpr size_t HAND_OVER_OPERATIONS = 1024;

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

// Headers as a blob: per header a 32-bit little-endian length and the bytes of the name, then the same
// for the value. Into `out`, whose storage is reused.
void encodeHeaders(const HeaderList &headers, QByteArray *out)
{
    out->resize(0); // keeps the storage
    const auto put = [out](const QByteArray &bytes) {
        const quint32 length = qToLittleEndian(quint32(bytes.size()));
        out->append(reinterpret_cast<const char *>(&length), sizeof(length));
        out->append(bytes);
    };
    for (const auto &h : headers) {
        put(h.first);
        put(h.second);
    }
}

bool decodeHeaders(QByteArrayView blob, HeaderList *headers)
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

} // namespace

// The file and the thread that writes it.
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
    // On the owner's thread, without a lock: adds an operation to those not handed over yet (ignored
    // after close()). True when so many wait that they should be handed over now.
    bool add(Record &&record, qint64 seq, bool insert);
    // On the owner's thread: hands what add() collected to the writer, under the mutex once, and wakes it.
    void handOver();
    Stats stats() const;
    // Hands over what is left, stops the thread once everything queued is written, marks the run clean if
    // nothing was lost, and closes the file.
    void close();

private:
    struct Operation
    {
        Record record; // inserts
        qint64 seq = 0;
        bool insert = false;
        qint64 size = 0; // bytes(), fixed when queued
        SteadyClock::time_point queuedAt;
        qint64 bytes() const
        {
            qint64 n = 64 + record.key.size() + record.message.body.size() + record.message.id.size();
            for (const auto &h : record.message.headers) {
                n += h.first.size() + h.second.size();
            }
            return n;
        }
    };

    using Operations = std::vector<Operation>;

    void run();
    // One transaction: the operations [begin, end) of batch.
    int write(const Operations &batch, size_t begin, size_t end);
    void fail(int rc, const char *what);
    void drop(Operations *operations, qint64 &bytes);

    sqlite3 *m_db;
    Options m_options;
    QByteArray m_run;
    Statement m_insert;
    Statement m_delete;
    // The writer's, reused by every transaction: the encoded headers of the insert being bound, which
    // operations are skipped, and the inserts by seq (seq, index).
    QByteArray m_headers;
    std::vector<bool> m_skipped;
    std::vector<std::pair<qint64, size_t>> m_inserts;
    std::thread m_thread;
    int m_commits = 0;

    // The owner's thread only: operations not handed over yet. The vectors of m_pending, m_queue and the
    // writer's batch change hands by swapping, so their storage is reused rather than reallocated.
    Operations m_pending;
    qint64 m_pendingBytes = 0;
    bool m_shut = false; // close() was called

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    Operations m_queue;
    qint64 m_queuedBytes = 0;
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
        rc = queryInt(m_db, "PRAGMA user_version", &version);
    }
    if (rc != SQLITE_OK) {
        return rc;
    }
    if (version > SCHEMA_VERSION) {
        return SQLITE_FORMAT; // written by a newer Patchwork: left alone
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
        rc = exec(m_db,
                  "BEGIN;"
                  "CREATE TABLE IF NOT EXISTS runs(seq INTEGER PRIMARY KEY, prefix BLOB NOT NULL UNIQUE,"
                  " clean INTEGER NOT NULL);"
                  "CREATE TABLE IF NOT EXISTS messages(seq INTEGER PRIMARY KEY, channel BLOB NOT NULL,"
                  " id BLOB NOT NULL, time INTEGER NOT NULL, unix_ms INTEGER NOT NULL,"
                  " gap_before INTEGER NOT NULL, headers BLOB NOT NULL, body BLOB NOT NULL);"
                  "PRAGMA user_version=1;"
                  "COMMIT;");
    }
    if (rc != SQLITE_OK) {
        return rc;
    }

    Statement runs;
    rc = runs.prepare(m_db, "SELECT prefix, clean FROM runs ORDER BY seq");
    while (rc == SQLITE_OK && (rc = sqlite3_step(runs.get())) == SQLITE_ROW) {
        contents->runs.append({columnBlob(runs.get(), 0), sqlite3_column_int(runs.get(), 1) != 0});
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_OK) {
        return rc;
    }
    Statement messages;
    rc = messages.prepare(
        m_db, "SELECT seq, channel, id, time, unix_ms, gap_before, headers, body FROM messages ORDER BY seq");
    while (rc == SQLITE_OK && (rc = sqlite3_step(messages.get())) == SQLITE_ROW) {
        sqlite3_stmt *s = messages.get();
        Record r;
        r.seq = sqlite3_column_int64(s, 0);
        r.key = columnBlob(s, 1);
        r.message.id = columnBlob(s, 2);
        r.message.time = sqlite3_column_int64(s, 3);
        r.unixMs = sqlite3_column_int64(s, 4);
        r.gapBefore = sqlite3_column_int(s, 5) != 0;
        if (!decodeHeaders(columnBlob(s, 6), &r.message.headers)) {
            return SQLITE_CORRUPT;
        }
        r.message.body = columnBlob(s, 7);
        contents->records.append(std::move(r));
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_OK) {
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
    if (rc == SQLITE_OK) {
        rc = m_insert.prepare(
            m_db,
            "INSERT OR REPLACE INTO messages(seq, channel, id, time, unix_ms, gap_before, headers, body)"
            " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    }
    if (rc == SQLITE_OK) {
        rc = m_delete.prepare(m_db, "DELETE FROM messages WHERE seq = ?1");
    }
    return rc;
}

bool ReplayJournal::Writer::add(Record &&record, qint64 seq, bool insert)
{
    if (m_shut) {
        return false;
    }
    Operation &op = m_pending.emplace_back();
    op.record = std::move(record);
    op.seq = seq;
    op.insert = insert;
    op.queuedAt = SteadyClock::now();
    op.size = op.bytes();
    m_pendingBytes += op.size;
    return m_pending.size() >= HAND_OVER_OPERATIONS || m_pendingBytes >= BATCH_BYTES;
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
            m_pendingBytes = 0;
            return;
        }
        // The bound counts everything not committed yet. Past it, what waits goes first; what is handed
        // over now as well if that is not enough.
        const auto over = [this](qint64 count, qint64 bytes) {
            return m_writing + count > m_options.maxQueued || m_writingBytes + bytes > m_options.maxQueuedBytes;
        };
        const qint64 pending = qint64(m_pending.size());
        if (!m_queue.empty() && over(qint64(m_queue.size()) + pending, m_queuedBytes + m_pendingBytes)) {
            drop(&m_queue, m_queuedBytes);
        }
        if (over(pending, m_pendingBytes)) {
            drop(&m_pending, m_pendingBytes);
        } else {
            if (!m_holes.isEmpty()) {
                for (Operation &op : m_pending) {
                    if (op.insert && m_holes.remove(op.record.key)) {
                        op.record.gapBefore = true;
                    }
                }
            }
            if (m_queue.empty()) {
                m_queue.swap(m_pending);
            } else {
                std::move(m_pending.begin(), m_pending.end(), std::back_inserter(m_queue));
            }
            m_queuedBytes += m_pendingBytes;
        }
        m_pending.clear();
        m_pendingBytes = 0;
    }
    m_wake.notify_one();
}

// With m_mutex held: the writer fell too far behind. `operations` (the queue, or what is handed over) go;
// the messages stay in memory.
void ReplayJournal::Writer::drop(Operations *operations, qint64 &bytes)
{
    if (!m_lost) {
        qCWarning(lcEngine).nospace() << "replay journal: the writer is "
                                      << m_writing + qint64(m_queue.size() + m_pending.size())
                                      << " operations behind; dropping them (this run's replay stays in memory, "
                                         "and after a restart resuming clients are told of a gap)";
    }
    m_lost = true;
    for (const Operation &op : *operations) {
        if (op.insert) {
            m_holes.insert(op.record.key);
        }
    }
    m_stats.dropped += operations->size();
    operations->clear();
    bytes = 0;
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
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [this]() { return !m_queue.empty() || m_stopping; });
        if (m_queue.empty()) {
            return; // stopping, and everything is written
        }
        batch.swap(m_queue); // all of it, without holding the lock long; m_queue gets the empty storage
        m_writing = qint64(batch.size());
        m_writingBytes = m_queuedBytes;
        m_writingSince = batch.front().queuedAt;
        m_queuedBytes = 0;
        lock.unlock();

        // One transaction for up to BATCH_OPERATIONS operations or BATCH_BYTES (group commit).
        int rc = SQLITE_OK;
        for (size_t begin = 0; begin < batch.size() && rc == SQLITE_OK;) {
            size_t end = begin;
            qint64 bytes = 0;
            while (end < batch.size() && end - begin < BATCH_OPERATIONS && bytes < BATCH_BYTES) {
                bytes += batch[end++].size;
            }
            rc = write(batch, begin, end);
            const SteadyClock::time_point now = SteadyClock::now();
            Stats delays;
            for (size_t i = begin; i < end; ++i) {
                const double seconds = std::chrono::duration<double>(now - batch[i].queuedAt).count();
                if (const size_t bucket = Metrics::durationBucket(seconds); bucket < delays.delayBuckets.size()) {
                    ++delays.delayBuckets[bucket];
                }
                delays.delaySum += seconds;
            }
            lock.lock();
            m_writing -= qint64(end - begin);
            m_writingBytes -= bytes;
            if (end < batch.size()) {
                m_writingSince = batch[end].queuedAt;
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
        batch.clear(); // the bodies go now, not with the next batch

        lock.lock();
        m_writing = 0;
        m_writingBytes = 0;
        if (rc != SQLITE_OK) {
            fail(rc, "write");
        }
    }
}

int ReplayJournal::Writer::write(const Operations &batch, size_t begin, size_t end)
{
    // A message kept and let go within one transaction (evicted at once, or soon after) is never written.
    // Only within one: were the pair split across two, a crash between them could leave a hole among the
    // channel's stored messages. Inserts come in seq order (ReplayBuffer numbers what it keeps), so a
    // delete finds its insert by binary search; were they ever out of order, a pair would only go unnoticed.
    m_skipped.assign(end - begin, false);
    m_inserts.clear();
    size_t left = end - begin;
    for (size_t i = begin; i < end; ++i) {
        const qint64 seq = batch[i].seq;
        if (batch[i].insert) {
            m_inserts.emplace_back(seq, i - begin);
            continue;
        }
        const auto it = std::lower_bound(
            m_inserts.begin(), m_inserts.end(), seq, [](const auto &entry, qint64 s) { return entry.first < s; });
        if (it != m_inserts.end() && it->first == seq) {
            m_skipped[it->second] = true;
            m_skipped[i - begin] = true;
            left -= 2;
        }
    }
    if (left == 0) {
        return SQLITE_OK; // nothing left to write
    }
    int rc = exec(m_db, "BEGIN");
    for (size_t i = begin; i < end && rc == SQLITE_OK; ++i) {
        if (m_skipped[i - begin]) {
            continue;
        }
        const Operation &op = batch[i];
        sqlite3_stmt *s = op.insert ? m_insert.get() : m_delete.get();
        sqlite3_bind_int64(s, 1, op.seq);
        if (op.insert) {
            const Record &r = op.record;
            encodeHeaders(r.message.headers, &m_headers);
            sqlite3_bind_blob(s, 2, r.key.constData(), int(r.key.size()), SQLITE_STATIC);
            sqlite3_bind_blob(s, 3, r.message.id.constData(), int(r.message.id.size()), SQLITE_STATIC);
            sqlite3_bind_int64(s, 4, r.message.time);
            sqlite3_bind_int64(s, 5, r.unixMs);
            sqlite3_bind_int(s, 6, r.gapBefore ? 1 : 0);
            sqlite3_bind_blob(s, 7, m_headers.constData(), int(m_headers.size()), SQLITE_STATIC);
            // A zero-length blob, never NULL, for an empty body.
            sqlite3_bind_blob(s,
                              8,
                              r.message.body.constData() ? r.message.body.constData() : "",
                              int(r.message.body.size()),
                              SQLITE_STATIC);
        }
        rc = sqlite3_step(s);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        sqlite3_reset(s); // every parameter is bound anew for the next operation
    }
    if (rc == SQLITE_OK) {
        rc = exec(m_db, "COMMIT");
    }
    if (rc != SQLITE_OK) {
        exec(m_db, "ROLLBACK");
        return rc;
    }
    if (++m_commits % VACUUM_EVERY == 0) {
        qint64 freePages = 0;
        if (queryInt(m_db, "PRAGMA freelist_count", &freePages) == SQLITE_OK && freePages > VACUUM_FREE_PAGES) {
            exec(m_db, "PRAGMA incremental_vacuum");
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
    m_stats.dropped += m_queue.size();
    m_queue.clear();
    m_queuedBytes = 0;
    qCWarning(lcEngine).noquote()
        << u"replay journal: cannot %1 %2: %3 (%4); replay is kept in memory only until the next start"_s.arg(
               QString::fromLatin1(what), m_options.path, QString::fromUtf8(sqlite3_errstr(rc)), errorText(m_db));
}

ReplayStore::Stats ReplayJournal::Writer::stats() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    Stats s = m_stats;
    s.queued = qint64(m_queue.size()) + m_writing + qint64(m_pending.size());
    if (s.queued > 0) {
        const SteadyClock::time_point oldest = m_writing > 0      ? m_writingSince
                                               : !m_queue.empty() ? m_queue.front().queuedAt
                                                                  : m_pending.front().queuedAt;
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
    m_insert.finalize();
    m_delete.finalize();
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

void ReplayJournal::stored(Record record)
{
    const qint64 seq = record.seq;
    queued(m_writer->add(std::move(record), seq, true));
}

void ReplayJournal::removed(qint64 seq)
{
    queued(m_writer->add({}, seq, false));
}

// When the writer gets the operations: once per pass of the owner thread's event loop in which anything
// was added (a posted call, run after the events of that pass), so that the mutex is taken and the writer
// woken once for everything a burst of requests queued; at once when many wait. Taking the mutex for each
// operation and waking the writer when the queue was empty cost more in context switches than the writing
// itself (measured, README "Durable replay"). No timer is involved.
void ReplayJournal::queued(bool handOverNow)
{
    if (handOverNow) {
        m_writer->handOver();
        return;
    }
    if (m_handOverPosted) {
        return;
    }
    m_handOverPosted = true;
    QMetaObject::invokeMethod(
        &m_context,
        [this]() {
            m_handOverPosted = false;
            m_writer->handOver();
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
