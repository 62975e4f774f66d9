// SPDX-License-Identifier: MIT
#include "engine/replaybuffer.h"

#include <deque>
#include <limits>
#include <utility>

#include "util/clock.h"

namespace Patchwork
{

namespace
{

constexpr qint64 MAX = std::numeric_limits<qint64>::max();
// Bookkeeping counted for each message: the entry and its deque slot, the allocation headers of the
// body, the id and the header list.
constexpr qint64 ENTRY_OVERHEAD = 256;
// Counted for a body large enough to get pages of its own (it may be rounded up to a page).
constexpr qsizetype LARGE_BODY = 128 * 1024;
constexpr qint64 PAGE = 4096;
// Counted for each header: the pair in the list and the allocation headers of its name and value.
constexpr qint64 HEADER_OVERHEAD = 64;
// Counted for each channel with buffered messages: the buffer, its deque's map and first block, the
// hash nodes here and in the engine, and the engine's Channel.
constexpr qint64 CHANNEL_OVERHEAD = 1024;

qint64 saturatingAdd(qint64 a, qint64 b)
{
    return b > 0 && a > MAX - b ? MAX : a + b;
}

qint64 saturatingMul(qint64 a, qint64 b)
{
    return a > 0 && b > 0 && a > MAX / b ? MAX : a * b;
}

} // namespace

ReplaySince parseSince(QByteArrayView text)
{
    ReplaySince since;
    if (text.isEmpty()) {
        return since;
    }
    if (text.compare("all", Qt::CaseInsensitive) == 0) {
        since.kind = ReplaySince::Kind::All;
        return since;
    }
    qsizetype digits = 0;
    qint64 number = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
        number = saturatingAdd(saturatingMul(number, 10), text[digits] - '0');
        ++digits;
    }
    if (digits > 0 && digits == text.size()) {
        since.kind = ReplaySince::Kind::UnixSeconds;
        since.value = number;
        return since;
    }
    if (digits > 0 && digits == text.size() - 1) {
        qint64 unitMs = 0;
        switch (text.back()) {
        case 's':
            unitMs = 1000;
            break;
        case 'm':
            unitMs = 60 * 1000;
            break;
        case 'h':
            unitMs = 3600 * 1000;
            break;
        case 'd':
            unitMs = 24 * 3600 * 1000;
            break;
        default:
            break;
        }
        if (unitMs > 0) {
            since.kind = ReplaySince::Kind::Ago;
            since.value = saturatingMul(number, unitMs);
            return since;
        }
    }
    since.kind = ReplaySince::Kind::Id;
    since.id = text.toByteArray();
    return since;
}

// One buffered message. Entries live in their channel's deque (whose push_back/pop_front keep the
// others in place) and are also linked in publish order across channels.
struct ReplayBuffer::Entry
{
    Message message;
    qint64 storedAtMs = 0; // monotonic, for expiry
    qint64 unixMs = 0; // for since=<duration>
    qint64 cost = 0;
    Buffer *buffer = nullptr;
    qint64 seq = 0; // the store's
    bool gapBefore = false; // messages before it on its channel may have been lost
    Entry *older = nullptr;
    Entry *newer = nullptr;
};

struct ReplayBuffer::Buffer
{
    QByteArray key;
    std::deque<Entry> entries;
    qint64 bytes = 0;
    // The id of the newest message evicted so far: a client resuming from it has missed nothing.
    QByteArray lastEvicted;
    // Messages published after the newest buffered one may have been lost (it was restored from a
    // run the buffer cannot vouch for): the next message kept gets gapBefore.
    bool holeAfterNewest = false;
};

bool ReplayBuffer::Limits::isEnabled() const
{
    return count > 0 && ageMs > 0 && channelBytes > 0 && totalBytes > 0;
}

