// SPDX-License-Identifier: MIT
#include "relay/eventstreams.h"

#include <QTcpSocket>

#include "engine/channelhub.h"
#include "engine/replaybuffer.h"
#include "engine/waiter.h"
#include "http/directwrite.h"
#include "http/httpconnection.h"
#include "http/httputil.h"
#include "http/serverlogging.h"
#include "protocol/sse.h"
#include "util/clock.h"

namespace Patchwork::Server
{

namespace
{

// Writes at least this large are kept by QIODevice as shared, not copied (QRINGBUFFER_CHUNKSIZE).
constexpr qsizetype SHARED_WRITE = 4096;

bool acceptsEventStream(QByteArrayView accept)
{
    while (!accept.isEmpty()) {
        const qsizetype comma = accept.indexOf(',');
        QByteArrayView item = comma < 0 ? accept : accept.first(comma);
        accept = comma < 0 ? QByteArrayView() : accept.sliced(comma + 1);
        const qsizetype semicolon = item.indexOf(';');
        if (semicolon >= 0) {
            item = item.first(semicolon);
        }
        if (item.trimmed().compare("text/event-stream", Qt::CaseInsensitive) == 0) {
            return true;
        }
    }
    return false;
}

} // namespace

EventStreams::EventStreams(ChannelHub *hub, QObject *parent)
    : QObject(parent)
    , m_hub(hub)
    , m_clock(hub->clock())
{
    connect(m_clock, &Clock::woke, this, &EventStreams::onClockWoke);
}

EventStreams::~EventStreams() = default;

void EventStreams::setSettings(const Settings &settings)
{
    m_settings = settings;
    if (m_nextKeepalive >= 0) {
        m_nextKeepalive = m_clock->monotonicMs() + m_settings.keepaliveMs;
        m_clock->wakeAt(m_nextKeepalive);
    }
}

const EventStreams::Settings &EventStreams::settings() const
{
    return m_settings;
}

qsizetype EventStreams::count() const
{
    return m_streams.size();
}

// --- requests ----------------------------------------------------------------------------------------

bool EventStreams::prepareConsumer(HttpConnection *c,
                                   const HttpRequest &r,
                                   const QueryParams &query,
                                   QByteArrayView path,
                                   Waiter *waiter)
{
    bool stream = false;
    if (query.has("stream")) {
        if (query.value("stream").compare("sse", Qt::CaseInsensitive) != 0) {
            c->respondText(400, "Invalid stream (use stream=sse)");
            return false;
        }
        stream = true;
    } else {
        stream = acceptsEventStream(r.header("Accept"));
    }
    if (stream && path.startsWith("queue/")) {
        c->respondText(400, "Event streams need a pubsub channel");
        return false;
    }
    // An EventSource reconnects to the same URL (since= and all) and says where it got to in
    // Last-Event-ID, which therefore wins.
    const QByteArray lastEventId = r.header("Last-Event-ID");
    waiter->setSince(parseSince(lastEventId.isEmpty() ? query.value("since") : lastEventId));
    waiter->setStreaming(stream);
    return true;
}

void EventStreams::run(HttpConnection *c, Waiter *w)
{
    // The entry goes when the stream ends, is dropped or its client leaves (`closed`); a waiter is
    // otherwise destroyed only with its connection when the whole relay goes, and this object with it.
    m_streams.insert(w, c);
    connect(w, &Waiter::answered, c, [this, c, w](const Answer &a) { onAnswered(c, w, a); });
    connect(c, &HttpConnection::closed, w, [this, w]() {
        m_streams.remove(w);
        w->abandon();
    });
    m_replaying = w;
    m_hub->submit(w);
    m_replaying = nullptr;
    if (m_streams.contains(w) && !c->isResponding()) {
        start(c); // nothing to replay: the stream opens now
    }
}

// --- writing -----------------------------------------------------------------------------------------

void EventStreams::start(HttpConnection *c)
{
    c->startStream(200,
                   {{QByteArrayLiteral("Content-Type"), QByteArrayLiteral("text/event-stream")},
                    {QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-cache")},
                    {QByteArrayLiteral("X-Accel-Buffering"), QByteArrayLiteral("no")}});
    c->socket()->flush();
    if (m_nextKeepalive < 0) {
        m_nextKeepalive = m_clock->monotonicMs() + m_settings.keepaliveMs;
        m_clock->wakeAt(m_nextKeepalive);
    }
}

void EventStreams::onAnswered(HttpConnection *c, Waiter *w, const Answer &a)
{
    if (!m_streams.contains(w)) {
        return; // dropped or closed
    }
    switch (a.kind) {
    case Answer::Kind::Message:
        if (!c->isResponding()) {
            start(c);
        }
        if (a.gap && !send(c, w, chunk(Sse::GAP_EVENT))) {
            return;
        }
        send(c, w, frameOf(a.message));
        return;
    case Answer::Kind::ShuttingDown:
        finish(c, w, true);
        return;
    case Answer::Kind::Timeout:
    case Answer::Kind::Done:
    case Answer::Kind::ReplyTimeout:
    case Answer::Kind::SwitchTimeout:
    case Answer::Kind::NoPendingRequest:
    case Answer::Kind::ReceiverLeft:
        finish(c, w, false);
        return;
    }
}

// Writes one framed event (or comment) to the stream, unless the client has fallen too far behind:
// then the stream is dropped and false returned.
bool EventStreams::send(HttpConnection *c, Waiter *w, const QByteArray &frame)
{
    if (w != m_replaying && c->bytesToWrite() > m_settings.maxUnsentBytes) {
        drop(c, w);
        return false;
    }
    // The frame is already a complete chunk of the stream's chunked body, handed to the kernel now: one
    // send() per stream and no wait for the socket notifier.
    QTcpSocket *socket = c->socket();
    // A small frame on a stream that keeps up goes straight to the kernel (writeDirect): copying it into
    // Qt's write buffer would make the socket keep a 16 KiB block for good. A large frame is shared with
    // every other stream, not copied. A write error closes the connection from inside flush().
    if (frame.size() >= SHARED_WRITE) {
        socket->write(frame);
    } else if (writeDirect(socket, frame)) {
        return true;
    }
    socket->flush();
    return true;
}

void EventStreams::drop(HttpConnection *c, Waiter *w)
{
    qCDebug(lcServer).noquote() << "dropping an event stream whose client stopped reading:" << c->bytesToWrite()
                                << "bytes unsent";
    m_streams.remove(w);
    w->abandon();
    // Discards what is unsent and closes; the connection and its waiter go with the next event loop pass.
    c->socket()->abort();
}

void EventStreams::finish(HttpConnection *c, Waiter *w, bool closeAfter)
{
    m_streams.remove(w);
    if (closeAfter) {
        c->setCloseAfterResponse();
    }
    if (!c->isResponding()) {
        if (closeAfter) {
            c->respondText(503, "Server shutting down");
        } else {
            c->respond(204, {}, {});
        }
    } else {
        c->endStream();
        c->socket()->flush();
    }
    w->deleteLater();
}

const QByteArray &EventStreams::frameOf(const Message &message)
{
    if (message.id.isEmpty() || message.id != m_frameId) {
        m_frame = chunk(Sse::encodeMessage(message.id, message.body));
        m_frameId = message.id;
    }
    return m_frame;
}

void EventStreams::onClockWoke()
{
    if (m_nextKeepalive < 0 || m_clock->monotonicMs() < m_nextKeepalive) {
        return;
    }
    if (m_streams.isEmpty()) {
        m_nextKeepalive = -1;
        return;
    }
    static const QByteArray frame = chunk(Sse::KEEPALIVE);
    const QHash<Waiter *, HttpConnection *> streams = m_streams; // a drop changes m_streams
    for (auto it = streams.cbegin(); it != streams.cend(); ++it) {
        if (m_streams.contains(it.key()) && it.value()->isResponding()) {
            send(it.value(), it.key(), frame);
        }
    }
    m_nextKeepalive = m_clock->monotonicMs() + m_settings.keepaliveMs;
    m_clock->wakeAt(m_nextKeepalive);
}

// --- framing -----------------------------------------------------------------------------------------

QByteArray EventStreams::chunk(QByteArrayView data)
{
    QByteArray out;
    out.reserve(data.size() + 16);
    out += QByteArray::number(data.size(), 16);
    out += "\r\n";
    out += data;
    out += "\r\n";
    return out;
}

} // namespace Patchwork::Server
