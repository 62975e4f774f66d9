// SPDX-License-Identifier: MIT
#include <cstdio>

#include <QApplication>

#include "gui/stalllog.h"
#include "gui/trayapplication.h"

int main(int argc, char *argv[])
{
    QApplication::setOrganizationName(QStringLiteral("patchwork"));
    QApplication::setApplicationName(QStringLiteral("patchwork-tray"));
    QApplication::setApplicationDisplayName(QStringLiteral("Patchwork"));
    QApplication::setApplicationVersion(QStringLiteral(PATCHWORK_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("patchwork-tray"));

    // Parsed before QApplication exists, so --help and bad options need no display.
    QStringList arguments;
    for (int i = 0; i < argc; ++i) {
        arguments.append(QString::fromLocal8Bit(argv[i]));
    }
    Patchwork::Gui::TrayApplication::Options options;
    QString error;
    if (!Patchwork::Gui::TrayApplication::parseArguments(arguments, &options, &error)) {
        std::fprintf(stderr, "patchwork-tray: %s\n", qPrintable(error));
        return 2;
    }

    QApplication app(argc, argv);
    QApplication::setQuitOnLastWindowClosed(false);
    // Event-loop stalls for tests/bench/traybench; inactive unless the variable names a file.
    const Patchwork::Gui::StallLog stallLog(qEnvironmentVariable("PATCHWORK_TRAY_STALL_LOG"));
    Patchwork::Gui::TrayApplication tray;
    if (!tray.start(options, &error)) {
        if (error.isEmpty()) {
            return 0; // another instance runs and was raised
        }
        std::fprintf(stderr, "patchwork-tray: %s\n", qPrintable(error));
        return 1;
    }
    return QApplication::exec();
}
