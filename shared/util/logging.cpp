// SPDX-License-Identifier: MIT
#include "util/logging.h"

Q_LOGGING_CATEGORY(lcEngine, "patchwork.engine", QtInfoMsg)
Q_LOGGING_CATEGORY(lcConfig, "patchwork.config", QtInfoMsg)
Q_LOGGING_CATEGORY(lcAcl, "patchwork.acl", QtInfoMsg)
Q_LOGGING_CATEGORY(lcNotify, "patchwork.notify", QtInfoMsg)
