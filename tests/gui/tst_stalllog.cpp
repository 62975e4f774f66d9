// SPDX-License-Identifier: MIT
#include <QDateTime>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include "gui/stalllog.h"
#include "testutil.h"

using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;

class TestStallLog final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void writesTheLargestGapOnceASecond();
    void unwritableFileIsAWarning();
};

void TestStallLog::writesTheLargestGapOnceASecond()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"stalls.log"_s);
    const StallLog log(path);
    QThread::msleep(150); // the event loop is blocked: a stall of at least 150 ms
    QByteArray text;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            QFile file(path);
            text = file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
            return text.endsWith('\n');
        }(),
        Patchwork::Test::timeoutMs(5000));
    const QList<QByteArray> fields = text.split('\n').constFirst().split(' ');
    QCOMPARE(fields.size(), 2);
    QVERIFY(qAbs(fields.at(0).toLongLong() - QDateTime::currentMSecsSinceEpoch()) < 10'000);
    QVERIFY2(fields.at(1).toLongLong() >= 150, fields.at(1).constData());
}

void TestStallLog::unwritableFileIsAWarning()
{
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"stall log .* cannot be opened"_s));
    const StallLog log(u"/nonexistent-dir/stalls.log"_s);
}

QTEST_MAIN(TestStallLog)
#include "tst_stalllog.moc"
