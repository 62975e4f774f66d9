// SPDX-License-Identifier: MIT
// The relay with access control, as the daemon wires it, for the integration tests of PROTOCOL §7–§9,
// §12 and §13: a metrics registry, a config source, an AccessGate and a RelayServer on a loopback port.
#pragma once

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QPointer>
#include <QTest>

#include <functional>
#include <memory>
#include <vector>

#include "access/configsource.h"
#include "access/directoryconfigsource.h"
#include "access/hooksecret.h"
#include "hubwait.h"
#include "relay/accessgate.h"
#include "relay/relayserver.h"
#include "testhttpclient.h"
#include "testutil.h"
#include "util/clock.h"
#include "util/metrics.h"

namespace Patchwork::Test
{
using Server::AccessGate;
using Server::RelayServer;
} // namespace Patchwork::Test

namespace Patchwork::Test
{

inline constexpr QByteArrayView TEST_SERVER_KEY = "integration-test-server-key";

// A config source that answers only when told to, like a Forgejo fetch in flight.
class DeferredConfigSource final : public ConfigSource
{
public:
    using ConfigSource::ConfigSource;

    void lookup(const QString &user, QObject *context, LookupCallback done) override
    {
        ++lookups;
        if (m_known.contains(user)) {
            done(m_known.value(user));
            return;
        }
        m_waiting.push_back({user, QPointer<QObject>(context), context != nullptr, std::move(done)});
    }
    void invalidate(const QString &user) override
    {
        m_known.remove(user);
    }
    void reload() override
    {
        m_known.clear();
    }
    qsizetype pending() const
    {
        return qsizetype(m_waiting.size());
    }
    // Answers every waiting lookup of `user` and remembers the answer.
    void answer(const QString &user, const ConfigLookup &result)
    {
        m_known.insert(user, result);
        std::vector<Waiting> waiting;
        waiting.swap(m_waiting);
        for (Waiting &w : waiting) {
            if (w.user != user) {
                m_waiting.push_back(std::move(w));
            } else if (!w.guarded || w.context) {
                w.done(result);
            }
        }
    }

    int lookups = 0;

private:
    struct Waiting
    {
        QString user;
        QPointer<QObject> context;
        bool guarded = false;
        LookupCallback done;
    };
    QHash<QString, ConfigLookup> m_known;
    std::vector<Waiting> m_waiting;
};

inline void writeFile(const QString &path, const QByteArray &content)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    QVERIFY2(file.open(QIODevice::WriteOnly | QIODevice::Truncate), qPrintable(path));
    QCOMPARE(file.write(content), content.size());
}

// Settings without limits, so that tests only meet the limits they set up.
inline AccessGate::Settings unlimitedSettings()
{
    AccessGate::Settings s;
    s.rateLimit.ratePerSecond = 0;
    s.rateLimit.maxWaiting = 0;
    return s;
}

// Owns the parts in the order the daemon destroys them: relay, gate, config source, registry.
struct AccessFixture
{
    // `gateClock` drives the rate limiter and token expiry; the relay's engine runs on real time so
    // that ?timeout= works.
    AccessFixture(Clock *gateClock, const AccessGate::Settings &settings, ConfigSource *configs)
        : gate(std::make_unique<AccessGate>(gateClock, HookSecret::fromKey(TEST_SERVER_KEY), configs, &metrics))
        , relay(std::make_unique<RelayServer>(&relayClock))
    {
        gate->setSettings(settings);
        relay->setAccessGate(gate.get());
        if (relay->listen(QHostAddress::LocalHost, 0)) {
            port = relay->port();
        }
    }
    ~AccessFixture()
    {
        relay.reset();
        gate.reset();
    }

    TestResponse get(const QByteArray &target, const HeaderList &headers = {}) const
    {
        return fetch(port, "GET", target, {}, headers, timeoutMs(5000));
    }
    TestResponse send(QByteArrayView method,
                      const QByteArray &target,
                      const QByteArray &body = {},
                      const HeaderList &headers = {}) const
    {
        return fetch(port, method, target, body, headers, timeoutMs(5000));
    }
    // Waits until the engine has `n` waiting parties of `role`.
    bool waitWaiting(Waiter::Role role, qsizetype n) const
    {
        return waitForWaiting(relay->hub(), role, n);
    }

    SystemClock relayClock;
    Metrics metrics;
    std::unique_ptr<AccessGate> gate;
    std::unique_ptr<RelayServer> relay;
    quint16 port = 0;
};

} // namespace Patchwork::Test
