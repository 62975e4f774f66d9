// SPDX-License-Identifier: MIT
#include "daemon/unixsignals.h"

#ifdef Q_OS_UNIX
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iterator>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <QSocketNotifier>

#include "http/serverlogging.h"

namespace Patchwork::Server
{

namespace
{

#ifdef Q_OS_UNIX

constexpr int SIGNALS[] = {SIGTERM, SIGINT, SIGHUP};
constexpr int SIGNAL_COUNT = int(std::size(SIGNALS));

// The write end of the pipe, read by the handler: a lock-free atomic is async-signal-safe.
std::atomic<int> s_writeFd{-1};
static_assert(std::atomic<int>::is_always_lock_free);

struct sigaction s_previous[SIGNAL_COUNT];

extern "C" void onSignal(int signo)
{
    const int savedErrno = errno;
    const int fd = s_writeFd.load(std::memory_order_relaxed);
    if (fd >= 0) {
        const auto byte = static_cast<unsigned char>(signo);
        // Non-blocking: if the pipe is full, the same signals are already pending anyway.
        [[maybe_unused]] const ssize_t written = ::write(fd, &byte, 1);
    }
    errno = savedErrno;
}

bool setNonBlockingCloseOnExec(int fd)
{
    const int flags = ::fcntl(fd, F_GETFL);
    const int fdFlags = ::fcntl(fd, F_GETFD);
    return flags >= 0 && fdFlags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0
           && ::fcntl(fd, F_SETFD, fdFlags | FD_CLOEXEC) == 0;
}

#endif

} // namespace

UnixSignals::UnixSignals(QObject *parent)
    : QObject(parent)
{
#ifdef Q_OS_UNIX
    if (s_writeFd.load() >= 0) {
        qCWarning(lcServer) << "Signal handlers are already installed by another UnixSignals object";
        return;
    }
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, m_fds) != 0) {
        qCWarning(lcServer) << "Cannot create the signal socket pair:" << std::strerror(errno);
        m_fds[0] = m_fds[1] = -1;
        return;
    }
    if (!setNonBlockingCloseOnExec(m_fds[0]) || !setNonBlockingCloseOnExec(m_fds[1])) {
        qCWarning(lcServer) << "Cannot configure the signal socket pair:" << std::strerror(errno);
        ::close(m_fds[0]);
        ::close(m_fds[1]);
        m_fds[0] = m_fds[1] = -1;
        return;
    }

    // Connect before anything can arrive.
    m_notifier = new QSocketNotifier(qintptr(m_fds[0]), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &UnixSignals::onReadable);
    s_writeFd.store(m_fds[1]);

    struct sigaction action;
    std::memset(&action, 0, sizeof(action));
    action.sa_handler = &onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (int i = 0; i < SIGNAL_COUNT; ++i) {
        if (::sigaction(SIGNALS[i], &action, &s_previous[i]) != 0) {
            qCWarning(lcServer) << "Cannot install the handler for signal" << SIGNALS[i] << ':' << std::strerror(errno);
            for (int j = 0; j < i; ++j) {
                ::sigaction(SIGNALS[j], &s_previous[j], nullptr);
            }
            s_writeFd.store(-1);
            return;
        }
    }
    m_active = true;
#endif
}

UnixSignals::~UnixSignals()
{
#ifdef Q_OS_UNIX
    if (m_active) {
        for (int i = 0; i < SIGNAL_COUNT; ++i) {
            ::sigaction(SIGNALS[i], &s_previous[i], nullptr);
        }
        s_writeFd.store(-1);
    }
    delete m_notifier;
    m_notifier = nullptr;
    for (int &fd : m_fds) {
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
    }
#endif
}

bool UnixSignals::isActive() const
{
    return m_active;
}

void UnixSignals::onReadable()
{
#ifdef Q_OS_UNIX
    unsigned char buffer[64];
    for (;;) {
        const ssize_t n = ::read(m_fds[0], buffer, sizeof(buffer));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; // EAGAIN: drained
        }
        for (ssize_t i = 0; i < n; ++i) {
            const int signo = buffer[i];
            if (signo == SIGHUP) {
                qCInfo(lcServer) << "SIGHUP received: reloading the configuration";
                Q_EMIT reloadRequested();
            } else {
                qCInfo(lcServer) << (signo == SIGINT ? "SIGINT" : "SIGTERM") << "received: shutting down";
                Q_EMIT terminateRequested(signo);
            }
        }
    }
#endif
}

} // namespace Patchwork::Server
