// SPDX-License-Identifier: MIT
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include "access/directoryconfigsource.h"
#include "descriptorexhaustion.h"
#include "testutil.h"

using namespace Qt::StringLiterals;
using Patchwork::ConfigLookup;
using Patchwork::DirectoryConfigSource;

namespace
{

// The protocol promises that a change takes effect within 2 s.
constexpr int CHANGE_DEADLINE_MS = 2000;

QByteArray configWithToken(const QByteArray &token)
{
    return "tokens:\n  " + token + ":\n    GET: [\"*\"]\n";
}

} // namespace

class TestDirectoryConfigSource final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void missingDirectoryMeansNoConfig();
    void readsUsers();
    void lookupIsSynchronousAndParsedOnce();
    void changedFileTakesEffect();
    void replacedFileTakesEffect();
    void addedAndRemovedFiles();
    void brokenFileIsUnavailableForThatUserOnly();
    void pollCatchesWhatWatchersMiss();
    void directoryCreatedLater();
    void invalidateAndReload();
    void oversizedFileIsUnavailable();
    void failedListingKeepsUsers();

private:
    bool writeConfig(const QString &user, const QByteArray &content);
    // The state and the token a lookup sees right now.
    ConfigLookup lookupNow(DirectoryConfigSource &source, const QString &user);
    bool hasToken(DirectoryConfigSource &source, const QString &user, const QByteArray &token);

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestDirectoryConfigSource::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
}

void TestDirectoryConfigSource::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

bool TestDirectoryConfigSource::writeConfig(const QString &user, const QByteArray &content)
{
    if (!QDir(m_dir->path()).mkpath(user)) {
        return false;
    }
    QFile file(m_dir->filePath(user + u"/config.yaml"_s));
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        return false;
    }
    return file.write(content) == content.size();
}

ConfigLookup TestDirectoryConfigSource::lookupNow(DirectoryConfigSource &source, const QString &user)
{
    ConfigLookup result;
    bool called = false;
    source.lookup(user, this, [&](const ConfigLookup &lookup) {
        result = lookup;
        called = true;
    });
    if (!called) {
        qFatal("DirectoryConfigSource must answer synchronously");
    }
    return result;
}

bool TestDirectoryConfigSource::hasToken(DirectoryConfigSource &source, const QString &user, const QByteArray &token)
{
    const ConfigLookup lookup = lookupNow(source, user);
    return lookup.state == ConfigLookup::State::Found && lookup.config->findToken(token);
}

void TestDirectoryConfigSource::missingDirectoryMeansNoConfig()
{
    DirectoryConfigSource source(m_dir->filePath(u"does-not-exist"_s));
    QCOMPARE(lookupNow(source, u"alice"_s).state, ConfigLookup::State::NoConfig);
    QCOMPARE(lookupNow(source, u"../etc"_s).state, ConfigLookup::State::NoConfig);
}

void TestDirectoryConfigSource::failedListingKeepsUsers()
{
    QVERIFY(writeConfig(u"alice"_s, configWithToken("alice-token")));
    DirectoryConfigSource source(m_dir->path());
    source.setPollInterval(0);
    source.setWatching(false);
    QVERIFY(hasToken(source, u"alice"_s, "alice-token"));
    {
        // Out of descriptors (a connection flood): the directory cannot be listed, which must not
        // read as "every user directory was removed".
        Patchwork::Test::DescriptorExhaustion exhausted;
        QVERIFY(exhausted.isActive());
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"^cannot list the users directory .*"_s));
        source.invalidate(u"bob"_s); // a scan
        exhausted.release();
        QVERIFY(hasToken(source, u"alice"_s, "alice-token"));
    }
    // The next scan that can list the directory sees changes again.
    QVERIFY(writeConfig(u"carol"_s, configWithToken("carol-token")));
    source.invalidate(u"carol"_s);
    QVERIFY(hasToken(source, u"carol"_s, "carol-token"));
    QVERIFY(hasToken(source, u"alice"_s, "alice-token"));
}

void TestDirectoryConfigSource::readsUsers()
{
    QVERIFY(writeConfig(u"alice"_s, configWithToken("alice-token")));
    QVERIFY(writeConfig(u"bob"_s, configWithToken("bob-token")));
    QVERIFY(QDir(m_dir->path()).mkpath(u"carol"_s)); // a user directory without a file
    QVERIFY(writeConfig(u"dave"_s, QByteArray())); // an empty file: no tokens

    DirectoryConfigSource source(m_dir->path());
    QVERIFY(hasToken(source, u"alice"_s, "alice-token"));
    QVERIFY(!hasToken(source, u"alice"_s, "bob-token"));
    QVERIFY(hasToken(source, u"bob"_s, "bob-token"));
    QCOMPARE(lookupNow(source, u"carol"_s).state, ConfigLookup::State::NoConfig);
    const ConfigLookup dave = lookupNow(source, u"dave"_s);
    QCOMPARE(dave.state, ConfigLookup::State::Found);
    QCOMPARE(dave.config->tokenCount(), 0);
    QCOMPARE(lookupNow(source, u"nobody"_s).state, ConfigLookup::State::NoConfig);
    QCOMPARE(source.configPath(u"alice"_s), QDir(m_dir->path()).absoluteFilePath(u"alice/config.yaml"_s));
}

