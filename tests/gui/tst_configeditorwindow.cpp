// SPDX-License-Identifier: MIT
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QUndoStack>

#include "focuschain.h"
#include "gui/editor/acltesterpanel.h"
#include "gui/editor/configdocument.h"
#include "gui/editor/configeditorwindow.h"
#include "gui/editor/newtokendialog.h"
#include "gui/editor/ntfyform.h"
#include "testutil.h"

using namespace Patchwork;
using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;
using Patchwork::Test::timeoutMs;

class TestConfigEditorWindow final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void invalidPatternDisablesSave();
    void patternBeingTypedIsSaved();
    void literalTokensMasked();
    void tokenLabels();
    void closingWithChangesAsks();
    void commentsWarnedBeforeSaving();
    void externalChangeOffersReload();
    void invalidFileShowsTheParserMessage();
    void everyFocusableControlHasAnAccessibleName();
    void destroyedWithUnsavedChanges();
    void newTokenFromTheDialog();
    void ntfyFormFollowsTheDocument();
    void aclTesterGetsTheEditedConfig();

private:
    QString writeSample(const QByteArray &bytes);
    // Answers every question with `answer` and records the texts.
    void answerWith(QMessageBox::StandardButton answer);
    QListWidget *patternList() const;

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<QSettings> m_settings;
    std::unique_ptr<ConfigEditorWindow> m_window;
    QStringList m_questions;
};

namespace
{

const QByteArray SAMPLE = "tokens:\n"
                          "  \"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\":\n"
                          "    GET: [\"/notifications/*\"]\n"
                          "  literaltoken123:\n"
                          "    POST: [\"/jobs/*\", \"/builds/*\"]\n"
                          "  public:\n"
                          "    GET: [\"/pub/*\"]\n";

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

} // namespace

void TestConfigEditorWindow::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
}

void TestConfigEditorWindow::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_settings = std::make_unique<QSettings>(m_dir->filePath(u"settings.ini"_s), QSettings::IniFormat);
    m_window = std::make_unique<ConfigEditorWindow>(m_settings.get());
    m_questions.clear();
    answerWith(QMessageBox::Cancel);
}

void TestConfigEditorWindow::cleanup()
{
    answerWith(QMessageBox::Discard);
    m_window.reset();
}

QString TestConfigEditorWindow::writeSample(const QByteArray &bytes)
{
    const QString path = m_dir->filePath(u"config.yaml"_s);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size()) {
        return QString();
    }
    return path;
}

void TestConfigEditorWindow::answerWith(QMessageBox::StandardButton answer)
{
    m_window->setQuestionHandler([this, answer](QMessageBox::Icon, const QString &text, QMessageBox::StandardButtons) {
        m_questions.append(text);
        return answer;
    });
}

QListWidget *TestConfigEditorWindow::patternList() const
{
    return m_window->findChild<QListWidget *>(u"patternListWidget"_s);
}

