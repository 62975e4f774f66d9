// SPDX-License-Identifier: MIT
#include "gui/settings/traysettings.h"

#include <QDir>
#include <QFileInfo>
#include <QSettings>

#include "gui/notificationdispatcher.h"

namespace Patchwork::Gui
{

namespace
{

const QString LANGUAGE_KEY = QStringLiteral("general/language");
const QString START_AT_LAUNCH_KEY = QStringLiteral("relay/startAtLaunch");
const QString MAX_COUNT_KEY = QStringLiteral("history/maxCount");
const QString MAX_AGE_KEY = QStringLiteral("history/maxAgeDays");
const QString STORM_LIMIT_KEY = QStringLiteral("notifications/stormLimit");
const QString DO_NOT_DISTURB_KEY = QStringLiteral("notifications/doNotDisturb");

} // namespace

TraySettings TraySettings::load(QSettings &settings)
{
    TraySettings s;
    s.language = settings.value(LANGUAGE_KEY).toString();
    s.relay = RelayController::readSettings(settings);
    s.relayStartAtLaunch = settings.value(START_AT_LAUNCH_KEY, false).toBool();
    s.historyMaxCount = settings.value(MAX_COUNT_KEY, HistoryStore::DefaultMaxCount).toInt();
    s.historyMaxAgeDays = settings.value(MAX_AGE_KEY, HistoryStore::DefaultMaxAgeDays).toInt();
    s.stormLimit = settings.value(STORM_LIMIT_KEY, DesktopNotifier::DefaultStormLimit).toInt();
    s.doNotDisturb = settings.value(DO_NOT_DISTURB_KEY, false).toBool();
    return s;
}

void TraySettings::save(QSettings &settings) const
{
    settings.setValue(LANGUAGE_KEY, language);
    RelayController::writeSettings(settings, relay);
    settings.setValue(START_AT_LAUNCH_KEY, relayStartAtLaunch);
    settings.setValue(MAX_COUNT_KEY, historyMaxCount);
    settings.setValue(MAX_AGE_KEY, historyMaxAgeDays);
    settings.setValue(STORM_LIMIT_KEY, stormLimit);
    saveDoNotDisturb(settings, doNotDisturb);
}

void TraySettings::saveDoNotDisturb(QSettings &settings, bool on)
{
    settings.setValue(DO_NOT_DISTURB_KEY, on);
}

void TraySettings::apply(const TrayParts &parts, const TraySettings &previous) const
{
    if (parts.history) {
        parts.history->setBounds(historyMaxCount, historyMaxAgeDays);
    }
    if (parts.notifier) {
        parts.notifier->setStormLimit(stormLimit, DesktopNotifier::DefaultStormWindowMs);
    }
    if (parts.dispatcher) {
        parts.dispatcher->setDoNotDisturb(doNotDisturb);
    }
    if (parts.relay && !(relay == previous.relay)) {
        parts.relay->setSettings(relay);
    }
}

QString TraySettings::usersDirProblem(const QString &dir)
{
    if (dir.isEmpty()) {
        return {};
    }
    if (!QDir::isAbsolutePath(dir)) {
        return tr("Enter an absolute path.");
    }
    // The relay creates what is missing at start: the nearest existing ancestor decides.
    QFileInfo info(QDir::cleanPath(dir));
    while (!info.exists() && !info.isRoot()) {
        info = QFileInfo(info.absolutePath());
    }
    if (!info.isDir()) {
        return tr("%1 is not a folder.").arg(QDir::toNativeSeparators(info.absoluteFilePath()));
    }
    if (!info.isWritable()) {
        return tr("%1 is not writable.").arg(QDir::toNativeSeparators(info.absoluteFilePath()));
    }
    return {};
}

} // namespace Patchwork::Gui
