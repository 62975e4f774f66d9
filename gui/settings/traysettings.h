// SPDX-License-Identifier: MIT
#pragma once

#include <QCoreApplication>
#include <QString>

#include "gui/desktopnotifier.h"
#include "gui/historystore.h"
#include "gui/relaycontroller.h"

class QSettings;

namespace Patchwork::Gui
{

class NotificationDispatcher;

// The running parts the settings apply to; any may be null.
struct TrayParts
{
    HistoryStore *history = nullptr;
    DesktopNotifier *notifier = nullptr;
    NotificationDispatcher *dispatcher = nullptr;
    RelayController *relay = nullptr;
};

// What the Settings dialog edits, as the settings file keeps it, and how it reaches the running parts.
class TraySettings final
{
    Q_DECLARE_TR_FUNCTIONS(Patchwork::Gui::TraySettings)

public:
    // general/language: "" = the system's language, else a language code ("en", "de"); read at start.
    QString language;
    // relay/lan, relay/port, relay/usersDir (RelayController::readSettings); `host` is never stored.
    RelayController::Settings relay;
    // relay/startAtLaunch: the tray starts the local relay whenever it starts (a failure is a warning).
    bool relayStartAtLaunch = false;
    // history/maxCount, history/maxAgeDays (0 = unbounded).
    int historyMaxCount = HistoryStore::DefaultMaxCount;
    int historyMaxAgeDays = HistoryStore::DefaultMaxAgeDays;
    // notifications/stormLimit: pop-ups per subscription per 10 s.
    int stormLimit = DesktopNotifier::DefaultStormLimit;
    // notifications/doNotDisturb: the tray menu's toggle, kept across restarts.
    bool doNotDisturb = false;

    static TraySettings load(QSettings &settings);
    void save(QSettings &settings) const;
    static void saveDoNotDisturb(QSettings &settings, bool on);

    // History bounds, storm limit and do-not-disturb take effect at once. The relay defaults reach the
    // controller only when they differ from `previous` (so a run's --relay-* overrides stay until the user
    // edits them); a running relay uses them from its next start.
    void apply(const TrayParts &parts, const TraySettings &previous) const;

    // Why `dir` cannot be the local relay's users directory, or empty when it can: empty (the default in
    // the data directory), or an absolute path that is a writable directory or can be created as one.
    static QString usersDirProblem(const QString &dir);

    friend bool operator==(const TraySettings &, const TraySettings &) = default;
};

} // namespace Patchwork::Gui
