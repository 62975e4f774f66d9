// SPDX-License-Identifier: MIT
#include "daemon/logsink.h"

#include <cstdio>

#include <QDateTime>
#include <QIODevice>
#include <QLoggingCategory>
#include <QMutex>
#include <QMutexLocker>

#include "util/clock.h"

using namespace Qt::StringLiterals;

namespace Patchwork::Server
{

namespace
{

// Guards the installed sink, the previous handler and every write.
QBasicMutex s_mutex;
LogSink *s_active = nullptr;
QtMessageHandler s_previous = nullptr;
// Set while this thread is inside the handler: a message raised by the writing itself goes
// straight to stderr instead of deadlocking.
thread_local bool t_inHandler = false;

enum class Severity
{
    Debug,
    Info,
    Warn,
    Error
};

Severity severityOf(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg:
        return Severity::Debug;
    case QtInfoMsg:
        return Severity::Info;
    case QtWarningMsg:
        return Severity::Warn;
    case QtCriticalMsg:
    case QtFatalMsg:
        break;
    }
    return Severity::Error;
}

QByteArrayView upperName(Severity severity)
{
    switch (severity) {
    case Severity::Debug:
        return "DEBUG";
    case Severity::Info:
        return "INFO";
    case Severity::Warn:
        return "WARN";
    case Severity::Error:
        break;
    }
    return "ERROR";
}

QByteArrayView lowerName(Severity severity)
{
    switch (severity) {
    case Severity::Debug:
        return "debug";
    case Severity::Info:
        return "info";
    case Severity::Warn:
        return "warn";
    case Severity::Error:
        break;
    }
    return "error";
}

constexpr char HEX[] = "0123456789abcdef";

bool isControl(char c)
{
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

// JSON string body (without quotes): RFC 8259 escapes for `"`, `\` and every control character.
void appendJsonEscaped(QByteArray &out, QByteArrayView utf8)
{
    for (const char c : utf8) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (isControl(c)) {
                const auto u = static_cast<unsigned char>(c);
                out += "\\u00";
                out += HEX[u >> 4];
                out += HEX[u & 0xf];
            } else {
                out += c;
            }
        }
    }
}

// Text lines: line breaks and other control characters (tab excepted) are escaped so that one
// message is one line and cannot forge further lines.
void appendTextEscaped(QByteArray &out, QByteArrayView utf8)
{
    for (const char c : utf8) {
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c != '\t' && isControl(c)) {
            const auto u = static_cast<unsigned char>(c);
            out += "\\x";
            out += HEX[u >> 4];
            out += HEX[u & 0xf];
        } else {
            out += c;
        }
    }
}

// "…/server/relayserver.cpp" => "server/relayserver.cpp": enough to find the file, without the
// build machine's directories.
QByteArray sourceLocation(const QMessageLogContext &context)
{
    if (!context.file || !*context.file || context.line <= 0) {
        return {};
    }
    QByteArrayView file(context.file);
    qsizetype slashes = 0;
    for (qsizetype i = file.size() - 1; i >= 0; --i) {
        if (file[i] == '/' || file[i] == '\\') {
            if (++slashes == 2) {
                file = file.sliced(i + 1);
                break;
            }
        }
    }
    return file.toByteArray() + ':' + QByteArray::number(context.line);
}

} // namespace

LogSink::LogSink(const Clock *clock, QIODevice *device)
    : m_clock(clock)
    , m_device(device)
{
    Q_ASSERT(m_clock);
}

LogSink::~LogSink()
{
    uninstall();
}

LogLevel LogSink::level() const
{
    QMutexLocker locker(&s_mutex);
    return m_level;
}

void LogSink::setLevel(LogLevel level)
{
    bool installed = false;
    {
        QMutexLocker locker(&s_mutex);
        m_level = level;
        installed = s_active == this;
    }
    if (installed) {
        QLoggingCategory::setFilterRules(filterRules(level));
    }
}

LogFormat LogSink::format() const
{
    QMutexLocker locker(&s_mutex);
    return m_format;
}

void LogSink::setFormat(LogFormat format)
{
    QMutexLocker locker(&s_mutex);
    m_format = format;
}

bool LogSink::includesSource() const
{
    QMutexLocker locker(&s_mutex);
    return m_includeSource;
}

void LogSink::setIncludeSource(bool include)
{
    QMutexLocker locker(&s_mutex);
    m_includeSource = include;
}

void LogSink::install()
{
    LogLevel level;
    {
        QMutexLocker locker(&s_mutex);
        if (s_active == this) {
            return;
        }
        level = m_level;
    }
    // Outside the lock: installing may itself log nothing, but setFilterRules() takes Qt's own lock.
    QLoggingCategory::setFilterRules(filterRules(level));
    QMutexLocker locker(&s_mutex);
    if (s_active) {
        // Another sink was installed: take over its place, keeping the original previous handler.
        s_active = this;
        return;
    }
    s_active = this;
    s_previous = qInstallMessageHandler(&LogSink::handleMessage);
}

