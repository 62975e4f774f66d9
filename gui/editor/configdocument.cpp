// SPDX-License-Identifier: MIT
#include "gui/editor/configdocument.h"

#include <algorithm>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QSettings>
#include <QUndoCommand>

#include "notify/notifier.h"

using namespace Qt::StringLiterals;

namespace Patchwork::Gui
{

namespace
{

// The id of undo steps that may merge with the one before: a step with the same merge key (typing into one
// field of the ntfy block, which a form reports keystroke by keystroke; stepping one token's expiry).
constexpr int MERGEABLE_ID = 1;
const QString RECENT_FILES_KEY = QStringLiteral("editor/recentFiles");

bool hasIndex(const std::optional<QStringList> &patterns, int index)
{
    return patterns && index >= 0 && index < patterns->size();
}

DraftState draftFromConfig(const UserConfig &config)
{
    DraftState state;
    const QStringList keys = config.tokenKeys();
    for (const QString &key : keys) {
        const TokenEntry *entry = config.tokenEntry(key);
        DraftToken token;
        token.key = key;
        token.isAdmin = entry->isAdmin;
        token.expiresAt = entry->expiresAt;
        for (AclList list : ALL_ACL_LISTS) {
            if (const auto &patterns = entry->list(list)) {
                token.lists[size_t(list)] = patterns->toStringList();
            }
        }
        state.tokens.append(token);
    }
    state.ntfyType = config.ntfyType();
    state.ntfyConfig = config.ntfyConfig();
    return state;
}

// Whether `a` and `b` hold the same tokens (in the same order) and ntfy block.
bool sameContent(const UserConfig &a, const UserConfig &b)
{
    if (a.tokenKeys() != b.tokenKeys() || a.ntfyType() != b.ntfyType() || a.ntfyConfig() != b.ntfyConfig()) {
        return false;
    }
    const QStringList keys = a.tokenKeys();
    return std::all_of(
        keys.cbegin(), keys.cend(), [&](const QString &key) { return *a.tokenEntry(key) == *b.tokenEntry(key); });
}

} // namespace

// One edit as two snapshots of the edited state.
class ConfigStateCommand final : public QUndoCommand
{
public:
    ConfigStateCommand(ConfigDocument *document,
                       const QString &text,
                       const DraftState &before,
                       const DraftState &after,
                       const QString &mergeKey)
        : QUndoCommand(text)
        , m_document(document)
        , m_before(before)
        , m_after(after)
        , m_mergeKey(mergeKey)
    {
    }

    int id() const override
    {
        return m_mergeKey.isEmpty() ? -1 : MERGEABLE_ID;
    }
    bool mergeWith(const QUndoCommand *other) override
    {
        const auto *next = static_cast<const ConfigStateCommand *>(other);
        if (next->m_mergeKey != m_mergeKey) {
            return false;
        }
        m_after = next->m_after;
        setObsolete(m_before == m_after);
        return true;
    }
    void undo() override
    {
        m_document->applyState(m_before);
    }
    void redo() override
    {
        m_document->applyState(m_after);
    }

private:
    ConfigDocument *m_document;
    DraftState m_before;
    DraftState m_after;
    QString m_mergeKey;
};

ConfigDocument::ConfigDocument(QObject *parent)
    : QObject(parent)
{
    connect(&m_undoStack, &QUndoStack::cleanChanged, this, [this](bool clean) { Q_EMIT modifiedChanged(!clean); });
    connect(&m_watcher, &QFileSystemWatcher::fileChanged, this, &ConfigDocument::onFileChanged);
    connect(&m_watcher, &QFileSystemWatcher::directoryChanged, this, &ConfigDocument::onFileChanged);
    newDocument();
}

ConfigDocument::~ConfigDocument()
{
    // Clearing the stack (here or in its destructor) reports a clean state; nobody may hear that from a
    // document (and often a window) being destroyed.
    m_undoStack.blockSignals(true);
    m_undoStack.clear();
}

void ConfigDocument::newDocument(const QString &path)
{
    setLoaded(std::make_shared<UserConfig>(), path, QByteArray());
}

bool ConfigDocument::open(const QString &path, QString *errorMessage)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (errorMessage) {
            *errorMessage = tr("Cannot read %1: %2").arg(path, file.errorString());
        }
        return false;
    }
    const QByteArray bytes = file.readAll();
    QString error;
    std::shared_ptr<const UserConfig> base = UserConfig::parse(bytes, path, &error);
    if (!base) {
        if (errorMessage) {
            *errorMessage = error;
        }
        return false;
    }
    setLoaded(std::move(base), path, bytes);
    return true;
}

