// SPDX-License-Identifier: MIT
#include <QCheckBox>
#include <QClipboard>
#include <QGuiApplication>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

#include "access/userconfig.h"
#include "focuschain.h"
#include "gui/editor/newtokendialog.h"

using namespace Patchwork;
using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;

class TestNewTokenDialog final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void tokenIsRandomBase64Url();
    void keyIsHashUnlessLiteral();
    void keyIsAcceptedByUserConfig();
    void copyPutsTokenOnClipboard();
    void focusChainNamed();
};

void TestNewTokenDialog::init()
{
    QTest::failOnWarning(QRegularExpression(u"^(?!This plugin does not support propagateSizeHints).*"_s));
}

void TestNewTokenDialog::tokenIsRandomBase64Url()
{
    const QRegularExpression base64Url(u"^[A-Za-z0-9_-]{43}$"_s);
    NewTokenDialog first;
    NewTokenDialog second;
    QVERIFY2(base64Url.match(first.token()).hasMatch(), qPrintable(first.token()));
    QVERIFY2(base64Url.match(second.token()).hasMatch(), qPrintable(second.token()));
    QVERIFY(first.token() != second.token());
    // 43 characters of base64url are 32 bytes (the last character holds 4 bits, the rest 2 zero bits).
    QCOMPARE(QByteArray::fromBase64(first.token().toLatin1(), QByteArray::Base64UrlEncoding).size(), 32);

    QSet<QString> seen;
    for (int i = 0; i < 100; ++i) {
        seen.insert(NewTokenDialog::generateToken());
    }
    QCOMPARE(seen.size(), 100);

    NewTokenDialog dialog;
    auto *field = dialog.findChild<QLineEdit *>(u"tokenLineEdit"_s);
    QCOMPARE(field->text(), dialog.token());
    QVERIFY(field->isReadOnly());
    QCOMPARE(field->echoMode(), QLineEdit::Normal);
}

void TestNewTokenDialog::keyIsHashUnlessLiteral()
{
    NewTokenDialog dialog;
    auto *literal = dialog.findChild<QCheckBox *>(u"literalCheckBox"_s);
    QVERIFY(!literal->isChecked());
    QCOMPARE(dialog.key(), UserConfig::hashedKey(dialog.token().toLatin1()));
    QVERIFY(UserConfig::isHashedKey(dialog.key()));
    QVERIFY(dialog.key().startsWith(u"sha256:"_s));

    literal->click();
    QCOMPARE(dialog.key(), dialog.token());
    literal->click();
    QCOMPARE(dialog.key(), UserConfig::hashedKey(dialog.token().toLatin1()));
}

void TestNewTokenDialog::keyIsAcceptedByUserConfig()
{
    NewTokenDialog dialog;
    TokenEntry entry;
    entry.list(AclList::Get) = PatternList();
    for (const bool keepLiteral : {false, true}) {
        dialog.findChild<QCheckBox *>(u"literalCheckBox"_s)->setChecked(keepLiteral);
        UserConfig config;
        QString error;
        QVERIFY2(config.setToken(dialog.key(), entry, &error), qPrintable(error));
        QVERIFY(config.findToken(dialog.token().toLatin1()));
        // The saved file finds the token too.
        const auto reloaded = UserConfig::parse(config.toYaml(), u"config.yaml"_s, &error);
        QVERIFY2(reloaded, qPrintable(error));
        QVERIFY(reloaded->findToken(dialog.token().toLatin1()));
        QCOMPARE(reloaded->tokenKeys(), QStringList{dialog.key()});
    }
}

void TestNewTokenDialog::copyPutsTokenOnClipboard()
{
    NewTokenDialog dialog;
    QGuiApplication::clipboard()->setText(u"something else"_s);
    dialog.findChild<QPushButton *>(u"copyPushButton"_s)->click();
    QCOMPARE(QGuiApplication::clipboard()->text(), dialog.token());
}

void TestNewTokenDialog::focusChainNamed()
{
    NewTokenDialog dialog;
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    verifyFocusChainNamed(&dialog);
    if (QTest::currentTestFailed()) {
        return;
    }
    QCOMPARE(focusChainOrder(&dialog).mid(0, 3),
             (QStringList{u"tokenLineEdit"_s, u"copyPushButton"_s, u"literalCheckBox"_s}));
    QCOMPARE(focusChainOrder(&dialog).size(), 5); // and OK, Cancel
}

QTEST_MAIN(TestNewTokenDialog)
#include "tst_newtokendialog.moc"
