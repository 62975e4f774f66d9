// SPDX-License-Identifier: MIT
#include "access/forgejoconfigsource.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>

#include "util/clock.h"
#include "util/logging.h"

using namespace Qt::StringLiterals;

namespace Patchwork
{

namespace
{

constexpr char TIMED_OUT_PROPERTY[] = "patchworkTimedOut";
constexpr char TOO_LARGE_PROPERTY[] = "patchworkTooLarge";

} // namespace

ForgejoConfigSource::ForgejoConfigSource(const QUrl &baseUrl, const QByteArray &token, Clock *clock, QObject *parent)
    : ConfigSource(parent)
    , m_baseUrl(baseUrl)
    , m_token(token)
    , m_clock(clock)
    , m_nam(new QNetworkAccessManager(this))
{
    Q_ASSERT(m_clock);
}

ForgejoConfigSource::~ForgejoConfigSource()
{
    // Replies are children of m_nam and die with it; make sure none reports back into a half-destroyed
    // object.
    for (Entry &entry : m_entries) {
        if (entry.reply) {
            entry.reply->disconnect(this);
            entry.reply->abort();
        }
    }
}

void ForgejoConfigSource::setTtl(qint64 ms)
{
    m_ttl = qMax(qint64(0), ms);
}

qint64 ForgejoConfigSource::ttl() const
{
    return m_ttl;
}

void ForgejoConfigSource::setTimeout(int ms)
{
    m_timeout = qMax(1, ms);
}

int ForgejoConfigSource::timeout() const
{
    return m_timeout;
}

void ForgejoConfigSource::setRetryInterval(qint64 ms)
{
    m_retryInterval = qMax(qint64(0), ms);
}

qint64 ForgejoConfigSource::retryInterval() const
{
    return m_retryInterval;
}

void ForgejoConfigSource::setMaxEntries(qsizetype count)
{
    m_maxEntries = qMax(qsizetype(1), count);
}

qsizetype ForgejoConfigSource::maxEntries() const
{
    return m_maxEntries;
}

QUrl ForgejoConfigSource::configUrl(const QString &user) const
{
    QUrl url = m_baseUrl;
    QString path = url.path(QUrl::FullyEncoded);
    while (path.endsWith(u'/')) {
        path.chop(1);
    }
    path +=
        u"/api/v1/repos/"_s + QString::fromLatin1(QUrl::toPercentEncoding(user)) + u"/.patchwork/media/config.yaml"_s;
    url.setPath(path, QUrl::StrictMode);
    url.setQuery(QString());
    url.setFragment(QString());
    return url;
}

bool ForgejoConfigSource::inBackoff(const Entry &entry, qint64 now) const
{
    return entry.failedAt >= 0 && now - entry.failedAt < m_retryInterval;
}

void ForgejoConfigSource::answer(const Waiter &waiter, const ConfigLookup &result, ConfigCacheEvent event)
{
    if (waiter.guarded && !waiter.context) {
        return;
    }
    Q_EMIT cacheEvent(event);
    waiter.done(result);
}

void ForgejoConfigSource::lookup(const QString &user, QObject *context, LookupCallback done)
{
    Waiter waiter{context, context != nullptr, std::move(done)};
    const qint64 now = m_clock->monotonicMs();
    auto it = m_entries.find(user);
    if (it == m_entries.end()) {
        evictIfFull();
        it = m_entries.insert(user, Entry());
        it->waiters.push_back(std::move(waiter));
        startFetch(user, *it);
        return;
    }

    Entry &entry = *it;
    if (entry.config && now < entry.freshUntil) {
        answer(waiter, ConfigLookup::found(entry.config), ConfigCacheEvent::Hit);
        return;
    }
    // Upstream known to be failing and a stale entry at hand: answer now, refresh in the background.
    const bool serveStale = entry.config && entry.failedAt >= 0;
    if (!entry.reply && !inBackoff(entry, now)) {
        startFetch(user, entry);
    } else if (!entry.reply && !entry.config) {
        // Failed recently and nothing to serve.
        answer(waiter, ConfigLookup::unavailable(entry.error), ConfigCacheEvent::Miss);
        return;
    }
    if (serveStale) {
        answer(waiter, ConfigLookup::found(entry.config), ConfigCacheEvent::Stale);
        return;
    }
    entry.waiters.push_back(std::move(waiter));
}

void ForgejoConfigSource::startFetch(const QString &user, Entry &entry)
{
    QNetworkRequest request(configUrl(user));
    request.setRawHeader("Accept", "application/octet-stream");
    if (!m_token.isEmpty()) {
        request.setRawHeader("Authorization", "token " + m_token);
    }
    // Never send the token to another host.
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::SameOriginRedirectPolicy);
    qCDebug(lcConfig).noquote() << "fetching the configuration of user" << user;

    QNetworkReply *reply = m_nam->get(request);
    entry.reply = reply;
    auto *timer = new QTimer(reply);
    timer->setSingleShot(true);
    connect(timer, &QTimer::timeout, reply, [reply] {
        reply->setProperty(TIMED_OUT_PROPERTY, true);
        reply->abort();
    });
    connect(reply, &QNetworkReply::downloadProgress, reply, [reply](qint64 received, qint64 total) {
        if (received > MAX_BODY_SIZE || total > MAX_BODY_SIZE) {
            reply->setProperty(TOO_LARGE_PROPERTY, true);
            reply->abort();
        }
    });
    connect(reply, &QNetworkReply::finished, this, [this, user, reply] { onReplyFinished(user, reply); });
    timer->start(m_timeout);
}

