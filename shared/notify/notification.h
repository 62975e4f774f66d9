// SPDX-License-Identifier: MIT
#pragma once

#include <optional>

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QUrlQuery>

namespace Patchwork
{

struct NotificationParseResult;

// One notification of PROTOCOL §10, as parsed from a request to `/u/<user>/_/ntfy`.
struct Notification
{
    enum class Type
    {
        Plain,
        Markdown,
        Html,
    };

    static constexpr int DefaultPriority = 3;
    using Result = NotificationParseResult;

    Type type = Type::Plain;
    QString title;
    QString message;
    // Overrides the backend's default room (matrix).
    QString room;
    // 1 (min) to 5 (max).
    int priority = DefaultPriority;
    QStringList tags;
    // An absolute URL opened when the notification is clicked; empty when none.
    QString click;
    // Unix seconds; 0 = not set yet (the Notifier fills it in from its clock).
    qint64 time = 0;

    // Parses a request per PROTOCOL §10. `method` is the HTTP method ("GET" or "POST"), `contentType` the
    // request's Content-Type header, `query` its URL query. GET reads the query; POST reads the body as
    // JSON, form or plain text, and takes any field the body does not give from the query (so
    // `curl -d "Backup done" '…/_/ntfy?title=Backup'` works). Never throws; errors come back as a status.
    static NotificationParseResult
    parse(QByteArrayView method, QByteArrayView contentType, const QByteArray &body, const QUrlQuery &query);

    // The JSON message of PROTOCOL §10 (webhook and channel backends): {"user", "title", "message",
    // "type", "priority", "tags", "click", "room", "time"}; empty title/room/click, no tags and time 0
    // are omitted.
    QJsonObject toJson(const QString &user) const;

    // The message as HTML: plain text escaped (line breaks kept), markdown rendered, HTML as given.
    QString htmlMessage() const;
    // The message as plain text: plain and markdown as given, HTML with its tags removed.
    QString plainMessage() const;

    static QString typeName(Type type);
    // "plain", "markdown" or "html" (case-insensitive; empty = plain); nullopt for anything else.
    static std::optional<Type> typeFromName(QStringView name);
    // 1–5, a numeric string, or min/low/default/high/max/urgent; nullopt when invalid.
    static std::optional<int> priorityFromString(QStringView text);

    // A small, safe markdown renderer: the input is HTML-escaped first, then paragraphs and line
    // breaks, headings (#…), bullet lists (-, *, +), fenced code blocks, `code`, **bold**, *italic*,
    // backslash escapes and [links](url) whose url is http, https or mailto are turned into HTML.
    static QString markdownToHtml(const QString &markdown);
    // Plain text escaped for HTML, with line breaks as <br>.
    static QString plainToHtml(const QString &text);
    // A plain-text rendering of (trusted or untrusted) HTML: tags dropped, common entities decoded.
    static QString htmlToPlain(const QString &html);

    friend bool operator==(const Notification &, const Notification &) = default;
};

// What Notification::parse() returns: a notification, or an HTTP status (400, 405) with a one-line
// error text for the response body.
struct NotificationParseResult
{
    std::optional<Notification> notification;
    int status = 200;
    QString error;

    bool ok() const
    {
        return notification.has_value();
    }
};

} // namespace Patchwork
