// SPDX-License-Identifier: MIT
#include "gui/historystore.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>

#include "gui/logging.h"

namespace Patchwork::Gui
{

namespace
{

HistoryEntry entryFromQuery(const QSqlQuery &query)
{
    HistoryEntry e;
    e.id = query.value(0).toLongLong();
    e.time = QDateTime::fromMSecsSinceEpoch(query.value(1).toLongLong(), Qt::UTC);
    e.subscription = query.value(2).toString();
    e.title = query.value(3).toString();
    e.body = query.value(4).toString();
    e.patchId = query.value(5).toString();
    e.clickUrl = query.value(6).toString();
    e.priority = query.value(7).toInt();
    e.read = query.value(8).toBool();
    return e;
}

// Age bounds are enforced every this many messages (count bounds at once).
constexpr int PRUNE_EVERY = 100;

// A null QString binds as SQL NULL, which the NOT NULL columns (and INSERT OR IGNORE) would silently drop.
QString notNull(const QString &text)
{
    return text.isNull() ? QStringLiteral("") : text;
}

} // namespace

HistoryStore::HistoryStore(QObject *parent)
    : QObject(parent)
    , m_connectionName(QStringLiteral("patchwork-history-") + QUuid::createUuid().toString(QUuid::WithoutBraces))
{
}

HistoryStore::~HistoryStore()
{
    if (m_db.isValid()) {
        m_db.close();
        m_db = QSqlDatabase();
        QSqlDatabase::removeDatabase(m_connectionName);
    }
}

bool HistoryStore::open(const QString &path, QString *errorMessage)
{
    m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName);
    m_db.setDatabaseName(path);
    if (!m_db.open()) {
        if (errorMessage) {
            *errorMessage = tr("Cannot open the history database %1: %2").arg(path, m_db.lastError().text());
        }
        return false;
    }
    // WAL with synchronous=NORMAL: no fsync per message (one per checkpoint); a crash of the app loses
    // nothing, a power cut at most the last messages. With a sync per insert a burst stalls the event loop.
    const bool ok = exec(QStringLiteral("PRAGMA journal_mode=WAL")) && exec(QStringLiteral("PRAGMA synchronous=NORMAL"))
                    && exec(QStringLiteral("CREATE TABLE IF NOT EXISTS messages ("
                                           "id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, "
                                           "subscription TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, "
                                           "patch_id TEXT, click_url TEXT NOT NULL, priority INTEGER NOT NULL, "
                                           "read INTEGER NOT NULL DEFAULT 0)"))
                    && exec(QStringLiteral("CREATE UNIQUE INDEX IF NOT EXISTS messages_dedup "
                                           "ON messages(subscription, patch_id)"))
                    && exec(QStringLiteral("CREATE INDEX IF NOT EXISTS messages_time ON messages(time)"));
    if (!ok) {
        if (errorMessage) {
            *errorMessage = tr("Cannot create the history table in %1: %2").arg(path, m_db.lastError().text());
        }
        m_db.close();
        return false;
    }
    prune();
    notifyChanged();
    return true;
}

bool HistoryStore::isOpen() const
{
    return m_db.isOpen();
}

void HistoryStore::setBounds(int maxCount, int maxAgeDays)
{
    m_maxCount = qMax(0, maxCount);
    m_maxAgeDays = qMax(0, maxAgeDays);
    prune();
}

int HistoryStore::maxCount() const
{
    return m_maxCount;
}

int HistoryStore::maxAgeDays() const
{
    return m_maxAgeDays;
}

