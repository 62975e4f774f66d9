// SPDX-License-Identifier: MIT
#pragma once

#include <QWidget>

#include "gui/urlopener.h"

class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;

namespace Patchwork::Gui
{

class HistoryModel;
class HistoryStore;

// The notification history: search, copy, open link, delete, clear; the unread count. Showing the window
// marks everything read.
class HistoryWindow final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HistoryWindow)

public:
    explicit HistoryWindow(HistoryStore *store, UrlOpener urlOpener, QWidget *parent = nullptr);

    HistoryModel *model() const;
    QTableView *view() const;
    QLineEdit *searchField() const;

    // The selected message as text ("title\nbody"); empty when none is selected.
    QString selectedText() const;
    void copySelected();
    void openSelectedLink();
    void deleteSelected();
    void clearAll();

protected:
    void showEvent(QShowEvent *event) override;

private:
    void updateState();

    HistoryStore *m_store;
    UrlOpener m_urlOpener;
    HistoryModel *m_model;
    QLineEdit *m_searchLineEdit;
    QTableView *m_tableView;
    QLabel *m_unreadLabel;
    QPushButton *m_copyButton;
    QPushButton *m_openButton;
    QPushButton *m_deleteButton;
    QPushButton *m_clearButton;
};

} // namespace Patchwork::Gui
