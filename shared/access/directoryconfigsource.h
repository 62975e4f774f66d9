// SPDX-License-Identifier: MIT
#pragma once

#include <QDateTime>
#include <QFileSystemWatcher>
#include <QHash>
#include <QSet>
#include <QTimer>

#include "access/configsource.h"

namespace Patchwork
{

// User configurations from a directory: `<users-dir>/<user>/config.yaml` (PROTOCOL §8 (a)).
//
// Every file is parsed once per change and kept; lookups are answered synchronously from memory.
// A QFileSystemWatcher on the directory, each user directory and each file notices changes at once;
// a cheap poll (directory listing plus one stat per user, every second by default) catches what
// watchers miss (renames by some editors, a users directory created later, exhausted inotify
// watches). A file that fails to parse is logged as `file:line: message` and makes only that user
// Unavailable (fail closed). A missing users directory is fine: everyone is NoConfig.
class DirectoryConfigSource final : public ConfigSource
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DirectoryConfigSource)

public:
    // Reads the directory before returning, so lookups work at once (problems found then are logged;
    // errorOccurred() reports those found later).
    explicit DirectoryConfigSource(const QString &usersDir, QObject *parent = nullptr);
    ~DirectoryConfigSource() override;

    QString usersDir() const;
    // The fallback poll interval (default 1000 ms); 0 disables polling.
    void setPollInterval(int ms);
    // File system watching (default on). Off leaves only the poll, e.g. for network file systems
    // where watchers never see remote changes.
    void setWatching(bool enabled);

    void lookup(const QString &user, QObject *context, LookupCallback done) override;
    void invalidate(const QString &user) override;
    void reload() override;

    // The file of a user (whether it exists or not).
    QString configPath(const QString &user) const;

    // Files larger than this are refused (Unavailable).
    static constexpr qint64 MAX_FILE_SIZE = 1024 * 1024;

private:
    struct Signature
    {
        bool exists = false;
        qint64 size = -1;
        qint64 modifiedMs = 0;
        qint64 changedMs = 0;
        friend bool operator==(const Signature &, const Signature &) = default;
    };
    struct Entry
    {
        Signature signature;
        ConfigLookup result;
        QByteArray digest; // of the content last parsed; empty when it could not be read
        // The file was read so soon after its last change that a further write within the same
        // timestamp tick would leave the signature unchanged: compare the content on the next scans.
        bool racy = false;
    };
    enum class Reload
    {
        IfChanged, // re-read; parse only when the content differs
        Always, // parse again (reload(), invalidate())
    };

    // Lists the users directory; re-reads new, changed, racy and `forced` users; drops vanished ones.
    void scan(bool forceAll);
    Signature signatureOf(const QString &path) const;
    void load(const QString &user, Entry &entry, const Signature &signature, Reload mode);
    void updateWatches();
    void onPathChanged(const QString &path);

    QString m_usersDir;
    QHash<QString, Entry> m_users; // every sub-directory of the users directory
    QSet<QString> m_changed; // users whose file a watcher reported changed
    QSet<QString> m_forced; // users to parse again (invalidate())
    bool m_dirExisted = false;
    bool m_listFailed = false; // the last listing of the users directory failed
    bool m_watching = true;
    QFileSystemWatcher m_watcher;
    QTimer m_pollTimer;
    QTimer m_debounceTimer;
};

} // namespace Patchwork
