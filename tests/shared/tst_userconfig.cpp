// SPDX-License-Identifier: MIT
#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QRegularExpression>
#include <QTest>
#include <QTimeZone>

#include "access/userconfig.h"

using namespace Qt::StringLiterals;
using Patchwork::AclList;
using Patchwork::PatternList;
using Patchwork::TokenEntry;
using Patchwork::UserConfig;

namespace
{

const QByteArray FULL_CONFIG =
    QByteArray("# A complete example\n"
               "server: {listen: \":8080\"}\n"
               "tokens:\n"
               "  \"tok-reader\":\n"
               "    is_admin: false\n"
               "    GET: [\"/projects/**\", \"!/projects/secret/*\"]\n"
               "    POST: []\n"
               "    x-note: \"keep me\"\n"
               "  admin-token:\n"
               "    is_admin: true\n"
               "    GET: [\"*\"]\n"
               "    expires_at: 2026-12-31T23:59:59Z\n"
               "  public:\n"
               "    GET:\n"
               "      - /pub/*\n"
               "    huproxy: [\"*.example.com:22\", \"localhost:*\"]\n"
               "  \"sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\":\n"
               "    PUT: [\"/upload/*\"]\n"
               "ntfy:\n"
               "  type: matrix\n"
               "  config:\n"
               "    access_token: \"secret-matrix\"\n"
               "    user: \"@bot:example.org\"\n"
               "    port: 8448\n"
               "    rooms: [a, b]\n"
               "    nested: {x: y}\n"
               "    empty:\n"
               "extra_top_level: [1, 2, 3]\n");

// The attack: one anchored list of 12,000 patterns referenced 1,500 times (250 tokens x 6 lists),
// about 75 KB that would expand to 18 million patterns.
QByteArray aliasBomb()
{
    QByteArray yaml = "shared: &all [/p";
    yaml += QByteArray(", /p").repeated(12'000 - 1);
    yaml += "]\ntokens:\n";
    for (int t = 0; t < 250; ++t) {
        yaml += "  t" + QByteArray::number(t) + ":\n";
        for (const char *list : {"GET", "POST", "PUT", "DELETE", "PATCH", "huproxy"}) {
            yaml += "    " + QByteArray(list) + ": *all\n";
        }
    }
    return yaml;
}

std::optional<PatternList> patterns(const QStringList &texts)
{
    return PatternList::parse(texts);
}

} // namespace

class TestUserConfig final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void parsesFullConfig();
    void emptyDocuments_data();
    void emptyDocuments();
    void findToken();
    void hashedKeys();
    void parseErrors_data();
    void parseErrors();
    void errorsNeverContainTokens();
    void aliasExpansionIsBounded();
    void recursiveAliasIsRefused_data();
    void recursiveAliasIsRefused();
    void patternCountsAreBounded();
    void smallAliasesStillWork();
    void timestamps_data();
    void timestamps();
    void booleans_data();
    void booleans();
    void roundTripKeepsUnknownKeys();
    void roundTripOddDocuments_data();
    void roundTripOddDocuments();
    void editTokens();
    void setTokenRejectsBadKeys();
    void editNtfy();
    void copiesAreIndependent();
};

void TestUserConfig::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
}

