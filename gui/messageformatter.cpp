// SPDX-License-Identifier: MIT
#include "gui/messageformatter.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include "notify/notification.h"

namespace Patchwork::Gui
{

namespace
{

// ntfy's best-known tag shortcodes, shown as emoji in front of the title as ntfy clients do.
QString tagEmoji(const QString &tag)
{
    static const QHash<QString, QString> EMOJI = {
        {QStringLiteral("warning"), QStringLiteral("\u26A0\uFE0F")},
        {QStringLiteral("rotating_light"), QStringLiteral("\U0001F6A8")},
        {QStringLiteral("white_check_mark"), QStringLiteral("\u2705")},
        {QStringLiteral("heavy_check_mark"), QStringLiteral("\u2714\uFE0F")},
        {QStringLiteral("x"), QStringLiteral("\u274C")},
        {QStringLiteral("tada"), QStringLiteral("\U0001F389")},
        {QStringLiteral("skull"), QStringLiteral("\U0001F480")},
        {QStringLiteral("+1"), QStringLiteral("\U0001F44D")},
        {QStringLiteral("-1"), QStringLiteral("\U0001F44E")},
        {QStringLiteral("loudspeaker"), QStringLiteral("\U0001F4E2")},
        {QStringLiteral("fire"), QStringLiteral("\U0001F525")},
    };
    return EMOJI.value(tag);
}

DisplayMessage fromChannelJson(const QJsonObject &json, const QString &subscriptionName)
{
    DisplayMessage m;
    const auto type = Notification::typeFromName(json.value(u"type").toString()).value_or(Notification::Type::Plain);
    const QString message = json.value(u"message").toString();
    QString html;
    switch (type) {
    case Notification::Type::Plain:
        m.body = message;
        html = Notification::plainToHtml(message);
        break;
    case Notification::Type::Markdown:
        html = Notification::markdownToHtml(message);
        m.body = Notification::htmlToPlain(html).trimmed();
        break;
    case Notification::Type::Html:
        html = message;
        m.body = Notification::htmlToPlain(html).trimmed();
        break;
    }
    m.markupBody = MessageFormatter::reduceHtml(html);
    const QJsonValue priority = json.value(u"priority");
    m.priority = priority.isDouble() ? qBound(1, priority.toInt(), 5)
                                     : Notification::priorityFromString(priority.toString()).value_or(3);
    QStringList emoji;
    for (const QJsonValue &tag : json.value(u"tags").toArray()) {
        const QString name = tag.toString();
        if (const QString e = tagEmoji(name); !e.isEmpty()) {
            emoji.append(e);
        } else if (!name.isEmpty()) {
            m.tags.append(name);
        }
    }
    m.title = json.value(u"title").toString();
    if (m.title.isEmpty()) {
        m.title = subscriptionName;
    }
    if (!emoji.isEmpty()) {
        m.title = emoji.join(QString()) + u' ' + m.title;
    }
    if (!m.tags.isEmpty()) {
        const QString line = QCoreApplication::translate("Patchwork::Gui::MessageFormatter", "Tags: %1")
                                 .arg(m.tags.join(QStringLiteral(", ")));
        m.body += u'\n' + line;
        m.markupBody += u'\n' + line.toHtmlEscaped();
    }
    const QUrl click(json.value(u"click").toString());
    if (click.isValid() && !click.isRelative()) {
        m.clickUrl = click.toString();
    }
    return m;
}

DisplayMessage fromText(QString text, const QString &subscriptionName)
{
    DisplayMessage m;
    text.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    text = text.trimmed();
    const qsizetype newline = text.indexOf(u'\n');
    if (newline > 0 && newline <= MessageFormatter::MaxTitleLength) {
        m.title = text.left(newline).trimmed();
        m.body = text.mid(newline + 1).trimmed();
    } else {
        m.title = subscriptionName;
        m.body = text;
    }
    m.markupBody = m.body.toHtmlEscaped();
    return m;
}

} // namespace

DisplayMessage MessageFormatter::format(const QByteArray &data, const QByteArray &eventType, const Options &options)
{
    if (eventType == "binary") {
        DisplayMessage m;
        m.title = options.subscriptionName;
        m.body = QCoreApplication::translate("Patchwork::Gui::MessageFormatter", "Binary message, size: %1 B")
                     .arg(QByteArray::fromBase64(data).size());
        m.markupBody = m.body.toHtmlEscaped();
        m.popup = !options.magicPrefix;
        return m;
    }
    QString text = QString::fromUtf8(data);
    bool prefixed = false;
    if (options.magicPrefix && text.startsWith(MagicPrefix)
        && (text.size() == MagicPrefix.size() || text.at(MagicPrefix.size()).isSpace())) {
        text = text.mid(MagicPrefix.size()).trimmed();
        prefixed = true;
    }
    QJsonParseError error;
    const QJsonDocument json = QJsonDocument::fromJson(text.toUtf8(), &error);
    DisplayMessage m =
        error.error == QJsonParseError::NoError && json.isObject() && json.object().value(u"message").isString()
            ? fromChannelJson(json.object(), options.subscriptionName)
            : fromText(text, options.subscriptionName);
    m.popup = !options.magicPrefix || prefixed;
    return m;
}

QString MessageFormatter::reduceHtml(const QString &html)
{
    static const QRegularExpression TAG(QStringLiteral(R"(<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>)"));
    static const QRegularExpression HREF(QStringLiteral(R"re(href\s*=\s*(?:"([^"]*)"|'([^']*)'))re"),
                                         QRegularExpression::CaseInsensitiveOption);
    static const QHash<QString, QString> KEPT = {
        {QStringLiteral("b"), QStringLiteral("b")},
        {QStringLiteral("strong"), QStringLiteral("b")},
        {QStringLiteral("h1"), QStringLiteral("b")},
        {QStringLiteral("h2"), QStringLiteral("b")},
        {QStringLiteral("h3"), QStringLiteral("b")},
        {QStringLiteral("h4"), QStringLiteral("b")},
        {QStringLiteral("h5"), QStringLiteral("b")},
        {QStringLiteral("h6"), QStringLiteral("b")},
        {QStringLiteral("i"), QStringLiteral("i")},
        {QStringLiteral("em"), QStringLiteral("i")},
        {QStringLiteral("u"), QStringLiteral("u")},
    };
    static const QStringList BREAKS = {QStringLiteral("br"),
                                       QStringLiteral("p"),
                                       QStringLiteral("div"),
                                       QStringLiteral("li"),
                                       QStringLiteral("pre"),
                                       QStringLiteral("ul"),
                                       QStringLiteral("ol"),
                                       QStringLiteral("tr"),
                                       QStringLiteral("blockquote"),
                                       QStringLiteral("h1"),
                                       QStringLiteral("h2"),
                                       QStringLiteral("h3"),
                                       QStringLiteral("h4"),
                                       QStringLiteral("h5"),
                                       QStringLiteral("h6")};

    QString out;
    qsizetype last = 0;
    bool openLink = false;
    auto it = TAG.globalMatch(html);
    while (it.hasNext()) {
        const QRegularExpressionMatch match = it.next();
        out += QStringView(html).mid(last, match.capturedStart() - last);
        last = match.capturedEnd();
        const bool closing = !match.captured(1).isEmpty();
        const QString name = match.captured(2).toLower();
        if (const auto kept = KEPT.constFind(name); kept != KEPT.cend()) {
            out += (closing ? QStringLiteral("</") : QStringLiteral("<")) + *kept + u'>';
        }
        if (name == u"a") {
            if (closing && openLink) {
                out += QStringLiteral("</a>");
                openLink = false;
            } else if (!closing && !openLink) {
                const QRegularExpressionMatch href = HREF.match(match.captured(3));
                const QString url = href.captured(1) + href.captured(2);
                if (url.startsWith(u"http://") || url.startsWith(u"https://") || url.startsWith(u"mailto:")) {
                    out += QStringLiteral("<a href=\"") + url + QStringLiteral("\">");
                    openLink = true;
                }
            }
        }
        if (name == u"li" && !closing) {
            out += QStringLiteral("\u2022 ");
        } else if (BREAKS.contains(name) && (closing || name == u"br") && !out.endsWith(u'\n')) {
            out += u'\n';
        }
    }
    out += QStringView(html).mid(last);
    if (openLink) {
        out += QStringLiteral("</a>");
    }
    return out.trimmed();
}

} // namespace Patchwork::Gui
