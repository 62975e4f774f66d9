// SPDX-License-Identifier: MIT
#include <functional>

#include <QDir>
#include <QFile>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include "gui/editor/configdocument.h"
#include "testutil.h"

using namespace Patchwork;
using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;
using Patchwork::Test::timeoutMs;

// (Declared before the YAML samples: moc does not read raw string literals.)
class TestConfigDocument final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void roundTripKeepsWhatIsNotEdited();
    void invalidFileIsNotOpened();
    void invalidPatternBlocksSaving();
    void addTokenUsesTheDaemonsKeyRules();
    void undoRedo_data();
    void undoRedo();
    void keystrokesMergeIntoOneStep();
    void toUserConfigFollowsTheEdits();
    void fileModeKeptNewFilesPrivate();
    void commentDetection_data();
    void commentDetection();
    void commentsReportedUntilSaved();
    void externalChangeDetected();
    void saveChecksTheWrittenBytes();
    void recentFiles();
    void relayUsers();

private:
    QString samplePath();

    std::unique_ptr<QTemporaryDir> m_dir;
};

namespace
{

const QString HASHED_KEY = u"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"_s;

// Written exactly as toYaml() writes it, so an unedited save gives the same bytes.
const QByteArray SAMPLE = R"(version: 2
tokens:
  "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef":
    is_admin: false
    GET: ["/notifications/*", "!/secret/*"]
    note: keep me
  literaltoken123:
    POST:
      - /jobs/*
      - "/quoted/*"
    PUT: []
    expires_at: 2027-01-01T00:00:00Z
ntfy:
  type: ntfy
  config:
    url: "https://ntfy.sh"
    topic: alerts
extra:
  quoted: "true"
  number: 42
  list: [a, "b"]
)";

// SAMPLE after: a GET pattern added to the first token, the second made admin.
const QByteArray SAMPLE_EDITED = R"(version: 2
tokens:
  "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef":
    is_admin: false
    GET: ["/notifications/*", "!/secret/*", "/added/*"]
    note: keep me
  literaltoken123:
    POST:
      - "/jobs/*"
      - "/quoted/*"
    PUT: []
    expires_at: 2027-01-01T00:00:00Z
    is_admin: true
ntfy:
  type: ntfy
  config:
    url: "https://ntfy.sh"
    topic: alerts
extra:
  quoted: "true"
  number: 42
  list: [a, "b"]
)";

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(bytes) == bytes.size();
}

} // namespace

void TestConfigDocument::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
}

void TestConfigDocument::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

QString TestConfigDocument::samplePath()
{
    const QString path = m_dir->filePath(u"config.yaml"_s);
    writeFile(path, SAMPLE);
    return path;
}

void TestConfigDocument::roundTripKeepsWhatIsNotEdited()
{
    ConfigDocument doc;
    QString error;
    QVERIFY2(doc.open(samplePath(), &error), qPrintable(error));
    QCOMPARE(doc.tokenKeys(), QStringList({HASHED_KEY, u"literaltoken123"_s}));
    const DraftToken literal = doc.token(1);
    QCOMPARE(literal.lists[size_t(AclList::Post)], QStringList({u"/jobs/*"_s, u"/quoted/*"_s}));
    QCOMPARE(literal.lists[size_t(AclList::Put)], QStringList()); // present and empty
    QVERIFY(!literal.lists[size_t(AclList::Get)]); // absent
    QCOMPARE(literal.expiresAt, QDateTime(QDate(2027, 1, 1), QTime(0, 0), Qt::UTC));
    QCOMPARE(doc.ntfyType(), u"ntfy"_s);
    QCOMPARE(doc.ntfyConfig().value(u"topic"_s), QVariant(u"alerts"_s));

    // Unedited: the same bytes.
    const QString copy = m_dir->filePath(u"copy.yaml"_s);
    QVERIFY2(doc.saveAs(copy, &error), qPrintable(error));
    QCOMPARE(readFile(copy), SAMPLE);

    // Edited: unknown keys (top level and in entries), key order and quoted scalars kept.
    QVERIFY(doc.insertPattern(0, AclList::Get, -1, u"/added/*"_s));
    QVERIFY(doc.setAdmin(1, true));
    QVERIFY(doc.isModified());
    QSignalSpy saved(&doc, &ConfigDocument::saved);
    QVERIFY2(doc.save(&error), qPrintable(error));
    QCOMPARE(saved.size(), 1);
    QCOMPARE(saved.at(0).at(0).toString(), copy);
    QVERIFY(!doc.isModified());
    QCOMPARE(readFile(copy), SAMPLE_EDITED);
}

void TestConfigDocument::invalidFileIsNotOpened()
{
    ConfigDocument doc;
    QString error;
    QVERIFY(doc.open(samplePath(), &error));
    const QString bad = m_dir->filePath(u"bad.yaml"_s);
    const QByteArray bytes = "tokens:\n  abc:\n    GET: [\"/ok\", \"!\"]\n";
    QVERIFY(writeFile(bad, bytes));
    QVERIFY(!doc.open(bad, &error));
    QString daemonError;
    QVERIFY(!UserConfig::parse(bytes, bad, &daemonError));
    QCOMPARE(error, daemonError);
    QCOMPARE(error, bad + u":3: GET: invalid pattern: pattern \"!\" negates nothing"_s);
    // Still the document that was open.
    QCOMPARE(doc.filePath(), m_dir->filePath(u"config.yaml"_s));
    QCOMPARE(doc.tokenCount(), 2);
}

void TestConfigDocument::invalidPatternBlocksSaving()
{
    ConfigDocument doc;
    QString error;
    const QString path = samplePath();
    QVERIFY(doc.open(path, &error));
    QVERIFY(doc.canSave());
    QVERIFY(doc.setPattern(1, AclList::Post, 1, u"!"_s));
    QVERIFY(!doc.canSave());
    QVERIFY(!doc.toUserConfig());
    // The reader's own message for that pattern, without the file and line.
    QString daemonError;
    QVERIFY(!UserConfig::parse("tokens:\n  t0123456789:\n    POST: [\"!\"]\n", u"f"_s, &daemonError));
    QCOMPARE(u"f:3: "_s + doc.saveBlockedReason(), daemonError);
    QCOMPARE(doc.saveBlockedReason(), u"POST: invalid pattern: pattern \"!\" negates nothing"_s);
    QCOMPARE(doc.patternProblem(1, AclList::Post, 1), doc.saveBlockedReason());
    QVERIFY(doc.patternProblem(1, AclList::Post, 0).isEmpty());
    QCOMPARE(doc.problems().size(), 1);
    QCOMPARE(doc.problems().first().token, 1);
    QCOMPARE(doc.problems().first().list, AclList::Post);
    QCOMPARE(doc.problems().first().pattern, 1);
    // The raw text stays so that it can be fixed.
    QCOMPARE(doc.token(1).lists[size_t(AclList::Post)]->at(1), u"!"_s);
    QVERIFY(!doc.save(&error));
    QCOMPARE(error, doc.saveBlockedReason());
    QCOMPARE(readFile(path), SAMPLE);

    QVERIFY(doc.insertPattern(1, AclList::Get, 0, QString()));
    QCOMPARE(doc.problems().size(), 2);
    QCOMPARE(doc.patternProblem(1, AclList::Get, 0), u"GET: invalid pattern: empty pattern"_s);
    QVERIFY(doc.removePattern(1, AclList::Get, 0));
    QVERIFY(doc.setPattern(1, AclList::Post, 1, u"!/quoted/secret"_s));
    QVERIFY(doc.canSave());
    QVERIFY(doc.saveBlockedReason().isEmpty());
    QVERIFY2(doc.save(&error), qPrintable(error));
}

void TestConfigDocument::addTokenUsesTheDaemonsKeyRules()
{
    ConfigDocument doc;
    QString error;
    QVERIFY(doc.open(samplePath(), &error));
    QVERIFY(!doc.addToken(u"literaltoken123"_s, &error));
    QCOMPARE(error, u"This token is already in the file."_s);
    QVERIFY(!doc.addToken(u"sha256:xyz"_s, &error));
    QCOMPARE(error, u"a \"sha256:\" token key needs exactly 64 hexadecimal digits"_s);
    QVERIFY(!doc.addToken(u"with space"_s, &error));
    QCOMPARE(error, u"a token key must be printable ASCII without spaces"_s);
    // The hashed form of a literal key already there names the same token.
    QVERIFY(!doc.addToken(UserConfig::hashedKey("literaltoken123"), &error));
    QCOMPARE(error, u"the same token is listed twice"_s);
    QVERIFY(!doc.isModified());
    QVERIFY(doc.addToken(UserConfig::hashedKey("new-token"), &error));
    QCOMPARE(doc.tokenCount(), 3);
    QVERIFY(doc.canSave());
}

using Edit = std::function<bool(ConfigDocument &)>;

void TestConfigDocument::undoRedo_data()
{
    QTest::addColumn<Edit>("edit");
    QTest::addRow("add token") << Edit([](ConfigDocument &d) { return d.addToken(u"another-token"_s); });
    QTest::addRow("remove token") << Edit([](ConfigDocument &d) { return d.removeToken(0); });
    QTest::addRow("admin") << Edit([](ConfigDocument &d) { return d.setAdmin(0, true); });
    QTest::addRow("expiry set") << Edit(
        [](ConfigDocument &d) { return d.setExpiresAt(0, QDateTime(QDate(2030, 5, 6), QTime(7, 8, 9), Qt::UTC)); });
    QTest::addRow("expiry removed") << Edit([](ConfigDocument &d) { return d.setExpiresAt(1, std::nullopt); });
    QTest::addRow("list added") << Edit([](ConfigDocument &d) { return d.setListPresent(0, AclList::Huproxy, true); });
    QTest::addRow("list removed") << Edit([](ConfigDocument &d) { return d.setListPresent(1, AclList::Put, false); });
    QTest::addRow("pattern added") << Edit(
        [](ConfigDocument &d) { return d.insertPattern(1, AclList::Delete, 0, u"/x"_s); });
    QTest::addRow("pattern edited") << Edit(
        [](ConfigDocument &d) { return d.setPattern(0, AclList::Get, 0, u"/other/*"_s); });
    QTest::addRow("pattern made invalid")
        << Edit([](ConfigDocument &d) { return d.setPattern(0, AclList::Get, 0, QString()); });
    QTest::addRow("pattern removed") << Edit([](ConfigDocument &d) { return d.removePattern(1, AclList::Post, 0); });
    QTest::addRow("pattern moved") << Edit([](ConfigDocument &d) { return d.movePattern(0, AclList::Get, 1, 0); });
    QTest::addRow("pattern negated") << Edit([](ConfigDocument &d) { return d.toggleNegation(0, AclList::Get, 0); });
    QTest::addRow("negation removed") << Edit([](ConfigDocument &d) { return d.toggleNegation(0, AclList::Get, 1); });
    QTest::addRow("ntfy type") << Edit([](ConfigDocument &d) {
        return d.setNtfy(u"gotify"_s, {{u"url"_s, u"https://gotify.example"_s}, {u"token"_s, u"t"_s}});
    });
    QTest::addRow("ntfy config") << Edit([](ConfigDocument &d) {
        QVariantMap config = d.ntfyConfig();
        config.insert(u"topic"_s, u"other"_s);
        return d.setNtfy(d.ntfyType(), config);
    });
    QTest::addRow("ntfy removed") << Edit([](ConfigDocument &d) { return d.setNtfy(QString(), {}); });
}

void TestConfigDocument::undoRedo()
{
    QFETCH(Edit, edit);
    ConfigDocument doc;
    QString error;
    QVERIFY(doc.open(samplePath(), &error));
    const DraftState before = doc.state();
    const QByteArray yamlBefore = doc.toUserConfig()->toYaml();
    QSignalSpy modified(&doc, &ConfigDocument::modifiedChanged);
    QVERIFY(edit(doc));
    const DraftState after = doc.state();
    QVERIFY(after != before);
    QVERIFY(doc.isModified());
    QCOMPARE(modified.size(), 1);
    QCOMPARE(doc.undoStack()->count(), 1);

    doc.undoStack()->undo();
    QVERIFY(doc.state() == before);
    QVERIFY(!doc.isModified());
    QCOMPARE(modified.size(), 2);
    QVERIFY(doc.canSave());
    QCOMPARE(doc.toUserConfig()->toYaml(), yamlBefore);

    doc.undoStack()->redo();
    QVERIFY(doc.state() == after);
    QVERIFY(doc.isModified());

    // Saving makes the edited state clean; undoing past it is a change again.
    if (doc.canSave()) {
        QVERIFY2(doc.save(&error), qPrintable(error));
        QVERIFY(!doc.isModified());
        doc.undoStack()->undo();
        QVERIFY(doc.state() == before);
        QVERIFY(doc.isModified());
    }
}

void TestConfigDocument::keystrokesMergeIntoOneStep()
{
    ConfigDocument doc;
    QString error;
    QVERIFY(doc.open(samplePath(), &error));
    const DraftState before = doc.state();
    QVERIFY(doc.setNtfy(u"ntfy"_s, {{u"url"_s, u"https://ntfy.sh"_s}, {u"topic"_s, u"a"_s}}));
    QVERIFY(doc.setNtfy(u"ntfy"_s, {{u"url"_s, u"https://ntfy.sh"_s}, {u"topic"_s, u"ab"_s}}));
    QCOMPARE(doc.undoStack()->count(), 1);
    // Another field is another step.
    QVERIFY(doc.setNtfy(u"ntfy"_s, {{u"url"_s, u"https://ntfy.example"_s}, {u"topic"_s, u"ab"_s}}));
    QCOMPARE(doc.undoStack()->count(), 2);
    QVERIFY(doc.setExpiresAt(0, QDateTime(QDate(2030, 1, 1), QTime(0, 0), Qt::UTC)));
    QVERIFY(doc.setExpiresAt(0, QDateTime(QDate(2031, 1, 1), QTime(0, 0), Qt::UTC)));
    QCOMPARE(doc.undoStack()->count(), 3);
    QVERIFY(doc.setExpiresAt(1, std::nullopt)); // another token
    QCOMPARE(doc.undoStack()->count(), 4);
    doc.undoStack()->undo();
    // Stepped back to the start: the merged step is gone.
    QVERIFY(doc.setExpiresAt(0, std::nullopt));
    QCOMPARE(doc.undoStack()->count(), 2);
    doc.undoStack()->undo();
    doc.undoStack()->undo();
    QVERIFY(doc.state() == before);
    QVERIFY(!doc.isModified());
}

void TestConfigDocument::toUserConfigFollowsTheEdits()
{
    ConfigDocument doc;
    QString error;
    QVERIFY(doc.open(samplePath(), &error));
    std::shared_ptr<const UserConfig> config = doc.toUserConfig();
    QVERIFY(config);
    QVERIFY(config->findToken("literaltoken123"));
    QVERIFY(!config->findToken("literaltoken123")->list(AclList::Get));
    QVERIFY(doc.insertPattern(1, AclList::Get, -1, u"/a/*"_s));
    config = doc.toUserConfig();
    QVERIFY(config->findToken("literaltoken123")->list(AclList::Get)->allows("/a/b"));
    QVERIFY(doc.removeToken(1));
    QVERIFY(!doc.toUserConfig()->findToken("literaltoken123"));
    // The ntfy block is checked by the notifier's own rules.
    QVERIFY(doc.setNtfy(u"ntfy"_s, {{u"url"_s, u"https://ntfy.sh"_s}}));
    QVERIFY(!doc.ntfyProblem().isEmpty());
    QCOMPARE(doc.problems().first().token, -1);
    QVERIFY(!doc.canSave());
    QCOMPARE(doc.saveBlockedReason(), doc.ntfyProblem());
    // Still good for the ACL tester: the tokens are valid.
    QVERIFY(doc.toUserConfig());
    QVERIFY(doc.insertPattern(0, AclList::Get, 0, u"!"_s));
    QVERIFY(!doc.toUserConfig());
}

void TestConfigDocument::fileModeKeptNewFilesPrivate()
{
    ConfigDocument doc;
    QString error;
    const QString path = samplePath();
    const QFileDevice::Permissions groupRead = QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadUser
                                               | QFileDevice::WriteUser | QFileDevice::ReadGroup;
    QVERIFY(QFile::setPermissions(path, groupRead));
    QVERIFY(doc.open(path, &error));
    QVERIFY(doc.setAdmin(0, true));
    QVERIFY2(doc.save(&error), qPrintable(error));
    QCOMPARE(QFile::permissions(path), groupRead);

    ConfigDocument fresh;
    QVERIFY(fresh.filePath().isEmpty());
    QVERIFY(!fresh.save(&error));
    QVERIFY(fresh.addToken(UserConfig::hashedKey("t"), &error));
    const QString newPath = m_dir->filePath(u"sub/dir/new.yaml"_s);
    QVERIFY2(fresh.saveAs(newPath, &error), qPrintable(error));
    QCOMPARE(QFile::permissions(newPath),
             QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadUser | QFileDevice::WriteUser);
    QVERIFY(UserConfig::parse(readFile(newPath), newPath)->tokenEntry(UserConfig::hashedKey("t")));
}

void TestConfigDocument::commentDetection_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<bool>("comments");
    QTest::addRow("none") << QByteArray("tokens:\n  a:\n    GET: [\"/x\"]\n") << false;
    QTest::addRow("whole line") << QByteArray("# owner\ntokens: {}\n") << true;
    QTest::addRow("indented") << QByteArray("tokens:\n  # note\n  a: {}\n") << true;
    QTest::addRow("after a value") << QByteArray("tokens: {} # none yet\n") << true;
    QTest::addRow("in a plain scalar") << QByteArray("url: http://x/#frag\n") << false;
    QTest::addRow("in double quotes") << QByteArray("a: \"x # y\"\n") << false;
    QTest::addRow("escaped quote") << QByteArray("a: \"x \\\" # y\"\n") << false;
    QTest::addRow("in single quotes") << QByteArray("a: 'it''s # not'\n") << false;
    QTest::addRow("quoted over lines") << QByteArray("a: \"one\n  # two\"\n") << false;
    QTest::addRow("apostrophe in a plain scalar") << QByteArray("a: it's # yes\n") << true;
    QTest::addRow("in a flow list") << QByteArray("GET: [\"/a#b\", '/c #d'] # e\n") << true;
    QTest::addRow("in a flow list only") << QByteArray("GET: [\"/a #b\", '/c #d']\n") << false;
}

void TestConfigDocument::commentDetection()
{
    QFETCH(QByteArray, yaml);
    QFETCH(bool, comments);
    QCOMPARE(ConfigDocument::containsComments(yaml), comments);
}

void TestConfigDocument::commentsReportedUntilSaved()
{
    const QString path = m_dir->filePath(u"commented.yaml"_s);
    QVERIFY(writeFile(path, "# alice's tokens\ntokens:\n  abcdefgh1234: {GET: [\"/x\"]} # read only\n"));
    ConfigDocument doc;
    QString error;
    QVERIFY(doc.open(path, &error));
    QVERIFY(doc.hasComments());
    QVERIFY2(doc.save(&error), qPrintable(error));
    QVERIFY(!doc.hasComments());
    QVERIFY(!readFile(path).contains('#'));
    QVERIFY(doc.open(samplePath(), &error));
    QVERIFY(!doc.hasComments());
}

void TestConfigDocument::externalChangeDetected()
{
    ConfigDocument doc;
    QString error;
    const QString path = samplePath();
    QVERIFY(doc.open(path, &error));
    QSignalSpy changedOnDisk(&doc, &ConfigDocument::changedOnDisk);
    // Our own save is not an external change.
    QVERIFY(doc.setAdmin(0, true));
    QVERIFY2(doc.save(&error), qPrintable(error));

    // Rewritten in place.
    const QByteArray external = "tokens:\n  externaltoken: {GET: [\"/e\"]}\n";
    QVERIFY(writeFile(path, external));
    QVERIFY(changedOnDisk.wait(timeoutMs(5000)));
    QCOMPARE(changedOnDisk.size(), 1);
    QVERIFY(doc.reload(&error));
    QCOMPARE(doc.tokenKeys(), QStringList({u"externaltoken"_s}));
    QVERIFY(!doc.isModified());

    // Replaced (a new file moved over it), twice: the watch follows the new file.
    for (const QByteArray &bytes : {QByteArray("tokens:\n  replaced1abc: {}\n"), QByteArray("tokens: {}\n")}) {
        changedOnDisk.clear();
        const QString temporary = m_dir->filePath(u"config.yaml.tmp"_s);
        QVERIFY(writeFile(temporary, bytes));
        QVERIFY(QFile::remove(path));
        QVERIFY(QFile::rename(temporary, path));
        QTRY_COMPARE_WITH_TIMEOUT(changedOnDisk.size(), 1, timeoutMs(5000));
        QVERIFY(doc.reload(&error));
        QCOMPARE(doc.toUserConfig()->toYaml(), bytes);
    }
}

void TestConfigDocument::saveChecksTheWrittenBytes()
{
    ConfigDocument doc;
    QString error;
    const QString path = samplePath();
    QVERIFY(doc.open(path, &error));
    // A year the YAML timestamp cannot spell: the written file would not load, so nothing is written.
    QVERIFY(doc.setExpiresAt(0, QDateTime(QDate(12345, 1, 1), QTime(0, 0), Qt::UTC)));
    QVERIFY(doc.canSave());
    QSignalSpy saved(&doc, &ConfigDocument::saved);
    QVERIFY(!doc.save(&error));
    QVERIFY2(error.startsWith(u"Not saved: the file written would not load: "_s + path + u':'), qPrintable(error));
    QVERIFY(error.contains(u"expires_at must be a timestamp"_s));
    QCOMPARE(readFile(path), SAMPLE);
    QCOMPARE(saved.size(), 0);
    QVERIFY(doc.isModified());
}

void TestConfigDocument::recentFiles()
{
    QSettings settings(m_dir->filePath(u"settings.ini"_s), QSettings::IniFormat);
    for (int i = 0; i < 10; ++i) {
        ConfigDocument::addRecentFile(settings, m_dir->filePath(u"f%1.yaml"_s.arg(i)));
    }
    ConfigDocument::addRecentFile(settings, m_dir->filePath(u"f5.yaml"_s));
    const QStringList recent = ConfigDocument::recentFiles(settings);
    QCOMPARE(recent.size(), ConfigDocument::MaxRecentFiles);
    QCOMPARE(recent.first(), m_dir->filePath(u"f5.yaml"_s));
    QCOMPARE(recent.at(1), m_dir->filePath(u"f9.yaml"_s));
    QCOMPARE(recent.count(m_dir->filePath(u"f5.yaml"_s)), 1);
    QVERIFY(!recent.contains(m_dir->filePath(u"f0.yaml"_s)));
}

void TestConfigDocument::relayUsers()
{
    const QString usersDir = m_dir->filePath(u"users"_s);
    QVERIFY(QDir().mkpath(usersDir + u"/bob"_s));
    QVERIFY(QDir().mkpath(usersDir + u"/alice"_s));
    QVERIFY(writeFile(usersDir + u"/alice/config.yaml"_s, SAMPLE));
    QVERIFY(writeFile(usersDir + u"/stray.yaml"_s, SAMPLE));
    QCOMPARE(ConfigDocument::relayUsers(usersDir), QStringList({u"alice"_s, u"bob"_s}));

    ConfigDocument doc;
    QString error;
    QVERIFY(doc.openRelayUser(usersDir, u"alice"_s, &error));
    QCOMPARE(doc.tokenCount(), 2);
    QVERIFY(doc.openRelayUser(usersDir, u"bob"_s, &error));
    QCOMPARE(doc.tokenCount(), 0);
    QCOMPARE(doc.filePath(), usersDir + u"/bob/config.yaml"_s);
    QVERIFY(doc.addToken(UserConfig::hashedKey("bobs-token"), &error));
    QVERIFY(doc.insertPattern(0, AclList::Get, -1, u"/notifications"_s));
    QVERIFY2(doc.save(&error), qPrintable(error));
    const auto saved = UserConfig::parse(readFile(doc.filePath()), doc.filePath());
    QVERIFY(saved->findToken("bobs-token")->list(AclList::Get)->allows("/notifications"));
}

QTEST_MAIN(TestConfigDocument)
#include "tst_configdocument.moc"
