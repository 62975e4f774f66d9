// SPDX-License-Identifier: MIT
#pragma once

#include <QHash>
#include <QObject>
#include <QSet>

#include <array>
#include <map>
#include <memory>

#include "engine/message.h"
#include "engine/replaybuffer.h"
#include "engine/waiter.h"

namespace Patchwork
{

class Clock;

// A channel's waiting lines, kept as intrusive FIFO lists of waiters: consumers, producers and event
// streams (which stay in their line after each message). A channel also lives while it has replay data.
struct Channel
{
    QByteArray key;
    Waiter *consumersHead = nullptr;
    Waiter *consumersTail = nullptr;
    Waiter *producersHead = nullptr;
    Waiter *producersTail = nullptr;
    Waiter *streamsHead = nullptr;
    Waiter *streamsTail = nullptr;
    qsizetype consumerCount = 0;
    bool replay = false; // the replay buffer holds messages of this channel

    bool isEmpty() const
    {
        return !consumersHead && !producersHead && !streamsHead && !replay;
    }
};

// Who gave a message, and how many receivers are still taking it.
struct Delivery
{
    Waiter *source = nullptr; // null once the source left (or when nobody waits for the outcome)
    Waiter *receiver = nullptr; // the single receiver (queue, request -> responder, reply -> requester)
    int pending = 0;
    int ok = 0;
    bool pubsub = false;
    bool isReply = false;
};

// The channel engine: matches producers with consumers and requesters with responders, per channel key
// (PROTOCOL §3–§5). Single-threaded; it knows nothing of HTTP.
class ChannelHub final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChannelHub)

public:
    struct Settings
    {
        qint64 replyTimeoutMs = 60'000;
        qint64 switchTimeoutMs = 30'000;
        qint64 maxWaitMs = 0; // server-wide bound on one wait, 0 = none
        ReplayBuffer::Limits replay; // PROTOCOL §4.1
        // This daemon's name among several ([A-Za-z0-9_-], validated by the front end); empty = alone.
        // Part of every message id, so two nodes never issue the same one. Fixed once an id was issued.
        QByteArray nodeId;
        // A double clutch's switch channel may be owned by another node: switchRequested() asks the front
        // end to fetch the reply there, instead of waiting on this node's channel.
        bool remoteSwitch = false;
    };

    explicit ChannelHub(Clock *clock, QObject *parent = nullptr);
    ~ChannelHub() override;

    void setSettings(const Settings &settings);
    const Settings &settings() const;
    Clock *clock() const;

    // Starts the waiter's life in the engine: it is matched at once or waits. It may be answered
    // synchronously (before submit() returns).
    void submit(Waiter *waiter);

    // Answers every waiting (unmatched) party with ShuttingDown and refuses new ones; deliveries in
    // flight go on.
    void shutdown();
    bool isShuttingDown() const;
    // Parties whose message is being written (the front end waits for these on shutdown).
    qsizetype inFlightCount() const;

    // Live channels: with a waiting party or replay data.
    qsizetype channelCount() const;
    // Waiting parties; event streams count as waiting consumers.
    qsizetype waitingCount(Waiter::Role role) const;
    qsizetype streamCount() const;
    const ReplayBuffer *replayBuffer() const;
    // For attaching a store (ReplayBuffer::attachStore()).
    ReplayBuffer *replayBuffer();
    // The prefix of every message id of this hub's run (`<start time>-`); unique across restarts.
    QByteArray idPrefix() const;

    // The reply to a requester of switchRequested(), fetched from the node that owns the switch channel.
    // Nothing when the requester is no longer waiting for it (timed out, left, shutting down).
    void answerSwitch(Waiter *requester, const Message &reply);

Q_SIGNALS:
    void channelCountChanged(qsizetype count);
    // A producer's or replier's message reached `receivers` parties completely.
    void messageDelivered(const QByteArray &key, bool pubsub, qint64 bytes, int receivers);
    // With Settings::remoteSwitch: `requester`'s reply is the next message on `<ns>/<channel>`, to be
    // fetched and given to answerSwitch(). The requester's switch timeout runs in the engine; stop fetching
    // once it is answered otherwise (Waiter::answered) or destroyed.
    void switchRequested(Patchwork::Waiter *requester, const QByteArray &ns, const QByteArray &channel);

private:
    friend class Waiter;

    Channel *channel(const QByteArray &key);
    Channel *findChannel(const QByteArray &key) const;
    void releaseChannel(Channel *ch);
    void append(Channel *ch, Waiter *w, bool producers);
    void prepend(Channel *ch, Waiter *w, bool producers);
    void unlink(Waiter *w);
    Waiter *takeFront(Channel *ch, bool producers);

    void submitConsumer(Waiter *w);
    void submitProducer(Waiter *w);
    void submitRequester(Waiter *w);
    void submitResponder(Waiter *w);
    void submitReplier(Waiter *w);

    void startDelivery(Waiter *producer, Waiter *consumer);
    void publish(Waiter *producer);
    void storeForReplay(const QByteArray &key, const Message &message);
    void onReplayEmptied(const QByteArray &key);
    bool answerFromReplay(Waiter *consumer, const ReplaySince &since);
    void replayToStream(Waiter *stream, const ReplaySince &since);
    void deliverRequest(Waiter *requester, Waiter *responder);
    void
    deliverReply(Waiter *requester, Waiter *source, const Message &reply, const std::shared_ptr<Delivery> &shared = {});
    Waiter *findResponder(const QByteArray &ns, const QByteArray &path);
    Waiter *findRequester(const QByteArray &ns, const QByteArray &id);
    void makeWaiting(Waiter *w);
    void requeueSource(Delivery *d);

    void onDelivered(Waiter *w);
    void onAbandoned(Waiter *w);
    void finishDelivery(const std::shared_ptr<Delivery> &d);
    void requestDrained(Waiter *responder, Waiter *requester);

    void setDeadline(Waiter *w, qint64 deadline, Waiter::DeadlineKind kind);
    QByteArray nextMessageId();
    void clearDeadline(Waiter *w);
    void onClockWoke();
    void expire(Waiter *w);
    void countWaiting(Waiter *w, int delta);

    QByteArray requestKey(const QByteArray &ns, const QByteArray &path) const;
    QByteArray responderKey(const QByteArray &ns, const QByteArray &id) const;

    Clock *m_clock;
    Settings m_settings;
    bool m_shuttingDown = false;
    quint64 m_seq = 0;
    QByteArray m_startStamp; // base36 start time
    QByteArray m_idPrefix; // the run prefix: [<node id>-]<start stamp>-
    quint64 m_messageCounter = 0;
    QHash<QByteArray, Channel *> m_channels;
    // Request channels in key order, for matching a responder's id as a prefix.
    std::map<QByteArray, Channel *> m_requestChannels;
    // Requesters whose request a GET or switch responder took, by Patch-Request-Id.
    QHash<QByteArray, Waiter *> m_pending;
    // Requesters whose reply switchRequested() asked for.
    QSet<Waiter *> m_remoteSwitches;
    std::multimap<qint64, Waiter *> m_deadlines;
    std::array<qsizetype, 5> m_waiting{};
    qsizetype m_inFlight = 0;
    qsizetype m_streams = 0;
    ReplayBuffer m_replay;
};

} // namespace Patchwork
