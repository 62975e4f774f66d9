// SPDX-License-Identifier: MIT
#include "daemon/filelimit.h"

#include <limits>

#include <sys/resource.h>

#include "http/serverlogging.h"

namespace Patchwork::Server
{

qint64 raiseFileLimit()
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        qCWarning(lcServer) << "cannot read the descriptor limit (RLIMIT_NOFILE)";
        return -1;
    }
    if (limit.rlim_cur < limit.rlim_max) {
        const rlim_t before = limit.rlim_cur;
        limit.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
            qCWarning(lcServer) << "cannot raise the descriptor limit from" << before << "to" << limit.rlim_max;
            limit.rlim_cur = before;
        }
    }
    if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > rlim_t(std::numeric_limits<qint64>::max())) {
        return std::numeric_limits<qint64>::max();
    }
    return qint64(limit.rlim_cur);
}

int defaultMaxConnections(qint64 fileLimit)
{
    if (fileLimit <= 0) {
        return 0; // unknown: no limit of our own (accepting pauses when descriptors run out)
    }
    return int(qMin<qint64>(fileLimit / 4 * 3, std::numeric_limits<int>::max()));
}

} // namespace Patchwork::Server
