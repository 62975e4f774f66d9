// SPDX-License-Identifier: MIT
#pragma once

#include <QtGlobal>

namespace Patchwork::Server
{

// Raises the soft RLIMIT_NOFILE to the hard limit (every connection is a descriptor; the usual soft
// limit of 1024 would end a relay at a few hundred clients) and returns the soft limit now in effect,
// or -1 when it cannot be read.
qint64 raiseFileLimit();

// The default of --max-connections: three quarters of the descriptor limit, leaving the rest for
// tunnel targets, configuration files and logs (docs/DECISIONS.md "Hardening: resource limits").
int defaultMaxConnections(qint64 fileLimit);

} // namespace Patchwork::Server
