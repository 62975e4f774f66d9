// SPDX-License-Identifier: MIT
#include "access/hooksecret.h"

#include <algorithm>

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QSaveFile>

#include "util/logging.h"

using namespace Qt::StringLiterals;

namespace Patchwork
{

namespace
{

constexpr qsizetype HMAC_BLOCK_SIZE = 64;
constexpr char HEX_DIGITS[] = "0123456789abcdef";
constexpr QFileDevice::Permissions OWNER_ONLY = QFileDevice::ReadOwner | QFileDevice::WriteOwner;
constexpr QByteArrayView MODE_PREFIXES[] = {"queue/", "pubsub/", "req/", "res/"};

void toHex(const char *bytes, qsizetype size, char *out)
{
    for (qsizetype i = 0; i < size; ++i) {
        const auto byte = static_cast<unsigned char>(bytes[i]);
        out[2 * i] = HEX_DIGITS[byte >> 4];
        out[2 * i + 1] = HEX_DIGITS[byte & 0x0f];
    }
}

std::optional<QByteArray> readKeyFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error) {
            *error = HookSecret::tr("Cannot read the secret key file %1: %2").arg(path, file.errorString());
        }
        return std::nullopt;
    }
    QByteArray key = file.readAll();
    if (key.isEmpty()) {
        if (error) {
            *error = HookSecret::tr("The secret key file %1 is empty; delete it to generate a new key").arg(path);
        }
        return std::nullopt;
    }
    if (file.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther)) {
        qCWarning(lcConfig).noquote() << "The secret key file" << path
                                      << "is readable by other users; consider chmod 600";
    }
    return key;
}

std::optional<QByteArray> createKeyFile(const QString &dataDir, const QString &path, QString *error)
{
    auto fail = [error](const QString &message) -> std::optional<QByteArray> {
        if (error) {
            *error = message;
        }
        return std::nullopt;
    };
    if (!QDir().mkpath(dataDir)) {
        return fail(HookSecret::tr("Cannot create the data directory %1").arg(dataDir));
    }
    QByteArray key(HookSecret::GeneratedKeySize, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(key.data()),
                                          HookSecret::GeneratedKeySize / qsizetype(sizeof(quint32)));

    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        return fail(HookSecret::tr("Cannot create the secret key file %1: %2").arg(path, file.errorString()));
    }
    // Restrict the temporary file before the key is in it, then the final file again after the rename.
    file.setPermissions(OWNER_ONLY);
    if (file.write(key) != key.size() || !file.commit()) {
        return fail(HookSecret::tr("Cannot write the secret key file %1: %2").arg(path, file.errorString()));
    }
    if (!QFile::setPermissions(path, OWNER_ONLY)) {
        return fail(HookSecret::tr("Cannot restrict the permissions of the secret key file %1").arg(path));
    }
    qCInfo(lcConfig).noquote() << "Created a new server secret key in" << path;
    return key;
}

} // namespace

HookSecret::HookSecret(QByteArrayView key, Source source)
    : m_hash(std::make_unique<QCryptographicHash>(QCryptographicHash::Sha256))
    , m_source(source)
{
    // RFC 2104: keys longer than the block size are hashed first, shorter ones padded with zeros.
    QByteArray hashedKey;
    if (key.size() > HMAC_BLOCK_SIZE) {
        hashedKey = QCryptographicHash::hash(key, QCryptographicHash::Sha256);
        key = hashedKey;
    }
    m_innerPad.fill(0x36);
    m_outerPad.fill(0x5c);
    for (qsizetype i = 0; i < key.size(); ++i) {
        m_innerPad[size_t(i)] = char(m_innerPad[size_t(i)] ^ key[i]);
        m_outerPad[size_t(i)] = char(m_outerPad[size_t(i)] ^ key[i]);
    }
    hashedKey.fill(0);
}

HookSecret::HookSecret(const HookSecret &other)
    : m_innerPad(other.m_innerPad)
    , m_outerPad(other.m_outerPad)
    , m_hash(std::make_unique<QCryptographicHash>(QCryptographicHash::Sha256))
    , m_source(other.m_source)
{
}

HookSecret &HookSecret::operator=(const HookSecret &other)
{
    if (this != &other) {
        m_innerPad = other.m_innerPad;
        m_outerPad = other.m_outerPad;
        m_source = other.m_source;
        if (!m_hash) {
            m_hash = std::make_unique<QCryptographicHash>(QCryptographicHash::Sha256);
        }
    }
    return *this;
}

HookSecret::HookSecret(HookSecret &&other) noexcept = default;
HookSecret &HookSecret::operator=(HookSecret &&other) noexcept = default;

HookSecret::~HookSecret()
{
    // Do not leave key material behind in freed memory.
    m_innerPad.fill(0);
    m_outerPad.fill(0);
}

