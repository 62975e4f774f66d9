// SPDX-License-Identifier: MIT
#include "gui/editor/ntfyform.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalBlocker>
#include <QStackedWidget>
#include <QStyledItemDelegate>
#include <QTableWidget>
#include <QVBoxLayout>

#include "notify/notifier.h"

using namespace Qt::StringLiterals;

namespace Patchwork::Gui
{

namespace
{

struct TypeSpec
{
    QLatin1StringView type;
    const char *name;
};

// Combo and page order. "" is "no ntfy block".
constexpr TypeSpec TYPES[] = {
    {""_L1, QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "None")},
    {"matrix"_L1, QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Matrix")},
    {"ntfy"_L1, QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "ntfy")},
    {"gotify"_L1, QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Gotify")},
    {"webhook"_L1, QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Webhook")},
    {"channel"_L1, QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Channel (desktop notifications)")},
};

// The config keys Notifier reads per backend (shared/notify/notifier.cpp), apart from webhook's headers.
struct FieldSpec
{
    QLatin1StringView type;
    QLatin1StringView key;
    const char *objectName;
    const char *label;
    const char *accessibleName;
    // An example value (not translated), else a translated hint, as the placeholder.
    const char *example;
    const char *hint;
    bool secret;
};

constexpr FieldSpec FIELDS[] = {
    {"matrix"_L1,
     "user"_L1,
     "matrixUserLineEdit",
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "&User:"),
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Matrix user"),
     "@bot:example.org",
     nullptr,
     false},
    {"matrix"_L1,
     "access_token"_L1,
     "matrixAccessTokenLineEdit",
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "&Access token:"),
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Matrix access token"),
     nullptr,
     nullptr,
     true},
    {"matrix"_L1,
     "endpoint"_L1,
     "matrixEndpointLineEdit",
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "E&ndpoint:"),
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Matrix endpoint"),
     nullptr,
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Optional: https:// and the server part of the user id"),
     false},
    {"matrix"_L1,
     "room_id"_L1,
     "matrixRoomIdLineEdit",
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "&Room ID:"),
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Matrix room ID"),
     nullptr,
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Optional when every notification names its room"),
     false},
    {"ntfy"_L1,
     "url"_L1,
     "ntfyUrlLineEdit",
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "&URL:"),
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "ntfy server URL"),
     "https://ntfy.sh",
     nullptr,
     false},
    {"ntfy"_L1,
     "topic"_L1,
     "ntfyTopicLineEdit",
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Topi&c:"),
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "ntfy topic"),
     nullptr,
     nullptr,
     false},
    {"ntfy"_L1,
     "token"_L1,
     "ntfyTokenLineEdit",
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Toke&n:"),
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "ntfy access token"),
     nullptr,
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Optional"),
     true},
    {"gotify"_L1,
     "url"_L1,
     "gotifyUrlLineEdit",
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "&URL:"),
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Gotify server URL"),
     "https://gotify.example.org",
     nullptr,
     false},
    {"gotify"_L1,
     "token"_L1,
     "gotifyTokenLineEdit",
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Toke&n:"),
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Gotify application token"),
     nullptr,
     nullptr,
     true},
    {"webhook"_L1,
     "url"_L1,
     "webhookUrlLineEdit",
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "&URL:"),
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Webhook URL"),
     "https://hooks.example.org/notify",
     nullptr,
     false},
    {"channel"_L1,
     "path"_L1,
     "channelPathLineEdit",
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "P&ath:"),
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "Channel path"),
     nullptr,
     QT_TRANSLATE_NOOP("Patchwork::Gui::NtfyForm", "A channel inside the user's namespace, e.g. notifications"),
     false},
};

const auto WEBHOOK = "webhook"_L1;
const auto HEADERS = "headers"_L1;

// What a line edit can show: UserConfig gives scalars as QString, lists and maps as QVariantList/Map.
bool isText(const QVariant &value)
{
    return !value.isValid() || value.typeId() == QMetaType::QString;
}