void TestUserConfig::parsesFullConfig()
{
    QString error;
    const auto config = UserConfig::parse(FULL_CONFIG, u"config.yaml"_s, &error);
    QVERIFY2(config, qPrintable(error));
    QCOMPARE(config->fileName(), u"config.yaml"_s);
    QCOMPARE(config->tokenKeys(),
             (QStringList{u"tok-reader"_s,
                          u"admin-token"_s,
                          u"public"_s,
                          u"sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"_s}));
    QCOMPARE(config->tokenCount(), 4);

    const TokenEntry *reader = config->findToken("tok-reader");
    QVERIFY(reader);
    QVERIFY(!reader->isAdmin);
    QVERIFY(reader->list(AclList::Get));
    QCOMPARE(reader->list(AclList::Get)->toStringList(), (QStringList{u"/projects/**"_s, u"!/projects/secret/*"_s}));
    QVERIFY(reader->list(AclList::Post)); // present ...
    QVERIFY(reader->list(AclList::Post)->isEmpty()); // ... and empty
    QVERIFY(!reader->list(AclList::Put)); // absent
    QVERIFY(!reader->list(AclList::Huproxy));
    QVERIFY(!reader->expiresAt);

    const TokenEntry *admin = config->findToken("admin-token");
    QVERIFY(admin);
    QVERIFY(admin->isAdmin);
    QVERIFY(admin->expiresAt);
    QCOMPARE(*admin->expiresAt, QDateTime(QDate(2026, 12, 31), QTime(23, 59, 59), QTimeZone::utc()));
    QVERIFY(!admin->isExpired(QDateTime(QDate(2026, 12, 31), QTime(23, 59, 59), QTimeZone::utc())));
    QVERIFY(admin->isExpired(QDateTime(QDate(2027, 1, 1), QTime(0, 0), QTimeZone::utc())));

    const TokenEntry *pub = config->findToken("public");
    QVERIFY(pub);
    QCOMPARE(pub->list(AclList::Get)->toStringList(), QStringList{u"/pub/*"_s});
    QCOMPARE(pub->list(AclList::Huproxy)->toStringList(), (QStringList{u"*.example.com:22"_s, u"localhost:*"_s}));

    // sha256("test"), written in upper case
    const TokenEntry *hashed = config->findToken("test");
    QVERIFY(hashed);
    QCOMPARE(hashed->list(AclList::Put)->toStringList(), QStringList{u"/upload/*"_s});

    QCOMPARE(config->ntfyType(), u"matrix"_s);
    const QVariantMap ntfy = config->ntfyConfig();
    QCOMPARE(ntfy.value(u"access_token"_s), QVariant(u"secret-matrix"_s));
    QCOMPARE(ntfy.value(u"user"_s), QVariant(u"@bot:example.org"_s));
    QCOMPARE(ntfy.value(u"port"_s), QVariant(u"8448"_s));
    QCOMPARE(ntfy.value(u"rooms"_s).toList(), (QVariantList{u"a"_s, u"b"_s}));
    QCOMPARE(ntfy.value(u"nested"_s).toMap().value(u"x"_s), QVariant(u"y"_s));
    QVERIFY(ntfy.contains(u"empty"_s));
    QCOMPARE(ntfy.value(u"empty"_s).toString(), QString());
}

void TestUserConfig::emptyDocuments_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::addRow("empty file") << QByteArray();
    QTest::addRow("comment only") << "# nothing yet\n"_ba;
    QTest::addRow("null tokens") << "tokens:\n"_ba;
    QTest::addRow("empty tokens") << "tokens: {}\n"_ba;
    QTest::addRow("only unknown keys") << "something: else\n"_ba;
    QTest::addRow("null ntfy") << "ntfy:\n"_ba;
}

void TestUserConfig::emptyDocuments()
{
    QFETCH(QByteArray, yaml);
    QString error;
    const auto config = UserConfig::parse(yaml, u"config.yaml"_s, &error);
    QVERIFY2(config, qPrintable(error));
    QCOMPARE(config->tokenCount(), 0);
    QVERIFY(!config->findToken("public"));
    QVERIFY(config->ntfyType().isEmpty());
    // An empty config can be edited and saved.
    TokenEntry entry;
    entry.list(AclList::Get) = patterns({u"/*"_s});
    QVERIFY(config->setToken(u"t"_s, entry));
    const auto reread = UserConfig::parse(config->toYaml(), u"saved.yaml"_s, &error);
    QVERIFY2(reread, qPrintable(error));
    QVERIFY(reread->findToken("t"));
}

void TestUserConfig::findToken()
{
    const auto config = UserConfig::parse(FULL_CONFIG, u"config.yaml"_s);
    QVERIFY(config);
    QVERIFY(!config->findToken(""));
    QVERIFY(!config->findToken("nope"));
    QVERIFY(!config->findToken("tok-reade"));
    QVERIFY(!config->findToken("tok-reader "));
    QVERIFY(!config->findToken("TOK-READER"));
    // The hashed key itself is not a token.
    QVERIFY(!config->findToken("sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"));
    QVERIFY(config->findToken("tok-reader") != config->findToken("admin-token"));
}

void TestUserConfig::hashedKeys()
{
    const QByteArray token = "s3cr3t-token-value";
    const QString key = UserConfig::hashedKey(token);
    QCOMPARE(key,
             u"sha256:"_s + QString::fromLatin1(QCryptographicHash::hash(token, QCryptographicHash::Sha256).toHex()));
    QVERIFY(UserConfig::isHashedKey(key));
    QVERIFY(UserConfig::isHashedKey(key.toUpper().replace(u"SHA256:"_s, u"sha256:"_s)));
    QVERIFY(!UserConfig::isHashedKey(u"sha256:abc"_s));
    QVERIFY(!UserConfig::isHashedKey(u"plain"_s));

    const QByteArray yaml = "tokens:\n  \"" + key.toUtf8() + "\":\n    GET: [\"*\"]\n";
    QString error;
    const auto config = UserConfig::parse(yaml, u"config.yaml"_s, &error);
    QVERIFY2(config, qPrintable(error));
    QVERIFY(config->findToken(token));
    QVERIFY(!config->findToken("s3cr3t-token-valuE"));
    QVERIFY(!config->findToken(key.toUtf8()));

    // Repeated lookups (answered from the last match) and alternating tokens give the same entries.
    const QByteArray other = "another-token";
    const QByteArray yaml2 = "tokens:\n  \"" + key.toUtf8() + "\":\n    GET: [\"/a\"]\n  \""
                             + UserConfig::hashedKey(other).toUtf8() + "\":\n    GET: [\"/b\"]\n";
    const auto two = UserConfig::parse(yaml2, u"config.yaml"_s, &error);
    QVERIFY2(two, qPrintable(error));
    const TokenEntry *first = two->findToken(token);
    const TokenEntry *second = two->findToken(other);
    QVERIFY(first && second && first != second);
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(two->findToken(token), first);
        QCOMPARE(two->findToken(token), first);
        QCOMPARE(two->findToken(other), second);
        QVERIFY(!two->findToken("s3cr3t-token-valuX"));
        QVERIFY(!two->findToken(token.left(token.size() - 1)));
    }
}

