// SPDX-License-Identifier: MIT
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <sys/stat.h>

#include "access/hooksecret.h"

using namespace Qt::StringLiterals;
using Patchwork::HookSecret;

namespace
{

// Known answers computed independently with
//   printf '%s' 'h:c' | openssl dgst -sha256 -hmac 'patchwork-test-key'
// and, for the binary key 00 01 … 1f,
//   printf 'h:c' | openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f
const QByteArray TEXT_KEY = "patchwork-test-key"_ba;
const QByteArray TEXT_KEY_H_C = "b6d8f49af5590db68993a3450871e06fe9bcb570ef4d1f732a77ef629aa68d08"_ba;
const QByteArray BINARY_KEY_H_C = "25fd2c6e00a4d24761f075ab67e9983f0eac70456d0c7680b250d53338deece6"_ba;

QByteArray binaryKey()
{
    QByteArray key;
    for (int i = 0; i < 32; ++i) {
        key.append(char(i));
    }
    return key;
}

int fileMode(const QString &path)
{
    struct stat info
    {
    };
    if (::stat(QFile::encodeName(path).constData(), &info) != 0) {
        return -1;
    }
    return int(info.st_mode & 0777);
}

bool writeFile(const QString &path, const QByteArray &content, QFileDevice::Permissions permissions)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size()) {
        return false;
    }
    file.close();
    return file.setPermissions(permissions);
}

} // namespace

class TestHookSecret final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void knownAnswers_data();
    void knownAnswers();
    void verify_data();
    void verify();
    void constantTimeEquals_data();
    void constantTimeEquals();
    void copiesAreIndependent();

    void generatesKeyFileWithMode0600();
    void reusesExistingFile();
    void generatedKeySurvivesRestart();
    void environmentTakesPrecedence();
    void emptyEnvironmentFallsBackToFile();
    void emptyFileIsAnError();
    void uncreatableDirectoryIsAnError();
    void readableByOthersWarns();

    void uuidV4();
    void channelName_data();
    void channelName();
};

void TestHookSecret::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
}

void TestHookSecret::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
    qunsetenv("SECRET_KEY");
}

void TestHookSecret::cleanup()
{
    qunsetenv("SECRET_KEY");
}

void TestHookSecret::knownAnswers_data()
{
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<char>("kind");
    QTest::addColumn<QByteArray>("channel");
    QTest::addColumn<QByteArray>("expected");

    QTest::addRow("text key, h:c") << TEXT_KEY << 'h' << "c"_ba << TEXT_KEY_H_C;
    QTest::addRow("text key, r:some/channel") << TEXT_KEY << 'r' << "some/channel"_ba
                                              << "c63d918a813390864da466a1cdec44d2d813fa4b3332afe93a1c70c809a2ed88"_ba;
    QTest::addRow("text key, empty channel")
        << TEXT_KEY << 'h' << QByteArray() << "1cc2da03e0b47ccc91d66f43c6f8726181aede0ed42fadce6dba8f2e4a902cf9"_ba;
    // Longer than the SHA-256 block: HMAC hashes the key first.
    QTest::addRow("100-byte key") << QByteArray(100, 'k') << 'h' << "c"_ba
                                  << "7ec481db3c145e5977400334ae2b66b65fbc4136179fe45ed099aada73aa8ba0"_ba;
    QTest::addRow("binary 32-byte key") << binaryKey() << 'h' << "c"_ba << BINARY_KEY_H_C;
}

void TestHookSecret::knownAnswers()
{
    QFETCH(QByteArray, key);
    QFETCH(char, kind);
    QFETCH(QByteArray, channel);
    QFETCH(QByteArray, expected);

    const HookSecret secret = HookSecret::fromKey(key);
    QCOMPARE(secret.secretFor(kind, channel), expected);
    // Twice: the hashing context is reused.
    QCOMPARE(secret.secretFor(kind, channel), expected);
    QVERIFY(secret.verify(kind, channel, expected));
    const char otherKind = kind == 'h' ? 'r' : 'h';
    QVERIFY(secret.secretFor(otherKind, channel) != expected);
    QVERIFY(!secret.verify(otherKind, channel, expected));
}

