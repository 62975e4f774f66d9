// SPDX-License-Identifier: MIT
#include "client/clientlogging.h"

Q_LOGGING_CATEGORY(lcClient, "patchwork.client", QtInfoMsg)