void TestUserConfig::parseErrors_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<QString>("expected"); // the whole message, or a prefix ending in ": "

    QTest::addRow("YAML syntax: unclosed flow list")
        << "tokens:\n  t:\n    GET: [\"/a\"\n    POST: []\n"_ba << u"config.yaml:4: "_s;
    QTest::addRow("YAML syntax: bad indentation")
        << "tokens:\n  t:\n    GET: []\n   POST: []\n"_ba << u"config.yaml:4: "_s;
    QTest::addRow("top level is a list") << "- a\n- b\n"_ba
                                         << u"config.yaml:1: the configuration must be a map (with a \"tokens\" key)"_s;
    QTest::addRow("tokens is a list") << "x: 1\ntokens: [a, b]\n"_ba
                                      << u"config.yaml:2: tokens must be a map from token to its permissions"_s;
    QTest::addRow("tokens is a string") << "tokens: abc\n"_ba
                                        << u"config.yaml:1: tokens must be a map from token to its permissions"_s;
    QTest::addRow("entry is a string") << "tokens:\n  t: yes\n"_ba
                                       << u"config.yaml:2: a token entry must be a map (is_admin, GET, POST, …)"_s;
    QTest::addRow("is_admin quoted") << "tokens:\n  t:\n    GET: []\n    is_admin: \"true\"\n"_ba
                                     << u"config.yaml:4: is_admin must be true or false (unquoted)"_s;
    QTest::addRow("is_admin a number") << "tokens:\n  t:\n    is_admin: 1\n"_ba
                                       << u"config.yaml:3: is_admin must be true or false (unquoted)"_s;
    QTest::addRow("is_admin a list") << "tokens:\n  t:\n    is_admin: [true]\n"_ba
                                     << u"config.yaml:3: is_admin must be true or false (unquoted)"_s;
    QTest::addRow("GET scalar") << "tokens:\n  t:\n    is_admin: false\n\n\n\n    GET: \"/projects/**\"\n"_ba
                                << u"config.yaml:7: GET must be a list of strings"_s;
    QTest::addRow("huproxy scalar") << "tokens:\n  t:\n    huproxy: host:22\n"_ba
                                    << u"config.yaml:3: huproxy must be a list of strings"_s;
    QTest::addRow("DELETE map") << "tokens:\n  t:\n    DELETE: {a: b}\n"_ba
                                << u"config.yaml:3: DELETE must be a list of strings"_s;
    QTest::addRow("PATCH list of lists") << "tokens:\n  t:\n    PATCH:\n      - /a\n      - [/b]\n"_ba
                                         << u"config.yaml:5: PATCH must be a list of strings"_s;
    QTest::addRow("empty pattern") << "tokens:\n  t:\n    GET:\n      - /a\n      - \"\"\n"_ba
                                   << u"config.yaml:5: GET: invalid pattern: empty pattern"_s;
    QTest::addRow("lone bang") << "tokens:\n  t:\n    POST: [\"/a\", \"!\"]\n"_ba
                               << u"config.yaml:3: POST: invalid pattern: pattern \"!\" negates nothing"_s;
    // Found by fuzz_userconfig's save round trip: bytes that are not text changed meaning on the way.
    QTest::addRow("invalid UTF-8") << "tokens:\n  t:\n    GET: [\"/a\xff\"]\n"_ba
                                   << u"config.yaml:3: the file is not text: invalid UTF-8 or a control character"_s;
    QTest::addRow("NUL in a key") << QByteArray("tokens:\n  t:\n    is\0_admin: true\n", 32)
                                  << u"config.yaml:3: the file is not text: invalid UTF-8 or a control character"_s;
    QTest::addRow("DEL on the last line")
        << "tokens:\n  t: {}\nx: \x7f"_ba
        << u"config.yaml:3: the file is not text: invalid UTF-8 or a control character"_s;
    // Found by fuzz_userconfig: keys that did not survive save and load.
    QTest::addRow("list as a key") << "tokens:\n  t: {[a]: 1}\n"_ba << u"config.yaml:2: a key must be a string"_s;
    QTest::addRow("key with a control character")
        << "tokens:\n  t: {\"\\aET\": 1}\n"_ba << u"config.yaml:2: a key must not contain control characters"_s;
    // Found by fuzz_userconfig: a pattern with a control character did not survive save and load.
    QTest::addRow("pattern with a control character")
        << "tokens:\n  t:\n    POST: [\"/a\\x18b\"]\n"_ba
        << u"config.yaml:3: POST: invalid pattern: a pattern must not contain control characters"_s;
    QTest::addRow("null pattern") << "tokens:\n  t:\n    PUT:\n      -\n"_ba << u"config.yaml:"_s;
    QTest::addRow("expires_at not a timestamp") << "tokens:\n  t:\n    expires_at: tomorrow\n"_ba
                                                << u"config.yaml:3: expires_at must be a timestamp such as "
                                                   u"2026-12-31T23:59:59Z"_s;
    QTest::addRow("expires_at a number") << "tokens:\n  t:\n    expires_at: 1767225599\n"_ba
                                         << u"config.yaml:3: expires_at must be a timestamp such as "
                                            u"2026-12-31T23:59:59Z"_s;
    QTest::addRow("expires_at invalid date") << "tokens:\n  t:\n    expires_at: 2026-02-30\n"_ba
                                             << u"config.yaml:3: expires_at must be a timestamp such as "
                                                u"2026-12-31T23:59:59Z"_s;
    QTest::addRow("duplicate token") << "tokens:\n  a: {}\n  b: {}\n  a: {}\n"_ba
                                     << u"config.yaml:4: the same token is listed twice"_s;
    QTest::addRow("token and its hash")
        << "tokens:\n  test: {}\n  "
           "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08: {}\n"_ba
        << u"config.yaml:3: the same token is listed twice"_s;
    QTest::addRow("short sha256 key")
        << "tokens:\n  ok: {}\n  sha256:abcdef: {}\n"_ba
        << u"config.yaml:3: a \"sha256:\" token key needs exactly 64 hexadecimal digits"_s;
    QTest::addRow("non-hex sha256 key")
        << "tokens:\n  sha256:zz86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08: {}\n"_ba
        << u"config.yaml:2: a \"sha256:\" token key needs exactly 64 hexadecimal digits"_s;
    // Found by fuzz_userconfig: a key with control characters did not survive save and load.
    QTest::addRow("token key with a control character")
        << "tokens:\n  ok: {}\n  \"a\\x04b\": {}\n"_ba
        << u"config.yaml:3: a token key must be printable ASCII without spaces"_s;
    QTest::addRow("token key with a space")
        << "tokens:\n  \"a b\": {}\n"_ba << u"config.yaml:2: a token key must be printable ASCII without spaces"_s;
    QTest::addRow("token key not ASCII") << "tokens:\n  \"t\u00e9st\": {}\n"_ba
                                         << u"config.yaml:2: a token key must be printable ASCII without spaces"_s;
    QTest::addRow("duplicate list key") << "tokens:\n  t:\n    GET: []\n    GET: [\"*\"]\n"_ba
                                        << u"config.yaml:4: duplicate key \"GET\""_s;
    QTest::addRow("duplicate tokens key")
        << "tokens: {}\ntokens: {}\n"_ba << u"config.yaml:2: duplicate key \"tokens\""_s;
    QTest::addRow("ntfy not a map") << "ntfy: matrix\n"_ba
                                    << u"config.yaml:1: ntfy must be a map with \"type\" and \"config\""_s;
    QTest::addRow("ntfy.type a list") << "ntfy:\n  type: [matrix]\n"_ba
                                      << u"config.yaml:2: ntfy.type must be a string"_s;
    QTest::addRow("ntfy.config a list") << "ntfy:\n  type: matrix\n  config: [a]\n"_ba
                                        << u"config.yaml:3: ntfy.config must be a map"_s;
    QTest::addRow("old README format") << "my_token:\n  GET: \"projects/**\"\n"_ba
                                       << QString(); // accepted: unknown key
}