ReplayBuffer::ReplayBuffer(Clock *clock, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
{
    connect(m_clock, &Clock::woke, this, &ReplayBuffer::onClockWoke);
}

ReplayBuffer::~ReplayBuffer()
{
    qDeleteAll(m_buffers);
}

void ReplayBuffer::setLimits(const Limits &limits)
{
    m_limits = limits;
    if (!isEnabled()) {
        clear();
        return;
    }
    const QList<Buffer *> buffers = m_buffers.values();
    for (Buffer *b : buffers) {
        enforce(b); // may delete b, but never another buffer
    }
    expire();
    armExpiry();
}

const ReplayBuffer::Limits &ReplayBuffer::limits() const
{
    return m_limits;
}

bool ReplayBuffer::isEnabled() const
{
    return m_limits.isEnabled();
}

qint64 ReplayBuffer::messageCost(const Message &message)
{
    qint64 cost = ENTRY_OVERHEAD + message.body.size() + message.id.size();
    if (message.body.size() >= LARGE_BODY) {
        cost += PAGE;
    }
    for (const auto &h : message.headers) {
        cost += HEADER_OVERHEAD + h.first.size() + h.second.size();
    }
    return cost;
}

qint64 ReplayBuffer::channelCost(const QByteArray &key)
{
    return CHANNEL_OVERHEAD + 2 * key.size();
}

ReplayBuffer::Buffer *ReplayBuffer::bufferFor(const QByteArray &key)
{
    Buffer *b = m_buffers.value(key);
    if (!b) {
        b = new Buffer;
        b->key = key;
        m_buffers.insert(key, b);
        m_totalBytes += channelCost(key);
    }
    return b;
}

void ReplayBuffer::append(const QByteArray &key, const Message &message)
{
    if (!isEnabled()) {
        return;
    }
    Buffer *b = bufferFor(key);
    const bool gapBefore = std::exchange(b->holeAfterNewest, false);
    const qint64 seq = m_nextSeq++;
    const qint64 unixMs = m_clock->unixMs();
    if (m_store) {
        m_store->stored(seq, key, message, unixMs, gapBefore);
    }
    keep(b, message, seq, unixMs, gapBefore);
    enforce(b);
    armExpiry();
}

void ReplayBuffer::keep(Buffer *b, const Message &message, qint64 seq, qint64 unixMs, bool gapBefore)
{
    Entry &e = b->entries.emplace_back();
    e.message = message;
    const QByteArray &body = message.body;
    if (body.capacity() - body.size() > qMax<qsizetype>(4096, body.size() / 8)) {
        // A body grown by appending (a chunked upload) may hold much more memory than it uses: keep
        // a tight copy so that what is counted is what is held.
        e.message.body = QByteArray(body.constData(), body.size());
    }
    // A restored message is as old as when it was first kept (it expires on time), never from the future.
    e.storedAtMs = m_clock->monotonicMs() - qMax<qint64>(0, m_clock->unixMs() - unixMs);
    e.unixMs = unixMs;
    e.seq = seq;
    e.gapBefore = gapBefore;
    e.cost = messageCost(message);
    e.buffer = b;
    e.older = m_newest;
    if (m_newest) {
        m_newest->newer = &e;
    } else {
        m_oldest = &e;
    }
    m_newest = &e;
    b->bytes += e.cost;
    m_totalBytes += e.cost;
}

void ReplayBuffer::setCurrentRun(const QByteArray &prefix)
{
    m_currentRun = prefix;
}

void ReplayBuffer::attachStore(ReplayStore *store,
                               const QList<ReplayStore::Run> &runs,
                               const QList<ReplayStore::Record> &records)
{
    m_store = store;
    m_runs.clear();
    m_lastUnclean = -1;
    for (qsizetype i = 0; i < runs.size(); ++i) {
        m_runs.insert(runs[i].prefix, i);
        if (!runs[i].clean) {
            m_lastUnclean = i;
        }
    }
    QList<QByteArray> restored;
    for (const ReplayStore::Record &r : records) {
        m_nextSeq = qMax(m_nextSeq, r.seq + 1);
        if (!isEnabled()) {
            if (m_store) {
                m_store->removed(r.key, r.seq);
            }
            continue;
        }
        Buffer *b = bufferFor(r.key);
        if (b->entries.empty()) {
            restored.append(r.key);
        }
        keep(b, r.message, r.seq, r.unixMs, r.gapBefore);
        enforce(b);
    }
    for (const QByteArray &key : std::as_const(restored)) {
        if (Buffer *b = m_buffers.value(key)) {
            b->holeAfterNewest = !vouchesFor(b->entries.back().message.id);
            Q_EMIT channelRestored(key);
        }
    }
    expire();
    armExpiry();
}

ReplayStore *ReplayBuffer::store() const
{
    return m_store;
}

// Ids are `<run prefix><counter>`, the prefix ending in its last '-' (ChannelHub::nextMessageId()).
bool ReplayBuffer::vouchesFor(const QByteArray &id) const
{
    const qsizetype dash = id.lastIndexOf('-');
    if (dash < 0) {
        return false; // not an id this server makes
    }
    const QByteArray run = id.left(dash + 1);
    if (run == m_currentRun) {
        return true;
    }
    const auto it = m_runs.constFind(run);
    return it != m_runs.constEnd() && *it > m_lastUnclean;
}

void ReplayBuffer::enforce(Buffer *b)
{
    // The channel's own limits first (its oldest message goes), then the total (the oldest of all).
    for (;;) {
        const bool overChannel = qint64(b->entries.size()) > m_limits.count || b->bytes > m_limits.channelBytes;
        if (!overChannel) {
            break;
        }
        const bool last = b->entries.size() == 1;
        evictOldest(b);
        if (last) {
            break; // b is gone
        }
    }
    while (m_oldest && m_totalBytes > m_limits.totalBytes) {
        evictOldest(m_oldest->buffer);
    }
}

void ReplayBuffer::evictOldest(Buffer *b)
{
    Entry &e = b->entries.front();
    if (e.older) {
        e.older->newer = e.newer;
    } else {
        m_oldest = e.newer;
    }
    if (e.newer) {
        e.newer->older = e.older;
    } else {
        m_newest = e.older;
    }
    b->bytes -= e.cost;
    m_totalBytes -= e.cost;
    b->lastEvicted = e.message.id;
    if (m_store) {
        m_store->removed(b->key, e.seq);
    }
    b->entries.pop_front();
    if (!b->entries.empty()) {
        return;
    }
    const QByteArray key = b->key;
    m_buffers.remove(key);
    m_totalBytes -= channelCost(key);
    delete b;
    Q_EMIT channelEmptied(key);
}

void ReplayBuffer::expire()
{
    const qint64 now = m_clock->monotonicMs();
    while (m_oldest && saturatingAdd(m_oldest->storedAtMs, m_limits.ageMs) <= now) {
        evictOldest(m_oldest->buffer);
    }
}

void ReplayBuffer::armExpiry()
{
    if (!m_oldest) {
        m_armedAt = -1;
        return;
    }
    const qint64 at = saturatingAdd(m_oldest->storedAtMs, m_limits.ageMs);
    if (at != m_armedAt) {
        m_armedAt = at;
        m_clock->wakeAt(at);
    }
}

void ReplayBuffer::onClockWoke()
{
    m_armedAt = -1; // the clock forgot what it was asked for: ask again
    expire();
    armExpiry();
}

ReplayBuffer::Match ReplayBuffer::find(const QByteArray &key, const ReplaySince &since, qsizetype max) const
{
    Match match;
    const Buffer *b = m_buffers.value(key);
    if (!b) {
        // Nothing buffered: the client waits, told of a gap if its id is one the buffer cannot vouch for.
        match.gap = since.kind == ReplaySince::Kind::Id && isEnabled() && !vouchesFor(since.id);
        return match;
    }
    if (since.kind == ReplaySince::Kind::None || max == 0) {
        return match;
    }
    const std::deque<Entry> &entries = b->entries;
    auto from = entries.cbegin();
    switch (since.kind) {
    case ReplaySince::Kind::None:
    case ReplaySince::Kind::All:
    case ReplaySince::Kind::UnixSeconds:
    case ReplaySince::Kind::Ago:
        break;
    case ReplaySince::Kind::Id: {
        // Resuming clients mostly ask for a recent id: search from the newest.
        auto it = entries.cend();
        bool found = false;
        while (it != entries.cbegin()) {
            --it;
            if (it->message.id == since.id) {
                from = it + 1;
                found = true;
                break;
            }
        }
        if (found) {
            // Its successor may lie beyond an unclean stop.
            match.gap = from == entries.cend() ? b->holeAfterNewest : from->gapBefore;
        } else {
            // Not buffered: the client may have missed messages, unless it saw exactly the last one
            // evicted, whose successor is the oldest buffered.
            match.gap = since.id != b->lastEvicted || entries.front().gapBefore;
        }
        break;
    }
    }
    const qint64 agoFrom = since.kind == ReplaySince::Kind::Ago ? m_clock->unixMs() - since.value : 0;
    for (auto it = from; it != entries.cend() && (max < 0 || match.messages.size() < max); ++it) {
        if (since.kind == ReplaySince::Kind::UnixSeconds && it->message.time < since.value) {
            continue;
        }
        if (since.kind == ReplaySince::Kind::Ago && it->unixMs < agoFrom) {
            continue;
        }
        if (it->gapBefore && !match.messages.isEmpty()) {
            match.holes.append(match.messages.size());
        }
        match.messages.append(it->message);
    }
    return match;
}

bool ReplayBuffer::contains(const QByteArray &key) const
{
    return m_buffers.contains(key);
}

qsizetype ReplayBuffer::channelCount() const
{
    return m_buffers.size();
}

qsizetype ReplayBuffer::messageCount(const QByteArray &key) const
{
    const Buffer *b = m_buffers.value(key);
    return b ? qsizetype(b->entries.size()) : 0;
}

qsizetype ReplayBuffer::messageCount() const
{
    qsizetype n = 0;
    for (const Buffer *b : m_buffers) {
        n += qsizetype(b->entries.size());
    }
    return n;
}

qint64 ReplayBuffer::channelBytes(const QByteArray &key) const
{
    const Buffer *b = m_buffers.value(key);
    return b ? b->bytes : 0;
}

qint64 ReplayBuffer::totalBytes() const
{
    return m_totalBytes;
}

void ReplayBuffer::clear()
{
    if (m_store) {
        for (const Entry *e = m_oldest; e; e = e->newer) {
            m_store->removed(e->buffer->key, e->seq);
        }
    }
    const QList<QByteArray> keys = m_buffers.keys();
    qDeleteAll(m_buffers);
    m_buffers.clear();
    m_oldest = m_newest = nullptr;
    m_totalBytes = 0;
    m_armedAt = -1;
    for (const QByteArray &key : keys) {
        Q_EMIT channelEmptied(key);
    }
}

} // namespace Patchwork
