// SPDX-License-Identifier: MIT
#include "access/configsource.h"

namespace Patchwork
{

QByteArrayView configCacheEventName(ConfigCacheEvent event)
{
    switch (event) {
    case ConfigCacheEvent::Hit:
        return "hit";
    case ConfigCacheEvent::Miss:
        return "miss";
    case ConfigCacheEvent::Stale:
        return "stale";
    }
    return "miss";
}

ConfigSource::~ConfigSource() = default;

} // namespace Patchwork