void TestConfigEditorWindow::invalidPatternDisablesSave()
{
    QVERIFY(m_window->openFile(writeSample(SAMPLE)));
    m_window->show();
    QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
    QAction *save = m_window->saveAction();
    QVERIFY(save->isEnabled());
    QVERIFY(m_window->problemText().isEmpty());

    m_window->selectToken(1);
    m_window->selectList(AclList::Post);
    QListWidget *list = patternList();
    QCOMPARE(list->count(), 2);
    QCOMPARE(list->item(1)->text(), u"/builds/*"_s);

    // Type "!" over the second pattern in the list's own editor.
    list->setCurrentRow(1);
    list->editItem(list->item(1));
    auto *editor = list->viewport()->findChild<QLineEdit *>();
    QVERIFY(editor);
    editor->selectAll();
    QTest::keyClicks(editor, u"!"_s);
    QTest::keyClick(editor, Qt::Key_Return);
    const QString message = u"POST: invalid pattern: pattern \"!\" negates nothing"_s;
    QTRY_VERIFY(!save->isEnabled());
    QVERIFY2(m_window->problemText().contains(message), qPrintable(m_window->problemText()));
    QCOMPARE(list->item(1)->text(), u"!"_s);
    QCOMPARE(list->item(1)->toolTip(), message);
    QVERIFY(list->item(1)->background().color() != list->item(0)->background().color());
    QCOMPARE(m_window->findChild<QLabel *>(u"patternProblemLabel"_s)->text(), message);

    // Fixed: Save is back.
    list->item(1)->setText(u"!/builds/secret"_s);
    QTRY_VERIFY(save->isEnabled());
    QVERIFY(m_window->problemText().isEmpty());

    // Ctrl+Z twice: the invalid text, then the original.
    QTest::keySequence(m_window.get(), QKeySequence::Undo);
    QVERIFY(!save->isEnabled());
    QCOMPARE(patternList()->item(1)->text(), u"!"_s);
    QTest::keySequence(m_window.get(), QKeySequence::Undo);
    QVERIFY(save->isEnabled());
    QCOMPARE(patternList()->item(1)->text(), u"/builds/*"_s);
    QVERIFY(!m_window->document()->isModified());
    QVERIFY(!m_window->isWindowModified());
    QTest::keySequence(m_window.get(), QKeySequence::Redo);
    QCOMPARE(patternList()->item(1)->text(), u"!"_s);
    QVERIFY(m_window->isWindowModified());

    // The negation toggle.
    m_window->findChild<QPushButton *>(u"negateButton"_s)->click();
    QCOMPARE(patternList()->item(1)->text(), QString());
    QTest::keySequence(m_window.get(), QKeySequence::Undo);
    QCOMPARE(patternList()->item(1)->text(), u"!"_s);
}

void TestConfigEditorWindow::patternBeingTypedIsSaved()
{
    const QString path = writeSample(SAMPLE);
    QVERIFY(m_window->openFile(path));
    m_window->show();
    QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
    m_window->selectToken(1);
    m_window->selectList(AclList::Post);
    QListWidget *list = patternList();
    list->setCurrentRow(0);
    list->editItem(list->item(0));
    auto *editor = list->viewport()->findChild<QLineEdit *>();
    QVERIFY(editor);
    editor->selectAll();
    QTest::keyClicks(editor, u"/typed/*"_s);
    // Saved by its shortcut while the editor is still open.
    QTest::keySequence(m_window.get(), QKeySequence::Save);
    QVERIFY2(readFile(path).contains("\"/typed/*\""), readFile(path).constData());
    QVERIFY(!m_window->document()->isModified());
    QTRY_COMPARE(patternList()->item(0)->text(), u"/typed/*"_s);
}

void TestConfigEditorWindow::literalTokensMasked()
{
    QVERIFY(m_window->openFile(writeSample(SAMPLE)));
    auto *tokens = m_window->findChild<QListWidget *>(u"tokenListWidget"_s);
    QCOMPARE(tokens->count(), 3);
    QCOMPARE(tokens->item(0)->text(), u"sha256:0123456789ab…"_s);
    QCOMPARE(tokens->item(0)->toolTip(), u"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"_s);
    QCOMPARE(tokens->item(1)->text(), u"lite… (literal)"_s);
    QCOMPARE(tokens->item(2)->text(), u"public (anyone without a token)"_s);
    m_window->selectToken(1);
    // The literal key appears nowhere in the window.
    const QList<QWidget *> widgets = m_window->findChildren<QWidget *>();
    for (const QWidget *w : widgets) {
        QVERIFY(!w->toolTip().contains(u"literaltoken"_s));
        if (const auto *label = qobject_cast<const QLabel *>(w)) {
            QVERIFY2(!label->text().contains(u"literaltoken"_s), qPrintable(label->objectName()));
        }
    }
    for (int i = 0; i < tokens->count(); ++i) {
        QVERIFY(!tokens->item(i)->toolTip().contains(u"literaltoken"_s));
    }
}