// Header table cells: an accessible name for the editor, and values masked unless being edited.
class HeaderDelegate final : public QStyledItemDelegate
{
public:
    HeaderDelegate(bool secret, const QString &accessibleName, QObject *parent)
        : QStyledItemDelegate(parent)
        , m_secret(secret)
        , m_accessibleName(accessibleName)
    {
    }

    QString displayText(const QVariant &value, const QLocale &locale) const override
    {
        if (m_secret && !value.toString().isEmpty()) {
            return QString(8, QChar(0x2022));
        }
        return QStyledItemDelegate::displayText(value, locale);
    }

    QWidget *createEditor(QWidget *parent, const QStyleOptionViewItem &option, const QModelIndex &index) const override
    {
        QWidget *editor = QStyledItemDelegate::createEditor(parent, option, index);
        editor->setAccessibleName(m_accessibleName);
        if (auto *line = qobject_cast<QLineEdit *>(editor); line && m_secret) {
            line->setEchoMode(QLineEdit::PasswordEchoOnEdit);
        }
        return editor;
    }

private:
    bool m_secret;
    QString m_accessibleName;
};

} // namespace

NtfyForm::NtfyForm(QWidget *parent)
    : QWidget(parent)
    , m_typeComboBox(new QComboBox(this))
    , m_pages(new QStackedWidget(this))
{
    setObjectName(u"ntfyForm"_s);
    m_typeComboBox->setObjectName(u"ntfyTypeComboBox"_s);
    m_typeComboBox->setAccessibleName(tr("Notification backend"));
    m_typeComboBox->setToolTip(tr("Where /_/ntfy sends notifications; none makes it answer 503"));
    for (const TypeSpec &spec : TYPES) {
        m_typeIndex.insert(spec.type, m_typeComboBox->count());
        m_typeComboBox->addItem(tr(spec.name), QString(spec.type));
        m_pages->addWidget(createPage(spec.type));
    }
    auto *unknownPage = new QLabel(tr("This backend type is unknown to Patchwork; its settings are kept as they are. "
                                      "Choose a type to replace it."),
                                   m_pages);
    unknownPage->setWordWrap(true);
    m_pages->addWidget(unknownPage);
    m_problemLabel = new QLabel(this);
    m_problemLabel->setObjectName(u"ntfyProblemLabel"_s);
    m_problemLabel->setStyleSheet(u"color: #b00020;"_s);
    m_problemLabel->setWordWrap(true);

    auto *typeRow = new QFormLayout;
    typeRow->addRow(tr("&Backend:"), m_typeComboBox);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(typeRow);
    layout->addWidget(m_pages, 1);
    layout->addWidget(m_problemLabel);

    connect(m_typeComboBox, &QComboBox::currentIndexChanged, this, &NtfyForm::onTypeChanged);
    for (const Field &field : std::as_const(m_fields)) {
        connect(field.edit, &QLineEdit::textChanged, this, [this, edit = field.edit] { onEdited(edit); });
    }
    connect(m_headersTable, &QTableWidget::itemChanged, this, [this] { onEdited(m_headersTable); });
    connect(m_addHeaderButton, &QPushButton::clicked, this, [this] {
        addHeaderRow({}, {});
        m_headersTable->setCurrentCell(m_headersTable->rowCount() - 1, 0);
        m_headersTable->setFocus();
        m_headersTable->editItem(m_headersTable->currentItem());
    });
    connect(m_removeHeaderButton, &QPushButton::clicked, this, [this] {
        const int row = m_headersTable->currentRow();
        if (row >= 0) {
            m_headersTable->removeRow(row);
            onEdited(m_headersTable);
        }
    });
    setBackend({}, {});
}

