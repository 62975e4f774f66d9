// SPDX-License-Identifier: MIT
#include "daemon/tunnelclient.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <QEventLoop>
#include <QFile>
#include <QRandomGenerator>
#if QT_CONFIG(ssl)
#include <QSslConfiguration>
#include <QSslSocket>
#endif

#include "http/directwrite.h"
#include "http/serverlogging.h"
#include "util/clock.h"

using namespace Qt::StringLiterals;

namespace Patchwork::Server
{

namespace
{

using OpCode = WebSocketCodec::OpCode;
using Kind = WebSocketCodec::Event::Kind;

constexpr qint64 INPUT_CHUNK = 64 * 1024;
constexpr int INPUT_READS_PER_WAKE = 16;
constexpr qint64 SOCKET_READ_BUFFER = 256 * 1024;
constexpr qsizetype MAX_RESPONSE_HEAD = 16 * 1024;
constexpr qsizetype MAX_ERROR_BODY = 4096;

// Switches `fd` to non-blocking mode; returns the flags to restore, or -1 when it was left alone.
int makeNonBlocking(int fd)
{
    if (::isatty(fd)) {
        return -1;
    }
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || (flags & O_NONBLOCK)) {
        return -1;
    }
    return ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 ? flags : -1;
}

WebSocketCodec::MaskKey randomMask()
{
    const quint32 value = QRandomGenerator::global()->generate();
    WebSocketCodec::MaskKey key;
    std::memcpy(key.data(), &value, 4);
    return key;
}

QByteArray headerValue(const QList<QByteArray> &lines, QByteArrayView name)
{
    for (const QByteArray &line : lines) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && QByteArrayView(line).first(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0) {
            return line.mid(colon + 1).trimmed();
        }
    }
    return {};
}

QString errnoText()
{
    return QString::fromLocal8Bit(std::strerror(errno));
}

} // namespace