void TestUserConfig::parseErrors()
{
    QFETCH(QByteArray, yaml);
    QFETCH(QString, expected);
    QString error;
    const auto config = UserConfig::parse(yaml, u"config.yaml"_s, &error);
    if (expected.isEmpty()) {
        QVERIFY2(config, qPrintable(error));
        QCOMPARE(config->tokenCount(), 0);
        return;
    }
    QVERIFY(!config);
    if (expected.endsWith(u": "_s) || expected.endsWith(u':')) {
        QVERIFY2(error.startsWith(expected), qPrintable(error));
        QVERIFY2(error.size() > expected.size(), qPrintable(error));
    } else {
        QCOMPARE(error, expected);
    }
}

void TestUserConfig::errorsNeverContainTokens()
{
    const QList<QByteArray> docs = {
        "tokens:\n  SUPERSECRET: yes\n",
        "tokens:\n  SUPERSECRET:\n    GET: x\n",
        "tokens:\n  SUPERSECRET: {}\n  SUPERSECRET: {}\n",
        "tokens:\n  SUPERSECRET:\n    is_admin: \"no\"\n",
        "tokens:\n  SUPERSECRET:\n    expires_at: soon\n",
        "tokens:\n  SUPERSECRET:\n    GET: [\"\"]\n",
    };
    for (const QByteArray &doc : docs) {
        QString error;
        QVERIFY(!UserConfig::parse(doc, u"c.yaml"_s, &error));
        QVERIFY2(!error.contains(u"SUPERSECRET"_s), qPrintable(error));
    }
}

