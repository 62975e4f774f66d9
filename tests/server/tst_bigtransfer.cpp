// SPDX-License-Identifier: MIT
// A 2 GiB streamed transfer through the built patchworkd's queue (docs/DECISIONS.md "Streamed
// transfers"): the bytes arrive intact (checksums compared) and the daemon's memory stays flat (VmRSS
// from /proc). Release suite only (tests/server/CMakeLists.txt): under the sanitizers it takes minutes.
#include <QElapsedTimer>
#include <QProcess>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <cstring>

#include "../bench/procstat.h"
#include "testhttpclient.h"
#include "testutil.h"

using namespace Patchwork::Test;

namespace
{

constexpr qint64 TOTAL = qint64(2) * 1024 * 1024 * 1024;
constexpr qint64 PIECE = 1024 * 1024;
constexpr qint64 MAX_RSS_GROWTH_KIB = 32 * 1024;

// A checksum over a stream of 8-byte words, fed in pieces of any size.
class StreamSum
{
public:
    void add(const char *data, qint64 size)
    {
        m_bytes += size;
        while (size > 0) {
            const qint64 n = qMin<qint64>(8 - m_fill, size);
            memcpy(m_word + m_fill, data, size_t(n));
            m_fill += int(n);
            data += n;
            size -= n;
            if (m_fill == 8) {
                quint64 w;
                memcpy(&w, m_word, 8);
                m_sum = (m_sum ^ w) * 0x100000001b3ull + (m_sum >> 29);
                m_fill = 0;
            }
        }
    }
    quint64 value() const
    {
        return m_sum ^ quint64(m_bytes);
    }
    qint64 bytes() const
    {
        return m_bytes;
    }

private:
    char m_word[8] = {};
    int m_fill = 0;
    quint64 m_sum = 0xcbf29ce484222325ull;
    qint64 m_bytes = 0;
};

} // namespace

class TestBigTransfer final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void queueTransfer2GiB()
    {
        QTemporaryDir dataDir;
        QVERIFY(dataDir.isValid());
        QProcess daemon;
        daemon.setProcessChannelMode(QProcess::MergedChannels);
        daemon.start(
            qEnvironmentVariable("PATCHWORK_BIN_DIR") + u"/patchworkd"_qs,
            {u"start"_qs, u"--host"_qs, u"127.0.0.1"_qs, u"--port"_qs, u"0"_qs, u"--data-dir"_qs, dataDir.path()});
        QVERIFY2(daemon.waitForStarted(), qPrintable(daemon.errorString()));
        QByteArray log;
        quint16 port = 0;
        QElapsedTimer t;
        t.start();
        while (port == 0 && t.elapsed() < timeoutMs(10000)) {
            daemon.waitForReadyRead(100);
            log += daemon.readAll();
            const qsizetype at = log.indexOf("listening on http://127.0.0.1:");
            if (at >= 0) {
                port = quint16(log.mid(at + 30).split('\n').first().trimmed().toUInt());
            }
        }
        QVERIFY2(port != 0, log.constData());
        const qint64 pid = daemon.processId();

        QTcpSocket consumer;
        consumer.setReadBufferSize(PIECE);
        consumer.connectToHost(QHostAddress::LocalHost, port);
        consumer.write("GET /public/queue/big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        QByteArray consumerHead;
        StreamSum received;
        connect(&consumer, &QTcpSocket::readyRead, this, [&]() {
            while (!consumerHead.endsWith("\r\n\r\n") && consumer.bytesAvailable() > 0) {
                consumerHead += consumer.read(1);
            }
            while (consumerHead.endsWith("\r\n\r\n") && consumer.bytesAvailable() > 0) {
                const QByteArray data = consumer.read(PIECE);
                received.add(data.constData(), data.size());
            }
        });
        QTest::qWait(200); // the consumer waits first; the producer's order does not matter for the test

        QTcpSocket producer;
        producer.connectToHost(QHostAddress::LocalHost, port);
        QVERIFY(producer.waitForConnected(timeoutMs(5000)));
        const qint64 rssBefore = Patchwork::Bench::vmRssKiB(pid);
        QVERIFY(rssBefore > 0);
        producer.write(
            "POST /public/queue/big HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
            "Content-Length: "
            + QByteArray::number(TOTAL) + "\r\n\r\n");
        StreamSum sent;
        quint64 x = 0x2545F4914F6CDD1Dull;
        QByteArray piece(PIECE, Qt::Uninitialized);
        const auto feed = [&]() {
            while (sent.bytes() < TOTAL && producer.bytesToWrite() < 4 * PIECE) {
                auto *words = reinterpret_cast<quint64 *>(piece.data());
                for (qint64 i = 0; i < PIECE / 8; ++i) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    words[i] = x;
                }
                sent.add(piece.constData(), piece.size());
                producer.write(piece.constData(), piece.size()); // copied: the buffer is reused
            }
        };
        connect(&producer, &QTcpSocket::bytesWritten, this, feed);
        QByteArray producerResponse;
        connect(&producer, &QTcpSocket::readyRead, this, [&]() { producerResponse += producer.readAll(); });
        qint64 rssPeak = rssBefore;
        QTimer sampler;
        connect(&sampler, &QTimer::timeout, this, [&]() { rssPeak = qMax(rssPeak, Patchwork::Bench::vmRssKiB(pid)); });
        sampler.start(50);
        QElapsedTimer transfer;
        transfer.start();
        feed();
        QTRY_VERIFY_WITH_TIMEOUT(received.bytes() == TOTAL && producerResponse.contains("\r\n\r\n"),
                                 timeoutMs(240'000));
        sampler.stop();
        qInfo("2 GiB in %lld ms; daemon VmRSS %lld KiB before, peak %lld KiB", transfer.elapsed(), rssBefore, rssPeak);
        QVERIFY2(consumerHead.startsWith("HTTP/1.1 200"), consumerHead.constData());
        QVERIFY(consumerHead.contains(QByteArray("Content-Length: " + QByteArray::number(TOTAL))));
        QVERIFY2(producerResponse.startsWith("HTTP/1.1 200"), producerResponse.constData());
        QCOMPARE(received.value(), sent.value());
        QVERIFY2(rssPeak - rssBefore < MAX_RSS_GROWTH_KIB, qPrintable(QString::number(rssPeak - rssBefore)));

        const TestResponse metrics = fetch(port, "GET", "/metrics");
        QCOMPARE(metrics.status, 200);
        QVERIFY2(metrics.body.contains("patchwork_streamed_transfers_total{result=\"complete\"} 1\n"),
                 metrics.body.constData());
        QVERIFY(
            metrics.body.contains(QByteArray("patchwork_streamed_bytes_total " + QByteArray::number(TOTAL) + '\n')));

        daemon.terminate();
        QVERIFY(daemon.waitForFinished(timeoutMs(15000)));
    }
};

QTEST_GUILESS_MAIN(TestBigTransfer)
#include "tst_bigtransfer.moc"
