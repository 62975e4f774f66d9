// SPDX-License-Identifier: MIT
#include "gui/settings/autostart.h"

#include <algorithm>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>

namespace Patchwork::Gui
{

namespace
{

// Characters that force an Exec argument into double quotes (Desktop Entry spec, "The Exec key").
const QString RESERVED = QStringLiteral(" \t\n\"'\\><~|&;$*?#()`");

// The string escapes of a desktop entry value; applied after the Exec quoting.
QString escapeValue(const QString &value)
{
    QString out;
    for (const QChar c : value) {
        switch (c.unicode()) {
        case '\\':
            out += QStringLiteral("\\\\");
            break;
        case '\n':
            out += QStringLiteral("\\n");
            break;
        case '\t':
            out += QStringLiteral("\\t");
            break;
        case '\r':
            out += QStringLiteral("\\r");
            break;
        default:
            out += c;
        }
    }
    return out;
}

} // namespace

Autostart::Autostart()
    : Autostart(QCoreApplication::applicationFilePath())
{
}

Autostart::Autostart(const QString &executable)
    : m_executable(executable)
{
}

QString Autostart::filePath()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation))
        .filePath(QStringLiteral("autostart/patchwork-tray.desktop"));
}

QString Autostart::quoteExecArgument(const QString &argument)
{
    QString out = argument;
    out.replace(u'%', QStringLiteral("%%")); // a field code otherwise, quoted or not
    if (!argument.isEmpty()
        && std::none_of(argument.cbegin(), argument.cend(), [](QChar c) { return RESERVED.contains(c); })) {
        return out;
    }
    QString quoted;
    for (const QChar c : std::as_const(out)) {
        if (c == u'"' || c == u'`' || c == u'$' || c == u'\\') {
            quoted += u'\\';
        }
        quoted += c;
    }
    return u'"' + quoted + u'"';
}

QString Autostart::executable() const
{
    return m_executable;
}

bool Autostart::isEnabled() const
{
    QFile file(filePath());
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
        return false;
    }
    // Session managers switch an entry off without removing it; only the main group counts.
    bool mainGroup = false;
    while (!file.atEnd()) {
        const QString line = QString::fromUtf8(file.readLine()).trimmed();
        if (line.startsWith(u'[')) {
            mainGroup = line == u"[Desktop Entry]";
            continue;
        }
        const qsizetype eq = line.indexOf(u'=');
        if (!mainGroup || eq < 0) {
            continue;
        }
        const QString key = line.left(eq).trimmed();
        const QString value = line.mid(eq + 1).trimmed();
        if ((key == u"Hidden" && value == u"true") || (key == u"X-GNOME-Autostart-enabled" && value == u"false")) {
            return false;
        }
    }
    return true;
}

bool Autostart::setEnabled(bool enabled, QString *errorMessage) const
{
    const QString path = filePath();
    if (!enabled) {
        QFile file(path);
        if (file.exists() && !file.remove()) {
            if (errorMessage) {
                *errorMessage = tr("Cannot remove %1: %2").arg(path, file.errorString());
            }
            return false;
        }
        return true;
    }
    const QString dir = QFileInfo(path).absolutePath();
    if (!QDir().mkpath(dir)) {
        if (errorMessage) {
            *errorMessage = tr("Cannot create the folder %1.").arg(dir);
        }
        return false;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(entry()) < 0 || !file.commit()) {
        if (errorMessage) {
            *errorMessage = tr("Cannot write %1: %2").arg(path, file.errorString());
        }
        return false;
    }
    return true;
}

QByteArray Autostart::entry() const
{
    // Whether the relay starts with the tray is the setting relay/startAtLaunch, read at every start; the
    // entry itself never changes with the settings.
    const QStringList lines{
        QStringLiteral("[Desktop Entry]"),
        QStringLiteral("Type=Application"),
        QStringLiteral("Name=Patchwork"),
        u"Comment=" + escapeValue(tr("A local relay for your LAN, and desktop notifications from your scripts")),
        u"Exec=" + escapeValue(quoteExecArgument(m_executable)),
        QStringLiteral("Icon=patchwork-tray"),
        QStringLiteral("Terminal=false"),
        QStringLiteral("Categories=Network;Qt;"),
        QStringLiteral("X-GNOME-Autostart-enabled=true"),
    };
    return (lines.join(u'\n') + u'\n').toUtf8();
}

} // namespace Patchwork::Gui
