// SPDX-License-Identifier: MIT
// Request classification (PROTOCOL §1–§10): method, path and query to route, namespace, action, role,
// timeout, or the exact error and when it is decided.
#include <QTest>

#include "access/requestclass.h"
#include "protocol/requesttarget.h"

using namespace Patchwork;

namespace
{

QByteArray routeName(RequestClass::Route route)
{
    switch (route) {
    case RequestClass::Route::NotFound:
        return "NotFound";
    case RequestClass::Route::Index:
        return "Index";
    case RequestClass::Route::Health:
        return "Health";
    case RequestClass::Route::ClientScript:
        return "ClientScript";
    case RequestClass::Route::Favicon:
        return "Favicon";
    case RequestClass::Route::Metrics:
        return "Metrics";
    case RequestClass::Route::CreateHook:
        return "CreateHook";
    case RequestClass::Route::Channel:
        return "Channel";
    case RequestClass::Route::Notify:
        return "Notify";
    case RequestClass::Route::Admin:
        return "Admin";
    case RequestClass::Route::Tunnel:
        return "Tunnel";
    }
    return "?";
}

QByteArray actionName(RequestAction action)
{
    switch (action) {
    case RequestAction::Preflight:
        return "Preflight";
    case RequestAction::Consume:
        return "Consume";
    case RequestAction::Produce:
        return "Produce";
    case RequestAction::Request:
        return "Request";
    case RequestAction::Respond:
        return "Respond";
    case RequestAction::Reply:
        return "Reply";
    }
    return "?";
}

QByteArray roleName(const RequestClass &c)
{
    switch (c.role) {
    case Waiter::Role::Consumer:
        return "consumer";
    case Waiter::Role::Producer:
        return c.mode == Waiter::Mode::Pubsub ? "producer/pubsub" : "producer/queue";
    case Waiter::Role::Requester:
        return "requester";
    case Waiter::Role::Responder:
        switch (c.responderKind) {
        case Waiter::ResponderKind::Get:
            return "responder/get";
        case Waiter::ResponderKind::OneShot:
            return "responder/oneshot";
        case Waiter::ResponderKind::Switch:
            return "responder/switch";
        }
        break;
    case Waiter::Role::Replier:
        return "replier";
    }
    return "?";
}

QByteArray errorText(const char *when, const RequestError &e)
{
    QByteArray out = when + (' ' + QByteArray::number(e.status)) + ' ' + e.reason.toByteArray();
    if (!e.allow.isEmpty()) {
        out += " [Allow: " + e.allow.toByteArray() + ']';
    }
    return out;
}

// One line per classification, e.g. "Channel public queue/jobs Consume consumer timeout=1500".
QByteArray describe(const RequestClass &c)
{
    QByteArray out = routeName(c.route);
    if (!c.ns.isEmpty()) {
        out += ' ' + c.ns;
    }
    if (!c.path.isEmpty()) {
        out += ' ' + c.path;
    }
    if (c.pathError.isError()) {
        return out + ": " + errorText("before access", c.pathError);
    }
    if (c.route == RequestClass::Route::Notify) {
        out += ' ' + actionName(c.action);
    }
    if (c.route != RequestClass::Route::Channel) {
        return out;
    }
    out += ' ' + actionName(c.action);
    if (c.error.isError()) {
        return out + ": " + errorText("after access", c.error);
    }
    if (c.action == RequestAction::Preflight) {
        return out;
    }
    out += ' ' + roleName(c);
    if (!c.id.isEmpty()) {
        out += " id=" + c.id;
    }
    if (c.timeoutMs) {
        out += " timeout=" + QByteArray::number(c.timeoutMs);
    }
    return out;
}

} // namespace

