// SPDX-License-Identifier: MIT
#include "gui/editor/configeditorwindow.h"

#include <algorithm>

#include <QAction>
#include <QCheckBox>
#include <QCloseEvent>
#include <QDateTimeEdit>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenuBar>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QTabBar>
#include <QTabWidget>
#include <QToolBar>
#include <QUndoStack>
#include <QVBoxLayout>

#include "access/acl.h"
#include "gui/editor/acltesterpanel.h"
#include "gui/editor/configdocument.h"
#include "gui/editor/newtokendialog.h"
#include "gui/editor/ntfyform.h"

namespace Patchwork::Gui
{

namespace
{

// `sha256:` and the first 12 hex digits are enough to tell keys apart in a list.
constexpr qsizetype HASHED_KEY_SHOWN = 7 + 12;
// A literal key shows at most its first 4 characters, and never more than a third of it.
constexpr qsizetype LITERAL_KEY_SHOWN = 4;
const QColor INVALID_BACKGROUND(255, 205, 210);
const QString FILE_FILTER = QStringLiteral("YAML (*.yaml *.yml);;All files (*)");

} // namespace

ConfigEditorWindow::ConfigEditorWindow(QSettings *settings, QWidget *parent)
    : QMainWindow(parent)
    , m_settings(settings)
    , m_document(new ConfigDocument(this))
{
    setObjectName(QStringLiteral("configEditorWindow"));
    m_question = [this](QMessageBox::Icon icon, const QString &text, QMessageBox::StandardButtons buttons) {
        QMessageBox box(icon, windowTitle(), text, buttons, this);
        return QMessageBox::StandardButton(box.exec());
    };
    buildActions();
    buildForm();
    connect(m_document, &ConfigDocument::loaded, this, &ConfigEditorWindow::onLoaded);
    connect(m_document, &ConfigDocument::changed, this, &ConfigEditorWindow::refresh);
    connect(m_document, &ConfigDocument::modifiedChanged, this, &ConfigEditorWindow::updateTitle);
    connect(m_document, &ConfigDocument::filePathChanged, this, &ConfigEditorWindow::updateTitle);
    connect(m_document, &ConfigDocument::saved, this, &ConfigEditorWindow::saved);
    connect(m_document, &ConfigDocument::changedOnDisk, this, &ConfigEditorWindow::onChangedOnDisk);
    onLoaded();
    resize(880, 560);
}

ConfigEditorWindow::~ConfigEditorWindow() = default;

void ConfigEditorWindow::buildActions()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    m_newAction = file->addAction(tr("&New"), this, &ConfigEditorWindow::newFile);
    m_newAction->setShortcut(QKeySequence::New);
    m_openAction = file->addAction(tr("&Open…"), this, &ConfigEditorWindow::openWithDialog);
    m_openAction->setShortcut(QKeySequence::Open);
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    m_recentMenu->setObjectName(QStringLiteral("recentMenu"));
    connect(m_recentMenu, &QMenu::aboutToShow, this, &ConfigEditorWindow::updateRecentMenu);
    m_relayUsersMenu = file->addMenu(tr("Open Relay &User"));
    m_relayUsersMenu->setObjectName(QStringLiteral("relayUsersMenu"));
    connect(m_relayUsersMenu, &QMenu::aboutToShow, this, &ConfigEditorWindow::updateRelayUsersMenu);
    file->addSeparator();
    m_saveAction = file->addAction(tr("&Save"), this, &ConfigEditorWindow::save);
    m_saveAction->setObjectName(QStringLiteral("saveAction"));
    m_saveAction->setShortcut(QKeySequence::Save);
    m_saveAsAction = file->addAction(tr("Save &As…"), this, &ConfigEditorWindow::saveWithDialog);
    m_saveAsAction->setShortcut(QKeySequence::SaveAs);
    file->addSeparator();
    m_closeAction = file->addAction(tr("&Close"), this, &QWidget::close);
    m_closeAction->setShortcut(QKeySequence::Close);

    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    m_undoAction = m_document->undoStack()->createUndoAction(this, tr("&Undo"));
    m_undoAction->setObjectName(QStringLiteral("undoAction"));
    m_undoAction->setShortcut(QKeySequence::Undo);
    m_redoAction = m_document->undoStack()->createRedoAction(this, tr("&Redo"));
    m_redoAction->setObjectName(QStringLiteral("redoAction"));
    m_redoAction->setShortcut(QKeySequence::Redo);
    edit->addAction(m_undoAction);
    edit->addAction(m_redoAction);

