// SPDX-License-Identifier: MIT
#pragma once

#include <QMetaType>

namespace Patchwork
{

// What kind of failure an asynchronous error signal reports, so a front end can react (offer another
// port, point at the config file) without parsing the message:
// `errorOccurred(const QString &message, Patchwork::ErrorCategory category)`.
enum class ErrorCategory
{
    Config, // a setting or configuration file is invalid or unusable (data dir, users dir, secret key)
    Acl, // an access-control configuration could not be applied
    Upstream, // a remote service (Forgejo, a notification backend) failed
    Listener, // the listening socket: the port is in use, the address is not available
    Permission, // the system refused: e.g. a port below 1024 without the privilege to bind it
    Tls, // a TLS handshake or certificate problem
};

} // namespace Patchwork

Q_DECLARE_METATYPE(Patchwork::ErrorCategory)
