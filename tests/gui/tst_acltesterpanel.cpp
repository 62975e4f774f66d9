// SPDX-License-Identifier: MIT
#include <QComboBox>
#include <QCryptographicHash>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QTest>

#include "access/acl.h"
#include "access/aclprobe.h"
#include "access/userconfig.h"
#include "focuschain.h"
#include "gui/editor/acltesterpanel.h"
#include "gui/editor/configeditorwindow.h"

using namespace Patchwork;
using namespace Patchwork::Gui;
using namespace Qt::StringLiterals;

namespace
{

// A deploy bot (literal), a person with a hashed key, a retired token, and what anyone may read.
const QByteArray CONFIG = "tokens:\n"
                          "  deploy-bot-7f3a:\n"
                          "    GET: [\"/builds/*\", \"!/builds/private-*\", \"/_/ntfy\"]\n"
                          "    POST: [\"/builds/*\"]\n"
                          "    huproxy: [\"10.0.0.*:*\", \"!10.0.0.1:22\"]\n"
                          "  retired-2019:\n"
                          "    expires_at: 2019-12-31T23:59:59Z\n"
                          "    GET: [\"*\"]\n"
                          "  \"sha256:"
                          + QCryptographicHash::hash("carol-laptop", QCryptographicHash::Sha256).toHex()
                          + "\":\n"
                            "    PUT: [\"/inbox/carol\"]\n"
                            "  public:\n"
                            "    GET: [\"/status/*\"]\n";

} // namespace

class TestAclTesterPanel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void verdicts_data();
    void verdicts();
    void literalTokenChoices();
    void huproxyPlaceholder();
    void noConfig();
    void focusChainNamed();

private:
    struct Panel
    {
        AclTesterPanel widget;
        QComboBox *method;
        QLineEdit *target;
        QLineEdit *token;
        QComboBox *tokens;
        QLabel *result;

        Panel()
            : method(widget.findChild<QComboBox *>(u"methodComboBox"_s))
            , target(widget.findChild<QLineEdit *>(u"targetLineEdit"_s))
            , token(widget.findChild<QLineEdit *>(u"tokenLineEdit"_s))
            , tokens(widget.findChild<QComboBox *>(u"tokenComboBox"_s))
            , result(widget.findChild<QLabel *>(u"resultLabel"_s))
        {
        }
    };

    std::shared_ptr<const UserConfig> m_config;
};

void TestAclTesterPanel::initTestCase()
{
    QString error;
    m_config = UserConfig::parse(CONFIG, u"config.yaml"_s, &error);
    QVERIFY2(m_config, qPrintable(error));
}

void TestAclTesterPanel::init()
{
    QTest::failOnWarning(QRegularExpression(u"^(?!This plugin does not support propagateSizeHints).*"_s));
}

void TestAclTesterPanel::verdicts_data()
{
    QTest::addColumn<QString>("method");
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("token");
    QTest::addColumn<QString>("expected");

    const QString notMatching = u"Denied — 403 Access denied: token does not match patterns"_s;
    QTest::addRow("literal allowed") << u"GET"_s << u"/builds/1234"_s << u"deploy-bot-7f3a"_s << u"Allowed"_s;
    QTest::addRow("negated") << u"GET"_s << u"/builds/private-keys"_s << u"deploy-bot-7f3a"_s << notMatching;
    QTest::addRow("no list") << u"DELETE"_s << u"/builds/1234"_s << u"deploy-bot-7f3a"_s
                             << u"Denied — 403 Access denied: no patterns found"_s;
    QTest::addRow("query and ntfy") << u"GET"_s << u"/_/ntfy?message=hi"_s << u"deploy-bot-7f3a"_s << u"Allowed"_s;
    QTest::addRow("bearer header value") << u"GET"_s << u"/builds/1234"_s << u"Bearer deploy-bot-7f3a"_s
                                         << u"Allowed"_s;
    QTest::addRow("hashed typed") << u"PUT"_s << u"/inbox/carol"_s << u"carol-laptop"_s << u"Allowed"_s;
    QTest::addRow("unknown token") << u"GET"_s << u"/status/relay"_s << u"nobody"_s
                                   << u"Denied — 401 Access denied: token not found"_s;
    QTest::addRow("expired") << u"GET"_s << u"/anything"_s << u"retired-2019"_s
                             << u"Denied — 401 Access denied: token expired"_s;
    QTest::addRow("public allowed") << u"GET"_s << u"/status/relay"_s << QString() << u"Allowed"_s;
    QTest::addRow("public denied is 401")
        << u"GET"_s << u"/other"_s << QString() << u"Denied — 401 Access denied: token does not match patterns"_s;
    QTest::addRow("huproxy allowed") << u"huproxy"_s << u"10.0.0.5:8080"_s << u"deploy-bot-7f3a"_s << u"Allowed"_s;
    QTest::addRow("huproxy negated") << u"huproxy"_s << u"10.0.0.1:22"_s << u"deploy-bot-7f3a"_s
                                     << u"Denied — 403 Forbidden: token does not match patterns"_s;
    QTest::addRow("huproxy no token") << u"huproxy"_s << u"10.0.0.5:8080"_s << QString()
                                      << u"Denied — 401 Unauthorized: Missing Authorization header"_s;
}

