// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>

#include <optional>

namespace Patchwork::Server
{

// RFC 3986 §5.2.4 remove_dot_segments on a raw (still percent-encoded) path, in linear time.
QByteArray removeDotSegments(QByteArrayView path);

// An RFC 9110 token (a header name, a method): one or more of the characters it allows.
bool isHttpToken(QByteArrayView s);
// A header value as it may be received or sent: no control character except HTAB (so no CR, LF or NUL).
bool isHttpFieldValue(QByteArrayView s);
// True when a (percent-decoded) text holds a control character (0x00-0x1F, 0x7F).
bool containsControlChar(QByteArrayView s);

// A decoded query string; '+' is a space, as browsers and Go's url.Query() read it.
class QueryParams
{
public:
    explicit QueryParams(QByteArrayView query);

    bool has(QByteArrayView key) const;
    QByteArray value(QByteArrayView key) const;
    // PROTOCOL "truthy": present and empty, 1, true, yes, on (case-insensitive).
    bool isTruthy(QByteArrayView key) const;
    // The raw query without the given keys (for Patch-Uri), in the original order and encoding.
    static QByteArray without(QByteArrayView query, std::initializer_list<QByteArrayView> keys);

private:
    QList<QPair<QByteArray, QByteArray>> m_items;
};

// Seconds (integer or decimal) in (0, 86400] as milliseconds.
std::optional<qint64> parseTimeoutParam(QByteArrayView value);

QByteArray htmlEscape(QByteArrayView text);

} // namespace Patchwork::Server