TunnelClient::TunnelClient(const Options &options, int inFd, int outFd, Clock *clock, QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_clock(clock)
    , m_inFd(inFd)
    , m_outFd(outFd)
    , m_codec(WebSocketCodec::Role::Client)
{
    struct stat st;
    m_outIsSocket = ::fstat(outFd, &st) == 0 && S_ISSOCK(st.st_mode);
}

TunnelClient::~TunnelClient()
{
    if (m_inFlags >= 0) {
        ::fcntl(m_inFd, F_SETFL, m_inFlags);
    }
    if (m_outFlags >= 0) {
        ::fcntl(m_outFd, F_SETFL, m_outFlags);
    }
}

QUrl TunnelClient::normalizeUrl(const QString &text, QString *error)
{
    QUrl url(text, QUrl::StrictMode);
    const QString scheme = url.scheme().toLower();
    if (scheme == u"http") {
        url.setScheme(u"ws"_s);
    } else if (scheme == u"https") {
        url.setScheme(u"wss"_s);
    } else if (scheme == u"ws" || scheme == u"wss") {
        url.setScheme(scheme);
    } else {
        *error = tr("'%1' is not a ws:// or wss:// URL").arg(text);
        return {};
    }
    if (!url.isValid() || url.host().isEmpty()) {
        *error = tr("'%1' is not a valid URL").arg(text);
        return {};
    }
    return url;
}

void TunnelClient::start()
{
    const QUrl &url = m_options.url;
    const bool secure = url.scheme() == u"wss";
    connect(m_clock, &Clock::woke, this, &TunnelClient::onWoke);
    if (m_options.token.contains('\r') || m_options.token.contains('\n') || m_options.token.contains('\0')) {
        fail(tr("the token contains a line break"));
        return;
    }
#if QT_CONFIG(ssl)
    if (secure) {
        if (!QSslSocket::supportsSsl()) {
            fail(tr("wss:// needs TLS, which is not available"));
            return;
        }
        auto *ssl = new QSslSocket(this);
        if (!m_options.caCertificates.isEmpty()) {
            QSslConfiguration tls = ssl->sslConfiguration();
            tls.setCaCertificates(QSslConfiguration::systemCaCertificates() + m_options.caCertificates);
            ssl->setSslConfiguration(tls);
        }
        connect(ssl, &QSslSocket::encrypted, this, &TunnelClient::onConnected);
        m_socket = ssl;
    }
#else
    if (secure) {
        fail(tr("wss:// needs TLS, which this build lacks"));
        return;
    }
#endif
    if (!m_socket) {
        m_socket = new QTcpSocket(this);
        connect(m_socket, &QTcpSocket::connected, this, &TunnelClient::onConnected);
    }
    m_socket->setReadBufferSize(SOCKET_READ_BUFFER);
    connect(m_socket, &QTcpSocket::readyRead, this, &TunnelClient::onReadyRead);
    connect(m_socket, &QTcpSocket::bytesWritten, this, &TunnelClient::readInput);
    connect(m_socket, &QTcpSocket::disconnected, this, &TunnelClient::onDisconnected);
    connect(m_socket, &QTcpSocket::errorOccurred, this, &TunnelClient::onSocketError);

    m_deadline = m_clock->monotonicMs() + m_options.connectTimeoutMs;
    m_clock->wakeAt(m_deadline);
    const quint16 port = quint16(url.port(secure ? 443 : 80));
#if QT_CONFIG(ssl)
    if (secure) {
        static_cast<QSslSocket *>(m_socket)->connectToHostEncrypted(url.host(), port);
        return;
    }
#endif
    m_socket->connectToHost(url.host(), port);
}

void TunnelClient::onConnected()
{
    if (m_state != State::Connecting) {
        return;
    }
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    m_state = State::Handshake;
    QByteArray nonce(16, Qt::Uninitialized);
    for (qsizetype i = 0; i < nonce.size(); i += 4) {
        const quint32 v = QRandomGenerator::system()->generate();
        std::memcpy(nonce.data() + i, &v, 4);
    }
    m_key = nonce.toBase64();

    const QUrl &url = m_options.url;
    QByteArray target = url.path(QUrl::FullyEncoded).toUtf8();
    if (target.isEmpty()) {
        target = "/";
    }
    if (url.hasQuery()) {
        target += '?' + url.query(QUrl::FullyEncoded).toUtf8();
    }
    QByteArray host = url.host(QUrl::FullyEncoded).toUtf8();
    if (host.contains(':')) {
        host = '[' + host + ']';
    }
    if (url.port() != -1) {
        host += ':' + QByteArray::number(url.port());
    }
    QByteArray request = "GET " + target + " HTTP/1.1\r\nHost: " + host
                         + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + m_key
                         + "\r\nSec-WebSocket-Version: 13\r\nUser-Agent: patchworkd-tunnel\r\n";
    if (!m_options.token.isEmpty()) {
        request += "Authorization: Bearer " + m_options.token + "\r\n";
    }
    request += "\r\n";
    m_socket->write(request);
    flushNow(m_socket);
}

void TunnelClient::onReadyRead()
{
    if (m_state == State::Handshake) {
        readHandshake();
    } else {
        pumpDown();
    }
}

void TunnelClient::readHandshake()
{
    m_head += m_socket->readAll();
    const qsizetype end = m_head.indexOf("\r\n\r\n");
    if (end < 0) {
        if (m_head.size() > MAX_RESPONSE_HEAD) {
            fail(tr("the server's answer is not an HTTP response"));
        }
        return;
    }
    const QList<QByteArray> lines = m_head.first(end).split('\n');
    const QList<QByteArray> statusLine = lines.first().trimmed().split(' ');
    bool ok = false;
    const int status =
        statusLine.size() >= 2 && statusLine.first().startsWith("HTTP/1.") ? statusLine.at(1).toInt(&ok) : 0;
    if (!ok) {
        fail(tr("the server's answer is not an HTTP response"));
        return;
    }
    QByteArray rest = m_head.mid(end + 4);
    if (status != 101) {
        // The relay explains a refusal in one line of text: wait for it, then report it.
        const qsizetype length = qMin(headerValue(lines, "Content-Length").toLongLong(), qint64(MAX_ERROR_BODY));
        if (rest.size() < length && m_socket->state() == QAbstractSocket::ConnectedState) {
            return;
        }
        QByteArray reason = rest.left(length).trimmed();
        const qsizetype newline = reason.indexOf('\n');
        if (newline >= 0) {
            reason.truncate(newline);
        }
        if (reason.isEmpty()) {
            reason = statusLine.mid(2).join(' ').trimmed();
        }
        fail(tr("the server refused the tunnel: %1 %2").arg(status).arg(QString::fromUtf8(reason)));
        return;
    }
    if (headerValue(lines, "Upgrade").compare("websocket", Qt::CaseInsensitive) != 0
        || headerValue(lines, "Sec-WebSocket-Accept") != WebSocketCodec::acceptKey(m_key)) {
        fail(tr("the server did not complete the WebSocket handshake"));
        return;
    }
    m_head = QByteArray();
    m_state = State::Open;
    m_deadline = -1;

    m_inFlags = makeNonBlocking(m_inFd);
    m_outFlags = makeNonBlocking(m_outFd);
    m_inNotifier = new QSocketNotifier(qintptr(m_inFd), QSocketNotifier::Read, this);
    connect(m_inNotifier, &QSocketNotifier::activated, this, &TunnelClient::readInput);
    m_outNotifier = new QSocketNotifier(qintptr(m_outFd), QSocketNotifier::Write, this);
    m_outNotifier->setEnabled(false);
    connect(m_outNotifier, &QSocketNotifier::activated, this, [this]() {
        writeOutput();
        pumpDown();
    });
    if (!rest.isEmpty() && !decodeDown(rest)) {
        writeOutput();
        maybeFinish();
        return;
    }
    pumpDown();
    readInput();
}

// --- server -> output ------------------------------------------------------------------------------

qint64 TunnelClient::queuedOutput() const
{
    return m_outBytes;
}

void TunnelClient::pumpDown(bool ignoreLimit)
{
    if (m_inPumpDown || (m_state != State::Open && m_state != State::Closing)) {
        return;
    }
    m_inPumpDown = true;
    for (;;) {
        writeOutput();
        // Over the limit only after a write would have blocked: the output notifier resumes us.
        if (!ignoreLimit && queuedOutput() >= m_options.bufferLimit) {
            break;
        }
        const qint64 available = m_socket->bytesAvailable();
        if (available <= 0) {
            break; // reading the whole buffer re-armed the socket's read notification
        }
        QByteArray chunk = m_socket->read(available);
        if (!decodeDown(chunk)) {
            writeOutput();
            break;
        }
    }
    m_inPumpDown = false;
    maybeFinish();
}

bool TunnelClient::decodeDown(QByteArray &chunk)
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
            if (!m_closeReceived && !e.payload.isEmpty()) {
                m_out.append(e.payload.toByteArray());
                m_outBytes += e.payload.size();
            }
            break;
        case Kind::Ping:
            if (!m_closeSent) {
                sendFrame(OpCode::Pong, e.payload.toByteArray());
                flushNow(m_socket);
            }
            break;
        case Kind::Pong:
            break;
        case Kind::Close:
            m_closeReceived = true;
            m_closeCode = e.closeCode;
            m_closeReason = QString::fromUtf8(e.payload);
            sendClose(WebSocketCodec::CloseNormal, {});
            m_state = State::Closing;
            return false; // the server closes the connection next
        case Kind::Error:
            sendClose(e.closeCode, e.payload);
            fail(tr("the server broke the WebSocket protocol: %1").arg(QString::fromUtf8(e.payload)));
            return false;
        }
    }
    return true;
}

