// SPDX-License-Identifier: MIT
// The tray's ACL tester against the relay: one table of requests is answered by Acl::probe() on the parsed
// config and by a running relay over HTTP on the same file, and the answers must be the same status and
// body (PROTOCOL §8–§11).
#include <QCryptographicHash>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include "access/aclprobe.h"
#include "access/userconfig.h"
#include "relay/relay.h"
#include "testhttpclient.h"
#include "testutil.h"

using namespace Patchwork;
using namespace Patchwork::Server;
using namespace Patchwork::Test;
using namespace Qt::StringLiterals;

namespace
{

const QByteArray CONFIG = "tokens:\n"
                          "  \"reader-token\":\n"
                          "    GET: [\"/projects/**\", \"!/projects/secret/*\", \"/_/ntfy\"]\n"
                          "    POST: [\"/projects/*\"]\n"
                          "    PUT: []\n"
                          "    huproxy: [\"127.0.0.1:*\", \"!127.0.0.1:22\"]\n"
                          "  \"sha256:"
                          + QCryptographicHash::hash("hashed-token", QCryptographicHash::Sha256).toHex()
                          + "\":\n"
                            "    GET: [\"/hashed/*\"]\n"
                            "    DELETE: [\"/req/api/*\"]\n"
                            "  \"expired-token\":\n"
                            "    GET: [\"*\"]\n"
                            "    expires_at: 2000-01-01T00:00:00Z\n"
                            "  \"admin-token\":\n"
                            "    is_admin: true\n"
                            "    GET: [\"*\"]\n"
                            "  public:\n"
                            "    GET: [\"/pub/*\"]\n"
                            "ntfy:\n"
                            "  type: webhook\n"
                            "  config:\n"
                            "    url: http://127.0.0.1:9/\n";

} // namespace

class TestAclProbe final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const QString userDir = m_dir.filePath(u"users/alice"_s);
        QVERIFY(QDir().mkpath(userDir));
        QFile file(userDir + u"/config.yaml"_s);
        QVERIFY(file.open(QIODevice::WriteOnly));
        QCOMPARE(file.write(CONFIG), CONFIG.size());
        file.close();

        QString error;
        m_config = UserConfig::parse(CONFIG, u"config.yaml"_s, &error);
        QVERIFY2(m_config, qPrintable(error));

        RelaySettings s;
        s.host = QHostAddress::LocalHost;
        s.port = 0;
        s.dataDir = m_dir.path();
        s.usersDir = m_dir.filePath(u"users"_s);
        m_relay.setSettings(s);
        QVERIFY(m_relay.start());
        QVERIFY(m_target.listen(QHostAddress::LocalHost, 0));
    }

    void sameAnswer_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("target");
        QTest::addColumn<QByteArray>("token");
        QTest::addColumn<int>("expectedStatus"); // 0 = allowed

        // Allowed requests carry a short timeout so that the relay answers (204/504) instead of waiting.
        QTest::newRow("reader reads a project") << "GET"_ba
                                                << "/projects/a/b?timeout=0.05"_ba
                                                << "reader-token"_ba << 0;
        QTest::newRow("negated pattern") << "GET"_ba
                                         << "/projects/secret/x"_ba
                                         << "reader-token"_ba << 403;
        QTest::newRow("no matching pattern") << "GET"_ba
                                             << "/other"_ba
                                             << "reader-token"_ba << 403;
        QTest::newRow("empty list") << "PUT"_ba
                                    << "/projects/a"_ba
                                    << "reader-token"_ba << 403;
        QTest::newRow("absent list") << "PATCH"_ba
                                     << "/projects/a"_ba
                                     << "reader-token"_ba << 403;
        QTest::newRow("unsupported method") << "PROPFIND"_ba
                                            << "/projects/a"_ba
                                            << "reader-token"_ba << 403;
        QTest::newRow("producer needs POST") << "POST"_ba
                                             << "/projects/a?timeout=0.05"_ba
                                             << "reader-token"_ba << 0;
        // The GET list refuses /projects/secret/x; the POST list, which GET ?body= needs, allows it.
        QTest::newRow("GET ?body= is a POST") << "GET"_ba
                                              << "/projects/secret/x?body=x&timeout=0.05"_ba
                                              << "reader-token"_ba << 0;
        QTest::newRow("unknown token") << "GET"_ba
                                       << "/projects/a"_ba
                                       << "nobody"_ba << 401;
        QTest::newRow("expired token") << "GET"_ba
                                       << "/projects/a"_ba
                                       << "expired-token"_ba << 401;
        QTest::newRow("hashed token") << "GET"_ba
                                      << "/hashed/x?timeout=0.05"_ba
                                      << "hashed-token"_ba << 0;
        QTest::newRow("hashed key is not a token")
            << "GET"_ba
            << "/hashed/x"_ba
            << "sha256:" + QCryptographicHash::hash("hashed-token", QCryptographicHash::Sha256).toHex() << 401;
        QTest::newRow("requester's list") << "DELETE"_ba
                                          << "/req/api/x?timeout=0.05"_ba
                                          << "hashed-token"_ba << 0;
        QTest::newRow("public token") << "GET"_ba
                                      << "/pub/news?timeout=0.05"_ba
                                      << ""_ba << 0;
        QTest::newRow("public token denied is 401") << "GET"_ba
                                                    << "/projects/a"_ba
                                                    << ""_ba << 401;
        QTest::newRow("token in the query") << "GET"_ba
                                            << "/projects/q?token=reader-token&timeout=0.05"_ba
                                            << ""_ba << 0;
        QTest::newRow("bad timeout after access") << "GET"_ba
                                                  << "/projects/a?timeout=abc"_ba
                                                  << "reader-token"_ba << 400;
        QTest::newRow("control character") << "GET"_ba
                                           << "/projects/%0a"_ba
                                           << "reader-token"_ba << 400;
        QTest::newRow("ntfy denied") << "POST"_ba
                                     << "/_/ntfy"_ba
                                     << "reader-token"_ba << 403;
        QTest::newRow("admin without token") << "GET"_ba
                                             << "/_/invalidate_cache"_ba
                                             << ""_ba << 401;
        QTest::newRow("admin with a user token") << "GET"_ba
                                                 << "/_/invalidate_cache"_ba
                                                 << "reader-token"_ba << 403;
        QTest::newRow("admin unknown token") << "POST"_ba
                                             << "/_/invalidate_cache"_ba
                                             << "nobody"_ba << 403;
        QTest::newRow("admin") << "POST"_ba
                               << "/_/invalidate_cache"_ba
                               << "admin-token"_ba << 0;
        QTest::newRow("tunnel without token") << "huproxy"_ba
                                              << "127.0.0.1:22"_ba
                                              << ""_ba << 401;
        QTest::newRow("tunnel negated") << "huproxy"_ba
                                        << "127.0.0.1:22"_ba
                                        << "reader-token"_ba << 403;
        QTest::newRow("tunnel no list") << "huproxy"_ba
                                        << "127.0.0.1:22"_ba
                                        << "admin-token"_ba << 403;
        QTest::newRow("tunnel unknown token") << "huproxy"_ba
                                              << "127.0.0.1:22"_ba
                                              << "nobody"_ba << 403;
        QTest::newRow("tunnel allowed") << "huproxy"_ba
                                        << "<target>"_ba
                                        << "reader-token"_ba << 0;
    }

    void sameAnswer()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, target);
        QFETCH(QByteArray, token);
        QFETCH(int, expectedStatus);
        target.replace("<target>", QByteArray("127.0.0.1:" + QByteArray::number(m_target.serverPort())));

        const AclProbeResult probe =
            Acl::probe(m_config.get(), "alice", method, target, token, QDateTime::currentDateTimeUtc());
        QCOMPARE(probe.status, expectedStatus);
        QCOMPARE(probe.allowed, expectedStatus == 0);

        const int relayStatus =
            method == Acl::HUPROXY_METHOD ? tunnelStatus(target, token) : channelStatus(method, target, token);
        if (probe.allowed) {
            // Served: anything but an access or classification error.
            QVERIFY2(relayStatus == 101 || relayStatus == 200 || relayStatus == 204 || relayStatus == 504,
                     qPrintable(u"relay answered %1"_s.arg(relayStatus)));
        } else {
            QCOMPARE(relayStatus, probe.status);
            QCOMPARE(m_lastBody, probe.body);
        }
    }

