// SPDX-License-Identifier: MIT
#pragma once

#include <QElapsedTimer>
#include <QFile>
#include <QObject>
#include <QTimer>

namespace Patchwork::Gui
{

// Opt-in event-loop stall measurement (PATCHWORK_TRAY_STALL_LOG=FILE, for tests/bench/traybench): a 10 ms
// timer runs on the GUI thread, and once a second a line "<epoch ms> <largest gap between two ticks in
// ms>" is appended to FILE. With an empty path it does nothing.
class StallLog final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StallLog)

public:
    static constexpr int TickMs = 10;

    explicit StallLog(const QString &path, QObject *parent = nullptr);

private:
    void onTick();

    QFile m_file;
    QTimer m_timer;
    QElapsedTimer m_sinceTick;
    QElapsedTimer m_sinceLine;
    qint64 m_maxGapMs = 0;
};

} // namespace Patchwork::Gui
