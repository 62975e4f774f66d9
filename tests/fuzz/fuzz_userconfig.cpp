// SPDX-License-Identifier: MIT
// Fuzzes user configurations (PROTOCOL §8) and the ACL decisions made with them. The input is a token,
// a method, a subject and then a config.yaml. Checked: parsing never throws or crashes; a failure has a
// message; a parsed config decides exactly as its pattern lists say (docs/DECISIONS.md "Access
// control"), with a status and reason from the documented set; and the config written back by toYaml()
// parses to the same tokens and lists.
#include <cstdlib>

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QStringList>

#include <fuzzer/FuzzedDataProvider.h>

#include "access/acl.h"
#include "access/userconfig.h"
#include "fuzzcheck.h"

using namespace Patchwork;
using namespace Qt::StringLiterals;
using Patchwork::Fuzz::check;
using Patchwork::Fuzz::fail;

namespace
{

const QStringList REASONS = {u"token not found"_s,
                             u"token expired"_s,
                             u"unsupported method"_s,
                             u"no patterns found"_s,
                             u"token does not match patterns"_s,
                             u"Missing Authorization header"_s};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzedDataProvider in(data, size);
    const QByteArray token = QByteArray::fromStdString(in.ConsumeRandomLengthString(64));
    const bool presented = in.ConsumeBool();
    static const QByteArrayView METHODS[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get"};
    const QByteArrayView method = METHODS[in.ConsumeIntegralInRange<size_t>(0, std::size(METHODS) - 1)];
    const bool huproxy = in.ConsumeIntegralInRange(0, 7) == 0;
    const QByteArray subject = QByteArray::fromStdString(in.ConsumeRandomLengthString(128));
    const QByteArray yaml = QByteArray::fromStdString(in.ConsumeRemainingBytesAsString());

    QString error;
    const std::shared_ptr<UserConfig> config = UserConfig::parse(yaml, u"config.yaml"_s, &error);
    if (!config) {
        check(error.startsWith(u"config.yaml:"_s), "a failure without file and line");
        return 0;
    }

    const QDateTime now = QDateTime::fromSecsSinceEpoch(1'800'000'000, Qt::UTC);
    const std::optional<AclList> list = huproxy ? std::optional(AclList::Huproxy) : aclListForMethod(method);
    const AclResult result = Acl::check(config.get(), token, presented, list, subject, now);
    check(result.allowed == (result.status == 0), "allowed and status disagree");
    check(result.allowed || result.status == 401 || result.status == 403, "unexpected status");
    check(result.allowed || REASONS.contains(result.reason), "a reason outside the documented set");

    // The decision from the entry's own list (PROTOCOL §8 "Outcomes").
    const TokenEntry *entry = config->findToken(presented ? QByteArrayView(token) : Acl::PUBLIC_TOKEN);
    bool expected = entry && !(huproxy && !presented) && !entry->isExpired(now) && list;
    if (expected) {
        const std::optional<PatternList> &patterns = entry->list(*list);
        expected = patterns && patterns->allows(subject);
    }
    check(result.allowed == expected, "decision differs from the entry's patterns");

    for (const QString &key : config->tokenKeys()) {
        const TokenEntry *byKey = config->tokenEntry(key);
        check(byKey != nullptr, "a listed key without an entry");
        if (!UserConfig::isHashedKey(key)) {
            check(config->findToken(key.toUtf8()) == byKey, "findToken differs from tokenEntry");
        }
    }

    // Saving and loading again keeps every token and list (what the token editor relies on).
    QString reparseError;
    const std::shared_ptr<UserConfig> again = UserConfig::parse(config->toYaml(), u"again.yaml"_s, &reparseError);
    if (!again) {
        fail("toYaml() wrote a config that does not parse", reparseError.toUtf8());
    }
    check(again->tokenKeys() == config->tokenKeys(), "toYaml() changed the token keys");
    for (const QString &key : config->tokenKeys()) {
        check(*again->tokenEntry(key) == *config->tokenEntry(key), "toYaml() changed a token entry");
    }
    check(again->ntfyType() == config->ntfyType(), "toYaml() changed the ntfy type");
    check(again->ntfyConfig() == config->ntfyConfig(), "toYaml() changed the ntfy config");
    return 0;
}
