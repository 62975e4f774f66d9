// SPDX-License-Identifier: MIT
#include "client/replyutil.h"

#include <limits>

#include <QDateTime>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace Patchwork::Client
{

namespace
{

constexpr qsizetype MAX_REASON_CHARS = 300;

} // namespace

void setBearerToken(QNetworkRequest &request, const QString &token)
{
    if (!token.isEmpty()) {
        request.setRawHeader("Authorization", "Bearer " + token.toUtf8());
    }
}

void abandon(QPointer<QNetworkReply> &reply, QObject *receiver)
{
    if (QNetworkReply *r = reply.data()) {
        reply = nullptr;
        r->disconnect(receiver);
        r->abort();
        r->deleteLater();
    }
}

QString reasonOf(const QByteArray &body)
{
    const qsizetype end = body.indexOf('\n');
    return QString::fromUtf8(end < 0 ? body : body.first(end)).trimmed().left(MAX_REASON_CHARS);
}

qint64 retryAfterMs(QByteArrayView value, qint64 nowUnixMs)
{
    value = value.trimmed();
    if (value.isEmpty()) {
        return -1;
    }
    bool digits = true;
    for (const char c : value) {
        digits = digits && c >= '0' && c <= '9';
    }
    if (digits) {
        bool ok = false;
        const qint64 seconds = value.toLongLong(&ok);
        return ok && seconds < std::numeric_limits<qint64>::max() / 1000 ? seconds * 1000 : -1;
    }
    // An HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT") is an RFC 2822 date whose zone Qt reads as an offset.
    QString date = QString::fromLatin1(value);
    if (date.endsWith(u" GMT")) {
        date.replace(date.size() - 3, 3, QStringLiteral("+0000"));
    }
    const QDateTime at = QDateTime::fromString(date, Qt::RFC2822Date);
    return at.isValid() ? qMax(qint64(0), at.toMSecsSinceEpoch() - nowUnixMs) : -1;
}

} // namespace Patchwork::Client
