// SPDX-License-Identifier: MIT
#pragma once

#include <QDateTime>
#include <QList>
#include <QObject>
#include <QSqlDatabase>
#include <QString>

namespace Patchwork::Gui
{

// One received message as the history keeps it.
struct HistoryEntry
{
    qint64 id = 0; // row id; 0 until stored
    QDateTime time;
    QString subscription;
    QString title;
    QString body;
    QString patchId; // the server's Patch-Id (SSE id); empty when the server gave none
    QString clickUrl;
    int priority = 3;
    bool read = false;
};

// The notification history: an SQLite database (QtSql QSQLITE), bounded by count and age, deduplicated by
// (subscription, Patch-Id). Every received message is added, also muted ones and those over the storm limit.
class HistoryStore final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HistoryStore)
    Q_PROPERTY(int unreadCount READ unreadCount NOTIFY unreadCountChanged)

public:
    static constexpr int DefaultMaxCount = 1000;
    static constexpr int DefaultMaxAgeDays = 30;

    explicit HistoryStore(QObject *parent = nullptr);
    ~HistoryStore() override;

    // Opens (creating) the database file at `path`. False with `errorMessage` when it cannot.
    bool open(const QString &path, QString *errorMessage = nullptr);
    bool isOpen() const;

    // Bounds: at most `maxCount` entries (0 = unbounded), none older than `maxAgeDays` (0 = unbounded).
    void setBounds(int maxCount, int maxAgeDays);
    int maxCount() const;
    int maxAgeDays() const;

    // Stores `entry` (its id is ignored); false when (subscription, patchId) is already stored or on error.
    bool add(const HistoryEntry &entry);
    // Entries newest first whose title, body or subscription contain `filter` (case-insensitive).
    QList<HistoryEntry> entries(const QString &filter = {}) const;
    int count() const;
    bool remove(qint64 id);
    void clear();
    void markAllRead();
    int unreadCount() const;
    // Drops what is over the bounds, relative to `now`.
    void prune(const QDateTime &now = QDateTime::currentDateTimeUtc());

Q_SIGNALS:
    void changed();
    void unreadCountChanged(int count);

private:
    bool exec(const QString &sql) const;
    int pruneRows(const QDateTime &now);
    // Re-reads m_count and m_unread from the table.
    void recount();
    void notifyChanged();

    QString m_connectionName;
    QSqlDatabase m_db;
    int m_maxCount = DefaultMaxCount;
    int m_maxAgeDays = DefaultMaxAgeDays;
    int m_count = 0;
    int m_unread = 0;
    int m_insertsSincePrune = 0;
};

} // namespace Patchwork::Gui
