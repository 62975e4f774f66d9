// SPDX-License-Identifier: MIT
#include <QRegularExpression>
#include <QTest>
#include <QTimeZone>

#include "access/acl.h"
#include "access/requestclass.h"
#include "protocol/requesttarget.h"

using namespace Qt::StringLiterals;
using Patchwork::AclList;
using Patchwork::AclResult;
using Patchwork::ConfigLookup;
using Patchwork::QueryParams;
using Patchwork::RequestAction;
using Patchwork::RequestClass;
using Patchwork::UserConfig;
namespace Acl = Patchwork::Acl;

namespace
{

// A token of every kind, including two stored as SHA-256 hashes ("hashed-secret", "hashed-admin").
QByteArray config()
{
    return QByteArray("tokens:\n"
                      "  public:\n"
                      "    GET: [\"/pub/*\"]\n"
                      "    POST: []\n"
                      "  reader:\n"
                      "    GET: [\"/projects/**\", \"!/projects/secret/*\"]\n"
                      "  writer:\n"
                      "    GET: [\"*\"]\n"
                      "    POST: [\"/inbox/*\"]\n"
                      "    PUT: [\"/files/*\"]\n"
                      "    DELETE: [\"/files/tmp/*\"]\n"
                      "    PATCH: [\"/doc\"]\n"
                      "    huproxy: [\"*.example.com:22\", \"localhost:*\", \"!localhost:25\"]\n"
                      "  onlynegated:\n"
                      "    GET: [\"!/secret\"]\n"
                      "  expired:\n"
                      "    GET: [\"*\"]\n"
                      "    huproxy: [\"*\"]\n"
                      "    expires_at: 2025-01-01T00:00:00Z\n"
                      "  boundary:\n"
                      "    GET: [\"*\"]\n"
                      "    expires_at: 2025-06-01T12:00:00Z\n"
                      "  admin:\n"
                      "    is_admin: true\n"
                      "  expiredadmin:\n"
                      "    is_admin: true\n"
                      "    expires_at: 2020-01-01T00:00:00Z\n")
           + "  \"" + UserConfig::hashedKey("hashed-secret").toUtf8() + "\":\n    GET: [\"/h/*\"]\n" + "  \""
           + UserConfig::hashedKey("hashed-admin").toUtf8().toUpper().replace("SHA256:", "sha256:")
           + "\":\n    is_admin: true\n";
}

const QByteArray NO_PUBLIC_CONFIG = "tokens:\n  reader:\n    GET: [\"*\"]\n"_ba;

QDateTime now()
{
    return QDateTime(QDate(2025, 6, 1), QTime(12, 0, 0), QTimeZone::utc());
}

} // namespace

class TestAcl final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void channelAccess_data();
    void channelAccess();
    void huproxy_data();
    void huproxy();
    void lookupStates();
    void admin_data();
    void admin();
    void adminLookupStates();
    void listForAction_data();
    void listForAction();
    void classifiedRequest_data();
    void classifiedRequest();
    void tokenFromAuthorization_data();
    void tokenFromAuthorization();

private:
    std::shared_ptr<UserConfig> m_config;
    std::shared_ptr<UserConfig> m_noPublic;
};

void TestAcl::initTestCase()
{
    QString error;
    m_config = UserConfig::parse(config(), u"config.yaml"_s, &error);
    QVERIFY2(m_config, qPrintable(error));
    m_noPublic = UserConfig::parse(NO_PUBLIC_CONFIG, u"config.yaml"_s, &error);
    QVERIFY2(m_noPublic, qPrintable(error));
}

void TestAcl::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
}

