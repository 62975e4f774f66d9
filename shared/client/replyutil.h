// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <QPointer>

class QNetworkReply;
class QNetworkRequest;

namespace Patchwork::Client
{

// The most of an error body read for its reason.
inline constexpr qint64 MAX_REASON_BYTES = 4096;

// Adds `Authorization: Bearer <token>`, unless `token` is empty.
void setBearerToken(QNetworkRequest &request, const QString &token);

// Aborts `reply` (if any) without telling `receiver`, deletes it later and clears the pointer.
void abandon(QPointer<QNetworkReply> &reply, QObject *receiver);

// The server's one-line reason from an error body (PROTOCOL: one line ending in LF): its first line,
// trimmed, at most 300 characters.
QString reasonOf(const QByteArray &body);

// A `Retry-After` value (delta-seconds or an HTTP date) as milliseconds from `nowUnixMs`; -1 when absent
// or invalid, 0 when the date has passed.
qint64 retryAfterMs(QByteArrayView value, qint64 nowUnixMs);

} // namespace Patchwork::Client
