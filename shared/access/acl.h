// SPDX-License-Identifier: MIT
#pragma once

#include <optional>

#include <QByteArrayView>
#include <QDateTime>
#include <QString>

#include "access/configsource.h"
#include "access/requestclass.h"
#include "access/userconfig.h"

namespace Patchwork
{

// GET/POST/PUT/DELETE/PATCH (case-insensitive) => their list; anything else => std::nullopt.
std::optional<AclList> aclListForMethod(QByteArrayView method);
// The list an action needs (PROTOCOL §8 "Which list": the action decides, not the raw method):
// Consume => GET; Produce => the method's list, GET ?body= => POST; Request and Respond => the method's;
// Reply => POST. std::nullopt = unsupported method (denied with "unsupported method"); also for
// Preflight, which needs no credentials and is never checked.
std::optional<AclList> aclListForAction(RequestAction action, QByteArrayView method);

// The token in an `Authorization` header value (or a `?token=` value): `Bearer <t>`, `token <t>`
// (scheme case-insensitive, any spaces) or the whole (trimmed) value. A scheme with nothing after
// it is taken literally, as the original does. Returns a view into `value`; empty when `value` is
// blank, which means "no token presented".
QByteArrayView tokenFromAuthorization(QByteArrayView value);

// The outcome of an ACL decision. status: 0 when allowed, else 401, 403 or 503. The front end writes
//  - user channels, ntfy (§8, §10): 401/403 `Access denied: <reason>`, 503 `User configuration unavailable`;
//  - admin (§9): 401 `<reason>` (= `Authorization required`), 403 `Admin access denied: <reason>`;
//  - huproxy (§11): 401 `Unauthorized: <reason>`, 403 `Forbidden: <reason>`.
// Reasons are protocol text (not translated) and never contain the token.
struct AclResult
{
    bool allowed = false;
    int status = 0;
    QString reason;
};

namespace Acl
{

// The token used when none is presented (PROTOCOL §8).
inline constexpr QByteArrayView PUBLIC_TOKEN = "public";

// The decision of PROTOCOL §8 "Outcomes", first failure wins:
//   config null or token not in it => 401 `token not found`; expired => 401 `token expired`;
//   list std::nullopt => 403 `unsupported method`; empty or absent list => 403 `no patterns found`;
//   no match => 403 `token does not match patterns`.
// Without a presented token the token `public` is used and every 403 becomes 401; a presented token
// that is unknown never falls back to `public`. `subject` is `/<path>` (UTF-8, percent-decoded, no
// query) or, for AclList::Huproxy, `<host>:<port>`.
// For AclList::Huproxy the statuses follow §11 instead: no token presented => 401 `Missing
// Authorization header`; every other denial => 403.
AclResult check(const UserConfig *config,
                QByteArrayView token,
                bool tokenPresented,
                std::optional<AclList> list,
                QByteArrayView subject,
                const QDateTime &now);
// The same with the list of a request method (GET/POST/PUT/DELETE/PATCH; others are unsupported).
AclResult checkMethod(const UserConfig *config,
                      QByteArrayView token,
                      bool tokenPresented,
                      QByteArrayView method,
                      QByteArrayView subject,
                      const QDateTime &now);
// The same with a config source's answer: Unavailable => 503 `user configuration unavailable`,
// NoConfig => as a null config.
AclResult check(const ConfigLookup &lookup,
                QByteArrayView token,
                bool tokenPresented,
                std::optional<AclList> list,
                QByteArrayView subject,
                const QDateTime &now);

// The check of a classified request in a user namespace (a channel or /_/ntfy, PROTOCOL §8, §10): the
// list of `action` for `method`, the subject "/" + `path` (the path inside the namespace). What the relay
// decides, and what the tray's ACL tester shows.
AclResult checkRequest(const ConfigLookup &lookup,
                       QByteArrayView token,
                       bool tokenPresented,
                       RequestAction action,
                       QByteArrayView method,
                       QByteArrayView path,
                       const QDateTime &now);
// The response body (without the newline) of a denied channel or ntfy request: `Access denied: <reason>`,
// or `User configuration unavailable` for 503.
QByteArray denialText(const AclResult &result);
// The body of a denied admin request (PROTOCOL §9): 401 `<reason>`, 403 `Admin access denied: <reason>`,
// 503 `User configuration unavailable`.
QByteArray adminDenialText(const AclResult &result);
// The body of a denied tunnel request (PROTOCOL §11): `Unauthorized: <reason>`, `Forbidden: <reason>`,
// `Service Unavailable: <reason>`.
QByteArray tunnelDenialText(const AclResult &result);

// The admin check of PROTOCOL §9 (token from the Authorization header only):
//   not presented => 401 `Authorization required`; unknown => 403 `token not found`;
//   expired => 403 `token expired`; not is_admin => 403 `not an admin token`.
AclResult checkAdmin(const UserConfig *config, QByteArrayView token, bool tokenPresented, const QDateTime &now);
// With a config source's answer: Unavailable => 503 (after the 401 for a missing token).
AclResult checkAdmin(const ConfigLookup &lookup, QByteArrayView token, bool tokenPresented, const QDateTime &now);

} // namespace Acl

} // namespace Patchwork
