// SPDX-License-Identifier: MIT
// The tray's notification path, measured (run by hand, see the README's performance section):
//  1. RSS with the local relay running and 20 idle subscriptions;
//  2. latency from a publish on the local relay to the recorded D-Bus Notify call, 1000 messages at 50/s;
//  3. a burst of 5000 messages in 5 s: the longest event-loop stall (a 10 ms timer) and the history count.
// Notifications go to a recording org.freedesktop.Notifications on a private bus (dbus-daemon).
#include <algorithm>
#include <cstdio>

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include "gui/desktopnotifier.h"
#include "gui/historystore.h"
#include "gui/notificationdispatcher.h"
#include "gui/relaycontroller.h"
#include "gui/subscriptionmanager.h"
#include "privatebus.h"
#include "recordingnotifications.h"
#include "util/clock.h"

using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;

namespace
{

qint64 rssKiB()
{
    QFile status(u"/proc/self/status"_s);
    if (!status.open(QIODevice::ReadOnly)) {
        return -1;
    }
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:")) {
            return line.mid(6).trimmed().split(' ').first().toLongLong();
        }
    }
    return -1;
}

double percentile(std::vector<double> values, double p)
{
    std::sort(values.begin(), values.end());
    return values.empty() ? 0 : values[std::min(values.size() - 1, size_t(p * double(values.size())))];
}

} // namespace

int main(int argc, char *argv[])
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QTemporaryDir dir;
    Patchwork::Test::PrivateBus bus;
    if (!bus.start()) {
        std::fprintf(stderr, "dbus-daemon did not start\n");
        return 1;
    }
    Patchwork::Test::RecordingNotifications server;
    QDBusConnection serverBus = bus.connect(u"server"_s);
    serverBus.registerObject(u"/org/freedesktop/Notifications"_s, &server, QDBusConnection::ExportAllSlots);
    serverBus.registerService(u"org.freedesktop.Notifications"_s);

    Patchwork::SystemClock clock;
    RelayController relay(&clock, dir.path());
    RelayController::Settings rs;
    rs.port = 0;
    relay.setSettings(rs);
    if (!relay.start()) {
        std::fprintf(stderr, "relay: %s\n", qPrintable(relay.errorString()));
        return 1;
    }
    HistoryStore history;
    history.open(dir.filePath(u"history.sqlite"_s));
    history.setBounds(0, 0);
    DesktopNotifier notifier(bus.connect(u"client"_s), [](const QUrl &) { return true; });
    NotificationDispatcher dispatcher(&history, &notifier);
    QSettings settings(dir.filePath(u"tray.conf"_s), QSettings::IniFormat);
    QList<SubscriptionConfig> configs;
    for (int i = 0; i < 20; ++i) {
        SubscriptionConfig c;
        c.id = u"s%1"_s.arg(i);
        c.name = c.id;
        c.serverUrl = relay.localUrl();
        c.channelPath = i == 0 ? u"/public/pubsub/bench"_s : u"/public/pubsub/idle%1"_s.arg(i);
        configs.append(c);
    }
    SubscriptionSettings::save(settings, configs);
    SubscriptionManager manager(&settings, nullptr, &dispatcher, &clock);
    manager.load();
    if (!QTest::qWaitFor([&] { return manager.connectedCount() == 20; }, 10000)) {
        std::fprintf(stderr, "subscriptions did not connect\n");
        return 1;
    }
    QTest::qWait(1000);
    std::printf("RSS with the relay and 20 idle subscriptions: %.1f MiB\n", double(rssKiB()) / 1024.0);

    QNetworkAccessManager network;
    QNetworkRequest channel(relay.localUrl().resolved(QUrl(u"public/pubsub/bench"_s)));
    channel.setHeader(QNetworkRequest::ContentTypeHeader, u"text/plain"_s);
    QElapsedTimer elapsed;
    elapsed.start();

    // 2. Latency, 1000 messages at 50/s (the storm limit lifted, so every message pops up).
    notifier.setStormLimit(1'000'000, 10'000);
    constexpr int LATENCY_COUNT = 1000;
    std::vector<qint64> sentAt(LATENCY_COUNT, -1);
    std::vector<double> latencies;
    server.onNotify = [&](const Patchwork::Test::RecordingNotifications::Call &call) {
        bool ok = false;
        const int i = call.body.mid(6).toInt(&ok); // "bench <i>"
        if (ok && i >= 0 && i < LATENCY_COUNT && sentAt[size_t(i)] >= 0) {
            latencies.push_back(double(elapsed.nsecsElapsed() / 1000 - sentAt[size_t(i)]) / 1000.0);
        }
    };
    for (int i = 0; i < LATENCY_COUNT; ++i) {
        sentAt[size_t(i)] = elapsed.nsecsElapsed() / 1000;
        QNetworkReply *reply = network.post(channel, "bench " + QByteArray::number(i));
        QObject::connect(reply, &QNetworkReply::finished, reply, &QObject::deleteLater);
        QTest::qWait(20);
    }
    if (!QTest::qWaitFor([&] { return latencies.size() == LATENCY_COUNT; }, 10000)) {
        std::fprintf(stderr, "only %zu of %d notifications arrived\n", latencies.size(), LATENCY_COUNT);
    }
    std::printf("publish -> Notify over %zu messages at 50/s: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                latencies.size(),
                percentile(latencies, 0.5),
                percentile(latencies, 0.99),
                percentile(latencies, 1.0));
    server.onNotify = nullptr;

    // 3. Burst: 5000 messages in 5 s with the default storm limit; the event loop must keep ticking.
    notifier.setStormLimit(DesktopNotifier::DefaultStormLimit, DesktopNotifier::DefaultStormWindowMs);
    const int before = history.count();
    const qint64 burstStart = elapsed.elapsed();
    qint64 lastTick = elapsed.elapsed();
    qint64 worstStall = 0;
    QTimer ticker;
    QObject::connect(&ticker, &QTimer::timeout, &ticker, [&] {
        const qint64 now = elapsed.elapsed();
        worstStall = std::max(worstStall, now - lastTick - 10);
        lastTick = now;
    });
    ticker.start(10);
    constexpr int BURST = 5000;
    for (int i = 0; i < BURST; ++i) {
        QNetworkReply *reply = network.post(channel, "burst " + QByteArray::number(i));
        QObject::connect(reply, &QNetworkReply::finished, reply, &QObject::deleteLater);
        if (i % 10 == 9) {
            QTest::qWait(10);
        }
    }
    const bool all = QTest::qWaitFor([&] { return history.count() - before == BURST; }, 30000);
    ticker.stop();
    std::printf("burst of %d in %.1f s: %d in the history%s, longest event-loop stall %lld ms, %lld pop-ups\n",
                BURST,
                double(elapsed.elapsed() - burstStart) / 1000.0,
                history.count() - before,
                all ? "" : " (MISSING SOME)",
                worstStall,
                qlonglong(server.calls.size()) - LATENCY_COUNT);
    return all ? 0 : 1;
}
