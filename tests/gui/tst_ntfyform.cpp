// SPDX-License-Identifier: MIT
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStyledItemDelegate>
#include <QTableWidget>
#include <QTest>

#include "focuschain.h"
#include "gui/editor/ntfyform.h"
#include "gui/translationloader.h"
#include "notify/notifier.h"

using namespace Patchwork;
using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;

class TestNtfyForm final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void perType_data();
    void perType();
    void secretFields();
    void webhookHeaders();
    void typeSwitchKeepsTyping();
    void unknownTypeKept();
    void nonTextValueKeptUntilEdited();
    void focusChainNamed_data();
    void focusChainNamed();
    void tabOrderFollowsLayout();
    void problemInTheUsersLanguage();
};

namespace
{

QString invalid(const QString &what)
{
    return u"Invalid notification backend configuration: "_s + what;
}

QComboBox *typeCombo(NtfyForm &form)
{
    return form.findChild<QComboBox *>(u"ntfyTypeComboBox"_s);
}

void chooseType(NtfyForm &form, const QString &type)
{
    QComboBox *combo = typeCombo(form);
    combo->setCurrentIndex(combo->findData(type));
}

} // namespace

void TestNtfyForm::init()
{
    QTest::failOnWarning(QRegularExpression(u"^(?!This plugin does not support propagateSizeHints).*"_s));
}

void TestNtfyForm::perType_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QVariantMap>("config");
    // objectName => the text the field shows after setBackend.
    QTest::addColumn<QVariantMap>("fields");
    QTest::addColumn<QString>("editField");
    QTest::addColumn<QString>("editKey");
    QTest::addColumn<QString>("newValue");
    QTest::addColumn<QString>("requiredField");
    QTest::addColumn<QString>("requiredKey");
    QTest::addColumn<QString>("missingMessage");

    QTest::addRow("matrix") << u"matrix"_s
                            << QVariantMap{{u"user"_s, u"@bot:example.org"_s},
                                           {u"access_token"_s, u"syt_secret"_s},
                                           {u"endpoint"_s, u"https://matrix.example.org"_s},
                                           {u"room_id"_s, u"!room:example.org"_s},
                                           {u"x-note"_s, u"kept"_s}}
                            << QVariantMap{{u"matrixUserLineEdit"_s, u"@bot:example.org"_s},
                                           {u"matrixAccessTokenLineEdit"_s, u"syt_secret"_s},
                                           {u"matrixEndpointLineEdit"_s, u"https://matrix.example.org"_s},
                                           {u"matrixRoomIdLineEdit"_s, u"!room:example.org"_s}}
                            << u"matrixRoomIdLineEdit"_s << u"room_id"_s << u"!other:example.org"_s
                            << u"matrixAccessTokenLineEdit"_s << u"access_token"_s
                            << invalid(u"access_token is missing"_s);
    QTest::addRow("ntfy") << u"ntfy"_s
                          << QVariantMap{{u"url"_s, u"https://ntfy.sh"_s},
                                         {u"topic"_s, u"alerts"_s},
                                         {u"token"_s, u"tk_secret"_s},
                                         {u"x-note"_s, u"kept"_s}}
                          << QVariantMap{{u"ntfyUrlLineEdit"_s, u"https://ntfy.sh"_s},
                                         {u"ntfyTopicLineEdit"_s, u"alerts"_s},
                                         {u"ntfyTokenLineEdit"_s, u"tk_secret"_s}}
                          << u"ntfyTopicLineEdit"_s << u"topic"_s << u"backups"_s << u"ntfyUrlLineEdit"_s << u"url"_s
                          << invalid(u"url is missing"_s);
    QTest::addRow("gotify") << u"gotify"_s
                            << QVariantMap{{u"url"_s, u"https://gotify.example.org"_s},
                                           {u"token"_s, u"AbCdEf"_s},
                                           {u"x-note"_s, u"kept"_s}}
                            << QVariantMap{{u"gotifyUrlLineEdit"_s, u"https://gotify.example.org"_s},
                                           {u"gotifyTokenLineEdit"_s, u"AbCdEf"_s}}
                            << u"gotifyUrlLineEdit"_s << u"url"_s << u"https://push.example.org"_s
                            << u"gotifyTokenLineEdit"_s << u"token"_s << invalid(u"token is missing"_s);
    QTest::addRow("webhook") << u"webhook"_s
                             << QVariantMap{{u"url"_s, u"https://hooks.example.org/x"_s},
                                            {u"headers"_s, QVariantMap{{u"X-Api-Key"_s, u"k"_s}}},
                                            {u"x-note"_s, u"kept"_s}}
                             << QVariantMap{{u"webhookUrlLineEdit"_s, u"https://hooks.example.org/x"_s}}
                             << u"webhookUrlLineEdit"_s << u"url"_s << u"https://hooks.example.org/y"_s
                             << u"webhookUrlLineEdit"_s << u"url"_s << invalid(u"url is missing"_s);
    QTest::addRow("channel") << u"channel"_s << QVariantMap{{u"path"_s, u"notifications"_s}, {u"x-note"_s, u"kept"_s}}
                             << QVariantMap{{u"channelPathLineEdit"_s, u"notifications"_s}} << u"channelPathLineEdit"_s
                             << u"path"_s << u"alerts/desktop"_s << u"channelPathLineEdit"_s << u"path"_s
                             << invalid(u"path is missing"_s);
}