    m_tokenMenu = menuBar()->addMenu(tr("&Token"));
    QMenu *token = m_tokenMenu;
    // QKeySequence::New is File ▸ New; a new token is Ctrl+Shift+N.
    m_newTokenAction = token->addAction(tr("&New Token…"), this, &ConfigEditorWindow::newToken);
    m_newTokenAction->setObjectName(QStringLiteral("newTokenAction"));
    m_newTokenAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N));
    m_removeTokenAction = token->addAction(tr("&Remove Token"), this, &ConfigEditorWindow::removeCurrentToken);
    m_removeTokenAction->setObjectName(QStringLiteral("removeTokenAction"));

    m_saveAction->setIcon(style()->standardIcon(QStyle::SP_DialogSaveButton));
    m_undoAction->setIcon(style()->standardIcon(QStyle::SP_ArrowBack));
    m_redoAction->setIcon(style()->standardIcon(QStyle::SP_ArrowForward));
    m_newTokenAction->setIcon(style()->standardIcon(QStyle::SP_FileIcon));
    m_removeTokenAction->setIcon(style()->standardIcon(QStyle::SP_TrashIcon));
    QToolBar *toolBar = addToolBar(tr("File"));
    toolBar->setToolButtonStyle(Qt::ToolButtonIconOnly);
    toolBar->setObjectName(QStringLiteral("editorToolBar"));
    toolBar->addAction(m_saveAction);
    toolBar->addAction(m_undoAction);
    toolBar->addAction(m_redoAction);
    toolBar->addSeparator();
    toolBar->addAction(m_newTokenAction);
    toolBar->addAction(m_removeTokenAction);
}