void TestConfigEditorWindow::tokenLabels()
{
    // Short literal keys show at most a third of themselves.
    QCOMPARE(ConfigEditorWindow::tokenLabel(u"abcdef"_s), u"ab… (literal)"_s);
    QCOMPARE(ConfigEditorWindow::tokenLabel(u"ab"_s), u"… (literal)"_s);
    QCOMPARE(ConfigEditorWindow::tokenLabel(u"0123456789abcdefghij"_s), u"0123… (literal)"_s);
}

void TestConfigEditorWindow::closingWithChangesAsks()
{
    const QString path = writeSample(SAMPLE);
    QVERIFY(m_window->openFile(path));
    m_window->show();
    QVERIFY(m_window->close()); // nothing changed: no question
    QVERIFY(m_questions.isEmpty());

    m_window->show();
    QVERIFY(m_window->document()->setAdmin(0, true));
    answerWith(QMessageBox::Cancel);
    QVERIFY(!m_window->close());
    QVERIFY(m_window->isVisible());
    QCOMPARE(m_questions.size(), 1);
    QVERIFY(m_questions.first().contains(u"unsaved changes"_s));

    answerWith(QMessageBox::Save);
    QVERIFY(m_window->close());
    QVERIFY(readFile(path).contains("is_admin: true"));

    m_window->show();
    QVERIFY(m_window->document()->setAdmin(0, false));
    answerWith(QMessageBox::Discard);
    QVERIFY(m_window->close());
    QVERIFY(readFile(path).contains("is_admin: true"));
}

void TestConfigEditorWindow::commentsWarnedBeforeSaving()
{
    const QByteArray commented = "# the tokens of alice\n" + SAMPLE;
    const QString path = writeSample(commented);
    QVERIFY(m_window->openFile(path));
    QVERIFY(m_window->document()->setAdmin(0, true));
    answerWith(QMessageBox::Cancel);
    QVERIFY(!m_window->save());
    QCOMPARE(m_questions.size(), 1);
    QVERIFY(m_questions.first().contains(u"comments"_s));
    QCOMPARE(readFile(path), commented);

    answerWith(QMessageBox::Save);
    QVERIFY(m_window->save());
    QCOMPARE(m_questions.size(), 2);
    QVERIFY(!readFile(path).contains('#'));
    // Asked once per file: the next save has nothing to lose.
    QVERIFY(m_window->document()->setAdmin(0, false));
    QVERIFY(m_window->save());
    QCOMPARE(m_questions.size(), 2);
    QCOMPARE(ConfigDocument::recentFiles(*m_settings).first(), path);
}

void TestConfigEditorWindow::externalChangeOffersReload()
{
    const QString path = writeSample(SAMPLE);
    QVERIFY(m_window->openFile(path));
    answerWith(QMessageBox::No); // keep mine
    {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write("tokens:\n  fromoutside1: {}\n");
    }
    QTRY_COMPARE_WITH_TIMEOUT(m_questions.size(), 1, timeoutMs(5000));
    QVERIFY(m_questions.first().contains(u"changed by another program"_s));
    QCOMPARE(m_window->document()->tokenCount(), 3);

    answerWith(QMessageBox::Yes); // reload
    {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write("tokens:\n  fromoutside2: {}\n");
    }
    QTRY_COMPARE_WITH_TIMEOUT(m_window->document()->tokenKeys(), QStringList({u"fromoutside2"_s}), timeoutMs(5000));
    QCOMPARE(m_window->findChild<QListWidget *>(u"tokenListWidget"_s)->count(), 1);
}

void TestConfigEditorWindow::invalidFileShowsTheParserMessage()
{
    const QString good = writeSample(SAMPLE);
    QVERIFY(m_window->openFile(good));
    const QString bad = m_dir->filePath(u"bad.yaml"_s);
    {
        QFile file(bad);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("tokens:\n  abcdefgh: {GET: [\"\"]}\n");
    }
    answerWith(QMessageBox::Ok);
    QVERIFY(!m_window->openFile(bad));
    QCOMPARE(m_questions.size(), 1);
    QVERIFY2(m_questions.first().contains(bad + u":2: GET: invalid pattern: empty pattern"_s),
             qPrintable(m_questions.first()));
    QCOMPARE(m_window->document()->filePath(), good);
}

