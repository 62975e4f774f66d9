// SPDX-License-Identifier: MIT
#include <QBuffer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QtTest>

#include "daemon/logsink.h"
#include "manualclock.h"

using namespace Qt::StringLiterals;
using Patchwork::ManualClock;
using Patchwork::Server::LogFormat;
using Patchwork::Server::LogLevel;
using Patchwork::Server::LogSink;

Q_LOGGING_CATEGORY(lcTest, "patchwork.test", QtInfoMsg)
Q_LOGGING_CATEGORY(lcQtTest, "qt.patchworktest")
Q_LOGGING_CATEGORY(lcOverride, "patchwork.override", QtInfoMsg)

// QT_LOGGING_RULES is read when the application starts: set it before main() to show that it
// still applies on top of the sink's level.
static void setLoggingRules()
{
    qputenv("QT_LOGGING_RULES", "patchwork.override.debug=true");
}
Q_CONSTRUCTOR_FUNCTION(setLoggingRules)

class TestLogSink final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void textLine_data();
    void textLine();
    void jsonLine_data();
    void jsonLine();
    void jsonEscaping();
    void source_data();
    void source();
    void parseLevel_data();
    void parseLevel();
    void parseFormat();
    void levelFiltering_data();
    void levelFiltering();
    void environmentRulesOnTop();
    void installedWritesLines();
    void setLevelWhileInstalled();
    void uninstallRestores();

private:
    QByteArray format(const LogSink &sink, QtMsgType type, const char *category, const QString &message) const;

    ManualClock m_clock;
};

void TestLogSink::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
    m_clock.setUnixMs(1'700'000'000'123); // 2023-11-14T22:13:20.123Z
}

void TestLogSink::cleanup()
{
    QLoggingCategory::setFilterRules(QString());
}

QByteArray TestLogSink::format(const LogSink &sink, QtMsgType type, const char *category, const QString &message) const
{
    const QMessageLogContext context("/home/dev/patchwork/server/relayserver.cpp", 42, "void f()", category);
    return sink.formatLine(type, context, message);
}

void TestLogSink::textLine_data()
{
    QTest::addColumn<int>("type");
    QTest::addColumn<QString>("message");
    QTest::addColumn<QByteArray>("expected");

    QTest::addRow("debug") << int(QtDebugMsg) << u"hello"_s << "DEBUG patchwork.test: hello\n"_ba;
    QTest::addRow("info") << int(QtInfoMsg) << u"listening on 0.0.0.0:8080"_s
                          << "INFO patchwork.test: listening on 0.0.0.0:8080\n"_ba;
    QTest::addRow("warning") << int(QtWarningMsg) << u"slow"_s << "WARN patchwork.test: slow\n"_ba;
    QTest::addRow("critical") << int(QtCriticalMsg) << u"broken"_s << "ERROR patchwork.test: broken\n"_ba;
    QTest::addRow("utf-8") << int(QtInfoMsg) << u"caf\u00e9 \u2713"_s
                           << "INFO patchwork.test: caf\xc3\xa9 \xe2\x9c\x93\n"_ba;
    QTest::addRow("newline is escaped") << int(QtInfoMsg) << u"one\ntwo\r\nthree"_s
                                        << "INFO patchwork.test: one\\ntwo\\r\\nthree\n"_ba;
    QTest::addRow("control characters") << int(QtInfoMsg) << u"a\u0001b\u001bc\td\u007f"_s
                                        << "INFO patchwork.test: a\\x01b\\x1bc\td\\x7f\n"_ba;
}

void TestLogSink::textLine()
{
    QFETCH(int, type);
    QFETCH(QString, message);
    QFETCH(QByteArray, expected);

    LogSink sink(&m_clock);
    QCOMPARE(sink.format(), LogFormat::Text);
    QCOMPARE(format(sink, QtMsgType(type), "patchwork.test", message), expected);
}

void TestLogSink::jsonLine_data()
{
    QTest::addColumn<int>("type");
    QTest::addColumn<QString>("level");

    QTest::addRow("debug") << int(QtDebugMsg) << u"debug"_s;
    QTest::addRow("info") << int(QtInfoMsg) << u"info"_s;
    QTest::addRow("warning") << int(QtWarningMsg) << u"warn"_s;
    QTest::addRow("critical") << int(QtCriticalMsg) << u"error"_s;
}

void TestLogSink::jsonLine()
{
    QFETCH(int, type);
    QFETCH(QString, level);

    LogSink sink(&m_clock);
    sink.setFormat(LogFormat::Json);
    const QByteArray line = format(sink, QtMsgType(type), "patchwork.engine", u"channel created"_s);
    QCOMPARE(line,
             "{\"time\":\"2023-11-14T22:13:20.123Z\",\"level\":\"" + level.toLatin1()
                 + "\",\"category\":\"patchwork.engine\",\"msg\":\"channel created\"}\n");

    // The time follows the clock.
    m_clock.setUnixMs(0);
    const QJsonObject object = QJsonDocument::fromJson(format(sink, QtMsgType(type), nullptr, u"x"_s)).object();
    QCOMPARE(object.value(u"time"_s).toString(), u"1970-01-01T00:00:00.000Z"_s);
    QCOMPARE(object.value(u"category"_s).toString(), u"default"_s);
}