private:
    HeaderList authorization(const QByteArray &token) const
    {
        return token.isEmpty() ? HeaderList() : HeaderList{{"Authorization", "Bearer " + token}};
    }

    int channelStatus(const QByteArray &method, const QByteArray &target, const QByteArray &token)
    {
        const TestResponse r = fetch(m_relay.port(), method, QByteArray("/u/alice" + target), {}, authorization(token));
        m_lastBody = r.body.trimmed();
        return r.status;
    }

    // The tunnel answers 101 and keeps the connection, so its status line is read from a raw socket.
    int tunnelStatus(const QByteArray &target, const QByteArray &token)
    {
        const qsizetype colon = target.lastIndexOf(':');
        QByteArray request = "GET /huproxy/alice/" + target.first(colon) + "/" + target.sliced(colon + 1)
                             + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        if (!token.isEmpty()) {
            request += "Authorization: Bearer " + token + "\r\n";
        }
        request += "\r\n";
        QTcpSocket socket;
        QByteArray received;
        connect(&socket, &QTcpSocket::readyRead, &socket, [&] { received += socket.readAll(); });
        socket.connectToHost(QHostAddress::LocalHost, m_relay.port());
        socket.write(request);
        // The head; after a refusal also the one-line body (the relay closes the connection then).
        const auto answered = [&] {
            return received.startsWith("HTTP/1.1 101") ? received.contains("\r\n\r\n") : received.endsWith('\n');
        };
        if (!QTest::qWaitFor(answered, 5000)) {
            return -1;
        }
        const qsizetype headEnd = received.indexOf("\r\n\r\n");
        m_lastBody = headEnd < 0 ? QByteArray() : received.sliced(headEnd + 4).trimmed();
        return received.mid(9, 3).toInt();
    }

    QTemporaryDir m_dir;
    std::shared_ptr<UserConfig> m_config;
    Relay m_relay;
    QTcpServer m_target;
    QByteArray m_lastBody;
};

QTEST_GUILESS_MAIN(TestAclProbe)
#include "tst_aclprobe.moc"
