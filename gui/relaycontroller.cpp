// SPDX-License-Identifier: MIT
#include "gui/relaycontroller.h"

#include <QDir>
#include <QFileInfo>
#include <QNetworkInterface>
#include <QSettings>

namespace Patchwork::Gui
{

namespace
{

// Stopping from the tray answers waiting requests at once; deliveries in flight get this long.
constexpr int TRAY_SHUTDOWN_GRACE_MS = 2000;

bool isAnyAddress(const QHostAddress &host)
{
    return host == QHostAddress::Any || host == QHostAddress::AnyIPv4 || host == QHostAddress::AnyIPv6;
}

QUrl httpUrl(const QString &host, quint16 port)
{
    QUrl url;
    url.setScheme(QStringLiteral("http"));
    url.setHost(host);
    url.setPort(port);
    url.setPath(QStringLiteral("/"));
    return url;
}

} // namespace

RelayController::RelayController(Clock *clock, const QString &dataDir, QObject *parent)
    : QObject(parent)
    , m_relay(new Server::Relay(clock, this))
    , m_dataDir(dataDir)
{
    connect(m_relay, &Server::Relay::runningChanged, this, &RelayController::stateChanged);
    connect(m_relay, &Server::Relay::portChanged, this, &RelayController::stateChanged);
    connect(m_relay, &Server::Relay::errorOccurred, this, [this](const QString &message) {
        m_error = message;
        Q_EMIT errorOccurred(message);
    });
    connect(m_relay, &Server::Relay::channelCountChanged, this, &RelayController::countsChanged);
    connect(m_relay, &Server::Relay::waitingCountChanged, this, &RelayController::countsChanged);
    connect(m_relay, &Server::Relay::connectionCountChanged, this, &RelayController::countsChanged);
    connect(m_relay, &Server::Relay::messagesPerMinuteChanged, this, &RelayController::countsChanged);
}

RelayController::Settings RelayController::settings() const
{
    return m_settings;
}

void RelayController::setSettings(const Settings &settings)
{
    if (settings == m_settings) {
        return;
    }
    m_settings = settings;
    Q_EMIT settingsChanged();
}

RelayController::Settings RelayController::readSettings(QSettings &settings)
{
    Settings s;
    settings.beginGroup(QStringLiteral("relay"));
    s.lan = settings.value(QStringLiteral("lan"), false).toBool();
    s.port = quint16(settings.value(QStringLiteral("port"), DefaultPort).toUInt());
    s.usersDir = settings.value(QStringLiteral("usersDir")).toString();
    settings.endGroup();
    return s;
}

void RelayController::writeSettings(QSettings &settings, const Settings &relaySettings)
{
    settings.beginGroup(QStringLiteral("relay"));
    settings.setValue(QStringLiteral("lan"), relaySettings.lan);
    settings.setValue(QStringLiteral("port"), relaySettings.port);
    settings.setValue(QStringLiteral("usersDir"), relaySettings.usersDir);
    settings.endGroup();
}

void RelayController::loadSettings(QSettings &settings)
{
    setSettings(readSettings(settings));
}

void RelayController::saveSettings(QSettings &settings) const
{
    writeSettings(settings, m_settings);
}

QString RelayController::usersDir() const
{
    return m_settings.usersDir.isEmpty() ? QDir(m_dataDir).filePath(QStringLiteral("users")) : m_settings.usersDir;
}

bool RelayController::reloadUserConfig(const QString &path)
{
    const QFileInfo file(path);
    const QFileInfo userDir(file.absolutePath());
    if (!isRunning() || file.fileName() != u"config.yaml"
        || QFileInfo(userDir.absolutePath()).canonicalFilePath() != QFileInfo(usersDir()).canonicalFilePath()) {
        return false;
    }
    m_relay->reloadConfigs();
    return true;
}

bool RelayController::start()
{
    Server::RelaySettings s = m_relay->settings();
    s.host = bindAddress();
    s.port = m_settings.port;
    s.dataDir = m_dataDir;
    s.secretKey = qgetenv("SECRET_KEY");
    s.usersDir = usersDir();
    s.replayStore = QDir(m_dataDir).filePath(QStringLiteral("replay.sqlite")); // as patchworkd's default
    s.shutdownGraceMs = TRAY_SHUTDOWN_GRACE_MS;
    QDir().mkpath(s.usersDir);
    m_relay->setSettings(s);
    m_error.clear();
    const bool ok = m_relay->start();
    Q_EMIT stateChanged();
    return ok;
}

void RelayController::stop()
{
    m_relay->stop();
}

bool RelayController::isRunning() const
{
    return m_relay->isRunning();
}

QString RelayController::errorString() const
{
    return m_error;
}

QUrl RelayController::localUrl() const
{
    if (!isRunning()) {
        return {};
    }
    const QHostAddress host = listenAddress();
    return httpUrl(isAnyAddress(host) ? QStringLiteral("127.0.0.1") : host.toString(), m_relay->port());
}

QList<QUrl> RelayController::lanUrls() const
{
    QList<QUrl> urls;
    const QHostAddress host = listenAddress();
    if (!isRunning() || host.isLoopback()) {
        return urls;
    }
    const QList<QHostAddress> addresses =
        isAnyAddress(host) ? QNetworkInterface::allAddresses() : QList<QHostAddress>{host};
    for (const QHostAddress &address : addresses) {
        // Link-local IPv6 needs a scope id no browser takes in a URL; loopback is not for other machines.
        if (address.isLoopback() || address.isLinkLocal()
            || (host == QHostAddress::AnyIPv4 && address.protocol() != QAbstractSocket::IPv4Protocol)) {
            continue;
        }
        urls.append(httpUrl(address.toString(), m_relay->port()));
    }
    return urls;
}

QString RelayController::summary() const
{
    if (!isRunning()) {
        return tr("Local relay stopped");
    }
    return listenAddress().isLoopback() ? tr("Local relay on port %1 (this computer)").arg(m_relay->port())
                                        : tr("Local relay on port %1 (LAN)").arg(m_relay->port());
}

Server::Relay *RelayController::relay() const
{
    return m_relay;
}

QHostAddress RelayController::listenAddress() const
{
    return m_relay->settings().host;
}

QHostAddress RelayController::bindAddress() const
{
    if (!m_settings.host.isNull()) {
        return m_settings.host;
    }
    return m_settings.lan ? QHostAddress(QHostAddress::Any) : QHostAddress(QHostAddress::LocalHost);
}

} // namespace Patchwork::Gui
