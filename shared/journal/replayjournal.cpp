// SPDX-License-Identifier: MIT
#include "journal/replayjournal.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSet>
#include <QtEndian>

#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>

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
// The writer is woken at once when this many operations wait, without waiting for the event loop to idle.
constexpr qsizetype WAKE_AT_LENGTH = 1024;

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
// for the value.
QByteArray encodeHeaders(const HeaderList &headers)
{
    QByteArray out;
    qsizetype size = 0;
    for (const auto &h : headers) {
        size += 8 + h.first.size() + h.second.size();
    }
    out.reserve(size);
    const auto put = [&out](const QByteArray &bytes) {
        const quint32 length = qToLittleEndian(quint32(bytes.size()));
        out.append(reinterpret_cast<const char *>(&length), sizeof(length));
        out.append(bytes);
    };
    for (const auto &h : headers) {
        put(h.first);
        put(h.second);
    }
    return out;
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
    // Stops the thread once everything queued is written, marks the run clean if nothing was lost,
    // and closes the file.
    // Queues an operation; the queue's length after it (0: ignored, the journal is closed or failed).
    qsizetype enqueue(Record &&record, qint64 seq, bool insert);
    void wake()
    {
        m_wake.notify_one();
    }
    Stats stats() const;
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

    void run();
    int write(const std::deque<Operation> &batch);
    void fail(int rc, const char *what);
    void drop();

    sqlite3 *m_db;
    Options m_options;
    QByteArray m_run;
    Statement m_insert;
    Statement m_delete;
    std::thread m_thread;
    int m_commits = 0;

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Operation> m_queue;
    qint64 m_queuedBytes = 0;
    // The batch being written: its size and the queueing time of its oldest operation.
    qint64 m_writing = 0;
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

qsizetype ReplayJournal::Writer::enqueue(Record &&record, qint64 seq, bool insert)
{
    Operation op;
    op.record = std::move(record);
    op.seq = seq;
    op.insert = insert;
    op.queuedAt = SteadyClock::now();
    op.size = op.bytes();
    const qint64 bytes = op.size;
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_closed || m_failed) {
        return 0;
    }
    if (!m_queue.empty()
        && (qint64(m_queue.size()) >= m_options.maxQueued || m_queuedBytes + bytes > m_options.maxQueuedBytes)) {
        drop();
    }
    if (insert && !m_holes.isEmpty() && m_holes.remove(op.record.key)) {
        op.record.gapBefore = true;
    }
    m_queue.push_back(std::move(op));
    m_queuedBytes += bytes;
    return qsizetype(m_queue.size());
}

// With m_mutex held: the writer fell too far behind. What is queued goes; the messages stay in memory.
void ReplayJournal::Writer::drop()
{
    if (!m_lost) {
        qCWarning(lcEngine).nospace() << "replay journal: the writer is " << m_queue.size()
                                      << " operations behind; dropping them (this run's replay stays in memory, "
                                         "and after a restart resuming clients are told of a gap)";
    }
    m_lost = true;
    for (const Operation &op : m_queue) {
        if (op.insert) {
            m_holes.insert(op.record.key);
        }
    }
    m_stats.dropped += m_queue.size();
    m_queue.clear();
    m_queuedBytes = 0;
}

void ReplayJournal::Writer::run()
{
    std::deque<Operation> batch;
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [this]() { return !m_queue.empty() || m_stopping; });
        if (m_queue.empty()) {
            return; // stopping, and everything is written
        }
        batch.clear();
        qint64 bytes = 0;
        if (m_queue.size() <= BATCH_OPERATIONS && m_queuedBytes <= BATCH_BYTES) {
            bytes = m_queuedBytes;
            batch.swap(m_queue); // all of it, without holding the lock long
        } else {
            while (!m_queue.empty() && batch.size() < BATCH_OPERATIONS && bytes < BATCH_BYTES) {
                bytes += m_queue.front().size;
                batch.push_back(std::move(m_queue.front()));
                m_queue.pop_front();
            }
        }
        m_queuedBytes -= bytes;
        m_writing = qint64(batch.size());
        m_writingSince = batch.front().queuedAt;
        lock.unlock();

        const int rc = write(batch);
        const SteadyClock::time_point now = SteadyClock::now();
        Stats delays;
        for (const Operation &op : batch) {
            const double seconds = std::chrono::duration<double>(now - op.queuedAt).count();
            if (const size_t bucket = Metrics::durationBucket(seconds); bucket < delays.delayBuckets.size()) {
                ++delays.delayBuckets[bucket];
            }
            delays.delaySum += seconds;
        }
        const quint64 written = batch.size();
        batch.clear(); // the bodies go now, not with the next batch

        lock.lock();
        m_writing = 0;
        if (rc != SQLITE_OK) {
            fail(rc, "write");
            continue;
        }
        for (size_t i = 0; i < delays.delayBuckets.size(); ++i) {
            m_stats.delayBuckets[i] += delays.delayBuckets[i];
        }
        m_stats.delayCount += written;
        m_stats.delaySum += delays.delaySum;
    }
}

