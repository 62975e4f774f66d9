// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>

class QTcpSocket;

namespace Patchwork::Server
{

// Writes `data` to `socket`. With nothing queued in Qt's write buffer the bytes go straight to the
// kernel in one non-blocking send(): no copy into Qt's buffer (which would keep a 16 KiB block allocated
// for good) and no wait for the write notifier, so a fan-out costs one system call per receiver. What
// the kernel does not take, and everything while Qt still has bytes queued (or on an error), goes
// through QTcpSocket, which keeps the order and reports failures; the caller decides when to flush().
// Returns true when the kernel took it all: Qt then emits no bytesWritten() for these bytes.
bool writeDirect(QTcpSocket *socket, const QByteArray &data);

// Writes as much of Qt's write buffer as the kernel takes now, instead of waiting for the next write
// notification.
void flushNow(QTcpSocket *socket);

} // namespace Patchwork::Server
