// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include "engine/waiter.h"

namespace Patchwork
{

class QueryParams;

// What a request does on a channel (PROTOCOL §2, §7 reads and writes, §8 "Which list"). The router
// classifies, the access gate checks hook secrets by it, and the ACL picks the pattern list from it.
enum class RequestAction
{
    Preflight, // OPTIONS: rate limited, never needs credentials
    Consume, // GET consumer => the GET list; a hook read
    Produce, // POST/PUT producer, GET ?body= (=> POST), and methods a queue/pubsub path refuses (405 later)
    Request, // requester on req/, any method => that method's list; a hook write
    Respond, // responder of any kind on res/ => the method's list
    Reply, // POST/PUT res/<id>?reply= => POST
};

// Which namespace a channel request is in (PROTOCOL §1).
enum class RequestNamespace
{
    Public, // /public, /p: rate limited, no credentials
    Hooks, // /h, /r: rate limited, hook secrets
    User, // /u/<user>: tokens
};

// An error response the classification decided: status, one-line reason (no newline) and, for 405,
// the Allow header. Reasons are protocol text, not translated.
struct RequestError
{
    int status = 0; // 0 = none
    QByteArrayView reason;
    QByteArrayView allow;

    bool isError() const
    {
        return status != 0;
    }
};

// The classification of one request by method, path and query alone (no headers, no body, no
// configuration): where it goes, and for a channel what it does there. A pure function of its input,
// so the router, the access gate and the tray's ACL tester agree by construction.
struct RequestClass
{
    enum class Route
    {
        NotFound, // 404 Not found
        Index, // /
        Health, // /healthz, /status
        ClientScript, // /patchwork.sh, /static/patchwork.sh
        Favicon, // /favicon.ico, /static/favicon.svg
        Metrics, // /metrics (PROTOCOL §12)
        CreateHook, // /h, /r (PROTOCOL §7); `ns` is "h" or "r"
        Channel, // a channel in a namespace (PROTOCOL §1–§8)
        Notify, // /u/<user>/_/ntfy (PROTOCOL §10)
        Admin, // /u/<user>/_/<name> (PROTOCOL §9); `path` is <name>
        Tunnel, // /huproxy/<host>/<port> (PROTOCOL §11); `path` is what follows /huproxy/
    };

    Route route = Route::NotFound;
    RequestNamespace zone = RequestNamespace::Public;
    QByteArray ns; // "public", "h", "r" or "u/<user>"
    QByteArray path; // the path inside the namespace (percent-decoded, no leading slash)
    RequestAction action = RequestAction::Consume; // Channel and Notify

    // Channels, when neither error is set: what the request becomes in the engine.
    Waiter::Role role = Waiter::Role::Consumer;
    Waiter::Mode mode = Waiter::Mode::Queue; // producers
    Waiter::ResponderKind responderKind = Waiter::ResponderKind::Get; // responders
    QByteArray id; // requesters and responders: what follows req/ or res/
    qint64 timeoutMs = 0; // ?timeout=, 0 = none

    // Decided before the access check (PROTOCOL §2 "Order of checks": the path first) ...
    RequestError pathError;
    // ... and after it (the method, then the parameters).
    RequestError error;

    // <user> of /u/<user>/ (empty outside the user namespace).
    QByteArrayView userName() const
    {
        return zone == RequestNamespace::User ? QByteArrayView(ns).sliced(2) : QByteArrayView();
    }
};

// `[A-Za-z0-9][A-Za-z0-9._-]{0,63}` (PROTOCOL §1), checked without a regular expression.
bool isValidUserName(QByteArrayView user);

// Classifies a request. `path` is the request path after dot-segment removal and percent-decoding
// (`/u/alice/queue/jobs`), `query` its parsed query string.
RequestClass classifyRequest(QByteArrayView method, QByteArrayView path, const QueryParams &query);

} // namespace Patchwork
