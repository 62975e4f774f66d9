// SPDX-License-Identifier: MIT
#include "http/acceptor.h"

#include <cerrno>

#include <sys/socket.h>

#include "http/serverlogging.h"

namespace Patchwork::Server
{

namespace
{

// Connections accepted per wake-up, so that a flood cannot starve the other sockets.
constexpr int MAX_ACCEPTS_PER_WAKE = 256;

} // namespace

Acceptor::Acceptor(qintptr listeningSocket, QObject *parent)
    : QObject(parent)
    , m_socket(listeningSocket)
    , m_notifier(listeningSocket, QSocketNotifier::Read)
{
    m_retry.setSingleShot(true);
    m_retry.setInterval(RETRY_MS);
    connect(&m_retry, &QTimer::timeout, this, &Acceptor::retryNow);
    connect(&m_notifier, &QSocketNotifier::activated, this, &Acceptor::onReadable);
}

bool Acceptor::isPaused() const
{
    return m_paused;
}

void Acceptor::retryNow()
{
    if (m_paused) {
        m_retry.stop();
        m_notifier.setEnabled(true); // level-triggered: fires at once if connections are pending
    }
}

void Acceptor::onReadable()
{
    for (int i = 0; i < MAX_ACCEPTS_PER_WAKE; ++i) {
        const int fd = ::accept4(int(m_socket), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        const int error = fd < 0 ? errno : 0;
        if (fd >= 0 || error == EAGAIN || error == EWOULDBLOCK) {
            if (m_paused) {
                qCInfo(lcServer) << "accepting connections again";
                m_paused = false;
            }
        }
        if (fd >= 0) {
            Q_EMIT accepted(fd);
            continue;
        }
        switch (error) {
        case EINTR:
        case ECONNABORTED:
        case EPROTO:
            continue; // that connection is gone; try the next
        case EAGAIN:
#if EAGAIN != EWOULDBLOCK
        case EWOULDBLOCK:
#endif
            return;
        default:
            pause(error);
            return;
        }
    }
}

void Acceptor::pause(int error)
{
    if (!m_paused) {
        qCWarning(lcServer).nospace() << "accepting a connection failed (" << qt_error_string(error)
                                      << "): accepting paused until a connection closes or for " << RETRY_MS << " ms";
    }
    m_paused = true;
    m_notifier.setEnabled(false);
    m_retry.start();
}

} // namespace Patchwork::Server
