// SPDX-License-Identifier: MIT
// Renders the tray's windows with sample data into PNG files for the README (tests/gui/screenshots.sh runs
// it under xvfb-run, once per language). Not a test: it asserts nothing.
//   patchwork_screenshots OUT_DIR [LANGUAGE]      (LANGUAGE: en or de, as --lang of the tray; default en)
#include <cstdio>

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLineEdit>
#include <QMenu>
#include <QPainter>
#include <QSettings>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>

#include "access/userconfig.h"
#include "gui/editor/acltesterpanel.h"
#include "gui/editor/configdocument.h"
#include "gui/editor/configeditorwindow.h"
#include "gui/editor/newtokendialog.h"
#include "gui/historystore.h"
#include "gui/historywindow.h"
#include "gui/mainwindow.h"
#include "gui/relaycontroller.h"
#include "gui/relaypanel.h"
#include "gui/settings/settingsdialog.h"
#include "gui/subscriptionconfig.h"
#include "gui/subscriptiondialog.h"
#include "gui/subscriptionmanager.h"
#include "gui/trayapplication.h"
#include "gui/traycontroller.h"

using namespace Patchwork;
using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;

namespace
{

void addSample(HistoryStore *history,
               int minutesAgo,
               const QString &sub,
               const QString &title,
               const QString &body,
               const QString &click = {})
{
    HistoryEntry e;
    e.time = QDateTime::currentDateTimeUtc().addSecs(-60 * minutesAgo);
    e.subscription = sub;
    e.title = title;
    e.body = body;
    e.clickUrl = click;
    e.read = minutesAgo > 30;
    history->add(e);
}

bool save(QWidget *widget, const QString &file)
{
    const QPixmap pixmap = widget->grab();
    if (!pixmap.save(file)) {
        std::fprintf(stderr, "cannot write %s\n", qPrintable(file));
        return false;
    }
    std::printf("wrote %s\n", qPrintable(file));
    return true;
}

} // namespace

