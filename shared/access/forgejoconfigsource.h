// SPDX-License-Identifier: MIT
#pragma once

#include <vector>

#include <QHash>
#include <QPointer>
#include <QUrl>

#include "access/configsource.h"

class QNetworkAccessManager;
class QNetworkReply;

namespace Patchwork
{

class Clock;

// User configurations fetched from Forgejo/Gitea (PROTOCOL §8 (b)):
// `GET {url}/api/v1/repos/{user}/.patchwork/media/config.yaml` with `Authorization: token T` and
// `Accept: application/octet-stream`.
//
//  - 200 => parsed; 404 => an empty config (Found, no tokens); both cached for the TTL (default 5 min).
//  - Any other answer, a network error or the timeout (default 10 s) is a failure: an expired entry
//    is served (Stale) if there is one, else the user is Unavailable. After a failure the user is not
//    fetched again for the retry interval (default 10 s); lookups in between are answered at once
//    from what is known (and a user with a stale entry keeps getting it while the refresh runs).
//  - A file that fails to parse makes the user Unavailable (fail closed, the stale entry is dropped)
//    and is retried like a failure.
//  - Concurrent lookups of one user share one fetch.
//  - The cache holds at most maxEntries() users (usernames are chosen by clients); idle entries
//    are evicted when it is full.
// Time for the TTL and the retry interval comes from the injected Clock.
class ForgejoConfigSource final : public ConfigSource
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ForgejoConfigSource)

public:
    // `token` may be empty (no Authorization header is sent). The clock must outlive this object.
    ForgejoConfigSource(const QUrl &baseUrl, const QByteArray &token, Clock *clock, QObject *parent = nullptr);
    ~ForgejoConfigSource() override;

    void setTtl(qint64 ms);
    qint64 ttl() const;
    void setTimeout(int ms);
    int timeout() const;
    void setRetryInterval(qint64 ms);
    qint64 retryInterval() const;
    void setMaxEntries(qsizetype count);
    qsizetype maxEntries() const;

    QUrl configUrl(const QString &user) const;

    void lookup(const QString &user, QObject *context, LookupCallback done) override;
    void invalidate(const QString &user) override;
    void reload() override;

    // Bodies larger than this are refused (the user is Unavailable).
    static constexpr qint64 MAX_BODY_SIZE = 1024 * 1024;

private:
    struct Waiter
    {
        QPointer<QObject> context;
        bool guarded = false;
        LookupCallback done;
    };
    struct Entry
    {
        std::shared_ptr<const UserConfig> config; // last good config (possibly stale)
        qint64 freshUntil = 0; // monotonic ms; the config is fresh while now < freshUntil
        QString error; // last failure (for Unavailable)
        qint64 failedAt = -1; // monotonic ms of the last failure, -1 = none
        QNetworkReply *reply = nullptr; // fetch in flight
        std::vector<Waiter> waiters; // lookups waiting for that fetch
    };

    void startFetch(const QString &user, Entry &entry);
    void forget(const QString &user);
    void onReplyFinished(const QString &user, QNetworkReply *reply);
    void answer(const Waiter &waiter, const ConfigLookup &result, ConfigCacheEvent event);
    void evictIfFull();
    bool inBackoff(const Entry &entry, qint64 now) const;

    QUrl m_baseUrl;
    QByteArray m_token;
    Clock *m_clock;
    QNetworkAccessManager *m_nam;
    QHash<QString, Entry> m_entries;
    qint64 m_ttl = 5 * 60 * 1000;
    int m_timeout = 10 * 1000;
    qint64 m_retryInterval = 10 * 1000;
    qsizetype m_maxEntries = 10000;
};

} // namespace Patchwork