void ForgejoConfigSource::onReplyFinished(const QString &user, QNetworkReply *reply)
{
    reply->deleteLater();
    const auto it = m_entries.find(user);
    if (it == m_entries.end() || it->reply != reply) {
        return;
    }
    Entry &entry = *it;
    entry.reply = nullptr;
    const qint64 now = m_clock->monotonicMs();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QString fileName = user + u"/.patchwork/config.yaml"_s;

    ConfigLookup result;
    ConfigCacheEvent event = ConfigCacheEvent::Miss;
    QString reportedError;
    std::shared_ptr<UserConfig> parsed;
    QString configError;
    QString fetchError;

    if (reply->property(TOO_LARGE_PROPERTY).toBool()) {
        configError = fileName + u": "_s + tr("the file is larger than %1 bytes").arg(MAX_BODY_SIZE);
    } else if (status == 404) {
        parsed = std::make_shared<UserConfig>(); // no .patchwork repository or file: no tokens
    } else if (reply->error() == QNetworkReply::NoError && status == 200) {
        parsed = UserConfig::parse(reply->readAll(), fileName, &configError);
    } else if (reply->property(TIMED_OUT_PROPERTY).toBool()) {
        fetchError = tr("fetching %1 timed out after %2 ms").arg(fileName).arg(m_timeout);
    } else if (status > 0) {
        fetchError = tr("fetching %1 failed with HTTP status %2").arg(fileName).arg(status);
    } else {
        fetchError = tr("fetching %1 failed: %2").arg(fileName, reply->errorString());
    }

    if (parsed) {
        entry.config = parsed;
        entry.freshUntil = now + m_ttl;
        entry.failedAt = -1;
        entry.error.clear();
        result = ConfigLookup::found(entry.config);
        qCDebug(lcConfig).noquote() << "fetched the configuration of user" << user << "with" << parsed->tokenCount()
                                    << "token(s)";
    } else if (!configError.isEmpty()) {
        // A broken file: fail closed, even if an older version was cached.
        qCWarning(lcConfig).noquote() << configError;
        entry.config.reset();
        entry.failedAt = now;
        entry.error = configError;
        result = ConfigLookup::unavailable(configError);
        reportedError = configError;
    } else {
        qCWarning(lcConfig).noquote() << fetchError;
        entry.failedAt = now;
        entry.error = fetchError;
        reportedError = fetchError;
        if (entry.config) {
            result = ConfigLookup::found(entry.config);
            event = ConfigCacheEvent::Stale;
        } else {
            result = ConfigLookup::unavailable(fetchError);
        }
    }

    // Callbacks may call back into this object (and change m_entries): take the waiters out first.
    const std::vector<Waiter> waiters = std::move(entry.waiters);
    entry.waiters.clear();
    if (!reportedError.isEmpty()) {
        Q_EMIT errorOccurred(reportedError);
    }
    for (const Waiter &waiter : waiters) {
        answer(waiter, result, event);
    }
}

void ForgejoConfigSource::forget(const QString &user)
{
    const auto it = m_entries.find(user);
    if (it == m_entries.end()) {
        return;
    }
    if (!it->reply) {
        m_entries.erase(it);
        return;
    }
    // A fetch in flight may have started before the change that prompted this: replace it with a
    // new one for the lookups already waiting.
    QNetworkReply *old = it->reply;
    old->disconnect(this);
    old->abort();
    old->deleteLater();
    it->reply = nullptr;
    it->config.reset();
    it->freshUntil = 0;
    it->failedAt = -1;
    it->error.clear();
    startFetch(user, *it);
}

void ForgejoConfigSource::invalidate(const QString &user)
{
    qCInfo(lcConfig).noquote() << "cached configuration of user" << user << "invalidated";
    forget(user);
}

void ForgejoConfigSource::reload()
{
    qCInfo(lcConfig) << "dropping every cached user configuration";
    const QStringList users = m_entries.keys();
    for (const QString &user : users) {
        forget(user);
    }
}

void ForgejoConfigSource::evictIfFull()
{
    if (m_entries.size() < m_maxEntries) {
        return;
    }
    const qint64 now = m_clock->monotonicMs();
    const auto idle = [](const Entry &e) { return !e.reply && e.waiters.empty(); };
    // First what is useless anyway (expired and not in backoff), then any idle entry.
    for (auto it = m_entries.begin(); it != m_entries.end();) {
        if (idle(*it) && now >= it->freshUntil && !inBackoff(*it, now)) {
            it = m_entries.erase(it);
        } else {
            ++it;
        }
    }
    const qsizetype target = m_maxEntries - qMax(qsizetype(1), m_maxEntries / 10);
    for (auto it = m_entries.begin(); it != m_entries.end() && m_entries.size() > target;) {
        if (idle(*it)) {
            it = m_entries.erase(it);
        } else {
            ++it;
        }
    }
}

} // namespace Patchwork
