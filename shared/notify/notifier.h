// SPDX-License-Identifier: MIT
#pragma once

#include <functional>
#include <map>
#include <optional>

#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <QVariantMap>

#include "notify/notification.h"

class QNetworkAccessManager;
class QNetworkReply;

namespace Patchwork
{

class Clock;

// Sends notifications (PROTOCOL §10) through a user's backend: matrix, ntfy, gotify, webhook or channel.
// Everything is asynchronous; a send finishes through its callback and the finished() signal, always
// from the event loop (never inside send()). Secrets from the backend configuration never appear in
// results or log output.
class Notifier final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Notifier)

public:
    // status: 200 sent; 500 invalid backend configuration; 502 the backend failed; 503 no backend.
    // message: "sent" on success, else the one-line error text for the HTTP response.
    struct Result
    {
        int status = 200;
        QString message;
        // The same text through the translator, for people (the tray shows it; the daemon loads no
        // translation, so there it equals `message`). Set for every result of checkConfig(); `message`
        // stays the protocol's English for HTTP bodies and logs.
        QString localizedMessage;
    };
    using Done = std::function<void(const Result &result)>;
    using PublishDone = std::function<void(bool ok, QString error)>;
    // Publishes `json` in pubsub mode to `/u/<user>/<channelPath>`; `channelPath` has no leading `/`.
    // Calls `done` once, now or later.
    using ChannelPublisher =
        std::function<void(const QString &user, const QString &channelPath, const QByteArray &json, PublishDone done)>;

    static constexpr qint64 DefaultTimeoutMs = 10'000;
    // Upstream responses larger than this are cut off (the body is only read for error details).
    static constexpr qint64 MaxResponseBytes = 1 << 20;

    // `clock` gives timeouts and notification times. `network` is used when given (not owned),
    // otherwise the notifier makes its own.
    explicit Notifier(Clock *clock, QNetworkAccessManager *network = nullptr, QObject *parent = nullptr);
    ~Notifier() override;

    void setTimeoutMs(qint64 ms);
    qint64 timeoutMs() const;

    // Needed by the `channel` backend; without it, channel backends answer 503.
    void setChannelPublisher(ChannelPublisher publisher);

    // Checks a backend block (`ntfy.type`, `ntfy.config`) without sending: nullopt when usable, else the
    // 500/503 result a send would give, with its localizedMessage. A matrix block without room_id passes (a
    // notification may name the room).
    static std::optional<Result> checkConfig(const QString &type, const QVariantMap &config);

    // Sends `notification` for `user` (the namespace owner) through the backend `type`/`config`, as the
    // config model hands them over (an empty type means no `ntfy` block). A notification without a time
    // gets the clock's. Returns an id also carried by finished(). `done` runs exactly once, unless the
    // notifier is destroyed first.
    quint64 send(const QString &user,
                 const QString &type,
                 const QVariantMap &config,
                 const Notification &notification,
                 Done done = {});

    // Sends still waiting for their backend.
    int pendingCount() const;

    // https://<server part of a Matrix user id> (`@bot:example.org:8448` ⇒ https://example.org:8448);
    // an invalid URL when the id has no server part.
    static QUrl defaultMatrixEndpoint(const QString &userId);

Q_SIGNALS:
    void finished(quint64 id, int status, const QString &message);

private:
    struct Pending
    {
        qint64 deadline = 0;
        QPointer<QNetworkReply> reply;
        Done done;
        QString backend;
        QString user;
        // Config values that must never be shown (tokens, custom header values).
        QStringList secrets;
        bool timedOut = false;
        bool tooLarge = false;
    };

    void finish(quint64 id, Result result);
    void onReplyFinished(quint64 id);
    void onClockWoke();
    void armClock();
    QString nextTransactionId();
    QString timeoutText() const;

    Clock *m_clock;
    QNetworkAccessManager *m_network;
    ChannelPublisher m_publisher;
    qint64 m_timeoutMs = DefaultTimeoutMs;
    quint64 m_nextId = 1;
    quint64 m_txnCounter = 0;
    std::map<quint64, Pending> m_pending;
};

} // namespace Patchwork
