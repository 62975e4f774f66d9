// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <memory>
#include <optional>

#include <QByteArray>
#include <QByteArrayView>
#include <QCoreApplication>
#include <QString>

class QCryptographicHash;

namespace Patchwork
{

// The server secret behind hook channels (PROTOCOL §7): the secret of hook channel <name> is the
// lowercase hex of HMAC-SHA256(key = server secret, message = "h:<name>" or "r:<name>").
//
// secretFor()/verify() reuse one hashing context, so they never allocate but are not reentrant:
// use one HookSecret from one thread (copies are independent).
class HookSecret
{
    Q_DECLARE_TR_FUNCTIONS(HookSecret)

public:
    enum class Source
    {
        Environment, // SECRET_KEY
        File, // <dataDir>/secret_key
        Generated, // new random key, just written to <dataDir>/secret_key
    };

    static constexpr qsizetype GeneratedKeySize = 32;
    static constexpr qsizetype SecretHexSize = 64;

    // SECRET_KEY (raw bytes) if set and non-empty, else the whole content of <dataDir>/secret_key,
    // else 32 random bytes written there atomically with mode 0600 (the directory is created if
    // needed). On failure returns nullopt and a translated message in *error. Never logs the key.
    static std::optional<HookSecret> load(const QString &dataDir, QString *error = nullptr);
    // A secret with the given (non-empty) key, for tests and embedders.
    static HookSecret fromKey(QByteArrayView key);

    HookSecret(const HookSecret &other);
    HookSecret &operator=(const HookSecret &other);
    HookSecret(HookSecret &&other) noexcept;
    HookSecret &operator=(HookSecret &&other) noexcept;
    ~HookSecret();

    Source source() const;

    // Lowercase hex (64 characters) of HMAC-SHA256(secret, "<kind>:<channelName>"); kind is 'h' or 'r' (hook
    // channels, PROTOCOL §7) or 's' (a node's fetch of a switch reply from another node, README "Running
    // several daemons").
    QByteArray secretFor(char kind, QByteArrayView channelName) const;
    // Whether `presented` equals secretFor(kind, channelName), compared in constant time. No allocation.
    bool verify(char kind, QByteArrayView channelName, QByteArrayView presented) const;

    // Compares two buffers without an early exit on their content. Different lengths compare
    // unequal (after a loop over `expected` all the same).
    static bool constantTimeEquals(QByteArrayView expected, QByteArrayView presented) noexcept;

    // A random RFC 4122 version-4 UUID, lowercase, 36 characters (QRandomGenerator::system()).
    static QByteArray newUuidV4();

    // The hook channel name of a path below /h/ or /r/: the path without one leading mode prefix
    // (`queue/`, `pubsub/`, `req/`, `res/`). The View variant returns a view into `path`.
    static QByteArray channelName(QByteArrayView path);
    static QByteArrayView channelNameView(QByteArrayView path) noexcept;

private:
    using Digest = std::array<char, 32>;

    HookSecret(QByteArrayView key, Source source);
    void computeHex(char kind, QByteArrayView channelName, char *hexOut) const;

    // The key XOR ipad / opad (RFC 2104), precomputed once.
    std::array<char, 64> m_innerPad{};
    std::array<char, 64> m_outerPad{};
    std::unique_ptr<QCryptographicHash> m_hash;
    Source m_source = Source::Environment;
};

} // namespace Patchwork