void TestNtfyForm::perType()
{
    QFETCH(QString, type);
    QFETCH(QVariantMap, config);
    QFETCH(QVariantMap, fields);
    QFETCH(QString, editField);
    QFETCH(QString, editKey);
    QFETCH(QString, newValue);
    QFETCH(QString, requiredField);
    QFETCH(QString, requiredKey);
    QFETCH(QString, missingMessage);

    NtfyForm form;
    form.show();
    QSignalSpy edited(&form, &NtfyForm::edited);
    form.setBackend(type, config);
    QCOMPARE(edited.count(), 0);
    QCOMPARE(form.type(), type);
    QCOMPARE(typeCombo(form)->currentData().toString(), type);
    for (auto it = fields.cbegin(); it != fields.cend(); ++it) {
        auto *edit = form.findChild<QLineEdit *>(it.key());
        QVERIFY2(edit, qPrintable(it.key()));
        QVERIFY(edit->isVisible());
        QCOMPARE(edit->text(), it.value().toString());
    }
    QCOMPARE(form.config(), config);
    QCOMPARE(form.problem(), QString());
    auto *problemLabel = form.findChild<QLabel *>(u"ntfyProblemLabel"_s);
    QVERIFY(!problemLabel->isVisible());

    auto *edit = form.findChild<QLineEdit *>(editField);
    edit->selectAll();
    QTest::keyClicks(edit, newValue);
    QVERIFY(edited.count() > 0);
    QCOMPARE(form.config().value(editKey).toString(), newValue);
    QCOMPARE(form.config().value(u"x-note"_s).toString(), u"kept"_s);
    QCOMPARE(form.problem(), QString());

    auto *required = form.findChild<QLineEdit *>(requiredField);
    const int before = edited.count();
    required->clear();
    QCOMPARE(edited.count(), before + 1);
    QVERIFY(!form.config().contains(requiredKey));
    const auto daemon = Notifier::checkConfig(type, form.config());
    QVERIFY(daemon);
    QCOMPARE(form.problem(), daemon->message);
    QCOMPARE(form.problem(), missingMessage);
    QCOMPARE(problemLabel->text(), missingMessage);
    QVERIFY(problemLabel->isVisible());

    // setBackend again: back to the given block, without edited().
    edited.clear();
    form.setBackend(type, config);
    QCOMPARE(form.config(), config);
    QCOMPARE(form.problem(), QString());
    QVERIFY(!problemLabel->isVisible());
    QCOMPARE(edited.count(), 0);
}

void TestNtfyForm::secretFields()
{
    NtfyForm form;
    for (const auto name : {"matrixAccessTokenLineEdit"_L1, "ntfyTokenLineEdit"_L1, "gotifyTokenLineEdit"_L1}) {
        QCOMPARE(form.findChild<QLineEdit *>(name)->echoMode(), QLineEdit::PasswordEchoOnEdit);
    }
    for (const auto name : {"matrixUserLineEdit"_L1, "ntfyUrlLineEdit"_L1, "channelPathLineEdit"_L1}) {
        QCOMPARE(form.findChild<QLineEdit *>(name)->echoMode(), QLineEdit::Normal);
    }
    // Typing into a masked secret replaces it instead of appending to it.
    form.setBackend(u"gotify"_s, {{u"url"_s, u"https://gotify.example.org"_s}, {u"token"_s, u"old-secret"_s}});
    QTest::keyClicks(form.findChild<QLineEdit *>(u"gotifyTokenLineEdit"_s), u"new"_s);
    QCOMPARE(form.config().value(u"token"_s), QVariant(u"new"_s));

    auto *table = form.findChild<QTableWidget *>(u"webhookHeadersTableWidget"_s);
    auto *values = qobject_cast<QStyledItemDelegate *>(table->itemDelegateForColumn(1));
    QVERIFY(values);
    QCOMPARE(values->displayText(u"secret"_s, QLocale::c()), QString(8, QChar(0x2022)));
    auto *names = qobject_cast<QStyledItemDelegate *>(table->itemDelegateForColumn(0));
    QCOMPARE(names->displayText(u"X-Api-Key"_s, QLocale::c()), u"X-Api-Key"_s);
}

