// SPDX-License-Identifier: MIT
#pragma once

#include <QHostAddress>
#include <QObject>
#include <QStringList>
#include <QUrl>

#include "relay/relay.h"

class QSettings;

namespace Patchwork
{
class Clock;
}

namespace Patchwork::Gui
{

// The local relay: the same Server::Relay as patchworkd, in-process, with the tray's settings (localhost or
// all interfaces, port, users directory) kept in QSettings so start/stop never loses them.
class RelayController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RelayController)

public:
    static constexpr quint16 DefaultPort = 8787;

    struct Settings
    {
        bool lan = false; // all interfaces instead of localhost only
        quint16 port = DefaultPort;
        QString usersDir; // empty = <data dir>/users
        // An explicit address (--relay-host); overrides `lan` when set.
        QHostAddress host;

        friend bool operator==(const Settings &, const Settings &) = default;
    };

    // `dataDir` holds secret_key and the default users directory. `clock` (not owned) outlives this.
    RelayController(Clock *clock, const QString &dataDir, QObject *parent = nullptr);

    // The saved settings (group `relay`: lan, port, usersDir; never the --relay-host override).
    static Settings readSettings(QSettings &settings);
    static void writeSettings(QSettings &settings, const Settings &relaySettings);

    Settings settings() const;
    // Takes effect at the next start(); settingsChanged() when they differ.
    void setSettings(const Settings &settings);
    void loadSettings(QSettings &settings);
    void saveSettings(QSettings &settings) const;
    // The users directory in effect.
    QString usersDir() const;

    // The token editor saved `path`: when it is `<usersDir>/<user>/config.yaml` and the relay runs, the
    // relay reads its configurations again at once (not waiting for its file watch). True when it did.
    bool reloadUserConfig(const QString &path);

    // Starts with the current settings; false (errorString() says why) when it could not listen.
    bool start();
    void stop();
    bool isRunning() const;
    QString errorString() const;

    // http://127.0.0.1:<port>/ (or the explicit host) while running, else empty.
    QUrl localUrl() const;
    // The URLs other machines use: one per non-loopback interface address while listening on the LAN.
    QList<QUrl> lanUrls() const;
    // One line for the tray's status: "Local relay on :8787 (LAN)", "Local relay stopped".
    QString summary() const;

    Server::Relay *relay() const;

Q_SIGNALS:
    // setSettings() changed the settings (the relay panel and the Settings dialog both edit them).
    void settingsChanged();
    // Running state, port or URLs changed.
    void stateChanged();
    // A start failed or the relay reported an error (a clear sentence for the user).
    void errorOccurred(const QString &message);
    // The live counts changed.
    void countsChanged();

private:
    // Where start() will listen (the settings).
    QHostAddress bindAddress() const;
    // Where the running relay listens: settings changed since its start wait for the next one.
    QHostAddress listenAddress() const;

    Server::Relay *m_relay;
    QString m_dataDir;
    Settings m_settings;
    QString m_error;
};

} // namespace Patchwork::Gui
