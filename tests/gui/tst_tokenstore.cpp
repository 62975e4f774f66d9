// SPDX-License-Identifier: MIT
#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "gui/tokenstore.h"
#include "privatebus.h"
#include "testutil.h"

using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;
using Patchwork::Test::timeoutMs;

// Without a secret service (a private session bus that has none), a token reaches the file only with
// the user's consent, and that file is readable by the owner alone.
class TestTokenStore final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void declinedIsNotStored();
    void consentedIsStoredPrivately();

private:
    // Writes and waits; returns (ok, error).
    std::pair<bool, QString> write(TokenStore &store, const QString &key, const QString &token);
    QString read(TokenStore &store, const QString &key);

    Patchwork::Test::PrivateBus m_bus;
    QTemporaryDir m_dir;
};

void TestTokenStore::initTestCase()
{
    QVERIFY(m_bus.start());
    // QtKeychain talks to the session bus: make it the private one, where no secret service runs.
    qputenv("DBUS_SESSION_BUS_ADDRESS", m_bus.address().toUtf8());
}

std::pair<bool, QString> TestTokenStore::write(TokenStore &store, const QString &key, const QString &token)
{
    std::optional<std::pair<bool, QString>> result;
    store.write(key, token, [&result](bool ok, const QString &error) { result = {ok, error}; });
    if (!QTest::qWaitFor([&result] { return result.has_value(); }, timeoutMs(10000))) {
        return {false, u"timeout"_s};
    }
    return *result;
}

QString TestTokenStore::read(TokenStore &store, const QString &key)
{
    std::optional<QString> result;
    store.read(key, [&result](const QString &token) { result = token; });
    if (!QTest::qWaitFor([&result] { return result.has_value(); }, timeoutMs(10000))) {
        return u"timeout"_s;
    }
    return *result;
}

void TestTokenStore::declinedIsNotStored()
{
    int asked = 0;
    TokenStore store(m_dir.filePath(u"declined.conf"_s), [&asked](const QString &) {
        ++asked;
        return false;
    });
    const auto [ok, error] = write(store, u"sub-1"_s, u"secret-token-1"_s);
    QVERIFY(!ok);
    QVERIFY(error.contains(u"declined"_s));
    QCOMPARE(asked, 1);
    QVERIFY(!QFileInfo::exists(store.fallbackFile()));
    QCOMPARE(read(store, u"sub-1"_s), QString());
}

void TestTokenStore::consentedIsStoredPrivately()
{
    TokenStore store(m_dir.filePath(u"tokens.conf"_s), [](const QString &) { return true; });
    const auto [ok, error] = write(store, u"sub-2"_s, u"secret-token-2"_s);
    QVERIFY2(ok, qPrintable(error));
    const QFileInfo info(store.fallbackFile());
    QVERIFY(info.exists());
    QCOMPARE(info.permissions() & ~(QFileDevice::ReadUser | QFileDevice::WriteUser),
             QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    QCOMPARE(read(store, u"sub-2"_s), u"secret-token-2"_s);
    // An empty token deletes it.
    QVERIFY(write(store, u"sub-2"_s, QString()).first);
    QCOMPARE(read(store, u"sub-2"_s), QString());
}

QTEST_MAIN(TestTokenStore)
#include "tst_tokenstore.moc"
