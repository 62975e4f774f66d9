// SPDX-License-Identifier: MIT
#include "engine/channelhub.h"

#include <QRandomGenerator>

#include <utility>

#include "util/clock.h"
#include "util/logging.h"

namespace Patchwork
{

namespace
{

QByteArray newRequestId()
{
    quint64 words[2];
    QRandomGenerator::system()->fillRange(words);
    return QByteArray(reinterpret_cast<const char *>(words), sizeof(words)).toHex();
}

} // namespace

ChannelHub::ChannelHub(Clock *clock, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
    , m_replay(clock)
{
    qRegisterMetaType<Patchwork::Answer>();
    connect(m_clock, &Clock::woke, this, &ChannelHub::onClockWoke);
    connect(&m_replay, &ReplayBuffer::channelEmptied, this, &ChannelHub::onReplayEmptied);
    connect(&m_replay, &ReplayBuffer::channelRestored, this, [this](const QByteArray &key) {
        channel(key)->replay = true;
    });
    // Ids are unique on this server across restarts: a start-time prefix (after the node id, see
    // setSettings()), then a counter. The run prefix is everything up to and including the last '-'.
    m_startStamp = QByteArray::number(m_clock->unixMs(), 36);
    m_idPrefix = m_startStamp + '-';
    m_replay.setCurrentRun(m_idPrefix);
}

ChannelHub::~ChannelHub()
{
    qDeleteAll(m_channels);
}

void ChannelHub::setSettings(const Settings &settings)
{
    m_settings = settings;
    m_replay.setLimits(settings.replay);
    // The prefix is fixed once an id was issued or a replay journal recorded the run under it.
    if (m_messageCounter == 0 && !m_replay.store()) {
        m_idPrefix = settings.nodeId.isEmpty() ? QByteArray() : settings.nodeId + '-';
        m_idPrefix += m_startStamp + '-';
        m_replay.setCurrentRun(m_idPrefix);
    }
}

const ChannelHub::Settings &ChannelHub::settings() const
{
    return m_settings;
}

Clock *ChannelHub::clock() const
{
    return m_clock;
}

qsizetype ChannelHub::channelCount() const
{
    return m_channels.size();
}

qsizetype ChannelHub::waitingCount(Waiter::Role role) const
{
    return m_waiting[size_t(role)];
}

qsizetype ChannelHub::streamCount() const
{
    return m_streams;
}

const ReplayBuffer *ChannelHub::replayBuffer() const
{
    return &m_replay;
}

ReplayBuffer *ChannelHub::replayBuffer()
{
    return &m_replay;
}

QByteArray ChannelHub::idPrefix() const
{
    return m_idPrefix;
}

qsizetype ChannelHub::inFlightCount() const
{
    return m_inFlight;
}

bool ChannelHub::isShuttingDown() const
{
    return m_shuttingDown;
}

// --- channels and lines ----------------------------------------------------------------------------

Channel *ChannelHub::findChannel(const QByteArray &key) const
{
    return m_channels.value(key);
}

Channel *ChannelHub::channel(const QByteArray &key)
{
    auto it = m_channels.find(key);
    if (it != m_channels.end()) {
        return it.value();
    }
    auto *ch = new Channel;
    ch->key = key;
    m_channels.insert(key, ch);
    Q_EMIT channelCountChanged(m_channels.size());
    return ch;
}

void ChannelHub::releaseChannel(Channel *ch)
{
    if (!ch || !ch->isEmpty()) {
        return;
    }
    m_channels.remove(ch->key);
    m_requestChannels.erase(ch->key);
    delete ch;
    Q_EMIT channelCountChanged(m_channels.size());
}

void ChannelHub::append(Channel *ch, Waiter *w, bool producers)
{
    const bool streams = w->m_streaming;
    Waiter *&head = streams ? ch->streamsHead : producers ? ch->producersHead : ch->consumersHead;
    Waiter *&tail = streams ? ch->streamsTail : producers ? ch->producersTail : ch->consumersTail;
    w->m_channel = ch;
    w->m_prev = tail;
    w->m_next = nullptr;
    if (tail) {
        tail->m_next = w;
    } else {
        head = w;
    }
    tail = w;
    if (streams) {
        ++m_streams;
    } else if (!producers) {
        ++ch->consumerCount;
    }
}

void ChannelHub::prepend(Channel *ch, Waiter *w, bool producers)
{
    Q_ASSERT(!w->m_streaming);
    Waiter *&head = producers ? ch->producersHead : ch->consumersHead;
    Waiter *&tail = producers ? ch->producersTail : ch->consumersTail;
    w->m_channel = ch;
    w->m_prev = nullptr;
    w->m_next = head;
    if (head) {
        head->m_prev = w;
    } else {
        tail = w;
    }
    head = w;
    if (!producers) {
        ++ch->consumerCount;
    }
}

void ChannelHub::unlink(Waiter *w)
{
    Channel *ch = w->m_channel;
    if (!ch) {
        return;
    }
    const bool producers = w->m_role == Waiter::Role::Producer;
    const bool streams = w->m_streaming;
    Waiter *&head = streams ? ch->streamsHead : producers ? ch->producersHead : ch->consumersHead;
    Waiter *&tail = streams ? ch->streamsTail : producers ? ch->producersTail : ch->consumersTail;
    if (w->m_prev) {
        w->m_prev->m_next = w->m_next;
    } else {
        head = w->m_next;
    }
    if (w->m_next) {
        w->m_next->m_prev = w->m_prev;
    } else {
        tail = w->m_prev;
    }
    if (streams) {
        --m_streams;
    } else if (!producers) {
        --ch->consumerCount;
    }
    w->m_channel = nullptr;
    w->m_prev = w->m_next = nullptr;
}

Waiter *ChannelHub::takeFront(Channel *ch, bool producers)
{
    Waiter *w = producers ? ch->producersHead : ch->consumersHead;
    if (w) {
        unlink(w);
        clearDeadline(w);
        countWaiting(w, -1);
    }
    return w;
}

void ChannelHub::countWaiting(Waiter *w, int delta)
{
    m_waiting[size_t(w->m_role)] += delta;
}

void ChannelHub::makeWaiting(Waiter *w)
{
    w->m_state = Waiter::State::Waiting;
    w->m_seq = ++m_seq;
    countWaiting(w, +1);
    if (w->m_ownDeadline >= 0 && w->m_deadline < 0) {
        setDeadline(w, w->m_ownDeadline, Waiter::DeadlineKind::Own);
    }
}

QByteArray ChannelHub::requestKey(const QByteArray &ns, const QByteArray &path) const
{
    return ns + "/req/" + path;
}

QByteArray ChannelHub::responderKey(const QByteArray &ns, const QByteArray &id) const
{
    return ns + "/res/" + id;
}

// --- submission ------------------------------------------------------------------------------------

void ChannelHub::submit(Waiter *w)
{
    Q_ASSERT(w->m_state == Waiter::State::New);
    w->m_hub = this;
    qint64 timeout = w->m_timeoutMs;
    if (m_settings.maxWaitMs > 0 && (timeout <= 0 || timeout > m_settings.maxWaitMs)) {
        timeout = m_settings.maxWaitMs;
    }
    w->m_ownDeadline = timeout > 0 ? m_clock->monotonicMs() + timeout : -1;
    if (m_shuttingDown) {
        w->m_state = Waiter::State::Answered;
        w->answer({Answer::Kind::ShuttingDown, {}, -1, {}, 0});
        return;
    }
    switch (w->m_role) {
    case Waiter::Role::Consumer:
        submitConsumer(w);
        break;
    case Waiter::Role::Producer:
        submitProducer(w);
        break;
    case Waiter::Role::Requester:
        submitRequester(w);
        break;
    case Waiter::Role::Responder:
        submitResponder(w);
        break;
    case Waiter::Role::Replier:
        submitReplier(w);
        break;
    }
}

void ChannelHub::submitConsumer(Waiter *w)
{
    const std::unique_ptr<ReplaySince> since = std::move(w->m_since);
    if (w->m_streaming) {
        // An event stream joins its line first, then gets what it asked to replay.
        append(channel(w->m_key), w, false);
        makeWaiting(w);
        if (since) {
            replayToStream(w, *since);
        }
        return;
    }
    if (since && answerFromReplay(w, *since)) {
        return;
    }
    Channel *ch = channel(w->m_key);
    if (Waiter *publisher = ch->producersHead; publisher && publisher->m_mode == Waiter::Mode::Pubsub) {
        // A publish waits for ?subscribers=N: this one may complete the number.
        append(ch, w, false);
        makeWaiting(w);
        if (ch->consumerCount >= publisher->m_minSubscribers) {
            takeFront(ch, true);
            publish(publisher);
        }
        return;
    }
    if (Waiter *producer = takeFront(ch, true)) {
        startDelivery(producer, w);
    } else {
        append(ch, w, false);
        makeWaiting(w);
    }
    releaseChannel(ch);
}

void ChannelHub::submitProducer(Waiter *w)
{
    if (w->m_mode == Waiter::Mode::Pubsub) {
        Channel *ch = findChannel(w->m_key);
        const qsizetype subscribers = ch ? ch->consumerCount : 0;
        if (subscribers < w->m_minSubscribers) {
            // ?subscribers=N: wait in line until N subscribers wait.
            append(channel(w->m_key), w, true);
            makeWaiting(w);
            return;
        }
        publish(w);
        return;
    }
    Channel *ch = channel(w->m_key);
    if (Waiter *consumer = takeFront(ch, false)) {
        startDelivery(w, consumer);
    } else {
        append(ch, w, true);
        makeWaiting(w);
    }
    releaseChannel(ch);
}

void ChannelHub::submitRequester(Waiter *w)
{
    if (Waiter *responder = findResponder(w->m_ns, w->m_id)) {
        deliverRequest(w, responder);
        return;
    }
    const QByteArray key = requestKey(w->m_ns, w->m_id);
    Channel *ch = channel(key);
    m_requestChannels.emplace(key, ch);
    append(ch, w, false);
    makeWaiting(w);
}

void ChannelHub::submitResponder(Waiter *w)
{
    if (Waiter *requester = findRequester(w->m_ns, w->m_id)) {
        deliverRequest(requester, w);
        return;
    }
    Channel *ch = channel(responderKey(w->m_ns, w->m_id));
    append(ch, w, false);
    makeWaiting(w);
}

void ChannelHub::submitReplier(Waiter *w)
{
    Waiter *requester = m_pending.value(w->m_requestId);
    if (!requester || requester->m_responderKey != w->m_key) {
        w->m_state = Waiter::State::Answered;
        w->answer({Answer::Kind::NoPendingRequest, {}, -1, {}, 0});
        return;
    }
    deliverReply(requester, w, w->m_message);
}

Waiter *ChannelHub::findResponder(const QByteArray &ns, const QByteArray &path)
{
    qsizetype end = path.size();
    while (end > 0) {
        if (Channel *ch = findChannel(responderKey(ns, path.left(end)))) {
            if (Waiter *responder = takeFront(ch, false)) {
                releaseChannel(ch);
                return responder;
            }
        }
        end = path.lastIndexOf('/', end - 1);
    }
    return nullptr;
}

Waiter *ChannelHub::findRequester(const QByteArray &ns, const QByteArray &id)
{
    const QByteArray prefix = requestKey(ns, id);
    Channel *best = nullptr;
    for (auto it = m_requestChannels.lower_bound(prefix); it != m_requestChannels.end(); ++it) {
        const QByteArray &key = it->first;
        if (!key.startsWith(prefix)) {
            break;
        }
        if (key.size() != prefix.size() && key.at(prefix.size()) != '/') {
            continue;
        }
        Waiter *front = it->second->consumersHead;
        if (front && (!best || front->m_seq < best->consumersHead->m_seq)) {
            best = it->second;
        }
    }
    if (!best) {
        return nullptr;
    }
    Waiter *requester = takeFront(best, false);
    releaseChannel(best);
    return requester;
}

// --- deliveries --------------------------------------------------------------------------------------

void ChannelHub::startDelivery(Waiter *producer, Waiter *consumer)
{
    if (Waiter *requester = consumer->m_partner) {
        // The double-clutch consumer: the produced message is the reply to a waiting requester.
        requester->m_partner = nullptr;
        consumer->m_state = Waiter::State::Answered;
        consumer->deleteLater();
        Message reply = producer->m_message;
        deliverReply(requester, producer, reply);
        return;
    }
    auto d = std::make_shared<Delivery>();
    d->source = producer;
    d->receiver = consumer;
    d->pending = 1;
    producer->m_state = Waiter::State::InFlight;
    producer->m_delivery = d;
    consumer->m_state = Waiter::State::InFlight;
    consumer->m_delivery = d;
    ++m_inFlight;
    Answer a;
    a.kind = Answer::Kind::Message;
    a.message = producer->m_message;
    consumer->answer(a);
}

QByteArray ChannelHub::nextMessageId()
{
    return m_idPrefix + QByteArray::number(++m_messageCounter, 36);
}

void ChannelHub::publish(Waiter *producer)
{
    producer->m_message.id = nextMessageId();
    producer->m_message.time = m_clock->unixMs() / 1000;
    storeForReplay(producer->m_key, producer->m_message);
    auto d = std::make_shared<Delivery>();
    d->source = producer;
    d->pubsub = true;
    producer->m_state = Waiter::State::InFlight;
    producer->m_delivery = d;

    QList<Waiter *> receivers;
    QList<Waiter *> requesters;
    QList<Waiter *> streams;
    if (Channel *ch = findChannel(producer->m_key)) {
        receivers.reserve(ch->consumerCount);
        while (Waiter *w = takeFront(ch, false)) {
            if (Waiter *requester = w->m_partner) {
                requester->m_partner = nullptr;
                w->m_state = Waiter::State::Answered;
                w->deleteLater();
                requesters.append(requester);
                continue;
            }
            w->m_state = Waiter::State::InFlight;
            w->m_delivery = d;
            receivers.append(w);
        }
        for (Waiter *s = producer->m_message.isStreamed() ? nullptr : ch->streamsHead; s; s = s->m_next) {
            streams.append(s);
        }
        releaseChannel(ch);
    }
    d->pending = int(receivers.size()) + 1; // +1 until every receiver has been handed the message
    m_inFlight += receivers.size();
    Answer a;
    a.kind = Answer::Kind::Message;
    a.message = producer->m_message;
    for (Waiter *w : std::as_const(receivers)) {
        a.gap = std::exchange(w->m_gapPending, false);
        w->answer(a);
    }
    a.gap = false;
    // Event streams stay in their line. Each counts as a receiver once its front end took the event
    // (it did not drop the stream while handling it); nobody waits for the stream's socket to drain.
    for (Waiter *s : std::as_const(streams)) {
        if (s->m_state != Waiter::State::Waiting) {
            continue; // abandoned while the message was handed to others
        }
        a.gap = std::exchange(s->m_gapPending, false);
        if (s->answer(a) && s->m_state == Waiter::State::Waiting) {
            ++d->ok;
        }
    }
    a.gap = false;
    d->pending += int(requesters.size());
    for (Waiter *requester : std::as_const(requesters)) {
        deliverReply(requester, nullptr, producer->m_message, d);
    }
    if (--d->pending == 0) {
        finishDelivery(d);
    }
}

// --- replay (PROTOCOL §4.1) --------------------------------------------------------------------------

void ChannelHub::storeForReplay(const QByteArray &key, const Message &message)
{
    if (!m_replay.isEnabled() || message.isStreamed()) {
        return;
    }
    // Mark the channel first: if the message is too large to keep, the buffer reports the channel
    // emptied at once, and onReplayEmptied() releases it again.
    channel(key)->replay = true;
    m_replay.append(key, message);
}

void ChannelHub::onReplayEmptied(const QByteArray &key)
{
    if (Channel *ch = findChannel(key)) {
        ch->replay = false;
        releaseChannel(ch);
    }
}

bool ChannelHub::answerFromReplay(Waiter *w, const ReplaySince &since)
{
    ReplayBuffer::Match match = m_replay.find(w->m_key, since, 1);
    if (match.messages.isEmpty()) {
        w->m_gapPending = match.gap; // told with the message it waits for
        return false;
    }
    w->m_state = Waiter::State::Answered;
    Answer a;
    a.kind = Answer::Kind::Message;
    a.message = match.messages.constFirst();
    a.gap = match.gap;
    w->answer(a);
    return true;
}

void ChannelHub::replayToStream(Waiter *w, const ReplaySince &since)
{
    const ReplayBuffer::Match match = m_replay.find(w->m_key, since);
    w->m_gapPending = match.messages.isEmpty() && match.gap;
    Answer a;
    a.kind = Answer::Kind::Message;
    for (qsizetype i = 0; i < match.messages.size(); ++i) {
        a.message = match.messages[i];
        a.gap = i == 0 ? match.gap : match.holes.contains(i);
        if (!w->answer(a) || w->m_state != Waiter::State::Waiting) {
            return; // the stream was dropped, abandoned or timed out meanwhile
        }
    }
}

// --- request/response --------------------------------------------------------------------------------

void ChannelHub::deliverRequest(Waiter *requester, Waiter *responder)
{
    auto d = std::make_shared<Delivery>();
    d->source = requester;
    d->receiver = responder;
    d->pending = 1;
    requester->m_state = Waiter::State::InFlight;
    requester->m_delivery = d;
    if (requester->m_ownDeadline >= 0 && requester->m_deadline < 0) {
        setDeadline(requester, requester->m_ownDeadline, Waiter::DeadlineKind::Own);
    }
    requester->m_requestId = newRequestId();
    requester->m_responderKey = responder->m_key;
    responder->m_state = Waiter::State::InFlight;
    responder->m_delivery = d;
    ++m_inFlight;
    Answer a;
    a.kind = Answer::Kind::Message;
    a.message = requester->m_message;
    a.message.headers.prepend({QByteArrayLiteral("Patch-Request-Id"), requester->m_requestId});
    responder->answer(a);
}

void ChannelHub::deliverReply(Waiter *requester,
                              Waiter *source,
                              const Message &reply,
                              const std::shared_ptr<Delivery> &shared)
{
    if (requester->m_state == Waiter::State::AwaitingReply) {
        countWaiting(requester, -1);
    }
    clearDeadline(requester);
    m_pending.remove(requester->m_requestId);
    std::shared_ptr<Delivery> d = shared;
    if (!d) {
        d = std::make_shared<Delivery>();
        d->source = source;
        d->receiver = requester;
        d->pending = 1;
        d->isReply = true;
    }
    if (source) {
        source->m_state = Waiter::State::InFlight;
        source->m_delivery = d;
    }
    requester->m_state = Waiter::State::InFlight;
    requester->m_delivery = d;
    ++m_inFlight;
    Answer a;
    a.kind = Answer::Kind::Message;
    a.message = reply;
    requester->answer(a);
}

void ChannelHub::onDelivered(Waiter *w)
{
    if (!w->m_delivery || w->m_delivery->source == w) {
        return; // sources learn of their delivery from the receivers
    }
    std::shared_ptr<Delivery> d = std::move(w->m_delivery);
    --m_inFlight;
    w->m_state = Waiter::State::Answered;
    ++d->ok;
    --d->pending;
    if (w->m_role == Waiter::Role::Responder) {
        Waiter *requester = d->source;
        if (requester) {
            requester->m_delivery.reset();
            requestDrained(w, requester);
        }
        return;
    }
    if (d->pending == 0) {
        finishDelivery(d);
    }
}

void ChannelHub::requestDrained(Waiter *responder, Waiter *requester)
{
    const qint64 now = m_clock->monotonicMs();
    if (m_shuttingDown && responder->m_responderKind != Waiter::ResponderKind::OneShot) {
        clearDeadline(requester);
        requester->m_state = Waiter::State::Answered;
        requester->answer({Answer::Kind::ShuttingDown, {}, -1, {}, 0});
        return;
    }
    switch (responder->m_responderKind) {
    case Waiter::ResponderKind::OneShot:
        deliverReply(requester, nullptr, responder->m_message);
        return;
    case Waiter::ResponderKind::Get: {
        requester->m_state = Waiter::State::AwaitingReply;
        countWaiting(requester, +1);
        m_pending.insert(requester->m_requestId, requester);
        const qint64 replyDeadline = now + m_settings.replyTimeoutMs;
        if (requester->m_ownDeadline < 0 || replyDeadline < requester->m_ownDeadline) {
            setDeadline(requester, replyDeadline, Waiter::DeadlineKind::Reply);
        }
        return;
    }
    case Waiter::ResponderKind::Switch: {
        requester->m_state = Waiter::State::AwaitingReply;
        countWaiting(requester, +1);
        const qint64 switchDeadline = now + m_settings.switchTimeoutMs;
        if (requester->m_ownDeadline < 0 || switchDeadline < requester->m_ownDeadline) {
            setDeadline(requester, switchDeadline, Waiter::DeadlineKind::Switch);
        }
        requester->m_switchChannel = responder->m_switchChannel;
        if (m_settings.remoteSwitch) {
            m_remoteSwitches.insert(requester);
            Q_EMIT switchRequested(requester, requester->m_ns, responder->m_switchChannel);
            return;
        }
        auto *clutch = new Waiter(Waiter::Role::Consumer, requester->m_ns + '/' + responder->m_switchChannel, this);
        clutch->m_hub = this;
        clutch->m_partner = requester;
        requester->m_partner = clutch;
        clutch->m_ownDeadline = -1;
        submitConsumer(clutch);
        return;
    }
    }
}

void ChannelHub::answerSwitch(Waiter *requester, const Message &reply)
{
    if (m_remoteSwitches.remove(requester)) {
        deliverReply(requester, nullptr, reply);
    }
}

void ChannelHub::finishDelivery(const std::shared_ptr<Delivery> &d)
{
    Waiter *source = d->source;
    d->source = nullptr;
    if (!source) {
        return;
    }
    source->m_delivery.reset();
    source->m_state = Waiter::State::Answered;
    Q_EMIT messageDelivered(source->m_key, d->pubsub, source->m_message.body.size(), d->ok);
    Answer a;
    a.kind = Answer::Kind::Done;
    a.subscribers = d->pubsub ? d->ok : -1;
    a.message = source->m_message;
    source->answer(a);
}

void ChannelHub::requeueSource(Delivery *d)
{
    Waiter *source = d->source;
    d->source = nullptr;
    if (!source) {
        return;
    }
    source->m_delivery.reset();
    if (source->m_message.isStreamed()) {
        // Its bytes went to the receiver that left: it cannot be given to another one.
        clearDeadline(source);
        source->m_state = Waiter::State::Answered;
        source->answer({Answer::Kind::ReceiverLeft, {}, -1, {}, 0});
        return;
    }
    switch (source->m_role) {
    case Waiter::Role::Producer:
    case Waiter::Role::Requester:
        if (m_shuttingDown) {
            clearDeadline(source);
            source->m_state = Waiter::State::Answered;
            source->answer({Answer::Kind::ShuttingDown, {}, -1, {}, 0});
            return;
        }
        break;
    default:
        break;
    }
    switch (source->m_role) {
    case Waiter::Role::Producer: {
        // The consumer left before it had the whole body: the message goes back to the front.
        Channel *ch = channel(source->m_key);
        if (Waiter *consumer = takeFront(ch, false)) {
            startDelivery(source, consumer);
        } else {
            prepend(ch, source, true);
            source->m_state = Waiter::State::Waiting;
            countWaiting(source, +1);
            if (source->m_ownDeadline >= 0) {
                setDeadline(source, source->m_ownDeadline, Waiter::DeadlineKind::Own);
            }
        }
        releaseChannel(ch);
        return;
    }
    case Waiter::Role::Requester: {
        if (Waiter *responder = findResponder(source->m_ns, source->m_id)) {
            deliverRequest(source, responder);
            return;
        }
        const QByteArray key = requestKey(source->m_ns, source->m_id);
        Channel *ch = channel(key);
        m_requestChannels.emplace(key, ch);
        prepend(ch, source, false);
        source->m_state = Waiter::State::Waiting;
        countWaiting(source, +1);
        if (source->m_ownDeadline >= 0) {
            setDeadline(source, source->m_ownDeadline, Waiter::DeadlineKind::Own);
        }
        return;
    }
    case Waiter::Role::Replier:
        source->m_state = Waiter::State::Answered;
        source->answer({Answer::Kind::NoPendingRequest, {}, -1, {}, 0});
        return;
    case Waiter::Role::Consumer:
    case Waiter::Role::Responder:
        return;
    }
}

void ChannelHub::onAbandoned(Waiter *w)
{
    clearDeadline(w);
    switch (w->m_state) {
    case Waiter::State::Waiting: {
        Channel *ch = w->m_channel;
        unlink(w);
        countWaiting(w, -1);
        releaseChannel(ch);
        break;
    }
    case Waiter::State::AwaitingReply:
        countWaiting(w, -1);
        m_pending.remove(w->m_requestId);
        m_remoteSwitches.remove(w);
        if (Waiter *clutch = w->m_partner) {
            w->m_partner = nullptr;
            Channel *ch = clutch->m_channel;
            unlink(clutch);
            countWaiting(clutch, -1);
            clutch->m_state = Waiter::State::Answered;
            delete clutch;
            releaseChannel(ch);
        }
        break;
    case Waiter::State::InFlight: {
        std::shared_ptr<Delivery> d = std::move(w->m_delivery);
        if (!d) {
            break;
        }
        if (d->source == w) {
            d->source = nullptr; // the receivers go on; nobody waits for the outcome
            break;
        }
        --m_inFlight;
        --d->pending;
        if (d->pubsub) {
            if (d->pending == 0) {
                finishDelivery(d);
            }
        } else {
            requeueSource(d.get());
        }
        break;
    }
    case Waiter::State::New:
    case Waiter::State::Answered:
        break;
    }
    w->m_state = Waiter::State::Answered;
}

// --- deadlines ---------------------------------------------------------------------------------------

void ChannelHub::setDeadline(Waiter *w, qint64 deadline, Waiter::DeadlineKind kind)
{
    clearDeadline(w);
    w->m_deadline = deadline;
    w->m_deadlineKind = kind;
    w->m_deadlinePos = m_deadlines.emplace(deadline, w);
    if (m_deadlines.begin() == w->m_deadlinePos) {
        m_clock->wakeAt(deadline);
    }
}

void ChannelHub::clearDeadline(Waiter *w)
{
    if (w->m_deadline >= 0) {
        m_deadlines.erase(w->m_deadlinePos);
        w->m_deadline = -1;
    }
}

void ChannelHub::onClockWoke()
{
    const qint64 now = m_clock->monotonicMs();
    while (!m_deadlines.empty() && m_deadlines.begin()->first <= now) {
        Waiter *w = m_deadlines.begin()->second;
        clearDeadline(w);
        expire(w);
    }
    if (!m_deadlines.empty()) {
        m_clock->wakeAt(m_deadlines.begin()->first);
    }
}

void ChannelHub::expire(Waiter *w)
{
    Answer a;
    a.kind = Answer::Kind::Timeout;
    if (w->m_state == Waiter::State::AwaitingReply) {
        if (w->m_deadlineKind == Waiter::DeadlineKind::Reply) {
            a.kind = Answer::Kind::ReplyTimeout;
        } else if (w->m_deadlineKind == Waiter::DeadlineKind::Switch) {
            a.kind = Answer::Kind::SwitchTimeout;
            a.detail = w->m_switchChannel;
            a.seconds = int(m_settings.switchTimeoutMs / 1000);
        }
    } else if (w->m_state == Waiter::State::InFlight && w->m_delivery && w->m_delivery->receiver == w) {
        return; // a message is being written to it: let it finish
    }
    onAbandoned(w);
    w->answer(a);
}

// --- shutdown ----------------------------------------------------------------------------------------

void ChannelHub::shutdown()
{
    if (m_shuttingDown) {
        return;
    }
    m_shuttingDown = true;
    QList<Waiter *> waiting;
    for (Channel *ch : std::as_const(m_channels)) {
        for (Waiter *w = ch->consumersHead; w; w = w->m_next) {
            waiting.append(w->m_partner ? w->m_partner : w);
        }
        for (Waiter *w = ch->producersHead; w; w = w->m_next) {
            waiting.append(w);
        }
        for (Waiter *w = ch->streamsHead; w; w = w->m_next) {
            waiting.append(w);
        }
    }
    for (Waiter *w : std::as_const(m_remoteSwitches)) {
        waiting.append(w);
    }
    for (Waiter *w : std::as_const(m_pending)) {
        waiting.append(w);
    }
    for (Waiter *w : std::as_const(waiting)) {
        if (w->m_state == Waiter::State::Answered) {
            continue;
        }
        onAbandoned(w);
        w->answer({Answer::Kind::ShuttingDown, {}, -1, {}, 0});
    }
}

} // namespace Patchwork
