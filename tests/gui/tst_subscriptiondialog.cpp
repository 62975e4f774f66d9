// SPDX-License-Identifier: MIT
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QLineEdit>
#include <QPushButton>
#include <QTest>

#include "gui/subscriptiondialog.h"

using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;

class TestSubscriptionDialog final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void addEditValidate();
};

void TestSubscriptionDialog::addEditValidate()
{
    SubscriptionDialog dialog({}, QUrl(u"http://127.0.0.1:8787/"_s));
    auto *ok = dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
    QVERIFY(ok->isEnabled()); // nothing to validate
    dialog.addSubscription();
    QCOMPARE(dialog.subscriptions().size(), 1);
    QCOMPARE(dialog.subscriptions().first().serverUrl, QUrl(u"http://127.0.0.1:8787/"_s)); // the local relay
    QVERIFY(!ok->isEnabled());
    QCOMPARE(dialog.validationText(), u"New subscription: The channel path is empty."_s);

    auto *path = dialog.findChild<QLineEdit *>(u"pathLineEdit"_s);
    QTest::keyClicks(path, u"/public/pubsub/alerts"_s);
    QVERIFY(ok->isEnabled());
    auto *server = dialog.findChild<QLineEdit *>(u"serverLineEdit"_s);
    server->setText(u"ftp://example.org"_s);
    QVERIFY(!ok->isEnabled());
    QVERIFY(dialog.validationText().contains(u"http"_s));
    server->setText(u"https://relay.example.org"_s);
    QVERIFY(ok->isEnabled());

    auto *token = dialog.findChild<QLineEdit *>(u"tokenLineEdit"_s);
    QCOMPARE(token->echoMode(), QLineEdit::Password);
    QTest::keyClicks(token, u"tok"_s);
    dialog.findChild<QCheckBox *>(u"mutedCheckBox"_s)->setChecked(true);
    const SubscriptionConfig c = dialog.subscriptions().first();
    QCOMPARE(c.channelUrl(), QUrl(u"https://relay.example.org/public/pubsub/alerts"_s));
    QVERIFY(c.muted);
    QCOMPARE(dialog.editedTokens().value(c.id), u"tok"_s);

    dialog.removeCurrent();
    QVERIFY(dialog.subscriptions().isEmpty());
    QVERIFY(dialog.editedTokens().isEmpty());
    QVERIFY(ok->isEnabled());
}

QTEST_MAIN(TestSubscriptionDialog)
#include "tst_subscriptiondialog.moc"