void TunnelClient::writeOutput()
{
    while (!m_out.isEmpty()) {
        const QByteArray &block = m_out.first();
        const char *p = block.constData() + m_outOffset;
        const size_t n = size_t(block.size() - m_outOffset);
        const ssize_t written = m_outIsSocket ? ::send(m_outFd, p, n, MSG_NOSIGNAL) : ::write(m_outFd, p, n);
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (m_outNotifier) {
                    m_outNotifier->setEnabled(true);
                }
                return;
            }
            // The reader went away (ssh exited): nobody wants the rest.
            qCDebug(lcTunnel) << "output closed:" << errnoText();
            m_out.clear();
            m_outOffset = 0;
            m_outBytes = 0;
            if (m_state == State::Open) {
                m_inputDone = true;
                sendClose(WebSocketCodec::CloseNormal, {});
                m_state = State::Closing;
            }
            break;
        }
        m_outBytes -= written;
        m_outOffset += written;
        if (m_outOffset == block.size()) {
            m_out.removeFirst();
            m_outOffset = 0;
        }
    }
    if (m_outNotifier) {
        m_outNotifier->setEnabled(false);
    }
    maybeFinish();
}

// --- input -> server -------------------------------------------------------------------------------

void TunnelClient::readInput()
{
    if (m_state != State::Open || m_inputDone || !m_inNotifier) {
        return;
    }
    for (int i = 0; i < INPUT_READS_PER_WAKE; ++i) {
        if (m_socket->bytesToWrite() >= m_options.bufferLimit) {
            flushNow(m_socket);
            if (m_socket->bytesToWrite() >= m_options.bufferLimit) {
                m_inNotifier->setEnabled(false); // resumed by the socket's bytesWritten()
                return;
            }
        }
        m_inNotifier->setEnabled(true);
        QByteArray buffer(INPUT_CHUNK, Qt::Uninitialized);
        const ssize_t n = ::read(m_inFd, buffer.data(), size_t(buffer.size()));
        if (n > 0) {
            buffer.truncate(n);
            sendFrame(OpCode::Binary, std::move(buffer));
            if (n < INPUT_CHUNK) {
                break;
            }
            continue;
        }
        if (n == 0) {
            m_inputDone = true;
            m_inNotifier->setEnabled(false);
            sendClose(WebSocketCodec::CloseNormal, {});
            m_state = State::Closing;
            break;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            const QString why = errnoText();
            sendClose(WebSocketCodec::CloseNormal, {});
            fail(tr("cannot read standard input: %1").arg(why));
            return;
        }
        break;
    }
    flushNow(m_socket);
}