void TestHookSecret::verify_data()
{
    QTest::addColumn<QByteArray>("presented");
    QTest::addColumn<bool>("expected");

    QByteArray lastCharChanged = TEXT_KEY_H_C;
    lastCharChanged.back() = '9';
    QByteArray firstCharChanged = TEXT_KEY_H_C;
    firstCharChanged.front() = 'a';

    QTest::addRow("exact") << TEXT_KEY_H_C << true;
    QTest::addRow("last character differs") << lastCharChanged << false;
    QTest::addRow("first character differs") << firstCharChanged << false;
    QTest::addRow("uppercase hex") << TEXT_KEY_H_C.toUpper() << false;
    QTest::addRow("one character short") << TEXT_KEY_H_C.chopped(1) << false;
    QTest::addRow("one character more") << TEXT_KEY_H_C + '0' << false;
    QTest::addRow("twice") << TEXT_KEY_H_C + TEXT_KEY_H_C << false;
    QTest::addRow("empty") << QByteArray() << false;
    QTest::addRow("secret of another channel")
        << "c63d918a813390864da466a1cdec44d2d813fa4b3332afe93a1c70c809a2ed88"_ba << false;
}

void TestHookSecret::verify()
{
    QFETCH(QByteArray, presented);
    QFETCH(bool, expected);
    const HookSecret secret = HookSecret::fromKey(TEXT_KEY);
    QCOMPARE(secret.verify('h', "c", presented), expected);
}

void TestHookSecret::constantTimeEquals_data()
{
    QTest::addColumn<QByteArray>("a");
    QTest::addColumn<QByteArray>("b");
    QTest::addColumn<bool>("expected");

    QTest::addRow("equal") << "abcdef"_ba
                           << "abcdef"_ba << true;
    QTest::addRow("both empty") << QByteArray() << QByteArray() << true;
    QTest::addRow("differ in the middle") << "abcdef"_ba
                                          << "abXdef"_ba << false;
    QTest::addRow("differ in one bit") << "abcdef"_ba
                                       << "abcdeg"_ba << false;
    QTest::addRow("prefix of the other") << "abcdef"_ba
                                         << "abc"_ba << false;
    QTest::addRow("other is longer") << "abc"_ba
                                     << "abcdef"_ba << false;
    QTest::addRow("expected empty") << QByteArray() << "a"_ba << false;
    QTest::addRow("presented empty") << "a"_ba << QByteArray() << false;
    QTest::addRow("embedded NUL") << QByteArray("a\0b", 3) << QByteArray("a\0c", 3) << false;
}

void TestHookSecret::constantTimeEquals()
{
    QFETCH(QByteArray, a);
    QFETCH(QByteArray, b);
    QFETCH(bool, expected);
    QCOMPARE(HookSecret::constantTimeEquals(a, b), expected);
}

void TestHookSecret::copiesAreIndependent()
{
    const HookSecret original = HookSecret::fromKey(TEXT_KEY);
    HookSecret copy = original;
    QCOMPARE(copy.secretFor('h', "c"), TEXT_KEY_H_C);
    HookSecret other = HookSecret::fromKey(binaryKey());
    QCOMPARE(other.secretFor('h', "c"), BINARY_KEY_H_C);
    other = copy;
    QCOMPARE(other.secretFor('h', "c"), TEXT_KEY_H_C);
    HookSecret moved = std::move(copy);
    QCOMPARE(moved.secretFor('h', "c"), TEXT_KEY_H_C);
    QCOMPARE(original.secretFor('h', "c"), TEXT_KEY_H_C);
}

void TestHookSecret::generatesKeyFileWithMode0600()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString dataDir = tmp.filePath(u"state/patchwork"_s);
    const QString keyPath = dataDir + u"/secret_key"_s;
    QTest::ignoreMessage(QtInfoMsg, QByteArray("Created a new server secret key in " + keyPath.toUtf8()).constData());

    QString error;
    const auto secret = HookSecret::load(dataDir, &error);
    QVERIFY2(secret, qPrintable(error));
    QCOMPARE(secret->source(), HookSecret::Source::Generated);
    QCOMPARE(fileMode(keyPath), 0600);

    QFile file(keyPath);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray key = file.readAll();
    QCOMPARE(key.size(), HookSecret::GeneratedKeySize);
    QCOMPARE(secret->secretFor('h', "c"), HookSecret::fromKey(key).secretFor('h', "c"));
    // No temporary file of the atomic write is left behind.
    QCOMPARE(QDir(dataDir).entryList(QDir::Files | QDir::Hidden), QStringList{u"secret_key"_s});
}