void TestUserConfig::aliasExpansionIsBounded()
{
    const QByteArray yaml = aliasBomb();
    QVERIFY(yaml.size() < 100'000);
    QElapsedTimer timer;
    timer.start();
    QString error;
    QVERIFY(!UserConfig::parse(yaml, u"config.yaml"_s, &error));
    QVERIFY2(timer.elapsed() < 5'000, qPrintable(QString::number(timer.elapsed())));
    QVERIFY2(QRegularExpression(u"^config\\.yaml:[0-9]+: the configuration is too large"_s).match(error).hasMatch(),
             qPrintable(error));

    // Nesting aliases (a "billion laughs") stops at the same budget.
    QByteArray laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    for (char c = 'b'; c <= 'j'; ++c) {
        laughs += QByteArray(1, c) + ": &" + QByteArray(1, c) + " [";
        for (int i = 0; i < 10; ++i) {
            laughs += QByteArray(i ? ", *" : "*") + QByteArray(1, char(c - 1));
        }
        laughs += "]\n";
    }
    timer.restart();
    QVERIFY(!UserConfig::parse(laughs, u"c.yaml"_s, &error));
    QVERIFY(timer.elapsed() < 5'000);
    QVERIFY2(error.startsWith(u"c.yaml:"_s) && error.contains(u"too large"_s), qPrintable(error));
}

void TestUserConfig::recursiveAliasIsRefused_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<QString>("error");
    const QString cycle = u"c.yaml:1: the configuration is nested more than 64 levels deep"_s;
    QTest::newRow("map in itself") << QByteArray("tokens: &a {x: *a}\n") << cycle;
    QTest::newRow("sequence in itself") << QByteArray("tokens:\n  t: &l [/p, *l]\n")
                                        << u"c.yaml:2: the configuration is nested more than 64 levels deep"_s;
    // Found by fuzzing (branch fuzz, tests/fuzz/corpus/userconfig/regress-recursive-alias).
    QTest::newRow("fuzz regression") << QByteArray("\\n\\ &a {*a}\n")
                                     << u"c.yaml:1: the configuration must be a map (with a \"tokens\" key)"_s;
    QTest::newRow("in a token") << QByteArray("tokens:\n  t: {GET: &a [/p, [*a]]}\n")
                                << u"c.yaml:2: the configuration is nested more than 64 levels deep"_s;
}

void TestUserConfig::recursiveAliasIsRefused()
{
    QFETCH(QByteArray, yaml);
    QFETCH(QString, error);
    QString actual;
    QVERIFY(!UserConfig::parse(yaml, u"c.yaml"_s, &actual));
    QCOMPARE(actual, error);
}

void TestUserConfig::patternCountsAreBounded()
{
    QByteArray perToken = "tokens:\n  t:\n    GET:\n";
    for (int i = 0; i < 10'001; ++i) {
        perToken += "      - /p\n";
    }
    QString error;
    QVERIFY(!UserConfig::parse(perToken, u"c.yaml"_s, &error));
    QCOMPARE(error, u"c.yaml:3: more than 10000 patterns for one token"_s);

    // 11 tokens of 10,000 patterns each through aliases: within the node budget, over the file's.
    QByteArray perFile = "shared: &all\n";
    for (int i = 0; i < 10'000; ++i) {
        perFile += "  - /p\n";
    }
    perFile += "tokens:\n";
    for (int t = 0; t < 11; ++t) {
        perFile += "  t" + QByteArray::number(t) + ": {GET: *all}\n";
    }
    QVERIFY(!UserConfig::parse(perFile, u"c.yaml"_s, &error));
    QVERIFY2(error.startsWith(u"c.yaml:"_s) && error.endsWith(u": more than 100000 patterns in the file"_s),
             qPrintable(error));
}

void TestUserConfig::smallAliasesStillWork()
{
    const QByteArray yaml = "common: &read [\"/pub/*\", \"/docs/**\"]\n"
                            "tokens:\n"
                            "  a: {GET: *read}\n"
                            "  b: {GET: *read, POST: *read}\n";
    QString error;
    const auto config = UserConfig::parse(yaml, u"c.yaml"_s, &error);
    QVERIFY2(config, qPrintable(error));
    QCOMPARE(config->tokenCount(), 2);
    QCOMPARE(config->findToken("b")->list(AclList::Post), patterns({u"/pub/*"_s, u"/docs/**"_s}));
}

void TestUserConfig::timestamps_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QDateTime>("expected");
    const auto utc = [](int y, int mo, int d, int h, int mi, int s, int ms = 0) {
        return QDateTime(QDate(y, mo, d), QTime(h, mi, s, ms), QTimeZone::utc());
    };
    QTest::addRow("Z") << "2026-12-31T23:59:59Z"_ba << utc(2026, 12, 31, 23, 59, 59);
    QTest::addRow("lower-case t") << "2026-12-31t23:59:59Z"_ba << utc(2026, 12, 31, 23, 59, 59);
    QTest::addRow("space separated") << "2026-12-31 23:59:59"_ba << utc(2026, 12, 31, 23, 59, 59);
    QTest::addRow("no zone is UTC") << "2026-12-31T23:59:59"_ba << utc(2026, 12, 31, 23, 59, 59);
    QTest::addRow("offset") << "2026-12-31T23:59:59+02:00"_ba << utc(2026, 12, 31, 21, 59, 59);
    QTest::addRow("negative offset") << "2001-12-14 21:59:43.10 -5"_ba << utc(2001, 12, 15, 2, 59, 43, 100);
    QTest::addRow("fraction") << "2026-01-02T03:04:05.123456Z"_ba << utc(2026, 1, 2, 3, 4, 5, 123);
    QTest::addRow("date only") << "2026-12-31"_ba << utc(2026, 12, 31, 0, 0, 0);
    QTest::addRow("single-digit month") << "2026-1-2"_ba << utc(2026, 1, 2, 0, 0, 0);
    QTest::addRow("quoted") << "\"2026-12-31T23:59:59Z\""_ba << utc(2026, 12, 31, 23, 59, 59);
}

void TestUserConfig::timestamps()
{
    QFETCH(QByteArray, value);
    QFETCH(QDateTime, expected);
    QString error;
    const auto config = UserConfig::parse("tokens:\n  t:\n    expires_at: " + value + "\n", u"c.yaml"_s, &error);
    QVERIFY2(config, qPrintable(error));
    const TokenEntry *entry = config->findToken("t");
    QVERIFY(entry && entry->expiresAt);
    QCOMPARE(*entry->expiresAt, expected);
    QCOMPARE(entry->expiresAt->timeSpec(), Qt::UTC);
}

void TestUserConfig::booleans_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<bool>("admin");
    QTest::addRow("true") << "true"_ba << true;
    QTest::addRow("True") << "True"_ba << true;
    QTest::addRow("false") << "false"_ba << false;
    QTest::addRow("yes (YAML 1.1)") << "yes"_ba << true;
    QTest::addRow("off (YAML 1.1)") << "off"_ba << false;
    QTest::addRow("null") << "~"_ba << false;
}