bool ConfigDocument::reload(QString *errorMessage)
{
    return open(m_path, errorMessage);
}

QString ConfigDocument::filePath() const
{
    return m_path;
}

QString ConfigDocument::displayName() const
{
    return m_path.isEmpty() ? tr("Untitled") : QFileInfo(m_path).fileName();
}

QStringList ConfigDocument::tokenKeys() const
{
    QStringList keys;
    for (const DraftToken &token : m_state.tokens) {
        keys.append(token.key);
    }
    return keys;
}

int ConfigDocument::tokenCount() const
{
    return int(m_state.tokens.size());
}

int ConfigDocument::indexOfToken(const QString &key) const
{
    for (int i = 0; i < m_state.tokens.size(); ++i) {
        if (m_state.tokens.at(i).key == key) {
            return i;
        }
    }
    return -1;
}

DraftToken ConfigDocument::token(int row) const
{
    return validRow(row) ? m_state.tokens.at(row) : DraftToken();
}

QString ConfigDocument::ntfyType() const
{
    return m_state.ntfyType;
}

QVariantMap ConfigDocument::ntfyConfig() const
{
    return m_state.ntfyConfig;
}

DraftState ConfigDocument::state() const
{
    return m_state;
}

bool ConfigDocument::addToken(const QString &key, QString *errorMessage)
{
    QString error;
    if (indexOfToken(key) >= 0) {
        error = tr("This token is already in the file.");
    } else {
        // Ask the daemon's code whether the key is acceptable next to the others.
        UserConfig probe;
        for (const DraftToken &token : m_state.tokens) {
            probe.setToken(token.key, TokenEntry());
        }
        probe.setToken(key, TokenEntry(), &error);
    }
    if (!error.isEmpty()) {
        if (errorMessage) {
            *errorMessage = error;
        }
        return false;
    }
    DraftState after = m_state;
    DraftToken token;
    token.key = key;
    after.tokens.append(token);
    return edit(tr("Add token"), after);
}

bool ConfigDocument::removeToken(int row)
{
    if (!validRow(row)) {
        return false;
    }
    DraftState after = m_state;
    after.tokens.removeAt(row);
    return edit(tr("Remove token"), after);
}

bool ConfigDocument::setAdmin(int row, bool admin)
{
    if (!validRow(row)) {
        return false;
    }
    DraftState after = m_state;
    after.tokens[row].isAdmin = admin;
    return edit(admin ? tr("Make admin") : tr("Remove admin"), after);
}

bool ConfigDocument::setExpiresAt(int row, const std::optional<QDateTime> &expiresAt)
{
    if (!validRow(row)) {
        return false;
    }
    DraftState after = m_state;
    after.tokens[row].expiresAt = expiresAt ? std::optional<QDateTime>(expiresAt->toUTC()) : std::nullopt;
    return edit(tr("Change expiry"), after, u"expires_at/"_s + QString::number(row));
}

bool ConfigDocument::setListPresent(int row, AclList list, bool present)
{
    return editList(row,
                    list,
                    present ? tr("Add %1 list").arg(aclListKey(list)) : tr("Remove %1 list").arg(aclListKey(list)),
                    [present](std::optional<QStringList> &patterns) {
                        if (present && !patterns) {
                            patterns = QStringList();
                        } else if (!present) {
                            patterns.reset();
                        }
                        return true;
                    });
}

bool ConfigDocument::insertPattern(int row, AclList list, int index, const QString &text)
{
    return editList(row, list, tr("Add pattern"), [index, &text](std::optional<QStringList> &patterns) {
        if (!patterns) {
            patterns = QStringList();
        }
        patterns->insert(index < 0 || index > patterns->size() ? patterns->size() : index, text);
        return true;
    });
}

