// SPDX-License-Identifier: MIT
#pragma once

#include <QtGlobal>

namespace Patchwork::Server
{

// The server-wide budget for request bodies held in memory: bodies being uploaded and those of
// requests still waiting for their answer (a producer's message until it is delivered). An announced
// Content-Length is charged in full when the head arrives, a chunked body chunk by chunk; the charge
// is returned when the connection's response is finished or the connection ends. See
// docs/DECISIONS.md "Hardening: resource limits".
class BodyBudget
{
public:
    // 0 = no budget.
    explicit BodyBudget(qint64 capacity = defaultCapacity());

    // A quarter of the machine's physical memory, at least MIN_DEFAULT_CAPACITY.
    static qint64 defaultCapacity();
    static constexpr qint64 MIN_DEFAULT_CAPACITY = qint64(256) * 1024 * 1024;
    // Seconds a client refused for lack of budget is asked to wait (Retry-After).
    static constexpr int RETRY_AFTER_SECONDS = 5;

    void setCapacity(qint64 capacity);
    qint64 capacity() const;
    qint64 used() const;

    // Charges `bytes`; false (and nothing charged) when they do not fit.
    bool tryCharge(qint64 bytes);
    void release(qint64 bytes);

private:
    qint64 m_capacity;
    qint64 m_used = 0;
};

} // namespace Patchwork::Server
