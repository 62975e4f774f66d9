// SPDX-License-Identifier: MIT
#pragma once

#include <QObject>
#include <QSocketNotifier>
#include <QTimer>

namespace Patchwork::Server
{

// Accepts connections on a listening socket in place of QTcpServer's own loop. Qt 6.4's socket engine
// keeps the first error it records, so once a "nothing more to accept" (EAGAIN) was recorded, running
// out of descriptors (EMFILE/ENFILE) reads as a temporary error: QTcpServer neither pauses nor reports
// it, and the listening socket, still readable, keeps the event loop at 100 % CPU. This class stops
// watching the socket when descriptors run out and tries again after RETRY_MS or when retryNow() is
// called (a connection closed). See docs/DECISIONS.md "Hardening: resource limits".
class Acceptor final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Acceptor)

public:
    static constexpr int RETRY_MS = 250;

    // `listeningSocket` stays owned by the caller and must outlive this object.
    explicit Acceptor(qintptr listeningSocket, QObject *parent = nullptr);

    // The last attempt to accept failed (for lack of descriptors, usually).
    bool isPaused() const;
    // Tries again at once if paused (a descriptor was just freed).
    void retryNow();

Q_SIGNALS:
    // A new connection; the receiver owns the descriptor.
    void accepted(qintptr socketDescriptor);

private:
    void onReadable();
    void pause(int error);

    qintptr m_socket;
    QSocketNotifier m_notifier;
    QTimer m_retry;
    bool m_paused = false;
};

} // namespace Patchwork::Server