void ConfigEditorWindow::buildForm()
{
    m_tokenList = new QListWidget;
    m_tokenList->setObjectName(QStringLiteral("tokenListWidget"));
    m_tokenList->setAccessibleName(tr("Tokens"));
    connect(m_tokenList, &QListWidget::currentRowChanged, this, [this] {
        if (!m_updating) {
            refreshTokenForm();
        }
    });

    m_keyLabel = new QLabel;
    m_keyLabel->setObjectName(QStringLiteral("keyLabel"));
    m_keyLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_adminCheckBox = new QCheckBox(tr("&Administrator (may use the admin endpoints)"));
    m_adminCheckBox->setObjectName(QStringLiteral("adminCheckBox"));
    m_adminCheckBox->setAccessibleName(tr("Administrator"));
    connect(m_adminCheckBox, &QCheckBox::clicked, this, [this](bool on) { m_document->setAdmin(currentToken(), on); });
    m_neverExpiresCheckBox = new QCheckBox(tr("Ne&ver expires"));
    m_neverExpiresCheckBox->setObjectName(QStringLiteral("neverExpiresCheckBox"));
    m_neverExpiresCheckBox->setAccessibleName(tr("Never expires"));
    connect(m_neverExpiresCheckBox, &QCheckBox::clicked, this, &ConfigEditorWindow::onExpiryEdited);
    m_expiresDateTimeEdit = new QDateTimeEdit;
    m_expiresDateTimeEdit->setObjectName(QStringLiteral("expiresDateTimeEdit"));
    m_expiresDateTimeEdit->setAccessibleName(tr("Expires at (UTC)"));
    m_expiresDateTimeEdit->setTimeSpec(Qt::UTC);
    m_expiresDateTimeEdit->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'"));
    m_expiresDateTimeEdit->setCalendarPopup(true);
    // The line edit inside takes the focus itself: it needs the name too.
    if (auto *edit = m_expiresDateTimeEdit->findChild<QLineEdit *>()) {
        edit->setAccessibleName(m_expiresDateTimeEdit->accessibleName());
    }
    connect(m_expiresDateTimeEdit, &QDateTimeEdit::dateTimeChanged, this, &ConfigEditorWindow::onExpiryEdited);
    auto *expiry = new QHBoxLayout;
    expiry->addWidget(m_expiresDateTimeEdit, 1);
    expiry->addWidget(m_neverExpiresCheckBox);

    m_listTabBar = new QTabBar;
    m_listTabBar->setObjectName(QStringLiteral("listTabBar"));
    m_listTabBar->setAccessibleName(tr("Permission list"));
    for (AclList list : ALL_ACL_LISTS) {
        m_listTabBar->addTab(aclListKey(list));
    }
    connect(m_listTabBar, &QTabBar::currentChanged, this, [this] {
        if (!m_updating) {
            refreshPatterns();
        }
    });
    m_listPresentCheckBox = new QCheckBox(tr("&List written in the file (an absent or empty list allows nothing)"));
    m_listPresentCheckBox->setObjectName(QStringLiteral("listPresentCheckBox"));
    m_listPresentCheckBox->setAccessibleName(tr("List present in the file"));
    connect(m_listPresentCheckBox, &QCheckBox::clicked, this, [this](bool on) {
        m_document->setListPresent(currentToken(), currentList(), on);
    });
    m_patternList = new QListWidget;
    m_patternList->setObjectName(QStringLiteral("patternListWidget"));
    m_patternList->setAccessibleName(tr("Patterns"));
    m_patternList->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed
                                   | QAbstractItemView::AnyKeyPressed);
    connect(m_patternList, &QListWidget::itemChanged, this, &ConfigEditorWindow::onPatternEdited);
    connect(m_patternList, &QListWidget::currentRowChanged, this, [this] {
        if (!m_updating) {
            refreshPatterns();
        }
    });
    const auto button = [](const QString &text, const QString &name, const QString &accessible) {
        auto *b = new QPushButton(text);
        b->setObjectName(name);
        b->setAccessibleName(accessible);
        return b;
    };
    m_addPatternButton = button(tr("A&dd"), QStringLiteral("addPatternButton"), tr("Add pattern"));
    m_removePatternButton = button(tr("&Remove"), QStringLiteral("removePatternButton"), tr("Remove pattern"));
    m_moveUpButton = button(tr("Move &up"), QStringLiteral("moveUpButton"), tr("Move pattern up"));
    m_moveDownButton = button(tr("Move do&wn"), QStringLiteral("moveDownButton"), tr("Move pattern down"));
    m_negateButton = button(tr("&Negate (!)"), QStringLiteral("negateButton"), tr("Negate pattern"));
    m_negateButton->setCheckable(true);
    m_negateButton->setToolTip(tr("A negated pattern (starting with !) denies what it matches"));
    connect(m_addPatternButton, &QPushButton::clicked, this, &ConfigEditorWindow::addPattern);
    connect(m_removePatternButton, &QPushButton::clicked, this, &ConfigEditorWindow::removePattern);
    connect(m_moveUpButton, &QPushButton::clicked, this, [this] { movePattern(-1); });
    connect(m_moveDownButton, &QPushButton::clicked, this, [this] { movePattern(1); });
    connect(m_negateButton, &QPushButton::clicked, this, &ConfigEditorWindow::negatePattern);
    auto *patternButtons = new QVBoxLayout;
    for (QPushButton *b :
         {m_addPatternButton, m_removePatternButton, m_moveUpButton, m_moveDownButton, m_negateButton}) {
        patternButtons->addWidget(b);
    }
    patternButtons->addStretch(1);
    auto *patterns = new QHBoxLayout;
    patterns->addWidget(m_patternList, 1);
    patterns->addLayout(patternButtons);
    m_patternProblemLabel = new QLabel;
    m_patternProblemLabel->setObjectName(QStringLiteral("patternProblemLabel"));
    m_patternProblemLabel->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_patternProblemLabel->setWordWrap(true);

    auto *tokenPage = new QWidget;
    tokenPage->setObjectName(QStringLiteral("tokenPage"));
    auto *form = new QFormLayout;
    form->addRow(tr("Key:"), m_keyLabel);
    form->addRow(m_adminCheckBox);
    auto *expiresLabel = new QLabel(tr("E&xpires:"));
    expiresLabel->setBuddy(m_expiresDateTimeEdit);
    form->addRow(expiresLabel, expiry);
    auto *tokenLayout = new QVBoxLayout(tokenPage);
    tokenLayout->addLayout(form);
    tokenLayout->addWidget(m_listTabBar);
    tokenLayout->addWidget(m_listPresentCheckBox);
    tokenLayout->addLayout(patterns, 1);
    tokenLayout->addWidget(m_patternProblemLabel);

    m_sideTabs = new QTabWidget;
    m_sideTabs->setObjectName(QStringLiteral("sideTabWidget"));
    m_sideTabs->setAccessibleName(tr("Editor pages"));
    m_sideTabs->tabBar()->setAccessibleName(tr("Editor pages"));
    m_sideTabs->addTab(tokenPage, tr("To&ken"));
    m_ntfyForm = new NtfyForm;
    m_sideTabs->addTab(m_ntfyForm, tr("Notif&ications"));
    connect(
        m_ntfyForm, &NtfyForm::edited, this, [this] { m_document->setNtfy(m_ntfyForm->type(), m_ntfyForm->config()); });

    auto *splitter = new QSplitter;
    splitter->addWidget(m_tokenList);
    splitter->addWidget(m_sideTabs);
    splitter->setStretchFactor(1, 2);
    setCentralWidget(splitter);

    m_problemLabel = new QLabel;
    m_problemLabel->setObjectName(QStringLiteral("problemLabel"));
    m_problemLabel->setStyleSheet(QStringLiteral("color: #b00020;"));
    statusBar()->addWidget(m_problemLabel, 1);

    // Below the editor, and after it in the tab order (so created after the central widget).
    m_aclTester = new AclTesterPanel;
    auto *testerDock = new QDockWidget(tr("ACL tester"), this);
    testerDock->setObjectName(QStringLiteral("aclTesterDock"));
    testerDock->setWidget(m_aclTester);
    addDockWidget(Qt::BottomDockWidgetArea, testerDock);
    QAction *showTester = testerDock->toggleViewAction();
    showTester->setText(tr("ACL &Tester"));
    m_tokenMenu->addSeparator();
    m_tokenMenu->addAction(showTester);

    setTabOrder(m_tokenList, m_sideTabs);
    setTabOrder(m_sideTabs, m_adminCheckBox);
    setTabOrder(m_adminCheckBox, m_expiresDateTimeEdit);
    setTabOrder(m_expiresDateTimeEdit, m_neverExpiresCheckBox);
    setTabOrder(m_neverExpiresCheckBox, m_listTabBar);
    setTabOrder(m_listTabBar, m_listPresentCheckBox);
    setTabOrder(m_listPresentCheckBox, m_patternList);
    setTabOrder(m_patternList, m_addPatternButton);
    setTabOrder(m_addPatternButton, m_removePatternButton);
    setTabOrder(m_removePatternButton, m_moveUpButton);
    setTabOrder(m_moveUpButton, m_moveDownButton);
    setTabOrder(m_moveDownButton, m_negateButton);
}