void TestLogSink::jsonEscaping()
{
    LogSink sink(&m_clock);
    sink.setFormat(LogFormat::Json);
    const QString message = u"quote \" backslash \\ nl \n cr \r tab \t bs \b ff \f nul-ish \u0001 esc \u001b del "
                            u"\u007f caf\u00e9 \u2028 end"_s;
    const QByteArray line = format(sink, QtInfoMsg, "patchwork.\"odd\"", message);

    QVERIFY(line.endsWith('\n'));
    QCOMPARE(line.count('\n'), 1);
    for (char c = 0; c < 0x20; ++c) {
        if (c != '\n') {
            QVERIFY2(!line.contains(c), qPrintable(u"raw control character %1"_s.arg(int(c))));
        }
    }
    QVERIFY(line.contains("quote \\\" backslash \\\\ nl \\n cr \\r tab \\t bs \\b ff \\f nul-ish \\u0001 esc "
                          "\\u001b del \\u007f"));
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(line, &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
    QCOMPARE(document.object().value(u"msg"_s).toString(), message);
    QCOMPARE(document.object().value(u"category"_s).toString(), u"patchwork.\"odd\""_s);
}

void TestLogSink::source_data()
{
    QTest::addColumn<int>("format");
    QTest::addColumn<QByteArray>("expected");

    QTest::addRow("text") << int(LogFormat::Text) << "INFO patchwork.test: m (server/relayserver.cpp:42)\n"_ba;
    QTest::addRow("json")
        << int(LogFormat::Json)
        << "{\"time\":\"2023-11-14T22:13:20.123Z\",\"level\":\"info\",\"category\":\"patchwork.test\","
           "\"msg\":\"m\",\"source\":\"server/relayserver.cpp:42\"}\n"_ba;
}

void TestLogSink::source()
{
    QFETCH(int, format);
    QFETCH(QByteArray, expected);

    LogSink sink(&m_clock);
    sink.setFormat(LogFormat(format));
    QVERIFY(!sink.includesSource());
    QVERIFY(!this->format(sink, QtInfoMsg, "patchwork.test", u"m"_s).contains("relayserver"));

    sink.setIncludeSource(true);
    QCOMPARE(this->format(sink, QtInfoMsg, "patchwork.test", u"m"_s), expected);

    // No location (release builds): nothing is added.
    const QMessageLogContext noLocation;
    const QByteArray line = sink.formatLine(QtInfoMsg, noLocation, u"m"_s);
    QVERIFY2(!line.contains("source") && !line.contains(" ("), line.constData());
}

void TestLogSink::parseLevel_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("expected"); // -1 = invalid

    QTest::addRow("DEBUG") << u"DEBUG"_s << int(LogLevel::Debug);
    QTest::addRow("info") << u"info"_s << int(LogLevel::Info);
    QTest::addRow("Warn") << u"Warn"_s << int(LogLevel::Warn);
    QTest::addRow("warning") << u"warning"_s << int(LogLevel::Warn);
    QTest::addRow("ERROR") << u"ERROR"_s << int(LogLevel::Error);
    QTest::addRow("blanks") << u" info "_s << int(LogLevel::Info);
    QTest::addRow("empty") << QString() << -1;
    QTest::addRow("trace") << u"trace"_s << -1;
    QTest::addRow("number") << u"3"_s << -1;
}

void TestLogSink::parseLevel()
{
    QFETCH(QString, text);
    QFETCH(int, expected);

    const std::optional<LogLevel> level = LogSink::parseLevel(text);
    QCOMPARE(level.has_value(), expected >= 0);
    if (level) {
        QCOMPARE(int(*level), expected);
    }
}

void TestLogSink::parseFormat()
{
    QCOMPARE(LogSink::parseFormat(u"text"), std::optional<LogFormat>(LogFormat::Text));
    QCOMPARE(LogSink::parseFormat(u"JSON"), std::optional<LogFormat>(LogFormat::Json));
    QCOMPARE(LogSink::parseFormat(u"xml"), std::optional<LogFormat>());
}

void TestLogSink::levelFiltering_data()
{
    QTest::addColumn<int>("level");
    QTest::addColumn<bool>("debug");
    QTest::addColumn<bool>("info");
    QTest::addColumn<bool>("warning");
    QTest::addColumn<bool>("qtDebug");
    QTest::addColumn<bool>("qtInfo");
    QTest::addColumn<bool>("qtWarning");

    QTest::addRow("DEBUG") << int(LogLevel::Debug) << true << true << true << false << true << true;
    QTest::addRow("INFO") << int(LogLevel::Info) << false << true << true << false << true << true;
    QTest::addRow("WARN") << int(LogLevel::Warn) << false << false << true << false << false << true;
    QTest::addRow("ERROR") << int(LogLevel::Error) << false << false << false << false << false << false;
}