void TestDirectoryConfigSource::lookupIsSynchronousAndParsedOnce()
{
    QVERIFY(writeConfig(u"alice"_s, configWithToken("t")));
    DirectoryConfigSource source(m_dir->path());
    const ConfigLookup first = lookupNow(source, u"alice"_s);
    const ConfigLookup second = lookupNow(source, u"alice"_s);
    QCOMPARE(first.state, ConfigLookup::State::Found);
    // The same parsed object: nothing is parsed per request.
    QCOMPARE(first.config.get(), second.config.get());
    // Polling an unchanged file does not re-parse it either: once a poll saw a new file, alice's is
    // still the same object.
    source.setWatching(false);
    source.setPollInterval(20);
    QVERIFY(writeConfig(u"bob"_s, configWithToken("b")));
    QTRY_VERIFY_WITH_TIMEOUT(hasToken(source, u"bob"_s, "b"), Patchwork::Test::timeoutMs(CHANGE_DEADLINE_MS));
    QCOMPARE(lookupNow(source, u"alice"_s).config.get(), first.config.get());
}

void TestDirectoryConfigSource::changedFileTakesEffect()
{
    QVERIFY(writeConfig(u"alice"_s, configWithToken("old-token")));
    DirectoryConfigSource source(m_dir->path());
    QVERIFY(hasToken(source, u"alice"_s, "old-token"));

    QVERIFY(writeConfig(u"alice"_s, configWithToken("new-token")));
    QTRY_VERIFY_WITH_TIMEOUT(hasToken(source, u"alice"_s, "new-token"), Patchwork::Test::timeoutMs(CHANGE_DEADLINE_MS));
    QVERIFY(!hasToken(source, u"alice"_s, "old-token"));

    // Same size, rewritten in place.
    QVERIFY(writeConfig(u"alice"_s, configWithToken("nxw-token")));
    QTRY_VERIFY_WITH_TIMEOUT(hasToken(source, u"alice"_s, "nxw-token"), Patchwork::Test::timeoutMs(CHANGE_DEADLINE_MS));
}

void TestDirectoryConfigSource::replacedFileTakesEffect()
{
    // Editors that save atomically write a new file and rename it over the old one.
    QVERIFY(writeConfig(u"alice"_s, configWithToken("old-token")));
    DirectoryConfigSource source(m_dir->path());
    QVERIFY(hasToken(source, u"alice"_s, "old-token"));

    for (const QByteArray &token : {"second-token"_ba, "third-token"_ba}) {
        QSaveFile file(m_dir->filePath(u"alice/config.yaml"_s));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(configWithToken(token));
        QVERIFY(file.commit());
        QTRY_VERIFY_WITH_TIMEOUT(hasToken(source, u"alice"_s, token), Patchwork::Test::timeoutMs(CHANGE_DEADLINE_MS));
    }
}

void TestDirectoryConfigSource::addedAndRemovedFiles()
{
    QVERIFY(writeConfig(u"alice"_s, configWithToken("a")));
    DirectoryConfigSource source(m_dir->path());
    QCOMPARE(lookupNow(source, u"bob"_s).state, ConfigLookup::State::NoConfig);

    // A new user directory with a file.
    QVERIFY(writeConfig(u"bob"_s, configWithToken("b")));
    QTRY_VERIFY_WITH_TIMEOUT(hasToken(source, u"bob"_s, "b"), Patchwork::Test::timeoutMs(CHANGE_DEADLINE_MS));

    // A file added to an existing user directory.
    QVERIFY(QDir(m_dir->path()).mkpath(u"carol"_s));
    QTest::qWait(Patchwork::Test::timeoutMs(100));
    QVERIFY(writeConfig(u"carol"_s, configWithToken("c")));
    QTRY_VERIFY_WITH_TIMEOUT(hasToken(source, u"carol"_s, "c"), Patchwork::Test::timeoutMs(CHANGE_DEADLINE_MS));

    // A removed file, then a removed directory.
    QVERIFY(QFile::remove(m_dir->filePath(u"alice/config.yaml"_s)));
    QTRY_COMPARE_WITH_TIMEOUT(lookupNow(source, u"alice"_s).state,
                              ConfigLookup::State::NoConfig,
                              Patchwork::Test::timeoutMs(CHANGE_DEADLINE_MS));
    QVERIFY(QDir(m_dir->filePath(u"bob"_s)).removeRecursively());
    QTRY_COMPARE_WITH_TIMEOUT(lookupNow(source, u"bob"_s).state,
                              ConfigLookup::State::NoConfig,
                              Patchwork::Test::timeoutMs(CHANGE_DEADLINE_MS));
    QVERIFY(hasToken(source, u"carol"_s, "c"));
}