QWidget *NtfyForm::createPage(const QString &type)
{
    auto *page = new QWidget(m_pages);
    auto *form = new QFormLayout(page);
    if (type.isEmpty()) {
        auto *none = new QLabel(tr("No notification backend: /_/ntfy answers 503."), page);
        none->setWordWrap(true);
        form->addRow(none);
    }
    for (const FieldSpec &spec : FIELDS) {
        if (spec.type != type) {
            continue;
        }
        auto *edit = new QLineEdit(page);
        edit->setObjectName(QLatin1StringView(spec.objectName));
        edit->setAccessibleName(tr(spec.accessibleName));
        const QString placeholder = spec.example ? QString::fromLatin1(spec.example)
                                    : spec.hint  ? tr(spec.hint)
                                                 : QString();
        edit->setPlaceholderText(placeholder);
        if (spec.secret) {
            edit->setEchoMode(QLineEdit::PasswordEchoOnEdit);
            edit->setToolTip(tr("A secret: shown only while you edit it"));
        }
        form->addRow(tr(spec.label), edit);
        m_fields.append({type, spec.key, edit, placeholder});
    }
    if (type == WEBHOOK) {
        form->addRow(tr("Headers:"), createWebhookHeaders());
    }
    return page;
}

QWidget *NtfyForm::createWebhookHeaders()
{
    auto *box = new QWidget(m_pages);
    m_headersTable = new QTableWidget(0, 2, box);
    m_headersTable->setObjectName(u"webhookHeadersTableWidget"_s);
    m_headersTable->setAccessibleName(tr("Webhook headers"));
    m_headersTable->setToolTip(tr("Extra request headers; values are secrets, shown only while you edit them"));
    m_headersTable->setHorizontalHeaderLabels({tr("Name"), tr("Value")});
    m_headersTable->horizontalHeader()->setStretchLastSection(true);
    m_headersTable->verticalHeader()->hide();
    m_headersTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_headersTable->setSelectionMode(QAbstractItemView::SingleSelection);
    // Tab leaves the table instead of walking its cells.
    m_headersTable->setTabKeyNavigation(false);
    m_headersTable->setItemDelegateForColumn(0, new HeaderDelegate(false, tr("Header name"), m_headersTable));
    m_headersTable->setItemDelegateForColumn(1, new HeaderDelegate(true, tr("Header value"), m_headersTable));
    m_addHeaderButton = new QPushButton(tr("A&dd header"), box);
    m_addHeaderButton->setObjectName(u"addHeaderPushButton"_s);
    m_addHeaderButton->setAccessibleName(tr("Add header"));
    m_removeHeaderButton = new QPushButton(tr("Re&move header"), box);
    m_removeHeaderButton->setObjectName(u"removeHeaderPushButton"_s);
    m_removeHeaderButton->setAccessibleName(tr("Remove header"));

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_addHeaderButton);
    buttons->addWidget(m_removeHeaderButton);
    buttons->addStretch(1);
    auto *layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_headersTable, 1);
    layout->addLayout(buttons);
    return box;
}

void NtfyForm::addHeaderRow(const QString &name, const QString &value)
{
    const QSignalBlocker blocker(m_headersTable);
    const int row = m_headersTable->rowCount();
    m_headersTable->insertRow(row);
    m_headersTable->setItem(row, 0, new QTableWidgetItem(name));
    m_headersTable->setItem(row, 1, new QTableWidgetItem(value));
}

void NtfyForm::loadHeaders(const QVariant &headers)
{
    m_headersTable->setRowCount(0);
    const QVariantMap map = headers.toMap();
    for (auto it = map.cbegin(); it != map.cend(); ++it) {
        addHeaderRow(it.key(), it.value().toString());
    }
}

QVariant NtfyForm::headersValue() const
{
    QVariantMap map;
    for (int row = 0; row < m_headersTable->rowCount(); ++row) {
        const QString name = m_headersTable->item(row, 0)->text().trimmed();
        const QString value = m_headersTable->item(row, 1)->text();
        if (!name.isEmpty() || !value.isEmpty()) {
            map.insert(name, value);
        }
    }
    return map.isEmpty() ? QVariant() : QVariant(map);
}