void TestLogSink::levelFiltering()
{
    QFETCH(int, level);
    QFETCH(bool, debug);
    QFETCH(bool, info);
    QFETCH(bool, warning);
    QFETCH(bool, qtDebug);
    QFETCH(bool, qtInfo);
    QFETCH(bool, qtWarning);

    QBuffer buffer;
    QVERIFY(buffer.open(QIODevice::WriteOnly));
    {
        LogSink sink(&m_clock, &buffer);
        sink.setLevel(LogLevel(level));
        sink.install();
        QCOMPARE(lcTest().isDebugEnabled(), debug);
        QCOMPARE(lcTest().isInfoEnabled(), info);
        QCOMPARE(lcTest().isWarningEnabled(), warning);
        QVERIFY(lcTest().isCriticalEnabled());
        QCOMPARE(lcQtTest().isDebugEnabled(), qtDebug);
        QCOMPARE(lcQtTest().isInfoEnabled(), qtInfo);
        QCOMPARE(lcQtTest().isWarningEnabled(), qtWarning);
        QVERIFY(lcQtTest().isCriticalEnabled());

        qCDebug(lcTest) << "d";
        qCInfo(lcTest) << "i";
        qCWarning(lcTest) << "w";
        qCCritical(lcTest) << "c";
    }
    QByteArray expected;
    if (debug) {
        expected += "DEBUG patchwork.test: d\n";
    }
    if (info) {
        expected += "INFO patchwork.test: i\n";
    }
    if (warning) {
        expected += "WARN patchwork.test: w\n";
    }
    expected += "ERROR patchwork.test: c\n";
    QCOMPARE(buffer.data(), expected);
}

void TestLogSink::environmentRulesOnTop()
{
    QCOMPARE(qgetenv("QT_LOGGING_RULES"), "patchwork.override.debug=true"_ba);
    LogSink sink(&m_clock, nullptr);
    sink.setLevel(LogLevel::Error);
    sink.install();
    QVERIFY(!lcTest().isWarningEnabled());
    QVERIFY(lcOverride().isDebugEnabled()); // QT_LOGGING_RULES beats LOG_LEVEL
    QVERIFY(!lcOverride().isInfoEnabled()); // the rest of the level still applies
    sink.uninstall();
}

void TestLogSink::installedWritesLines()
{
    QBuffer buffer;
    QVERIFY(buffer.open(QIODevice::WriteOnly));
    LogSink sink(&m_clock, &buffer);
    sink.setFormat(LogFormat::Json);
    sink.install();
    QVERIFY(sink.isInstalled());
    qCInfo(lcTest, "first %d", 1);
    qCWarning(lcTest) << "second" << 2;
    sink.uninstall();
    QVERIFY(!sink.isInstalled());

    const QList<QByteArray> lines = buffer.data().split('\n');
    QCOMPARE(lines.size(), 3);
    QVERIFY(lines.at(2).isEmpty());
    const QJsonObject first = QJsonDocument::fromJson(lines.at(0)).object();
    QCOMPARE(first.value(u"level"_s).toString(), u"info"_s);
    QCOMPARE(first.value(u"category"_s).toString(), u"patchwork.test"_s);
    QCOMPARE(first.value(u"msg"_s).toString(), u"first 1"_s);
    QCOMPARE(first.value(u"time"_s).toString(), u"2023-11-14T22:13:20.123Z"_s);
    const QJsonObject second = QJsonDocument::fromJson(lines.at(1)).object();
    QCOMPARE(second.value(u"level"_s).toString(), u"warn"_s);
    QCOMPARE(second.value(u"msg"_s).toString(), u"second 2"_s);
}

void TestLogSink::setLevelWhileInstalled()
{
    QBuffer buffer;
    QVERIFY(buffer.open(QIODevice::WriteOnly));
    LogSink sink(&m_clock, &buffer);
    sink.install();
    QVERIFY(lcTest().isInfoEnabled());
    sink.setLevel(LogLevel::Warn); // e.g. after a reload
    QCOMPARE(sink.level(), LogLevel::Warn);
    QVERIFY(!lcTest().isInfoEnabled());
    qCInfo(lcTest) << "hidden";
    qCWarning(lcTest) << "shown";
    sink.uninstall();
    QCOMPARE(buffer.data(), "WARN patchwork.test: shown\n"_ba);
}

void TestLogSink::uninstallRestores()
{
    QBuffer buffer;
    QVERIFY(buffer.open(QIODevice::WriteOnly));
    {
        LogSink sink(&m_clock, &buffer);
        sink.setLevel(LogLevel::Error);
        sink.install();
        QVERIFY(!lcTest().isInfoEnabled());
    } // the destructor uninstalls
    QVERIFY(lcTest().isInfoEnabled());
    QVERIFY(!lcTest().isDebugEnabled());
    // QtTest's own handler is back: an expected message is matched by it, not written to the buffer.
    QTest::ignoreMessage(QtWarningMsg, "after");
    qCWarning(lcTest) << "after";
    QCOMPARE(buffer.data(), QByteArray());
}

QTEST_GUILESS_MAIN(TestLogSink)
#include "tst_logsink.moc"