void TestAcl::channelAccess_data()
{
    QTest::addColumn<QString>("config"); // "full", "nopublic", "none"
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<bool>("presented");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<int>("status"); // 0 = allowed
    QTest::addColumn<QString>("reason");

    const QString full = u"full"_s;
    // Every action list, allowed and denied
    QTest::addRow("GET allowed") << full << "reader"_ba << true << "GET"_ba
                                 << "/projects/a/b"_ba << 0 << QString();
    QTest::addRow("GET negated") << full << "reader"_ba << true << "GET"_ba
                                 << "/projects/secret/x"_ba << 403 << u"token does not match patterns"_s;
    QTest::addRow("GET no match") << full << "reader"_ba << true << "GET"_ba
                                  << "/other"_ba << 403 << u"token does not match patterns"_s;
    QTest::addRow("POST allowed") << full << "writer"_ba << true << "POST"_ba
                                  << "/inbox/x"_ba << 0 << QString();
    QTest::addRow("POST no match") << full << "writer"_ba << true << "POST"_ba
                                   << "/files/x"_ba << 403 << u"token does not match patterns"_s;
    QTest::addRow("PUT allowed") << full << "writer"_ba << true << "PUT"_ba
                                 << "/files/x"_ba << 0 << QString();
    QTest::addRow("PUT no match") << full << "writer"_ba << true << "PUT"_ba
                                  << "/inbox/x"_ba << 403 << u"token does not match patterns"_s;
    QTest::addRow("DELETE allowed") << full << "writer"_ba << true << "DELETE"_ba
                                    << "/files/tmp/x"_ba << 0 << QString();
    QTest::addRow("DELETE no match") << full << "writer"_ba << true << "DELETE"_ba
                                     << "/files/x"_ba << 403 << u"token does not match patterns"_s;
    QTest::addRow("PATCH allowed") << full << "writer"_ba << true << "PATCH"_ba
                                   << "/doc"_ba << 0 << QString();
    QTest::addRow("PATCH no match") << full << "writer"_ba << true << "PATCH"_ba
                                    << "/doc/2"_ba << 403 << u"token does not match patterns"_s;
    QTest::addRow("method case-insensitive") << full << "reader"_ba << true << "get"_ba
                                             << "/projects/a"_ba << 0 << QString();

    // No patterns
    QTest::addRow("absent list") << full << "reader"_ba << true << "POST"_ba
                                 << "/projects/a"_ba << 403 << u"no patterns found"_s;
    QTest::addRow("admin has no lists") << full << "admin"_ba << true << "GET"_ba
                                        << "/x"_ba << 403 << u"no patterns found"_s;
    QTest::addRow("only negated patterns") << full << "onlynegated"_ba << true << "GET"_ba
                                           << "/public"_ba << 403 << u"token does not match patterns"_s;

    // Token not found / expired
    QTest::addRow("unknown token") << full << "nope"_ba << true << "GET"_ba
                                   << "/pub/x"_ba << 401 << u"token not found"_s;
    QTest::addRow("unknown token never falls back to public") << full << "nope"_ba << true << "GET"_ba
                                                              << "/pub/x"_ba << 401 << u"token not found"_s;
    QTest::addRow("empty presented token") << full << ""_ba << true << "GET"_ba
                                           << "/pub/x"_ba << 401 << u"token not found"_s;
    QTest::addRow("no config") << u"none"_s << "reader"_ba << true << "GET"_ba
                               << "/x"_ba << 401 << u"token not found"_s;
    QTest::addRow("no config, anonymous") << u"none"_s << QByteArray() << false << "GET"_ba
                                          << "/x"_ba << 401 << u"token not found"_s;
    QTest::addRow("no public token, anonymous") << u"nopublic"_s << QByteArray() << false << "GET"_ba
                                                << "/x"_ba << 401 << u"token not found"_s;
    QTest::addRow("expired") << full << "expired"_ba << true << "GET"_ba
                             << "/x"_ba << 401 << u"token expired"_s;
    QTest::addRow("expires exactly now is still valid") << full << "boundary"_ba << true << "GET"_ba
                                                        << "/x"_ba << 0 << QString();

    // The implicit public token: 401 instead of 403
    QTest::addRow("public allowed") << full << QByteArray() << false << "GET"_ba
                                    << "/pub/x"_ba << 0 << QString();
    QTest::addRow("public no match") << full << QByteArray() << false << "GET"_ba
                                     << "/other"_ba << 401 << u"token does not match patterns"_s;
    QTest::addRow("public empty list") << full << QByteArray() << false << "POST"_ba
                                       << "/pub/x"_ba << 401 << u"no patterns found"_s;
    QTest::addRow("public absent list") << full << QByteArray() << false << "PUT"_ba
                                        << "/pub/x"_ba << 401 << u"no patterns found"_s;
    QTest::addRow("public token ignores the passed value") << full << "writer"_ba << false << "GET"_ba
                                                           << "/other"_ba << 401 << u"token does not match patterns"_s;
    QTest::addRow("public presented explicitly is 403") << full << "public"_ba << true << "GET"_ba
                                                        << "/other"_ba << 403 << u"token does not match patterns"_s;

    // Hashed tokens
    QTest::addRow("hashed token") << full << "hashed-secret"_ba << true << "GET"_ba
                                  << "/h/x"_ba << 0 << QString();
    QTest::addRow("hashed token no match") << full << "hashed-secret"_ba << true << "GET"_ba
                                           << "/x"_ba << 403 << u"token does not match patterns"_s;
    QTest::addRow("hashed key is not a token")
        << full << UserConfig::hashedKey("hashed-secret").toUtf8() << true << "GET"_ba
        << "/h/x"_ba << 401 << u"token not found"_s;

    // Unsupported methods
    QTest::addRow("HEAD") << full << "writer"_ba << true << "HEAD"_ba
                          << "/x"_ba << 403 << u"unsupported method"_s;
    QTest::addRow("OPTIONS") << full << "writer"_ba << true << "OPTIONS"_ba
                             << "/x"_ba << 403 << u"unsupported method"_s;
    QTest::addRow("custom ADMIN method") << full << "admin"_ba << true << "ADMIN"_ba
                                         << "/x"_ba << 403 << u"unsupported method"_s;
    QTest::addRow("unsupported, anonymous") << full << QByteArray() << false << "HEAD"_ba
                                            << "/pub/x"_ba << 401 << u"unsupported method"_s;
    QTest::addRow("token checks come first") << full << "nope"_ba << true << "HEAD"_ba
                                             << "/x"_ba << 401 << u"token not found"_s;
}

