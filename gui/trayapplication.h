// SPDX-License-Identifier: MIT
#pragma once

#include <memory>

#include <QObject>
#include <QStringList>

namespace Patchwork::Gui
{

class DesktopNotifier;
class HistoryStore;
class NotificationDispatcher;
class SingleInstance;
class TrayController;

// The tray app assembled: parses the command line, claims the single instance, opens the history in the
// app's data dir, and wires the notifier, the dispatcher and the tray together. main() only runs it.
class TrayApplication final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrayApplication)

public:
    struct Options
    {
        bool useTray = true;
        bool singleInstance = true;
    };

    explicit TrayApplication(QObject *parent = nullptr);
    ~TrayApplication() override;

    // Parses `arguments` (argv); false with `errorMessage` on a bad option. --help and --version exit.
    static bool parseArguments(const QStringList &arguments, Options *options, QString *errorMessage);

    // Builds everything. Returns false when another instance runs (it was raised; exit 0) or on a fatal
    // error (then `errorMessage` is set; exit 1).
    bool start(const Options &options, QString *errorMessage);

    TrayController *tray() const;
    HistoryStore *history() const;

private:
    std::unique_ptr<SingleInstance> m_instance;
    HistoryStore *m_history = nullptr;
    DesktopNotifier *m_notifier = nullptr;
    NotificationDispatcher *m_dispatcher = nullptr;
    TrayController *m_tray = nullptr;
};

} // namespace Patchwork::Gui