int main(int argc, char *argv[])
{
    QTemporaryDir home;
    qputenv("XDG_DATA_HOME", home.filePath(u"data"_s).toUtf8());
    qputenv("XDG_CONFIG_HOME", home.filePath(u"config"_s).toUtf8());
    QApplication::setOrganizationName(u"patchwork"_s);
    QApplication::setApplicationName(u"patchwork-tray"_s);
    QApplication app(argc, argv);
    QApplication::setQuitOnLastWindowClosed(false);
    const QString out = argc > 1 ? QString::fromLocal8Bit(argv[1]) : u"docs/screenshots"_s;
    const QString language = argc > 2 ? QString::fromLocal8Bit(argv[2]) : u"en"_s;
    QDir().mkpath(out);
    // The sample data in the screenshot's language, as a user would have it.
    const bool de = language == u"de";
    const auto sample = [de](const QString &english, const QString &german) { return de ? german : english; };

    {
        QSettings settings;
        SubscriptionConfig a;
        a.id = u"a"_s;
        a.name = sample(u"Server alerts"_s, u"Server-Alarme"_s);
        a.serverUrl = QUrl(u"http://127.0.0.1:1"_s); // nothing listens: shows a reconnecting state
        a.channelPath = u"/public/pubsub/alerts"_s;
        SubscriptionConfig b = a;
        b.id = u"b"_s;
        b.name = sample(u"Backups"_s, u"Sicherungen"_s);
        b.enabled = false;
        SubscriptionSettings::save(settings, {a, b});
        settings.setValue(u"relay/lan"_s, true);
        settings.setValue(u"relay/port"_s, RelayController::DefaultPort);
    }

    TrayApplication tray;
    TrayApplication::Options options;
    options.useTray = false; // Xvfb has no tray host; the menu and panels are grabbed directly
    options.singleInstance = false;
    options.startRelay = true;
    options.language = language;
    QString error;
    if (!tray.start(options, &error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    HistoryStore *history = tray.history();
    const QString alerts = sample(u"Server alerts"_s, u"Server-Alarme"_s);
    addSample(history,
              2,
              alerts,
              sample(u"⚠️ Disk almost full"_s, u"⚠️ Platte fast voll"_s),
              sample(u"/var is at 93% on web-1"_s, u"/var ist auf web-1 zu 93 % belegt"_s));
    addSample(history,
              9,
              u"CI"_s,
              sample(u"build 7 passed"_s, u"Build 7 erfolgreich"_s),
              sample(u"main @ 4f2a91c, 312 tests"_s, u"main @ 4f2a91c, 312 Tests"_s),
              u"https://ci.example.org/7"_s);
    addSample(history,
              45,
              sample(u"Backups"_s, u"Sicherungen"_s),
              sample(u"Backup done"_s, u"Sicherung fertig"_s),
              sample(u"nas: 41 GiB in 12 min"_s, u"nas: 41 GiB in 12 min"_s));
    addSample(history,
              180,
              alerts,
              sample(u"web-2 is back"_s, u"web-2 ist wieder da"_s),
              sample(u"HTTP 200 after 3 min"_s, u"HTTP 200 nach 3 min"_s));
    addSample(history,
              1440,
              sample(u"Door"_s, u"Tür"_s),
              sample(u"Someone rang"_s, u"Es hat geklingelt"_s),
              sample(u"front door, 18:02"_s, u"Haustür, 18:02"_s));

    int status = 0;
    QTimer::singleShot(1500, &app, [&] {
        QMenu *menu = tray.tray()->menu();
        menu->popup(QPoint(40, 40));
        QMenu *sub = tray.subscriptionsMenu();
        QApplication::processEvents();
        // The menu with the Subscriptions submenu open next to it, on one canvas.
        sub->popup(menu->mapToGlobal(menu->actionGeometry(sub->menuAction()).topRight()));
        QApplication::processEvents();
        const QPixmap main = menu->grab();
        const QPixmap side = sub->grab();
        const int offsetY = menu->actionGeometry(sub->menuAction()).top();
        QPixmap canvas(main.width() + side.width(), qMax(main.height(), offsetY + side.height()));
        canvas.fill(Qt::transparent);
        {
            QPainter painter(&canvas);
            painter.drawPixmap(0, 0, main);
            painter.drawPixmap(main.width(), offsetY, side);
        }
        const QString menuFile = out + u"/tray-menu.png"_s;
        status |= canvas.save(menuFile) ? 0 : 1;
        std::printf("wrote %s\n", qPrintable(menuFile));
        sub->hide();
        menu->hide();

        RelayPanel panel(tray.relay());
        panel.resize(640, 360);
        panel.show();
        QApplication::processEvents();
        status |= save(&panel, out + u"/relay-panel.png"_s) ? 0 : 1;

        tray.tray()->showHistory();
        HistoryWindow *window = tray.tray()->historyWindow();
        window->resize(820, 300);
        QApplication::processEvents();
        status |= save(window, out + u"/history.png"_s) ? 0 : 1;
        window->hide();

        // The subscription editor on its first entry.
        SubscriptionDialog dialog(tray.subscriptions()->subscriptions(), tray.relay()->localUrl());
        dialog.show();
        QApplication::processEvents();
        status |= save(&dialog, out + u"/subscriptions.png"_s) ? 0 : 1;
        dialog.hide();

        // The window shown instead of the tray icon when the desktop has no tray.
        MainWindow *mainWindow = tray.tray()->mainWindow();
        mainWindow->resize(640, 460);
        mainWindow->show();
        QApplication::processEvents();
        status |= save(mainWindow, out + u"/main-window.png"_s) ? 0 : 1;
        mainWindow->hide();

        tray.showSettings(); // the running relay shows its note on the Local relay page
        QWidget *settings = tray.settingsDialog();
        settings->findChild<QTabWidget *>()->setCurrentIndex(1);
        QApplication::processEvents();
        status |= save(settings, out + u"/settings.png"_s) ? 0 : 1;
        settings->hide();

        // The token config editor on a relay user's file, the ACL tester answering for a literal token on
        // the unsaved edits; then an invalid pattern being typed (Save is off and says why).
        const QString configPath = tray.relay()->usersDir() + u"/alice/config.yaml"_s;
        QDir().mkpath(tray.relay()->usersDir() + u"/alice"_s);
        QFile config(configPath);
        if (config.open(QIODevice::WriteOnly)) {
            config.write("tokens:\n"
                         "  deploy-bot-7f3a9c21e0:\n"
                         "    GET: [\"/builds/*/status\"]\n"
                         "    POST: [\"/builds/*\", \"!/builds/release/*\", \"/_/ntfy\"]\n"
                         "  \""
                         + UserConfig::hashedKey("a-token-only-its-owner-knows").toUtf8()
                         + "\":\n"
                           "    is_admin: true\n"
                           "    GET: [\"*\"]\n"
                           "    DELETE: [\"/queue/*\"]\n"
                           "    expires_at: 2027-06-30T18:00:00Z\n"
                           "  public:\n"
                           "    GET: [\"/status/*\"]\n"
                           "ntfy:\n"
                           "  type: ntfy\n"
                           "  config: {url: \"https://ntfy.example.org\", topic: alice-alerts}\n");
            config.close();
        }
        tray.editTokenConfig();
        ConfigEditorWindow *editor = tray.configEditor();
        editor->openFile(configPath);
        editor->resize(1000, 680);
        editor->selectToken(0);
        editor->selectList(AclList::Post);
        AclTesterPanel *tester = editor->aclTester();
        QComboBox *method = tester->findChild<QComboBox *>(u"methodComboBox"_s);
        method->setCurrentIndex(method->findText(u"POST"_s));
        tester->findChild<QLineEdit *>(u"targetLineEdit"_s)->setText(u"/builds/release/7"_s);
        tester->findChild<QLineEdit *>(u"tokenLineEdit"_s)->setText(u"deploy-bot-7f3a9c21e0"_s);
        QApplication::processEvents();
        status |= save(editor, out + u"/editor.png"_s) ? 0 : 1;
        editor->document()->insertPattern(0, AclList::Post, 3, u"!"_s);
        QApplication::processEvents();
        status |= save(editor, out + u"/editor-invalid.png"_s) ? 0 : 1;
        editor->document()->undoStack()->undo();

        // Its notification backend page.
        editor->findChild<QTabWidget *>(u"sideTabWidget"_s)->setCurrentIndex(1);
        QApplication::processEvents();
        status |= save(editor, out + u"/editor-ntfy.png"_s) ? 0 : 1;
        editor->hide();

        // A new token, shown once.
        NewTokenDialog newToken;
        newToken.show();
        QApplication::processEvents();
        status |= save(&newToken, out + u"/new-token.png"_s) ? 0 : 1;
        app.exit(status);
    });
    return QApplication::exec();
}
