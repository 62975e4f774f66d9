// SPDX-License-Identifier: MIT
#pragma once

#include <QAbstractTableModel>
#include <QPointer>

#include "gui/historystore.h"

namespace Patchwork::Gui
{

// The history as a table (time, subscription, title, message), newest first, filtered by a search text.
// Reloads whenever the store changes.
class HistoryModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HistoryModel)

public:
    enum Column
    {
        TimeColumn,
        SubscriptionColumn,
        TitleColumn,
        MessageColumn,
        ColumnCount
    };
    enum Role
    {
        IdRole = Qt::UserRole + 1,
        ClickUrlRole,
        PatchIdRole,
    };

    explicit HistoryModel(HistoryStore *store, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    QString filter() const;
    void setFilter(const QString &filter);
    HistoryEntry entry(int row) const;

private:
    void reload();

    QPointer<HistoryStore> m_store;
    QString m_filter;
    QList<HistoryEntry> m_entries;
};

} // namespace Patchwork::Gui