void TestHookSecret::reusesExistingFile()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString keyPath = tmp.filePath(u"secret_key"_s);
    QVERIFY(writeFile(keyPath, binaryKey(), QFileDevice::ReadOwner | QFileDevice::WriteOwner));

    QString error;
    const auto secret = HookSecret::load(tmp.path(), &error);
    QVERIFY2(secret, qPrintable(error));
    QCOMPARE(secret->source(), HookSecret::Source::File);
    QCOMPARE(secret->secretFor('h', "c"), BINARY_KEY_H_C);

    QFile file(keyPath);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), binaryKey());
}

void TestHookSecret::generatedKeySurvivesRestart()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    QTest::ignoreMessage(QtInfoMsg, QRegularExpression(u"^Created a new server secret key in "_s));
    const auto first = HookSecret::load(tmp.path());
    QVERIFY(first);
    const auto second = HookSecret::load(tmp.path());
    QVERIFY(second);
    QCOMPARE(second->source(), HookSecret::Source::File);
    QCOMPARE(second->secretFor('r', "x"), first->secretFor('r', "x"));

    QTemporaryDir otherTmp;
    QVERIFY(otherTmp.isValid());
    QTest::ignoreMessage(QtInfoMsg, QRegularExpression(u"^Created a new server secret key in "_s));
    const auto other = HookSecret::load(otherTmp.path());
    QVERIFY(other);
    QVERIFY(other->secretFor('r', "x") != first->secretFor('r', "x"));
}

void TestHookSecret::environmentTakesPrecedence()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    QVERIFY(writeFile(tmp.filePath(u"secret_key"_s), binaryKey(), QFileDevice::ReadOwner | QFileDevice::WriteOwner));
    qputenv("SECRET_KEY", TEXT_KEY);

    const auto secret = HookSecret::load(tmp.path());
    QVERIFY(secret);
    QCOMPARE(secret->source(), HookSecret::Source::Environment);
    QCOMPARE(secret->secretFor('h', "c"), TEXT_KEY_H_C);

    // With the environment variable nothing is written, and no data directory is needed.
    const QString unused = tmp.filePath(u"unused"_s);
    const auto fromEnvOnly = HookSecret::load(unused);
    QVERIFY(fromEnvOnly);
    QVERIFY(!QFileInfo::exists(unused));
    QVERIFY(HookSecret::load(QString()));
}

void TestHookSecret::emptyEnvironmentFallsBackToFile()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    QVERIFY(writeFile(tmp.filePath(u"secret_key"_s), binaryKey(), QFileDevice::ReadOwner | QFileDevice::WriteOwner));
    qputenv("SECRET_KEY", QByteArray());

    const auto secret = HookSecret::load(tmp.path());
    QVERIFY(secret);
    QCOMPARE(secret->source(), HookSecret::Source::File);
    QCOMPARE(secret->secretFor('h', "c"), BINARY_KEY_H_C);
}

void TestHookSecret::emptyFileIsAnError()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString keyPath = tmp.filePath(u"secret_key"_s);
    QVERIFY(writeFile(keyPath, QByteArray(), QFileDevice::ReadOwner | QFileDevice::WriteOwner));

    QString error;
    QVERIFY(!HookSecret::load(tmp.path(), &error));
    QVERIFY2(error.contains(keyPath), qPrintable(error));
    QCOMPARE(QFileInfo(keyPath).size(), 0); // not overwritten
}

void TestHookSecret::uncreatableDirectoryIsAnError()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    // A regular file where the data directory should be: fails even for root.
    const QString notADir = tmp.filePath(u"file"_s);
    QVERIFY(writeFile(notADir, "x"_ba, QFileDevice::ReadOwner | QFileDevice::WriteOwner));

    QString error;
    QVERIFY(!HookSecret::load(notADir + u"/data"_s, &error));
    QVERIFY2(error.contains(notADir), qPrintable(error));

    error.clear();
    QVERIFY(!HookSecret::load(QString(), &error));
    QVERIFY(!error.isEmpty());
}

