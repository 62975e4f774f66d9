// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QDateTime>

namespace Patchwork
{

class UserConfig;

// What the relay answers, as far as access goes, to one request in a user namespace.
struct AclProbeResult
{
    // The relay goes on to serve the request (it may still fail later, e.g. on its body).
    bool allowed = false;
    // When not allowed: the status and the one-line body (without the newline) the relay answers.
    int status = 0;
    QByteArray body;
};

namespace Acl
{

// The method name that probes the tunnel: `target` is then `<host>:<port>`.
inline constexpr QByteArrayView HUPROXY_METHOD = "huproxy";

// What the relay answers, as far as access goes, to `method` on `target` in /u/<user>/ with `config`
// (nullptr = the user has no config), for the tray's ACL tester. Decided by the relay's own steps in its
// order (PROTOCOL §2): path decoding, classification, the ACL (channels, /_/ntfy, admin endpoints; the
// huproxy list for the tunnel), then the method and parameter checks of the classification.
// - method: GET/POST/PUT/DELETE/PATCH/OPTIONS/…, or HUPROXY_METHOD;
// - target: a path inside the namespace with an optional query ("/queue/jobs?mode=pubsub"), or host:port;
// - token: the token presented in an Authorization header (empty = none; then a `?token=` in the
//   target counts, as the relay reads it for channels).
// A tunnel target the relay would refuse as malformed (400) is not recognised here: only its ACL is.
AclProbeResult probe(const UserConfig *config,
                     QByteArrayView user,
                     QByteArrayView method,
                     QByteArrayView target,
                     QByteArrayView token,
                     const QDateTime &now);

} // namespace Acl

} // namespace Patchwork
