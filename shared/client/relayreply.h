// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QString>

#include "engine/message.h"

class QNetworkReply;

namespace Patchwork::Client
{

// The answer to one RelayClient call. It emits finished() once, after which status(), body() and the
// headers are set. Owned by the caller (deleteLater() it when done); deleting it aborts the call.
class RelayReply final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RelayReply)

public:
    // Takes `reply` over.
    explicit RelayReply(QNetworkReply *reply, QObject *parent = nullptr);
    ~RelayReply() override;

    bool isFinished() const;
    // The HTTP status; 0 when no response arrived (then errorString() says why).
    int status() const;
    QByteArray body() const;
    QByteArray header(QByteArrayView name) const;
    HeaderList headers() const;
    // Patch-Id of the message published or received (PROTOCOL §4.1).
    QByteArray patchId() const;
    // Patch-Subscribers of a pubsub publish; -1 when absent.
    int subscribers() const;
    // Patch-Gap: messages may have been missed before the one received.
    bool gap() const;
    // Empty on 2xx; else the server's one-line reason, or why no response came.
    QString errorString() const;
    // Stops the call; finished() is then never emitted.
    void abort();

Q_SIGNALS:
    void finished();

private:
    void onFinished();

    QPointer<QNetworkReply> m_reply;
    int m_status = 0;
    QByteArray m_body;
    HeaderList m_headers;
    QString m_errorString;
    bool m_finished = false;
};

} // namespace Patchwork::Client
