// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace Patchwork::Gui
{

// A received message ready for a desktop notification and the history.
struct DisplayMessage
{
    QString title;
    // The body as plain text (history, servers without body markup).
    QString body;
    // The body in the freedesktop body-markup subset (<b>, <i>, <u>, <a href>); line breaks as '\n'.
    QString markupBody;
    int priority = 3; // 1–5
    QStringList tags;
    QString clickUrl;
    // False when the message should only reach the history (the magic prefix option and no prefix).
    bool popup = true;
};

// Turns a received SSE event into a DisplayMessage: the JSON of the `channel` notification backend
// ({"title", "message", "type", "priority", "tags", "click", …}) richly, any other body as text (a short
// first line becomes the title, else the subscription's name is the title).
class MessageFormatter final
{
public:
    // A first line up to this many characters becomes the title of a plain-text message.
    static constexpr int MaxTitleLength = 80;
    // The seed client's convention: only messages starting with this word pop up, without the word.
    static constexpr QStringView MagicPrefix = u"notify";

    struct Options
    {
        QString subscriptionName;
        bool magicPrefix = false;
    };

    // `eventType` is the SSE event name ("message", or "binary" for a body that is not UTF-8).
    static DisplayMessage format(const QByteArray &data, const QByteArray &eventType, const Options &options);

    // Reduces HTML to the freedesktop notification markup subset: strong/b, em/i, u and links with an
    // http(s)/mailto href kept; block ends and <br> become line breaks, list items get a bullet; other
    // tags are dropped.
    static QString reduceHtml(const QString &html);
};

} // namespace Patchwork::Gui