bool ConfigDocument::setPattern(int row, AclList list, int index, const QString &text)
{
    return editList(row, list, tr("Edit pattern"), [index, &text](std::optional<QStringList> &patterns) {
        if (!hasIndex(patterns, index)) {
            return false;
        }
        (*patterns)[index] = text;
        return true;
    });
}

bool ConfigDocument::removePattern(int row, AclList list, int index)
{
    return editList(row, list, tr("Remove pattern"), [index](std::optional<QStringList> &patterns) {
        if (!hasIndex(patterns, index)) {
            return false;
        }
        patterns->removeAt(index);
        return true;
    });
}

bool ConfigDocument::movePattern(int row, AclList list, int from, int to)
{
    return editList(row, list, tr("Move pattern"), [from, to](std::optional<QStringList> &patterns) {
        if (!hasIndex(patterns, from) || !hasIndex(patterns, to)) {
            return false;
        }
        patterns->move(from, to);
        return true;
    });
}

bool ConfigDocument::toggleNegation(int row, AclList list, int index)
{
    return editList(row, list, tr("Toggle negation"), [index](std::optional<QStringList> &patterns) {
        if (!hasIndex(patterns, index)) {
            return false;
        }
        QString &text = (*patterns)[index];
        text = text.startsWith(u'!') ? text.mid(1) : QString(u'!' + text);
        return true;
    });
}

bool ConfigDocument::setNtfy(const QString &type, const QVariantMap &config)
{
    DraftState after = m_state;
    after.ntfyType = type;
    after.ntfyConfig = type.isEmpty() ? QVariantMap() : config;
    // What changed names the step: the type, or the config keys whose values differ.
    QStringList changed;
    if (after.ntfyType != m_state.ntfyType) {
        changed.append(u"type"_s);
    }
    QStringList keys = after.ntfyConfig.keys() + m_state.ntfyConfig.keys();
    keys.removeDuplicates();
    for (const QString &key : std::as_const(keys)) {
        if (after.ntfyConfig.value(key) != m_state.ntfyConfig.value(key)) {
            changed.append(u"config/"_s + key);
        }
    }
    return edit(tr("Change notification backend"), after, u"ntfy:"_s + changed.join(u'|'));
}

QList<ConfigProblem> ConfigDocument::problems() const
{
    return m_problems;
}

QString ConfigDocument::patternProblem(int row, AclList list, int index) const
{
    for (const ConfigProblem &p : m_problems) {
        if (p.token == row && p.list == list && p.pattern == index) {
            return p.message;
        }
    }
    return QString();
}

QString ConfigDocument::tokenProblem(int row) const
{
    for (const ConfigProblem &p : m_problems) {
        if (p.token == row && !p.list) {
            return p.message;
        }
    }
    return QString();
}

QString ConfigDocument::ntfyProblem() const
{
    return tokenProblem(-1);
}

bool ConfigDocument::canSave() const
{
    return m_config && m_problems.isEmpty();
}

QString ConfigDocument::saveBlockedReason() const
{
    return m_problems.isEmpty() ? QString() : m_problems.constFirst().message;
}

std::shared_ptr<const UserConfig> ConfigDocument::toUserConfig() const
{
    return m_config;
}

QUndoStack *ConfigDocument::undoStack()
{
    return &m_undoStack;
}

bool ConfigDocument::isModified() const
{
    return !m_undoStack.isClean();
}

bool ConfigDocument::hasComments() const
{
    return m_hasComments;
}

bool ConfigDocument::containsComments(const QByteArray &yaml)
{
    // A `#` at the start of a line or after a blank starts a comment, unless it is inside a quoted
    // scalar (which may span lines). A quote opens a scalar only where a value can start.
    char quote = 0;
    char previous = '\n';
    for (qsizetype i = 0; i < yaml.size(); ++i) {
        const char c = yaml.at(i);
        if (quote == '"') {
            if (c == '\\') {
                ++i; // the escaped character
            } else if (c == '"') {
                quote = 0;
            }
        } else if (quote == '\'') {
            if (c == '\'' && i + 1 < yaml.size() && yaml.at(i + 1) == '\'') {
                ++i; // '' is an escaped quote
            } else if (c == '\'') {
                quote = 0;
            }
        } else if (c == '#' && (previous == '\n' || previous == ' ' || previous == '\t' || previous == '\r')) {
            return true;
        } else if ((c == '"' || c == '\'') && QByteArrayView(" \t\r\n:[{,-?").contains(previous)) {
            quote = c;
        }
        previous = c;
    }
    return false;
}

