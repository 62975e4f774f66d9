// SPDX-License-Identifier: MIT
#pragma once

#include <QLocalServer>
#include <QObject>

namespace Patchwork::Gui
{

// One tray per user: the first instance listens on a local socket named per user; a later start
// connects to it, asks it to raise its window and exits.
class SingleInstance final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SingleInstance)

public:
    // `name` empty = "patchwork-tray-<user>".
    explicit SingleInstance(const QString &name = {}, QObject *parent = nullptr);

    // True when this is the first instance (now listening); false when another one runs and was asked to
    // raise itself.
    bool claim();
    QString serverName() const;

    static QString defaultName();

Q_SIGNALS:
    // Another start of the app asked this instance to show itself.
    void raiseRequested();

private:
    void onNewConnection();

    QString m_name;
    QLocalServer m_server;
};

} // namespace Patchwork::Gui
