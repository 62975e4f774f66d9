// SPDX-License-Identifier: MIT
#include "notify/notification.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QJsonValue>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace Patchwork
{

namespace
{

// The fields of PROTOCOL §10; a form body naming none of them is plain text.
constexpr QLatin1StringView KNOWN_FIELDS[] = {
    "type"_L1,
    "title"_L1,
    "message"_L1,
    "content"_L1,
    "body"_L1,
    "room"_L1,
    "priority"_L1,
    "tags"_L1,
    "click"_L1,
};
// Aliases of the message, strongest first.
constexpr QLatin1StringView MESSAGE_FIELDS[] = {"message"_L1, "content"_L1, "body"_L1};

bool isKnownField(QStringView name)
{
    for (const auto field : KNOWN_FIELDS) {
        if (name == field) {
            return true;
        }
    }
    return false;
}

// Field values of one source (the body or the query); the first occurrence of a name wins.
using Fields = QHash<QString, QString>;

NotificationParseResult failure(int status, const QString &error)
{
    NotificationParseResult result;
    result.status = status;
    result.error = error;
    return result;
}

// application/x-www-form-urlencoded decoding: `+` is a space, then percent-decoding.
QString formDecode(QByteArray encoded)
{
    encoded.replace('+', ' ');
    return QString::fromUtf8(QByteArray::fromPercentEncoding(encoded));
}

Fields fieldsFromQuery(const QUrlQuery &query)
{
    Fields fields;
    for (const auto field : KNOWN_FIELDS) {
        const QString name(field);
        if (query.hasQueryItem(name)) {
            // FullyEncoded keeps a literal `+` apart from `%2B`, so `+` can mean a space as in Go and HTML forms.
            fields.insert(name, formDecode(query.queryItemValue(name, QUrl::FullyEncoded).toUtf8()));
        }
    }
    return fields;
}

// Only `name=value` pairs count: a body like "Backup done" or "title" is not a form.
Fields fieldsFromUrlEncoded(const QByteArray &body)
{
    Fields fields;
    for (const QByteArray &pair : body.split('&')) {
        const qsizetype eq = pair.indexOf('=');
        if (eq < 0) {
            continue;
        }
        const QString name = formDecode(pair.left(eq));
        if (isKnownField(name) && !fields.contains(name)) {
            fields.insert(name, formDecode(pair.mid(eq + 1)));
        }
    }
    return fields;
}

// The value of parameter `name` in a header value like `form-data; name="x"; filename="y"`.
QByteArray headerParameter(const QByteArray &value, QByteArrayView name)
{
    const QList<QByteArray> parts = value.split(';');
    for (qsizetype i = 1; i < parts.size(); ++i) {
        const QByteArray part = parts.at(i).trimmed();
        const qsizetype eq = part.indexOf('=');
        if (eq < 0 || QByteArrayView(part.left(eq).trimmed()).compare(name, Qt::CaseInsensitive) != 0) {
            continue;
        }
        QByteArray result = part.mid(eq + 1).trimmed();
        if (result.size() >= 2 && result.startsWith('"') && result.endsWith('"')) {
            result = result.mid(1, result.size() - 2);
        }
        return result;
    }
    return {};
}

// multipart/form-data (RFC 7578), enough for `curl -F title=x -F message=y`. A malformed body yields no
// fields, so it is taken as plain text like any other body without fields.
Fields fieldsFromMultipart(const QByteArray &contentType, const QByteArray &body)
{
    Fields fields;
    const QByteArray boundary = headerParameter(contentType, "boundary");
    if (boundary.isEmpty()) {
        return fields;
    }
    const QByteArray delimiter = "--" + boundary;
    const QByteArray separator = "\r\n" + delimiter;
    qsizetype pos = body.indexOf(delimiter);
    if (pos < 0) {
        return fields;
    }
    pos += delimiter.size();
    while (pos < body.size() && !QByteArrayView(body).sliced(pos).startsWith("--")) {
        if (!QByteArrayView(body).sliced(pos).startsWith("\r\n")) {
            return {};
        }
        pos += 2;
        const qsizetype next = body.indexOf(separator, pos);
        if (next < 0) {
            return {};
        }
        const QByteArray part = body.mid(pos, next - pos);
        pos = next + separator.size();
        const qsizetype headerEnd = part.indexOf("\r\n\r\n");
        if (headerEnd < 0) {
            continue;
        }
        QByteArray name;
        for (const QByteArray &line : part.left(headerEnd).split('\n')) {
            const qsizetype colon = line.indexOf(':');
            if (colon > 0
                && QByteArrayView(line.left(colon).trimmed()).compare("content-disposition", Qt::CaseInsensitive)
                       == 0) {
                name = headerParameter(line.mid(colon + 1).trimmed(), "name");
            }
        }
        const QString fieldName = QString::fromUtf8(name);
        if (isKnownField(fieldName) && !fields.contains(fieldName)) {
            fields.insert(fieldName, QString::fromUtf8(part.mid(headerEnd + 4)));
        }
    }
    return fields;
}

// A JSON object's known fields as text. Strings stay strings; priority may be a number and tags a list
// of strings; null means absent. Returns an error text for a field of the wrong type.
QString fieldsFromJson(const QJsonObject &object, Fields *fields)
{
    for (const auto field : KNOWN_FIELDS) {
        const QString name(field);
        const QJsonValue value = object.value(name);
        if (value.isUndefined() || value.isNull()) {
            continue;
        }
        if (value.isString()) {
            fields->insert(name, value.toString());
        } else if (name == "priority"_L1 && value.isDouble()) {
            const double number = value.toDouble();
            fields->insert(
                name, number == double(qint64(number)) ? QString::number(qint64(number)) : QString::number(number));
        } else if (name == "tags"_L1 && value.isArray()) {
            QStringList tags;
            for (const QJsonValue tag : value.toArray()) {
                if (!tag.isString()) {
                    return u"Invalid tags: must be a list of strings or a comma-separated string"_s;
                }
                tags.append(tag.toString());
            }
            fields->insert(name, tags.join(u','));
        } else if (name == "priority"_L1) {
            return u"Invalid priority: must be a number from 1 to 5 or one of min, low, default, high, max, urgent"_s;
        } else if (name == "tags"_L1) {
            return u"Invalid tags: must be a list of strings or a comma-separated string"_s;
        } else {
            return u"Invalid %1: must be a string"_s.arg(name);
        }
    }
    return {};
}

QString firstMessage(const Fields &fields)
{
    for (const auto field : MESSAGE_FIELDS) {
        const QString value = fields.value(QString(field));
        if (!value.isEmpty()) {
            return value;
        }
    }
    return {};
}

bool isAllowedLinkUrl(QStringView url)
{
    for (const QChar c : url) {
        if (c.isSpace() || c.category() == QChar::Other_Control) {
            return false;
        }
    }
    return (url.startsWith("http://"_L1, Qt::CaseInsensitive) && url.size() > 7)
           || (url.startsWith("https://"_L1, Qt::CaseInsensitive) && url.size() > 8)
           || (url.startsWith("mailto:"_L1, Qt::CaseInsensitive) && url.size() > 7);
}

QString unescapeHtml(QString text)
{
    text.replace("&lt;"_L1, "<"_L1);
    text.replace("&gt;"_L1, ">"_L1);
    text.replace("&quot;"_L1, "\""_L1);
    text.replace("&#39;"_L1, "'"_L1);
    text.replace("&apos;"_L1, "'"_L1);
    text.replace("&nbsp;"_L1, " "_L1);
    text.replace("&amp;"_L1, "&"_L1);
    return text;
}

// Inline markdown on text that is already HTML-escaped: every character of the input is copied or
// dropped (markers), and only our own tags are added.
QString renderInline(const QString &s)
{
    static constexpr QStringView ESCAPABLE = u"\\`*_[]()#+-.!";
    QString out;
    out.reserve(s.size() + 16);
    qsizetype i = 0;
    const qsizetype n = s.size();
    while (i < n) {
        const QChar c = s.at(i);
        const QChar next = i + 1 < n ? s.at(i + 1) : QChar();
        if (c == u'\\' && ESCAPABLE.contains(next)) {
            out += next;
            i += 2;
            continue;
        }
        if (c == u'`') {
            const qsizetype end = s.indexOf(u'`', i + 1);
            if (end > i + 1) {
                out += "<code>"_L1 + QStringView(s).mid(i + 1, end - i - 1) + "</code>"_L1;
                i = end + 1;
                continue;
            }
        }
        if (c == u'*' && next == u'*') {
            const qsizetype end = s.indexOf("**"_L1, i + 2);
            if (end > i + 2) {
                out += "<strong>"_L1 + renderInline(s.mid(i + 2, end - i - 2)) + "</strong>"_L1;
                i = end + 2;
                continue;
            }
        }
        if (c == u'*' && !next.isNull() && !next.isSpace() && next != u'*') {
            qsizetype end = i + 2;
            while ((end = s.indexOf(u'*', end)) > 0 && s.at(end - 1).isSpace()) {
                ++end;
            }
            if (end > i + 1) {
                out += "<em>"_L1 + renderInline(s.mid(i + 1, end - i - 1)) + "</em>"_L1;
                i = end + 1;
                continue;
            }
        }
        if (c == u'[') {
            const qsizetype close = s.indexOf(u']', i + 1);
            if (close > i + 1 && close + 1 < n && s.at(close + 1) == u'(') {
                const qsizetype paren = s.indexOf(u')', close + 2);
                const QString url = paren > 0 ? s.mid(close + 2, paren - close - 2).trimmed() : QString();
                if (paren > 0 && isAllowedLinkUrl(unescapeHtml(url))) {
                    // `url` is still escaped, so it cannot leave the double-quoted attribute.
                    out += "<a href=\""_L1 + url + "\">"_L1 + renderInline(s.mid(i + 1, close - i - 1)) + "</a>"_L1;
                    i = paren + 1;
                    continue;
                }
            }
        }
        out += c;
        ++i;
    }
    return out;
}

// `#`..`######` followed by a space; returns the level, 0 when the line is no heading.
int headingLevel(QStringView line)
{
    int level = 0;
    while (level < line.size() && line.at(level) == u'#') {
        ++level;
    }
    return level >= 1 && level <= 6 && level < line.size() && line.at(level) == u' ' ? level : 0;
}

// `- item`, `* item`, `+ item` (up to three spaces of indentation); returns the item text's offset or -1.
qsizetype bulletOffset(QStringView line)
{
    qsizetype i = 0;
    while (i < 3 && i < line.size() && line.at(i) == u' ') {
        ++i;
    }
    if (i + 1 < line.size() && (line.at(i) == u'-' || line.at(i) == u'*' || line.at(i) == u'+')
        && line.at(i + 1) == u' ') {
        return i + 2;
    }
    return -1;
}

bool isFence(QStringView line)
{
    return line.trimmed().startsWith("```"_L1);
}

QString fenceLanguage(QStringView line)
{
    const QStringView lang = line.trimmed().mid(3).trimmed();
    for (const QChar c : lang) {
        if (!(c.isLetterOrNumber() || c == u'-' || c == u'_' || c == u'+') || c.unicode() > 127) {
            return {};
        }
    }
    return lang.toString();
}

} // namespace

NotificationParseResult
Notification::parse(QByteArrayView method, QByteArrayView contentType, const QByteArray &body, const QUrlQuery &query)
{
    const bool isGet = method.compare("GET", Qt::CaseInsensitive) == 0;
    const bool isPost = method.compare("POST", Qt::CaseInsensitive) == 0;
    if (!isGet && !isPost) {
        return failure(405, u"Method not allowed"_s);
    }

    // `primary` is what the request brings in its body (POST) or query (GET); `fallback` fills in the
    // fields a POST body does not name from the query.
    Fields primary;
    Fields fallback;
    if (isGet) {
        primary = fieldsFromQuery(query);
    } else {
        fallback = fieldsFromQuery(query);
        const QByteArray type = contentType.toByteArray().toLower();
        if (type.contains("application/json")) {
            QJsonParseError error;
            const QJsonDocument document = QJsonDocument::fromJson(body, &error);
            if (error.error != QJsonParseError::NoError || !document.isObject()) {
                return failure(400, u"Invalid JSON"_s);
            }
            const QString fieldError = fieldsFromJson(document.object(), &primary);
            if (!fieldError.isEmpty()) {
                return failure(400, fieldError);
            }
        } else {
            if (type.contains("application/x-www-form-urlencoded")) {
                primary = fieldsFromUrlEncoded(body);
            } else if (type.contains("multipart/form-data")) {
                primary = fieldsFromMultipart(contentType.toByteArray(), body);
            }
            if (primary.isEmpty()) {
                primary.insert(u"message"_s, QString::fromUtf8(body));
            }
        }
    }
    const auto field = [&](const QString &name) {
        return primary.contains(name) ? primary.value(name) : fallback.value(name);
    };

    Notification n;
    const auto type = typeFromName(field(u"type"_s));
    if (!type) {
        return failure(400, u"Invalid type: must be plain, markdown or html"_s);
    }
    n.type = *type;
    n.title = field(u"title"_s);
    n.room = field(u"room"_s).trimmed();

    const QString priority = field(u"priority"_s).trimmed();
    if (!priority.isEmpty()) {
        const auto value = priorityFromString(priority);
        if (!value) {
            return failure(
                400,
                u"Invalid priority: must be a number from 1 to 5 or one of min, low, default, high, max, urgent"_s);
        }
        n.priority = *value;
    }

    for (const QString &tag : field(u"tags"_s).split(u',')) {
        if (!tag.trimmed().isEmpty()) {
            n.tags.append(tag.trimmed());
        }
    }

    n.click = field(u"click"_s).trimmed();
    if (!n.click.isEmpty()) {
        const QUrl url(n.click, QUrl::StrictMode);
        const QString scheme = url.scheme().toLower();
        const bool web = (scheme == "http"_L1 || scheme == "https"_L1) && !url.host().isEmpty();
        if (!url.isValid() || !(web || scheme == "mailto"_L1) || !isAllowedLinkUrl(n.click)) {
            return failure(400, u"Invalid click: must be an http, https or mailto URL"_s);
        }
    }

    n.message = firstMessage(primary);
    if (n.message.isEmpty()) {
        n.message = firstMessage(fallback);
    }
    if (n.message.trimmed().isEmpty()) {
        return failure(400, u"Content is required"_s);
    }

    NotificationParseResult result;
    result.notification = std::move(n);
    return result;
}

QJsonObject Notification::toJson(const QString &user) const
{
    QJsonObject json;
    if (!user.isEmpty()) {
        json.insert("user"_L1, user);
    }
    if (!title.isEmpty()) {
        json.insert("title"_L1, title);
    }
    json.insert("message"_L1, message);
    json.insert("type"_L1, typeName(type));
    json.insert("priority"_L1, priority);
    if (!tags.isEmpty()) {
        json.insert("tags"_L1, QJsonArray::fromStringList(tags));
    }
    if (!click.isEmpty()) {
        json.insert("click"_L1, click);
    }
    if (!room.isEmpty()) {
        json.insert("room"_L1, room);
    }
    if (time > 0) {
        json.insert("time"_L1, time);
    }
    return json;
}

QString Notification::htmlMessage() const
{
    switch (type) {
    case Type::Plain:
        return plainToHtml(message);
    case Type::Markdown:
        return markdownToHtml(message);
    case Type::Html:
        return message;
    }
    return {};
}

QString Notification::plainMessage() const
{
    return type == Type::Html ? htmlToPlain(message) : message;
}

QString Notification::typeName(Type type)
{
    switch (type) {
    case Type::Plain:
        return u"plain"_s;
    case Type::Markdown:
        return u"markdown"_s;
    case Type::Html:
        return u"html"_s;
    }
    return {};
}

std::optional<Notification::Type> Notification::typeFromName(QStringView name)
{
    const QStringView trimmed = name.trimmed();
    if (trimmed.isEmpty() || trimmed.compare("plain"_L1, Qt::CaseInsensitive) == 0) {
        return Type::Plain;
    }
    if (trimmed.compare("markdown"_L1, Qt::CaseInsensitive) == 0) {
        return Type::Markdown;
    }
    if (trimmed.compare("html"_L1, Qt::CaseInsensitive) == 0) {
        return Type::Html;
    }
    return std::nullopt;
}

std::optional<int> Notification::priorityFromString(QStringView text)
{
    static constexpr std::pair<QLatin1StringView, int> WORDS[] = {
        {"min"_L1, 1},
        {"low"_L1, 2},
        {"default"_L1, 3},
        {"high"_L1, 4},
        {"max"_L1, 5},
        {"urgent"_L1, 5},
    };
    const QStringView trimmed = text.trimmed();
    for (const auto &[word, value] : WORDS) {
        if (trimmed.compare(word, Qt::CaseInsensitive) == 0) {
            return value;
        }
    }
    bool ok = false;
    const int value = trimmed.toInt(&ok);
    if (ok && value >= 1 && value <= 5) {
        return value;
    }
    return std::nullopt;
}

QString Notification::plainToHtml(const QString &text)
{
    QString html = text.toHtmlEscaped();
    html.replace("\r\n"_L1, "\n"_L1);
    html.replace(u'\n', "<br>"_L1);
    return html;
}

QString Notification::markdownToHtml(const QString &markdown)
{
    QString escaped = markdown.toHtmlEscaped();
    escaped.replace("\r\n"_L1, "\n"_L1);
    const QStringList lines = escaped.split(u'\n');

    QString out;
    QStringList paragraph;
    QStringList items;
    const auto flushParagraph = [&] {
        if (paragraph.isEmpty()) {
            return;
        }
        out += "<p>"_L1;
        for (qsizetype i = 0; i < paragraph.size(); ++i) {
            out += (i > 0 ? "<br>"_L1 : ""_L1) + renderInline(paragraph.at(i));
        }
        out += "</p>"_L1;
        paragraph.clear();
    };
    const auto flushList = [&] {
        if (items.isEmpty()) {
            return;
        }
        out += "<ul>"_L1;
        for (const QString &item : std::as_const(items)) {
            out += "<li>"_L1 + renderInline(item) + "</li>"_L1;
        }
        out += "</ul>"_L1;
        items.clear();
    };

    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QString &line = lines.at(i);
        if (isFence(line)) {
            flushParagraph();
            flushList();
            const QString language = fenceLanguage(line);
            QStringList code;
            ++i;
            while (i < lines.size() && !isFence(lines.at(i))) {
                code.append(lines.at(i));
                ++i;
            }
            out += (language.isEmpty() ? u"<pre><code>"_s
                                       : QString("<pre><code class=\"language-"_L1 + language + "\">"_L1))
                   + code.join(u'\n') + "</code></pre>"_L1;
            continue;
        }
        if (line.trimmed().isEmpty()) {
            flushParagraph();
            flushList();
            continue;
        }
        if (const int level = headingLevel(line)) {
            flushParagraph();
            flushList();
            QString text = line.mid(level + 1).trimmed();
            while (text.endsWith(u'#')) {
                text.chop(1);
            }
            const QString tag = u"h"_s + QString::number(level);
            out += u'<' + tag + u'>' + renderInline(text.trimmed()) + "</"_L1 + tag + u'>';
            continue;
        }
        if (const qsizetype offset = bulletOffset(line); offset >= 0) {
            flushParagraph();
            items.append(line.mid(offset).trimmed());
            continue;
        }
        flushList();
        paragraph.append(line.trimmed());
    }
    flushParagraph();
    flushList();
    return out;
}