void TestUserConfig::booleans()
{
    QFETCH(QByteArray, value);
    QFETCH(bool, admin);
    QString error;
    const auto config = UserConfig::parse("tokens:\n  t:\n    is_admin: " + value + "\n", u"c.yaml"_s, &error);
    QVERIFY2(config, qPrintable(error));
    QCOMPARE(config->findToken("t")->isAdmin, admin);
}

void TestUserConfig::roundTripKeepsUnknownKeys()
{
    const QByteArray yaml = QByteArray("version: \"1.0\"\n"
                                       "server: {listen: \":8080\", workers: 4}\n"
                                       "tokens:\n"
                                       "  \"12345\":\n"
                                       "    x-comment: \"issued to CI\"\n"
                                       "    GET: [\"/ci/*\"]\n"
                                       "    labels: {team: infra}\n"
                                       "  \"true\":\n"
                                       "    POST: [\"/a\"]\n"
                                       "  editme:\n"
                                       "    is_admin: false\n"
                                       "    GET: [\"/old/*\"]\n"
                                       "    custom: [1, \"2\", three]\n"
                                       "    expires_at: 2030-01-01T00:00:00Z\n"
                                       "ntfy:\n"
                                       "  type: ntfy\n"
                                       "  config: {url: \"https://ntfy.example\", topic: t}\n"
                                       "  retries: 3\n"
                                       "trailing: ~\n");
    QString error;
    const auto config = UserConfig::parse(yaml, u"config.yaml"_s, &error);
    QVERIFY2(config, qPrintable(error));

    TokenEntry entry = *config->tokenEntry(u"editme"_s);
    entry.list(AclList::Get) = patterns({u"/new/*"_s, u"!/new/secret"_s});
    entry.list(AclList::Huproxy) = patterns({u"localhost:22"_s});
    entry.expiresAt.reset();
    entry.isAdmin = true;
    QVERIFY(config->setToken(u"editme"_s, entry));

    const QByteArray saved = config->toYaml();
    const auto reread = UserConfig::parse(saved, u"saved.yaml"_s, &error);
    QVERIFY2(reread, qPrintable(error + u"\n"_s + QString::fromUtf8(saved)));

    // Same tokens, same order, the edit applied.
    QCOMPARE(reread->tokenKeys(), (QStringList{u"12345"_s, u"true"_s, u"editme"_s}));
    QCOMPARE(*reread->tokenEntry(u"editme"_s), entry);
    QCOMPARE(*reread->tokenEntry(u"12345"_s), *config->tokenEntry(u"12345"_s));
    QCOMPARE(reread->ntfyType(), u"ntfy"_s);
    QCOMPARE(reread->ntfyConfig(), config->ntfyConfig());

    // Unknown keys survive, at the top level, in token entries and in the ntfy block, and quoted
    // scalars stay strings (a second save gives the same text).
    const QString text = QString::fromUtf8(saved);
    for (const QString &needle : {u"version: \"1.0\""_s,
                                  u"server: {listen: \":8080\", workers: 4}"_s,
                                  u"x-comment: \"issued to CI\""_s,
                                  u"labels: {team: infra}"_s,
                                  u"custom: [1, \"2\", three]"_s,
                                  u"retries: 3"_s,
                                  u"trailing: ~"_s,
                                  u"\"12345\":"_s,
                                  u"\"true\":"_s}) {
        QVERIFY2(text.contains(needle), qPrintable(u"missing "_s + needle + u" in\n"_s + text));
    }
    QVERIFY2(!text.contains(u"2030-01-01"_s), qPrintable(text));
    QVERIFY2(!text.contains(u"/old/*"_s), qPrintable(text));
    QCOMPARE(reread->toYaml(), saved);

    // Order of keys inside the edited entry is kept (custom stays before the new huproxy key).
    QVERIFY(text.indexOf(u"custom:"_s) < text.indexOf(u"huproxy:"_s));
    QVERIFY(text.indexOf(u"is_admin: true"_s) < text.indexOf(u"custom:"_s));
}

