// SPDX-License-Identifier: MIT
#pragma once

#include <optional>

#include <QByteArray>
#include <QString>
#include <QStringView>
#include <QtGlobal>

class QIODevice;

namespace Patchwork
{
class Clock;
}

namespace Patchwork::Server
{

enum class LogLevel
{
    Debug,
    Info,
    Warn,
    Error
};

enum class LogFormat
{
    Text, // `LEVEL category: message`
    Json // {"time","level","category","msg"[,"source"]}
};

// The daemon's log output (PROTOCOL §14): one line per message on stderr (or a given device), no
// timestamp in text form (journald adds its own), RFC 3339 UTC times in JSON form. Line breaks and
// other control characters inside a message are escaped, so a message is always exactly one line.
//
// The level works through QLoggingCategory filter rules (filterRules()), so disabled messages cost
// nothing; QT_LOGGING_RULES still applies on top (Qt ranks environment rules above API rules), e.g.
// QT_LOGGING_RULES="patchwork.acl.debug=true" with LOG_LEVEL=WARN shows that category's debug messages.
// Messages of the `qt.*` categories stay off at DEBUG (enable them with QT_LOGGING_RULES).
//
// Only one sink is installed at a time; the handler may be called from any thread.
class LogSink final
{
    Q_DISABLE_COPY_MOVE(LogSink)

public:
    // Writes to `device` (not owned; must stay open while installed) or, when null, to stderr.
    // `clock` (not owned) gives the JSON `time`.
    explicit LogSink(const Clock *clock, QIODevice *device = nullptr);
    ~LogSink(); // uninstalls

    LogLevel level() const;
    // Takes effect at once when installed (e.g. after a reload).
    void setLevel(LogLevel level);
    LogFormat format() const;
    void setFormat(LogFormat format);
    bool includesSource() const;
    // Adds `"source":"dir/file.cpp:42"` (JSON) or ` (dir/file.cpp:42)` (text) when the message has
    // a location (debug builds, or QT_MESSAGELOGCONTEXT).
    void setIncludeSource(bool include);

    // Becomes the process's message handler and applies the level's filter rules.
    void install();
    // Restores the previous message handler and clears the filter rules set by install().
    void uninstall();
    bool isInstalled() const;

    // One complete line, newline included, as install() writes it.
    QByteArray formatLine(QtMsgType type, const QMessageLogContext &context, const QString &message) const;

    // Case-insensitive DEBUG, INFO, WARN (or WARNING), ERROR.
    static std::optional<LogLevel> parseLevel(QStringView text);
    // Case-insensitive text, json.
    static std::optional<LogFormat> parseFormat(QStringView text);
    // The QLoggingCategory::setFilterRules() rules for a level (lines separated by '\n').
    static QString filterRules(LogLevel level);

private:
    static void handleMessage(QtMsgType type, const QMessageLogContext &context, const QString &message);
    void write(const QByteArray &line);

    const Clock *m_clock;
    QIODevice *m_device;
    LogLevel m_level = LogLevel::Info;
    LogFormat m_format = LogFormat::Text;
    bool m_includeSource = false;
};

} // namespace Patchwork::Server
