// SPDX-License-Identifier: MIT
#include "protocol/requesttarget.h"

#include <algorithm>

namespace Patchwork
{

bool containsControlChar(QByteArrayView s)
{
    return std::any_of(s.begin(), s.end(), isControlChar);
}

std::optional<QByteArray> decodeRequestPath(QByteArrayView rawPath)
{
    QByteArray path = QByteArray::fromPercentEncoding(removeDotSegments(rawPath));
    if (containsControlChar(path)) {
        return std::nullopt;
    }
    return path;
}

QByteArray removeDotSegments(QByteArrayView input)
{
    // Almost every path has no dot segment: then it is its own result.
    if (!input.startsWith('.') && !input.contains("/.")) {
        return input.toByteArray();
    }
    // The RFC's loop, on an index into the input instead of removing from its front: each input byte is
    // looked at a bounded number of times and each output byte removed at most once, so it is linear.
    QByteArray out;
    out.reserve(input.size());
    const auto dropLastSegment = [&out] {
        const qsizetype slash = out.lastIndexOf('/');
        out.truncate(slash < 0 ? 0 : slash);
    };
    qsizetype i = 0;
    while (i < input.size()) {
        const QByteArrayView in = input.sliced(i);
        if (in.startsWith("../")) {
            i += 3;
        } else if (in.startsWith("./") || in.startsWith("/./")) {
            i += 2;
        } else if (in == "/.") {
            out += '/';
            break;
        } else if (in.startsWith("/../")) {
            i += 3;
            dropLastSegment();
        } else if (in == "/..") {
            dropLastSegment();
            out += '/';
            break;
        } else if (in == "." || in == "..") {
            break;
        } else {
            qsizetype next = input.indexOf('/', i + (in.front() == '/' ? 1 : 0));
            if (next < 0) {
                next = input.size();
            }
            out.append(input.sliced(i, next - i));
            i = next;
        }
    }
    return out;
}

namespace
{

QByteArray decodeComponent(QByteArrayView s)
{
    QByteArray v = s.toByteArray();
    v.replace('+', ' ');
    return QByteArray::fromPercentEncoding(v);
}

} // namespace

QueryParams::QueryParams(QByteArrayView query)
{
    if (query.isEmpty()) {
        return;
    }
    qsizetype pos = 0;
    while (pos <= query.size()) {
        qsizetype amp = query.indexOf('&', pos);
        if (amp < 0) {
            amp = query.size();
        }
        const QByteArrayView item = query.sliced(pos, amp - pos);
        if (!item.isEmpty()) {
            const qsizetype eq = item.indexOf('=');
            if (eq < 0) {
                m_items.append({decodeComponent(item), QByteArray()});
            } else {
                m_items.append({decodeComponent(item.first(eq)), decodeComponent(item.sliced(eq + 1))});
            }
        }
        pos = amp + 1;
    }
}

bool QueryParams::has(QByteArrayView key) const
{
    for (const auto &item : m_items) {
        if (item.first == key) {
            return true;
        }
    }
    return false;
}

QByteArray QueryParams::value(QByteArrayView key) const
{
    for (const auto &item : m_items) {
        if (item.first == key) {
            return item.second;
        }
    }
    return {};
}

bool QueryParams::isTruthy(QByteArrayView key) const
{
    for (const auto &item : m_items) {
        if (item.first == key) {
            const QByteArray v = item.second.toLower();
            return v.isEmpty() || v == "1" || v == "true" || v == "yes" || v == "on";
        }
    }
    return false;
}

QByteArray QueryParams::without(QByteArrayView query, std::initializer_list<QByteArrayView> keys)
{
    QByteArray out;
    qsizetype pos = 0;
    while (pos <= query.size() && !query.isEmpty()) {
        qsizetype amp = query.indexOf('&', pos);
        if (amp < 0) {
            amp = query.size();
        }
        const QByteArrayView item = query.sliced(pos, amp - pos);
        const qsizetype eq = item.indexOf('=');
        const QByteArray name = decodeComponent(eq < 0 ? item : item.first(eq));
        bool drop = item.isEmpty();
        for (QByteArrayView k : keys) {
            if (name == k) {
                drop = true;
            }
        }
        if (!drop) {
            if (!out.isEmpty()) {
                out += '&';
            }
            out += item;
        }
        pos = amp + 1;
    }
    return out;
}

std::optional<qint64> parseTimeoutParam(QByteArrayView value)
{
    if (value.isEmpty() || value.size() > 20) {
        return std::nullopt;
    }
    for (char c : value) {
        if (!((c >= '0' && c <= '9') || c == '.')) {
            return std::nullopt;
        }
    }
    bool ok = false;
    const double seconds = value.toByteArray().toDouble(&ok);
    if (!ok || !(seconds > 0) || seconds > 86400) {
        return std::nullopt;
    }
    return qMax<qint64>(1, qint64(seconds * 1000.0 + 0.5));
}

} // namespace Patchwork
