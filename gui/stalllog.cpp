// SPDX-License-Identifier: MIT
#include "gui/stalllog.h"

#include <QDateTime>

#include "gui/logging.h"

namespace Patchwork::Gui
{

StallLog::StallLog(const QString &path, QObject *parent)
    : QObject(parent)
    , m_file(path)
{
    if (path.isEmpty()) {
        return;
    }
    if (!m_file.open(QIODevice::WriteOnly | QIODevice::Append)) {
        qCWarning(lcGui).noquote() << "stall log" << path << "cannot be opened:" << m_file.errorString();
        return;
    }
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &StallLog::onTick);
    m_timer.start(TickMs);
    m_sinceTick.start();
    m_sinceLine.start();
}

void StallLog::onTick()
{
    m_maxGapMs = qMax(m_maxGapMs, m_sinceTick.restart());
    if (m_sinceLine.elapsed() >= 1000) {
        m_sinceLine.restart();
        m_file.write(QByteArray::number(QDateTime::currentMSecsSinceEpoch()) + ' ' + QByteArray::number(m_maxGapMs)
                     + '\n');
        m_file.flush();
        m_maxGapMs = 0;
    }
}

} // namespace Patchwork::Gui
