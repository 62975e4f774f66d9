// SPDX-License-Identifier: MIT
#include "http/bodybudget.h"

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

namespace Patchwork::Server
{

BodyBudget::BodyBudget(qint64 capacity)
    : m_capacity(capacity)
{
}

qint64 BodyBudget::defaultCapacity()
{
    qint64 physical = 0;
#ifdef Q_OS_UNIX
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long pageSize = sysconf(_SC_PAGE_SIZE);
    if (pages > 0 && pageSize > 0) {
        physical = qint64(pages) * pageSize;
    }
#endif
    return qMax(physical / 4, MIN_DEFAULT_CAPACITY);
}

void BodyBudget::setCapacity(qint64 capacity)
{
    m_capacity = capacity;
}

qint64 BodyBudget::capacity() const
{
    return m_capacity;
}

qint64 BodyBudget::used() const
{
    return m_used;
}

bool BodyBudget::tryCharge(qint64 bytes)
{
    if (m_capacity > 0 && bytes > m_capacity - m_used) {
        return false;
    }
    m_used += bytes;
    return true;
}

void BodyBudget::release(qint64 bytes)
{
    m_used -= bytes;
}

} // namespace Patchwork::Server
