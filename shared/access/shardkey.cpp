// SPDX-License-Identifier: MIT
#include "access/shardkey.h"

#include "access/requestclass.h"
#include "protocol/requesttarget.h"

namespace Patchwork
{

QByteArray shardKey(const RequestClass &request)
{
    using Route = RequestClass::Route;
    switch (request.route) {
    case Route::Channel: {
        if (request.pathError.isError()) {
            return {}; // the same refusal on every node
        }
        const QByteArrayView path(request.path);
        if (path.startsWith("req/") || path.startsWith("res/")) {
            // A responder's id is the request's id or a prefix of it ending at a '/': both share the
            // first segment, so the longest prefix is found on one node.
            const QByteArrayView id = path.sliced(4);
            const qsizetype slash = id.indexOf('/');
            QByteArray key = request.ns;
            key += "/rr/";
            key += slash < 0 ? id : id.first(slash);
            return key;
        }
        return QByteArray(request.ns).append('/').append(request.path);
    }
    case Route::Notify:
    case Route::Admin:
        return request.ns;
    case Route::Tunnel: {
        const QByteArrayView rest(request.path);
        const QByteArrayView user = rest.first(qMax<qsizetype>(0, rest.indexOf('/')));
        return isValidUserName(user) ? QByteArray("u/").append(user) : QByteArray();
    }
    case Route::NotFound:
    case Route::Index:
    case Route::Health:
    case Route::ClientScript:
    case Route::Favicon:
    case Route::Metrics:
    case Route::CreateHook:
        break;
    }
    return {};
}

QByteArray shardKey(QByteArrayView method, QByteArrayView target)
{
    const qsizetype q = target.indexOf('?');
    const std::optional<QByteArray> path = decodeRequestPath(q < 0 ? target : target.first(q));
    if (!path) {
        return {}; // 400 on every node
    }
    return shardKey(classifyRequest(method, *path, QueryParams(q < 0 ? QByteArrayView() : target.sliced(q + 1))));
}

QByteArray shardHeaderValue(QByteArrayView key)
{
    return key.isEmpty() ? QByteArrayLiteral("*") : key.toByteArray().toPercentEncoding("/");
}

} // namespace Patchwork
