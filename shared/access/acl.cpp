// SPDX-License-Identifier: MIT
#include "access/acl.h"

#include <QVarLengthArray>

using namespace Qt::StringLiterals;

namespace Patchwork
{

namespace
{

bool isSpace(char c)
{
    return c == ' ' || c == '\t';
}

QByteArrayView trimmedView(QByteArrayView v)
{
    while (!v.isEmpty() && isSpace(v.front())) {
        v = v.sliced(1);
    }
    while (!v.isEmpty() && isSpace(v.back())) {
        v.chop(1);
    }
    return v;
}

AclResult allow()
{
    return AclResult{true, 0, QString()};
}

AclResult deny(int status, const QString &reason)
{
    return AclResult{false, status, reason};
}

} // namespace

std::optional<AclList> aclListForMethod(QByteArrayView method)
{
    struct Entry
    {
        QByteArrayView name;
        AclList list;
    };
    static constexpr Entry METHODS[] = {
        {"GET", AclList::Get},
        {"POST", AclList::Post},
        {"PUT", AclList::Put},
        {"DELETE", AclList::Delete},
        {"PATCH", AclList::Patch},
    };
    for (const Entry &e : METHODS) {
        if (method.compare(e.name, Qt::CaseInsensitive) == 0) {
            return e.list;
        }
    }
    return std::nullopt;
}

std::optional<AclList> aclListForAction(RequestAction action, QByteArrayView method)
{
    switch (action) {
    case RequestAction::Consume:
        return AclList::Get;
    case RequestAction::Produce:
        // `GET ?body=` writes, so it needs POST permission (PROTOCOL §16 item 9).
        if (method.compare("GET", Qt::CaseInsensitive) == 0) {
            return AclList::Post;
        }
        return aclListForMethod(method);
    case RequestAction::Request:
    case RequestAction::Respond:
        return aclListForMethod(method);
    case RequestAction::Reply:
        return AclList::Post;
    case RequestAction::Preflight:
        break;
    }
    return std::nullopt;
}

QByteArrayView tokenFromAuthorization(QByteArrayView value)
{
    value = trimmedView(value);
    for (const QByteArrayView scheme : {QByteArrayView("Bearer"), QByteArrayView("token")}) {
        if (value.size() > scheme.size() && isSpace(value.at(scheme.size()))
            && value.first(scheme.size()).compare(scheme, Qt::CaseInsensitive) == 0) {
            const QByteArrayView rest = trimmedView(value.sliced(scheme.size()));
            if (!rest.isEmpty()) {
                return rest;
            }
        }
    }
    return value;
}

namespace Acl
{

AclResult check(const UserConfig *config,
                QByteArrayView token,
                bool tokenPresented,
                std::optional<AclList> list,
                QByteArrayView subject,
                const QDateTime &now)
{
    const bool huproxy = list == AclList::Huproxy;
    if (huproxy && !tokenPresented) {
        return deny(401, u"Missing Authorization header"_s);
    }
    // §8: unknown or expired tokens are 401, other denials 403 (401 for the implicit public token).
    // §11 (huproxy): every denial of a presented token is 403.
    const int tokenStatus = huproxy ? 403 : 401;
    const int permissionStatus = tokenPresented ? 403 : 401;
    const QByteArrayView effective = tokenPresented ? token : PUBLIC_TOKEN;

    const TokenEntry *entry = config ? config->findToken(effective) : nullptr;
    if (!entry) {
        return deny(tokenStatus, u"token not found"_s);
    }
    if (entry->isExpired(now)) {
        return deny(tokenStatus, u"token expired"_s);
    }
    if (!list) {
        return deny(permissionStatus, u"unsupported method"_s);
    }
    const std::optional<PatternList> &patterns = entry->list(*list);
    if (!patterns || patterns->isEmpty()) {
        return deny(permissionStatus, u"no patterns found"_s);
    }
    if (!patterns->allows(subject)) {
        return deny(permissionStatus, u"token does not match patterns"_s);
    }
    return allow();
}

AclResult checkMethod(const UserConfig *config,
                      QByteArrayView token,
                      bool tokenPresented,
                      QByteArrayView method,
                      QByteArrayView subject,
                      const QDateTime &now)
{
    return check(config, token, tokenPresented, aclListForMethod(method), subject, now);
}

AclResult check(const ConfigLookup &lookup,
                QByteArrayView token,
                bool tokenPresented,
                std::optional<AclList> list,
                QByteArrayView subject,
                const QDateTime &now)
{
    if (list == AclList::Huproxy && !tokenPresented) {
        return check(nullptr, token, tokenPresented, list, subject, now);
    }
    if (lookup.state == ConfigLookup::State::Unavailable) {
        return deny(503, u"user configuration unavailable"_s);
    }
    const UserConfig *config = lookup.state == ConfigLookup::State::Found ? lookup.config.get() : nullptr;
    return check(config, token, tokenPresented, list, subject, now);
}

AclResult checkRequest(const ConfigLookup &lookup,
                       QByteArrayView token,
                       bool tokenPresented,
                       RequestAction action,
                       QByteArrayView method,
                       QByteArrayView path,
                       const QDateTime &now)
{
    // The subject is "/" + <path>, built on the stack for ordinary paths.
    QVarLengthArray<char, 256> subject;
    subject.append('/');
    subject.append(path.data(), path.size());
    return check(lookup,
                 token,
                 tokenPresented,
                 aclListForAction(action, method),
                 QByteArrayView(subject.constData(), subject.size()),
                 now);
}

QByteArray denialText(const AclResult &result)
{
    if (result.status == 503) {
        return QByteArrayLiteral("User configuration unavailable");
    }
    return "Access denied: " + result.reason.toUtf8();
}

QByteArray adminDenialText(const AclResult &result)
{
    if (result.status == 503) {
        return QByteArrayLiteral("User configuration unavailable");
    }
    if (result.status == 401) {
        return result.reason.toUtf8();
    }
    return "Admin access denied: " + result.reason.toUtf8();
}

QByteArray tunnelDenialText(const AclResult &result)
{
    const QByteArray reason = result.reason.toUtf8();
    switch (result.status) {
    case 401:
        return "Unauthorized: " + reason;
    case 403:
        return "Forbidden: " + reason;
    default:
        return "Service Unavailable: " + reason;
    }
}

AclResult checkAdmin(const UserConfig *config, QByteArrayView token, bool tokenPresented, const QDateTime &now)
{
    if (!tokenPresented || token.isEmpty()) {
        return deny(401, u"Authorization required"_s);
    }
    const TokenEntry *entry = config ? config->findToken(token) : nullptr;
    if (!entry) {
        return deny(403, u"token not found"_s);
    }
    if (entry->isExpired(now)) {
        return deny(403, u"token expired"_s);
    }
    if (!entry->isAdmin) {
        return deny(403, u"not an admin token"_s);
    }
    return allow();
}

AclResult checkAdmin(const ConfigLookup &lookup, QByteArrayView token, bool tokenPresented, const QDateTime &now)
{
    if (!tokenPresented || token.isEmpty()) {
        return checkAdmin(nullptr, token, tokenPresented, now);
    }
    if (lookup.state == ConfigLookup::State::Unavailable) {
        return deny(503, u"user configuration unavailable"_s);
    }
    const UserConfig *config = lookup.state == ConfigLookup::State::Found ? lookup.config.get() : nullptr;
    return checkAdmin(config, token, tokenPresented, now);
}

} // namespace Acl

} // namespace Patchwork
