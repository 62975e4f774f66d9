// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QHostAddress>

#include "engine/message.h"

namespace Patchwork::Server
{

// One parsed HTTP/1.x request. Header names keep their case as received; look them up with header().
struct HttpRequest
{
    QByteArray method;
    QByteArray target; // as received: path and query
    QByteArray rawPath; // target without the query
    QByteArray query; // after '?', without it
    HeaderList headers;
    QByteArray body;
    QHostAddress peer;
    int minorVersion = 1;
    bool keepAlive = true;

    QByteArray header(QByteArrayView name) const
    {
        for (const auto &h : headers) {
            if (QByteArrayView(h.first).compare(name, Qt::CaseInsensitive) == 0) {
                return h.second;
            }
        }
        return {};
    }
    bool hasHeader(QByteArrayView name) const
    {
        for (const auto &h : headers) {
            if (QByteArrayView(h.first).compare(name, Qt::CaseInsensitive) == 0) {
                return true;
            }
        }
        return false;
    }
};

} // namespace Patchwork::Server
