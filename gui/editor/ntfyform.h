// SPDX-License-Identifier: MIT
#pragma once

#include <QHash>
#include <QSet>
#include <QVariantMap>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QStackedWidget;
class QTableWidget;

namespace Patchwork::Gui
{

// The `ntfy` block of a token config (PROTOCOL §10) as a form: a backend type (none, matrix, ntfy,
// gotify, webhook, channel) and a page with the fields that backend reads. Whether the block is usable
// is decided by Notifier::checkConfig, the daemon's own check; its message is shown under the form.
//
// Nothing is lost: keys the form does not know are kept as they were given, and a field keeps its
// original value (whatever its YAML type) until the user edits it. Switching the type keeps what was
// typed on the other pages; config() holds only the current type's fields and the unknown keys.
class NtfyForm final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NtfyForm)

public:
    explicit NtfyForm(QWidget *parent = nullptr);

    // Loads a block as UserConfig::ntfyType()/ntfyConfig() give it; an empty type means no block. A type
    // the form does not know is shown as such and kept with its whole config. Does not emit edited().
    void setBackend(const QString &type, const QVariantMap &config);

    // The type to store: empty for none (no `ntfy` block), else the backend name.
    QString type() const;
    // The current type's fields (empty optional fields left out) plus the keys the form does not know.
    QVariantMap config() const;
    // Empty when the block is usable (or absent), else Notifier::checkConfig's message.
    QString problem() const;

Q_SIGNALS:
    // Every change by the user (never by setBackend()).
    void edited();

private:
    struct Field
    {
        QString type;
        QString key;
        QLineEdit *edit;
        QString placeholder;
    };

    QWidget *createPage(const QString &type);
    QWidget *createWebhookHeaders();
    void addHeaderRow(const QString &name, const QString &value);
    void loadHeaders(const QVariant &headers);
    QVariant headersValue() const;
    // The keys a type's page writes.
    QStringList keysOf(const QString &type) const;
    void onTypeChanged();
    void onEdited(QObject *source);
    void updateProblem();

    QComboBox *m_typeComboBox;
    QStackedWidget *m_pages;
    QTableWidget *m_headersTable = nullptr;
    QPushButton *m_addHeaderButton = nullptr;
    QPushButton *m_removeHeaderButton = nullptr;
    QLabel *m_problemLabel = nullptr;
    QList<Field> m_fields;
    // Index in the type combo (and of the page) of each known type; an unknown type gets the last item.
    QHash<QString, int> m_typeIndex;
    int m_unknownIndex = -1;
    // What setBackend() was given, and the widgets the user changed since.
    QString m_loadedType;
    int m_loadedIndex = 0;
    QVariantMap m_loadedConfig;
    QSet<const QObject *> m_edited;
    bool m_loading = false;
};

} // namespace Patchwork::Gui
