// SPDX-License-Identifier: MIT
#include "gui/logging.h"

Q_LOGGING_CATEGORY(lcGui, "patchwork.gui", QtInfoMsg)
