// SPDX-License-Identifier: MIT
#include "gui/urlopener.h"

#include <QDesktopServices>

namespace Patchwork::Gui
{

UrlOpener systemUrlOpener()
{
    return [](const QUrl &url) { return QDesktopServices::openUrl(url); };
}

} // namespace Patchwork::Gui
