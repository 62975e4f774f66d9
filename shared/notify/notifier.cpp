// SPDX-License-Identifier: MIT
#include "notify/notifier.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QTimer>

#include "util/clock.h"
#include "util/logging.h"

using namespace Qt::StringLiterals;

namespace Patchwork
{

namespace
{

constexpr qsizetype MAX_REASON_CHARS = 300;
constexpr qsizetype MAX_DETAIL_CHARS = 200;

// What a backend sends: an HTTP request, or a publication on a channel of this server.
struct Outgoing
{
    bool channel = false;
    QNetworkRequest request;
    QByteArray verb;
    QByteArray body;
    QString channelPath;
    QStringList secrets;
};

// `source` (marked with QT_TRANSLATE_NOOP in the Notifier context) with `arg` for its %1: as protocol text and
// through the translator.
QString english(const char *source, const QString &arg)
{
    const QString text = QString::fromUtf8(source);
    return arg.isNull() ? text : text.arg(arg);
}

QString localized(const char *source, const QString &arg)
{
    const QString text = Notifier::tr(source);
    return arg.isNull() ? text : text.arg(arg);
}

Notifier::Result invalidConfig(const char *source, const QString &arg = QString())
{
    static const char *const PREFIX =
        QT_TRANSLATE_NOOP("Patchwork::Notifier", "Invalid notification backend configuration: %1");
    return {500, english(PREFIX, english(source, arg)), localized(PREFIX, localized(source, arg))};
}

Notifier::Result notConfigured()
{
    static const char *const TEXT = QT_TRANSLATE_NOOP("Patchwork::Notifier", "Notification backend not configured");
    return {503, english(TEXT, {}), localized(TEXT, {})};
}

QString sendFailure(const QString &what)
{
    return u"Failed to send notification: "_s + what;
}

bool isScalar(const QVariant &value)
{
    switch (value.typeId()) {
    case QMetaType::QVariantMap:
    case QMetaType::QVariantHash:
    case QMetaType::QVariantList:
    case QMetaType::QStringList:
        return false;
    default:
        return value.canConvert<QString>();
    }
}

bool hasControlCharacters(QStringView text)
{
    for (const QChar c : text) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f) {
            return true;
        }
    }
    return false;
}

// Reads config[key] as a string. A missing, null or empty value is an error when `required`.
std::optional<Notifier::Result>
configString(const QVariantMap &config, const QString &key, bool required, QString *value)
{
    const QVariant raw = config.value(key);
    if (raw.isValid() && !raw.isNull() && !isScalar(raw)) {
        return invalidConfig(QT_TRANSLATE_NOOP("Patchwork::Notifier", "%1 must be a string"), key);
    }
    *value = raw.isValid() && !raw.isNull() ? raw.toString().trimmed() : QString();
    if (required && value->isEmpty()) {
        return invalidConfig(QT_TRANSLATE_NOOP("Patchwork::Notifier", "%1 is missing"), key);
    }
    return std::nullopt;
}

// Tokens go into headers: no line breaks or other control characters.
std::optional<Notifier::Result>
configToken(const QVariantMap &config, const QString &key, bool required, QString *value)
{
    if (auto error = configString(config, key, required, value)) {
        return error;
    }
    if (hasControlCharacters(*value)) {
        return invalidConfig(QT_TRANSLATE_NOOP("Patchwork::Notifier", "%1 contains invalid characters"), key);
    }
    return std::nullopt;
}

// An http(s) URL with a host. The URL is never quoted back (it may hold a secret, like a webhook's).
std::optional<Notifier::Result> configUrl(const QVariantMap &config, const QString &key, bool required, QUrl *url)
{
    QString text;
    if (auto error = configString(config, key, required, &text)) {
        return error;
    }
    if (text.isEmpty()) {
        *url = QUrl();
        return std::nullopt;
    }
    *url = QUrl(text, QUrl::StrictMode);
    const QString scheme = url->scheme().toLower();
    if (!url->isValid() || (scheme != "http"_L1 && scheme != "https"_L1) || url->host().isEmpty()
        || url->hasFragment()) {
        return invalidConfig(QT_TRANSLATE_NOOP("Patchwork::Notifier", "%1 must be an http or https URL"), key);
    }
    return std::nullopt;
}

// base + "/" + path segments (already percent-encoded); the base's own path and query are kept.
QUrl appendPath(QUrl base, const QString &encodedSegments)
{
    QString path = base.path(QUrl::FullyEncoded);
    while (path.endsWith(u'/')) {
        path.chop(1);
    }
    base.setPath(path + u'/' + encodedSegments, QUrl::TolerantMode);
    return base;
}

