// SPDX-License-Identifier: MIT
#include "gui/qrcode.h"

#include <memory>

#include <QPainter>

#include <qrencode.h>

namespace Patchwork::Gui
{

QImage qrCodeImage(const QString &text, int moduleSize)
{
    const QByteArray utf8 = text.toUtf8();
    const std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
        QRcode_encodeString(utf8.constData(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
    if (!code || moduleSize < 1) {
        return {};
    }
    constexpr int QUIET_ZONE = 4;
    const int modules = code->width + 2 * QUIET_ZONE;
    QImage image(modules * moduleSize, modules * moduleSize, QImage::Format_RGB32);
    image.fill(Qt::white);
    QPainter painter(&image);
    for (int y = 0; y < code->width; ++y) {
        for (int x = 0; x < code->width; ++x) {
            // Bit 0 of each byte: 1 = dark module.
            if (code->data[y * code->width + x] & 1) {
                painter.fillRect(
                    (x + QUIET_ZONE) * moduleSize, (y + QUIET_ZONE) * moduleSize, moduleSize, moduleSize, Qt::black);
            }
        }
    }
    return image;
}

} // namespace Patchwork::Gui