ConfigDocument *ConfigEditorWindow::document() const
{
    return m_document;
}

void ConfigEditorWindow::setQuestionHandler(Question question)
{
    m_question = std::move(question);
}

void ConfigEditorWindow::setRelayUsersDir(const QString &usersDir)
{
    m_usersDir = usersDir;
}

void ConfigEditorWindow::newFile()
{
    if (maybeSave()) {
        m_document->newDocument();
    }
}

bool ConfigEditorWindow::openFile(const QString &path)
{
    if (!maybeSave()) {
        return false;
    }
    QString error;
    if (!m_document->open(path, &error)) {
        showError(tr("The file was not opened: the relay would refuse it too.\n\n%1").arg(error));
        return false;
    }
    ConfigDocument::addRecentFile(*m_settings, path);
    return true;
}

bool ConfigEditorWindow::openRelayUser(const QString &user)
{
    if (!maybeSave()) {
        return false;
    }
    QString error;
    if (!m_document->openRelayUser(m_usersDir, user, &error)) {
        showError(tr("The file was not opened: the relay would refuse it too.\n\n%1").arg(error));
        return false;
    }
    return true;
}

bool ConfigEditorWindow::save()
{
    if (m_document->filePath().isEmpty()) {
        return saveWithDialog();
    }
    return saveAs(m_document->filePath());
}