void TestAcl::channelAccess()
{
    QFETCH(QString, config);
    QFETCH(QByteArray, token);
    QFETCH(bool, presented);
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(int, status);
    QFETCH(QString, reason);

    const UserConfig *c = config == u"full"_s ? m_config.get() : config == u"nopublic"_s ? m_noPublic.get() : nullptr;
    const AclResult result = Acl::checkMethod(c, token, presented, method, path, now());
    QCOMPARE(result.status, status);
    QCOMPARE(result.allowed, status == 0);
    QCOMPARE(result.reason, reason);

    // The same through a config source's answer.
    const ConfigLookup lookup =
        c ? ConfigLookup::found(config == u"full"_s ? m_config : m_noPublic) : ConfigLookup::noConfig();
    const AclResult viaLookup = Acl::check(lookup, token, presented, Patchwork::aclListForMethod(method), path, now());
    QCOMPARE(viaLookup.status, status);
    QCOMPARE(viaLookup.reason, reason);
}

void TestAcl::huproxy_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<bool>("presented");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("reason");

    QTest::addRow("allowed") << "writer"_ba << true << "ssh.example.com:22"_ba << 0 << QString();
    QTest::addRow("allowed port pattern") << "writer"_ba << true << "localhost:8080"_ba << 0 << QString();
    QTest::addRow("negated") << "writer"_ba << true << "localhost:25"_ba << 403 << u"token does not match patterns"_s;
    QTest::addRow("no match") << "writer"_ba << true << "evil.com:22"_ba << 403 << u"token does not match patterns"_s;
    QTest::addRow("no huproxy list") << "reader"_ba << true << "localhost:22"_ba << 403 << u"no patterns found"_s;
    QTest::addRow("unknown token is 403") << "nope"_ba << true << "localhost:22"_ba << 403 << u"token not found"_s;
    QTest::addRow("expired token is 403") << "expired"_ba << true << "localhost:22"_ba << 403 << u"token expired"_s;
    QTest::addRow("no token") << QByteArray() << false << "localhost:22"_ba << 401 << u"Missing Authorization header"_s;
}

void TestAcl::huproxy()
{
    QFETCH(QByteArray, token);
    QFETCH(bool, presented);
    QFETCH(QByteArray, target);
    QFETCH(int, status);
    QFETCH(QString, reason);
    const AclResult result = Acl::check(m_config.get(), token, presented, AclList::Huproxy, target, now());
    QCOMPARE(result.status, status);
    QCOMPARE(result.allowed, status == 0);
    QCOMPARE(result.reason, reason);
}

void TestAcl::lookupStates()
{
    const ConfigLookup unavailable = ConfigLookup::unavailable(u"config.yaml:3: broken"_s);
    AclResult r = Acl::check(unavailable, "writer", true, AclList::Get, "/x", now());
    QCOMPARE(r.status, 503);
    QVERIFY(!r.allowed);
    QCOMPARE(r.reason, u"user configuration unavailable"_s);
    r = Acl::check(unavailable, {}, false, AclList::Get, "/x", now());
    QCOMPARE(r.status, 503);
    // huproxy checks the token's presence before anything else (§11)
    r = Acl::check(unavailable, {}, false, AclList::Huproxy, "h:1", now());
    QCOMPARE(r.status, 401);
    r = Acl::check(unavailable, "writer", true, AclList::Huproxy, "h:1", now());
    QCOMPARE(r.status, 503);

    r = Acl::check(ConfigLookup::noConfig(), "writer", true, AclList::Get, "/x", now());
    QCOMPARE(r.status, 401);
    QCOMPARE(r.reason, u"token not found"_s);
    r = Acl::check(ConfigLookup::found(m_config), "writer", true, AclList::Get, "/x", now());
    QVERIFY(r.allowed);
    QCOMPARE(r.status, 0);
    // An unsupported method through the lookup overload.
    r = Acl::check(ConfigLookup::found(m_config), "writer", true, std::nullopt, "/x", now());
    QCOMPARE(r.status, 403);
    QCOMPARE(r.reason, u"unsupported method"_s);
}

