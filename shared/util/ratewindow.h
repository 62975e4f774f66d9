// SPDX-License-Identifier: MIT
#pragma once

#include <QtGlobal>

#include <vector>

namespace Patchwork
{

// Counts events in a sliding window (e.g. "messages per minute") on a caller-supplied time scale, such
// as Clock::monotonicMs(), so tests advance time instead of sleeping. The window is split into equal
// buckets; the count is exact to one bucket (the oldest bucket drops out whole). add() is O(1),
// count() O(buckets); neither allocates.
class RateWindow
{
public:
    explicit RateWindow(qint64 windowMs = 60'000, int buckets = 60);

    void add(qint64 nowMs, qint64 events = 1);
    // Events in the last windowMs up to `nowMs`.
    qint64 count(qint64 nowMs) const;
    void clear();

private:
    struct Bucket
    {
        qint64 index = -1; // nowMs / bucketMs of the events counted here
        qint64 events = 0;
    };

    qint64 m_bucketMs;
    std::vector<Bucket> m_buckets;
};

} // namespace Patchwork
