// SPDX-License-Identifier: MIT
#include "client/relayreply.h"

#include <QNetworkReply>

#include "client/replyutil.h"

namespace Patchwork::Client
{

RelayReply::RelayReply(QNetworkReply *reply, QObject *parent)
    : QObject(parent)
    , m_reply(reply)
{
    connect(reply, &QNetworkReply::finished, this, &RelayReply::onFinished);
}

RelayReply::~RelayReply()
{
    abort();
}

bool RelayReply::isFinished() const
{
    return m_finished;
}

int RelayReply::status() const
{
    return m_status;
}

QByteArray RelayReply::body() const
{
    return m_body;
}

QByteArray RelayReply::header(QByteArrayView name) const
{
    for (const auto &h : m_headers) {
        if (QByteArrayView(h.first).compare(name, Qt::CaseInsensitive) == 0) {
            return h.second;
        }
    }
    return {};
}

HeaderList RelayReply::headers() const
{
    return m_headers;
}

QByteArray RelayReply::patchId() const
{
    return header("Patch-Id");
}

int RelayReply::subscribers() const
{
    bool ok = false;
    const int n = header("Patch-Subscribers").toInt(&ok);
    return ok ? n : -1;
}

bool RelayReply::gap() const
{
    return header("Patch-Gap") == "true";
}

QString RelayReply::errorString() const
{
    return m_errorString;
}

void RelayReply::abort()
{
    abandon(m_reply, this);
}

void RelayReply::onFinished()
{
    QNetworkReply *reply = m_reply.data();
    m_reply = nullptr;
    reply->deleteLater();
    m_status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    m_body = reply->readAll();
    for (const auto &h : reply->rawHeaderPairs()) {
        m_headers.append({h.first, h.second});
    }
    if (m_status == 0) {
        m_errorString = reply->errorString();
    } else if (m_status >= 300) {
        const QString reason = reasonOf(m_body);
        m_errorString = reason.isEmpty() ? tr("HTTP %1").arg(m_status) : reason;
    }
    m_finished = true;
    Q_EMIT finished();
}

} // namespace Patchwork::Client