void NtfyForm::setBackend(const QString &type, const QVariantMap &config)
{
    m_loading = true;
    const QString normalized = type.trimmed().toLower();
    if (m_unknownIndex >= 0) {
        m_typeComboBox->removeItem(m_unknownIndex);
        m_unknownIndex = -1;
    }
    int index = m_typeIndex.value(normalized, -1);
    if (index < 0) {
        index = m_unknownIndex = m_typeComboBox->count();
        m_typeComboBox->addItem(tr("Unknown: %1").arg(type), type);
    }
    m_loadedType = type;
    m_loadedIndex = index;
    m_loadedConfig = config;
    m_edited.clear();
    for (const Field &field : std::as_const(m_fields)) {
        const QVariant value = field.type == normalized ? config.value(field.key) : QVariant();
        const bool text = isText(value);
        field.edit->setText(text ? value.toString() : QString());
        field.edit->setPlaceholderText(text ? field.placeholder
                                            : tr("Not a text value in the file: kept until you type here"));
    }
    loadHeaders(normalized == WEBHOOK ? config.value(HEADERS) : QVariant());
    m_typeComboBox->setCurrentIndex(index);
    m_pages->setCurrentIndex(index);
    m_loading = false;
    updateProblem();
}

QString NtfyForm::type() const
{
    const QString current = m_typeComboBox->currentData().toString();
    if (current.isEmpty()) {
        return {};
    }
    return m_typeComboBox->currentIndex() == m_loadedIndex ? m_loadedType : current;
}

QStringList NtfyForm::keysOf(const QString &type) const
{
    QStringList keys;
    for (const Field &field : m_fields) {
        if (field.type == type) {
            keys.append(field.key);
        }
    }
    if (type == WEBHOOK) {
        keys.append(HEADERS);
    }
    return keys;
}

QVariantMap NtfyForm::config() const
{
    const int index = m_typeComboBox->currentIndex();
    const QString current = m_typeComboBox->currentData().toString();
    const QStringList loadedKeys = keysOf(m_loadedType.trimmed().toLower());
    const QStringList keys = keysOf(current);
    QVariantMap result;
    for (auto it = m_loadedConfig.cbegin(); it != m_loadedConfig.cend(); ++it) {
        if (!loadedKeys.contains(it.key()) && !keys.contains(it.key())) {
            result.insert(it.key(), it.value());
        }
    }
    // A field the user did not touch on the loaded page keeps its original value, whatever its type.
    const auto put = [&](const QString &key, const QObject *widget, const QVariant &value) {
        if (index == m_loadedIndex && !m_edited.contains(widget)) {
            if (m_loadedConfig.contains(key)) {
                result.insert(key, m_loadedConfig.value(key));
            }
        } else if (value.isValid()) {
            result.insert(key, value);
        }
    };
    for (const Field &field : m_fields) {
        if (field.type == current) {
            const QString text = field.edit->text();
            put(field.key, field.edit, text.trimmed().isEmpty() ? QVariant() : QVariant(text));
        }
    }
    if (current == WEBHOOK) {
        put(HEADERS, m_headersTable, headersValue());
    }
    return result;
}

QString NtfyForm::problem() const
{
    const QString backend = type();
    if (backend.isEmpty()) {
        return {};
    }
    const auto result = Notifier::checkConfig(backend, config());
    return result ? result->localizedMessage : QString();
}

void NtfyForm::onTypeChanged()
{
    const int index = m_typeComboBox->currentIndex();
    m_pages->setCurrentIndex(index);
    if (!m_loading) {
        updateProblem();
        Q_EMIT edited();
    }
}

void NtfyForm::onEdited(QObject *source)
{
    if (m_loading) {
        return;
    }
    m_edited.insert(source);
    updateProblem();
    Q_EMIT edited();
}

void NtfyForm::updateProblem()
{
    const QString text = problem();
    m_problemLabel->setText(text);
    m_problemLabel->setVisible(!text.isEmpty());
}

} // namespace Patchwork::Gui
