// SPDX-License-Identifier: MIT
#include "util/ratewindow.h"

namespace Patchwork
{

RateWindow::RateWindow(qint64 windowMs, int buckets)
    : m_bucketMs(qMax<qint64>(1, windowMs / qMax(1, buckets)))
    , m_buckets(size_t(qMax(1, buckets)))
{
}

void RateWindow::add(qint64 nowMs, qint64 events)
{
    const qint64 index = nowMs / m_bucketMs;
    Bucket &b = m_buckets[size_t(index % qint64(m_buckets.size()))];
    if (b.index != index) {
        b.index = index;
        b.events = 0;
    }
    b.events += events;
}

qint64 RateWindow::count(qint64 nowMs) const
{
    const qint64 newest = nowMs / m_bucketMs;
    const qint64 oldest = newest - qint64(m_buckets.size()) + 1;
    qint64 total = 0;
    for (const Bucket &b : m_buckets) {
        if (b.index >= oldest && b.index <= newest) {
            total += b.events;
        }
    }
    return total;
}

void RateWindow::clear()
{
    for (Bucket &b : m_buckets) {
        b = Bucket();
    }
}

} // namespace Patchwork