bool ConfigEditorWindow::saveAs(const QString &path)
{
    commitPendingEdit();
    if (m_document->hasComments()
        && ask(QMessageBox::Warning,
               tr("This file has comments. Saving writes the file anew, without its comments (the YAML library "
                  "does not keep them). Save anyway?"),
               QMessageBox::Save | QMessageBox::Cancel)
               != QMessageBox::Save) {
        return false;
    }
    QString error;
    if (!m_document->saveAs(path, &error)) {
        showError(error);
        return false;
    }
    ConfigDocument::addRecentFile(*m_settings, path);
    statusBar()->showMessage(tr("Saved %1").arg(QDir::toNativeSeparators(path)), 5000);
    return true;
}

bool ConfigEditorWindow::maybeSave()
{
    commitPendingEdit();
    if (!m_document->isModified()) {
        return true;
    }
    switch (ask(QMessageBox::Question,
                tr("The token configuration %1 has unsaved changes. Save them?").arg(m_document->displayName()),
                QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel)) {
    case QMessageBox::Save:
        return save();
    case QMessageBox::Discard:
        return true;
    default:
        return false;
    }
}

void ConfigEditorWindow::selectToken(int row)
{
    m_tokenList->setCurrentRow(row);
}

int ConfigEditorWindow::currentToken() const
{
    return m_tokenList->currentRow();
}

AclList ConfigEditorWindow::currentList() const
{
    return ALL_ACL_LISTS.at(size_t(std::max(0, m_listTabBar->currentIndex())));
}

void ConfigEditorWindow::selectList(AclList list)
{
    m_listTabBar->setCurrentIndex(int(list));
}

QString ConfigEditorWindow::problemText() const
{
    return m_problemLabel->text();
}

QAction *ConfigEditorWindow::saveAction() const
{
    return m_saveAction;
}

QAction *ConfigEditorWindow::undoAction() const
{
    return m_undoAction;
}

QAction *ConfigEditorWindow::redoAction() const
{
    return m_redoAction;
}

QAction *ConfigEditorWindow::newTokenAction() const
{
    return m_newTokenAction;
}

NtfyForm *ConfigEditorWindow::ntfyForm() const
{
    return m_ntfyForm;
}

AclTesterPanel *ConfigEditorWindow::aclTester() const
{
    return m_aclTester;
}

QString ConfigEditorWindow::tokenLabel(const QString &key)
{
    if (UserConfig::isHashedKey(key)) {
        return key.left(HASHED_KEY_SHOWN) + QStringLiteral("…");
    }
    if (key == QString::fromLatin1(Acl::PUBLIC_TOKEN)) {
        return tr("%1 (anyone without a token)").arg(key);
    }
    return tr("%1… (literal)").arg(key.left(std::min(LITERAL_KEY_SHOWN, key.size() / 3)));
}

void ConfigEditorWindow::closeEvent(QCloseEvent *event)
{
    if (maybeSave()) {
        event->accept();
    } else {
        event->ignore();
    }
}

void ConfigEditorWindow::onLoaded()
{
    refresh();
    selectToken(m_document->tokenCount() > 0 ? 0 : -1);
    updateTitle();
}

