// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QPointer>

namespace Patchwork
{

using HeaderList = QList<QPair<QByteArray, QByteArray>>;

// One message relayed between two parties. The body and the header list are implicitly shared,
// so handing a message to ten thousand subscribers stores it once.
struct Message
{
    QByteArray body;
    // Headers the receiver gets, already filtered by the rules of PROTOCOL §6, in order.
    HeaderList headers;
    // Pubsub messages: Patch-Id and Patch-Time (Unix seconds); empty / 0 otherwise.
    QByteArray id;
    qint64 time = 0;
    // Replies (PROTOCOL §5): the status the requester gets.
    int status = 200;
    // A streamed body (above the buffer limit): `body` is empty and the front end moves the bytes
    // through this handle, which the engine never looks into. Such a message is matched like any other,
    // but never re-queued (a receiver leaving ends it: Answer::Kind::ReceiverLeft), never kept for
    // replay and never given to event streams.
    QPointer<QObject> stream;

    bool isStreamed() const
    {
        return !stream.isNull();
    }

    QByteArray header(QByteArrayView name) const
    {
        for (const auto &h : headers) {
            if (QByteArrayView(h.first).compare(name, Qt::CaseInsensitive) == 0) {
                return h.second;
            }
        }
        return {};
    }
};

} // namespace Patchwork