void TestDirectoryConfigSource::brokenFileIsUnavailableForThatUserOnly()
{
    QVERIFY(writeConfig(u"alice"_s, configWithToken("a")));
    QVERIFY(writeConfig(u"bob"_s, configWithToken("b")));
    DirectoryConfigSource source(m_dir->path());
    QSignalSpy errors(&source, &Patchwork::ConfigSource::errorOccurred);

    const QString path = source.configPath(u"alice"_s);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"^"_s + QRegularExpression::escape(path) + u":3: "_s));
    QVERIFY(writeConfig(u"alice"_s, "tokens:\n  a:\n    GET: \"not a list\"\n"));
    QTRY_COMPARE_WITH_TIMEOUT(lookupNow(source, u"alice"_s).state,
                              ConfigLookup::State::Unavailable,
                              Patchwork::Test::timeoutMs(CHANGE_DEADLINE_MS));
    const ConfigLookup broken = lookupNow(source, u"alice"_s);
    QVERIFY(!broken.config);
    QCOMPARE(broken.error, path + u":3: GET must be a list of strings"_s);
    QCOMPARE(errors.size(), 1);
    QCOMPARE(errors.first().first().toString(), broken.error);
    // The other user is unaffected.
    QVERIFY(hasToken(source, u"bob"_s, "b"));

    // Fixing the file brings the user back.
    QVERIFY(writeConfig(u"alice"_s, configWithToken("fixed")));
    QTRY_VERIFY_WITH_TIMEOUT(hasToken(source, u"alice"_s, "fixed"), Patchwork::Test::timeoutMs(CHANGE_DEADLINE_MS));
    QCOMPARE(errors.size(), 1);
}

void TestDirectoryConfigSource::pollCatchesWhatWatchersMiss()
{
    QVERIFY(writeConfig(u"alice"_s, configWithToken("old-token")));
    DirectoryConfigSource source(m_dir->path());
    // As on a network file system, where inotify sees no remote changes: only the poll is left.
    source.setWatching(false);
    QVERIFY(writeConfig(u"alice"_s, configWithToken("new-token")));
    QVERIFY(writeConfig(u"bob"_s, configWithToken("bob-token")));
    QTRY_VERIFY_WITH_TIMEOUT(hasToken(source, u"alice"_s, "new-token"), Patchwork::Test::timeoutMs(CHANGE_DEADLINE_MS));
    QTRY_VERIFY_WITH_TIMEOUT(hasToken(source, u"bob"_s, "bob-token"), Patchwork::Test::timeoutMs(CHANGE_DEADLINE_MS));
}

void TestDirectoryConfigSource::directoryCreatedLater()
{
    // A users directory that does not exist yet cannot be watched: the poll finds it.
    const QString usersDir = m_dir->filePath(u"later"_s);
    DirectoryConfigSource source(usersDir);
    QCOMPARE(lookupNow(source, u"alice"_s).state, ConfigLookup::State::NoConfig);
    QVERIFY(QDir().mkpath(usersDir + u"/alice"_s));
    QFile file(usersDir + u"/alice/config.yaml"_s);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(configWithToken("late"));
    file.close();
    QTRY_VERIFY_WITH_TIMEOUT(hasToken(source, u"alice"_s, "late"), Patchwork::Test::timeoutMs(CHANGE_DEADLINE_MS));

    // And the directory disappearing again.
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"users directory .* disappeared"_s));
    QVERIFY(QDir(usersDir).removeRecursively());
    QTRY_COMPARE_WITH_TIMEOUT(lookupNow(source, u"alice"_s).state,
                              ConfigLookup::State::NoConfig,
                              Patchwork::Test::timeoutMs(CHANGE_DEADLINE_MS));
}

void TestDirectoryConfigSource::invalidateAndReload()
{
    QVERIFY(writeConfig(u"alice"_s, configWithToken("a")));
    DirectoryConfigSource source(m_dir->path());
    source.setPollInterval(0);
    const ConfigLookup before = lookupNow(source, u"alice"_s);

    // Re-reading an unchanged file on request gives a fresh parse.
    source.invalidate(u"alice"_s);
    const ConfigLookup afterInvalidate = lookupNow(source, u"alice"_s);
    QVERIFY(afterInvalidate.config);
    QVERIFY(afterInvalidate.config.get() != before.config.get());

    source.reload();
    const ConfigLookup afterReload = lookupNow(source, u"alice"_s);
    QVERIFY(afterReload.config);
    QVERIFY(afterReload.config.get() != afterInvalidate.config.get());

    // invalidate() also discovers a user that appeared since the last scan.
    QVERIFY(writeConfig(u"zed"_s, configWithToken("z")));
    source.invalidate(u"zed"_s);
    QVERIFY(hasToken(source, u"zed"_s, "z"));
}

void TestDirectoryConfigSource::oversizedFileIsUnavailable()
{
    QByteArray big = configWithToken("a");
    big += "# " + QByteArray(DirectoryConfigSource::MAX_FILE_SIZE, 'x') + "\n";
    QVERIFY(writeConfig(u"alice"_s, big));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"config.yaml: .*larger than"_s));
    DirectoryConfigSource source(m_dir->path());
    QCOMPARE(lookupNow(source, u"alice"_s).state, ConfigLookup::State::Unavailable);
}

QTEST_GUILESS_MAIN(TestDirectoryConfigSource)
#include "tst_directoryconfigsource.moc"
