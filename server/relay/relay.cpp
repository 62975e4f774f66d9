// SPDX-License-Identifier: MIT
#include "relay/relay.h"

#include "access/directoryconfigsource.h"
#include "access/forgejoconfigsource.h"
#include "access/hooksecret.h"
#include "engine/channelhub.h"
#include "http/httpserver.h"
#include "http/serverlogging.h"
#include "util/clock.h"
#include "util/metrics.h"

namespace Patchwork::Server
{

Relay::Relay(Clock *clock, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
    , m_metrics(std::make_unique<Metrics>())
{
    if (!m_clock) {
        m_ownClock = std::make_unique<SystemClock>();
        m_clock = m_ownClock.get();
    }
    m_countsTimer.setInterval(250);
    connect(&m_countsTimer, &QTimer::timeout, this, &Relay::updateCounts);
}

Relay::~Relay()
{
    teardown();
}

const RelaySettings &Relay::settings() const
{
    return m_settings;
}

void Relay::setSettings(const RelaySettings &settings)
{
    const RelaySettings old = m_settings;
    m_settings = settings;
    if (!m_server) {
        return;
    }
    RelayServer::Settings server = settings.server;
    const QByteArray runningNodeId = m_server->hub()->settings().nodeId;
    if (server.hub.nodeId != runningNodeId) {
        // The node id is part of the message ids this run has issued.
        qCWarning(lcServer) << "a new node id takes effect only after a restart";
        server.hub.nodeId = runningNodeId;
    }
    m_server->setSettings(server);
    m_gate->setSettings(settings.access);
    if (!m_journal) {
        openJournal(); // replay was just enabled
    }
    if (settings.replayStore != old.replayStore || settings.replayStoreSync != old.replayStoreSync) {
        qCWarning(lcServer) << "a new replay journal takes effect only after a restart";
    }
    if (settings.host != old.host || settings.port != old.port) {
        qCWarning(lcServer) << "a new host or port takes effect only after a restart";
    }
    if (settings.usersDir != old.usersDir || settings.forgejoUrl != old.forgejoUrl
        || settings.forgejoToken != old.forgejoToken || settings.aclTtlMs != old.aclTtlMs) {
        qCWarning(lcServer) << "a new users directory or Forgejo source takes effect only after a restart";
    }
    if (settings.dataDir != old.dataDir || settings.secretKey != old.secretKey) {
        qCWarning(lcServer) << "a new data directory or secret key takes effect only after a restart";
    }
}

void Relay::reloadConfigs()
{
    if (m_configs) {
        m_configs->reload();
    }
}

// PROTOCOL §8 "Config sources": Forgejo when a URL and a token are set, else the users directory.
std::unique_ptr<ConfigSource> Relay::makeConfigSource() const
{
    const RelaySettings &s = m_settings;
    if (!s.forgejoUrl.isEmpty() && !s.forgejoToken.isEmpty()) {
        auto source = std::make_unique<ForgejoConfigSource>(s.forgejoUrl, s.forgejoToken, m_clock);
        source->setTtl(s.aclTtlMs);
        qCInfo(lcServer).noquote() << "user configurations from" << s.forgejoUrl.toString(QUrl::RemoveUserInfo);
        return source;
    }
    if (!s.forgejoUrl.isEmpty()) {
        qCWarning(lcServer) << "a Forgejo URL is set but no Forgejo token: using the users directory";
    }
    if (s.usersDir.isEmpty()) {
        return nullptr;
    }
    return std::make_unique<DirectoryConfigSource>(s.usersDir);
}

bool Relay::start()
{
    if (m_server && !m_stopping) {
        return true;
    }
    teardown(); // a stop in progress ends here
    QString error;
    const std::optional<HookSecret> secret = m_settings.secretKey.isEmpty()
                                                 ? HookSecret::load(m_settings.dataDir, &error)
                                                 : HookSecret::fromKey(m_settings.secretKey);
    if (!secret) {
        fail(tr("Cannot set up hook secrets: %1").arg(error), ErrorCategory::Config);
        return false;
    }
    m_configs = makeConfigSource();
    if (m_configs) {
        // Already logged by the source. A user's broken file is an ACL problem; Forgejo's are upstream ones.
        const ErrorCategory category =
            qobject_cast<ForgejoConfigSource *>(m_configs.get()) ? ErrorCategory::Upstream : ErrorCategory::Acl;
        connect(m_configs.get(), &ConfigSource::errorOccurred, this, [this, category](const QString &message) {
            Q_EMIT errorOccurred(message, category);
        });
    }
    m_gate = std::make_unique<AccessGate>(m_clock, *secret, m_configs.get(), m_metrics.get());
    m_gate->setSettings(m_settings.access);
    m_server = std::make_unique<RelayServer>(m_clock);
    m_server->setSettings(m_settings.server);
    m_server->setAccessGate(m_gate.get());
    openJournal();
    if (!m_server->listen(m_settings.host, m_settings.port)) {
        const QAbstractSocket::SocketError code = m_server->httpServer()->serverError();
        const QString message =
            listenErrorMessage(code, m_settings.host, m_settings.port, m_server->httpServer()->errorString());
        teardown();
        fail(message, listenErrorCategory(code));
        return false;
    }
    connect(m_server.get(), &RelayServer::stopped, this, [this, run = ++m_run]() { onServerStopped(run); });
    connect(m_server->hub(), &ChannelHub::messageDelivered, this, [this]() { m_messages.add(m_clock->monotonicMs()); });
    m_error.clear();
    m_countsTimer.start();
    updateCounts();
    Q_EMIT runningChanged(true);
    Q_EMIT started();
    return true;
}

// PROTOCOL §4.1 "Durable replay": what earlier runs kept comes back before the first request.
void Relay::openJournal()
{
    if (m_settings.replayStore.isEmpty() || !m_settings.server.hub.replay.isEnabled()) {
        return;
    }
    ChannelHub *hub = m_server->hub();
    ReplayJournal::Contents contents;
    m_journal = ReplayJournal::open({m_settings.replayStore, m_settings.replayStoreSync}, hub->idPrefix(), &contents);
    if (!m_journal) {
        return; // logged; the relay goes on with replay in memory
    }
    ReplayBuffer *replay = hub->replayBuffer();
    replay->attachStore(m_journal.get(), contents.runs, contents.records);
    const bool clean = contents.runs.isEmpty() || contents.runs.constLast().clean;
    qCInfo(lcServer).noquote().nospace() << "replay journal " << m_settings.replayStore << ": restored "
                                         << replay->messageCount() << " messages of " << replay->channelCount()
                                         << " channels"
                                         << (clean ? ""
                                                   : " (the last run did not stop cleanly: resuming clients "
                                                     "may be told of a gap)");
}

void Relay::stop()
{
    if (!m_server || m_stopping) {
        return;
    }
    m_stopping = true;
    m_server->shutdown(m_settings.shutdownGraceMs);
}

void Relay::onServerStopped(quint64 run)
{
    // Deleting the server inside its own signal is not safe: finish from the event loop.
    QMetaObject::invokeMethod(
        this,
        [this, run]() {
            if (!m_stopping || run != m_run) {
                return; // start() ended this run already
            }
            teardown();
            updateCounts();
            Q_EMIT runningChanged(false);
            Q_EMIT stopped();
        },
        Qt::QueuedConnection);
}

void Relay::teardown()
{
    m_countsTimer.stop();
    m_stopping = false;
    // Connections and their waiters first, then the gate they were admitted by, then the configurations.
    // The metrics registry stays: counters go on across restarts, each run's gauges leave with it.
    m_server.reset();
    m_gate.reset();
    m_configs.reset();
    // Last: the journal writes what it has queued and marks the run clean.
    m_journal.reset();
}

void Relay::fail(const QString &message, ErrorCategory category)
{
    m_error = message;
    qCWarning(lcServer).noquote() << message;
    Q_EMIT errorOccurred(message, category);
}

bool Relay::isRunning() const
{
    return m_server != nullptr;
}

bool Relay::isStopping() const
{
    return m_stopping;
}

quint16 Relay::port() const
{
    return m_server ? m_server->port() : 0;
}

qsizetype Relay::channelCount() const
{
    return m_server ? m_server->hub()->channelCount() : 0;
}

qsizetype Relay::waitingCount() const
{
    if (!m_server) {
        return 0;
    }
    const ChannelHub *hub = m_server->hub();
    qsizetype total = 0;
    for (Waiter::Role role : {Waiter::Role::Consumer,
                              Waiter::Role::Producer,
                              Waiter::Role::Requester,
                              Waiter::Role::Responder,
                              Waiter::Role::Replier}) {
        total += hub->waitingCount(role);
    }
    return total;
}

qsizetype Relay::connectionCount() const
{
    return m_server ? m_server->httpServer()->connectionCount() : 0;
}

qint64 Relay::messagesPerMinute() const
{
    return m_messages.count(m_clock->monotonicMs());
}

QString Relay::errorString() const
{
    return m_error;
}

RelayServer *Relay::server() const
{
    return m_server.get();
}

AccessGate *Relay::accessGate() const
{
    return m_gate.get();
}

Metrics *Relay::metrics() const
{
    return m_metrics.get();
}

void Relay::setCountsInterval(int ms)
{
    m_countsTimer.setInterval(ms);
}

void Relay::updateCounts()
{
    const auto update = [this](auto &member, auto value, auto signal) {
        if (member != value) {
            member = value;
            Q_EMIT(this->*signal)(value);
        }
    };
    update(m_port, port(), &Relay::portChanged);
    update(m_channels, channelCount(), &Relay::channelCountChanged);
    update(m_waiting, waitingCount(), &Relay::waitingCountChanged);
    update(m_connections, connectionCount(), &Relay::connectionCountChanged);
    update(m_messagesPerMinute, messagesPerMinute(), &Relay::messagesPerMinuteChanged);
}

ErrorCategory Relay::listenErrorCategory(QAbstractSocket::SocketError error)
{
    return error == QAbstractSocket::SocketAccessError ? ErrorCategory::Permission : ErrorCategory::Listener;
}

QString Relay::listenErrorMessage(QAbstractSocket::SocketError error,
                                  const QHostAddress &host,
                                  quint16 port,
                                  const QString &systemMessage)
{
    const QString where = host.protocol() == QAbstractSocket::IPv6Protocol
                              ? QStringLiteral("[%1]:%2").arg(host.toString()).arg(port)
                              : QStringLiteral("%1:%2").arg(host.toString()).arg(port);
    switch (error) {
    case QAbstractSocket::AddressInUseError:
        return tr("Cannot listen on %1: port %2 is already in use").arg(where).arg(port);
    case QAbstractSocket::SocketAccessError:
        return port < 1024 ? tr("Cannot listen on %1: permission denied (ports below 1024 need privileges)").arg(where)
                           : tr("Cannot listen on %1: permission denied").arg(where);
    case QAbstractSocket::SocketAddressNotAvailableError:
        return tr("Cannot listen on %1: the address is not available on this machine").arg(where);
    default:
        return tr("Cannot listen on %1: %2").arg(where, systemMessage);
    }
}

} // namespace Patchwork::Server