void TestAcl::admin_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<bool>("presented");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("reason");

    QTest::addRow("admin") << "admin"_ba << true << 0 << QString();
    QTest::addRow("hashed admin") << "hashed-admin"_ba << true << 0 << QString();
    QTest::addRow("missing") << QByteArray() << false << 401 << u"Authorization required"_s;
    QTest::addRow("empty") << QByteArray() << true << 401 << u"Authorization required"_s;
    QTest::addRow("unknown") << "nope"_ba << true << 403 << u"token not found"_s;
    QTest::addRow("public is never implied") << "public"_ba << true << 403 << u"not an admin token"_s;
    QTest::addRow("expired admin") << "expiredadmin"_ba << true << 403 << u"token expired"_s;
    QTest::addRow("not admin") << "writer"_ba << true << 403 << u"not an admin token"_s;
}

void TestAcl::admin()
{
    QFETCH(QByteArray, token);
    QFETCH(bool, presented);
    QFETCH(int, status);
    QFETCH(QString, reason);
    const AclResult result = Acl::checkAdmin(m_config.get(), token, presented, now());
    QCOMPARE(result.status, status);
    QCOMPARE(result.allowed, status == 0);
    QCOMPARE(result.reason, reason);
}

void TestAcl::adminLookupStates()
{
    AclResult r = Acl::checkAdmin(ConfigLookup::unavailable(u"x"_s), "admin", true, now());
    QCOMPARE(r.status, 503);
    r = Acl::checkAdmin(ConfigLookup::unavailable(u"x"_s), {}, false, now());
    QCOMPARE(r.status, 401);
    QCOMPARE(r.reason, u"Authorization required"_s);
    r = Acl::checkAdmin(ConfigLookup::noConfig(), "admin", true, now());
    QCOMPARE(r.status, 403);
    QCOMPARE(r.reason, u"token not found"_s);
    r = Acl::checkAdmin(nullptr, "admin", true, now());
    QCOMPARE(r.status, 403);
    r = Acl::checkAdmin(ConfigLookup::found(m_config), "admin", true, now());
    QVERIFY(r.allowed);
}

void TestAcl::listForAction_data()
{
    QTest::addColumn<RequestAction>("action");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<int>("list"); // -1 = unsupported

    QTest::addRow("consumer GET") << RequestAction::Consume << "GET"_ba << int(AclList::Get);
    QTest::addRow("producer POST") << RequestAction::Produce << "POST"_ba << int(AclList::Post);
    QTest::addRow("producer PUT") << RequestAction::Produce << "PUT"_ba << int(AclList::Put);
    QTest::addRow("producer GET ?body= needs POST") << RequestAction::Produce << "GET"_ba << int(AclList::Post);
    QTest::addRow("requester DELETE") << RequestAction::Request << "DELETE"_ba << int(AclList::Delete);
    QTest::addRow("requester PATCH") << RequestAction::Request << "PATCH"_ba << int(AclList::Patch);
    QTest::addRow("requester GET") << RequestAction::Request << "GET"_ba << int(AclList::Get);
    QTest::addRow("requester HEAD") << RequestAction::Request << "HEAD"_ba << -1;
    QTest::addRow("requester custom") << RequestAction::Request << "PROPFIND"_ba << -1;
    QTest::addRow("GET responder") << RequestAction::Respond << "GET"_ba << int(AclList::Get);
    QTest::addRow("POST responder") << RequestAction::Respond << "POST"_ba << int(AclList::Post);
    QTest::addRow("PUT switch responder") << RequestAction::Respond << "PUT"_ba << int(AclList::Put);
    QTest::addRow("reply") << RequestAction::Reply << "POST"_ba << int(AclList::Post);
    QTest::addRow("preflight is never checked") << RequestAction::Preflight << "OPTIONS"_ba << -1;
}

