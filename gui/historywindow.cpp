// SPDX-License-Identifier: MIT
#include "gui/historywindow.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QShortcut>
#include <QTableView>
#include <QVBoxLayout>

#include "gui/historymodel.h"
#include "gui/historystore.h"

namespace Patchwork::Gui
{

HistoryWindow::HistoryWindow(HistoryStore *store, UrlOpener urlOpener, QWidget *parent)
    : QWidget(parent, Qt::Window)
    , m_store(store)
    , m_urlOpener(std::move(urlOpener))
    , m_model(new HistoryModel(store, this))
    , m_searchLineEdit(new QLineEdit(this))
    , m_tableView(new QTableView(this))
    , m_unreadLabel(new QLabel(this))
    , m_copyButton(new QPushButton(tr("&Copy"), this))
    , m_openButton(new QPushButton(tr("&Open link"), this))
    , m_deleteButton(new QPushButton(tr("&Delete"), this))
    , m_clearButton(new QPushButton(tr("C&lear all…"), this))
{
    setWindowTitle(tr("Notification history — Patchwork"));
    setObjectName(QStringLiteral("historyWindow"));
    resize(760, 420);

    m_searchLineEdit->setObjectName(QStringLiteral("searchLineEdit"));
    m_searchLineEdit->setPlaceholderText(tr("Search title, message or subscription"));
    m_searchLineEdit->setClearButtonEnabled(true);
    m_searchLineEdit->setAccessibleName(tr("Search the history"));
    m_tableView->setObjectName(QStringLiteral("historyTableView"));
    m_tableView->setAccessibleName(tr("Received notifications"));
    m_tableView->setModel(m_model);
    m_tableView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_tableView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_tableView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_tableView->verticalHeader()->hide();
    m_tableView->horizontalHeader()->setStretchLastSection(true);
    m_tableView->setColumnWidth(HistoryModel::TimeColumn, 140);
    m_tableView->setColumnWidth(HistoryModel::SubscriptionColumn, 120);
    m_tableView->setColumnWidth(HistoryModel::TitleColumn, 180);
    m_tableView->setWordWrap(false);
    m_unreadLabel->setObjectName(QStringLiteral("unreadLabel"));
    m_copyButton->setObjectName(QStringLiteral("copyPushButton"));
    m_openButton->setObjectName(QStringLiteral("openPushButton"));
    m_deleteButton->setObjectName(QStringLiteral("deletePushButton"));
    m_clearButton->setObjectName(QStringLiteral("clearPushButton"));
    m_copyButton->setAccessibleName(tr("Copy the selected message"));
    m_openButton->setAccessibleName(tr("Open the link of the selected message"));
    m_deleteButton->setAccessibleName(tr("Delete the selected message"));
    m_clearButton->setAccessibleName(tr("Clear the whole history"));
    setTabOrder(m_searchLineEdit, m_tableView);
    setTabOrder(m_tableView, m_copyButton);
    setTabOrder(m_copyButton, m_openButton);
    setTabOrder(m_openButton, m_deleteButton);
    setTabOrder(m_deleteButton, m_clearButton);

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_unreadLabel, 1);
    buttons->addWidget(m_copyButton);
    buttons->addWidget(m_openButton);
    buttons->addWidget(m_deleteButton);
    buttons->addWidget(m_clearButton);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_searchLineEdit);
    layout->addWidget(m_tableView, 1);
    layout->addLayout(buttons);

    connect(m_searchLineEdit, &QLineEdit::textChanged, m_model, &HistoryModel::setFilter);
    connect(m_copyButton, &QPushButton::clicked, this, &HistoryWindow::copySelected);
    connect(m_openButton, &QPushButton::clicked, this, &HistoryWindow::openSelectedLink);
    connect(m_deleteButton, &QPushButton::clicked, this, &HistoryWindow::deleteSelected);
    connect(m_clearButton, &QPushButton::clicked, this, [this] {
        if (QMessageBox::question(this, tr("Clear history"), tr("Delete every message in the history?"))
            == QMessageBox::Yes) {
            clearAll();
        }
    });
    connect(m_tableView, &QTableView::doubleClicked, this, &HistoryWindow::openSelectedLink);
    connect(new QShortcut(QKeySequence::Copy, m_tableView), &QShortcut::activated, this, &HistoryWindow::copySelected);
    connect(
        new QShortcut(QKeySequence::Delete, m_tableView), &QShortcut::activated, this, &HistoryWindow::deleteSelected);
    connect(new QShortcut(QKeySequence::Find, this), &QShortcut::activated, this, [this] {
        m_searchLineEdit->setFocus(Qt::ShortcutFocusReason);
        m_searchLineEdit->selectAll();
    });
    connect(new QShortcut(QKeySequence::Close, this), &QShortcut::activated, this, &QWidget::close);
    connect(m_model, &QAbstractItemModel::modelReset, this, &HistoryWindow::updateState);
    connect(m_tableView->selectionModel(), &QItemSelectionModel::selectionChanged, this, &HistoryWindow::updateState);
    connect(store, &HistoryStore::unreadCountChanged, this, &HistoryWindow::updateState);
    updateState();
}

HistoryModel *HistoryWindow::model() const
{
    return m_model;
}

QTableView *HistoryWindow::view() const
{
    return m_tableView;
}

QLineEdit *HistoryWindow::searchField() const
{
    return m_searchLineEdit;
}

QString HistoryWindow::selectedText() const
{
    const QModelIndex current = m_tableView->selectionModel()->currentIndex();
    if (!current.isValid() || !m_tableView->selectionModel()->isRowSelected(current.row())) {
        return {};
    }
    const HistoryEntry e = m_model->entry(current.row());
    return e.title.isEmpty() ? e.body : e.title + u'\n' + e.body;
}

void HistoryWindow::copySelected()
{
    const QString text = selectedText();
    if (!text.isEmpty()) {
        QGuiApplication::clipboard()->setText(text);
    }
}

void HistoryWindow::openSelectedLink()
{
    const QModelIndex current = m_tableView->selectionModel()->currentIndex();
    const QUrl url(current.data(HistoryModel::ClickUrlRole).toString());
    if (current.isValid() && url.isValid() && !url.isEmpty()) {
        m_urlOpener(url);
    }
}

void HistoryWindow::deleteSelected()
{
    const QModelIndex current = m_tableView->selectionModel()->currentIndex();
    if (current.isValid()) {
        m_store->remove(current.data(HistoryModel::IdRole).toLongLong());
    }
}

void HistoryWindow::clearAll()
{
    m_store->clear();
}

void HistoryWindow::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    m_store->markAllRead();
}

void HistoryWindow::updateState()
{
    const QModelIndex current = m_tableView->selectionModel()->currentIndex();
    const bool selected = current.isValid() && m_tableView->selectionModel()->isRowSelected(current.row());
    m_copyButton->setEnabled(selected);
    m_deleteButton->setEnabled(selected);
    m_openButton->setEnabled(selected && !current.data(HistoryModel::ClickUrlRole).toString().isEmpty());
    m_clearButton->setEnabled(m_model->rowCount() > 0 || !m_model->filter().isEmpty());
    m_unreadLabel->setText(tr("Shown: %1 · unread: %2").arg(m_model->rowCount()).arg(m_store->unreadCount()));
}

} // namespace Patchwork::Gui
