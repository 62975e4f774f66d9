// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QCoreApplication>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QProcessEnvironment>
#include <QSocketNotifier>
#include <QSslCertificate>
#include <QStringList>
#include <QTcpSocket>
#include <QUrl>

#include "protocol/websocketcodec.h"

namespace Patchwork
{
class Clock;
}

namespace Patchwork::Server
{

// The client of the tunnel (PROTOCOL §11): `patchworkd tunnel WS-URL [--token T]` copies standard
// input into the WebSocket and the WebSocket into standard output, so that ssh can use it as a
// ProxyCommand.
//
// Both directions have backpressure: standard input is read only while fewer than `bufferLimit`
// bytes wait to be sent, and the WebSocket only while fewer than `bufferLimit` bytes wait for
// standard output; the descriptors are switched to non-blocking mode (unless they are terminals)
// and restored on destruction. End of input closes the tunnel with 1000; so does a closed output.
class TunnelClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TunnelClient)

public:
    struct Options
    {
        QUrl url; // ws:// or wss:// (http:// and https:// are taken as such)
        QByteArray token; // sent as `Authorization: Bearer <token>`; empty = none
        QList<QSslCertificate> caCertificates; // wss://: trusted besides the system's CAs
        qint64 bufferLimit = 1024 * 1024;
        qint64 connectTimeoutMs = 30'000; // connection and handshake
        qint64 closeTimeoutMs = 10'000; // waiting for the server's close frame after ours
    };

    // Reads `inFd` and writes `outFd` (which may be the same socket); neither is closed.
    TunnelClient(const Options &options, int inFd, int outFd, Clock *clock, QObject *parent = nullptr);
    ~TunnelClient() override;

    void start();

    // Options::url with its scheme checked; an empty URL and *error set when unusable.
    static QUrl normalizeUrl(const QString &text, QString *error);

Q_SIGNALS:
    // exitCode 0: the tunnel was closed normally (1000 from either side, or end of input); otherwise 1
    // and `message` says why in one line.
    void finished(int exitCode, const QString &message);

private:
    enum class State
    {
        Connecting,
        Handshake,
        Open,
        Closing, // our close frame is sent, or the server's received
        Done,
    };

    void onConnected();
    void onReadyRead();
    void onDisconnected();
    void onSocketError();
    void onWoke();
    void readHandshake();
    void pumpDown(bool ignoreLimit = false);
    bool decodeDown(QByteArray &chunk);
    void readInput();
    void writeOutput();
    void sendFrame(WebSocketCodec::OpCode op, QByteArray payload);
    void sendClose(quint16 code, QByteArrayView reason);
    void fail(const QString &message);
    void finish(int exitCode, const QString &message);
    void maybeFinish();
    qint64 queuedOutput() const;

    Options m_options;
    Clock *m_clock;
    int m_inFd;
    int m_outFd;
    int m_inFlags = -1; // to restore
    int m_outFlags = -1;
    bool m_outIsSocket = false;
    QTcpSocket *m_socket = nullptr;
    QSocketNotifier *m_inNotifier = nullptr;
    QSocketNotifier *m_outNotifier = nullptr;
    WebSocketCodec m_codec;
    State m_state = State::Connecting;
    QByteArray m_key;
    QByteArray m_head; // the handshake response as it arrives
    QList<QByteArray> m_out; // for outFd
    qsizetype m_outOffset = 0; // written part of m_out.first()
    qint64 m_outBytes = 0;
    qint64 m_deadline = -1;
    quint16 m_closeCode = 0; // received from the server
    QString m_closeReason;
    bool m_closeSent = false;
    bool m_closeReceived = false;
    bool m_inputDone = false;
    bool m_inPumpDown = false;
    int m_exitCode = 0;
    QString m_message;
};

// `patchworkd tunnel WS-URL [--token T | --token-file FILE] [--ca-file FILE]`: runs a TunnelClient on standard input
// and output in a local event loop (a QCoreApplication must exist) and returns the exit code. The token may also come
// from a file or from PATCHWORK_TOKEN, so that it does not show in `ps`. Failures print one line on stderr.
int runTunnel(const QStringList &args, const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment());

} // namespace Patchwork::Server
