// SPDX-License-Identifier: MIT
#include <QSignalSpy>
#include <QTest>
#include <QUuid>

#include "gui/singleinstance.h"
#include "testutil.h"

using namespace Patchwork::Gui;
using Patchwork::Test::timeoutMs;

class TestSingleInstance final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void secondStartRaisesFirst();
    void defaultNameIsPerUser();
};

void TestSingleInstance::secondStartRaisesFirst()
{
    const QString name = QStringLiteral("patchwork-test-") + QUuid::createUuid().toString(QUuid::Id128);
    SingleInstance first(name);
    QVERIFY(first.claim());
    QSignalSpy raised(&first, &SingleInstance::raiseRequested);
    SingleInstance second(name);
    QVERIFY(!second.claim());
    QVERIFY(raised.wait(timeoutMs(5000)));
    QCOMPARE(raised.size(), 1);
}

void TestSingleInstance::defaultNameIsPerUser()
{
    QVERIFY(SingleInstance::defaultName().startsWith(QStringLiteral("patchwork-tray-")));
    QVERIFY(SingleInstance::defaultName().size() > QStringLiteral("patchwork-tray-").size());
}

QTEST_MAIN(TestSingleInstance)
#include "tst_singleinstance.moc"
