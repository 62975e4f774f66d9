// SPDX-License-Identifier: MIT
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

namespace Patchwork
{

// The engine's only source of time, injected so tests of timeouts and expiry never sleep.
// Users ask for a wake-up with wakeAt(); the clock then emits woke() at or after that time, and
// every listener checks its own deadlines (and asks again for its next one).
class Clock : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;

    // Milliseconds on a monotonic scale (for timeouts).
    virtual qint64 monotonicMs() const = 0;
    // Milliseconds since the Unix epoch (for message times).
    virtual qint64 unixMs() const = 0;
    // Ensures woke() is emitted at or after `monotonicMs`.
    virtual void wakeAt(qint64 monotonicMs) = 0;

Q_SIGNALS:
    void woke();
};

class SystemClock final : public Clock
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SystemClock)

public:
    explicit SystemClock(QObject *parent = nullptr);

    qint64 monotonicMs() const override;
    qint64 unixMs() const override;
    void wakeAt(qint64 monotonicMs) override;

private:
    void onTimeout();

    QElapsedTimer m_elapsed;
    QTimer m_timer;
    qint64 m_armedAt = -1;
};

} // namespace Patchwork
