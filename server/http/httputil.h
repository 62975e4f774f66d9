// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>

#include "protocol/requesttarget.h" // removeDotSegments, QueryParams, parseTimeoutParam: shared with the tray

namespace Patchwork::Server
{

// An RFC 9110 token (a header name, a method): one or more of the characters it allows.
bool isHttpToken(QByteArrayView s);
// A header value as it may be received or sent: no control character except HTAB (so no CR, LF or NUL).
bool isHttpFieldValue(QByteArrayView s);
// True when a (percent-decoded) text holds a control character (0x00-0x1F, 0x7F).
bool containsControlChar(QByteArrayView s);

QByteArray htmlEscape(QByteArrayView text);

} // namespace Patchwork::Server
