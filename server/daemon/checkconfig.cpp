// SPDX-License-Identifier: MIT
#include "daemon/checkconfig.h"

#include <cstdio>

#include <QFile>

#include "access/directoryconfigsource.h"
#include "access/userconfig.h"

using namespace Qt::StringLiterals;

namespace Patchwork::Server
{

namespace
{

void printLine(FILE *stream, const QString &line)
{
    const QByteArray bytes = line.toLocal8Bit() + '\n';
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stream);
    std::fflush(stream);
}

} // namespace

int runCheckConfig(const QStringList &args)
{
    if (args.contains(u"--help"_s) || args.contains(u"-h"_s)) {
        printLine(stdout,
                  u"usage: patchworkd check-config FILE...\n"
                  "Validates user configurations (<users-dir>/<user>/config.yaml); prints FILE:LINE: message\n"
                  "for each problem and exits 1 if there is any."_s);
        return 0;
    }
    if (args.isEmpty()) {
        printLine(stderr, u"usage: patchworkd check-config FILE..."_s);
        return 2;
    }
    int problems = 0;
    for (const QString &path : args) {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            printLine(stderr, path + u": "_s + file.errorString());
            ++problems;
            continue;
        }
        const QByteArray data = file.read(DirectoryConfigSource::MAX_FILE_SIZE + 1);
        if (data.size() > DirectoryConfigSource::MAX_FILE_SIZE) {
            printLine(stderr,
                      path + u": the file is larger than "_s + QString::number(DirectoryConfigSource::MAX_FILE_SIZE)
                          + u" bytes"_s);
            ++problems;
            continue;
        }
        QString error;
        if (!UserConfig::parse(data, path, &error)) {
            printLine(stderr, error);
            ++problems;
        }
    }
    if (problems > 0) {
        return 1;
    }
    printLine(stdout, u"ok"_s);
    return 0;
}

} // namespace Patchwork::Server
