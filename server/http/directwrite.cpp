// SPDX-License-Identifier: MIT
#include "http/directwrite.h"

#include <QTcpSocket>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#endif

namespace Patchwork::Server
{

bool writeDirect(QTcpSocket *socket, const QByteArray &data)
{
#ifdef Q_OS_UNIX
    if (socket->bytesToWrite() == 0 && socket->state() == QAbstractSocket::ConnectedState) {
        const ssize_t sent =
            ::send(int(socket->socketDescriptor()), data.constData(), size_t(data.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent == data.size()) {
            return true;
        }
        if (sent > 0) {
            socket->write(data.constData() + sent, data.size() - sent);
            return false;
        }
    }
#endif
    // A QByteArray is queued shared, not copied.
    socket->write(data);
    return false;
}

void flushNow(QTcpSocket *socket)
{
    qint64 before = socket->bytesToWrite();
    while (before > 0 && socket->state() == QAbstractSocket::ConnectedState) {
        socket->flush();
        const qint64 after = socket->bytesToWrite();
        if (after >= before) {
            break;
        }
        before = after;
    }
}

} // namespace Patchwork::Server
