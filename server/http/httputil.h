// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>

#include "protocol/requesttarget.h" // removeDotSegments, QueryParams, parseTimeoutParam: shared with the tray

namespace Patchwork::Server
{

QByteArray htmlEscape(QByteArrayView text);

} // namespace Patchwork::Server
