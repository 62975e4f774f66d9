// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace Patchwork
{

struct RequestClass;

// The shard key: which daemon of several behind a front proxy must serve a request, so that every party of
// one channel meets on one node (docs/DECISIONS.md "Several daemons: the shard key"). Derived from the
// classification the router uses (the path after dot-segment removal and percent-decoding, `/p/` =
// `public`):
//   queue, pubsub, flexible and SSE channels       -> `<ns>/<channel path>`
//   `req/<id>` and `res/<id>` (replies, prefix ids) -> `<ns>/rr/<first segment of the id>`
//   `/u/<user>/_/…` (notify, admin), `/huproxy/<user>/…` -> `u/<user>`
//   everything else (`/`, `/h`, `/r`, health, metrics, static files, paths that are refused) -> any node
// An empty key means any node. The method and the query never change the key. installer/cluster/
// patchwork-shard.lua computes the same key in the proxy; tests/cluster checks both agree.
QByteArray shardKey(const RequestClass &request);

// The key of a request from its method and raw request target (`/p/a%2Fb?x=1`), normalised as the router
// normalises it.
QByteArray shardKey(QByteArrayView method, QByteArrayView target);

// The value of the `Patch-Shard` header the proxy sets: the key percent-encoded (everything but
// ALPHA, DIGIT, `-._~/`, upper-case hex), or `*` for any node.
QByteArray shardHeaderValue(QByteArrayView key);

} // namespace Patchwork
