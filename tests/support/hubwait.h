// SPDX-License-Identifier: MIT
#pragma once

#include <QElapsedTimer>
#include <QTest>

#include "engine/channelhub.h"
#include "testutil.h"

namespace Patchwork::Test
{

// Waits (running the event loop) until `hub` has `n` waiting parties of `role`.
inline bool waitForWaiting(const ChannelHub *hub, Waiter::Role role, qsizetype n)
{
    QElapsedTimer t;
    t.start();
    while (hub->waitingCount(role) != n && t.elapsed() < timeoutMs(5000)) {
        QTest::qWait(2);
    }
    return hub->waitingCount(role) == n;
}

} // namespace Patchwork::Test
