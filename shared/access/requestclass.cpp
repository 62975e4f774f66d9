// SPDX-License-Identifier: MIT
#include "access/requestclass.h"

#include "protocol/requesttarget.h"

namespace Patchwork
{

namespace
{

constexpr QByteArrayView NOT_FOUND = "Not found";
constexpr QByteArrayView METHOD_NOT_ALLOWED = "Method not allowed";
constexpr QByteArrayView ALLOW_CHANNEL = "GET, POST, PUT, OPTIONS";

RequestClass routed(RequestClass::Route route)
{
    RequestClass c;
    c.route = route;
    return c;
}

RequestClass notFound()
{
    RequestClass c;
    c.pathError = {404, NOT_FOUND, {}};
    return c;
}

// A channel request in `ns` (PROTOCOL §2–§6): the path checks, the action, then the method and parameter
// checks and what the request becomes in the engine.
RequestClass
classifyChannel(QByteArrayView method, RequestNamespace zone, QByteArray ns, QByteArray path, const QueryParams &query)
{
    RequestClass c;
    c.route = RequestClass::Route::Channel;
    c.zone = zone;
    c.ns = std::move(ns);
    c.path = std::move(path);
    if (c.path.isEmpty() || c.path.startsWith("_/")) {
        c.pathError = {404, NOT_FOUND, {}};
        return c;
    }
    const bool isReq = c.path.startsWith("req/");
    const bool isRes = c.path.startsWith("res/");
    if ((isReq || isRes) && c.path.size() == 4) {
        c.pathError = {400, "Channel ID required", {}};
        return c;
    }
    const bool isGet = method == "GET";
    const bool isPost = method == "POST" || method == "PUT";
    const bool isReply = isRes && isPost && query.has("reply");

    if (method == "OPTIONS") {
        c.action = RequestAction::Preflight;
        return c;
    }
    if (isReq) {
        c.action = RequestAction::Request;
    } else if (isRes) {
        c.action = isReply ? RequestAction::Reply : RequestAction::Respond;
    } else if (isGet && query.value("body").isEmpty()) {
        c.action = RequestAction::Consume;
    } else {
        c.action = RequestAction::Produce;
    }

    // The method (405) before the parameters (400).
    if (!isReq && !isGet && !isPost) {
        c.error = {405, METHOD_NOT_ALLOWED, ALLOW_CHANNEL};
        return c;
    }
    if (isRes && isGet && query.has("switch")) {
        c.error = {405, "Switch mode requires POST or PUT method", "POST, PUT"};
        return c;
    }
    if (query.has("timeout")) {
        const std::optional<qint64> timeout = parseTimeoutParam(query.value("timeout"));
        if (!timeout) {
            c.error = {400, "Invalid timeout", {}};
            return c;
        }
        c.timeoutMs = *timeout;
    }

    if (isReq || isRes) {
        c.id = c.path.mid(4);
    }
    switch (c.action) {
    case RequestAction::Request:
        c.role = Waiter::Role::Requester;
        break;
    case RequestAction::Reply:
        c.role = Waiter::Role::Replier;
        break;
    case RequestAction::Respond:
        c.role = Waiter::Role::Responder;
        c.responderKind = !isPost                    ? Waiter::ResponderKind::Get
                          : query.isTruthy("switch") ? Waiter::ResponderKind::Switch
                                                     : Waiter::ResponderKind::OneShot;
        break;
    case RequestAction::Consume:
        c.role = Waiter::Role::Consumer;
        break;
    case RequestAction::Produce: {
        c.role = Waiter::Role::Producer;
        const bool pubsub = c.path.startsWith("pubsub/") || (!c.path.startsWith("queue/") && query.isTruthy("pubsub"));
        c.mode = pubsub ? Waiter::Mode::Pubsub : Waiter::Mode::Queue;
        break;
    }
    case RequestAction::Preflight:
        break;
    }
    return c;
}

// /u/<user>/<path>, /u/<user>/_/ntfy and /u/<user>/_/<admin> (PROTOCOL §1, §8–§10).
RequestClass classifyUser(QByteArrayView method, QByteArrayView path, const QueryParams &query)
{
    const qsizetype slash = path.indexOf('/', 3);
    if (slash < 0 || !isValidUserName(path.sliced(3, slash - 3))) {
        return notFound();
    }
    const QByteArray ns = path.sliced(1, slash - 1).toByteArray(); // "u/<user>"
    const QByteArrayView rest = path.sliced(slash + 1);
    if (rest == "_/ntfy") {
        RequestClass c = routed(RequestClass::Route::Notify);
        c.zone = RequestNamespace::User;
        c.ns = ns;
        c.path = rest.toByteArray();
        // The method check comes before the ACL here, as in the original (PROTOCOL §10).
        if (method != "GET" && method != "POST") {
            c.pathError = {405, METHOD_NOT_ALLOWED, "GET, POST"};
        }
        c.action = method == "GET" ? RequestAction::Consume : RequestAction::Produce;
        return c;
    }
    if (rest.startsWith("_/")) {
        RequestClass c = routed(RequestClass::Route::Admin);
        c.zone = RequestNamespace::User;
        c.ns = ns;
        c.path = rest.sliced(2).toByteArray();
        return c;
    }
    return classifyChannel(
        method, RequestNamespace::User, path.sliced(1, slash - 1).toByteArray(), rest.toByteArray(), query);
}

} // namespace

bool isValidUserName(QByteArrayView user)
{
    if (user.isEmpty() || user.size() > 64) {
        return false;
    }
    for (qsizetype i = 0; i < user.size(); ++i) {
        const char ch = user.at(i);
        const bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum && (i == 0 || (ch != '.' && ch != '_' && ch != '-'))) {
            return false;
        }
    }
    return true;
}

RequestClass classifyRequest(QByteArrayView method, QByteArrayView path, const QueryParams &query)
{
    using Route = RequestClass::Route;
    if (path == "/") {
        return routed(Route::Index);
    }
    if (path == "/healthz" || path == "/status") {
        return routed(Route::Health);
    }
    if (path == "/patchwork.sh" || path == "/static/patchwork.sh") {
        return routed(Route::ClientScript);
    }
    if (path == "/favicon.ico" || path == "/static/favicon.svg") {
        return routed(Route::Favicon);
    }
    if (path == "/metrics") {
        return routed(Route::Metrics);
    }
    if (path.startsWith("/public/")) {
        return classifyChannel(
            method, RequestNamespace::Public, QByteArrayLiteral("public"), path.sliced(8).toByteArray(), query);
    }
    if (path.startsWith("/p/")) {
        return classifyChannel(
            method, RequestNamespace::Public, QByteArrayLiteral("public"), path.sliced(3).toByteArray(), query);
    }
    if (path == "/h" || path == "/r") {
        RequestClass c = routed(Route::CreateHook);
        c.zone = RequestNamespace::Hooks;
        c.ns = path.sliced(1).toByteArray();
        return c;
    }
    if (path.startsWith("/h/") || path.startsWith("/r/")) {
        return classifyChannel(
            method, RequestNamespace::Hooks, path.sliced(1, 1).toByteArray(), path.sliced(3).toByteArray(), query);
    }
    if (path.startsWith("/u/")) {
        return classifyUser(method, path, query);
    }
    if (path.startsWith("/huproxy/")) {
        RequestClass c = routed(Route::Tunnel);
        c.path = path.sliced(9).toByteArray();
        return c;
    }
    return notFound();
}

} // namespace Patchwork
