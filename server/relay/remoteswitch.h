// SPDX-License-Identifier: MIT
#pragma once

#include <QObject>
#include <QUrl>

#include "access/hooksecret.h"
#include "engine/message.h"

namespace Patchwork
{
class ChannelHub;
class Waiter;
} // namespace Patchwork

namespace Patchwork::Server
{

// The double clutch across nodes (installer/cluster/): the reply to a switch requester is the next message
// on `<ns>/<c>`, which another node may own. Started with `--cluster-url`, the relay fetches it through the
// front proxy with an internal GET of `<ns>/<c>` signed by HMAC(SECRET_KEY, "s:<ns>/<c>") in `Patch-Switch`;
// the owning node answers with the message's Patch-Status and its carried headers as Patch-H-* (see
// RelayServer), which become the requester's reply unchanged. A failed fetch (the owner is down) is
// retried every `retryMs` while the requester waits; its switch timeout stays the engine's.
class RemoteSwitch final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RemoteSwitch)

public:
    // `clusterUrl`: http://host:port[/prefix] of the proxy. `secret`: the nodes' shared SECRET_KEY.
    RemoteSwitch(ChannelHub *hub, const QUrl &clusterUrl, const HookSecret &secret, QObject *parent = nullptr);

    static constexpr QByteArrayView SIGNATURE_HEADER = "Patch-Switch";
    // The signature of a fetch of `<ns>/<channel>`.
    static QByteArray signature(const HookSecret &secret, QByteArrayView ns, QByteArrayView channel);
    // What the owning node answers a signed fetch with: the message as one 200 response.
    static HeaderList responseHeaders(const Message &message);

    void fetch(Waiter *requester, const QByteArray &ns, const QByteArray &channel);

    void setRetryInterval(int ms);

private:
    class Fetch;

    ChannelHub *m_hub;
    QUrl m_url;
    HookSecret m_secret;
    int m_retryMs = 500;
};

} // namespace Patchwork::Server