void ConfigEditorWindow::refresh()
{
    if (m_refreshLater) {
        if (!m_refreshQueued) {
            m_refreshQueued = true;
            QMetaObject::invokeMethod(
                this,
                [this] {
                    m_refreshQueued = false;
                    refresh();
                },
                Qt::QueuedConnection);
        }
        return;
    }
    refreshTokenList();
    refreshTokenForm();
    const QList<ConfigProblem> problems = m_document->problems();
    QString text;
    if (!problems.isEmpty()) {
        const ConfigProblem &first = problems.constFirst();
        text = first.token >= 0
                   ? tr("Cannot save: token %1: %2").arg(tokenLabel(m_document->token(first.token).key), first.message)
                   : tr("Cannot save: notifications: %1").arg(first.message);
    }
    m_problemLabel->setText(text);
    // The form is loaded only when the document differs from it (undo, redo, a file), never while it is
    // the source of the change.
    if (m_ntfyForm->type() != m_document->ntfyType() || m_ntfyForm->config() != m_document->ntfyConfig()) {
        m_ntfyForm->setBackend(m_document->ntfyType(), m_document->ntfyConfig());
    }
    m_aclTester->setConfig(m_document->toUserConfig());
    m_saveAction->setEnabled(m_document->canSave());
    m_saveAction->setToolTip(m_document->canSave() ? tr("Save") : text);
    m_saveAsAction->setEnabled(m_document->canSave());
}

void ConfigEditorWindow::refreshTokenList()
{
    const QStringList keys = m_document->tokenKeys();
    const int current = m_tokenList->currentRow();
    m_updating = true;
    while (m_tokenList->count() > keys.size()) {
        delete m_tokenList->takeItem(m_tokenList->count() - 1);
    }
    while (m_tokenList->count() < keys.size()) {
        m_tokenList->addItem(QString());
    }
    for (int row = 0; row < keys.size(); ++row) {
        QListWidgetItem *item = m_tokenList->item(row);
        const QString &key = keys.at(row);
        item->setText(tokenLabel(key));
        bool invalid = !m_document->tokenProblem(row).isEmpty();
        for (const ConfigProblem &p : m_document->problems()) {
            invalid = invalid || p.token == row;
        }
        QString tip = UserConfig::isHashedKey(key) ? key : tr("A literal token: the key is the token itself (hidden)");
        if (invalid) {
            tip += u'\n' + tr("This token has invalid settings.");
        }
        item->setToolTip(tip);
        item->setIcon(invalid ? style()->standardIcon(QStyle::SP_MessageBoxWarning) : QIcon());
    }
    m_tokenList->setCurrentRow(std::min(current, int(keys.size()) - 1));
    m_updating = false;
    m_removeTokenAction->setEnabled(currentToken() >= 0);
}

void ConfigEditorWindow::refreshTokenForm()
{
    const int row = currentToken();
    const bool valid = row >= 0;
    const DraftToken token = m_document->token(row);
    m_updating = true;
    m_keyLabel->setText(valid ? tokenLabel(token.key) : tr("No token chosen"));
    m_keyLabel->setToolTip(valid && UserConfig::isHashedKey(token.key) ? token.key : QString());
    m_adminCheckBox->setChecked(token.isAdmin);
    m_neverExpiresCheckBox->setChecked(!token.expiresAt);
    m_expiresDateTimeEdit->setDateTime(token.expiresAt ? *token.expiresAt
                                                       : QDateTime::currentDateTimeUtc().addYears(1));
    m_expiresDateTimeEdit->setEnabled(valid && token.expiresAt);
    for (QWidget *w : std::initializer_list<QWidget *>{
             m_adminCheckBox, m_neverExpiresCheckBox, m_listTabBar, m_listPresentCheckBox, m_patternList}) {
        w->setEnabled(valid);
    }
    for (AclList list : ALL_ACL_LISTS) {
        bool invalid = false;
        for (const ConfigProblem &p : m_document->problems()) {
            invalid = invalid || (p.token == row && p.list == list);
        }
        m_listTabBar->setTabIcon(int(list), invalid ? style()->standardIcon(QStyle::SP_MessageBoxWarning) : QIcon());
    }
    m_updating = false;
    m_removeTokenAction->setEnabled(valid);
    refreshPatterns();
}