void TestConfigEditorWindow::everyFocusableControlHasAnAccessibleName()
{
    QVERIFY(m_window->openFile(writeSample(SAMPLE)));
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    m_window->selectToken(1);
    verifyFocusChainNamed(m_window.get());
}

void TestConfigEditorWindow::destroyedWithUnsavedChanges()
{
    // Deleting the window (the tray quitting) clears the undo stack after the window is gone: nothing may
    // reach the half-destroyed window then.
    auto window = std::make_unique<ConfigEditorWindow>(m_settings.get());
    QVERIFY(window->openFile(writeSample(SAMPLE)));
    QVERIFY(window->document()->setAdmin(0, true));
    QVERIFY(window->isWindowModified());
    QSignalSpy modified(window->document(), &ConfigDocument::modifiedChanged);
    window.reset();
    QCOMPARE(modified.size(), 0);
}

void TestConfigEditorWindow::newTokenFromTheDialog()
{
    QVERIFY(m_window->openFile(writeSample(SAMPLE)));
    m_window->show();
    QString key;
    QTimer::singleShot(0, this, [&key] {
        auto *dialog = qobject_cast<NewTokenDialog *>(QApplication::activeModalWidget());
        QVERIFY(dialog);
        key = dialog->key();
        dialog->accept();
    });
    m_window->newTokenAction()->trigger();
    QVERIFY(UserConfig::isHashedKey(key));
    QCOMPARE(m_window->document()->tokenCount(), 4);
    QCOMPARE(m_window->document()->tokenKeys().last(), key);
    QCOMPARE(m_window->currentToken(), 3);
    m_window->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
    QTest::keySequence(m_window.get(), QKeySequence::Undo);
    QCOMPARE(m_window->document()->tokenCount(), 3);
}

void TestConfigEditorWindow::ntfyFormFollowsTheDocument()
{
    QVERIFY(m_window->openFile(writeSample(SAMPLE)));
    NtfyForm *form = m_window->ntfyForm();
    QVERIFY(form->type().isEmpty());
    QVERIFY(m_window->document()->setNtfy(u"ntfy"_s, {{u"url"_s, u"https://ntfy.sh"_s}, {u"topic"_s, u"a"_s}}));
    QCOMPARE(form->type(), u"ntfy"_s);
    QCOMPARE(form->config().value(u"topic"_s).toString(), u"a"_s);

    // Typing in the form edits the document: one undo step for the whole word.
    m_window->show();
    auto *topic = form->findChild<QLineEdit *>(u"ntfyTopicLineEdit"_s);
    QVERIFY(topic);
    topic->setFocus();
    topic->selectAll();
    QTest::keyClicks(topic, u"alerts"_s);
    QCOMPARE(m_window->document()->ntfyConfig().value(u"topic"_s).toString(), u"alerts"_s);
    QCOMPARE(m_window->document()->undoStack()->count(), 2);
    m_window->document()->undoStack()->undo();
    QCOMPARE(form->config().value(u"topic"_s).toString(), u"a"_s);
    m_window->document()->undoStack()->undo();
    QVERIFY(form->type().isEmpty());
}

void TestConfigEditorWindow::aclTesterGetsTheEditedConfig()
{
    QVERIFY(m_window->openFile(writeSample(SAMPLE)));
    auto *result = m_window->aclTester()->findChild<QLabel *>(u"resultLabel"_s);
    QVERIFY(result);
    const QString problems = u"The config has problems; fix them to test access."_s;
    QVERIFY(result->text() != problems);
    QVERIFY(m_window->document()->setPattern(1, AclList::Post, 0, u"!"_s));
    QCOMPARE(result->text(), problems);
    m_window->document()->undoStack()->undo();
    QVERIFY(result->text() != problems);
}

QTEST_MAIN(TestConfigEditorWindow)
#include "tst_configeditorwindow.moc"
