// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QPair>

#include <initializer_list>
#include <optional>

namespace Patchwork
{

// The request target (path and query) as the relay reads it (PROTOCOL §1, §2), for the server and for
// whatever must agree with it (the tray's ACL tester).

// 0x00-0x1F and 0x7F.
constexpr bool isControlChar(char c)
{
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
}
// True when a (percent-decoded) text holds a control character.
bool containsControlChar(QByteArrayView s);

// The path the router works on: dot segments removed, then percent-decoded. std::nullopt when the decoded
// path holds a control character (answered `400 Invalid path: control characters are not allowed`).
std::optional<QByteArray> decodeRequestPath(QByteArrayView rawPath);
inline constexpr QByteArrayView INVALID_PATH_TEXT = "Invalid path: control characters are not allowed";

// RFC 3986 §5.2.4 remove_dot_segments on a raw (still percent-encoded) path, in linear time.
QByteArray removeDotSegments(QByteArrayView path);

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

} // namespace Patchwork
