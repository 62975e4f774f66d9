// SPDX-License-Identifier: MIT
#include <QCoreApplication>

#include "clock.h"
#include "relayserver.h"

using namespace Patchwork;

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QStringList args = app.arguments().mid(1);
    if (!args.isEmpty() && args.first() == u"start") {
        args.removeFirst();
    }
    QString host = u"0.0.0.0"_qs;
    quint16 port = 8080;
    for (qsizetype i = 0; i + 1 < args.size(); ++i) {
        if (args[i] == u"--host") {
            host = args[i + 1];
        } else if (args[i] == u"--port") {
            port = quint16(args[i + 1].toUInt());
        }
    }
    SystemClock clock;
    Server::RelayServer relay(&clock);
    QString error;
    if (!relay.listen(QHostAddress(host), port, &error)) {
        qCritical("cannot listen: %s", qPrintable(error));
        return 1;
    }
    return app.exec();
}