void TunnelClient::sendFrame(OpCode op, QByteArray payload)
{
    const WebSocketCodec::MaskKey mask = randomMask();
    WebSocketCodec::applyMask(payload.data(), payload.size(), mask);
    m_socket->write(WebSocketCodec::frameHeader(op, payload.size(), mask));
    m_socket->write(payload);
}

void TunnelClient::sendClose(quint16 code, QByteArrayView reason)
{
    if (m_closeSent || !m_socket || m_socket->state() != QAbstractSocket::ConnectedState) {
        return;
    }
    m_closeSent = true;
    sendFrame(OpCode::Close, WebSocketCodec::closePayload(code, reason));
    flushNow(m_socket);
    m_deadline = m_clock->monotonicMs() + m_options.closeTimeoutMs;
    m_clock->wakeAt(m_deadline);
}

// --- ending ----------------------------------------------------------------------------------------

void TunnelClient::onSocketError()
{
    if (m_state == State::Connecting) {
        fail(tr("cannot connect to %1: %2").arg(m_options.url.authority(), m_socket->errorString()));
    } else if (m_state == State::Handshake && m_socket->error() != QAbstractSocket::RemoteHostClosedError) {
        fail(tr("connection to %1 failed: %2").arg(m_options.url.authority(), m_socket->errorString()));
    }
    // Otherwise disconnected() follows.
}

void TunnelClient::onDisconnected()
{
    switch (m_state) {
    case State::Connecting:
    case State::Handshake:
        if (!m_head.isEmpty() && m_socket->isOpen()) {
            readHandshake(); // a refusal whose body ended with the connection
        }
        if (m_state == State::Handshake) {
            fail(tr("the server closed the connection during the handshake"));
        }
        return;
    case State::Open:
    case State::Closing:
        // Frames still buffered (a close frame among them) are read first.
        pumpDown(true);
        if (m_closeReceived) {
            if (m_closeCode == WebSocketCodec::CloseNormal || m_closeCode == WebSocketCodec::CloseNoStatus) {
                finish(0, {});
            } else {
                finish(1, tr("the server closed the tunnel: %1 %2").arg(m_closeCode).arg(m_closeReason).trimmed());
            }
        } else if (m_closeSent && m_inputDone) {
            finish(0, {});
        } else {
            finish(1, tr("the connection to the server was lost"));
        }
        return;
    case State::Done:
        return;
    }
}

void TunnelClient::onWoke()
{
    if (m_deadline < 0 || m_state == State::Done) {
        return;
    }
    const qint64 now = m_clock->monotonicMs();
    if (now < m_deadline) {
        m_clock->wakeAt(m_deadline);
        return;
    }
    m_deadline = -1;
    if (m_state == State::Connecting || m_state == State::Handshake) {
        fail(tr("timed out connecting to %1").arg(m_options.url.authority()));
    } else if (m_state == State::Closing) {
        m_socket->abort(); // the server did not finish the close handshake in time
        if (m_state != State::Done) {
            onDisconnected();
        }
    }
}

void TunnelClient::fail(const QString &message)
{
    if (m_state == State::Done) {
        return;
    }
    finish(1, message);
    if (m_socket) {
        m_socket->abort();
    }
}

void TunnelClient::finish(int exitCode, const QString &message)
{
    if (m_state == State::Done) {
        return;
    }
    m_state = State::Done;
    m_exitCode = exitCode;
    m_message = message;
    if (m_inNotifier) {
        m_inNotifier->setEnabled(false);
    }
    if (m_socket && m_socket->state() != QAbstractSocket::UnconnectedState) {
        m_socket->disconnectFromHost();
    }
    writeOutput(); // then maybeFinish()
}

void TunnelClient::maybeFinish()
{
    // What the server sent is written out before the process ends.
    if (m_state != State::Done || !m_out.isEmpty()) {
        return;
    }
    m_out.clear();
    const int code = std::exchange(m_exitCode, -1);
    if (code >= 0) {
        Q_EMIT finished(code, m_message);
    }
}