void TestAclTesterPanel::verdicts()
{
    QFETCH(QString, method);
    QFETCH(QString, target);
    QFETCH(QString, token);
    QFETCH(QString, expected);

    Panel panel;
    panel.widget.setUserName(u"alice"_s);
    panel.widget.setConfig(m_config);
    panel.method->setCurrentIndex(panel.method->findData(method));
    QTest::keyClicks(panel.target, target);
    QTest::keyClicks(panel.token, token);
    QCOMPARE(panel.result->text(), expected);

    // The very answer of the shared probe, status and body.
    const AclProbeResult probe = Acl::probe(m_config.get(),
                                            "alice",
                                            method.toUtf8(),
                                            target.toUtf8(),
                                            tokenFromAuthorization(token.toUtf8()),
                                            QDateTime::currentDateTimeUtc());
    QCOMPARE(panel.result->text(),
             probe.allowed ? u"Allowed"_s : u"Denied — %1 %2"_s.arg(probe.status).arg(QString::fromUtf8(probe.body)));

    // A new config is evaluated at once: here one without tokens.
    panel.widget.setConfig(std::make_shared<UserConfig>());
    QVERIFY(panel.result->text().startsWith(u"Denied — "_s));
    const bool missing = method == "huproxy"_L1 && token.isEmpty();
    QVERIFY(panel.result->text().endsWith(missing ? u"Missing Authorization header"_s : u"token not found"_s));
}

void TestAclTesterPanel::literalTokenChoices()
{
    Panel panel;
    panel.widget.setConfig(m_config);
    QStringList listed;
    for (int i = 1; i < panel.tokens->count(); ++i) {
        listed.append(panel.tokens->itemData(i).toString());
        // Listed masked as in the editor's token list: only `public` in full.
        QCOMPARE(panel.tokens->itemText(i), ConfigEditorWindow::tokenLabel(listed.last()));
        QVERIFY(listed.last() == u"public"_s || !panel.tokens->itemText(i).contains(listed.last()));
    }
    QCOMPARE(listed, (QStringList{u"deploy-bot-7f3a"_s, u"retired-2019"_s, u"public"_s}));
    QVERIFY(panel.tokens->toolTip().contains(u"sha256:"_s));
    QCOMPARE(panel.token->echoMode(), QLineEdit::PasswordEchoOnEdit);

    QTest::keyClicks(panel.target, u"/builds/1234"_s);
    QCOMPARE(panel.result->text(), u"Denied — 401 Access denied: token does not match patterns"_s);
    const int reader = panel.tokens->findData(u"deploy-bot-7f3a"_s);
    panel.tokens->setCurrentIndex(reader);
    Q_EMIT panel.tokens->activated(reader);
    QCOMPARE(panel.token->text(), u"deploy-bot-7f3a"_s);
    QCOMPARE(panel.result->text(), u"Allowed"_s);

    // Typing replaces the choice.
    QTest::keyClicks(panel.token, u"x"_s);
    QCOMPARE(panel.tokens->currentIndex(), 0);
    QCOMPARE(panel.result->text(), u"Denied — 401 Access denied: token not found"_s);
}

void TestAclTesterPanel::huproxyPlaceholder()
{
    Panel panel;
    panel.widget.setConfig(m_config);
    QCOMPARE(panel.target->placeholderText(), u"/queue/jobs?mode=pubsub"_s);
    panel.method->setCurrentIndex(panel.method->findData(u"huproxy"_s));
    QCOMPARE(panel.target->placeholderText(), u"ssh.example.org:22"_s);
    QCOMPARE(panel.method->count(), 7);
    panel.method->setCurrentIndex(panel.method->findData(u"OPTIONS"_s));
    QCOMPARE(panel.target->placeholderText(), u"/queue/jobs?mode=pubsub"_s);
    QTest::keyClicks(panel.target, u"/anything"_s);
    QCOMPARE(panel.result->text(), u"Allowed"_s); // a preflight needs no token
}

void TestAclTesterPanel::noConfig()
{
    Panel panel;
    panel.widget.setConfig(m_config);
    QTest::keyClicks(panel.target, u"/builds/1234"_s);
    QTest::keyClicks(panel.token, u"deploy-bot-7f3a"_s);
    QCOMPARE(panel.result->text(), u"Allowed"_s);

    panel.widget.setConfig(nullptr);
    QCOMPARE(panel.result->text(), u"The config has problems; fix them to test access."_s);
    QCOMPARE(panel.tokens->count(), 1);
    QVERIFY(!panel.tokens->isEnabled());
    QTest::keyClicks(panel.target, u"/more"_s);
    QVERIFY(!panel.result->text().contains(u"Allowed"_s));
    QVERIFY(!panel.result->text().contains(u"Denied"_s));
}

void TestAclTesterPanel::focusChainNamed()
{
    Panel panel;
    panel.widget.setConfig(m_config);
    panel.widget.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel.widget));
    verifyFocusChainNamed(&panel.widget);
    QCOMPARE(focusChainOrder(&panel.widget),
             (QStringList{u"methodComboBox"_s, u"targetLineEdit"_s, u"tokenLineEdit"_s, u"tokenComboBox"_s}));
}

QTEST_MAIN(TestAclTesterPanel)
#include "tst_acltesterpanel.moc"
