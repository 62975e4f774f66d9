// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>

#include <QByteArray>
#include <QDateTime>
#include <QFileSystemWatcher>
#include <QList>
#include <QObject>
#include <QStringList>
#include <QUndoStack>
#include <QVariantMap>

#include "access/userconfig.h"

class QSettings;

namespace Patchwork::Gui
{

// One token as edited: the raw pattern texts (invalid ones included, so they can be fixed).
struct DraftToken
{
    QString key;
    bool isAdmin = false;
    std::optional<QDateTime> expiresAt; // UTC; std::nullopt = never expires
    // std::nullopt = the list is absent from the file; an engaged empty list = `GET: []`.
    std::array<std::optional<QStringList>, ACL_LIST_COUNT> lists;

    friend bool operator==(const DraftToken &, const DraftToken &) = default;
};

// Everything the editor changes; the undo stack holds snapshots of it.
struct DraftState
{
    QList<DraftToken> tokens;
    QString ntfyType;
    QVariantMap ntfyConfig;

    friend bool operator==(const DraftState &, const DraftState &) = default;
};

// Why something cannot be saved. `token` is a row of tokenKeys() (-1 for the ntfy block); `list` and
// `pattern` name a pattern when set. The message is the daemon's own.
struct ConfigProblem
{
    int token = -1;
    std::optional<AclList> list;
    int pattern = -1;
    QString message;
};

// The token-config editor's model (no widgets): one `config.yaml` opened (or new), its edited state with
// undo/redo, validation as the daemon does it, saving and watching the file.
//
// Parsing and every message come from the daemon's code: UserConfig::parse (opening; an invalid file is
// refused with its `FILE:LINE: message`), UserConfig::parsePattern (each pattern as typed),
// UserConfig::setToken (token keys), Notifier::checkConfig (the ntfy block). Saving writes
// UserConfig::toYaml() of the loaded document with the edits applied, so unknown keys, key order and
// quoted scalars of what was not edited are kept.
class ConfigDocument final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConfigDocument)

