// SPDX-License-Identifier: MIT
#include "client/subscription.h"

#include <utility>

#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QUrlQuery>

#include "client/clientlogging.h"
#include "client/replyutil.h"
#include "protocol/sse.h"
#include "util/clock.h"

namespace Patchwork::Client
{

namespace
{

bool isEventStream(const QNetworkReply *reply)
{
    const QByteArray type = reply->header(QNetworkRequest::ContentTypeHeader).toByteArray();
    return type.split(';').first().trimmed().compare("text/event-stream", Qt::CaseInsensitive) == 0;
}

// The URL for logs and messages: no user info or query, which may hold a token.
QString displayUrl(const QUrl &url)
{
    return url.toString(QUrl::RemoveUserInfo | QUrl::RemoveQuery);
}

} // namespace

Subscription::Subscription(Clock *clock, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
{
    m_network.setRedirectPolicy(QNetworkRequest::NoLessSafeRedirectPolicy);
    connect(m_clock, &Clock::woke, this, &Subscription::onClockWoke);
}

Subscription::~Subscription()
{
    closeReply();
}

void Subscription::setSettings(const Settings &settings)
{
    m_settings = settings;
}

const Subscription::Settings &Subscription::settings() const
{
    return m_settings;
}

void Subscription::setUrl(const QUrl &url)
{
    if (url == m_url) {
        return;
    }
    m_url = url;
    if (m_status != Status::Idle) {
        start();
    }
}

QUrl Subscription::url() const
{
    return m_url;
}

void Subscription::setToken(const QString &token)
{
    if (token == m_token) {
        return;
    }
    m_token = token;
    if (m_status != Status::Idle) {
        start();
    }
}

void Subscription::setLastEventId(const QByteArray &id)
{
    if (id == m_lastEventId) {
        return;
    }
    m_lastEventId = id;
    Q_EMIT lastEventIdChanged();
}

QByteArray Subscription::lastEventId() const
{
    return m_lastEventId;
}

Subscription::Status Subscription::status() const
{
    return m_status;
}

QString Subscription::errorString() const
{
    return m_errorString;
}

int Subscription::retryIn() const
{
    if (m_nextAttemptMs < 0) {
        return 0;
    }
    const qint64 left = m_nextAttemptMs - m_clock->monotonicMs();
    return left <= 0 ? 0 : int((left + 999) / 1000);
}

qint64 Subscription::nextAttemptMs() const
{
    return m_nextAttemptMs;
}

qint64 Subscription::lastReceivedMs() const
{
    return m_lastActivityMs;
}

void Subscription::start()
{
    m_failures = 0;
    m_serverRetryMs = -1;
    open(Status::Connecting);
}

void Subscription::stop()
{
    closeReply();
    m_nextAttemptMs = -1;
    setStatus(Status::Idle, {});
}

void Subscription::reconnectNow()
{
    if (m_status == Status::Idle || m_status == Status::Failed) {
        return;
    }
    qCDebug(lcClient) << "reconnecting at once";
    m_failures = 0;
    open(m_status == Status::Connecting ? Status::Connecting : Status::Reconnecting);
}

// --- the connection ----------------------------------------------------------------------------------

void Subscription::open(Status status)
{
    closeReply();
    m_nextAttemptMs = -1;
    const QString scheme = m_url.scheme();
    if (!m_url.isValid() || m_url.host().isEmpty() || (scheme != u"http" && scheme != u"https")) {
        fail(tr("Not an http or https URL: %1").arg(displayUrl(m_url)));
        return;
    }
    QUrl url = m_url;
    QUrlQuery query(url);
    if (!query.hasQueryItem(QStringLiteral("stream"))) {
        query.addQueryItem(QStringLiteral("stream"), QStringLiteral("sse"));
        url.setQuery(query);
    }
    QNetworkRequest request(url);
    request.setRawHeader("Accept", "text/event-stream");
    request.setRawHeader("Cache-Control", "no-cache");
    if (!m_lastEventId.isEmpty()) {
        request.setRawHeader("Last-Event-ID", m_lastEventId);
    }
    setBearerToken(request, m_token);
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    request.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    // The relay speaks HTTP/1.1; a stream gains nothing from HTTP/2's multiplexing here.
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    request.setTransferTimeout(0);

    m_parser = std::make_unique<SseParser>();
    m_delivered = false;
    m_connectedAtMs = -1;
    m_lastActivityMs = m_clock->monotonicMs();
    m_reply = m_network.get(request);
    connect(m_reply, &QNetworkReply::metaDataChanged, this, &Subscription::onMetaDataChanged);
    connect(m_reply, &QNetworkReply::readyRead, this, &Subscription::onReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &Subscription::onFinished);
    qCDebug(lcClient).noquote() << "opening" << displayUrl(m_url) << "from"
                                << (m_lastEventId.isEmpty() ? QByteArray("now") : m_lastEventId);
    setStatus(status, status == Status::Connecting ? QString() : m_errorString);
    armWatchdog();
}

void Subscription::closeReply()
{
    abandon(m_reply, this);
    m_lastActivityMs = -1;
}

void Subscription::onMetaDataChanged()
{
    QNetworkReply *reply = m_reply.data();
    if (!reply || m_status == Status::Connected) {
        return;
    }
    const int code = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (code != 200 || !isEventStream(reply)) {
        return; // judged when it finished, with its body
    }
    m_connectedAtMs = m_clock->monotonicMs();
    m_lastActivityMs = m_connectedAtMs;
    qCDebug(lcClient).noquote() << "connected to" << displayUrl(m_url);
    setStatus(Status::Connected, {});
}

void Subscription::onReadyRead()
{
    QNetworkReply *reply = m_reply.data();
    if (!reply || m_status != Status::Connected) {
        return; // an error body: read when the reply finished
    }
    m_lastActivityMs = m_clock->monotonicMs();
    const QList<SseEvent> events = m_parser->feed(reply->readAll());
    if (m_parser->retryMs() >= 0) {
        m_serverRetryMs = m_parser->retryMs();
    }
    // A receiver may stop, restart or delete this subscription from its slot: then the rest is not ours.
    const QPointer<Subscription> self(this);
    for (const SseEvent &e : events) {
        if (!self || m_reply != reply) {
            return;
        }
        m_delivered = true;
        if (e.type == "gap") {
            qCInfo(lcClient).noquote() << "some messages on" << displayUrl(m_url)
                                       << "may have been missed (replay gap)";
            Q_EMIT gapDetected();
            continue;
        }
        if (!e.id.isEmpty()) {
            setLastEventId(e.id);
        }
        Q_EMIT messageReceived({e.id, e.type, e.type == "binary" ? QByteArray::fromBase64(e.data) : e.data});
    }
    if (self && m_reply == reply && m_parser->pendingBytes() > m_settings.maxEventBytes) {
        fail(tr("An event is larger than %1 bytes").arg(m_settings.maxEventBytes));
    }
}

void Subscription::onFinished()
{
    QNetworkReply *reply = m_reply.data();
    if (!reply) {
        return;
    }
    onMetaDataChanged(); // in case the head came with the end
    if (m_status == Status::Connected) {
        const QPointer<Subscription> self(this);
        onReadyRead(); // whatever arrived with the end
        if (!self || m_reply != reply) {
            return;
        }
        connectionLost(reply->error() == QNetworkReply::NoError ? tr("The server ended the stream")
                                                                : reply->errorString());
        return;
    }
    const QVariant code = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    if (!code.isValid()) {
        scheduleRetry(reply->errorString()); // no HTTP response at all
        return;
    }
    const int status = code.toInt();
    const QString reason = reasonOf(reply->read(MAX_REASON_BYTES));
    if (status == 200) {
        fail(tr("The server did not answer with an event stream"));
    } else if (status == 204) {
        scheduleRetry(tr("The stream ended before a message arrived"));
    } else if (status >= 400 && status < 500 && status != 408 && status != 429) {
        fail(reason.isEmpty() ? tr("HTTP %1").arg(status) : reason);
    } else {
        scheduleRetry(tr("HTTP %1: %2").arg(status).arg(reason),
                      retryAfterMs(reply->rawHeader("Retry-After"), m_clock->unixMs()));
    }
}

// --- timing ------------------------------------------------------------------------------------------

qint64 Subscription::backoffMs() const
{
    const qint64 first = m_serverRetryMs >= 0 ? m_serverRetryMs : m_settings.initialBackoffMs;
    qint64 delay = first;
    for (int i = 0; i < m_failures && delay < m_settings.maxBackoffMs; ++i) {
        delay *= 2;
    }
    delay = qMin(delay, qMax(m_settings.maxBackoffMs, first));
    const double spread = (QRandomGenerator::global()->generateDouble() * 2 - 1) * m_settings.jitter;
    return qMax(qint64(0), qint64(double(delay) * (1 + spread)));
}

void Subscription::connectionLost(const QString &error)
{
    // A connection that was worth having starts the backoff afresh.
    if (m_status == Status::Connected
        && (m_delivered || m_clock->monotonicMs() - m_connectedAtMs >= m_settings.stableAfterMs)) {
        m_failures = 0;
    }
    scheduleRetry(error);
}

void Subscription::scheduleRetry(const QString &error, qint64 retryAfterMs)
{
    closeReply();
    qint64 delay = backoffMs();
    if (retryAfterMs >= 0) {
        delay = qMax(delay, qMin(retryAfterMs, m_settings.maxRetryAfterMs));
    }
    ++m_failures;
    m_nextAttemptMs = m_clock->monotonicMs() + delay;
    qCDebug(lcClient).noquote() << error << "- retrying in" << delay << "ms";
    setStatus(Status::Reconnecting, error);
    armWatchdog();
}

void Subscription::fail(const QString &error)
{
    closeReply();
    m_nextAttemptMs = -1;
    qCInfo(lcClient).noquote() << "subscription to" << displayUrl(m_url) << "failed:" << error;
    setStatus(Status::Failed, error);
}

void Subscription::setStatus(Status status, const QString &error)
{
    m_status = status;
    m_errorString = error;
    Q_EMIT statusChanged();
}

void Subscription::armWatchdog()
{
    if (m_nextAttemptMs >= 0) {
        m_clock->wakeAt(m_nextAttemptMs);
    } else if (m_lastActivityMs >= 0) {
        m_clock->wakeAt(m_lastActivityMs + m_settings.inactivityTimeoutMs);
    }
}

void Subscription::onClockWoke()
{
    const qint64 now = m_clock->monotonicMs();
    if (m_nextAttemptMs >= 0 && now >= m_nextAttemptMs) {
        open(Status::Reconnecting);
        return;
    }
    if (m_reply && m_lastActivityMs >= 0 && now - m_lastActivityMs >= m_settings.inactivityTimeoutMs) {
        connectionLost(
            tr("No data from the server for %n second(s)", nullptr, int(m_settings.inactivityTimeoutMs / 1000)));
        return;
    }
    armWatchdog();
}

} // namespace Patchwork::Client
