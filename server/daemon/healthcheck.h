// SPDX-License-Identifier: MIT
#pragma once

#include <QProcessEnvironment>
#include <QStringList>

namespace Patchwork::Server
{

// `patchworkd healthcheck [--url URL]` (PROTOCOL §15): GET URL with a 5 s timeout, in a local event
// loop (a QCoreApplication must exist). Returns the exit code: 0 on HTTP 200; otherwise 1 after one line
// on stderr saying why (connection refused, timeout, HTTP status, bad arguments). `--help` prints the
// usage on stdout and returns 0.
//
// The default URL is http://127.0.0.1:<port>/healthz with the port from PATCHWORK_PORT (else 8080),
// and the host from PATCHWORK_HOST when that names one address rather than "any".
int runHealthcheck(const QStringList &args, const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment());

} // namespace Patchwork::Server
