// SPDX-License-Identifier: MIT
#include "client/wakedetector.h"

#include "client/clientlogging.h"
#include "util/clock.h"

namespace Patchwork::Client
{

WakeDetector::WakeDetector(Clock *clock, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
    , m_lastMonotonicMs(clock->monotonicMs())
    , m_lastUnixMs(clock->unixMs())
{
    connect(m_clock, &Clock::woke, this, &WakeDetector::onClockWoke);
    m_clock->wakeAt(m_lastMonotonicMs + m_settings.intervalMs);
}

void WakeDetector::setSettings(const Settings &settings)
{
    m_settings = settings;
    m_clock->wakeAt(m_lastMonotonicMs + m_settings.intervalMs);
}

void WakeDetector::onClockWoke()
{
    const qint64 monotonic = m_clock->monotonicMs();
    if (monotonic < m_lastMonotonicMs + m_settings.intervalMs) {
        // Another listener's wake-up: the clock keeps only the earliest request, so ask again.
        m_clock->wakeAt(m_lastMonotonicMs + m_settings.intervalMs);
        return;
    }
    const qint64 unix = m_clock->unixMs();
    const qint64 elapsed = monotonic - m_lastMonotonicMs;
    const qint64 wallElapsed = unix - m_lastUnixMs;
    m_lastMonotonicMs = monotonic;
    m_lastUnixMs = unix;
    m_clock->wakeAt(monotonic + m_settings.intervalMs);
    if (wallElapsed - elapsed > m_settings.thresholdMs || elapsed - m_settings.intervalMs > m_settings.thresholdMs) {
        qCInfo(lcClient) << "the clock jumped by" << qMax(wallElapsed - elapsed, elapsed - m_settings.intervalMs)
                         << "ms: assuming a wake-up from sleep";
        Q_EMIT wokeUp();
    }
}

} // namespace Patchwork::Client