void TestNtfyForm::webhookHeaders()
{
    NtfyForm form;
    form.show();
    const QVariantMap config{{u"url"_s, u"https://hooks.example.org/x"_s},
                             {u"headers"_s, QVariantMap{{u"X-Api-Key"_s, u"k"_s}}}};
    form.setBackend(u"webhook"_s, config);
    auto *table = form.findChild<QTableWidget *>(u"webhookHeadersTableWidget"_s);
    QCOMPARE(table->rowCount(), 1);
    QCOMPARE(table->item(0, 0)->text(), u"X-Api-Key"_s);
    QCOMPARE(table->item(0, 1)->text(), u"k"_s);

    // The value's editor is masked and named.
    std::unique_ptr<QWidget> editor(table->itemDelegateForColumn(1)->createEditor(
        table->viewport(), QStyleOptionViewItem(), table->model()->index(0, 1)));
    auto *valueEditor = qobject_cast<QLineEdit *>(editor.get());
    QVERIFY(valueEditor);
    QCOMPARE(valueEditor->accessibleName(), u"Header value"_s);
    QCOMPARE(valueEditor->echoMode(), QLineEdit::PasswordEchoOnEdit);
    editor.reset();

    QSignalSpy edited(&form, &NtfyForm::edited);
    form.findChild<QPushButton *>(u"addHeaderPushButton"_s)->click();
    QCOMPARE(table->rowCount(), 2);
    QCOMPARE(form.config(), config); // an empty row adds nothing
    table->item(1, 0)->setText(u"Host"_s);
    table->item(1, 1)->setText(u"evil.example.org"_s);
    QVERIFY(edited.count() >= 2);
    const QVariantMap headers{{u"X-Api-Key"_s, u"k"_s}, {u"Host"_s, u"evil.example.org"_s}};
    QCOMPARE(form.config().value(u"headers"_s).toMap(), headers);
    QCOMPARE(form.problem(), invalid(u"headers: Host cannot be set"_s));
    QCOMPARE(form.problem(), Notifier::checkConfig(u"webhook"_s, form.config())->message);

    table->setCurrentCell(1, 0);
    form.findChild<QPushButton *>(u"removeHeaderPushButton"_s)->click();
    QCOMPARE(form.config(), config);
    QCOMPARE(form.problem(), QString());
    table->setCurrentCell(0, 0);
    form.findChild<QPushButton *>(u"removeHeaderPushButton"_s)->click();
    QVERIFY(!form.config().contains(u"headers"_s));
}

void TestNtfyForm::typeSwitchKeepsTyping()
{
    NtfyForm form;
    form.show();
    const QVariantMap matrix{
        {u"user"_s, u"@bot:example.org"_s}, {u"access_token"_s, u"syt_secret"_s}, {u"x-note"_s, u"kept"_s}};
    form.setBackend(u"matrix"_s, matrix);
    QSignalSpy edited(&form, &NtfyForm::edited);

    chooseType(form, u"ntfy"_s);
    QCOMPARE(edited.count(), 1);
    QCOMPARE(form.type(), u"ntfy"_s);
    QCOMPARE(form.config(), (QVariantMap{{u"x-note"_s, u"kept"_s}}));
    QCOMPARE(form.problem(), invalid(u"url is missing"_s));
    QTest::keyClicks(form.findChild<QLineEdit *>(u"ntfyUrlLineEdit"_s), u"https://ntfy.sh"_s);
    QTest::keyClicks(form.findChild<QLineEdit *>(u"ntfyTopicLineEdit"_s), u"alerts"_s);
    const QVariantMap ntfy{{u"url"_s, u"https://ntfy.sh"_s}, {u"topic"_s, u"alerts"_s}, {u"x-note"_s, u"kept"_s}};
    QCOMPARE(form.config(), ntfy);
    QCOMPARE(form.problem(), QString());

    chooseType(form, u"matrix"_s);
    QCOMPARE(form.type(), u"matrix"_s);
    QCOMPARE(form.config(), matrix);
    chooseType(form, u"ntfy"_s);
    QCOMPARE(form.config(), ntfy);

    chooseType(form, QString());
    QCOMPARE(form.type(), QString());
    QCOMPARE(form.problem(), QString());
    QVERIFY(edited.count() > 4);
}

