// SPDX-License-Identifier: MIT
#pragma once

#include <functional>

#include <QUrl>

namespace Patchwork::Gui
{

// Opens a URL in the user's browser; injected so tests can record what would be opened.
using UrlOpener = std::function<bool(const QUrl &url)>;

// QDesktopServices::openUrl.
UrlOpener systemUrlOpener();

} // namespace Patchwork::Gui