bool ConfigDocument::save(QString *errorMessage)
{
    if (m_path.isEmpty()) {
        if (errorMessage) {
            *errorMessage = tr("The document has no file name yet.");
        }
        return false;
    }
    return saveAs(m_path, errorMessage);
}

bool ConfigDocument::saveAs(const QString &path, QString *errorMessage)
{
    const auto fail = [errorMessage](const QString &message) {
        if (errorMessage) {
            *errorMessage = message;
        }
        return false;
    };
    if (!canSave()) {
        return fail(saveBlockedReason());
    }
    const QByteArray bytes = m_config->toYaml();
    // The last check: the bytes must load, as the daemon loads them, to what was edited.
    QString parseError;
    std::shared_ptr<const UserConfig> written = UserConfig::parse(bytes, path, &parseError);
    if (!written) {
        return fail(tr("Not saved: the file written would not load: %1").arg(parseError));
    }
    if (!sameContent(*written, *m_config)) {
        return fail(tr("Not saved: the file written would not load to what was edited."));
    }

    const QFileInfo info(path);
    if (!QDir().mkpath(info.absolutePath())) {
        return fail(tr("Cannot create the folder %1.").arg(info.absolutePath()));
    }
    const QFileDevice::Permissions permissions =
        info.exists() ? QFile::permissions(path) : (QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.setPermissions(permissions)
        || !file.commit()) {
        return fail(tr("Cannot write %1: %2").arg(path, file.errorString()));
    }

    const bool renamed = path != m_path;
    m_base = written;
    m_path = path;
    m_diskBytes = bytes;
    m_reportedBytes.clear();
    m_hasComments = false;
    revalidate();
    m_undoStack.setClean();
    watch();
    if (renamed) {
        Q_EMIT filePathChanged(m_path);
    }
    Q_EMIT saved(m_path);
    return true;
}

QStringList ConfigDocument::recentFiles(QSettings &settings)
{
    return settings.value(RECENT_FILES_KEY).toStringList();
}

void ConfigDocument::addRecentFile(QSettings &settings, const QString &path)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QStringList files = recentFiles(settings);
    files.removeAll(absolute);
    files.prepend(absolute);
    settings.setValue(RECENT_FILES_KEY, files.mid(0, MaxRecentFiles));
}

QStringList ConfigDocument::relayUsers(const QString &usersDir)
{
    return QDir(usersDir).entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
}

QString ConfigDocument::relayUserConfigPath(const QString &usersDir, const QString &user)
{
    return QDir(usersDir).filePath(user + QStringLiteral("/config.yaml"));
}

bool ConfigDocument::openRelayUser(const QString &usersDir, const QString &user, QString *errorMessage)
{
    const QString path = relayUserConfigPath(usersDir, user);
    if (QFileInfo::exists(path)) {
        return open(path, errorMessage);
    }
    newDocument(path);
    return true;
}

bool ConfigDocument::editList(int row,
                              AclList list,
                              const QString &text,
                              const std::function<bool(std::optional<QStringList> &patterns)> &change)
{
    if (!validRow(row)) {
        return false;
    }
    DraftState after = m_state;
    return change(after.tokens[row].lists[size_t(list)]) && edit(text, after);
}

bool ConfigDocument::edit(const QString &text, const DraftState &after, const QString &mergeKey)
{
    if (after == m_state) {
        return false;
    }
    m_undoStack.push(new ConfigStateCommand(this, text, m_state, after, mergeKey));
    return true;
}

void ConfigDocument::applyState(const DraftState &state)
{
    m_state = state;
    revalidate();
    Q_EMIT changed();
}

void ConfigDocument::revalidate()
{
    QList<ConfigProblem> problems;
    std::shared_ptr<UserConfig> config = buildConfig(&problems);
    m_problems = problems;
    // The tokens decide every ACL answer: usable while only the ntfy block has a problem.
    const bool tokensValid =
        std::none_of(problems.cbegin(), problems.cend(), [](const ConfigProblem &p) { return p.token >= 0; });
    m_config = tokensValid ? std::move(config) : nullptr;
}

