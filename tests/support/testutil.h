// SPDX-License-Identifier: MIT
#pragma once

#include <QtGlobal>

namespace Patchwork::Test
{

// Every wait in a test is multiplied by PATCHWORK_TEST_TIMEOUT_FACTOR (slow or sanitizer builds).
inline int timeoutMs(int ms)
{
    bool ok = false;
    const double factor = qEnvironmentVariable("PATCHWORK_TEST_TIMEOUT_FACTOR").toDouble(&ok);
    return ok && factor > 0 ? int(ms * factor) : ms;
}

} // namespace Patchwork::Test
