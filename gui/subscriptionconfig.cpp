// SPDX-License-Identifier: MIT
#include "gui/subscriptionconfig.h"

#include <QSettings>

namespace Patchwork::Gui
{

namespace
{

const QString ARRAY = QStringLiteral("subscriptions");

} // namespace

QUrl SubscriptionConfig::channelUrl() const
{
    QUrl url = serverUrl;
    QString path = url.path();
    while (path.endsWith(u'/')) {
        path.chop(1);
    }
    url.setPath(path + (channelPath.startsWith(u'/') ? channelPath : u'/' + channelPath));
    return url;
}

QString SubscriptionConfig::validationError() const
{
    if (name.trimmed().isEmpty()) {
        return tr("The name is empty.");
    }
    if (!serverUrl.isValid() || (serverUrl.scheme() != u"http" && serverUrl.scheme() != u"https")
        || serverUrl.host().isEmpty()) {
        return tr("The server URL must be an http:// or https:// URL.");
    }
    if (channelPath.trimmed().isEmpty() || channelPath.trimmed() == u"/") {
        return tr("The channel path is empty.");
    }
    if (minPriority < 1 || minPriority > 5) {
        return tr("The minimum priority must be between 1 and 5.");
    }
    return {};
}

namespace SubscriptionSettings
{

QList<SubscriptionConfig> load(QSettings &settings)
{
    QList<SubscriptionConfig> result;
    const int size = settings.beginReadArray(ARRAY);
    for (int i = 0; i < size; ++i) {
        settings.setArrayIndex(i);
        SubscriptionConfig c;
        c.id = settings.value(QStringLiteral("id")).toString();
        c.name = settings.value(QStringLiteral("name")).toString();
        c.serverUrl = settings.value(QStringLiteral("serverUrl")).toUrl();
        c.channelPath = settings.value(QStringLiteral("channelPath")).toString();
        c.minPriority = settings.value(QStringLiteral("minPriority"), 1).toInt();
        c.enabled = settings.value(QStringLiteral("enabled"), true).toBool();
        c.magicPrefix = settings.value(QStringLiteral("magicPrefix"), false).toBool();
        c.muted = settings.value(QStringLiteral("muted"), false).toBool();
        c.lastEventId = settings.value(QStringLiteral("lastEventId")).toByteArray();
        if (!c.id.isEmpty()) {
            result.append(c);
        }
    }
    settings.endArray();
    return result;
}

void save(QSettings &settings, const QList<SubscriptionConfig> &subscriptions)
{
    settings.remove(ARRAY);
    settings.beginWriteArray(ARRAY, int(subscriptions.size()));
    for (int i = 0; i < subscriptions.size(); ++i) {
        const SubscriptionConfig &c = subscriptions.at(i);
        settings.setArrayIndex(i);
        settings.setValue(QStringLiteral("id"), c.id);
        settings.setValue(QStringLiteral("name"), c.name);
        settings.setValue(QStringLiteral("serverUrl"), c.serverUrl);
        settings.setValue(QStringLiteral("channelPath"), c.channelPath);
        settings.setValue(QStringLiteral("minPriority"), c.minPriority);
        settings.setValue(QStringLiteral("enabled"), c.enabled);
        settings.setValue(QStringLiteral("magicPrefix"), c.magicPrefix);
        settings.setValue(QStringLiteral("muted"), c.muted);
        settings.setValue(QStringLiteral("lastEventId"), c.lastEventId);
    }
    settings.endArray();
}

void saveLastEventId(QSettings &settings, const QList<SubscriptionConfig> &subscriptions, const QString &id)
{
    for (int i = 0; i < subscriptions.size(); ++i) {
        if (subscriptions.at(i).id == id) {
            settings.beginWriteArray(ARRAY, int(subscriptions.size()));
            settings.setArrayIndex(i);
            settings.setValue(QStringLiteral("lastEventId"), subscriptions.at(i).lastEventId);
            settings.endArray();
            return;
        }
    }
}

} // namespace SubscriptionSettings

} // namespace Patchwork::Gui