// What the relay answers a classified user-namespace request, as the tray's ACL tester shows it.
void TestAcl::classifiedRequest_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("text");

    QTest::addRow("consumer allowed") << "writer"_ba
                                      << "GET"_ba
                                      << "/u/alice/anything"_ba << 0 << QByteArray();
    QTest::addRow("GET ?body= needs POST") << "writer"_ba
                                           << "GET"_ba
                                           << "/u/alice/inbox/x?body=hi"_ba << 0 << QByteArray();
    QTest::addRow("GET ?body= outside POST")
        << "writer"_ba
        << "GET"_ba
        << "/u/alice/other?body=hi"_ba << 403 << "Access denied: token does not match patterns"_ba;
    QTest::addRow("reply needs POST") << "writer"_ba
                                      << "PUT"_ba
                                      << "/u/alice/res/x?reply=1"_ba << 403
                                      << "Access denied: token does not match patterns"_ba;
    QTest::addRow("unknown token") << "nobody"_ba
                                   << "GET"_ba
                                   << "/u/alice/x"_ba << 401 << "Access denied: token not found"_ba;
    QTest::addRow("HEAD requester") << "writer"_ba
                                    << "HEAD"_ba
                                    << "/u/alice/req/x"_ba << 403 << "Access denied: unsupported method"_ba;
}

void TestAcl::classifiedRequest()
{
    QFETCH(QByteArray, token);
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(int, status);
    QFETCH(QByteArray, text);
    const qsizetype q = target.indexOf('?');
    const QueryParams query(q < 0 ? QByteArrayView() : QByteArrayView(target).sliced(q + 1));
    const RequestClass request =
        Patchwork::classifyRequest(method, QByteArrayView(target).first(q < 0 ? target.size() : q), query);
    QCOMPARE(request.route, RequestClass::Route::Channel);
    const AclResult result =
        Acl::checkRequest(ConfigLookup::found(m_config), token, true, request.action, method, request.path, now());
    QCOMPARE(result.status, status);
    QCOMPARE(result.allowed, status == 0);
    if (status) {
        QCOMPARE(Acl::denialText(result), text);
    }
}

void TestAcl::listForAction()
{
    QFETCH(RequestAction, action);
    QFETCH(QByteArray, method);
    QFETCH(int, list);
    const std::optional<AclList> result = Patchwork::aclListForAction(action, method);
    if (list < 0) {
        QVERIFY(!result);
    } else {
        QVERIFY(result);
        QCOMPARE(int(*result), list);
    }
}

void TestAcl::tokenFromAuthorization_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QByteArray>("token");

    QTest::addRow("Bearer") << "Bearer abc"_ba
                            << "abc"_ba;
    QTest::addRow("bearer lower-case") << "bearer abc"_ba
                                       << "abc"_ba;
    QTest::addRow("BEARER, extra spaces") << "  BEARER   abc  "_ba
                                          << "abc"_ba;
    QTest::addRow("Bearer with tab") << "Bearer\tabc"_ba
                                     << "abc"_ba;
    QTest::addRow("token") << "token abc"_ba
                           << "abc"_ba;
    QTest::addRow("Token") << "Token abc"_ba
                           << "abc"_ba;
    QTest::addRow("bare") << "abc"_ba
                          << "abc"_ba;
    QTest::addRow("bare, trimmed") << " abc "_ba
                                   << "abc"_ba;
    QTest::addRow("other scheme is literal") << "Basic eHl6"_ba
                                             << "Basic eHl6"_ba;
    QTest::addRow("scheme alone is literal") << "Bearer"_ba
                                             << "Bearer"_ba;
    QTest::addRow("scheme and space is literal") << "Bearer "_ba
                                                 << "Bearer"_ba;
    QTest::addRow("no space after scheme") << "Bearerabc"_ba
                                           << "Bearerabc"_ba;
    QTest::addRow("tokenabc") << "tokenabc"_ba
                              << "tokenabc"_ba;
    QTest::addRow("token with spaces inside") << "Bearer a b"_ba
                                              << "a b"_ba;
    QTest::addRow("empty") << QByteArray() << QByteArray();
    QTest::addRow("blank") << "   "_ba << QByteArray();
}

void TestAcl::tokenFromAuthorization()
{
    QFETCH(QByteArray, header);
    QFETCH(QByteArray, token);
    QCOMPARE(Patchwork::tokenFromAuthorization(header).toByteArray(), token);
}

QTEST_GUILESS_MAIN(TestAcl)
#include "tst_acl.moc"