class TestRequestClass final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void classify_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QByteArray>("query");
        QTest::addColumn<QByteArray>("expected");
        const auto row =
            [](const char *name, const char *method, const char *path, const char *query, const char *expected) {
                QTest::addRow("%s", name)
                    << QByteArray(method) << QByteArray(path) << QByteArray(query) << QByteArray(expected);
            };
        // Fixed routes.
        row("index", "GET", "/", "", "Index");
        row("healthz", "GET", "/healthz", "", "Health");
        row("status", "HEAD", "/status", "", "Health");
        row("client", "GET", "/patchwork.sh", "", "ClientScript");
        row("static client", "GET", "/static/patchwork.sh", "", "ClientScript");
        row("favicon", "GET", "/favicon.ico", "", "Favicon");
        row("metrics", "GET", "/metrics", "", "Metrics");
        row("unknown", "GET", "/nothing", "", "NotFound: before access 404 Not found");
        row("public alone", "GET", "/public", "", "NotFound: before access 404 Not found");
        row("tunnel", "GET", "/huproxy/example.org/22", "", "Tunnel example.org/22");
        row("create hook", "GET", "/h", "", "CreateHook h");
        row("create reverse hook", "POST", "/r", "", "CreateHook r");

        // Queues, pubsub, flexible (PROTOCOL §3, §4).
        row("consumer", "GET", "/public/queue/jobs", "", "Channel public queue/jobs Consume consumer");
        row("short public", "GET", "/p/queue/jobs", "", "Channel public queue/jobs Consume consumer");
        row("producer POST", "POST", "/public/queue/jobs", "", "Channel public queue/jobs Produce producer/queue");
        row("producer PUT", "PUT", "/public/pubsub/news", "", "Channel public pubsub/news Produce producer/pubsub");
        row("GET body= produces",
            "GET",
            "/public/queue/jobs",
            "body=hi",
            "Channel public queue/jobs Produce producer/queue");
        row("GET empty body= consumes",
            "GET",
            "/public/queue/jobs",
            "body=",
            "Channel public queue/jobs Consume consumer");
        row("flexible queue", "POST", "/public/anything", "", "Channel public anything Produce producer/queue");
        row("flexible pubsub",
            "POST",
            "/public/anything",
            "pubsub=yes",
            "Channel public anything Produce producer/pubsub");
        row("flexible pubsub off",
            "POST",
            "/public/anything",
            "pubsub=no",
            "Channel public anything Produce producer/queue");
        row("queue/ ignores pubsub=",
            "POST",
            "/public/queue/x",
            "pubsub=1",
            "Channel public queue/x Produce producer/queue");
        row("timeout",
            "GET",
            "/public/queue/jobs",
            "timeout=1.5",
            "Channel public queue/jobs Consume consumer timeout=1500");
        row("DELETE on a queue",
            "DELETE",
            "/public/queue/jobs",
            "",
            "Channel public queue/jobs Produce: after access 405 Method not allowed [Allow: GET, POST, PUT, OPTIONS]");
        row("preflight", "OPTIONS", "/public/queue/jobs", "timeout=bad", "Channel public queue/jobs Preflight");
        row("bad timeout",
            "GET",
            "/public/queue/jobs",
            "timeout=abc",
            "Channel public queue/jobs Consume: after access 400 Invalid timeout");
        row("zero timeout",
            "GET",
            "/public/queue/jobs",
            "timeout=0",
            "Channel public queue/jobs Consume: after access 400 Invalid timeout");
        row("too long timeout",
            "GET",
            "/public/queue/jobs",
            "timeout=86401",
            "Channel public queue/jobs Consume: after access 400 Invalid timeout");
        row("405 before 400",
            "PATCH",
            "/public/queue/jobs",
            "timeout=abc",
            "Channel public queue/jobs Produce: after access 405 Method not allowed [Allow: GET, POST, PUT, OPTIONS]");
        row("empty channel", "GET", "/public/", "", "Channel public: before access 404 Not found");
        row("reserved _/", "GET", "/public/_/x", "", "Channel public _/x: before access 404 Not found");

        // Request/response (PROTOCOL §5).
        row("requester GET", "GET", "/public/req/api/7", "", "Channel public req/api/7 Request requester id=api/7");
        row("requester DELETE", "DELETE", "/public/req/api", "", "Channel public req/api Request requester id=api");
        row("requester no id", "GET", "/public/req/", "", "Channel public req/: before access 400 Channel ID required");
        row("responder",
            "GET",
            "/public/res/api",
            "timeout=2",
            "Channel public res/api Respond responder/get id=api timeout=2000");
        row("one-shot responder",
            "POST",
            "/public/res/api",
            "",
            "Channel public res/api Respond responder/oneshot id=api");
        row("switch responder",
            "PUT",
            "/public/res/api",
            "switch=true",
            "Channel public res/api Respond responder/switch id=api");
        row("switch=false is one-shot",
            "POST",
            "/public/res/api",
            "switch=false",
            "Channel public res/api Respond responder/oneshot id=api");
        row("switch needs POST",
            "GET",
            "/public/res/api",
            "switch=true",
            "Channel public res/api Respond: after access 405 Switch mode requires POST or PUT method [Allow: POST, "
            "PUT]");
        row("reply", "POST", "/public/res/api", "reply=abc", "Channel public res/api Reply replier id=api");
        row("GET reply= is a responder",
            "GET",
            "/public/res/api",
            "reply=abc",
            "Channel public res/api Respond responder/get id=api");
        row("DELETE on res/",
            "DELETE",
            "/public/res/api",
            "",
            "Channel public res/api Respond: after access 405 Method not allowed [Allow: GET, POST, PUT, OPTIONS]");
        row("responder no id",
            "POST",
            "/public/res/",
            "",
            "Channel public res/: before access 400 Channel ID required");

        // Hooks (PROTOCOL §7).
        row("hook producer", "POST", "/h/abc", "secret=x", "Channel h abc Produce producer/queue");
        row("reverse hook consumer", "GET", "/r/abc", "", "Channel r abc Consume consumer");

        // User namespaces (PROTOCOL §8–§10).
        row("user consumer", "GET", "/u/alice/projects/x", "", "Channel u/alice projects/x Consume consumer");
        row("user requester", "PATCH", "/u/alice/req/x", "", "Channel u/alice req/x Request requester id=x");
        row("user without path", "GET", "/u/alice", "", "NotFound: before access 404 Not found");
        row("user empty path", "GET", "/u/alice/", "", "Channel u/alice: before access 404 Not found");
        row("invalid user", "GET", "/u/-alice/x", "", "NotFound: before access 404 Not found");
        row("user name too long",
            "GET",
            QByteArray("/u/" + QByteArray(65, 'a') + "/x").constData(),
            "",
            "NotFound: before access 404 Not found");
        row("notify POST", "POST", "/u/alice/_/ntfy", "", "Notify u/alice _/ntfy Produce");
        row("notify GET", "GET", "/u/alice/_/ntfy", "", "Notify u/alice _/ntfy Consume");
        row("notify PUT",
            "PUT",
            "/u/alice/_/ntfy",
            "",
            "Notify u/alice _/ntfy: before access 405 Method not allowed [Allow: GET, POST]");
        row("admin", "POST", "/u/alice/_/invalidate_cache", "", "Admin u/alice invalidate_cache");
    }
    void classify()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, query);
        QFETCH(QByteArray, expected);
        QCOMPARE(describe(classifyRequest(method, path, QueryParams(query))), expected);
    }

    void userNames_data()
    {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<bool>("valid");
        QTest::addRow("plain") << QByteArray("alice") << true;
        QTest::addRow("dots and dashes") << QByteArray("a.b_c-d") << true;
        QTest::addRow("digit first") << QByteArray("7up") << true;
        QTest::addRow("64 characters") << QByteArray(64, 'x') << true;
        QTest::addRow("65 characters") << QByteArray(65, 'x') << false;
        QTest::addRow("empty") << QByteArray() << false;
        QTest::addRow("dot first") << QByteArray(".alice") << false;
        QTest::addRow("space") << QByteArray("al ice") << false;
        QTest::addRow("non-ASCII") << QByteArray("al\xc3\xa9") << false;
    }
    void userNames()
    {
        QFETCH(QByteArray, name);
        QFETCH(bool, valid);
        QCOMPARE(isValidUserName(name), valid);
    }

    void userNameOfAClass()
    {
        QCOMPARE(classifyRequest("GET", "/u/bob/x", QueryParams({})).userName(), QByteArrayView("bob"));
        QVERIFY(classifyRequest("GET", "/public/x", QueryParams({})).userName().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestRequestClass)
#include "tst_requestclass.moc"
