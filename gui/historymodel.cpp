// SPDX-License-Identifier: MIT
#include "gui/historymodel.h"

#include <QFont>
#include <QLocale>

namespace Patchwork::Gui
{

HistoryModel::HistoryModel(HistoryStore *store, QObject *parent)
    : QAbstractTableModel(parent)
    , m_store(store)
{
    connect(store, &HistoryStore::changed, this, &HistoryModel::reload);
    reload();
}

int HistoryModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_entries.size());
}

int HistoryModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant HistoryModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_entries.size()) {
        return {};
    }
    const HistoryEntry &e = m_entries.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case TimeColumn:
            return QLocale().toString(e.time.toLocalTime(), QLocale::ShortFormat);
        case SubscriptionColumn:
            return e.subscription;
        case TitleColumn:
            return e.title;
        case MessageColumn:
            // One line in the table; the tooltip has all of it.
            return QString(e.body).replace(u'\n', u' ');
        default:
            return {};
        }
    case Qt::ToolTipRole:
        return index.column() == MessageColumn ? e.body : QVariant();
    case Qt::FontRole:
        if (!e.read) {
            QFont bold;
            bold.setBold(true);
            return bold;
        }
        return {};
    case IdRole:
        return e.id;
    case ClickUrlRole:
        return e.clickUrl;
    case PatchIdRole:
        return e.patchId;
    default:
        return {};
    }
}

QVariant HistoryModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
        return {};
    }
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case SubscriptionColumn:
        return tr("Subscription");
    case TitleColumn:
        return tr("Title");
    case MessageColumn:
        return tr("Message");
    default:
        return {};
    }
}

QString HistoryModel::filter() const
{
    return m_filter;
}

void HistoryModel::setFilter(const QString &filter)
{
    if (filter == m_filter) {
        return;
    }
    m_filter = filter;
    reload();
}

HistoryEntry HistoryModel::entry(int row) const
{
    return m_entries.value(row);
}

void HistoryModel::reload()
{
    beginResetModel();
    m_entries = m_store ? m_store->entries(m_filter) : QList<HistoryEntry>();
    endResetModel();
}

} // namespace Patchwork::Gui
