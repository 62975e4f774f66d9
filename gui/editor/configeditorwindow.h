// SPDX-License-Identifier: MIT
#pragma once

#include <functional>
#include <optional>

#include <QMainWindow>
#include <QMessageBox>

#include "access/userconfig.h"

class QAction;
class QCheckBox;
class QDateTimeEdit;
class QLabel;
class QListWidget;
class QListWidgetItem;
class QMenu;
class QPushButton;
class QSettings;
class QTabBar;
class QTabWidget;

namespace Patchwork::Gui
{

class AclTesterPanel;
class ConfigDocument;
class NtfyForm;

// The token-config editor: File (New, Open…, Open Recent, Open relay user, Save, Save As…, Close), Edit
// (Undo, Redo), Token (New token… Ctrl+Shift+N, Remove token, ACL tester); the tokens on the left (literal
// keys masked), on the right the chosen token's admin flag, expiry and pattern lists and a page with the
// ntfy block (NtfyForm), the ACL tester (AclTesterPanel, fed the edited config) in a dock, and the first
// problem in the status bar while Save is disabled. The model is a ConfigDocument.
class ConfigEditorWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConfigEditorWindow)

public:
    // Asks the user (a QMessageBox by default; tests answer it themselves).
    using Question = std::function<
        QMessageBox::StandardButton(QMessageBox::Icon icon, const QString &text, QMessageBox::StandardButtons buttons)>;

    // `settings` (not owned, outlives the window) keeps the recent files.
    explicit ConfigEditorWindow(QSettings *settings, QWidget *parent = nullptr);
    ~ConfigEditorWindow() override;

    ConfigDocument *document() const;
    void setQuestionHandler(Question question);
    // The local relay's users directory, for File ▸ Open relay user (empty hides the users).
    void setRelayUsersDir(const QString &usersDir);

    // The File menu's steps without their dialogs; each asks about unsaved changes first where needed.
    void newFile();
    bool openFile(const QString &path);
    bool openRelayUser(const QString &user);
    bool save();
    bool saveAs(const QString &path);
    // Asks whether to save unsaved changes: false when the user cancels.
    bool maybeSave();

    // Selects a token by its row in the document.
    void selectToken(int row);
    int currentToken() const;
    AclList currentList() const;
    void selectList(AclList list);
    // What the status bar says about saving (empty when Save is possible).
    QString problemText() const;

    QAction *saveAction() const;
    QAction *undoAction() const;
    QAction *redoAction() const;
    QAction *newTokenAction() const;
    NtfyForm *ntfyForm() const;
    AclTesterPanel *aclTester() const;

    // How a key is shown in the token list: `sha256:` keys shortened (the full key is the tooltip),
    // literal keys masked to their first characters and marked "literal"; the `public` token as itself.
    static QString tokenLabel(const QString &key);

Q_SIGNALS:
    // A file was written (the local relay may reload it).
    void saved(const QString &path);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildActions();
    void buildForm();
    void onLoaded();
    void refresh();
    void refreshTokenList();
    void refreshTokenForm();
    void refreshPatterns();
    void updateTitle();
    void updateRecentMenu();
    void updateRelayUsersMenu();
    void openWithDialog();
    bool saveWithDialog();
    void newToken();
    void removeCurrentToken();
    void addPattern();
    void removePattern();
    void movePattern(int delta);
    void negatePattern();
    void onPatternEdited(QListWidgetItem *item);
    void commitPendingEdit();
    void onExpiryEdited();
    void onChangedOnDisk();
    void showError(const QString &message);
    QMessageBox::StandardButton ask(QMessageBox::Icon icon, const QString &text, QMessageBox::StandardButtons buttons);

    QSettings *m_settings;
    ConfigDocument *m_document;
    Question m_question;
    QString m_usersDir;
    bool m_updating = false;
    bool m_askingReload = false;
    // Inside the pattern list's own signal: refresh() waits for the event loop.
    bool m_refreshLater = false;
    bool m_refreshQueued = false;

    QAction *m_newAction = nullptr;
    QAction *m_openAction = nullptr;
    QAction *m_saveAction = nullptr;
    QAction *m_saveAsAction = nullptr;
    QAction *m_closeAction = nullptr;
    QAction *m_undoAction = nullptr;
    QAction *m_redoAction = nullptr;
    QAction *m_newTokenAction = nullptr;
    QAction *m_removeTokenAction = nullptr;
    QMenu *m_recentMenu = nullptr;
    QMenu *m_relayUsersMenu = nullptr;
    QMenu *m_tokenMenu = nullptr;

    QListWidget *m_tokenList = nullptr;
    QTabWidget *m_sideTabs = nullptr;
    QLabel *m_keyLabel = nullptr;
    QCheckBox *m_adminCheckBox = nullptr;
    QCheckBox *m_neverExpiresCheckBox = nullptr;
    QDateTimeEdit *m_expiresDateTimeEdit = nullptr;
    QTabBar *m_listTabBar = nullptr;
    QCheckBox *m_listPresentCheckBox = nullptr;
    QListWidget *m_patternList = nullptr;
    QPushButton *m_addPatternButton = nullptr;
    QPushButton *m_removePatternButton = nullptr;
    QPushButton *m_moveUpButton = nullptr;
    QPushButton *m_moveDownButton = nullptr;
    QPushButton *m_negateButton = nullptr;
    QLabel *m_patternProblemLabel = nullptr;
    QLabel *m_problemLabel = nullptr;
    NtfyForm *m_ntfyForm = nullptr;
    AclTesterPanel *m_aclTester = nullptr;
};

} // namespace Patchwork::Gui