void TestNtfyForm::unknownTypeKept()
{
    NtfyForm form;
    const QVariantMap config{{u"hook"_s, u"https://example.org"_s}};
    form.setBackend(u"slack"_s, config);
    QCOMPARE(form.type(), u"slack"_s);
    QCOMPARE(form.config(), config);
    QCOMPARE(form.problem(), invalid(u"unknown type (expected matrix, ntfy, gotify, webhook or channel)"_s));
    QCOMPARE(typeCombo(form)->count(), 7);

    chooseType(form, u"channel"_s);
    QCOMPARE(form.config(), config);
    QCOMPARE(form.problem(), invalid(u"path is missing"_s));

    form.setBackend(u"Matrix"_s, {});
    QCOMPARE(typeCombo(form)->count(), 6);
    QCOMPARE(typeCombo(form)->currentData().toString(), u"matrix"_s);
    QCOMPARE(form.type(), u"Matrix"_s); // as written, until the user picks another type

    form.setBackend(u" "_s, {});
    QCOMPARE(form.type(), QString());
    QCOMPARE(form.problem(), QString());
}

void TestNtfyForm::nonTextValueKeptUntilEdited()
{
    NtfyForm form;
    const QVariantMap config{{u"url"_s, u"https://ntfy.sh"_s}, {u"topic"_s, QVariantList{u"a"_s, u"b"_s}}};
    form.setBackend(u"ntfy"_s, config);
    QCOMPARE(form.config(), config);
    QCOMPARE(form.problem(), invalid(u"topic must be a string"_s));
    auto *topic = form.findChild<QLineEdit *>(u"ntfyTopicLineEdit"_s);
    QVERIFY(topic->text().isEmpty());
    QTest::keyClicks(topic, u"alerts"_s);
    QCOMPARE(form.config().value(u"topic"_s), QVariant(u"alerts"_s));
    QCOMPARE(form.problem(), QString());
}

void TestNtfyForm::focusChainNamed_data()
{
    QTest::addColumn<QString>("type");
    for (const auto type : {""_L1, "matrix"_L1, "ntfy"_L1, "gotify"_L1, "webhook"_L1, "channel"_L1, "slack"_L1}) {
        QTest::addRow("%s", type.isEmpty() ? "none" : type.data()) << QString(type);
    }
}

void TestNtfyForm::focusChainNamed()
{
    QFETCH(QString, type);
    NtfyForm form;
    form.setBackend(type, {});
    form.show();
    QVERIFY(QTest::qWaitForWindowExposed(&form));
    verifyFocusChainNamed(&form);
}

void TestNtfyForm::tabOrderFollowsLayout()
{
    NtfyForm form;
    form.setBackend(u"webhook"_s, {});
    form.show();
    QVERIFY(QTest::qWaitForWindowExposed(&form));
    QCOMPARE(focusChainOrder(&form),
             (QStringList{u"ntfyTypeComboBox"_s,
                          u"webhookUrlLineEdit"_s,
                          u"webhookHeadersTableWidget"_s,
                          u"addHeaderPushButton"_s,
                          u"removeHeaderPushButton"_s}));
}

QTEST_MAIN(TestNtfyForm)
// The daemon's check, as people read it: German in a German tray, while the protocol text (HTTP bodies,
// check-config) stays English.
void TestNtfyForm::problemInTheUsersLanguage()
{
    TranslationLoader german;
    QVERIFY(german.install(u"de"_s));
    NtfyForm form;
    form.setBackend(u"gotify"_s, {{u"url"_s, u"https://gotify.example"_s}});
    const auto daemon = Notifier::checkConfig(u"gotify"_s, form.config());
    QVERIFY(daemon);
    QCOMPARE(daemon->message, invalid(u"token is missing"_s));
    QCOMPARE(form.problem(), u"Ungültige Konfiguration des Benachrichtigungsdienstes: token fehlt"_s);
    QCOMPARE(form.problem(), daemon->localizedMessage);
}

#include "tst_ntfyform.moc"
