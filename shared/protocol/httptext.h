// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArrayView>

namespace Patchwork
{

// Small pieces of HTTP text handling shared by the request parser and the client-address parser.

// The value of a hexadecimal digit, or -1.
constexpr int hexDigit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// `s` without optional whitespace (SP, HTAB) on either side (RFC 9110 OWS); other white space stays.
constexpr QByteArrayView trimOws(QByteArrayView s)
{
    while (!s.isEmpty() && (s.front() == ' ' || s.front() == '\t')) {
        s = s.sliced(1);
    }
    while (!s.isEmpty() && (s.back() == ' ' || s.back() == '\t')) {
        s.chop(1);
    }
    return s;
}

} // namespace Patchwork
