// SPDX-License-Identifier: MIT
#include "client/relayclient.h"

#include <QNetworkReply>
#include <QNetworkRequest>
#include <QUrlQuery>

#include "client/relayreply.h"
#include "client/replyutil.h"

namespace Patchwork::Client
{

namespace
{

QNetworkRequest requestFor(const QUrl &url, const QString &token)
{
    QNetworkRequest request(url);
    setBearerToken(request, token);
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    request.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    request.setTransferTimeout(0); // a wait for a consumer or a message has no bound of its own
    return request;
}

} // namespace

RelayClient::RelayClient(QObject *parent)
    : QObject(parent)
{
    m_network.setRedirectPolicy(QNetworkRequest::NoLessSafeRedirectPolicy);
}

RelayClient::~RelayClient() = default;

RelayReply *
RelayClient::publish(const QUrl &channel, const QByteArray &body, const HeaderList &headers, const QString &token)
{
    QNetworkRequest request = requestFor(channel, token);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("text/plain"));
    for (const auto &h : headers) {
        request.setRawHeader(h.first, h.second);
    }
    return new RelayReply(m_network.post(request, body), this);
}

RelayReply *
RelayClient::receive(const QUrl &channel, const QByteArray &since, double timeoutSeconds, const QString &token)
{
    QUrl url = channel;
    QUrlQuery query(url);
    if (!since.isEmpty()) {
        query.addQueryItem(QStringLiteral("since"), QString::fromUtf8(since));
    }
    if (timeoutSeconds > 0) {
        query.addQueryItem(QStringLiteral("timeout"), QString::number(timeoutSeconds));
    }
    url.setQuery(query);
    return new RelayReply(m_network.get(requestFor(url, token)), this);
}

} // namespace Patchwork::Client