void LogSink::uninstall()
{
    {
        QMutexLocker locker(&s_mutex);
        if (s_active != this) {
            return;
        }
        s_active = nullptr;
        qInstallMessageHandler(s_previous);
        s_previous = nullptr;
    }
    QLoggingCategory::setFilterRules(QString());
}

bool LogSink::isInstalled() const
{
    QMutexLocker locker(&s_mutex);
    return s_active == this;
}

QByteArray LogSink::formatLine(QtMsgType type, const QMessageLogContext &context, const QString &message) const
{
    const Severity severity = severityOf(type);
    const QByteArrayView category =
        context.category && *context.category ? QByteArrayView(context.category) : QByteArrayView("default");
    const QByteArray text = message.toUtf8();
    const QByteArray source = m_includeSource ? sourceLocation(context) : QByteArray();

    QByteArray line;
    line.reserve(text.size() + category.size() + 96);
    if (m_format == LogFormat::Json) {
        const QDateTime time = QDateTime::fromMSecsSinceEpoch(m_clock->unixMs(), Qt::UTC);
        line += "{\"time\":\"";
        line += time.toString(Qt::ISODateWithMs).toLatin1();
        line += "\",\"level\":\"";
        line += lowerName(severity);
        line += "\",\"category\":\"";
        appendJsonEscaped(line, category);
        line += "\",\"msg\":\"";
        appendJsonEscaped(line, text);
        line += '"';
        if (!source.isEmpty()) {
            line += ",\"source\":\"";
            appendJsonEscaped(line, source);
            line += '"';
        }
        line += "}\n";
    } else {
        line += upperName(severity);
        line += ' ';
        appendTextEscaped(line, category);
        line += ": ";
        appendTextEscaped(line, text);
        if (!source.isEmpty()) {
            line += " (";
            appendTextEscaped(line, source);
            line += ')';
        }
        line += '\n';
    }
    return line;
}

std::optional<LogLevel> LogSink::parseLevel(QStringView text)
{
    text = text.trimmed();
    if (text.compare(u"debug", Qt::CaseInsensitive) == 0) {
        return LogLevel::Debug;
    }
    if (text.compare(u"info", Qt::CaseInsensitive) == 0) {
        return LogLevel::Info;
    }
    if (text.compare(u"warn", Qt::CaseInsensitive) == 0 || text.compare(u"warning", Qt::CaseInsensitive) == 0) {
        return LogLevel::Warn;
    }
    if (text.compare(u"error", Qt::CaseInsensitive) == 0) {
        return LogLevel::Error;
    }
    return std::nullopt;
}

std::optional<LogFormat> LogSink::parseFormat(QStringView text)
{
    text = text.trimmed();
    if (text.compare(u"text", Qt::CaseInsensitive) == 0) {
        return LogFormat::Text;
    }
    if (text.compare(u"json", Qt::CaseInsensitive) == 0) {
        return LogFormat::Json;
    }
    return std::nullopt;
}

QString LogSink::filterRules(LogLevel level)
{
    // Later rules win; QT_LOGGING_RULES is applied after all of these. Qt keeps `qt.*` debug off by
    // default, and "patchwork.*" categories are declared with QtInfoMsg (debug off).
    switch (level) {
    case LogLevel::Debug:
        return u"patchwork.*.debug=true"_s;
    case LogLevel::Info:
        return u"*.debug=false"_s;
    case LogLevel::Warn:
        return u"*.debug=false\n*.info=false"_s;
    case LogLevel::Error:
        break;
    }
    return u"*.debug=false\n*.info=false\n*.warning=false"_s;
}

void LogSink::handleMessage(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (t_inHandler) {
        // Raised while writing a message (e.g. by the device): never recurse into the sink.
        const QByteArray text = message.toUtf8();
        std::fprintf(stderr, "%s\n", text.constData());
        return;
    }
    t_inHandler = true;
    {
        QMutexLocker locker(&s_mutex);
        if (s_active) {
            s_active->write(s_active->formatLine(type, context, message));
        } else {
            // Uninstalled while this message was on its way.
            const QByteArray text = message.toUtf8();
            std::fprintf(stderr, "%s\n", text.constData());
        }
    }
    t_inHandler = false;
}

void LogSink::write(const QByteArray &line)
{
    if (m_device) {
        m_device->write(line);
        return;
    }
    std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
    std::fflush(stderr);
}

} // namespace Patchwork::Server