void TestHookSecret::readableByOthersWarns()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString keyPath = tmp.filePath(u"secret_key"_s);
    QVERIFY(
        writeFile(keyPath,
                  binaryKey(),
                  QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadGroup | QFileDevice::ReadOther));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"is readable by other users"_s));
    const auto secret = HookSecret::load(tmp.path());
    QVERIFY(secret);
    QCOMPARE(secret->secretFor('h', "c"), BINARY_KEY_H_C);
}

void TestHookSecret::uuidV4()
{
    static const QRegularExpression format(u"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"_s);
    QSet<QByteArray> seen;
    // Each of the 122 random bits is seen both set and clear.
    QByteArray anyBits(16, '\0');
    QByteArray allBits(16, '\xff');
    constexpr int Samples = 2000;
    for (int i = 0; i < Samples; ++i) {
        const QByteArray uuid = HookSecret::newUuidV4();
        QVERIFY2(format.match(QString::fromLatin1(uuid)).hasMatch(), uuid.constData());
        const QUuid parsed = QUuid::fromString(QLatin1StringView(uuid));
        QCOMPARE(parsed.version(), QUuid::Random);
        QCOMPARE(parsed.variant(), QUuid::DCE);
        const QByteArray raw = parsed.toRfc4122();
        for (int b = 0; b < 16; ++b) {
            anyBits[b] = char(anyBits[b] | raw[b]);
            allBits[b] = char(allBits[b] & raw[b]);
        }
        seen.insert(uuid);
    }
    QCOMPARE(seen.size(), Samples);
    // Fixed bits: version nibble 0100 in byte 6, variant 10 in byte 8.
    QCOMPARE(quint8(anyBits[6]), quint8(0x4f));
    QCOMPARE(quint8(allBits[6]), quint8(0x40));
    QCOMPARE(quint8(anyBits[8]), quint8(0xbf));
    QCOMPARE(quint8(allBits[8]), quint8(0x80));
    for (int b : {0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 13, 14, 15}) {
        QCOMPARE(quint8(anyBits[b]), quint8(0xff));
        QCOMPARE(quint8(allBits[b]), quint8(0x00));
    }
}

void TestHookSecret::channelName_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("expected");

    QTest::addRow("plain") << "c"_ba
                           << "c"_ba;
    QTest::addRow("queue/") << "queue/c"_ba
                            << "c"_ba;
    QTest::addRow("pubsub/") << "pubsub/c"_ba
                             << "c"_ba;
    QTest::addRow("req/") << "req/c"_ba
                          << "c"_ba;
    QTest::addRow("res/ with slashes") << "res/a/b"_ba
                                       << "a/b"_ba;
    QTest::addRow("only one prefix") << "queue/pubsub/x"_ba
                                     << "pubsub/x"_ba;
    QTest::addRow("prefix alone") << "queue/"_ba
                                  << ""_ba;
    QTest::addRow("no slash") << "queue"_ba
                              << "queue"_ba;
    QTest::addRow("longer word") << "queues/c"_ba
                                 << "queues/c"_ba;
    QTest::addRow("case matters") << "Queue/c"_ba
                                  << "Queue/c"_ba;
    QTest::addRow("not leading") << "a/req/b"_ba
                                 << "a/req/b"_ba;
    QTest::addRow("flexible dot") << "./c"_ba
                                  << "./c"_ba;
    QTest::addRow("empty") << QByteArray() << QByteArray();
}

void TestHookSecret::channelName()
{
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, expected);
    QCOMPARE(HookSecret::channelName(path), expected);
    QCOMPARE(HookSecret::channelNameView(path), QByteArrayView(expected));
    // The secret of /h/queue/c, /h/pubsub/c and /h/c is the same (PROTOCOL §7).
    const HookSecret secret = HookSecret::fromKey(TEXT_KEY);
    QCOMPARE(secret.secretFor('h', HookSecret::channelNameView(path)), secret.secretFor('h', expected));
}

QTEST_GUILESS_MAIN(TestHookSecret)
#include "tst_hooksecret.moc"
