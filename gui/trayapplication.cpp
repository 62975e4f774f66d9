// SPDX-License-Identifier: MIT
#include "gui/trayapplication.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDBusConnection>
#include <QDir>
#include <QStandardPaths>

#include "gui/desktopnotifier.h"
#include "gui/historystore.h"
#include "gui/logging.h"
#include "gui/notificationdispatcher.h"
#include "gui/singleinstance.h"
#include "gui/traycontroller.h"

namespace Patchwork::Gui
{

TrayApplication::TrayApplication(QObject *parent)
    : QObject(parent)
{
}

TrayApplication::~TrayApplication() = default;

bool TrayApplication::parseArguments(const QStringList &arguments, Options *options, QString *errorMessage)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(tr("Patchwork tray: a local relay, subscriptions and desktop notifications."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption noTray(QStringLiteral("no-tray"), tr("Show a normal window instead of a tray icon."));
    const QCommandLineOption multi(QStringLiteral("allow-multiple"),
                                   tr("Do not hand over to an instance that is already running."));
    parser.addOptions({noTray, multi});
    if (!parser.parse(arguments)) {
        *errorMessage = parser.errorText();
        return false;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        parser.showHelp(0);
    }
    if (parser.isSet(QStringLiteral("version"))) {
        parser.showVersion();
    }
    if (!parser.positionalArguments().isEmpty()) {
        *errorMessage = tr("Unexpected argument: %1").arg(parser.positionalArguments().constFirst());
        return false;
    }
    options->useTray = !parser.isSet(noTray);
    options->singleInstance = !parser.isSet(multi);
    return true;
}

bool TrayApplication::start(const Options &options, QString *errorMessage)
{
    if (options.singleInstance) {
        m_instance = std::make_unique<SingleInstance>();
        if (!m_instance->claim()) {
            qCInfo(lcGui) << "another instance is running; asked it to show itself";
            return false;
        }
    }
    const QString dataDir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    if (!QDir().mkpath(dataDir)) {
        *errorMessage = tr("Cannot create the data directory %1.").arg(dataDir);
        return false;
    }
    m_history = new HistoryStore(this);
    if (!m_history->open(QDir(dataDir).filePath(QStringLiteral("history.sqlite")), errorMessage)) {
        return false;
    }
    m_notifier = new DesktopNotifier(QDBusConnection::sessionBus(), systemUrlOpener(), this);
    m_notifier->setAppIcon(QStringLiteral("patchwork-tray"));
    m_dispatcher = new NotificationDispatcher(m_history, m_notifier, this);
    m_tray = new TrayController(m_history, m_notifier, m_dispatcher, systemUrlOpener(), options.useTray, this);
    connect(m_tray, &TrayController::quitRequested, qApp, &QCoreApplication::quit);
    if (m_instance) {
        connect(m_instance.get(), &SingleInstance::raiseRequested, m_tray, &TrayController::raise);
    }
    return true;
}

TrayController *TrayApplication::tray() const
{
    return m_tray;
}

HistoryStore *TrayApplication::history() const
{
    return m_history;
}

} // namespace Patchwork::Gui