QString encodeSegment(const QString &segment)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(segment));
}

// A header value from user text: one line; non-ASCII as an RFC 2047 encoded word (ntfy decodes those).
QByteArray headerValue(const QString &text)
{
    QString line = text;
    for (QChar &c : line) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f) {
            c = u' ';
        }
    }
    line = line.trimmed();
    bool ascii = true;
    for (const QChar c : std::as_const(line)) {
        ascii = ascii && c.unicode() < 0x80;
    }
    return ascii ? line.toLatin1() : "=?UTF-8?B?" + line.toUtf8().toBase64() + "?=";
}

QNetworkRequest makeRequest(const QUrl &url)
{
    QNetworkRequest request(url);
    // Upstreams may not send a notification (or its token) elsewhere, and nothing is shared between
    // users of the same upstream: no redirects, cookies or cached credentials.
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    request.setAttribute(QNetworkRequest::CookieLoadControlAttribute, QNetworkRequest::Manual);
    request.setAttribute(QNetworkRequest::CookieSaveControlAttribute, QNetworkRequest::Manual);
    request.setAttribute(QNetworkRequest::AuthenticationReuseAttribute, QNetworkRequest::Manual);
    return request;
}

QByteArray compactJson(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

std::optional<Notifier::Result>
prepareMatrix(const QVariantMap &config, const Notification &n, const QString &txnId, Outgoing *out)
{
    QString token;
    QString user;
    QString room;
    QUrl endpoint;
    if (auto error = configToken(config, u"access_token"_s, true, &token)) {
        return error;
    }
    if (auto error = configString(config, u"user"_s, true, &user)) {
        return error;
    }
    if (auto error = configUrl(config, u"endpoint"_s, false, &endpoint)) {
        return error;
    }
    if (auto error = configString(config, u"room_id"_s, false, &room)) {
        return error;
    }
    if (endpoint.isEmpty()) {
        endpoint = Notifier::defaultMatrixEndpoint(user);
        if (!endpoint.isValid()) {
            return invalidConfig(QT_TRANSLATE_NOOP(
                "Patchwork::Notifier", "endpoint is missing and user is not a Matrix id like @name:server"));
        }
    }
    if (!n.room.isEmpty()) {
        room = n.room;
    }
    if (room.isEmpty()) {
        return invalidConfig(
            QT_TRANSLATE_NOOP("Patchwork::Notifier", "room_id is missing and the notification names no room"));
    }

    QString plain = n.plainMessage();
    QString html = n.htmlMessage();
    if (!n.title.isEmpty()) {
        plain = n.title + u'\n' + plain;
        const QString title = u"<strong>"_s + Notification::plainToHtml(n.title) + u"</strong>"_s;
        html = n.type == Notification::Type::Plain ? QString(title + u"<br>"_s + html)
                                                   : QString(u"<p>"_s + title + u"</p>"_s + html);
    }
    QJsonObject body;
    body.insert("msgtype"_L1, u"m.text"_s);
    body.insert("body"_L1, plain);
    body.insert("format"_L1, u"org.matrix.custom.html"_s);
    body.insert("formatted_body"_L1, html);

    out->request = makeRequest(appendPath(endpoint,
                                          u"_matrix/client/v3/rooms/"_s + encodeSegment(room)
                                              + u"/send/m.room.message/"_s + encodeSegment(txnId)));
    out->request.setRawHeader("Authorization", "Bearer " + token.toUtf8());
    out->request.setHeader(QNetworkRequest::ContentTypeHeader, "application/json"_ba);
    out->verb = "PUT"_ba;
    out->body = compactJson(body);
    out->secrets = {token, endpoint.password()};
    return std::nullopt;
}

std::optional<Notifier::Result> prepareNtfy(const QVariantMap &config, const Notification &n, Outgoing *out)
{
    QUrl url;
    QString topic;
    QString token;
    if (auto error = configUrl(config, u"url"_s, true, &url)) {
        return error;
    }
    if (auto error = configString(config, u"topic"_s, true, &topic)) {
        return error;
    }
    if (auto error = configToken(config, u"token"_s, false, &token)) {
        return error;
    }

    out->request = makeRequest(appendPath(url, encodeSegment(topic)));
    out->request.setHeader(QNetworkRequest::ContentTypeHeader, "text/plain; charset=utf-8"_ba);
    if (!n.title.isEmpty()) {
        out->request.setRawHeader("Title", headerValue(n.title));
    }
    out->request.setRawHeader("Priority", QByteArray::number(n.priority));
    if (!n.tags.isEmpty()) {
        out->request.setRawHeader("Tags", headerValue(n.tags.join(u',')));
    }
    if (!n.click.isEmpty()) {
        out->request.setRawHeader("Click", QUrl(n.click).toEncoded());
    }
    if (n.type == Notification::Type::Markdown) {
        out->request.setRawHeader("Markdown", "yes");
    }
    if (!token.isEmpty()) {
        out->request.setRawHeader("Authorization", "Bearer " + token.toUtf8());
        out->secrets = {token};
    }
    out->secrets.append(url.password());
    out->verb = "POST"_ba;
    out->body = n.plainMessage().toUtf8();
    return std::nullopt;
}

std::optional<Notifier::Result> prepareGotify(const QVariantMap &config, const Notification &n, Outgoing *out)
{
    static constexpr int PRIORITIES[] = {1, 3, 5, 8, 10};
    QUrl url;
    QString token;
    if (auto error = configUrl(config, u"url"_s, true, &url)) {
        return error;
    }
    if (auto error = configToken(config, u"token"_s, true, &token)) {
        return error;
    }

    QJsonObject body;
    if (!n.title.isEmpty()) {
        body.insert("title"_L1, n.title);
    }
    body.insert("message"_L1, n.plainMessage());
    body.insert("priority"_L1, PRIORITIES[qBound(1, n.priority, 5) - 1]);
    QJsonObject extras;
    if (n.type == Notification::Type::Markdown) {
        extras.insert("client::display"_L1, QJsonObject{{"contentType"_L1, u"text/markdown"_s}});
    }
    if (!n.click.isEmpty()) {
        extras.insert("client::notification"_L1, QJsonObject{{"click"_L1, QJsonObject{{"url"_L1, n.click}}}});
    }
    if (!extras.isEmpty()) {
        body.insert("extras"_L1, extras);
    }

    out->request = makeRequest(appendPath(url, u"message"_s));
    out->request.setRawHeader("X-Gotify-Key", token.toUtf8());
    out->request.setHeader(QNetworkRequest::ContentTypeHeader, "application/json"_ba);
    out->verb = "POST"_ba;
    out->body = compactJson(body);
    out->secrets = {token, url.password()};
    return std::nullopt;
}

bool isHeaderName(QStringView name)
{
    static constexpr QStringView TOKEN_SPECIALS = u"!#$%&'*+-.^_`|~";
    if (name.isEmpty()) {
        return false;
    }
    for (const QChar c : name) {
        if (c.unicode() > 127 || !(c.isLetterOrNumber() || TOKEN_SPECIALS.contains(c))) {
            return false;
        }
    }
    return true;
}

std::optional<Notifier::Result>
prepareWebhook(const QVariantMap &config, const QString &user, const Notification &n, Outgoing *out)
{
    static constexpr QLatin1StringView RESERVED[] = {
        "host"_L1,
        "content-length"_L1,
        "transfer-encoding"_L1,
        "connection"_L1,
    };
    QUrl url;
    if (auto error = configUrl(config, u"url"_s, true, &url)) {
        return error;
    }
    const QVariant headers = config.value(u"headers"_s);
    if (headers.isValid() && !headers.isNull() && headers.typeId() != QMetaType::QVariantMap
        && headers.typeId() != QMetaType::QVariantHash) {
        return invalidConfig(
            QT_TRANSLATE_NOOP("Patchwork::Notifier", "headers must be a map of header names to values"));
    }

    out->request = makeRequest(url);
    out->request.setHeader(QNetworkRequest::ContentTypeHeader, "application/json"_ba);
    const QVariantMap map = headers.toMap();
    for (auto it = map.cbegin(); it != map.cend(); ++it) {
        if (!isHeaderName(it.key())) {
            return invalidConfig(QT_TRANSLATE_NOOP("Patchwork::Notifier", "headers: \"%1\" is not a valid header name"),
                                 it.key().left(64));
        }
        for (const auto reserved : RESERVED) {
            if (it.key().compare(reserved, Qt::CaseInsensitive) == 0) {
                return invalidConfig(QT_TRANSLATE_NOOP("Patchwork::Notifier", "headers: %1 cannot be set"), it.key());
            }
        }
        if (!isScalar(it.value()) || hasControlCharacters(it.value().toString())) {
            return invalidConfig(
                QT_TRANSLATE_NOOP("Patchwork::Notifier", "headers: the value of %1 must be a one-line string"),
                it.key());
        }
        const QString value = it.value().toString();
        out->request.setRawHeader(it.key().toLatin1(), value.toUtf8());
        out->secrets.append(value);
    }
    out->secrets.append(url.password());
    out->verb = "POST"_ba;
    out->body = compactJson(n.toJson(user));
    return std::nullopt;
}

std::optional<Notifier::Result>
prepareChannel(const QVariantMap &config, const QString &user, const Notification &n, Outgoing *out)
{
    QString path;
    if (auto error = configString(config, u"path"_s, true, &path)) {
        return error;
    }
    while (path.startsWith(u'/')) {
        path.remove(0, 1);
    }
    if (path.isEmpty()) {
        return invalidConfig(QT_TRANSLATE_NOOP("Patchwork::Notifier", "path must name a channel"));
    }
    if (path.contains(u'?') || path.contains(u'#') || hasControlCharacters(path)) {
        return invalidConfig(
            QT_TRANSLATE_NOOP("Patchwork::Notifier", "path must not contain ?, # or control characters"));
    }
    const QStringList segments = path.split(u'/');
    for (const QString &segment : segments) {
        if (segment == "."_L1 || segment == ".."_L1) {
            return invalidConfig(QT_TRANSLATE_NOOP("Patchwork::Notifier", "path must not contain . or .. segments"));
        }
    }
    if (segments.constFirst() == "_"_L1) {
        return invalidConfig(QT_TRANSLATE_NOOP("Patchwork::Notifier", "path must not be in the reserved _/ area"));
    }
    out->channel = true;
    out->channelPath = path;
    out->body = compactJson(n.toJson(user));
    return std::nullopt;
}

std::optional<Notifier::Result> prepare(const QString &type,
                                        const QVariantMap &config,
                                        const QString &user,
                                        const Notification &n,
                                        const QString &txnId,
                                        Outgoing *out)
{
    if (type.isEmpty()) {
        return notConfigured();
    }
    if (type == "matrix"_L1) {
        return prepareMatrix(config, n, txnId, out);
    }
    if (type == "ntfy"_L1) {
        return prepareNtfy(config, n, out);
    }
    if (type == "gotify"_L1) {
        return prepareGotify(config, n, out);
    }
    if (type == "webhook"_L1) {
        return prepareWebhook(config, user, n, out);
    }
    if (type == "channel"_L1) {
        return prepareChannel(config, user, n, out);
    }
    return invalidConfig(
        QT_TRANSLATE_NOOP("Patchwork::Notifier", "unknown type (expected matrix, ntfy, gotify, webhook or channel)"));
}

QString networkErrorText(QNetworkReply::NetworkError error)
{
    switch (error) {
    case QNetworkReply::ConnectionRefusedError:
        return u"connection refused"_s;
    case QNetworkReply::RemoteHostClosedError:
        return u"connection closed by the server"_s;
    case QNetworkReply::HostNotFoundError:
        return u"host not found"_s;
    case QNetworkReply::TimeoutError:
        return u"connection timed out"_s;
    case QNetworkReply::SslHandshakeFailedError:
        return u"TLS handshake failed"_s;
    case QNetworkReply::TemporaryNetworkFailureError:
    case QNetworkReply::NetworkSessionFailedError:
        return u"network unavailable"_s;
    case QNetworkReply::ProxyConnectionRefusedError:
    case QNetworkReply::ProxyConnectionClosedError:
    case QNetworkReply::ProxyNotFoundError:
    case QNetworkReply::ProxyTimeoutError:
    case QNetworkReply::ProxyAuthenticationRequiredError:
        return u"proxy error"_s;
    case QNetworkReply::ProtocolFailure:
    case QNetworkReply::ProtocolUnknownError:
    case QNetworkReply::ProtocolInvalidOperationError:
        return u"protocol error"_s;
    default:
        return u"network error"_s;
    }
}

// A short explanation from an upstream's JSON error body (Matrix: errcode/error; gotify:
// error/errorDescription; ntfy: error), or nothing.
QString errorDetail(const QByteArray &body)
{
    const QJsonObject object = QJsonDocument::fromJson(body).object();
    QStringList parts;
    for (const auto key : {"errcode"_L1, "error"_L1, "errorDescription"_L1}) {
        const QString value = object.value(key).toString().trimmed();
        if (!value.isEmpty() && !parts.contains(value)) {
            parts.append(value);
        }
    }
    return parts.join(": "_L1).left(MAX_DETAIL_CHARS);
}

// One line, bounded, and no secret in it.
QString sanitize(QString text, const QStringList &secrets)
{
    for (const QString &secret : secrets) {
        if (!secret.isEmpty()) {
            text.replace(secret, "***"_L1);
        }
    }
    for (QChar &c : text) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f) {
            c = u' ';
        }
    }
    if (text.size() > MAX_REASON_CHARS) {
        text = text.left(MAX_REASON_CHARS) + "..."_L1;
    }
    return text;
}

} // namespace

