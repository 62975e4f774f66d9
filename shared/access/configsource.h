// SPDX-License-Identifier: MIT
#pragma once

#include <functional>
#include <memory>

#include <QByteArrayView>
#include <QObject>
#include <QString>

#include "access/userconfig.h"

namespace Patchwork
{

// The answer to "what is this user's configuration?" (PROTOCOL §8 "Config sources").
struct ConfigLookup
{
    enum class State
    {
        Found, // config is set (possibly with no tokens)
        NoConfig, // the user has no configuration: the front end answers 401 token not found
        Unavailable, // broken or unreachable configuration: 503 User configuration unavailable (fail closed)
    };

    State state = State::NoConfig;
    std::shared_ptr<const UserConfig> config;
    // Unavailable: why, for logs (`file:line: message`, or the upstream failure). Never a token.
    QString error;

    static ConfigLookup found(std::shared_ptr<const UserConfig> config)
    {
        return ConfigLookup{State::Found, std::move(config), {}};
    }
    static ConfigLookup noConfig()
    {
        return ConfigLookup{State::NoConfig, nullptr, {}};
    }
    static ConfigLookup unavailable(const QString &error)
    {
        return ConfigLookup{State::Unavailable, nullptr, error};
    }
};

// How a lookup was answered by a caching source, for `patchwork_cache_hits_total{type}`.
enum class ConfigCacheEvent
{
    Hit, // answered from a fresh cache entry
    Miss, // needed an upstream fetch (or could not be answered: Unavailable)
    Stale, // the upstream failed and an expired entry was served
};

// The metric label of an event: `hit`, `miss`, `stale`.
QByteArrayView configCacheEventName(ConfigCacheEvent event);

// Where user configurations come from: a directory (DirectoryConfigSource) or a Forgejo/Gitea
// server (ForgejoConfigSource). Lives in the thread of its users; not thread-safe.
class ConfigSource : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConfigSource)

public:
    using LookupCallback = std::function<void(const ConfigLookup &)>;

    using QObject::QObject;
    ~ConfigSource() override;

    // Answers through `done`, exactly once, possibly before lookup() returns. When `context` is not
    // null and is destroyed before the answer is ready, `done` is never called.
    virtual void lookup(const QString &user, QObject *context, LookupCallback done) = 0;
    // Forgets what is cached for `user` (PROTOCOL §9 invalidate_cache): the next lookup reads anew.
    virtual void invalidate(const QString &user) = 0;
    // Re-reads everything (SIGHUP).
    virtual void reload() = 0;

Q_SIGNALS:
    // A configuration could not be read or parsed (already logged via lcConfig).
    void errorOccurred(const QString &message);
    // One per lookup, from sources that cache fetched configurations.
    void cacheEvent(Patchwork::ConfigCacheEvent type);
};

} // namespace Patchwork
