// SPDX-License-Identifier: MIT
#include "tunnel/tunnelbridge.h"

#include <utility>

#include <QHostInfo>

#include "http/directwrite.h"
#include "http/serverlogging.h"
#include "util/clock.h"
#include "util/metrics.h"

using namespace Qt::StringLiterals;

namespace Patchwork::Server
{

namespace
{

using OpCode = WebSocketCodec::OpCode;
using Kind = WebSocketCodec::Event::Kind;

qint64 earliest(qint64 a, qint64 b)
{
    if (a < 0) {
        return b;
    }
    if (b < 0) {
        return a;
    }
    return qMin(a, b);
}

} // namespace

TunnelBridge::TunnelBridge(QTcpSocket *client,
                           const QByteArray &pending,
                           const TunnelTarget &target,
                           const Settings &settings,
                           Clock *clock,
                           Metrics *metrics,
                           QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_target(new QTcpSocket(this))
    , m_clock(clock)
    , m_metrics(metrics)
    , m_settings(settings)
    , m_destination(target)
    , m_codec(WebSocketCodec::Role::Server)
    , m_pending(pending)
{
    m_client->setParent(this);
    m_client->setReadBufferSize(m_settings.readBufferSize);
    m_target->setReadBufferSize(m_settings.readBufferSize);
}

TunnelBridge::~TunnelBridge() = default;

TunnelBridge::State TunnelBridge::state() const
{
    return m_state;
}

qint64 TunnelBridge::bufferedBytes() const
{
    return m_pending.size() + m_client->bytesAvailable() + m_client->bytesToWrite() + m_target->bytesAvailable()
           + m_target->bytesToWrite();
}

void TunnelBridge::writeSmall(QTcpSocket *socket, const QByteArray &data)
{
    // A small write (handshake answer, control frame) straight to the kernel when nothing is queued: an
    // idle tunnel then never allocates Qt's write buffer (a 32 KiB block that would stay allocated).
    writeDirect(socket, data);
}

QString TunnelBridge::targetName() const
{
    return QString::fromLatin1(m_destination.subject());
}

qint64 TunnelBridge::bytesUp() const
{
    return m_up;
}

qint64 TunnelBridge::bytesDown() const
{
    return m_down;
}

int TunnelBridge::pongsReceived() const
{
    return m_pongs;
}

void TunnelBridge::start()
{
    const qint64 now = m_clock->monotonicMs();
    m_since = now;
    m_lastData = now;
    m_lastPing = now;
    connect(m_client, &QTcpSocket::readyRead, this, [this]() { pumpUp(); });
    connect(m_client, &QTcpSocket::bytesWritten, this, [this]() {
        pumpDown();
        pumpUp(); // reading the client resumes when its pongs are sent
    });
    connect(m_client, &QTcpSocket::disconnected, this, &TunnelBridge::onClientDisconnected);
    connect(m_target, &QTcpSocket::connected, this, &TunnelBridge::onTargetConnected);
    connect(m_target, &QTcpSocket::errorOccurred, this, &TunnelBridge::onTargetError);
    connect(m_target, &QTcpSocket::readyRead, this, [this]() { pumpDown(); });
    connect(m_target, &QTcpSocket::bytesWritten, this, [this]() { pumpUp(); });
    connect(m_target, &QTcpSocket::disconnected, this, &TunnelBridge::onTargetDisconnected);
    if (m_client->state() != QAbstractSocket::ConnectedState) {
        m_state = State::Closing;
        onClientDisconnected();
        return;
    }
    qCDebug(lcTunnel).noquote() << "dialing" << targetName();
    Q_EMIT wakeRequested(now + m_settings.dialTimeoutMs);
    if (m_destination.address.isNull()) {
        m_lookupId = QHostInfo::lookupHost(
            QString::fromLatin1(m_destination.host), this, [this](const QHostInfo &info) { onResolved(info); });
        return;
    }
    QHostInfo literal;
    literal.setAddresses({m_destination.address});
    onResolved(literal);
}

void TunnelBridge::onResolved(const QHostInfo &info)
{
    m_lookupId = -1;
    if (m_state != State::Dialing) {
        return;
    }
    if (info.error() != QHostInfo::NoError || info.addresses().isEmpty()) {
        dialFailed(info.error() != QHostInfo::NoError ? info.errorString() : tr("no address"));
        return;
    }
    const QString refusal = m_destination.refusal(info.addresses(), m_settings.localTargets);
    if (!refusal.isEmpty()) {
        dialFailed(refusal);
        return;
    }
    m_addresses = info.addresses();
    dialNext();
}

void TunnelBridge::dialNext()
{
    if (m_state != State::Dialing || m_target->state() != QAbstractSocket::UnconnectedState) {
        return;
    }
    if (m_addresses.isEmpty()) {
        dialFailed(m_dialError);
        return;
    }
    m_target->connectToHost(m_addresses.takeFirst(), m_destination.port);
}

void TunnelBridge::onTargetConnected()
{
    if (m_state != State::Dialing) {
        m_target->abort();
        return;
    }
    m_target->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    m_state = State::Open;
    const qint64 now = m_clock->monotonicMs();
    m_since = now;
    m_lastData = now;
    m_lastPing = now;
    qCDebug(lcTunnel).noquote() << "connected to" << targetName();
    Q_EMIT wakeRequested(checkTimeouts(now));
    pumpUp();
    pumpDown();
}

void TunnelBridge::onTargetError(QAbstractSocket::SocketError error)
{
    Q_UNUSED(error);
    if (m_state == State::Dialing) {
        m_dialError = m_target->errorString();
        // Queued: the socket is still inside its own error handling.
        QMetaObject::invokeMethod(this, &TunnelBridge::dialNext, Qt::QueuedConnection);
    }
    // Other errors end in disconnected().
}

void TunnelBridge::dialFailed(const QString &why)
{
    qCInfo(lcTunnel).noquote() << "cannot connect to" << targetName() + u": "_s + why;
    enterClosing(); // first: abort() may report an error of its own
    m_target->abort();
    const QByteArray reason = "cannot connect to " + targetName().toUtf8() + ": " + why.toUtf8();
    sendClose(WebSocketCodec::CloseInternalError, reason);
    finishIfDone();
}

void TunnelBridge::onTargetDisconnected()
{
    if (m_state == State::Open) {
        // What the target sent before closing still goes to the client, then the close frame.
        pumpDown(true);
        sendClose(WebSocketCodec::CloseNormal, {});
        enterClosing();
    }
    finishIfDone();
}

void TunnelBridge::onClientDisconnected()
{
    if (m_state == State::Open) {
        // Frames the client sent before leaving still reach the target.
        pumpUp(true);
    }
    if (m_state != State::Finished && m_state != State::Closing) {
        enterClosing();
    }
    closeTarget(true);
    finishIfDone();
}

void TunnelBridge::close(quint16 code, const QByteArray &reason)
{
    if (m_state == State::Finished) {
        return;
    }
    sendClose(code, reason);
    enterClosing();
    closeTarget(true);
    finishIfDone();
}

void TunnelBridge::enterClosing()
{
    if (m_state == State::Closing || m_state == State::Finished) {
        return;
    }
    m_state = State::Closing;
    m_since = m_clock->monotonicMs();
    if (m_lookupId >= 0) {
        QHostInfo::abortHostLookup(m_lookupId);
        m_lookupId = -1;
    }
    Q_EMIT wakeRequested(m_since + m_settings.closeTimeoutMs);
}

void TunnelBridge::sendClose(quint16 code, QByteArrayView reason)
{
    if (m_closeSent || m_client->state() != QAbstractSocket::ConnectedState) {
        return;
    }
    m_closeSent = true;
    writeSmall(m_client, WebSocketCodec::frame(OpCode::Close, WebSocketCodec::closePayload(code, reason)));
    if (m_closeReceived) {
        m_client->disconnectFromHost();
    } else {
        flushNow(m_client);
    }
}

void TunnelBridge::closeTarget(bool graceful)
{
    switch (m_target->state()) {
    case QAbstractSocket::UnconnectedState:
        return;
    case QAbstractSocket::ConnectedState:
        if (graceful) {
            m_target->disconnectFromHost(); // after what is queued for it
        } else {
            m_target->abort();
        }
        return;
    case QAbstractSocket::ClosingState:
        if (!graceful) {
            m_target->abort(); // else it is already flushing what is queued, then closes
        }
        return;
    default: // still looking up or connecting
        m_target->abort();
        return;
    }
}

void TunnelBridge::finishIfDone()
{
    if (m_state == State::Finished || m_client->state() != QAbstractSocket::UnconnectedState
        || m_target->state() != QAbstractSocket::UnconnectedState) {
        return;
    }
    m_state = State::Finished;
    qCInfo(lcTunnel).noquote() << "tunnel to" << targetName() << "closed; bytes up" << m_up << "down" << m_down;
    Q_EMIT finished();
}

// --- data ------------------------------------------------------------------------------------------

void TunnelBridge::pumpUp(bool ignoreLimit)
{
    if (m_inPumpUp || m_state == State::Dialing || m_state == State::Finished) {
        return; // while dialing the client's bytes wait in its socket
    }
    m_inPumpUp = true;
    for (;;) {
        if (m_target->state() == QAbstractSocket::ConnectedState) {
            flushNow(m_target);
        }
        if (m_state == State::Open && !ignoreLimit && m_target->bytesToWrite() >= m_settings.bufferLimit) {
            // Resumed by the target's bytesWritten(): Qt's write notification stays on while bytes wait.
            break;
        }
        if (!ignoreLimit && m_client->bytesToWrite() >= clientWriteLimit()) {
            // Pongs the client does not read (a ping flood): resumed by the client's bytesWritten().
            break;
        }
        QByteArray chunk;
        if (!m_pending.isEmpty()) {
            chunk = std::exchange(m_pending, QByteArray());
        } else {
            const qint64 available = m_client->bytesAvailable();
            if (available <= 0) {
                break;
            }
            // The whole buffer at once: Qt then hands over its buffer without copying.
            chunk = m_client->read(available);
        }
        if (!decodeUp(chunk)) {
            break;
        }
    }
    m_inPumpUp = false;
}

qint64 TunnelBridge::clientWriteLimit() const
{
    // Above what the target's data alone can queue (pumpDown() stops at bufferLimit, after one read
    // and its frame header), so a client that is busy sending but reads its data is never held back.
    return m_settings.bufferLimit + m_settings.readBufferSize + 16;
}

bool TunnelBridge::decodeUp(QByteArray &chunk)
{
    char *data = chunk.data();
    const qsizetype size = chunk.size();
    qsizetype pos = 0;
    while (pos < size) {
        const WebSocketCodec::Event e = m_codec.decode(data + pos, size - pos);
        pos += e.consumed;
        switch (e.kind) {
        case Kind::NeedMore:
            break;
        case Kind::Data:
            if (m_state == State::Open && !e.payload.isEmpty()) {
                m_target->write(e.payload.data(), e.payload.size());
                m_up += e.payload.size();
                m_lastData = m_clock->monotonicMs();
                if (m_metrics) {
                    m_metrics->huproxyBytes(MetricDirection::Up, e.payload.size());
                }
            }
            break;
        case Kind::Ping:
            if (!m_closeSent) {
                writeSmall(m_client, WebSocketCodec::frame(OpCode::Pong, e.payload));
            }
            break;
        case Kind::Pong:
            ++m_pongs;
            break;
        case Kind::Close:
            m_closeReceived = true;
            if (m_closeSent) {
                m_client->disconnectFromHost();
            } else {
                sendClose(WebSocketCodec::CloseNormal, {});
            }
            enterClosing();
            closeTarget(true);
            finishIfDone();
            return false;
        case Kind::Error:
            if (!m_closeSent) {
                qCInfo(lcTunnel).noquote() << "client broke the protocol:" << QString::fromUtf8(e.payload);
                sendClose(e.closeCode, e.payload);
                m_client->disconnectFromHost();
                enterClosing();
                closeTarget(true);
                finishIfDone();
            }
            return false;
        }
    }
    return true;
}

void TunnelBridge::pumpDown(bool ignoreLimit)
{
    if (m_inPumpDown || m_state != State::Open) {
        return;
    }
    m_inPumpDown = true;
    for (;;) {
        flushNow(m_client);
        if (!ignoreLimit && m_client->bytesToWrite() >= m_settings.bufferLimit) {
            // Resumed by the client's bytesWritten(): Qt's write notification stays on while bytes wait.
            break;
        }
        const qint64 available = m_target->bytesAvailable();
        if (available <= 0) {
            break;
        }
        const QByteArray chunk = m_target->read(available);
        m_client->write(WebSocketCodec::frameHeader(OpCode::Binary, chunk.size()));
        m_client->write(chunk);
        m_down += chunk.size();
        m_lastData = m_clock->monotonicMs();
        if (m_metrics) {
            m_metrics->huproxyBytes(MetricDirection::Down, chunk.size());
        }
    }
    m_inPumpDown = false;
}

// --- time ------------------------------------------------------------------------------------------

qint64 TunnelBridge::checkTimeouts(qint64 now)
{
    switch (m_state) {
    case State::Dialing:
        if (now - m_since >= m_settings.dialTimeoutMs) {
            dialFailed(tr("connection timed out"));
            return checkTimeouts(now);
        }
        return m_since + m_settings.dialTimeoutMs;
    case State::Open: {
        if (m_settings.idleTimeoutMs > 0 && now - m_lastData >= m_settings.idleTimeoutMs) {
            qCInfo(lcTunnel).noquote() << "tunnel to" << targetName() << "idle; closing";
            close(WebSocketCodec::CloseNormal, "idle timeout");
            return checkTimeouts(now);
        }
        if (m_settings.pingIntervalMs > 0 && now - m_lastPing >= m_settings.pingIntervalMs) {
            m_lastPing = now;
            writeSmall(m_client, WebSocketCodec::frame(OpCode::Ping, {}));
        }
        qint64 next = m_settings.pingIntervalMs > 0 ? m_lastPing + m_settings.pingIntervalMs : -1;
        if (m_settings.idleTimeoutMs > 0) {
            next = earliest(next, m_lastData + m_settings.idleTimeoutMs);
        }
        return next;
    }
    case State::Closing:
        if (now - m_since >= m_settings.closeTimeoutMs) {
            m_client->abort();
            m_target->abort();
            finishIfDone();
            return -1;
        }
        return m_since + m_settings.closeTimeoutMs;
    case State::Finished:
        return -1;
    }
    return -1;
}

} // namespace Patchwork::Server
