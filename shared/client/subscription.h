// SPDX-License-Identifier: MIT
#pragma once

#include <memory>

#include <QByteArray>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrl>

class QNetworkReply;

namespace Patchwork
{
class Clock;
class SseParser;
} // namespace Patchwork

namespace Patchwork::Client
{

// One message received on a subscription.
struct Event
{
    QByteArray id; // Patch-Id: what the subscription resumes from
    QByteArray type; // "message", or "binary" for a body that is not UTF-8
    QByteArray data; // the body (decoded from base64 for "binary"; text lines joined with LF)
};

// A lossless subscription to one pubsub channel (PROTOCOL §4.1): one Server-Sent Events stream to the
// channel's URL that, whenever it breaks, is opened again with `Last-Event-ID`, so the server replays
// what was published meanwhile from its replay buffer.
//
// Reconnects back off exponentially (1 s doubling to 60 s, ±20 % jitter; never sooner than a
// `Retry-After`, as a 429 or 503 sends); the backoff starts again after a connection that delivered a message or stayed
// up for 30 s. A client error (`4xx` other than 408 and 429, such as `401`/`403`) is terminal: the status
// becomes Failed with the server's one-line reason, and nothing is retried until setUrl(), setToken() or
// start() is called again. A stream silent for longer than two and a half keep-alive periods is assumed
// dead and reopened. All timing runs on the injected clock.
//
// Each subscription has its own QNetworkAccessManager: one manager opens at most six connections to a
// host, and every open stream holds one.
class Subscription final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Subscription)
    Q_PROPERTY(Status status READ status NOTIFY statusChanged)
    Q_PROPERTY(QString errorString READ errorString NOTIFY statusChanged)
    Q_PROPERTY(int retryIn READ retryIn NOTIFY statusChanged)
    Q_PROPERTY(QByteArray lastEventId READ lastEventId WRITE setLastEventId NOTIFY lastEventIdChanged)

public:
    enum class Status
    {
        Idle, // not started, or stopped
        Connecting, // the first attempt since start() is under way
        Connected, // the stream is open
        Reconnecting, // waiting for the next attempt (retryIn), or making it
        Failed, // a terminal error (errorString); waits for setUrl(), setToken() or start()
    };
    Q_ENUM(Status)

    struct Settings
    {
        qint64 initialBackoffMs = 1000;
        qint64 maxBackoffMs = 60'000;
        // Each delay is varied by up to this fraction either way, so clients cut off together do not
        // come back together.
        double jitter = 0.2;
        // The longest Retry-After honoured.
        qint64 maxRetryAfterMs = 3'600'000;
        // No byte (not even a keep-alive, sent every 30 s) for this long: the stream is reopened.
        qint64 inactivityTimeoutMs = 75'000;
        // A connection that stayed up this long resets the backoff.
        qint64 stableAfterMs = 30'000;
        // The largest event accepted (above the relay's default 64 MiB body limit in base64); a larger
        // one is a terminal error, since resuming would only bring it again.
        qint64 maxEventBytes = qint64(96) * 1024 * 1024;
    };

    explicit Subscription(Clock *clock, QObject *parent = nullptr);
    ~Subscription() override;

    void setSettings(const Settings &settings);
    const Settings &settings() const;

    // The channel's full URL (server base URL plus channel path); `stream=sse` is added. A change while
    // started reconnects at once (and ends Failed); setting the same value again does nothing (start()
    // retries).
    void setUrl(const QUrl &url);
    QUrl url() const;
    // Sent as `Authorization: Bearer`; empty: none. Changes take effect as setUrl()'s do.
    void setToken(const QString &token);
    // Where the next connection resumes from (persist it to resume across restarts).
    void setLastEventId(const QByteArray &id);
    QByteArray lastEventId() const;

    Status status() const;
    // Why the last attempt or connection failed (empty while connected and after start()).
    QString errorString() const;
    // Whole seconds until the next attempt while Reconnecting and waiting; else 0. It counts down with no
    // signal (statusChanged() marks a new wait): a display polls it.
    int retryIn() const;
    // The monotonic time (on the clock) of the next attempt, or -1.
    qint64 nextAttemptMs() const;
    // The monotonic time bytes last arrived on the open attempt or stream (keep-alives included), or -1.
    qint64 lastReceivedMs() const;

public Q_SLOTS:
    void start();
    void stop();
    // Opens the stream again at once, with the backoff reset (after a wake-up or a network change);
    // does nothing while Idle or Failed.
    void reconnectNow();

Q_SIGNALS:
    void statusChanged();
    void lastEventIdChanged();
    void messageReceived(const Patchwork::Client::Event &event);
    // The server no longer had the message the stream resumed from: some may have been missed.
    void gapDetected();

private:
    void open(Status status);
    void closeReply();
    void onMetaDataChanged();
    void onReadyRead();
    void onFinished();
    void onClockWoke();
    void connectionLost(const QString &error);
    void scheduleRetry(const QString &error, qint64 retryAfterMs = -1);
    void fail(const QString &error);
    void setStatus(Status status, const QString &error);
    void armWatchdog();
    qint64 backoffMs() const;

    Clock *m_clock;
    Settings m_settings;
    QNetworkAccessManager m_network;
    QPointer<QNetworkReply> m_reply;
    std::unique_ptr<SseParser> m_parser;
    QUrl m_url;
    QString m_token;
    QByteArray m_lastEventId;
    QString m_errorString;
    Status m_status = Status::Idle;
    int m_failures = 0; // consecutive attempts that failed since the last good connection
    qint64 m_nextAttemptMs = -1;
    qint64 m_lastActivityMs = -1; // while an attempt or stream is open: when bytes last arrived
    qint64 m_connectedAtMs = -1;
    qint64 m_serverRetryMs = -1; // the stream's `retry:`, the first delay instead of initialBackoffMs
    bool m_delivered = false; // the current connection delivered an event
};

} // namespace Patchwork::Client
