// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <memory>
#include <optional>

#include <QByteArray>
#include <QByteArrayView>
#include <QCoreApplication>
#include <QDateTime>
#include <QString>
#include <QStringList>
#include <QVariantMap>

#include "access/pattern.h"

namespace Patchwork
{

// The permission lists of a token (PROTOCOL §8 "Which list").
enum class AclList
{
    Get,
    Post,
    Put,
    Delete,
    Patch,
    Huproxy,
};
inline constexpr int ACL_LIST_COUNT = 6;
inline constexpr std::array<AclList, ACL_LIST_COUNT> ALL_ACL_LISTS =
    {AclList::Get, AclList::Post, AclList::Put, AclList::Delete, AclList::Patch, AclList::Huproxy};

// The YAML key of a list: `GET`, `POST`, `PUT`, `DELETE`, `PATCH`, `huproxy`.
QString aclListKey(AclList list);

// One entry of `tokens:` (PROTOCOL §8, original-behaviour §13.2).
struct TokenEntry
{
    bool isAdmin = false;
    // std::nullopt = the key is absent; an engaged empty list = `GET: []`. Both allow nothing.
    std::array<std::optional<PatternList>, ACL_LIST_COUNT> lists;
    // UTC; std::nullopt = never expires.
    std::optional<QDateTime> expiresAt;

    const std::optional<PatternList> &list(AclList which) const
    {
        return lists[size_t(which)];
    }
    std::optional<PatternList> &list(AclList which)
    {
        return lists[size_t(which)];
    }
    // Expired once `now` is strictly after expiresAt (as the original: now.After(expiresAt)).
    bool isExpired(const QDateTime &now) const
    {
        return expiresAt && now > *expiresAt;
    }

    friend bool operator==(const TokenEntry &a, const TokenEntry &b)
    {
        return a.isAdmin == b.isAdmin && a.lists == b.lists && a.expiresAt == b.expiresAt;
    }
};

class UserConfigPrivate;

// A parsed per-user `config.yaml` (PROTOCOL §8): the token table used for every ACL decision, the
// `ntfy` block, and the original YAML document so that an editor can change tokens and save without
// losing keys this class does not understand (comments are not kept: yaml-cpp drops them).
//
// Immutable in the daemon (shared as std::shared_ptr<const UserConfig>); the mutators exist for the
// tray's token editor.
class UserConfig
{
    Q_DECLARE_TR_FUNCTIONS(Patchwork::UserConfig)

public:
    // An empty configuration: no tokens, no ntfy block (a Forgejo 404 is this).
    UserConfig();
    UserConfig(const UserConfig &other);
    UserConfig &operator=(const UserConfig &other);
    ~UserConfig();

    // Parses a whole file. On failure returns nullptr and sets *errorMessage to
    // `<fileName>:<line>: <what>` (line 1-based). Never throws. Error messages never contain token
    // values (only line numbers point at them).
    static std::shared_ptr<UserConfig>
    parse(const QByteArray &yaml, const QString &fileName, QString *errorMessage = nullptr);

    QString fileName() const;

    // The entry whose key is `token` itself, or `sha256:<hex>` of it. O(1); the digest is computed
    // at most once per call and only when the config has hashed keys. An empty token matches nothing.
    const TokenEntry *findToken(QByteArrayView token) const;

    // Editing (token editor). Keys are the YAML keys: a literal token or `sha256:<64 hex>`.
    QStringList tokenKeys() const;
    qsizetype tokenCount() const;
    const TokenEntry *tokenEntry(const QString &key) const;
    // Adds or replaces a token, keeping the entry's unknown keys and the document order. Fails for an
    // empty key, a malformed `sha256:` key, or a key naming the same token as another key.
    bool setToken(const QString &key, const TokenEntry &entry, QString *errorMessage = nullptr);
    bool removeToken(const QString &key);

    // The `ntfy` block (PROTOCOL §10). ntfyType() is empty when absent. Config values are QString
    // (scalars; null is an empty string), QVariantMap and QVariantList.
    QString ntfyType() const;
    QVariantMap ntfyConfig() const;
    // Replaces `ntfy.type` and `ntfy.config`, keeping other keys of the block; an empty type removes
    // the whole block.
    void setNtfy(const QString &type, const QVariantMap &config);

    // The document with the edits applied: unknown keys (top level and inside token entries) and
    // the order of keys are kept; quoted scalars stay quoted; anchors/aliases are written expanded.
    QByteArray toYaml() const;

    // One pattern of `list` as the reader takes it: std::nullopt for an invalid one, with the reader's message
    // (without the file and line) in *errorMessage: `<LIST>: invalid pattern: <reason>`.
    static std::optional<Pattern> parsePattern(AclList list, const QString &text, QString *errorMessage = nullptr);

    static bool isHashedKey(QStringView key);
    // `sha256:<64 lowercase hex>` of `token`: the key an editor stores for a new token.
    static QString hashedKey(QByteArrayView token);

private:
    std::unique_ptr<UserConfigPrivate> d;
    friend class UserConfigPrivate;
};

} // namespace Patchwork
