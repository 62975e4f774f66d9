// SPDX-License-Identifier: MIT
#pragma once

#include <QNetworkAccessManager>
#include <QObject>
#include <QUrl>

#include "engine/message.h"

namespace Patchwork::Client
{

class RelayReply;

// One-shot calls to a relay's channels: publish a message, or wait for one (a long poll). The replies
// are the caller's. Calls share one QNetworkAccessManager, which opens at most six connections per
// server: more calls to one server that wait at once queue behind them (use a Subscription, which has
// its own, to follow a channel).
class RelayClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RelayClient)

public:
    explicit RelayClient(QObject *parent = nullptr);
    ~RelayClient() override;

    // POSTs `body` to `channel` (a full URL) with `headers` (e.g. Content-Type, Patch-H-*) and, when
    // not empty, `Authorization: Bearer <token>`. A pubsub publish answers at once with Patch-Id and
    // Patch-Subscribers; a queue publish when a consumer took the message.
    RelayReply *
    publish(const QUrl &channel, const QByteArray &body, const HeaderList &headers = {}, const QString &token = {});

    // GETs one message from `channel`: with `since` (PROTOCOL §4.1: `all`, an id, Unix seconds or a
    // duration) from the replay buffer, with `timeoutSeconds` > 0 a `204` when nothing arrived by then.
    RelayReply *
    receive(const QUrl &channel, const QByteArray &since = {}, double timeoutSeconds = 0, const QString &token = {});

private:
    QNetworkAccessManager m_network;
};

} // namespace Patchwork::Client
