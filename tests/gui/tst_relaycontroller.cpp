// SPDX-License-Identifier: MIT
#include <QCheckBox>
#include <QLabel>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include "gui/editor/configdocument.h"
#include "gui/qrcode.h"
#include "gui/relaycontroller.h"
#include "gui/relaypanel.h"
#include "testutil.h"
#include "util/clock.h"

using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;
using Patchwork::Test::timeoutMs;

class TestRelayController final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void startStopTwiceOnSamePort();
    void portInUseIsAClearError();
    void lanUrls();
    void settingsRoundTrip();
    void panel();
    void qrCode();
    void editorSaveReloadsTheUser();

private:
    // GET `url` and return the body (empty on failure).
    QByteArray get(const QUrl &url);
    void stopAndWait();

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Patchwork::SystemClock> m_clock;
    std::unique_ptr<RelayController> m_relay;
    QNetworkAccessManager m_network;
};

void TestRelayController::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_clock = std::make_unique<Patchwork::SystemClock>();
    m_relay = std::make_unique<RelayController>(m_clock.get(), m_dir->path());
    RelayController::Settings s;
    s.port = 0; // any free port
    m_relay->setSettings(s);
}

void TestRelayController::cleanup()
{
    m_relay.reset();
    m_clock.reset();
}

QByteArray TestRelayController::get(const QUrl &url)
{
    std::unique_ptr<QNetworkReply> reply(m_network.get(QNetworkRequest(url)));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    if (!finished.wait(timeoutMs(5000))) {
        return {};
    }
    return reply->readAll();
}

void TestRelayController::stopAndWait()
{
    QSignalSpy stopped(m_relay->relay(), &Patchwork::Server::Relay::stopped);
    m_relay->stop();
    QVERIFY(stopped.wait(timeoutMs(5000)));
    QVERIFY(!m_relay->isRunning());
}

void TestRelayController::startStopTwiceOnSamePort()
{
    QVERIFY2(m_relay->start(), qPrintable(m_relay->errorString()));
    const quint16 port = m_relay->relay()->port();
    QVERIFY(port > 0);
    QCOMPARE(m_relay->localUrl(), QUrl(u"http://127.0.0.1:%1/"_s.arg(port)));
    QCOMPARE(get(m_relay->localUrl().resolved(QUrl(u"healthz"_s))), QByteArray("OK!\n"));
    // The secret key and the users directory live in the data dir.
    QVERIFY(QFileInfo::exists(m_dir->filePath(u"secret_key"_s)));
    QVERIFY(QFileInfo(m_dir->filePath(u"users"_s)).isDir());
    stopAndWait();

    RelayController::Settings s = m_relay->settings();
    s.port = port;
    m_relay->setSettings(s);
    for (int round = 0; round < 2; ++round) {
        QVERIFY2(m_relay->start(), qPrintable(m_relay->errorString()));
        QCOMPARE(m_relay->relay()->port(), port);
        QCOMPARE(get(m_relay->localUrl().resolved(QUrl(u"healthz"_s))), QByteArray("OK!\n"));
        stopAndWait();
        QVERIFY(m_relay->localUrl().isEmpty());
        QCOMPARE(m_relay->summary(), u"Local relay stopped"_s);
    }
    QCOMPARE(m_relay->settings().port, port); // start/stop never loses the settings
}

void TestRelayController::portInUseIsAClearError()
{
    QTcpServer occupier;
    QVERIFY(occupier.listen(QHostAddress::LocalHost));
    RelayController::Settings s = m_relay->settings();
    s.port = occupier.serverPort();
    m_relay->setSettings(s);
    QSignalSpy errors(m_relay.get(), &RelayController::errorOccurred);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u".*already in use.*"_s));
    QVERIFY(!m_relay->start());
    QVERIFY(!m_relay->isRunning());
    QCOMPARE(m_relay->errorString(),
             u"Cannot listen on 127.0.0.1:%1: port %1 is already in use"_s.arg(occupier.serverPort()));
    QCOMPARE(errors.size(), 1);
    // Once the port is free, the same controller starts.
    occupier.close();
    QVERIFY(m_relay->start());
    QVERIFY(m_relay->errorString().isEmpty());
}

