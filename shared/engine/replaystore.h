// SPDX-License-Identifier: MIT
#pragma once

#include <array>

#include <QByteArray>
#include <QHash>
#include <QList>

#include "engine/message.h"
#include "util/metrics.h"

namespace Patchwork
{

// The durable side of the replay buffers (PROTOCOL §4.1): ReplayBuffer tells it, in publish order, every
// message it keeps and every one it lets go (always the oldest its channel still keeps), and never waits for it (a
// store writes behind, on a thread of its own). What a store holds is read once, at start-up, by whoever owns it, and
// handed to ReplayBuffer::restore(); the buffer in memory stays the only read path.
class ReplayStore
{
public:
    // One kept message. `seq` orders all messages of all channels and identifies the message in
    // removed(), with its channel's key; `unixMs` is when it was kept; `gapBefore` says that messages
    // published before it on its channel may have been lost (an unclean stop came between them).
    struct Record
    {
        qint64 seq = 0;
        QByteArray key;
        Message message;
        qint64 unixMs = 0;
        bool gapBefore = false;
    };

    // The runs a store has seen, by id prefix (ChannelHub), oldest first, each with whether it ended
    // cleanly: every message it published was written and nothing was lost since.
    struct Run
    {
        QByteArray prefix;
        bool clean = false;
    };

    // How far the store is behind, for /metrics: operations queued and not yet written, the age of the
    // oldest of them, and since the store was opened: write errors, operations dropped (the writer fell
    // behind past its bound), and the delay from queueing to commit of every written operation.
    struct Stats
    {
        qint64 queued = 0;
        double lagSeconds = 0;
        quint64 errors = 0;
        quint64 dropped = 0;
        std::array<quint64, Metrics::DurationBuckets.size()> delayBuckets{}; // not cumulative
        quint64 delayCount = 0;
        double delaySum = 0;
    };

    virtual ~ReplayStore() = default;

    // A message kept, as Record has it (passed apart, so that telling the store copies nothing).
    virtual void stored(qint64 seq, const QByteArray &key, const Message &message, qint64 unixMs, bool gapBefore) = 0;
    virtual void removed(const QByteArray &key, qint64 seq) = 0;
    virtual Stats stats() const = 0;
};

} // namespace Patchwork
