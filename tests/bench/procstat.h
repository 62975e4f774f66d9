// SPDX-License-Identifier: MIT
// What the benchmark tools read about the daemon they measure, from /proc (Linux).
#pragma once

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QString>

namespace Patchwork::Bench
{

// VmRSS of a process in KiB, or -1.
inline qint64 vmRssKiB(qint64 pid)
{
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly)) {
        return -1;
    }
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:")) {
            return line.mid(6).trimmed().split(' ').first().toLongLong();
        }
    }
    return -1;
}

// How many descriptors a process has open, or -1.
inline qint64 openDescriptors(qint64 pid)
{
    const QDir fd(QStringLiteral("/proc/%1/fd").arg(pid));
    return fd.exists() ? fd.entryList(QDir::NoDotAndDotDot | QDir::AllEntries | QDir::System).size() : -1;
}

} // namespace Patchwork::Bench