void ConfigEditorWindow::refreshPatterns()
{
    const int row = currentToken();
    const AclList list = currentList();
    const std::optional<QStringList> patterns = m_document->token(row).lists[size_t(list)];
    const QStringList texts = patterns.value_or(QStringList());
    const int current = m_patternList->currentRow();
    m_updating = true;
    m_listPresentCheckBox->setChecked(patterns.has_value());
    m_patternList->clear();
    for (int i = 0; i < texts.size(); ++i) {
        auto *item = new QListWidgetItem(texts.at(i));
        item->setFlags(item->flags() | Qt::ItemIsEditable);
        const QString problem = m_document->patternProblem(row, list, i);
        if (!problem.isEmpty()) {
            item->setBackground(INVALID_BACKGROUND);
            item->setIcon(style()->standardIcon(QStyle::SP_MessageBoxWarning));
            item->setToolTip(problem);
        }
        m_patternList->addItem(item);
    }
    const int selected = std::min(current < 0 ? 0 : current, int(texts.size()) - 1);
    m_patternList->setCurrentRow(selected);
    m_updating = false;

    const bool hasToken = row >= 0;
    const bool hasPattern = hasToken && selected >= 0;
    m_addPatternButton->setEnabled(hasToken);
    m_removePatternButton->setEnabled(hasPattern);
    m_moveUpButton->setEnabled(hasPattern && selected > 0);
    m_moveDownButton->setEnabled(hasPattern && selected + 1 < texts.size());
    m_negateButton->setEnabled(hasPattern);
    m_negateButton->setChecked(hasPattern && texts.at(selected).startsWith(u'!'));
    m_patternProblemLabel->setText(hasPattern ? m_document->patternProblem(row, list, selected) : QString());
}

void ConfigEditorWindow::updateTitle()
{
    setWindowTitle(tr("%1[*] — Token config — Patchwork").arg(m_document->displayName()));
    setWindowModified(m_document->isModified());
    setWindowFilePath(m_document->filePath());
    // The tester's namespace: the relay user whose file this is (else the tester's default).
    const QFileInfo file(m_document->filePath());
    const bool relayUser = !m_usersDir.isEmpty() && !m_document->filePath().isEmpty()
                           && QFileInfo(file.absolutePath()).absolutePath() == QFileInfo(m_usersDir).absoluteFilePath();
    m_aclTester->setUserName(relayUser ? file.dir().dirName() : QString());
}

void ConfigEditorWindow::updateRecentMenu()
{
    m_recentMenu->clear();
    const QStringList files = ConfigDocument::recentFiles(*m_settings);
    for (const QString &path : files) {
        m_recentMenu->addAction(QDir::toNativeSeparators(path), this, [this, path] { openFile(path); });
    }
    if (files.isEmpty()) {
        m_recentMenu->addAction(tr("No recent files"))->setEnabled(false);
    }
}

void ConfigEditorWindow::updateRelayUsersMenu()
{
    m_relayUsersMenu->clear();
    const QStringList users = m_usersDir.isEmpty() ? QStringList() : ConfigDocument::relayUsers(m_usersDir);
    for (const QString &user : users) {
        m_relayUsersMenu->addAction(user, this, [this, user] { openRelayUser(user); });
    }
    if (users.isEmpty()) {
        m_relayUsersMenu->addAction(tr("No users in the local relay's users directory"))->setEnabled(false);
    }
}

void ConfigEditorWindow::openWithDialog()
{
    const QString start = m_document->filePath().isEmpty() ? m_usersDir : QFileInfo(m_document->filePath()).path();
    const QString path = QFileDialog::getOpenFileName(this, tr("Open token configuration"), start, FILE_FILTER);
    if (!path.isEmpty()) {
        openFile(path);
    }
}

