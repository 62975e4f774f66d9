// SPDX-License-Identifier: MIT
#include "engine/waiter.h"

#include "engine/channelhub.h"
#include "engine/replaybuffer.h"

namespace Patchwork
{

Waiter::Waiter(Role role, const QByteArray &key, QObject *parent)
    : QObject(parent)
    , m_role(role)
    , m_key(key)
{
}

Waiter::~Waiter()
{
    for (AnswerFrame *frame = m_answering; frame; frame = frame->outer) {
        frame->alive = false;
    }
    if (m_hub && (m_state == State::Waiting || m_state == State::InFlight || m_state == State::AwaitingReply)) {
        m_hub->onAbandoned(this);
    }
}

Waiter::Role Waiter::role() const
{
    return m_role;
}

const QByteArray &Waiter::key() const
{
    return m_key;
}

void Waiter::setMessage(const Message &message)
{
    m_message = message;
}

const Message &Waiter::message() const
{
    return m_message;
}

void Waiter::setMode(Mode mode)
{
    m_mode = mode;
}

Waiter::Mode Waiter::mode() const
{
    return m_mode;
}

void Waiter::setMinSubscribers(int n)
{
    m_minSubscribers = n;
}

void Waiter::setTimeoutMs(qint64 ms)
{
    m_timeoutMs = ms;
}

void Waiter::setReqRes(const QByteArray &ns, const QByteArray &id)
{
    m_ns = ns;
    m_id = id;
}

void Waiter::setResponderKind(ResponderKind kind, const QByteArray &switchChannel)
{
    m_responderKind = kind;
    m_switchChannel = switchChannel;
}

void Waiter::setReplyTo(const QByteArray &requestId)
{
    m_requestId = requestId;
}

void Waiter::setSince(const ReplaySince &since)
{
    if (since.kind == ReplaySince::Kind::None) {
        m_since.reset();
    } else {
        m_since = std::make_unique<ReplaySince>(since);
    }
}

void Waiter::setStreaming(bool streaming)
{
    m_streaming = streaming;
}

bool Waiter::isStreaming() const
{
    return m_streaming;
}

void Waiter::abandon()
{
    if (m_hub && (m_state == State::Waiting || m_state == State::InFlight || m_state == State::AwaitingReply)) {
        m_hub->onAbandoned(this);
    }
    m_state = State::Answered;
}

void Waiter::delivered()
{
    if (m_hub && m_state == State::InFlight) {
        m_hub->onDelivered(this);
    }
}

bool Waiter::isAnswered() const
{
    return m_state == State::Answered;
}

bool Waiter::isWaiting() const
{
    return m_state == State::Waiting;
}

bool Waiter::answer(const Answer &answer)
{
    AnswerFrame frame{true, m_answering};
    m_answering = &frame;
    Q_EMIT answered(answer);
    if (!frame.alive) {
        return false;
    }
    m_answering = frame.outer;
    return true;
}

} // namespace Patchwork
