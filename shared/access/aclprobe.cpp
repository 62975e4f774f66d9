// SPDX-License-Identifier: MIT
#include "access/aclprobe.h"

#include <memory>

#include "access/acl.h"
#include "access/requestclass.h"
#include "protocol/requesttarget.h"

namespace Patchwork::Acl
{

namespace
{

AclProbeResult answer(int status, QByteArrayView body)
{
    return {false, status, body.toByteArray()};
}

AclProbeResult fromAcl(const AclResult &result, QByteArray (*text)(const AclResult &))
{
    if (result.allowed) {
        return {true, 0, {}};
    }
    return answer(result.status, text(result));
}

} // namespace

AclProbeResult probe(const UserConfig *config,
                     QByteArrayView user,
                     QByteArrayView method,
                     QByteArrayView target,
                     QByteArrayView token,
                     const QDateTime &now)
{
    if (method == HUPROXY_METHOD) {
        return fromAcl(check(config, token, !token.isEmpty(), AclList::Huproxy, target, now), tunnelDenialText);
    }

    const qsizetype queryStart = target.indexOf('?');
    const QByteArrayView rawTarget = queryStart < 0 ? target : target.first(queryStart);
    const QByteArrayView rawQuery = queryStart < 0 ? QByteArrayView() : target.sliced(queryStart + 1);
    QByteArray rawPath = "/u/" + user.toByteArray();
    if (!rawTarget.startsWith('/')) {
        rawPath += '/';
    }
    rawPath += rawTarget;
    const std::optional<QByteArray> path = decodeRequestPath(rawPath);
    if (!path) {
        return answer(400, INVALID_PATH_TEXT);
    }
    const QueryParams query(rawQuery);
    const RequestClass request = classifyRequest(method, *path, query);
    if (request.pathError.isError()) {
        return answer(request.pathError.status, request.pathError.reason);
    }

    using Route = RequestClass::Route;
    // A lookup that refers to `config` without owning it (the aliasing constructor with no owner).
    const ConfigLookup lookup =
        config ? ConfigLookup::found(std::shared_ptr<const UserConfig>(std::shared_ptr<void>(), config))
               : ConfigLookup::noConfig();
    switch (request.route) {
    case Route::NotFound:
        return answer(404, "Not found");
    case Route::Admin: {
        // PROTOCOL §9: the Authorization header only. Which admin endpoints exist is not an access question.
        return fromAcl(checkAdmin(lookup, token, !token.isEmpty(), now), adminDenialText);
    }
    case Route::Channel:
    case Route::Notify: {
        if (request.zone != RequestNamespace::User || request.action == RequestAction::Preflight) {
            return {true, 0, {}}; // a dot segment left the namespace, or a preflight: no token needed
        }
        QByteArray queryToken;
        QByteArrayView presented = token;
        if (presented.isEmpty()) {
            queryToken = query.value("token");
            presented = tokenFromAuthorization(queryToken);
        }
        const AclResult result =
            checkRequest(lookup, presented, !presented.isEmpty(), request.action, method, request.path, now);
        if (!result.allowed) {
            return fromAcl(result, denialText);
        }
        if (request.error.isError()) {
            return answer(request.error.status, request.error.reason);
        }
        return {true, 0, {}};
    }
    default:
        // Outside the user namespace (a dot segment left it): not a question of this config.
        return {true, 0, {}};
    }
}

} // namespace Patchwork::Acl