QString Notification::htmlToPlain(const QString &html)
{
    static constexpr QLatin1StringView BLOCK_ENDS[] = {
        "/p"_L1,
        "/div"_L1,
        "/li"_L1,
        "/tr"_L1,
        "/pre"_L1,
        "/blockquote"_L1,
        "/h1"_L1,
        "/h2"_L1,
        "/h3"_L1,
        "/h4"_L1,
        "/h5"_L1,
        "/h6"_L1,
        "/ul"_L1,
        "/ol"_L1,
        "/table"_L1,
    };
    QString text;
    qsizetype i = 0;
    while (i < html.size()) {
        const QChar c = html.at(i);
        if (c != u'<') {
            text += c;
            ++i;
            continue;
        }
        const qsizetype end = html.indexOf(u'>', i);
        if (end < 0) {
            text += QStringView(html).mid(i);
            break;
        }
        QStringView tag = QStringView(html).mid(i + 1, end - i - 1).trimmed();
        const qsizetype space = tag.indexOf(u' ');
        tag = space >= 0 ? tag.left(space) : tag;
        if (tag.endsWith(u'/')) {
            tag.chop(1);
        }
        if (tag.compare("br"_L1, Qt::CaseInsensitive) == 0) {
            text += u'\n';
        } else if (tag.compare("li"_L1, Qt::CaseInsensitive) == 0) {
            text += "- "_L1;
        } else {
            for (const auto block : BLOCK_ENDS) {
                if (tag.compare(block, Qt::CaseInsensitive) == 0) {
                    text += u'\n';
                    break;
                }
            }
        }
        i = end + 1;
    }
    text = unescapeHtml(text);
    while (text.contains("\n\n\n"_L1)) {
        text.replace("\n\n\n"_L1, "\n\n"_L1);
    }
    return text.trimmed();
}

} // namespace Patchwork
