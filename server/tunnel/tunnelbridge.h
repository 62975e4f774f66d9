// SPDX-License-Identifier: MIT
#pragma once

#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QTcpSocket>

#include "protocol/websocketcodec.h"
#include "tunnel/tunneltarget.h"

class QHostInfo;

namespace Patchwork
{
class Clock;
class Metrics;
} // namespace Patchwork

namespace Patchwork::Server
{

// One open tunnel (PROTOCOL §11): an upgraded WebSocket connection from the client on one side, a
// TCP connection to the target on the other. Dials the target (closing the WebSocket with 1011 and
// the reason when that fails), then copies bytes both ways: client frames' payload to the target,
// target bytes to the client as binary frames.
//
// Dialling: a name is resolved once; when any of its addresses is local to the relay
// (isLocalAddress()) and Settings::localTargets does not allow it, the dial fails; otherwise the
// addresses just checked are tried in turn, so no second lookup can answer differently.
//
// Backpressure: the target is read only while the client's unsent bytes are below
// Settings::bufferLimit; the client only while the target's are, and while its own unsent bytes (the
// pongs its pings ask for, on top of the target's data) stay below bufferLimit + readBufferSize. An
// unread socket stops at Settings::readBufferSize, after which the kernel's TCP flow control holds the
// sender back. So a tunnel never holds more than about 2 × bufferLimit + 5 × readBufferSize bytes,
// however fast one side sends (data or pings) and slow the other reads.
//
// Closing: a close frame from the client, or the client's connection ending, closes the target
// connection once what was sent to it is flushed; the target closing sends the client what the
// target sent, then a close frame 1000. Timeouts are checked by checkTimeouts(), which the owner
// calls from its clock.
class TunnelBridge final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TunnelBridge)

public:
    struct Settings
    {
        qint64 dialTimeoutMs = 10'000;
        qint64 pingIntervalMs = 30'000; // 0 = never ping
        qint64 idleTimeoutMs = 3'600'000; // no payload either way for this long closes; 0 = never
        qint64 closeTimeoutMs = 10'000; // how long a closing tunnel waits for the client's close frame
        qint64 bufferLimit = 1024 * 1024; // unsent bytes towards one side before the other is not read
        qint64 readBufferSize = 256 * 1024; // per socket
        LocalTargets localTargets = LocalTargets::Literal;
    };

    enum class State
    {
        Dialing,
        Open,
        Closing,
        Finished,
    };

    // Takes ownership of `client`, whose 101 response is already written; `pending` are the client's
    // bytes the HTTP layer read past the request head.
    TunnelBridge(QTcpSocket *client,
                 const QByteArray &pending,
                 const TunnelTarget &target,
                 const Settings &settings,
                 Clock *clock,
                 Metrics *metrics,
                 QObject *parent = nullptr);
    ~TunnelBridge() override;

    // Dials the target.
    void start();
    // Closes the tunnel from the server's side (e.g. shutdown: 1001).
    void close(quint16 code, const QByteArray &reason);
    // Handles what became due at `nowMs` (dial timeout, ping, idle limit, close timeout) and returns
    // the next time this tunnel needs to be checked, or -1 when finished.
    qint64 checkTimeouts(qint64 nowMs);

    State state() const;
    // `host:port` (`[v6]:port`).
    QString targetName() const;
    // Bytes this tunnel holds in memory: unread input and unsent output of both connections.
    qint64 bufferedBytes() const;
    qint64 bytesUp() const; // payload from the client to the target
    qint64 bytesDown() const; // from the target to the client
    int pongsReceived() const;

    // Writes a few bytes to `socket`, straight to the kernel when nothing is queued in Qt.
    static void writeSmall(QTcpSocket *socket, const QByteArray &data);

Q_SIGNALS:
    // Both connections are closed; the owner may delete the bridge.
    void finished();
    // checkTimeouts() must run at `atMs` (a state change brought a deadline closer).
    void wakeRequested(qint64 atMs);

private:
    void onResolved(const QHostInfo &info);
    void dialNext();
    void onTargetConnected();
    void onTargetError(QAbstractSocket::SocketError error);
    void onTargetDisconnected();
    void onClientDisconnected();
    void pumpUp(bool ignoreLimit = false);
    void pumpDown(bool ignoreLimit = false);
    bool decodeUp(QByteArray &chunk);
    qint64 clientWriteLimit() const;
    void sendClose(quint16 code, QByteArrayView reason);
    void closeTarget(bool graceful);
    void dialFailed(const QString &why);
    void enterClosing();
    void finishIfDone();

    QTcpSocket *m_client;
    QTcpSocket *m_target;
    Clock *m_clock;
    Metrics *m_metrics;
    Settings m_settings;
    TunnelTarget m_destination;
    QList<QHostAddress> m_addresses; // checked, not tried yet
    QString m_dialError; // of the last address tried
    int m_lookupId = -1;
    WebSocketCodec m_codec;
    QByteArray m_pending;
    qint64 m_since = 0; // when the current state began
    qint64 m_lastData = 0;
    qint64 m_lastPing = 0;
    qint64 m_up = 0;
    qint64 m_down = 0;
    int m_pongs = 0;
    State m_state = State::Dialing;
    bool m_closeSent = false;
    bool m_closeReceived = false;
    bool m_inPumpUp = false;
    bool m_inPumpDown = false;
};

} // namespace Patchwork::Server
