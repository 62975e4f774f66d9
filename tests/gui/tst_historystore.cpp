// SPDX-License-Identifier: MIT
#include <QApplication>
#include <QClipboard>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include "gui/historymodel.h"
#include "gui/historystore.h"
#include "gui/historywindow.h"

using namespace Patchwork::Gui;

class TestHistoryStore final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void addAndList();
    void dedupBySubscriptionAndPatchId();
    void emptyFieldsAreStored();
    void boundByCount();
    void boundByAge();
    void search();
    void unreadCount();
    void persistsAcrossOpen();
    void model();
    void window();

private:
    HistoryEntry entry(const QString &subscription, const QString &title, const QString &patchId = {}, int ageSecs = 0);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<HistoryStore> m_store;
};

void TestHistoryStore::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
}

void TestHistoryStore::init()
{
    QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
    m_store.reset();
    m_dir = std::make_unique<QTemporaryDir>();
    m_store = std::make_unique<HistoryStore>();
    QString error;
    QVERIFY2(m_store->open(m_dir->filePath(QStringLiteral("history.sqlite")), &error), qPrintable(error));
}

HistoryEntry
TestHistoryStore::entry(const QString &subscription, const QString &title, const QString &patchId, int ageSecs)
{
    HistoryEntry e;
    e.time = QDateTime::currentDateTimeUtc().addSecs(-ageSecs);
    e.subscription = subscription;
    e.title = title;
    e.body = title + QStringLiteral(" body");
    e.patchId = patchId;
    e.clickUrl = QStringLiteral("https://example.invalid/") + title;
    e.priority = 4;
    return e;
}

void TestHistoryStore::addAndList()
{
    QSignalSpy changed(m_store.get(), &HistoryStore::changed);
    QVERIFY(m_store->add(entry(QStringLiteral("alerts"), QStringLiteral("one"), QStringLiteral("a1"), 10)));
    QVERIFY(m_store->add(entry(QStringLiteral("alerts"), QStringLiteral("two"), QStringLiteral("a2"))));
    QCOMPARE(changed.size(), 2);
    const auto all = m_store->entries();
    QCOMPARE(all.size(), 2);
    QCOMPARE(all.at(0).title, QStringLiteral("two")); // newest first
    QCOMPARE(all.at(1).title, QStringLiteral("one"));
    QCOMPARE(all.at(1).body, QStringLiteral("one body"));
    QCOMPARE(all.at(1).patchId, QStringLiteral("a1"));
    QCOMPARE(all.at(1).clickUrl, QStringLiteral("https://example.invalid/one"));
    QCOMPARE(all.at(1).priority, 4);
    QVERIFY(all.at(0).id > 0);
    QVERIFY(m_store->remove(all.at(0).id));
    QCOMPARE(m_store->count(), 1);
    m_store->clear();
    QCOMPARE(m_store->count(), 0);
}

void TestHistoryStore::dedupBySubscriptionAndPatchId()
{
    QVERIFY(m_store->add(entry(QStringLiteral("alerts"), QStringLiteral("one"), QStringLiteral("id-1"))));
    // A replay after a reconnect delivers the same id again: stored once.
    QVERIFY(!m_store->add(entry(QStringLiteral("alerts"), QStringLiteral("one again"), QStringLiteral("id-1"))));
    // The same id on another subscription (another server) is another message.
    QVERIFY(m_store->add(entry(QStringLiteral("other"), QStringLiteral("one"), QStringLiteral("id-1"))));
    // Messages without an id are never merged.
    QVERIFY(m_store->add(entry(QStringLiteral("alerts"), QStringLiteral("no id"))));
    QVERIFY(m_store->add(entry(QStringLiteral("alerts"), QStringLiteral("no id"))));
    QCOMPARE(m_store->count(), 4);
}

void TestHistoryStore::emptyFieldsAreStored()
{
    HistoryEntry e;
    e.time = QDateTime::currentDateTimeUtc();
    e.subscription = QStringLiteral("s");
    QVERIFY(m_store->add(e)); // null title, body and click URL
    QCOMPARE(m_store->count(), 1);
    QVERIFY(m_store->entries().first().clickUrl.isEmpty());
}

void TestHistoryStore::boundByCount()
{
    m_store->setBounds(3, 0);
    for (int i = 0; i < 5; ++i) {
        QVERIFY(m_store->add(entry(QStringLiteral("s"), QString::number(i), QString::number(i) + u'x', 10 - i)));
    }
    const auto all = m_store->entries();
    QCOMPARE(all.size(), 3);
    QCOMPARE(all.first().title, QStringLiteral("4"));
    QCOMPARE(all.last().title, QStringLiteral("2"));
    // Lowering the bound prunes at once.
    m_store->setBounds(1, 0);
    QCOMPARE(m_store->count(), 1);
}

void TestHistoryStore::boundByAge()
{
    m_store->setBounds(0, 0);
    QVERIFY(m_store->add(entry(QStringLiteral("s"), QStringLiteral("old"), {}, 3 * 86400)));
    QVERIFY(m_store->add(entry(QStringLiteral("s"), QStringLiteral("new"), {}, 60)));
    QCOMPARE(m_store->count(), 2);
    m_store->setBounds(0, 2);
    QCOMPARE(m_store->count(), 1);
    QCOMPARE(m_store->entries().first().title, QStringLiteral("new"));
    // Pruning is relative to the time given: four days later nothing is left.
    m_store->prune(QDateTime::currentDateTimeUtc().addDays(4));
    QCOMPARE(m_store->count(), 0);
}

