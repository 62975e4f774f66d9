// SPDX-License-Identifier: MIT
#include "manualclock.h"

namespace Patchwork
{

ManualClock::ManualClock(QObject *parent)
    : Clock(parent)
{
}

qint64 ManualClock::monotonicMs() const
{
    return m_now;
}

qint64 ManualClock::unixMs() const
{
    return m_unixOffset + m_now;
}

void ManualClock::wakeAt(qint64 at)
{
    if (m_nextWake < 0 || at < m_nextWake) {
        m_nextWake = at;
    }
}

void ManualClock::advance(qint64 ms)
{
    m_now += ms;
    m_nextWake = -1;
    Q_EMIT woke();
}

void ManualClock::setUnixMs(qint64 ms)
{
    m_unixOffset = ms - m_now;
}

qint64 ManualClock::nextWake() const
{
    return m_nextWake;
}

} // namespace Patchwork
