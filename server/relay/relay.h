// SPDX-License-Identifier: MIT
#pragma once

#include <QHostAddress>
#include <QObject>
#include <QString>
#include <QTimer>
#include <QUrl>

#include <memory>

#include "journal/replayjournal.h"
#include "relay/accessgate.h"
#include "relay/relayserver.h"
#include "util/errorcategory.h"
#include "util/ratewindow.h"

namespace Patchwork
{
class Clock;
class ConfigSource;
class Metrics;
} // namespace Patchwork

namespace Patchwork::Server
{

// Everything a relay needs, in one value: what patchworkd reads from its options and the tray from its
// settings dialog. Nothing daemon-only (log format, signals).
struct RelaySettings
{
    QHostAddress host{QHostAddress::LocalHost};
    quint16 port = 8080; // 0 = any free port (Relay::port() tells which)
    // The hook secret (PROTOCOL §7): `secretKey` (raw bytes) if set, else <dataDir>/secret_key,
    // created on first start.
    QString dataDir;
    QByteArray secretKey;
    // User configurations (PROTOCOL §8): Forgejo when forgejoUrl and forgejoToken are set, else usersDir
    // (empty = no users: /u/ answers 401 token not found).
    QString usersDir;
    QUrl forgejoUrl;
    QByteArray forgejoToken;
    qint64 aclTtlMs = 5 * 60 * 1000; // Forgejo cache time
    // Limits, timeouts and replay (PROTOCOL §4.1, §13–§15); may change while running.
    RelayServer::Settings server;
    // Trusted proxies, rate limits, the metrics token (PROTOCOL §12, §13); may change while running.
    AccessGate::Settings access;
    int shutdownGraceMs = 10'000; // stop(): how long deliveries in flight may take
    // The replay journal (PROTOCOL §4.1): the SQLite file the replay buffers are written behind to and
    // restored from at start(); empty = replay in memory only. No file is opened while replay is
    // disabled. `replayStoreSync` Full also survives a power loss.
    QString replayStore;
    ReplayJournal::Sync replayStoreSync = ReplayJournal::Sync::Normal;
};

// The relay as one object: builds the hook secret, the metrics registry, the config source, the access
// gate and the relay server (with its tunnel and notify endpoint) from RelaySettings, listens, and
// stops gracefully. patchworkd is a thin main around it; the tray runs the same object in-process.
//
// start() and stop() may be called any number of times; each start() builds the parts afresh from the
// current settings (so a new port, users directory or Forgejo URL takes effect), each stop() answers
// waiting requests with 503 and emits stopped() exactly once. Failures are reported through
// errorOccurred() with a category (a port in use is ErrorCategory::Listener, a port below 1024 without
// privilege ErrorCategory::Permission, an unusable data directory ErrorCategory::Config; while running,
// a user's configuration that cannot be read is ErrorCategory::Acl, a Forgejo failure
// ErrorCategory::Upstream).
//
// The live counts are read from the engine and the listener every `countsIntervalMs` while running and
// notified when they change; messagesPerMinute counts messages delivered (a producer's, a reply, a
// request; a pubsub message once however many received it) in the last 60 s of the injected clock.
class Relay final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Relay)
    Q_PROPERTY(bool running READ isRunning NOTIFY runningChanged)
    Q_PROPERTY(quint16 port READ port NOTIFY portChanged)
    Q_PROPERTY(qsizetype channelCount READ channelCount NOTIFY channelCountChanged)
    Q_PROPERTY(qsizetype waitingCount READ waitingCount NOTIFY waitingCountChanged)
    Q_PROPERTY(qsizetype connectionCount READ connectionCount NOTIFY connectionCountChanged)
    Q_PROPERTY(qint64 messagesPerMinute READ messagesPerMinute NOTIFY messagesPerMinuteChanged)

public:
    // `clock` (not owned) must outlive the relay; null = a system clock owned by the relay.
    explicit Relay(Clock *clock = nullptr, QObject *parent = nullptr);
    ~Relay() override;

    const RelaySettings &settings() const;
    // Keeps `settings` for the next start(); while running, applies what may change at once (limits,
    // timeouts, replay, proxies, rate limits, metrics token) and logs that the rest (host, port, node id, data
    // and users directory, Forgejo, secret key) waits for a restart.
    void setSettings(const RelaySettings &settings);
    // Re-reads the user configurations (SIGHUP).
    void reloadConfigs();

    // Builds the parts and listens. False (after errorOccurred()) when it could not; true when running
    // (also when it was running already). A start() during a stop() cuts that stop's grace short.
    bool start();
    // Graceful stop (PROTOCOL §14): stops accepting, answers waiting requests with 503, lets deliveries in
    // flight finish (at most shutdownGraceMs), then emits stopped(). Nothing when not running.
    void stop();

    bool isRunning() const;
    bool isStopping() const;
    // The port actually bound while running (the chosen one for port 0); 0 when not running.
    quint16 port() const;
    qsizetype channelCount() const;
    // Waiting requests of every role, event streams included.
    qsizetype waitingCount() const;
    qsizetype connectionCount() const;
    qint64 messagesPerMinute() const;
    // The last error message, empty after a successful start().
    QString errorString() const;

    // The parts while running (null otherwise), for tests and embedders that need more.
    RelayServer *server() const;
    AccessGate *accessGate() const;
    // The Prometheus registry (PROTOCOL §12), the same across restarts.
    Metrics *metrics() const;

    // How often the counts are re-read (default 250 ms).
    void setCountsInterval(int ms);

    // The message and category of a failed listen() on `host`:`port`.
    static ErrorCategory listenErrorCategory(QAbstractSocket::SocketError error);
    static QString listenErrorMessage(QAbstractSocket::SocketError error,
                                      const QHostAddress &host,
                                      quint16 port,
                                      const QString &systemMessage);

Q_SIGNALS:
    void started();
    void stopped();
    void errorOccurred(const QString &message, Patchwork::ErrorCategory category);
    void runningChanged(bool running);
    void portChanged(quint16 port);
    void channelCountChanged(qsizetype count);
    void waitingCountChanged(qsizetype count);
    void connectionCountChanged(qsizetype count);
    void messagesPerMinuteChanged(qint64 count);

private:
    void fail(const QString &message, ErrorCategory category);
    std::unique_ptr<ConfigSource> makeConfigSource() const;
    void onServerStopped(quint64 run);
    void openJournal();
    void teardown();
    void updateCounts();

    Clock *m_clock;
    std::unique_ptr<Clock> m_ownClock;
    RelaySettings m_settings;
    QString m_error;
    std::unique_ptr<Metrics> m_metrics;
    // The parts of one run, built by start(), destroyed by teardown() (server first).
    std::unique_ptr<ConfigSource> m_configs;
    std::unique_ptr<AccessGate> m_gate;
    std::unique_ptr<RelayServer> m_server;
    std::unique_ptr<ReplayJournal> m_journal;
    bool m_stopping = false;
    quint64 m_run = 0; // counts start()s, so a late stopped() of an earlier run is told apart
    QTimer m_countsTimer;
    RateWindow m_messages;
    quint16 m_port = 0;
    qsizetype m_channels = 0;
    qsizetype m_waiting = 0;
    qsizetype m_connections = 0;
    qint64 m_messagesPerMinute = 0;
};

} // namespace Patchwork::Server
