// SPDX-License-Identifier: MIT
#pragma once

#include "util/clock.h"

namespace Patchwork
{

// A clock that moves only when a test says so.
class ManualClock final : public Clock
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ManualClock)

public:
    explicit ManualClock(QObject *parent = nullptr);

    qint64 monotonicMs() const override;
    qint64 unixMs() const override;
    void wakeAt(qint64 monotonicMs) override;

    // Moves time forward and lets every listener handle what became due.
    void advance(qint64 ms);
    void setUnixMs(qint64 ms);
    // The earliest wake-up asked for since the last advance(), or -1.
    qint64 nextWake() const;

private:
    qint64 m_now = 1000;
    qint64 m_unixOffset = 1'700'000'000'000;
    qint64 m_nextWake = -1;
};

} // namespace Patchwork