void TestRelayController::lanUrls()
{
    QVERIFY(m_relay->start());
    QVERIFY(m_relay->lanUrls().isEmpty()); // localhost only
    QCOMPARE(m_relay->summary(), u"Local relay on port %1 (this computer)"_s.arg(m_relay->relay()->port()));
    stopAndWait();
    RelayController::Settings s = m_relay->settings();
    s.lan = true;
    m_relay->setSettings(s);
    QVERIFY(m_relay->start());
    const quint16 port = m_relay->relay()->port();
    QCOMPARE(m_relay->summary(), u"Local relay on port %1 (LAN)"_s.arg(port));
    for (const QUrl &url : m_relay->lanUrls()) {
        QCOMPARE(url.port(), int(port));
        QVERIFY(!QHostAddress(url.host()).isLoopback());
        // Every advertised URL answers (the test machine reaches its own interfaces).
        QCOMPARE(get(url.resolved(QUrl(u"healthz"_s))), QByteArray("OK!\n"));
    }
}

void TestRelayController::settingsRoundTrip()
{
    QSettings settings(m_dir->filePath(u"s.conf"_s), QSettings::IniFormat);
    RelayController::Settings s;
    s.lan = true;
    s.port = 9999;
    s.usersDir = u"/srv/users"_s;
    m_relay->setSettings(s);
    m_relay->saveSettings(settings);
    RelayController other(m_clock.get(), m_dir->path());
    QCOMPARE(other.settings().port, RelayController::DefaultPort);
    other.loadSettings(settings);
    QCOMPARE(other.settings(), s);
    QCOMPARE(other.usersDir(), u"/srv/users"_s);
}

void TestRelayController::panel()
{
    RelayPanel panel(m_relay.get());
    QSignalSpy applied(&panel, &RelayPanel::settingsApplied);
    auto *port = panel.findChild<QSpinBox *>(u"portSpinBox"_s);
    QVERIFY(port);
    QTcpServer occupier;
    QVERIFY(occupier.listen(QHostAddress::LocalHost));
    port->setValue(occupier.serverPort());
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u".*already in use.*"_s));
    panel.toggleRunning();
    QCOMPARE(applied.size(), 1);
    QVERIFY(!m_relay->isRunning());
    QVERIFY(panel.errorText().contains(u"already in use"_s));
    occupier.close();
    panel.toggleRunning();
    QVERIFY(m_relay->isRunning());
    QVERIFY(panel.errorText().isEmpty());
    QCOMPARE(panel.shownUrls(), QStringList{m_relay->localUrl().toString()});
    QVERIFY(!port->isEnabled()); // no edits while running
    QTRY_VERIFY_WITH_TIMEOUT(panel.countsText().startsWith(u"Channels: 0 · waiting: 0"_s), timeoutMs(5000));
    QVERIFY(!panel.findChild<QLabel *>(u"qrLabel"_s)->pixmap().isNull());
    stopAndWait();
    QVERIFY(panel.shownUrls().isEmpty());
    QVERIFY(port->isEnabled());
}

void TestRelayController::qrCode()
{
    const QImage image = qrCodeImage(u"http://192.168.1.20:8787/"_s, 4);
    QVERIFY(!image.isNull());
    QCOMPARE(image.width(), image.height());
    QCOMPARE(image.width() % 4, 0);
    // Quiet zone white, finder pattern's corner dark.
    QCOMPARE(image.pixelColor(0, 0), QColor(Qt::white));
    QCOMPARE(image.pixelColor(4 * 4 + 1, 4 * 4 + 1), QColor(Qt::black));
}

void TestRelayController::editorSaveReloadsTheUser()
{
    Patchwork::Gui::ConfigDocument doc;
    QString error;
    QVERIFY(doc.openRelayUser(m_relay->usersDir(), u"alice"_s, &error));
    QVERIFY(doc.addToken(u"editortoken1"_s, &error));
    QVERIFY(doc.insertPattern(0, Patchwork::AclList::Get, -1, u"/nothing"_s));
    QVERIFY(!m_relay->reloadUserConfig(doc.filePath())); // not running

    QVERIFY2(m_relay->start(), qPrintable(m_relay->errorString()));
    const QUrl channel = m_relay->localUrl().resolved(QUrl(u"u/alice/ch?token=editortoken1"_s));
    QCOMPARE(get(channel), QByteArray("Access denied: token not found\n"));
    QVERIFY2(doc.save(&error), qPrintable(error));
    QVERIFY(m_relay->reloadUserConfig(doc.filePath()));
    QCOMPARE(get(channel), QByteArray("Access denied: token does not match patterns\n"));
    QVERIFY(!m_relay->reloadUserConfig(m_dir->filePath(u"elsewhere/config.yaml"_s)));
    QVERIFY(!m_relay->reloadUserConfig(m_relay->usersDir() + u"/alice/other.yaml"_s));
    stopAndWait();
}

QTEST_MAIN(TestRelayController)
#include "tst_relaycontroller.moc"