void ConfigDocument::setLoaded(std::shared_ptr<const UserConfig> base, const QString &path, const QByteArray &bytes)
{
    m_undoStack.clear();
    m_base = std::move(base);
    m_state = draftFromConfig(*m_base);
    m_path = path;
    m_diskBytes = bytes;
    m_reportedBytes.clear();
    m_hasComments = containsComments(bytes);
    revalidate();
    watch();
    Q_EMIT filePathChanged(m_path);
    Q_EMIT loaded();
    Q_EMIT changed();
}

std::shared_ptr<UserConfig> ConfigDocument::buildConfig(QList<ConfigProblem> *problems) const
{
    // Only what was edited is set again, so the rest keeps its YAML as it was.
    auto config = std::make_shared<UserConfig>(*m_base);
    const QStringList baseKeys = config->tokenKeys();
    for (const QString &key : baseKeys) {
        if (indexOfToken(key) < 0) {
            config->removeToken(key);
        }
    }
    for (int row = 0; row < m_state.tokens.size(); ++row) {
        const DraftToken &token = m_state.tokens.at(row);
        TokenEntry entry;
        entry.isAdmin = token.isAdmin;
        entry.expiresAt = token.expiresAt;
        for (AclList list : ALL_ACL_LISTS) {
            const std::optional<QStringList> &texts = token.lists[size_t(list)];
            if (!texts) {
                continue;
            }
            PatternList patterns;
            for (int i = 0; i < texts->size(); ++i) {
                QString message;
                if (const auto pattern = UserConfig::parsePattern(list, texts->at(i), &message)) {
                    patterns.append(*pattern);
                } else {
                    problems->append(ConfigProblem{row, list, i, message});
                }
            }
            entry.list(list) = patterns;
        }
        const TokenEntry *old = config->tokenEntry(token.key);
        QString message;
        if ((!old || !(*old == entry)) && !config->setToken(token.key, entry, &message)) {
            problems->append(ConfigProblem{row, std::nullopt, -1, message});
        }
    }
    if (m_state.ntfyType != config->ntfyType() || m_state.ntfyConfig != config->ntfyConfig()) {
        config->setNtfy(m_state.ntfyType, m_state.ntfyConfig);
    }
    if (!config->ntfyType().isEmpty()) {
        if (const auto check = Notifier::checkConfig(config->ntfyType(), config->ntfyConfig())) {
            problems->append(ConfigProblem{-1, std::nullopt, -1, check->localizedMessage});
        }
    }
    return config;
}

bool ConfigDocument::validRow(int row) const
{
    return row >= 0 && row < m_state.tokens.size();
}

void ConfigDocument::watch()
{
    if (!m_watcher.files().isEmpty()) {
        m_watcher.removePaths(m_watcher.files());
    }
    if (!m_watcher.directories().isEmpty()) {
        m_watcher.removePaths(m_watcher.directories());
    }
    if (m_path.isEmpty()) {
        return;
    }
    // The folder too: an atomic replace (ours or another editor's) ends the watch on the old file.
    const QFileInfo info(m_path);
    if (info.dir().exists()) {
        m_watcher.addPath(info.absolutePath());
    }
    if (info.exists()) {
        m_watcher.addPath(m_path);
    }
}

void ConfigDocument::onFileChanged()
{
    if (m_path.isEmpty()) {
        return;
    }
    QFile file(m_path);
    QByteArray bytes;
    if (file.open(QIODevice::ReadOnly)) {
        bytes = file.readAll();
        if (!m_watcher.files().contains(m_path)) {
            m_watcher.addPath(m_path);
        }
    }
    if (bytes == m_diskBytes) {
        m_reportedBytes.clear();
        return;
    }
    if (!m_reportedBytes.isNull() && bytes == m_reportedBytes) {
        return;
    }
    m_reportedBytes = bytes.isNull() ? QByteArray("") : bytes;
    Q_EMIT changedOnDisk();
}

} // namespace Patchwork::Gui
