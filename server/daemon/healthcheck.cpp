// SPDX-License-Identifier: MIT
#include "daemon/healthcheck.h"

#include <cstdio>
#include <optional>

#include <QCoreApplication>
#include <QEventLoop>
#include <QHostAddress>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace Patchwork::Server
{

namespace
{

constexpr int TIMEOUT_MS = 5000;

void printLine(FILE *stream, const QString &line)
{
    const QByteArray bytes = line.toLocal8Bit() + '\n';
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stream);
    std::fflush(stream);
}

int fail(const QString &reason)
{
    printLine(stderr, u"health check failed: "_s + reason);
    return 1;
}

QString usage()
{
    return QCoreApplication::translate(
        "Healthcheck",
        "Usage: patchworkd healthcheck [--url URL]\n"
        "GETs URL (default http://127.0.0.1:$PATCHWORK_PORT/healthz, port 8080 if unset)\n"
        "with a 5 s timeout; exits 0 on HTTP 200, else prints the reason and exits 1.");
}

// The default URL: the local daemon as configured through the environment.
std::optional<QUrl> defaultUrl(const QProcessEnvironment &env, QString *error)
{
    int port = 8080;
    const QString portText = env.value(u"PATCHWORK_PORT"_s).trimmed();
    if (!portText.isEmpty()) {
        bool ok = false;
        port = portText.toInt(&ok);
        if (!ok || port < 1 || port > 65535) {
            *error = u"invalid PATCHWORK_PORT: '%1'"_s.arg(portText);
            return std::nullopt;
        }
    }
    QString host = u"127.0.0.1"_s;
    const QString hostText = env.value(u"PATCHWORK_HOST"_s).trimmed();
    QHostAddress address;
    if (!hostText.isEmpty() && address.setAddress(hostText)) {
        if (address == QHostAddress(QHostAddress::AnyIPv6)) {
            host = u"::1"_s;
        } else if (address != QHostAddress(QHostAddress::AnyIPv4) && address != QHostAddress(QHostAddress::Any)) {
            host = address.toString();
        }
    }
    QUrl url;
    url.setScheme(u"http"_s);
    url.setHost(host);
    url.setPort(port);
    url.setPath(u"/healthz"_s);
    return url;
}

} // namespace

int runHealthcheck(const QStringList &args, const QProcessEnvironment &env)
{
    QString urlText;
    for (qsizetype i = 0; i < args.size(); ++i) {
        const QString &arg = args.at(i);
        if (arg == u"--help" || arg == u"-h") {
            printLine(stdout, usage());
            return 0;
        }
        if (arg == u"--url") {
            if (i + 1 >= args.size()) {
                return fail(u"missing value for --url"_s);
            }
            urlText = args.at(++i);
        } else if (arg.startsWith(u"--url=")) {
            urlText = arg.mid(6);
        } else {
            return fail(u"unknown argument '%1' (usage: patchworkd healthcheck [--url URL])"_s.arg(arg));
        }
    }

    QUrl url;
    if (urlText.isNull()) {
        QString error;
        const std::optional<QUrl> fallback = defaultUrl(env, &error);
        if (!fallback) {
            return fail(error);
        }
        url = *fallback;
    } else {
        url = QUrl(urlText, QUrl::StrictMode);
        const QString scheme = url.scheme().toLower();
        if (!url.isValid() || (scheme != u"http" && scheme != u"https") || url.host().isEmpty()) {
            return fail(u"invalid URL '%1' (expected http://HOST[:PORT]/PATH)"_s.arg(urlText));
        }
    }
    const QString shownUrl = url.toString(QUrl::RemoveUserInfo);

    QNetworkAccessManager manager;
    manager.setProxy(QNetworkProxy::NoProxy); // a local probe must not go through http_proxy
    QNetworkRequest request(url);
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    QNetworkReply *reply = manager.get(request);

    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    bool timedOut = false;
    QObject::connect(&timer, &QTimer::timeout, &loop, [&] {
        timedOut = true;
        reply->abort();
    });
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    timer.start(TIMEOUT_MS);
    if (!reply->isFinished()) {
        loop.exec();
    }
    timer.stop();

    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QNetworkReply::NetworkError error = reply->error();
    const QString errorString = reply->errorString();
    reply->deleteLater();

    if (timedOut) {
        return fail(u"%1: timeout after %2 s"_s.arg(shownUrl).arg(TIMEOUT_MS / 1000));
    }
    if (status == 200) {
        return 0;
    }
    if (status != 0) {
        return fail(u"%1: HTTP status %2"_s.arg(shownUrl).arg(status));
    }
    switch (error) {
    case QNetworkReply::ConnectionRefusedError:
        return fail(u"%1: connection refused"_s.arg(shownUrl));
    case QNetworkReply::HostNotFoundError:
        return fail(u"%1: host not found"_s.arg(shownUrl));
    case QNetworkReply::TimeoutError:
        return fail(u"%1: timeout after %2 s"_s.arg(shownUrl).arg(TIMEOUT_MS / 1000));
    default:
        break;
    }
    return fail(u"%1: %2"_s.arg(shownUrl, errorString));
}

} // namespace Patchwork::Server