// --- command ---------------------------------------------------------------------------------------

int runTunnel(const QStringList &args, const QProcessEnvironment &env)
{
    const auto usage = "usage: patchworkd tunnel WS-URL [--token T | --token-file FILE] [--ca-file FILE]\n"
                       "Copies standard input and output through the WebSocket tunnel at WS-URL\n"
                       "(ws[s]://HOST[:PORT]/huproxy/USER/TARGET-HOST/TARGET-PORT), e.g. as an ssh ProxyCommand.\n"
                       "Without --token or --token-file the token comes from PATCHWORK_TOKEN.\n"
                       "--ca-file: PEM certificates to trust for wss:// besides the system's CAs.\n"
                       "Exit status: 0 when the tunnel closed normally, 1 with the reason on stderr otherwise.\n";
    QString urlText;
    QByteArray token;
    QList<QSslCertificate> caCertificates;
    for (qsizetype i = 0; i < args.size(); ++i) {
        const QString &arg = args.at(i);
        if (arg == u"-h" || arg == u"--help") {
            std::fputs(usage, stdout);
            return 0;
        }
        if (arg == u"--token") {
            if (i + 1 >= args.size()) {
                std::fputs("patchworkd tunnel: --token needs a value\n", stderr);
                return 1;
            }
            token = args.at(++i).toUtf8();
        } else if (arg.startsWith(u"--token=")) {
            token = arg.mid(8).toUtf8();
        } else if (arg == u"--token-file" || arg.startsWith(u"--token-file=")) {
            QString fileName;
            if (arg.size() > 12) {
                fileName = arg.mid(13);
            } else if (i + 1 < args.size()) {
                fileName = args.at(++i);
            } else {
                std::fputs("patchworkd tunnel: --token-file needs a value\n", stderr);
                return 1;
            }
            QFile file(fileName);
            if (!file.open(QIODevice::ReadOnly)) {
                std::fprintf(stderr,
                             "patchworkd tunnel: cannot read the token file %s: %s\n",
                             qPrintable(fileName),
                             qPrintable(file.errorString()));
                return 1;
            }
            token = file.read(64 * 1024).trimmed();
        } else if (arg == u"--ca-file" || arg.startsWith(u"--ca-file=")) {
            QString fileName;
            if (arg.size() > 9) {
                fileName = arg.mid(10);
            } else if (i + 1 < args.size()) {
                fileName = args.at(++i);
            } else {
                std::fputs("patchworkd tunnel: --ca-file needs a value\n", stderr);
                return 1;
            }
            const QList<QSslCertificate> certificates = QSslCertificate::fromPath(fileName, QSsl::Pem);
            if (certificates.isEmpty()) {
                std::fprintf(stderr, "patchworkd tunnel: no PEM certificate in %s\n", qPrintable(fileName));
                return 1;
            }
            caCertificates += certificates;
        } else if (arg.startsWith(u'-') && arg.size() > 1) {
            std::fprintf(stderr, "patchworkd tunnel: unknown option '%s'\n", qPrintable(arg));
            return 1;
        } else if (urlText.isEmpty()) {
            urlText = arg;
        } else {
            std::fputs("patchworkd tunnel: only one WS-URL may be given\n", stderr);
            return 1;
        }
    }
    if (urlText.isEmpty()) {
        std::fputs(usage, stderr);
        return 1;
    }
    if (token.isEmpty()) {
        token = env.value(u"PATCHWORK_TOKEN"_s).toUtf8();
    }
    QString error;
    TunnelClient::Options options;
    options.url = TunnelClient::normalizeUrl(urlText, &error);
    options.token = token;
    options.caCertificates = caCertificates;
    if (options.url.isEmpty()) {
        std::fprintf(stderr, "patchworkd tunnel: %s\n", qPrintable(error));
        return 1;
    }
    std::signal(SIGPIPE, SIG_IGN); // a closed standard output is an ordinary end, not a crash

    SystemClock clock;
    TunnelClient client(options, STDIN_FILENO, STDOUT_FILENO, &clock);
    int exitCode = 1;
    QString message;
    QEventLoop loop;
    QObject::connect(&client, &TunnelClient::finished, &loop, [&](int code, const QString &why) {
        exitCode = code;
        message = why;
        loop.quit();
    });
    QMetaObject::invokeMethod(&client, &TunnelClient::start, Qt::QueuedConnection);
    loop.exec();
    if (exitCode != 0) {
        std::fprintf(stderr, "patchworkd tunnel: %s\n", qPrintable(message));
    }
    return exitCode;
}

} // namespace Patchwork::Server