// Found by fuzz_userconfig: documents that did not save back to the same tokens.
void TestUserConfig::roundTripOddDocuments_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<QByteArrayList>("savedParts");

    // yaml-cpp writes a collection or a long scalar as a key in flow style as `?[`, which does not load,
    // and keeps writing `?` before the keys after an explicit key.
    const QByteArray longKey(1500, 'k');
    QTest::addRow("explicit keys") << QByteArray("x: &l [\"/a\", \"/b\"]\nunknown:\n  [1, 2]: one\n  ? " + longKey
                                                 + "\n  : two\n  nested: {a: b}\nother:\n  ? t: {GET: *l, PUT: *l}\n"
                                                   "  : v\ntokens:\n  t: {GET: *l}\n")
                                   << QByteArrayList{"? " + longKey};
    // yaml-cpp reads a lone `!` at the end of the input as a tag it cannot write.
    QTest::addRow("tags") << "tokens:\n  t: {GET: !!seq [\"/a\"]}\nlocal: !thing x\nstr: !!str 12\nlast: !"_ba
                          << QByteArrayList{"local: !<!thing> x", "str: !!str 12"};
}

void TestUserConfig::roundTripOddDocuments()
{
    QFETCH(QByteArray, yaml);
    QFETCH(QByteArrayList, savedParts);
    QString error;
    const auto config = UserConfig::parse(yaml, u"config.yaml"_s, &error);
    QVERIFY2(config, qPrintable(error));
    const QByteArray saved = config->toYaml();
    const auto reread = UserConfig::parse(saved, u"saved.yaml"_s, &error);
    QVERIFY2(reread, qPrintable(error + u"\n"_s + QString::fromUtf8(saved)));
    QCOMPARE(*reread->tokenEntry(u"t"_s), *config->tokenEntry(u"t"_s));
    QCOMPARE(reread->toYaml(), saved);
    for (const QByteArray &part : savedParts) {
        QVERIFY2(saved.contains(part), saved.constData());
    }
}

