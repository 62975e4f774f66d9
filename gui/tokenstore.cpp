// SPDX-License-Identifier: MIT
#include "gui/tokenstore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSettings>

#include <qt6keychain/keychain.h>

#include "gui/logging.h"

namespace Patchwork::Gui
{

namespace
{

const QString GROUP = QStringLiteral("tokens");

} // namespace

TokenStore::TokenStore(const QString &fallbackFile, Consent askPlainText, QObject *parent)
    : QObject(parent)
    , m_fallbackFile(fallbackFile)
    , m_askPlainText(std::move(askPlainText))
{
}

void TokenStore::setService(const QString &service)
{
    m_service = service;
}

QString TokenStore::fallbackFile() const
{
    return m_fallbackFile;
}

void TokenStore::write(const QString &key, const QString &token, Done done)
{
    if (token.isEmpty()) {
        remove(key);
        done(true, {});
        return;
    }
    auto *job = new QKeychain::WritePasswordJob(m_service, this);
    job->setKey(key);
    job->setTextData(token);
    connect(job, &QKeychain::Job::finished, this, [this, key, token, done](QKeychain::Job *finished) {
        if (finished->error() == QKeychain::NoError) {
            writeFallback(key, QString()); // a copy from an earlier fallback is no longer needed
            done(true, {});
            return;
        }
        // Never log the token; the reason is enough.
        qCInfo(lcGui) << "secret service unavailable:" << finished->errorString();
        if (!m_askPlainText(finished->errorString())) {
            done(false, tr("The token was not saved: no secret service, and storing it in a file was declined."));
            return;
        }
        if (!writeFallback(key, token)) {
            done(false, tr("The token could not be written to %1.").arg(m_fallbackFile));
            return;
        }
        done(true, {});
    });
    job->start();
}

void TokenStore::read(const QString &key, TokenRead done)
{
    auto *job = new QKeychain::ReadPasswordJob(m_service, this);
    job->setKey(key);
    connect(job, &QKeychain::Job::finished, this, [this, key, done](QKeychain::Job *finished) {
        const auto *readJob = static_cast<QKeychain::ReadPasswordJob *>(finished);
        done(finished->error() == QKeychain::NoError ? readJob->textData() : readFallback(key));
    });
    job->start();
}

void TokenStore::remove(const QString &key)
{
    auto *job = new QKeychain::DeletePasswordJob(m_service, this);
    job->setKey(key);
    job->start();
    writeFallback(key, QString());
}

bool TokenStore::writeFallback(const QString &key, const QString &token)
{
    if (token.isEmpty() && !QFileInfo::exists(m_fallbackFile)) {
        return true;
    }
    QDir().mkpath(QFileInfo(m_fallbackFile).absolutePath());
    {
        // Create it private before anything is written into it.
        QFile file(m_fallbackFile);
        if (!file.exists() && !file.open(QIODevice::WriteOnly)) {
            return false;
        }
        file.close();
        if (!file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner)) {
            return false;
        }
    }
    QSettings settings(m_fallbackFile, QSettings::IniFormat);
    settings.beginGroup(GROUP);
    if (token.isEmpty()) {
        settings.remove(key);
    } else {
        settings.setValue(key, token);
    }
    settings.endGroup();
    settings.sync();
    // QSettings replaces the file atomically: make sure the new one is private too.
    QFile::setPermissions(m_fallbackFile, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    return settings.status() == QSettings::NoError;
}

QString TokenStore::readFallback(const QString &key) const
{
    if (!QFileInfo::exists(m_fallbackFile)) {
        return {};
    }
    QSettings settings(m_fallbackFile, QSettings::IniFormat);
    return settings.value(GROUP + u'/' + key).toString();
}

} // namespace Patchwork::Gui
