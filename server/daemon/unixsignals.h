// SPDX-License-Identifier: MIT
#pragma once

#include <QObject>

class QSocketNotifier;

namespace Patchwork::Server
{

// Turns SIGTERM, SIGINT and SIGHUP into Qt signals (PROTOCOL §14), with the self-pipe pattern: the
// signal handler only write()s the signal number as one byte into a socketpair, and a
// QSocketNotifier on the other end emits the Qt signal from the event loop.
//
// While an instance exists, those three signals no longer end the process. At most one instance
// may exist at a time (the handler is process-wide); the destructor restores the previous handlers.
// On platforms without POSIX signals the object does nothing.
class UnixSignals final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UnixSignals)

public:
    explicit UnixSignals(QObject *parent = nullptr);
    ~UnixSignals() override;

    // False if the handlers could not be installed (the reason was logged as a warning).
    bool isActive() const;

Q_SIGNALS:
    // SIGTERM or SIGINT: shut down gracefully.
    void terminateRequested(int signo);
    // SIGHUP: reload the configuration.
    void reloadRequested();

private:
    void onReadable();

    int m_fds[2] = {-1, -1}; // [0] read by the notifier, [1] written by the handler
    QSocketNotifier *m_notifier = nullptr;
    bool m_active = false;
};

} // namespace Patchwork::Server