Notifier::Notifier(Clock *clock, QNetworkAccessManager *network, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
    , m_network(network ? network : new QNetworkAccessManager(this))
{
    Q_ASSERT(m_clock);
    connect(m_clock, &Clock::woke, this, &Notifier::onClockWoke);
}

Notifier::~Notifier()
{
    // No callbacks after destruction: detach and cancel what is still running.
    for (auto &[id, pending] : m_pending) {
        if (QNetworkReply *reply = pending.reply) {
            disconnect(reply, nullptr, this, nullptr);
            reply->abort();
            reply->deleteLater();
        }
    }
}

void Notifier::setTimeoutMs(qint64 ms)
{
    m_timeoutMs = qMax<qint64>(1, ms);
}

qint64 Notifier::timeoutMs() const
{
    return m_timeoutMs;
}

void Notifier::setChannelPublisher(ChannelPublisher publisher)
{
    m_publisher = std::move(publisher);
}

std::optional<Notifier::Result> Notifier::checkConfig(const QString &type, const QVariantMap &config)
{
    Notification probe;
    probe.message = u"probe"_s;
    probe.room = u"!probe"_s;
    Outgoing out;
    return prepare(type.trimmed().toLower(), config, u"probe"_s, probe, u"probe"_s, &out);
}

QUrl Notifier::defaultMatrixEndpoint(const QString &userId)
{
    const qsizetype colon = userId.indexOf(u':');
    if (!userId.startsWith(u'@') || colon < 2 || colon + 1 >= userId.size()) {
        return {};
    }
    const QUrl url(u"https://"_s + userId.mid(colon + 1), QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty() || !url.path().isEmpty() || url.hasQuery() || url.hasFragment()
        || !url.userInfo().isEmpty()) {
        return {};
    }
    return url;
}

quint64 Notifier::send(const QString &user,
                       const QString &type,
                       const QVariantMap &config,
                       const Notification &notification,
                       Done done)
{
    const quint64 id = m_nextId++;
    const QString backend = type.trimmed().toLower();
    Notification n = notification;
    if (n.time <= 0) {
        n.time = m_clock->unixMs() / 1000;
    }

    Outgoing out;
    std::optional<Result> error = prepare(backend, config, user, n, nextTransactionId(), &out);
    if (!error && out.channel && !m_publisher) {
        error = Result{503, u"Notification backend not configured: channel publishing is not available"_s, {}};
    }

    Pending &pending = m_pending[id];
    pending.done = std::move(done);
    static constexpr QLatin1StringView KNOWN_BACKENDS[] = {
        "matrix"_L1,
        "ntfy"_L1,
        "gotify"_L1,
        "webhook"_L1,
        "channel"_L1,
    };
    pending.backend = backend.isEmpty() ? u"none"_s : u"unknown"_s;
    for (const auto known : KNOWN_BACKENDS) {
        if (backend == known) {
            pending.backend = backend;
        }
    }
    // Log lines stay one line whatever the user name holds.
    pending.user = sanitize(user, {});
    pending.secrets = out.secrets;

    if (error) {
        QTimer::singleShot(0, this, [this, id, result = *error] { finish(id, result); });
        return id;
    }

    pending.deadline = m_clock->monotonicMs() + m_timeoutMs;
    qCDebug(lcNotify) << "sending notification" << id << "for" << pending.user << "via" << pending.backend;
    if (out.channel) {
        const QPointer<Notifier> self(this);
        m_publisher(user, out.channelPath, out.body, [self, id](bool ok, const QString &reason) {
            // Always from the event loop, even when the publisher answers at once.
            if (!self) {
                return;
            }
            QTimer::singleShot(0, self.data(), [self, id, ok, reason] {
                const QString what = reason.isEmpty() ? u"channel publish failed"_s : reason;
                self->finish(id, ok ? Result{200, u"sent"_s, {}} : Result{502, sendFailure(what), {}});
            });
        });
    } else {
        QNetworkReply *reply =
            out.verb == "PUT" ? m_network->put(out.request, out.body) : m_network->post(out.request, out.body);
        pending.reply = reply;
        connect(reply, &QNetworkReply::finished, this, [this, id] { onReplyFinished(id); });
        connect(reply, &QNetworkReply::downloadProgress, this, [this, id, reply](qint64 received, qint64) {
            const auto it = m_pending.find(id);
            if (received > MaxResponseBytes && it != m_pending.end() && !it->second.tooLarge) {
                it->second.tooLarge = true;
                reply->abort();
            }
        });
    }
    armClock();
    return id;
}

int Notifier::pendingCount() const
{
    return int(m_pending.size());
}

void Notifier::finish(quint64 id, Result result)
{
    const auto it = m_pending.find(id);
    if (it == m_pending.end()) {
        return;
    }
    Pending pending = std::move(it->second);
    m_pending.erase(it);
    result.message = sanitize(result.message, pending.secrets);
    if (result.status == 200) {
        qCDebug(lcNotify) << "notification" << id << "for" << pending.user << "sent via" << pending.backend;
    } else {
        qCInfo(lcNotify).noquote() << "notification" << id << "for" << pending.user << "via" << pending.backend
                                   << "failed:" << result.status << result.message;
    }
    // Nothing touches members after this point: a receiver may delete the notifier.
    Q_EMIT finished(id, result.status, result.message);
    if (pending.done) {
        pending.done(result);
    }
}

void Notifier::onReplyFinished(quint64 id)
{
    const auto it = m_pending.find(id);
    if (it == m_pending.end()) {
        return;
    }
    QNetworkReply *reply = it->second.reply;
    if (!reply) {
        return;
    }
    reply->deleteLater();
    const Pending &pending = it->second;

    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    QString what;
    if (pending.timedOut) {
        what = timeoutText();
    } else if (pending.tooLarge) {
        what = u"the upstream response is too large"_s;
    } else if (status >= 200 && status < 300 && reply->error() == QNetworkReply::NoError) {
        finish(id, {200, u"sent"_s, {}});
        return;
    } else if (status > 0 && (status < 200 || status >= 300)) {
        const QString phrase = reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString().trimmed();
        what = u"upstream answered HTTP "_s + QString::number(status);
        if (!phrase.isEmpty()) {
            what += u' ' + phrase.left(MAX_DETAIL_CHARS);
        }
        if (status >= 300 && status < 400) {
            what += u" (redirects are not followed)"_s;
        } else if (const QString detail = errorDetail(reply->read(MaxResponseBytes)); !detail.isEmpty()) {
            what += u" ("_s + detail + u')';
        }
    } else {
        what = networkErrorText(reply->error());
    }
    finish(id, {502, sendFailure(what), {}});
}

void Notifier::onClockWoke()
{
    const qint64 now = m_clock->monotonicMs();
    QList<quint64> expired;
    for (const auto &[id, pending] : m_pending) {
        if (pending.deadline > 0 && pending.deadline <= now) {
            expired.append(id);
        }
    }
    for (const quint64 id : std::as_const(expired)) {
        const auto it = m_pending.find(id);
        if (it == m_pending.end()) {
            continue;
        }
        const QPointer<QNetworkReply> reply = it->second.reply;
        if (reply) {
            it->second.timedOut = true;
            // Emits finished(), normally handled by onReplyFinished().
            reply->abort();
        }
        finish(id, {502, sendFailure(timeoutText()), {}});
        if (reply) {
            reply->deleteLater();
        }
    }
    armClock();
}

void Notifier::armClock()
{
    qint64 next = -1;
    for (const auto &[id, pending] : m_pending) {
        if (pending.deadline > 0 && (next < 0 || pending.deadline < next)) {
            next = pending.deadline;
        }
    }
    if (next >= 0) {
        m_clock->wakeAt(next);
    }
}

QString Notifier::nextTransactionId()
{
    // Unique per access token across restarts too: time, a counter and a random part.
    return u"patchwork-%1-%2-%3"_s.arg(m_clock->unixMs())
        .arg(++m_txnCounter)
        .arg(qulonglong(QRandomGenerator::global()->generate()), 8, 16, QChar(u'0'));
}

QString Notifier::timeoutText() const
{
    return m_timeoutMs % 1000 == 0 ? u"timed out after %1 s"_s.arg(m_timeoutMs / 1000)
                                   : u"timed out after %1 ms"_s.arg(m_timeoutMs);
}

} // namespace Patchwork
