// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QHash>
#include <QObject>

#include "engine/message.h"

namespace Patchwork
{
class ChannelHub;
class Clock;
class Waiter;
struct Answer;
} // namespace Patchwork

namespace Patchwork::Server
{

class HttpConnection;
class QueryParams;
struct HttpRequest;

// The relay's Server-Sent Event streams (PROTOCOL §4.1): a consumer GET with `Accept:
// text/event-stream` or `?stream=sse` stays open and gets one event per pubsub message of its channel,
// after what it asked to replay (`Last-Event-ID` or `since=`).
//
// Each message is serialised once, as one HTTP chunk, and the same bytes go to every stream. A stream
// whose client stopped reading is dropped (its connection closed) as soon as its unsent data passes a
// bound, so it never holds more than that bound plus one event and never delays the others. One
// server-wide tick, on the injected clock, writes a keep-alive comment to every stream.
class EventStreams final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EventStreams)

public:
    struct Settings
    {
        qint64 keepaliveMs = 30'000;
        // A stream with more unsent bytes than this when an event or keep-alive is due is dropped.
        qint64 maxUnsentBytes = qint64(1024) * 1024;
    };

    explicit EventStreams(ChannelHub *hub, QObject *parent = nullptr);
    ~EventStreams() override;

    void setSettings(const Settings &settings);
    const Settings &settings() const;

    // Reads the replay and streaming parameters of a consumer request (`path` is the channel path
    // within its namespace) into `waiter`. Returns false when `c` was answered with an error (`400`);
    // the waiter must then not be used.
    static bool prepareConsumer(HttpConnection *c,
                                const HttpRequest &r,
                                const QueryParams &query,
                                QByteArrayView path,
                                Waiter *waiter);

    // Submits a streaming consumer to the engine and writes its events to `c` until the stream ends
    // (`?timeout=`, shutdown), its client leaves or falls behind. The waiter belongs to `c`.
    void run(HttpConnection *c, Waiter *waiter);

    // Open streams.
    qsizetype count() const;

    // `data` framed as one HTTP/1.1 chunk.
    static QByteArray chunk(QByteArrayView data);

private:
    void onAnswered(HttpConnection *c, Waiter *w, const Answer &a);
    void start(HttpConnection *c);
    bool send(HttpConnection *c, Waiter *w, const QByteArray &frame);
    void drop(HttpConnection *c, Waiter *w);
    void finish(HttpConnection *c, Waiter *w, bool closeAfter);
    const QByteArray &frameOf(const Message &message);
    void onClockWoke();

    ChannelHub *m_hub;
    Clock *m_clock;
    Settings m_settings;
    QHash<Waiter *, HttpConnection *> m_streams;
    // The stream being given its replay: exempt from the unsent-bytes bound meanwhile (a replay is
    // bounded by the channel's replay limit).
    Waiter *m_replaying = nullptr;
    // The last message serialised, shared by every stream it goes to.
    QByteArray m_frameId;
    QByteArray m_frame;
    qint64 m_nextKeepalive = -1;
};

} // namespace Patchwork::Server
