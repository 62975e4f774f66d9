// SPDX-License-Identifier: MIT
#pragma once

#include <functional>

#include <QObject>
#include <QString>

namespace Patchwork::Gui
{

// Subscription tokens: in the desktop's secret service through QtKeychain. Where no secret service
// exists, a token is written to a separate settings file (mode 0600) only after the user agreed
// (askPlainText); reads look there too.
class TokenStore final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TokenStore)

public:
    using Done = std::function<void(bool ok, const QString &error)>;
    using TokenRead = std::function<void(const QString &token)>;
    // Asked once per write when the secret service is unavailable: may the token be stored in the file?
    using Consent = std::function<bool(const QString &reason)>;

    // `fallbackFile`: the plain-text store; `service`: the keychain service name.
    TokenStore(const QString &fallbackFile, Consent askPlainText, QObject *parent = nullptr);

    void setService(const QString &service);
    QString fallbackFile() const;

    // An empty token deletes the stored one.
    void write(const QString &key, const QString &token, Done done);
    // Calls `done` with the token, or an empty string when there is none.
    void read(const QString &key, TokenRead done);
    void remove(const QString &key);

private:
    bool writeFallback(const QString &key, const QString &token);
    QString readFallback(const QString &key) const;

    QString m_fallbackFile;
    QString m_service = QStringLiteral("patchwork-tray");
    Consent m_askPlainText;
};

} // namespace Patchwork::Gui
