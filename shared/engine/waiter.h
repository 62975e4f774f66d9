// SPDX-License-Identifier: MIT
#pragma once

#include <QObject>
#include <QPointer>

#include <map>
#include <memory>

#include "engine/message.h"

namespace Patchwork
{

class ChannelHub;
struct Channel;
struct Delivery;
struct ReplaySince;

// What the engine tells a waiting party. The front end turns it into a response.
struct Answer
{
    enum class Kind
    {
        Message, // send `message` (status `message.status`); then report delivered() or destroy the waiter
        Done, // the producer's message was taken (pubsub: `subscribers` received it), or a reply was received
        Timeout, // the party's own ?timeout= passed before it was matched (consumer 204, producer/requester 504)
        ReplyTimeout, // a responder took the request but no reply came in time (504 Responder did not reply)
        SwitchTimeout, // nothing was produced on the double-clutch channel in time (504)
        NoPendingRequest, // a reply names no pending request (404)
        ShuttingDown, // the server stops (503)
        ReceiverLeft, // the receiver of a streamed message left before it had all of it (502)
    };
    Kind kind = Kind::Done;
    Message message;
    int subscribers = -1;
    // SwitchTimeout: the channel name; the timeout in seconds is `seconds`.
    QByteArray detail;
    int seconds = 0;
    // Message: a replayed message given because the since= id is not (or no longer) buffered
    // (Patch-Gap: true, PROTOCOL §4.1).
    bool gap = false;
};

// One waiting party: a request the front end keeps open until the engine answers it. The front end
// creates it, hands it to ChannelHub::submit(), and reports back: delivered() once the socket drained a
// Message answer completely, or destroys the waiter when its client left (the engine then re-queues,
// withdraws or forgets what the party was involved in). The front end may destroy the waiter inside its
// answered() signal (only that waiter): the engine never touches a waiter whose answer() returned false.
class Waiter final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Waiter)

public:
    enum class Role
    {
        Consumer,
        Producer,
        Requester,
        Responder,
        Replier
    };
    enum class Mode
    {
        Queue,
        Pubsub
    };
    enum class ResponderKind
    {
        Get,
        OneShot,
        Switch
    };

    // `key` is the channel key (`public/queue/jobs`, `u/alice/req/api/7`, ...). Requesters and responders
    // also give `reqResNamespace` (`public`, `u/alice`) and `reqResId` (the part after req/ or res/).
    Waiter(Role role, const QByteArray &key, QObject *parent = nullptr);
    ~Waiter() override;

    Role role() const;
    const QByteArray &key() const;

    // Set before submit():
    void setMessage(const Message &message); // producer, requester, one-shot responder (the reply), replier
    const Message &message() const;
    void setMode(Mode mode); // producers
    Mode mode() const;
    // Pubsub producers (?subscribers=N): publish once this many subscribers wait (0 = at once).
    void setMinSubscribers(int n);
    void setTimeoutMs(qint64 ms); // ?timeout=, 0 = none
    void setReqRes(const QByteArray &ns, const QByteArray &id);
    void setResponderKind(ResponderKind kind, const QByteArray &switchChannel = {});
    void setReplyTo(const QByteArray &requestId); // repliers
    // Consumers (PROTOCOL §4.1): resume from the channel's replay buffer. A consumer that matches
    // buffered messages gets the oldest at once (a stream gets all of them, then waits).
    void setSince(const ReplaySince &since);
    // Consumers: an event stream, which stays in the channel's line after each message and is given
    // every pubsub message published there (never queue messages) until it ends or leaves.
    void setStreaming(bool streaming);
    bool isStreaming() const;

    // The front end reports that the socket took the whole Message answer.
    void delivered();
    // The front end reports that the party left (as destroying the waiter would), e.g. a dropped
    // event stream whose connection is being closed; the waiter is told nothing more.
    void abandon();

    bool isAnswered() const;
    // Submitted and not matched with a partner (yet).
    bool isWaiting() const;

Q_SIGNALS:
    void answered(const Patchwork::Answer &answer);

private:
    friend class ChannelHub;

    enum class State
    {
        New,
        Waiting,
        InFlight,
        AwaitingReply,
        Answered
    };
    enum class DeadlineKind
    {
        Own,
        Reply,
        Switch
    };

    // Emits answered(); false when a receiver destroyed this waiter meanwhile.
    bool answer(const Answer &answer);

    QPointer<ChannelHub> m_hub;
    Role m_role;
    Mode m_mode = Mode::Queue;
    int m_minSubscribers = 0;
    ResponderKind m_responderKind = ResponderKind::Get;
    State m_state = State::New;
    QByteArray m_key;
    QByteArray m_ns;
    QByteArray m_id;
    QByteArray m_switchChannel;
    QByteArray m_requestId;
    Message m_message;
    std::unique_ptr<ReplaySince> m_since; // consumers, until submitted
    bool m_streaming = false;
    // The next message it gets carries Patch-Gap: the id it resumed from could not be vouched for.
    bool m_gapPending = false;
    qint64 m_timeoutMs = 0;
    qint64 m_deadline = -1;
    qint64 m_ownDeadline = -1; // ?timeout= (capped by max-wait), fixed at submit
    DeadlineKind m_deadlineKind = DeadlineKind::Own;
    QByteArray m_responderKey; // requesters: the key of the responder that took the request
    std::multimap<qint64, Waiter *>::iterator m_deadlinePos;

    // Intrusive FIFO membership (O(1) unlink).
    Channel *m_channel = nullptr;
    Waiter *m_prev = nullptr;
    Waiter *m_next = nullptr;
    quint64 m_seq = 0;

    // The delivery this party takes part in (producer <-> consumers, requester <-> responder).
    std::shared_ptr<Delivery> m_delivery;
    // A requester's internal double-clutch consumer, or that consumer's requester.
    Waiter *m_partner = nullptr;
    // The answer() calls under way (nested ones included), told by the destructor that it ran.
    struct AnswerFrame
    {
        bool alive = true;
        AnswerFrame *outer = nullptr;
    };
    AnswerFrame *m_answering = nullptr;
};

} // namespace Patchwork

Q_DECLARE_METATYPE(Patchwork::Answer)
