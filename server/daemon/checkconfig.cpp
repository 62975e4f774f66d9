// SPDX-License-Identifier: MIT
#include "daemon/checkconfig.h"

#include <cstdio>
#include <memory>

#include <QFile>

#include "access/directoryconfigsource.h"
#include "access/userconfig.h"
#include "notify/notifier.h"

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

// The problem of the `ntfy` block as a notification would meet it (Notifier::checkConfig), or empty.
QString ntfyProblem(const UserConfig &config)
{
    if (config.ntfyType().isEmpty()) {
        return {};
    }
    const std::optional<Notifier::Result> problem = Notifier::checkConfig(config.ntfyType(), config.ntfyConfig());
    return problem ? problem->message : QString();
}

} // namespace

int runCheckConfig(const QStringList &args)
{
    if (args.contains(u"--help"_s) || args.contains(u"-h"_s)) {
        printLine(stdout,
                  u"usage: patchworkd check-config FILE...\n"
                  "Validates user configurations (<users-dir>/<user>/config.yaml); prints FILE:LINE: message\n"
                  "for each problem (FILE: ntfy: message for a notification backend that cannot send)\n"
                  "and exits 1 if there is any."_s);
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
        const std::shared_ptr<UserConfig> config = UserConfig::parse(data, path, &error);
        if (!config) {
            printLine(stderr, error);
            ++problems;
        } else if (const QString problem = ntfyProblem(*config); !problem.isEmpty()) {
            printLine(stderr, path + u": ntfy: "_s + problem);
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
