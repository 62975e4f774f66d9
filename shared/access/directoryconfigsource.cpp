// SPDX-License-Identifier: MIT
#include "access/directoryconfigsource.h"

#include <cerrno>
#include <optional>

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include "util/logging.h"

#ifdef Q_OS_UNIX
#include <dirent.h>
#endif

using namespace Qt::StringLiterals;

namespace Patchwork
{

namespace
{

constexpr int DEFAULT_POLL_MS = 1000;
// Watchers report bursts (write, chmod, rename); one scan per burst.
constexpr int DEBOUNCE_MS = 50;
constexpr QStringView CONFIG_FILE_NAME = u"config.yaml";
// File time stamps can be coarse (a kernel tick; seconds on some file systems): a file read less than
// this long after its last change is compared by content on the following scans.
constexpr qint64 RACY_WINDOW_MS = 3000;

// The names of the (non-hidden) sub-directories of `path`, or nullopt with *error set when it cannot
// be listed, e.g. when the process is out of descriptors. QDir::entryList() cannot tell that from an
// empty directory, and taking a failed listing for an empty one would drop every user.
std::optional<QStringList> listDirectories(const QString &path, QString *error)
{
#ifdef Q_OS_UNIX
    DIR *dir = ::opendir(QFile::encodeName(path).constData());
    if (!dir) {
        *error = qt_error_string(errno);
        return std::nullopt;
    }
    QStringList names;
    errno = 0;
    while (const dirent *entry = ::readdir(dir)) {
        const QString name = QFile::decodeName(entry->d_name);
        if (name.startsWith(u'.')) {
            continue;
        }
        if (entry->d_type == DT_DIR
            || ((entry->d_type == DT_UNKNOWN || entry->d_type == DT_LNK) && QFileInfo(path + u'/' + name).isDir())) {
            names.append(name);
        }
        errno = 0;
    }
    const int readError = errno;
    ::closedir(dir);
    if (readError != 0) {
        *error = qt_error_string(readError);
        return std::nullopt;
    }
    return names;
#else
    Q_UNUSED(error);
    return QDir(path).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
#endif
}

} // namespace

DirectoryConfigSource::DirectoryConfigSource(const QString &usersDir, QObject *parent)
    : ConfigSource(parent)
    , m_usersDir(QDir::cleanPath(QDir(usersDir).absolutePath()))
{
    if (!QFileInfo(m_usersDir).isDir()) {
        qCInfo(lcConfig).noquote() << "users directory" << m_usersDir
                                   << "does not exist (yet): no user has a configuration";
    }
    m_debounceTimer.setSingleShot(true);
    m_debounceTimer.setInterval(DEBOUNCE_MS);
    m_pollTimer.setInterval(DEFAULT_POLL_MS);
    connect(&m_watcher, &QFileSystemWatcher::directoryChanged, this, &DirectoryConfigSource::onPathChanged);
    connect(&m_watcher, &QFileSystemWatcher::fileChanged, this, &DirectoryConfigSource::onPathChanged);
    connect(&m_debounceTimer, &QTimer::timeout, this, [this] { scan(false); });
    connect(&m_pollTimer, &QTimer::timeout, this, [this] { scan(false); });
    scan(false);
    m_pollTimer.start();
}

DirectoryConfigSource::~DirectoryConfigSource() = default;

QString DirectoryConfigSource::usersDir() const
{
    return m_usersDir;
}

void DirectoryConfigSource::setPollInterval(int ms)
{
    if (ms <= 0) {
        m_pollTimer.stop();
        return;
    }
    m_pollTimer.start(ms);
}

void DirectoryConfigSource::setWatching(bool enabled)
{
    m_watching = enabled;
    updateWatches();
}

QString DirectoryConfigSource::configPath(const QString &user) const
{
    return m_usersDir + u'/' + user + u'/' + CONFIG_FILE_NAME;
}

void DirectoryConfigSource::lookup(const QString &user, QObject *context, LookupCallback done)
{
    Q_UNUSED(context) // answered synchronously: the context is alive
    const auto it = m_users.constFind(user);
    done(it == m_users.cend() ? ConfigLookup::noConfig() : it->result);
}

void DirectoryConfigSource::invalidate(const QString &user)
{
    m_forced.insert(user);
    scan(false);
}

void DirectoryConfigSource::reload()
{
    qCInfo(lcConfig).noquote() << "re-reading every user configuration in" << m_usersDir;
    scan(true);
}

void DirectoryConfigSource::onPathChanged(const QString &path)
{
    const QFileInfo info(path);
    if (info.fileName() == CONFIG_FILE_NAME && QDir::cleanPath(info.dir().absolutePath() + u"/.."_s) == m_usersDir) {
        m_changed.insert(info.dir().dirName());
    }
    m_debounceTimer.start();
}

DirectoryConfigSource::Signature DirectoryConfigSource::signatureOf(const QString &path) const
{
    const QFileInfo info(path);
    Signature s;
    s.exists = info.isFile();
    if (s.exists) {
        s.size = info.size();
        s.modifiedMs = info.lastModified().toMSecsSinceEpoch();
        s.changedMs = info.metadataChangeTime().toMSecsSinceEpoch();
    }
    return s;
}

void DirectoryConfigSource::load(const QString &user, Entry &entry, const Signature &signature, Reload mode)
{
    // The signature is taken before reading: a write racing with the read changes it, and the next
    // scan reads again.
    entry.signature = signature;
    entry.racy = false;
    const QString path = configPath(user);
    if (!signature.exists) {
        if (entry.result.state != ConfigLookup::State::NoConfig) {
            qCInfo(lcConfig).noquote() << "no configuration for user" << user << "any more";
        }
        entry.result = ConfigLookup::noConfig();
        entry.digest.clear();
        return;
    }
    const qint64 readAt = QDateTime::currentMSecsSinceEpoch();
    entry.racy = readAt - qMax(signature.modifiedMs, signature.changedMs) < RACY_WINDOW_MS;
    QFile file(path);
    QString error;
    if (!file.open(QIODevice::ReadOnly)) {
        error = path + u": "_s + file.errorString();
        entry.digest.clear();
    } else if (const QByteArray data = file.read(MAX_FILE_SIZE + 1); data.size() > MAX_FILE_SIZE) {
        error = path + u": "_s + tr("the file is larger than %1 bytes").arg(MAX_FILE_SIZE);
        entry.digest.clear();
    } else {
        const QByteArray digest = QCryptographicHash::hash(data, QCryptographicHash::Sha256);
        if (mode == Reload::IfChanged && digest == entry.digest) {
            return; // same content: keep what it parsed to (a broken file is not reported again)
        }
        entry.digest = digest;
        if (auto config = UserConfig::parse(data, path, &error)) {
            qCInfo(lcConfig).noquote() << "loaded" << path << "with" << config->tokenCount() << "token(s)";
            entry.result = ConfigLookup::found(std::move(config));
            return;
        }
    }
    qCWarning(lcConfig).noquote() << error;
    entry.result = ConfigLookup::unavailable(error);
}

void DirectoryConfigSource::scan(bool forceAll)
{
    m_debounceTimer.stop();
    QStringList errors;
    const QDir dir(m_usersDir);
    if (!dir.exists()) {
        if (m_dirExisted) {
            qCWarning(lcConfig).noquote() << "users directory" << m_usersDir << "disappeared";
        }
        m_dirExisted = false;
        m_users.clear();
        m_changed.clear();
        m_forced.clear();
        updateWatches();
        return;
    }
    if (!m_dirExisted) {
        qCInfo(lcConfig).noquote() << "reading user configurations from" << m_usersDir;
        m_dirExisted = true;
    }

    QString listError;
    const std::optional<QStringList> listed = listDirectories(m_usersDir, &listError);
    if (!listed) {
        // Keep what is known (and the pending changes) until a listing works again: the poll retries.
        if (!m_listFailed) {
            qCWarning(lcConfig).noquote() << "cannot list the users directory" << m_usersDir << ":" << listError
                                          << "- keeping the configurations already loaded";
        }
        m_listFailed = true;
        return;
    }
    if (m_listFailed) {
        qCInfo(lcConfig).noquote() << "the users directory" << m_usersDir << "can be listed again";
        m_listFailed = false;
    }
    const QStringList &names = *listed;
    QSet<QString> present;
    present.reserve(names.size());
    for (const QString &name : names) {
        present.insert(name);
        const Signature signature = signatureOf(configPath(name));
        auto it = m_users.find(name);
        const bool isNew = it == m_users.end();
        if (isNew) {
            it = m_users.insert(name, Entry());
        }
        const bool force = forceAll || m_forced.contains(name);
        if (isNew || force || m_changed.contains(name) || it->racy || it->signature != signature) {
            const ConfigLookup before = it->result;
            load(name, *it, signature, force ? Reload::Always : Reload::IfChanged);
            const bool changed = it->result.config != before.config || it->result.error != before.error;
            if (changed && it->result.state == ConfigLookup::State::Unavailable) {
                errors.append(it->result.error);
            }
        }
    }
    for (auto it = m_users.begin(); it != m_users.end();) {
        if (present.contains(it.key())) {
            ++it;
        } else {
            qCInfo(lcConfig).noquote() << "user directory" << it.key() << "removed";
            it = m_users.erase(it);
        }
    }
    m_changed.clear();
    m_forced.clear();
    updateWatches();
    // Signals last: a slot may call back into this object.
    for (const QString &error : std::as_const(errors)) {
        Q_EMIT errorOccurred(error);
    }
}

void DirectoryConfigSource::updateWatches()
{
    QSet<QString> wantDirs;
    QSet<QString> wantFiles;
    if (m_dirExisted && m_watching) {
        wantDirs.insert(m_usersDir);
        for (auto it = m_users.cbegin(); it != m_users.cend(); ++it) {
            wantDirs.insert(m_usersDir + u'/' + it.key());
            if (it->signature.exists) {
                wantFiles.insert(configPath(it.key()));
            }
        }
    }
    QStringList remove;
    QSet<QString> watched;
    for (const QString &path : m_watcher.directories()) {
        watched.insert(path);
        if (!wantDirs.contains(path)) {
            remove.append(path);
        }
    }
    for (const QString &path : m_watcher.files()) {
        watched.insert(path);
        if (!wantFiles.contains(path)) {
            remove.append(path);
        }
    }
    if (!remove.isEmpty()) {
        m_watcher.removePaths(remove);
    }
    QStringList add;
    for (const QString &path : std::as_const(wantDirs)) {
        if (!watched.contains(path)) {
            add.append(path);
        }
    }
    for (const QString &path : std::as_const(wantFiles)) {
        if (!watched.contains(path)) {
            add.append(path);
        }
    }
    if (!add.isEmpty()) {
        // Paths that cannot be watched (inotify limits) are covered by the poll.
        m_watcher.addPaths(add);
    }
}

} // namespace Patchwork