int ReplayJournal::Writer::write(const std::deque<Operation> &batch)
{
    // A message kept and let go within one batch (evicted at once, or soon after) is never written.
    std::unordered_set<qint64> inserted;
    for (const Operation &op : batch) {
        if (op.insert) {
            inserted.insert(op.seq);
        }
    }
    std::unordered_set<qint64> skipped;
    for (const Operation &op : batch) {
        if (!op.insert && inserted.count(op.seq)) {
            skipped.insert(op.seq);
        }
    }
    if (skipped.size() * 2 == batch.size()) {
        return SQLITE_OK; // nothing left to write
    }
    int rc = exec(m_db, "BEGIN");
    for (const Operation &op : batch) {
        if (rc != SQLITE_OK) {
            break;
        }
        if (skipped.count(op.seq)) {
            continue;
        }
        sqlite3_stmt *s = op.insert ? m_insert.get() : m_delete.get();
        sqlite3_bind_int64(s, 1, op.seq);
        if (op.insert) {
            const Record &r = op.record;
            const QByteArray headers = encodeHeaders(r.message.headers);
            sqlite3_bind_blob(s, 2, r.key.constData(), int(r.key.size()), SQLITE_STATIC);
            sqlite3_bind_blob(s, 3, r.message.id.constData(), int(r.message.id.size()), SQLITE_STATIC);
            sqlite3_bind_int64(s, 4, r.message.time);
            sqlite3_bind_int64(s, 5, r.unixMs);
            sqlite3_bind_int(s, 6, r.gapBefore ? 1 : 0);
            sqlite3_bind_blob(s, 7, headers.constData(), int(headers.size()), SQLITE_TRANSIENT);
            // A zero-length blob, never NULL, for an empty body.
            sqlite3_bind_blob(s,
                              8,
                              r.message.body.constData() ? r.message.body.constData() : "",
                              int(r.message.body.size()),
                              SQLITE_STATIC);
        }
        rc = sqlite3_step(s);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
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
    s.queued = qint64(m_queue.size()) + m_writing;
    if (s.queued > 0) {
        const SteadyClock::time_point oldest = m_writing > 0 ? m_writingSince : m_queue.front().queuedAt;
        s.lagSeconds = std::chrono::duration<double>(SteadyClock::now() - oldest).count();
    }
    return s;
}

void ReplayJournal::Writer::close()
{
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

void ReplayJournal::stored(const Record &record)
{
    Record copy = record;
    queued(m_writer->enqueue(std::move(copy), record.seq, true));
}

void ReplayJournal::removed(qint64 seq)
{
    queued(m_writer->enqueue({}, seq, false));
}

// When the writer is woken: once per pass of the queueing thread's event loop in which anything was
// queued (a posted call, run after the events of that pass), so that it wakes once for everything a burst
// of requests queued; at once when the queue is long. Waking it for each operation cost more in context
// switches than the writing itself (measured: the journal took 30 % off the publish rate that way, README
// "Durable replay"). No timer is involved.
void ReplayJournal::queued(qsizetype length)
{
    if (length == 0) {
        return;
    }
    if (length % WAKE_AT_LENGTH == 0) {
        m_writer->wake();
        return;
    }
    if (m_wakePosted) {
        return;
    }
    m_wakePosted = true;
    QMetaObject::invokeMethod(
        &m_context,
        [this]() {
            m_wakePosted = false;
            m_writer->wake();
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
