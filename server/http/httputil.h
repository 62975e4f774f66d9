// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>

#include "protocol/requesttarget.h" // removeDotSegments, QueryParams, control characters: shared with the tray

namespace Patchwork::Server
{

// An RFC 9110 token (a header name, a method): one or more of the characters it allows.
bool isHttpToken(QByteArrayView s);
// A header value as it may be received or sent: no control character except HTAB (so no CR, LF or NUL).
bool isHttpFieldValue(QByteArrayView s);

QByteArray htmlEscape(QByteArrayView text);

} // namespace Patchwork::Server
