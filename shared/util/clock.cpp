// SPDX-License-Identifier: MIT
#include "util/clock.h"

#include <QDateTime>

namespace Patchwork
{

SystemClock::SystemClock(QObject *parent)
    : Clock(parent)
{
    m_elapsed.start();
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &SystemClock::onTimeout);
}

qint64 SystemClock::monotonicMs() const
{
    return m_elapsed.elapsed();
}

qint64 SystemClock::unixMs() const
{
    return QDateTime::currentMSecsSinceEpoch();
}

void SystemClock::wakeAt(qint64 at)
{
    if (m_armedAt >= 0 && m_armedAt <= at) {
        return;
    }
    m_armedAt = at;
    m_timer.start(int(qBound(qint64(0), at - monotonicMs(), qint64(24 * 3600 * 1000))));
}

void SystemClock::onTimeout()
{
    if (monotonicMs() < m_armedAt) {
        m_timer.start(int(m_armedAt - monotonicMs()));
        return;
    }
    m_armedAt = -1;
    Q_EMIT woke();
}

} // namespace Patchwork
