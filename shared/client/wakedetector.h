// SPDX-License-Identifier: MIT
#pragma once

#include <QObject>

namespace Patchwork
{
class Clock;
}

namespace Patchwork::Client
{

// Notices that the computer slept: it looks at the clock every few seconds, and when the wall clock
// moved further than the monotonic clock (which stops during suspend on Linux), or a look came far
// later than asked for (where the monotonic clock keeps running), it emits wokeUp(). Connect that to
// Subscription::reconnectNow(), since connections rarely survive a suspend.
class WakeDetector final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WakeDetector)

public:
    struct Settings
    {
        qint64 intervalMs = 5'000;
        // A jump smaller than this is timer jitter or a small clock correction.
        qint64 thresholdMs = 10'000;
    };

    explicit WakeDetector(Clock *clock, QObject *parent = nullptr);

    void setSettings(const Settings &settings);

Q_SIGNALS:
    void wokeUp();

private:
    void onClockWoke();

    Clock *m_clock;
    Settings m_settings;
    qint64 m_lastMonotonicMs;
    qint64 m_lastUnixMs;
};

} // namespace Patchwork::Client