void TestUserConfig::editTokens()
{
    auto config = UserConfig::parse(FULL_CONFIG, u"config.yaml"_s);
    QVERIFY(config);

    // Add a hashed token.
    const QByteArray newToken = "fresh-random-token";
    const QString key = UserConfig::hashedKey(newToken);
    TokenEntry entry;
    entry.list(AclList::Post) = patterns({u"/inbox/*"_s});
    entry.expiresAt = QDateTime(QDate(2030, 6, 1), QTime(12, 0, 0, 250), QTimeZone::utc());
    QVERIFY(config->setToken(key, entry));
    QCOMPARE(config->tokenKeys().last(), key);
    QVERIFY(config->findToken(newToken));
    QCOMPARE(*config->findToken(newToken), entry);

    // Remove one.
    QVERIFY(config->removeToken(u"tok-reader"_s));
    QVERIFY(!config->removeToken(u"tok-reader"_s));
    QVERIFY(!config->findToken("tok-reader"));
    QVERIFY(config->findToken("admin-token"));

    QString error;
    const auto reread = UserConfig::parse(config->toYaml(), u"saved.yaml"_s, &error);
    QVERIFY2(reread, qPrintable(error));
    QCOMPARE(reread->tokenKeys(), config->tokenKeys());
    QVERIFY(reread->findToken(newToken));
    QCOMPARE(*reread->findToken(newToken), entry);
    QVERIFY(!reread->findToken("tok-reader"));
    QVERIFY(reread->findToken("test")); // the upper-case hashed key is kept as it was
    QVERIFY(QString::fromUtf8(config->toYaml()).contains(u"extra_top_level: [1, 2, 3]"_s));
}

void TestUserConfig::setTokenRejectsBadKeys()
{
    auto config = UserConfig::parse(FULL_CONFIG, u"config.yaml"_s);
    QVERIFY(config);
    const QByteArray before = config->toYaml();
    QString error;
    QVERIFY(!config->setToken(u"sha256:1234"_s, TokenEntry(), &error));
    QVERIFY(!error.isEmpty());
    QVERIFY(!config->setToken(QString(), TokenEntry(), &error));
    // The literal form of the already hashed token "test".
    QVERIFY(!config->setToken(u"test"_s, TokenEntry(), &error));
    QCOMPARE(config->toYaml(), before);
    QVERIFY(config->findToken("test"));
    QVERIFY(config->findToken("tok-reader"));
}

void TestUserConfig::editNtfy()
{
    auto config = UserConfig::parse("ntfy:\n  type: matrix\n  config: {user: \"@a:b\"}\n  x-keep: 1\n", u"c.yaml"_s);
    QVERIFY(config);
    config->setNtfy(u"gotify"_s,
                    QVariantMap{{u"url"_s, u"https://gotify.example"_s}, {u"token"_s, u"abc"_s}, {u"n"_s, 5}});
    QCOMPARE(config->ntfyType(), u"gotify"_s);
    QString error;
    auto reread = UserConfig::parse(config->toYaml(), u"saved.yaml"_s, &error);
    QVERIFY2(reread, qPrintable(error));
    QCOMPARE(reread->ntfyType(), u"gotify"_s);
    QCOMPARE(reread->ntfyConfig(), config->ntfyConfig());
    QCOMPARE(reread->ntfyConfig().value(u"n"_s), QVariant(u"5"_s));
    QVERIFY(QString::fromUtf8(config->toYaml()).contains(u"x-keep: 1"_s));

    config->setNtfy(QString(), {});
    QVERIFY(config->ntfyType().isEmpty());
    reread = UserConfig::parse(config->toYaml(), u"saved.yaml"_s, &error);
    QVERIFY2(reread, qPrintable(error));
    QVERIFY(reread->ntfyType().isEmpty());
    QVERIFY(!QString::fromUtf8(config->toYaml()).contains(u"ntfy"_s));
}

void TestUserConfig::copiesAreIndependent()
{
    const auto original = UserConfig::parse(FULL_CONFIG, u"config.yaml"_s);
    QVERIFY(original);
    const QByteArray before = original->toYaml();
    UserConfig copy(*original);
    QVERIFY(copy.removeToken(u"admin-token"_s));
    TokenEntry entry;
    entry.isAdmin = true;
    QVERIFY(copy.setToken(u"tok-reader"_s, entry));
    QCOMPARE(original->toYaml(), before);
    QVERIFY(original->findToken("admin-token"));
    QVERIFY(!copy.findToken("admin-token"));

    UserConfig assigned;
    assigned = copy;
    QVERIFY(assigned.removeToken(u"public"_s));
    QVERIFY(copy.findToken("public"));
    QVERIFY(!assigned.findToken("public"));
    QVERIFY(QString::fromUtf8(copy.toYaml()).contains(u"public"_s));
}

QTEST_GUILESS_MAIN(TestUserConfig)
#include "tst_userconfig.moc"
