// SPDX-License-Identifier: MIT
#pragma once

#include <QCoreApplication>
#include <QString>

namespace Patchwork::Gui
{

// "Start at login": the per-user XDG autostart entry $XDG_CONFIG_HOME/autostart/patchwork-tray.desktop
// (~/.config by default) that starts the tray binary, written atomically or removed.
class Autostart final
{
    Q_DECLARE_TR_FUNCTIONS(Patchwork::Gui::Autostart)

public:
    // The entry starts the running binary.
    Autostart();
    // The entry starts `executable` (an absolute path).
    explicit Autostart(const QString &executable);

    static QString filePath();
    // The Desktop Entry spec's quoting of one Exec argument (before the string escapes of the file format).
    static QString quoteExecArgument(const QString &argument);

    QString executable() const;
    // The entry exists and is not switched off (Hidden=true or X-GNOME-Autostart-enabled=false).
    bool isEnabled() const;
    // Writes (atomically) or removes the entry; false with `errorMessage` when that fails.
    bool setEnabled(bool enabled, QString *errorMessage = nullptr) const;
    // The text setEnabled(true) writes.
    QByteArray entry() const;

private:
    QString m_executable;
};

} // namespace Patchwork::Gui