void TestHistoryStore::search()
{
    QVERIFY(m_store->add(entry(QStringLiteral("backups"), QStringLiteral("Backup done"))));
    QVERIFY(m_store->add(entry(QStringLiteral("alerts"), QStringLiteral("Disk full"))));
    QVERIFY(m_store->add(entry(QStringLiteral("alerts"), QStringLiteral("100% CPU"))));
    QCOMPARE(m_store->entries(QStringLiteral("backup")).size(), 1); // title, case-insensitive
    QCOMPARE(m_store->entries(QStringLiteral("ALERTS")).size(), 2); // subscription
    QCOMPARE(m_store->entries(QStringLiteral("full body")).size(), 1); // body
    QCOMPARE(m_store->entries(QStringLiteral("100%")).size(), 1); // no LIKE wildcards
    QCOMPARE(m_store->entries(QStringLiteral("_")).size(), 0);
}

void TestHistoryStore::unreadCount()
{
    QSignalSpy unread(m_store.get(), &HistoryStore::unreadCountChanged);
    QVERIFY(m_store->add(entry(QStringLiteral("s"), QStringLiteral("a"))));
    QVERIFY(m_store->add(entry(QStringLiteral("s"), QStringLiteral("b"))));
    QCOMPARE(m_store->unreadCount(), 2);
    m_store->markAllRead();
    QCOMPARE(m_store->unreadCount(), 0);
    QCOMPARE(unread.size(), 3);
    QCOMPARE(unread.last().at(0).toInt(), 0);
}

void TestHistoryStore::persistsAcrossOpen()
{
    QVERIFY(m_store->add(entry(QStringLiteral("s"), QStringLiteral("kept"), QStringLiteral("k1"))));
    m_store = std::make_unique<HistoryStore>();
    QVERIFY(m_store->open(m_dir->filePath(QStringLiteral("history.sqlite"))));
    QCOMPARE(m_store->count(), 1);
    QCOMPARE(m_store->unreadCount(), 1);
    QVERIFY(!m_store->add(entry(QStringLiteral("s"), QStringLiteral("kept"), QStringLiteral("k1"))));
}

void TestHistoryStore::model()
{
    HistoryModel model(m_store.get());
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.columnCount(), int(HistoryModel::ColumnCount));
    QVERIFY(m_store->add(entry(QStringLiteral("alerts"), QStringLiteral("Disk full"), QStringLiteral("p1"))));
    QVERIFY(m_store->add(entry(QStringLiteral("backups"), QStringLiteral("Backup done"))));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.index(0, HistoryModel::TitleColumn).data().toString(), QStringLiteral("Backup done"));
    QCOMPARE(model.index(1, HistoryModel::SubscriptionColumn).data().toString(), QStringLiteral("alerts"));
    QCOMPARE(model.index(1, 0).data(HistoryModel::PatchIdRole).toString(), QStringLiteral("p1"));
    QCOMPARE(model.index(1, 0).data(HistoryModel::ClickUrlRole).toString(),
             QStringLiteral("https://example.invalid/Disk full"));
    QVERIFY(model.index(1, 0).data(Qt::FontRole).value<QFont>().bold()); // unread
    QCOMPARE(model.headerData(HistoryModel::MessageColumn, Qt::Horizontal).toString(), QStringLiteral("Message"));
    model.setFilter(QStringLiteral("disk"));
    QCOMPARE(model.rowCount(), 1);
    m_store->markAllRead();
    QVERIFY(!model.index(0, 0).data(Qt::FontRole).isValid());
}

void TestHistoryStore::window()
{
    QList<QUrl> opened;
    HistoryWindow window(m_store.get(), [&opened](const QUrl &url) {
        opened.append(url);
        return true;
    });
    QVERIFY(m_store->add(entry(QStringLiteral("alerts"), QStringLiteral("Disk"), QStringLiteral("p1"))));
    QVERIFY(m_store->add(entry(QStringLiteral("backups"), QStringLiteral("Backup"))));
    QCOMPARE(m_store->unreadCount(), 2);
    QTest::ignoreMessage(QtWarningMsg, "This plugin does not support propagateSizeHints()");
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(m_store->unreadCount(), 0); // showing the history reads it
    auto *unreadLabel = window.findChild<QLabel *>(QStringLiteral("unreadLabel"));
    QVERIFY(unreadLabel);
    QCOMPARE(unreadLabel->text(), QStringLiteral("Shown: 2 · unread: 0"));

    QTest::keyClicks(window.searchField(), QStringLiteral("disk"));
    QCOMPARE(window.model()->rowCount(), 1);
    QVERIFY(window.selectedText().isEmpty());
    window.view()->selectRow(0);
    QCOMPARE(window.selectedText(), QStringLiteral("Disk\nDisk body"));
    window.copySelected();
    QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("Disk\nDisk body"));
    window.openSelectedLink();
    QCOMPARE(opened, QList<QUrl>{QUrl(QStringLiteral("https://example.invalid/Disk"))});
    window.deleteSelected();
    QCOMPARE(m_store->count(), 1);
    QCOMPARE(window.model()->rowCount(), 0);
    window.searchField()->clear();
    QCOMPARE(window.model()->rowCount(), 1);
    window.clearAll();
    QCOMPARE(m_store->count(), 0);
}

QTEST_MAIN(TestHistoryStore)
#include "tst_historystore.moc"
