// SPDX-License-Identifier: MIT
// Subscriptions to the real relay (in-process, over loopback): through a proxy that cuts the
// connection again and again, what is published meanwhile still arrives, all of it, once, in order; and
// the relay's access denials end a subscription with the relay's own reason.
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include "../server/accessfixture.h"
#include "access/directoryconfigsource.h"
#include "client/relayclient.h"
#include "client/relayreply.h"
#include "client/subscription.h"
#include "manualclock.h"
#include "relay/relayserver.h"
#include "tcpproxy.h"
#include "testutil.h"
#include "util/clock.h"

using namespace Qt::StringLiterals;
using namespace Patchwork;
using namespace Patchwork::Client;
using namespace Patchwork::Server;
using namespace Patchwork::Test;

using Status = Subscription::Status;

class TestSubscriptionRelay final : public QObject
{
    Q_OBJECT

private:
    // Publishes straight to the relay (not through the proxy) and returns the message's Patch-Id.
    QByteArray publish(const QByteArray &body)
    {
        std::unique_ptr<RelayReply> reply(m_publisher.publish(relayUrl(), body));
        if (!QSignalSpy(reply.get(), &RelayReply::finished).wait(timeoutMs(5000)) || reply->status() != 200) {
            return {};
        }
        return reply->patchId();
    }

    QUrl relayUrl() const
    {
        return QUrl(u"http://127.0.0.1:%1/public/pubsub/lossless"_s.arg(m_relay->port()));
    }

    SystemClock m_clock;
    std::unique_ptr<RelayServer> m_relay;
    RelayClient m_publisher;

private Q_SLOTS:
    void init()
    {
        QTest::failOnWarning(QRegularExpression(u".*"_s));
        m_relay = std::make_unique<RelayServer>(&m_clock);
        QVERIFY(m_relay->listen(QHostAddress::LocalHost, 0));
    }
    void cleanup()
    {
        m_relay.reset();
    }

    void allOnceInOrderAcrossCuts()
    {
        TcpProxy proxy(m_relay->port());
        QVERIFY(proxy.listen());
        Subscription sub(&m_clock);
        Subscription::Settings settings;
        settings.initialBackoffMs = 20; // the backoff itself is tested on a manual clock
        settings.maxBackoffMs = 200;
        sub.setSettings(settings);
        sub.setUrl(QUrl(u"http://127.0.0.1:%1/public/pubsub/lossless"_s.arg(proxy.port())));
        QList<Event> received;
        connect(&sub, &Subscription::messageReceived, this, [&received](const Event &e) { received.append(e); });
        QSignalSpy gaps(&sub, &Subscription::gapDetected);
        int reconnects = 0;
        connect(&sub, &Subscription::statusChanged, this, [&sub, &reconnects]() {
            reconnects += sub.status() == Status::Reconnecting && sub.nextAttemptMs() >= 0;
        });
        sub.start();
        QTRY_COMPARE_WITH_TIMEOUT(sub.status(), Status::Connected, timeoutMs(5000));
        QTRY_COMPARE_WITH_TIMEOUT(m_relay->hub()->streamCount(), 1, timeoutMs(5000));

        // 200 messages; five times the live connection is cut and new ones refused while a few messages
        // are published, then let through again while publishing goes on.
        QByteArrayList ids;
        for (int i = 0; i < 200; ++i) {
            if (i % 40 == 20) {
                QTRY_COMPARE_WITH_TIMEOUT(sub.status(), Status::Connected, timeoutMs(5000));
                proxy.cut();
                proxy.setRefusing(true);
            } else if (i % 40 == 25) {
                proxy.setRefusing(false);
            }
            ids.append(publish("message " + QByteArray::number(i)));
            QVERIFY2(!ids.last().isEmpty(), QByteArray::number(i));
        }
        // A last message, so that anything arriving twice would have arrived before it.
        ids.append(publish("end"));
        QTRY_VERIFY_WITH_TIMEOUT(!received.isEmpty() && received.last().data == "end", timeoutMs(20000));

        QCOMPARE(received.size(), 201);
        for (int i = 0; i < 200; ++i) {
            QCOMPARE(received.at(i).data, "message " + QByteArray::number(i));
            QCOMPARE(received.at(i).id, ids.at(i));
        }
        QCOMPARE(gaps.size(), 0);
        QCOMPARE(sub.lastEventId(), ids.last());
        QVERIFY2(reconnects >= 5, QByteArray::number(reconnects));
        QVERIFY(proxy.forwardedCount() >= 6);
        QCOMPARE(sub.status(), Status::Connected);
    }

    void accessDeniedIsTerminal_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("token");
        QTest::addColumn<QString>("error");
        QTest::addRow("no token") << u"/u/alice/pubsub/news"_s << QString() << u"Access denied: token not found"_s;
        QTest::addRow("unknown token") << u"/u/alice/pubsub/news"_s << u"guess"_s
                                       << u"Access denied: token not found"_s;
        QTest::addRow("not allowed there")
            << u"/u/alice/other?pubsub"_s << u"reader"_s << u"Access denied: token does not match patterns"_s;
    }

    void accessDeniedIsTerminal()
    {
        QFETCH(QString, path);
        QFETCH(QString, token);
        QFETCH(QString, error);
        QTemporaryDir users;
        writeFile(users.path() + u"/alice/config.yaml"_s, "tokens:\n  reader:\n    GET: [\"/pubsub/*\"]\n");
        DirectoryConfigSource configs(users.path());
        ManualClock gateClock;
        AccessFixture relay(&gateClock, unlimitedSettings(), &configs);
        QVERIFY(relay.port != 0);
        Subscription sub(&m_clock);
        sub.setUrl(QUrl(u"http://127.0.0.1:%1%2"_s.arg(relay.port).arg(path)));
        sub.setToken(token);
        sub.start();
        QTRY_COMPARE_WITH_TIMEOUT(sub.status(), Status::Failed, timeoutMs(5000));
        QCOMPARE(sub.errorString(), error);
        QCOMPARE(sub.nextAttemptMs(), -1);
        // Edited to what the token allows, it connects.
        sub.setToken(u"reader"_s);
        sub.setUrl(QUrl(u"http://127.0.0.1:%1/u/alice/pubsub/news"_s.arg(relay.port)));
        QTRY_COMPARE_WITH_TIMEOUT(sub.status(), Status::Connected, timeoutMs(5000));
    }
};

QTEST_GUILESS_MAIN(TestSubscriptionRelay)
#include "tst_subscriptionrelay.moc"