std::optional<HookSecret> HookSecret::load(const QString &dataDir, QString *error)
{
    const QByteArray fromEnv = qgetenv("SECRET_KEY");
    if (!fromEnv.isEmpty()) {
        return HookSecret(fromEnv, Source::Environment);
    }
    if (dataDir.isEmpty()) {
        if (error) {
            *error = tr("SECRET_KEY is not set and there is no data directory to keep a generated key in");
        }
        return std::nullopt;
    }
    const QString path = QDir(dataDir).filePath(u"secret_key"_s);
    if (QFileInfo::exists(path)) {
        const auto key = readKeyFile(path, error);
        return key ? std::optional<HookSecret>(HookSecret(*key, Source::File)) : std::nullopt;
    }
    const auto key = createKeyFile(dataDir, path, error);
    return key ? std::optional<HookSecret>(HookSecret(*key, Source::Generated)) : std::nullopt;
}

HookSecret HookSecret::fromKey(QByteArrayView key)
{
    Q_ASSERT(!key.isEmpty());
    return HookSecret(key, Source::Environment);
}

HookSecret::Source HookSecret::source() const
{
    return m_source;
}

void HookSecret::computeHex(char kind, QByteArrayView channelName, char *hexOut) const
{
    const char prefix[2] = {kind, ':'};
    Digest inner;
    m_hash->reset();
    m_hash->addData(QByteArrayView(m_innerPad.data(), HMAC_BLOCK_SIZE));
    m_hash->addData(QByteArrayView(prefix, 2));
    m_hash->addData(channelName);
    const QByteArrayView innerView = m_hash->resultView();
    Q_ASSERT(innerView.size() == qsizetype(inner.size()));
    std::copy_n(innerView.data(), inner.size(), inner.begin());

    m_hash->reset();
    m_hash->addData(QByteArrayView(m_outerPad.data(), HMAC_BLOCK_SIZE));
    m_hash->addData(QByteArrayView(inner.data(), qsizetype(inner.size())));
    const QByteArrayView outer = m_hash->resultView();
    toHex(outer.data(), outer.size(), hexOut);
    inner.fill(0);
}

QByteArray HookSecret::secretFor(char kind, QByteArrayView channelName) const
{
    Q_ASSERT(kind == 'h' || kind == 'r' || kind == 's');
    QByteArray hex(SecretHexSize, Qt::Uninitialized);
    computeHex(kind, channelName, hex.data());
    return hex;
}

bool HookSecret::verify(char kind, QByteArrayView channelName, QByteArrayView presented) const
{
    Q_ASSERT(kind == 'h' || kind == 'r' || kind == 's');
    std::array<char, SecretHexSize> expected;
    computeHex(kind, channelName, expected.data());
    const bool equal = constantTimeEquals(QByteArrayView(expected.data(), SecretHexSize), presented);
    expected.fill(0);
    return equal;
}

bool HookSecret::constantTimeEquals(QByteArrayView expected, QByteArrayView presented) noexcept
{
    // The loop runs over `expected` whatever `presented` holds; a length difference only
    // decides which bytes are read, never when the loop ends.
    const bool sameSize = expected.size() == presented.size();
    const QByteArrayView other = sameSize ? presented : expected;
    unsigned char diff = sameSize ? 0 : 1;
    const qsizetype size = expected.size();
    for (qsizetype i = 0; i < size; ++i) {
        diff |= static_cast<unsigned char>(expected[i] ^ other[i]);
    }
    // Keep the compiler from turning the accumulation into an early exit.
    const volatile unsigned char result = diff;
    return result == 0;
}

QByteArray HookSecret::newUuidV4()
{
    quint32 words[4];
    QRandomGenerator::system()->fillRange(words);
    unsigned char bytes[16];
    for (int i = 0; i < 4; ++i) {
        bytes[4 * i] = static_cast<unsigned char>(words[i] >> 24);
        bytes[4 * i + 1] = static_cast<unsigned char>(words[i] >> 16);
        bytes[4 * i + 2] = static_cast<unsigned char>(words[i] >> 8);
        bytes[4 * i + 3] = static_cast<unsigned char>(words[i]);
    }
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40); // version 4
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80); // variant 10xx (RFC 4122)

    QByteArray uuid(36, Qt::Uninitialized);
    char *out = uuid.data();
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            *out++ = '-';
        }
        *out++ = HEX_DIGITS[bytes[i] >> 4];
        *out++ = HEX_DIGITS[bytes[i] & 0x0f];
    }
    return uuid;
}

QByteArrayView HookSecret::channelNameView(QByteArrayView path) noexcept
{
    for (const QByteArrayView prefix : MODE_PREFIXES) {
        if (path.startsWith(prefix)) {
            return path.sliced(prefix.size());
        }
    }
    return path;
}

QByteArray HookSecret::channelName(QByteArrayView path)
{
    return channelNameView(path).toByteArray();
}

} // namespace Patchwork
