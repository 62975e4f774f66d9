// SPDX-License-Identifier: MIT
#include "http/serverlogging.h"

Q_LOGGING_CATEGORY(lcServer, "patchwork.server", QtInfoMsg)
Q_LOGGING_CATEGORY(lcTunnel, "patchwork.tunnel", QtInfoMsg)
