// SPDX-License-Identifier: MIT
#pragma once

#include <QStringList>

namespace Patchwork::Server
{

// `patchworkd check-config FILE...` (PROTOCOL §15): parses each file as a user configuration
// (PROTOCOL §8) exactly as the daemon would. Every problem is one line `FILE:LINE: message` on stderr
// (`FILE: message` when the file cannot be read; `FILE: ntfy: message` when the notification backend
// block cannot send, as Notifier::checkConfig says); the exit code is 1 if any file has a problem, 2 for
// bad arguments, else 0 after `ok` on stdout. Messages never contain token values.
int runCheckConfig(const QStringList &args);

} // namespace Patchwork::Server