public:
    // The most recent files, newest first, in QSettings `editor/recentFiles`.
    static constexpr int MaxRecentFiles = 8;

    explicit ConfigDocument(QObject *parent = nullptr);
    ~ConfigDocument() override;

    // An empty configuration without a file (Save asks for one), or to be written at `path`.
    void newDocument(const QString &path = QString());
    // Reads `path`. A file the daemon would refuse is not opened: false with the parser's `FILE:LINE:
    // message` in *errorMessage, and the document is left as it was.
    bool open(const QString &path, QString *errorMessage = nullptr);
    // Reads the file again, dropping the edits and the undo history.
    bool reload(QString *errorMessage = nullptr);
    // Empty for a new document that was never saved.
    QString filePath() const;
    // The file name, or "Untitled".
    QString displayName() const;

    // Tokens in file order (new ones at the end).
    QStringList tokenKeys() const;
    int tokenCount() const;
    int indexOfToken(const QString &key) const;
    DraftToken token(int row) const;
    QString ntfyType() const;
    QVariantMap ntfyConfig() const;
    DraftState state() const;

    // Edits: each is one undoable step; false (nothing changed) for a bad row or index or no change.
    // addToken refuses a key the daemon would refuse (UserConfig::setToken's message) or one already there.
    bool addToken(const QString &key, QString *errorMessage = nullptr);
    bool removeToken(int row);
    bool setAdmin(int row, bool admin);
    // Consecutive changes of one token's expiry merge into one undo step.
    bool setExpiresAt(int row, const std::optional<QDateTime> &expiresAt);
    // Adds an empty list (present) or removes the list from the entry (absent).
    bool setListPresent(int row, AclList list, bool present);
    // Inserts at `index` (-1 appends); makes the list present.
    bool insertPattern(int row, AclList list, int index, const QString &text);
    bool setPattern(int row, AclList list, int index, const QString &text);
    bool removePattern(int row, AclList list, int index);
    bool movePattern(int row, AclList list, int from, int to);
    // Adds or removes the leading `!`.
    bool toggleNegation(int row, AclList list, int index);
    // An empty type removes the block. Consecutive changes of the same field (the type, or one config
    // key) merge into one undo step.
    bool setNtfy(const QString &type, const QVariantMap &config);

    // Validation of the edited state, in the daemon's words.
    QList<ConfigProblem> problems() const;
    QString patternProblem(int row, AclList list, int index) const;
    QString tokenProblem(int row) const;
    QString ntfyProblem() const;
    bool canSave() const;
    // The first problem, for a status line; empty when saving is possible.
    QString saveBlockedReason() const;
    // The edited state as the daemon would load it (for the ACL tester); null while a token has a problem
    // (a problem of the ntfy block alone changes no ACL answer).
    std::shared_ptr<const UserConfig> toUserConfig() const;

    QUndoStack *undoStack();
    bool isModified() const;

    // The file as read has comments, which saving drops (yaml-cpp does not keep them); false after a save.
    bool hasComments() const;
    // `#` starting a comment outside quoted scalars (conservative: a `#` inside a block scalar counts).
    static bool containsComments(const QByteArray &yaml);

    // Writes atomically (QSaveFile), keeping the file's permissions (0600 for a new file), after checking
    // that the written bytes load back to the edited state. False with the reason when blocked or failed.
    bool save(QString *errorMessage = nullptr);
    bool saveAs(const QString &path, QString *errorMessage = nullptr);

    // Recent files (QSettings `editor/recentFiles`).
    static QStringList recentFiles(QSettings &settings);
    static void addRecentFile(QSettings &settings, const QString &path);
    // The users of a relay's users directory: its sub-directories (with a config.yaml or not), sorted.
    static QStringList relayUsers(const QString &usersDir);
    static QString relayUserConfigPath(const QString &usersDir, const QString &user);
    // Opens `<usersDir>/<user>/config.yaml`, or a new document to be saved there when it does not exist.
    bool openRelayUser(const QString &usersDir, const QString &user, QString *errorMessage = nullptr);

Q_SIGNALS:
    // A file was opened, reloaded or a new document started: everything changed.
    void loaded();
    // The edited state changed (an edit, undo or redo).
    void changed();
    void modifiedChanged(bool modified);
    void filePathChanged(const QString &path);
    // The file was written (the local relay can reload it).
    void saved(const QString &path);
    // The file changed on disk and differs from what was loaded or saved last.
    void changedOnDisk();

private:
    friend class ConfigStateCommand;

    // Pushes a command from the current state to `after` (nothing when equal). Consecutive commands with
    // the same non-empty `mergeKey` merge into one undo step.
    bool edit(const QString &text, const DraftState &after, const QString &mergeKey = QString());
    // An edit of one list: `change` works on a copy and returns false when it changes nothing.
    bool editList(int row,
                  AclList list,
                  const QString &text,
                  const std::function<bool(std::optional<QStringList> &patterns)> &change);
    void applyState(const DraftState &state);
    void revalidate();
    void setLoaded(std::shared_ptr<const UserConfig> base, const QString &path, const QByteArray &bytes);
    // The loaded document with the edited state applied; problems found are added to *problems.
    std::shared_ptr<UserConfig> buildConfig(QList<ConfigProblem> *problems) const;
    bool validRow(int row) const;
    void watch();
    void onFileChanged();

    std::shared_ptr<const UserConfig> m_base; // as loaded or saved
    DraftState m_state;
    QString m_path;
    QByteArray m_diskBytes; // what was read or written last (empty for a new file)
    QByteArray m_reportedBytes; // the last external content reported by changedOnDisk()
    bool m_hasComments = false;
    QList<ConfigProblem> m_problems;
    std::shared_ptr<const UserConfig> m_config; // the valid edited state, or null
    QUndoStack m_undoStack;
    QFileSystemWatcher m_watcher;
};

} // namespace Patchwork::Gui