bool HistoryStore::add(const HistoryEntry &entry)
{
    if (!isOpen()) {
        return false;
    }
    QSqlQuery query(m_db);
    // patch_id NULL when empty: SQLite's unique index treats NULLs as distinct, so id-less messages never clash.
    query.prepare(QStringLiteral("INSERT OR IGNORE INTO messages "
                                 "(time, subscription, title, body, patch_id, click_url, priority, read) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    query.addBindValue(entry.time.toMSecsSinceEpoch());
    query.addBindValue(notNull(entry.subscription));
    query.addBindValue(notNull(entry.title));
    query.addBindValue(notNull(entry.body));
    query.addBindValue(entry.patchId.isEmpty() ? QVariant(QMetaType(QMetaType::QString)) : QVariant(entry.patchId));
    query.addBindValue(notNull(entry.clickUrl));
    query.addBindValue(entry.priority);
    query.addBindValue(entry.read ? 1 : 0);
    if (!query.exec()) {
        qCWarning(lcGui) << "history: insert failed:" << query.lastError().text();
        return false;
    }
    if (query.numRowsAffected() != 1) {
        return false;
    }
    // Counted here rather than queried: a burst of thousands of messages must not scan the table each time.
    const int unreadBefore = m_unread;
    ++m_count;
    m_unread += entry.read ? 0 : 1;
    if ((m_maxCount > 0 && m_count > m_maxCount) || ++m_insertsSincePrune >= PRUNE_EVERY) {
        m_insertsSincePrune = 0;
        if (pruneRows(QDateTime::currentDateTimeUtc()) > 0) {
            recount();
        }
    }
    Q_EMIT changed();
    if (m_unread != unreadBefore) {
        Q_EMIT unreadCountChanged(m_unread);
    }
    return true;
}

QList<HistoryEntry> HistoryStore::entries(const QString &filter) const
{
    QList<HistoryEntry> result;
    if (!isOpen()) {
        return result;
    }
    QSqlQuery query(m_db);
    QString sql =
        QStringLiteral("SELECT id, time, subscription, title, body, patch_id, click_url, priority, read FROM messages");
    if (!filter.isEmpty()) {
        sql += QStringLiteral(" WHERE instr(lower(title), lower(?)) > 0 OR instr(lower(body), lower(?)) > 0 "
                              "OR instr(lower(subscription), lower(?)) > 0");
    }
    sql += QStringLiteral(" ORDER BY time DESC, id DESC");
    query.prepare(sql);
    for (int i = 0; i < (filter.isEmpty() ? 0 : 3); ++i) {
        query.addBindValue(filter);
    }
    if (!query.exec()) {
        qCWarning(lcGui) << "history: query failed:" << query.lastError().text();
        return result;
    }
    while (query.next()) {
        result.append(entryFromQuery(query));
    }
    return result;
}

int HistoryStore::count() const
{
    return m_count;
}

bool HistoryStore::remove(qint64 id)
{
    QSqlQuery query(m_db);
    query.prepare(QStringLiteral("DELETE FROM messages WHERE id = ?"));
    query.addBindValue(id);
    if (!isOpen() || !query.exec() || query.numRowsAffected() != 1) {
        return false;
    }
    notifyChanged();
    return true;
}

void HistoryStore::clear()
{
    if (exec(QStringLiteral("DELETE FROM messages"))) {
        notifyChanged();
    }
}

void HistoryStore::markAllRead()
{
    if (m_unread > 0 && exec(QStringLiteral("UPDATE messages SET read = 1 WHERE read = 0"))) {
        notifyChanged();
    }
}

int HistoryStore::unreadCount() const
{
    return m_unread;
}

void HistoryStore::prune(const QDateTime &now)
{
    if (pruneRows(now) > 0) {
        notifyChanged();
    }
}

int HistoryStore::pruneRows(const QDateTime &now)
{
    int removed = 0;
    if (!isOpen()) {
        return removed;
    }
    if (m_maxAgeDays > 0) {
        QSqlQuery query(m_db);
        query.prepare(QStringLiteral("DELETE FROM messages WHERE time < ?"));
        query.addBindValue(now.addDays(-m_maxAgeDays).toMSecsSinceEpoch());
        if (query.exec()) {
            removed += query.numRowsAffected();
        }
    }
    // The bound query sorts every row; COUNT(*) is a cheap index walk, so run it only when over the bound.
    if (m_maxCount > 0 && count() > m_maxCount) {
        QSqlQuery query(m_db);
        query.prepare(QStringLiteral(
            "DELETE FROM messages WHERE id NOT IN (SELECT id FROM messages ORDER BY time DESC, id DESC LIMIT ?)"));
        query.addBindValue(m_maxCount);
        if (query.exec()) {
            removed += query.numRowsAffected();
        }
    }
    return removed;
}

bool HistoryStore::exec(const QString &sql) const
{
    if (!m_db.isOpen()) {
        return false;
    }
    QSqlQuery query(m_db);
    if (!query.exec(sql)) {
        qCWarning(lcGui) << "history:" << sql << "failed:" << query.lastError().text();
        return false;
    }
    return true;
}

void HistoryStore::recount()
{
    QSqlQuery query(m_db);
    m_count = query.exec(QStringLiteral("SELECT COUNT(*), COALESCE(SUM(read = 0), 0) FROM messages")) && query.next()
                  ? query.value(0).toInt()
                  : 0;
    m_unread = m_count > 0 ? query.value(1).toInt() : 0;
}

void HistoryStore::notifyChanged()
{
    const int unreadBefore = m_unread;
    recount();
    Q_EMIT changed();
    if (m_unread != unreadBefore) {
        Q_EMIT unreadCountChanged(m_unread);
    }
}

} // namespace Patchwork::Gui
