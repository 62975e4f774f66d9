// SPDX-License-Identifier: MIT
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>

#include "gui/subscriptionconfig.h"

using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;

class TestSubscriptionConfig final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void channelUrl_data();
    void channelUrl();
    void validation_data();
    void validation();
    void roundTrip();
};

void TestSubscriptionConfig::channelUrl_data()
{
    QTest::addColumn<QString>("server");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("url");
    QTest::addRow("plain") << u"https://r.example"_s << u"/public/pubsub/a"_s << u"https://r.example/public/pubsub/a"_s;
    QTest::addRow("trailing slash, relative path")
        << u"https://r.example/"_s << u"u/alice/n"_s << u"https://r.example/u/alice/n"_s;
    QTest::addRow("server under a prefix")
        << u"http://127.0.0.1:8787/relay/"_s << u"/u/bob/x"_s << u"http://127.0.0.1:8787/relay/u/bob/x"_s;
}

void TestSubscriptionConfig::channelUrl()
{
    QFETCH(QString, server);
    QFETCH(QString, path);
    SubscriptionConfig c;
    c.serverUrl = QUrl(server);
    c.channelPath = path;
    QTEST(c.channelUrl().toString(), "url");
}

void TestSubscriptionConfig::validation_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("server");
    QTest::addColumn<QString>("path");
    QTest::addColumn<int>("minPriority");
    QTest::addColumn<bool>("valid");
    QTest::addRow("ok") << u"a"_s << u"https://r.example"_s << u"/x"_s << 1 << true;
    QTest::addRow("no name") << u" "_s << u"https://r.example"_s << u"/x"_s << 1 << false;
    QTest::addRow("ftp") << u"a"_s << u"ftp://r.example"_s << u"/x"_s << 1 << false;
    QTest::addRow("no host") << u"a"_s << u"http:///x"_s << u"/x"_s << 1 << false;
    QTest::addRow("no path") << u"a"_s << u"https://r.example"_s << u"/"_s << 1 << false;
    QTest::addRow("priority") << u"a"_s << u"https://r.example"_s << u"/x"_s << 6 << false;
}

void TestSubscriptionConfig::validation()
{
    QFETCH(QString, name);
    QFETCH(QString, server);
    QFETCH(QString, path);
    QFETCH(int, minPriority);
    QFETCH(bool, valid);
    SubscriptionConfig c;
    c.name = name;
    c.serverUrl = QUrl(server);
    c.channelPath = path;
    c.minPriority = minPriority;
    QCOMPARE(c.validationError().isEmpty(), valid);
}

void TestSubscriptionConfig::roundTrip()
{
    QTemporaryDir dir;
    const QString file = dir.filePath(u"s.conf"_s);
    SubscriptionConfig a;
    a.id = u"a"_s;
    a.name = u"Alerts"_s;
    a.serverUrl = QUrl(u"https://r.example"_s);
    a.channelPath = u"/public/pubsub/alerts"_s;
    a.minPriority = 3;
    a.magicPrefix = true;
    a.lastEventId = "abc_1";
    SubscriptionConfig b = a;
    b.id = u"b"_s;
    b.name = u"Other"_s;
    b.enabled = false;
    b.muted = true;
    b.lastEventId.clear();
    {
        QSettings settings(file, QSettings::IniFormat);
        SubscriptionSettings::save(settings, {a, b});
    }
    QList<SubscriptionConfig> loaded;
    {
        QSettings settings(file, QSettings::IniFormat);
        loaded = SubscriptionSettings::load(settings);
    }
    QCOMPARE(loaded, (QList<SubscriptionConfig>{a, b}));
    // Saving one resume point leaves the rest alone.
    loaded[1].lastEventId = "xyz_9";
    {
        QSettings settings(file, QSettings::IniFormat);
        SubscriptionSettings::saveLastEventId(settings, loaded, u"b"_s);
    }
    QSettings settings(file, QSettings::IniFormat);
    QCOMPARE(SubscriptionSettings::load(settings), loaded);
}

QTEST_MAIN(TestSubscriptionConfig)
#include "tst_subscriptionconfig.moc"
