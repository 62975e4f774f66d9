// SPDX-License-Identifier: MIT
#pragma once

#include <QImage>
#include <QString>

namespace Patchwork::Gui
{

// `text` as a QR code (libqrencode, error correction M) with a four-module quiet zone, each module
// `moduleSize` pixels; a null image when it cannot be encoded.
QImage qrCodeImage(const QString &text, int moduleSize = 6);

} // namespace Patchwork::Gui