bool ConfigEditorWindow::saveWithDialog()
{
    const QString start = m_document->filePath().isEmpty() ? m_usersDir : m_document->filePath();
    const QString path = QFileDialog::getSaveFileName(this, tr("Save token configuration"), start, FILE_FILTER);
    return !path.isEmpty() && saveAs(path);
}

void ConfigEditorWindow::newToken()
{
    NewTokenDialog dialog(this);
    if (dialog.exec() != QDialog::Accepted) {
        return;
    }
    QString error;
    if (!m_document->addToken(dialog.key(), &error)) {
        showError(error);
        return;
    }
    selectToken(m_document->tokenCount() - 1);
}

void ConfigEditorWindow::removeCurrentToken()
{
    m_document->removeToken(currentToken());
}

void ConfigEditorWindow::addPattern()
{
    const int index = m_patternList->currentRow() + 1;
    if (m_document->insertPattern(currentToken(), currentList(), index, QString())) {
        m_patternList->setCurrentRow(index);
        m_patternList->editItem(m_patternList->item(index));
    }
}

void ConfigEditorWindow::removePattern()
{
    m_document->removePattern(currentToken(), currentList(), m_patternList->currentRow());
}

void ConfigEditorWindow::movePattern(int delta)
{
    const int from = m_patternList->currentRow();
    if (m_document->movePattern(currentToken(), currentList(), from, from + delta)) {
        m_patternList->setCurrentRow(from + delta);
    }
}

void ConfigEditorWindow::negatePattern()
{
    m_document->toggleNegation(currentToken(), currentList(), m_patternList->currentRow());
}

void ConfigEditorWindow::onPatternEdited(QListWidgetItem *item)
{
    if (m_updating) {
        return;
    }
    // The document changes now; the list holding `item` is rebuilt once the view is done with it.
    m_refreshLater = true;
    m_document->setPattern(currentToken(), currentList(), m_patternList->row(item), item->text());
    m_refreshLater = false;
}

void ConfigEditorWindow::commitPendingEdit()
{
    // A pattern still being typed when Save is clicked (the tool bar takes no focus) or the window closes
    // is part of the edit.
    const QModelIndex index = m_patternList->currentIndex();
    if (QWidget *editor = m_patternList->indexWidget(index)) {
        Q_EMIT m_patternList->itemDelegateForIndex(index)->commitData(editor);
    }
}

void ConfigEditorWindow::onExpiryEdited()
{
    if (m_updating) {
        return;
    }
    const bool never = m_neverExpiresCheckBox->isChecked();
    m_document->setExpiresAt(currentToken(),
                             never ? std::nullopt : std::optional<QDateTime>(m_expiresDateTimeEdit->dateTime()));
}

void ConfigEditorWindow::onChangedOnDisk()
{
    if (m_askingReload) {
        return;
    }
    m_askingReload = true;
    const QString text = m_document->isModified()
                             ? tr("%1 was changed by another program. Reload it and discard your unsaved changes? "
                                  "(No keeps your version.)")
                                   .arg(m_document->displayName())
                             : tr("%1 was changed by another program. Reload it? (No keeps this version.)")
                                   .arg(m_document->displayName());
    if (ask(QMessageBox::Warning, text, QMessageBox::Yes | QMessageBox::No) == QMessageBox::Yes) {
        QString error;
        if (!m_document->reload(&error)) {
            showError(tr("The file was not reloaded: the relay would refuse it too.\n\n%1").arg(error));
        }
    }
    m_askingReload = false;
}

void ConfigEditorWindow::showError(const QString &message)
{
    ask(QMessageBox::Warning, message, QMessageBox::Ok);
}

QMessageBox::StandardButton
ConfigEditorWindow::ask(QMessageBox::Icon icon, const QString &text, QMessageBox::StandardButtons buttons)
{
    return m_question(icon, text, buttons);
}

} // namespace Patchwork::Gui
