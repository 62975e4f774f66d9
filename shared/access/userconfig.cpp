// SPDX-License-Identifier: MIT
#include "access/userconfig.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <QCryptographicHash>
#include <QRegularExpression>

#include <yaml-cpp/yaml.h>

using namespace Qt::StringLiterals;

namespace Patchwork
{

namespace
{

constexpr std::string_view KEY_TOKENS = "tokens";
constexpr std::string_view KEY_NTFY = "ntfy";
constexpr std::string_view KEY_TYPE = "type";
constexpr std::string_view KEY_CONFIG = "config";
constexpr std::string_view KEY_IS_ADMIN = "is_admin";
constexpr std::string_view KEY_EXPIRES_AT = "expires_at";
constexpr QStringView HASH_PREFIX = u"sha256:";
constexpr qsizetype SHA256_HEX_LENGTH = 64;
// Bounds the conversion of `ntfy.config` (aliases can make a small file expand enormously).
constexpr int MAX_NTFY_NODES = 10000;
// Bounds of a whole document as the reader sees it, aliases expanded (see docs/DECISIONS.md
// "Hardening: resource limits"): a 95 KB file of aliases to one large list would otherwise expand to
// millions of patterns. The node count is checked before anything is converted.
constexpr qint64 MAX_CONFIG_NODES = 200'000;
constexpr int MAX_CONFIG_DEPTH = 64;
constexpr qsizetype MAX_PATTERNS_PER_TOKEN = 10'000;
constexpr qsizetype MAX_PATTERNS_PER_FILE = 100'000;
// yaml-cpp marks non-plain (quoted, literal, folded) scalars with the non-specific tag "!".
constexpr std::string_view QUOTED_TAG = "!";
constexpr std::string_view YAML_TAG_PREFIX = "tag:yaml.org,2002:";

std::string_view aclListKeyView(AclList list)
{
    switch (list) {
    case AclList::Get:
        return "GET";
    case AclList::Post:
        return "POST";
    case AclList::Put:
        return "PUT";
    case AclList::Delete:
        return "DELETE";
    case AclList::Patch:
        return "PATCH";
    case AclList::Huproxy:
        return "huproxy";
    }
    return {};
}

struct StringHash
{
    using is_transparent = void;
    size_t operator()(std::string_view s) const
    {
        return std::hash<std::string_view>{}(s);
    }
};
using StringIndex = std::unordered_map<std::string, qsizetype, StringHash, std::equal_to<>>;

QString toQString(const std::string &s)
{
    return QString::fromUtf8(s.data(), qsizetype(s.size()));
}

std::string toStd(const QString &s)
{
    return s.toStdString();
}

// The value of `key` in `map`, or an undefined node. (operator[] is no good here: the non-const one
// inserts a placeholder pair, the const one returns an "invalid" node that throws when inspected.)
YAML::Node findValue(const YAML::Node &map, const std::string &key)
{
    if (map.IsMap()) {
        for (const auto &kv : map) {
            if (kv.first.IsScalar() && kv.first.Scalar() == key) {
                return kv.second;
            }
        }
    }
    return YAML::Node(YAML::NodeType::Undefined);
}

bool hasKey(const YAML::Node &map, const std::string &key)
{
    return findValue(map, key).IsDefined();
}

bool isPlainScalar(const YAML::Node &node)
{
    return node.IsScalar() && node.Tag() != QUOTED_TAG;
}

YAML::Node quotedScalar(const QString &text)
{
    YAML::Node node(toStd(text));
    node.SetTag(std::string(QUOTED_TAG));
    return node;
}

// The raw SHA-256 digest named by a `sha256:<hex>` key, or an empty array for a malformed one.
QByteArray digestFromHashedKey(QStringView key)
{
    const QStringView hex = key.sliced(HASH_PREFIX.size());
    if (hex.size() != SHA256_HEX_LENGTH) {
        return {};
    }
    for (const QChar c : hex) {
        if (!((c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f') || (c >= u'A' && c <= u'F'))) {
            return {};
        }
    }
    return QByteArray::fromHex(hex.toLatin1());
}

// YAML 1.1 timestamps (what Go's yaml decoder accepts for time.Time): a date, optionally a time
// (`T`, `t` or spaces between), optional fraction, optional zone (`Z`, `±HH`, `±HH:MM`, `±HHMM`). No
// zone means UTC.
std::optional<QDateTime> parseTimestamp(const QString &text)
{
    static const QRegularExpression re(QStringLiteral(R"(^(\d{4})-(\d{1,2})-(\d{1,2}))"
                                                      R"((?:(?:[Tt]|[ \t]+)(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d*))?)"
                                                      R"((?:[ \t]*(Z|[-+]\d{1,2}(?::?\d{2})?))?)?$)"));
    const QRegularExpressionMatch m = re.match(text);
    if (!m.hasMatch()) {
        return std::nullopt;
    }
    const QDate date(m.capturedView(1).toInt(), m.capturedView(2).toInt(), m.capturedView(3).toInt());
    if (!date.isValid()) {
        return std::nullopt;
    }
    QTime time(0, 0);
    if (m.hasCaptured(4)) {
        int ms = 0;
        const QStringView fraction = m.capturedView(7);
        for (qsizetype i = 0; i < 3; ++i) {
            ms = ms * 10 + (i < fraction.size() ? fraction[i].unicode() - u'0' : 0);
        }
        time = QTime(m.capturedView(4).toInt(), m.capturedView(5).toInt(), m.capturedView(6).toInt(), ms);
        if (!time.isValid()) {
            return std::nullopt;
        }
    }
    QDateTime result(date, time, Qt::UTC);
    const QStringView zone = m.capturedView(8);
    if (!zone.isEmpty() && zone != u"Z") {
        const int sign = zone[0] == u'-' ? -1 : 1;
        QString digits = zone.sliced(1).toString();
        digits.remove(u':');
        int hours = 0;
        int minutes = 0;
        if (digits.size() <= 2) {
            hours = digits.toInt();
        } else {
            hours = QStringView(digits).first(digits.size() - 2).toInt();
            minutes = QStringView(digits).last(2).toInt();
        }
        if (hours > 23 || minutes > 59) {
            return std::nullopt;
        }
        result = result.addSecs(-sign * (hours * 3600 + minutes * 60));
    }
    return result;
}

QString formatTimestamp(const QDateTime &dt)
{
    const QDateTime utc = dt.toUTC();
    return utc.toString(utc.time().msec() != 0 ? Qt::ISODateWithMs : Qt::ISODate);
}

// Converts a YAML value of the ntfy block into QString / QVariantMap / QVariantList.
bool toVariant(const YAML::Node &node, QVariant &out, int &budget)
{
    if (--budget < 0) {
        return false;
    }
    switch (node.Type()) {
    case YAML::NodeType::Scalar:
        out = toQString(node.Scalar());
        return true;
    case YAML::NodeType::Sequence: {
        QVariantList list;
        for (const YAML::Node &item : node) {
            QVariant v;
            if (!toVariant(item, v, budget)) {
                return false;
            }
            list.append(v);
        }
        out = list;
        return true;
    }
    case YAML::NodeType::Map: {
        QVariantMap map;
        for (const auto &kv : node) {
            QVariant v;
            if (!toVariant(kv.second, v, budget)) {
                return false;
            }
            map.insert(toQString(kv.first.as<std::string>(std::string())), v);
        }
        out = map;
        return true;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
        out = QString();
        return true;
    }
    return true;
}

YAML::Node fromVariant(const QVariant &value)
{
    switch (value.typeId()) {
    case QMetaType::QVariantMap: {
        YAML::Node map(YAML::NodeType::Map);
        const QVariantMap m = value.toMap();
        for (auto it = m.cbegin(); it != m.cend(); ++it) {
            map.force_insert(quotedScalar(it.key()), fromVariant(it.value()));
        }
        return map;
    }
    case QMetaType::QVariantList:
    case QMetaType::QStringList: {
        YAML::Node seq(YAML::NodeType::Sequence);
        const QVariantList l = value.toList();
        for (const QVariant &item : l) {
            seq.push_back(fromVariant(item));
        }
        return seq;
    }
    case QMetaType::Bool:
        return YAML::Node(value.toBool());
    case QMetaType::Int:
    case QMetaType::LongLong:
    case QMetaType::UInt:
    case QMetaType::ULongLong:
    case QMetaType::Double:
        return YAML::Node(value.toString().toStdString());
    default:
        if (!value.isValid() || value.isNull()) {
            return YAML::Node(YAML::NodeType::Null);
        }
        return quotedScalar(value.toString());
    }
}

// A map key YAML can only write as an explicit `? key` (an implicit key is one line of at most 1024
// characters): a collection, or a long scalar.
bool needsExplicitKey(const YAML::Node &key)
{
    constexpr size_t MAX_IMPLICIT_KEY = 1000;
    return !key.IsScalar() || key.Scalar().size() > MAX_IMPLICIT_KEY || key.Scalar().find('\n') != std::string::npos;
}

// Whether a map inside `node` (or `node` itself) has a key that must be explicit.
bool hasExplicitKeyBelow(const YAML::Node &node)
{
    if (node.IsSequence()) {
        return std::any_of(node.begin(), node.end(), [](const YAML::Node &item) { return hasExplicitKeyBelow(item); });
    }
    if (node.IsMap()) {
        return std::any_of(node.begin(), node.end(), [](const auto &kv) {
            return needsExplicitKey(kv.first) || hasExplicitKeyBelow(kv.first) || hasExplicitKeyBelow(kv.second);
        });
    }
    return false;
}

// The (1-based) line of the first byte that is not printable UTF-8 text (YAML's c-printable set, here as
// valid UTF-8 without C0 controls other than tab, LF and CR, and without DEL), or std::nullopt.
std::optional<qsizetype> firstLineNotText(QByteArrayView yaml)
{
    const auto isForbidden = [](char c) {
        return (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f;
    };
    qsizetype line = 1;
    for (qsizetype start = 0; start <= yaml.size(); ++line) {
        qsizetype end = yaml.indexOf('\n', start);
        if (end < 0) {
            end = yaml.size();
        }
        const QByteArrayView text = yaml.sliced(start, end - start);
        if (!text.isValidUtf8() || std::any_of(text.begin(), text.end(), isForbidden)) {
            return line;
        }
        start = end + 1;
    }
    return std::nullopt;
}

// How collections are written: in their own style, or all in block style. yaml-cpp writes an explicit key
// in flow style as `?[`, which no reader accepts, and once it has written one it keeps writing `?` before
// the keys that follow, also in flow collections; so a document with an explicit key is written in block
// style throughout.
enum class EmitStyle
{
    AsParsed,
    Block,
};

// yaml-cpp's own emitter forgets that a scalar was quoted ("true" would be written back as the bool
// true), so the document is written by walking it.
void emitNode(YAML::Emitter &out, const YAML::Node &node, EmitStyle style = EmitStyle::AsParsed)
{
    switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
        out << YAML::Null;
        return;
    case YAML::NodeType::Scalar: {
        const std::string &tag = node.Tag();
        // yaml-cpp reads a lone `!` at the end of the input as the tag `tag:yaml.org,2002:`, which it would
        // write as `!!` with no suffix: that is a non-specific tag too.
        if (tag == QUOTED_TAG || tag == YAML_TAG_PREFIX) {
            out << YAML::DoubleQuoted << node.Scalar();
        } else if (tag.empty() || tag == "?") {
            out << node.Scalar();
        } else if (tag.rfind(YAML_TAG_PREFIX, 0) == 0) {
            out << YAML::SecondaryTag(tag.substr(YAML_TAG_PREFIX.size())) << node.Scalar();
        } else {
            out << YAML::VerbatimTag(tag) << node.Scalar();
        }
        return;
    }
    case YAML::NodeType::Sequence: {
        const bool flow = style == EmitStyle::AsParsed && node.Style() == YAML::EmitterStyle::Flow;
        out << (flow ? YAML::Flow : YAML::Block) << YAML::BeginSeq;
        for (const YAML::Node &item : node) {
            emitNode(out, item, style);
        }
        out << YAML::EndSeq;
        return;
    }
    case YAML::NodeType::Map: {
        const bool flow = style == EmitStyle::AsParsed && node.Style() == YAML::EmitterStyle::Flow;
        out << (flow ? YAML::Flow : YAML::Block) << YAML::BeginMap;
        for (const auto &kv : node) {
            if (needsExplicitKey(kv.first)) {
                out << YAML::LongKey;
            }
            out << YAML::Key;
            emitNode(out, kv.first, style);
            out << YAML::Value;
            emitNode(out, kv.second, style);
        }
        out << YAML::EndMap;
        return;
    }
    }
}

} // namespace

QString aclListKey(AclList list)
{
    const std::string_view key = aclListKeyView(list);
    return QString::fromLatin1(key.data(), qsizetype(key.size()));
}

struct TokenSlot
{
    QString key;
    TokenEntry entry;
};

// Equal bytes, in a time that depends on the lengths only.
static bool sameBytes(QByteArrayView a, QByteArrayView b)
{
    if (a.size() != b.size()) {
        return false;
    }
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    }
    return diff == 0;
}

class UserConfigPrivate
{
public:
    YAML::Node root{YAML::NodeType::Map};
    QString fileName;
    QList<TokenSlot> tokens;
    StringIndex literal; // token bytes => index in tokens
    StringIndex hashed; // raw SHA-256 digest => index in tokens
    QString ntfyType;
    QVariantMap ntfyConfig;
    // The last token found through a hashed key, so that a client repeating its token (the usual
    // case) does not pay a SHA-256 per request. Compared in constant time.
    mutable QByteArray lastHashedToken;
    mutable qsizetype lastHashedIndex = -1;

    // Rebuilds the lookup tables; fails (naming the index of the offending key) on a malformed
    // hashed key or two keys that name the same token.
    bool rebuildIndex(qsizetype *badIndex, QString *reason);
};

bool UserConfigPrivate::rebuildIndex(qsizetype *badIndex, QString *reason)
{
    literal.clear();
    hashed.clear();
    lastHashedToken.clear();
    lastHashedIndex = -1;
    std::unordered_set<std::string> digests;
    for (qsizetype i = 0; i < tokens.size(); ++i) {
        const QString &key = tokens.at(i).key;
        auto fail = [&](const QString &why) {
            *badIndex = i;
            *reason = why;
            return false;
        };
        if (key.isEmpty()) {
            return fail(UserConfig::tr("a token key must not be empty"));
        }
        // A token travels in an Authorization header or a query: visible ASCII only. This also keeps a
        // saved file byte for byte what was loaded (no control characters or invalid UTF-8 to re-encode).
        if (!std::all_of(key.cbegin(), key.cend(), [](QChar c) { return c.unicode() > 0x20 && c.unicode() < 0x7f; })) {
            return fail(UserConfig::tr("a token key must be printable ASCII without spaces"));
        }
        QByteArray digest;
        if (key.startsWith(HASH_PREFIX)) {
            digest = digestFromHashedKey(key);
            if (digest.isEmpty()) {
                return fail(UserConfig::tr("a \"sha256:\" token key needs exactly 64 hexadecimal digits"));
            }
            hashed.emplace(digest.toStdString(), i);
        } else {
            const QByteArray token = key.toUtf8();
            literal.emplace(token.toStdString(), i);
            digest = QCryptographicHash::hash(token, QCryptographicHash::Sha256);
        }
        if (!digests.insert(digest.toStdString()).second) {
            return fail(UserConfig::tr("the same token is listed twice"));
        }
    }
    return true;
}

namespace
{

// Reads a document into a UserConfigPrivate, stopping at the first error.
class ConfigReader
{
public:
    ConfigReader(UserConfigPrivate &d, const QString &fileName)
        : m_d(d)
        , m_fileName(fileName)
    {
    }

    bool read(const YAML::Node &root);
    QString error() const
    {
        return m_error;
    }

private:
    bool fail(const YAML::Mark &mark, const QString &message);
    bool checkUniqueKeys(const YAML::Node &map);
    bool readTokens(const YAML::Node &key, const YAML::Node &value);
    bool readEntry(const YAML::Node &key, const YAML::Node &value, TokenEntry &entry);
    bool readList(const YAML::Node &key, AclList which, const YAML::Node &value, std::optional<PatternList> &list);
    bool readNtfy(const YAML::Node &key, const YAML::Node &value);
    // Walks the tree with aliases expanded, stopping at MAX_CONFIG_NODES nodes or MAX_CONFIG_DEPTH.
    bool checkSize(const YAML::Node &node, int depth);

    UserConfigPrivate &m_d;
    QString m_fileName;
    QString m_error;
    qint64 m_nodeBudget = MAX_CONFIG_NODES;
    qsizetype m_tokenPatterns = 0;
    qsizetype m_filePatterns = 0;
};

bool ConfigReader::fail(const YAML::Mark &mark, const QString &message)
{
    if (mark.is_null() || mark.line < 0) {
        m_error = m_fileName + u": "_s + message;
    } else {
        m_error = m_fileName + u':' + QString::number(mark.line + 1) + u": "_s + message;
    }
    return false;
}

bool ConfigReader::checkUniqueKeys(const YAML::Node &map)
{
    std::unordered_set<std::string> seen;
    for (const auto &kv : map) {
        // Keys are names (kept as they are when an unknown one is saved again): a string of text.
        if (!kv.first.IsScalar()) {
            return fail(kv.first.Mark(), UserConfig::tr("a key must be a string"));
        }
        const std::string &key = kv.first.Scalar();
        if (std::any_of(key.cbegin(), key.cend(), [](char c) { return (c >= 0 && c < 0x20) || c == 0x7f; })) {
            return fail(kv.first.Mark(), UserConfig::tr("a key must not contain control characters"));
        }
        if (!seen.insert(key).second) {
            return fail(kv.first.Mark(),
                        UserConfig::tr("duplicate key \"%1\"").arg(toQString(kv.first.Scalar()).left(64)));
        }
    }
    return true;
}

bool ConfigReader::checkSize(const YAML::Node &node, int depth)
{
    if (--m_nodeBudget < 0) {
        return fail(node.Mark(),
                    UserConfig::tr("the configuration is too large: more than %1 values with aliases expanded")
                        .arg(MAX_CONFIG_NODES));
    }
    if (depth > MAX_CONFIG_DEPTH) {
        return fail(node.Mark(),
                    UserConfig::tr("the configuration is nested more than %1 levels deep").arg(MAX_CONFIG_DEPTH));
    }
    if (node.IsSequence()) {
        for (const YAML::Node &item : node) {
            if (!checkSize(item, depth + 1)) {
                return false;
            }
        }
    } else if (node.IsMap()) {
        for (const auto &kv : node) {
            if (!checkSize(kv.first, depth + 1) || !checkSize(kv.second, depth + 1)) {
                return false;
            }
        }
    }
    return true;
}

bool ConfigReader::read(const YAML::Node &root)
{
    if (root.IsNull()) {
        return true; // an empty file is an empty config
    }
    if (!checkSize(root, 0)) {
        return false;
    }
    if (!root.IsMap()) {
        return fail(root.Mark(), UserConfig::tr("the configuration must be a map (with a \"tokens\" key)"));
    }
    if (!checkUniqueKeys(root)) {
        return false;
    }
    for (const auto &kv : root) {
        if (!kv.first.IsScalar()) {
            continue; // unknown (complex) key: kept and ignored
        }
        const std::string &name = kv.first.Scalar();
        if (name == KEY_TOKENS) {
            if (!readTokens(kv.first, kv.second)) {
                return false;
            }
        } else if (name == KEY_NTFY) {
            if (!readNtfy(kv.first, kv.second)) {
                return false;
            }
        }
    }
    return true;
}

bool ConfigReader::readTokens(const YAML::Node &key, const YAML::Node &value)
{
    if (value.IsNull()) {
        return true;
    }
    if (!value.IsMap()) {
        return fail(key.Mark(), UserConfig::tr("tokens must be a map from token to its permissions"));
    }
    QList<YAML::Mark> marks;
    for (const auto &kv : value) {
        // Never name the key in a message: it may be a secret token.
        if (!kv.first.IsScalar()) {
            return fail(kv.first.Mark(), UserConfig::tr("a token key must be a string"));
        }
        TokenSlot slot;
        slot.key = toQString(kv.first.Scalar());
        if (!readEntry(kv.first, kv.second, slot.entry)) {
            return false;
        }
        m_d.tokens.append(std::move(slot));
        marks.append(kv.first.Mark());
    }
    qsizetype badIndex = -1;
    QString reason;
    if (!m_d.rebuildIndex(&badIndex, &reason)) {
        return fail(marks.value(badIndex), reason);
    }
    return true;
}

bool ConfigReader::readEntry(const YAML::Node &key, const YAML::Node &value, TokenEntry &entry)
{
    if (value.IsNull()) {
        return true; // a token without permissions
    }
    if (!value.IsMap()) {
        return fail(key.Mark(), UserConfig::tr("a token entry must be a map (is_admin, GET, POST, …)"));
    }
    if (!checkUniqueKeys(value)) {
        return false;
    }
    m_tokenPatterns = 0;
    for (const auto &kv : value) {
        if (!kv.first.IsScalar()) {
            continue;
        }
        const std::string &name = kv.first.Scalar();
        if (name == KEY_IS_ADMIN) {
            bool admin = false;
            if (kv.second.IsNull()) {
                admin = false;
            } else if (!isPlainScalar(kv.second) || !YAML::convert<bool>::decode(kv.second, admin)) {
                return fail(kv.first.Mark(), UserConfig::tr("is_admin must be true or false (unquoted)"));
            }
            entry.isAdmin = admin;
        } else if (name == KEY_EXPIRES_AT) {
            if (kv.second.IsNull()) {
                entry.expiresAt.reset();
                continue;
            }
            std::optional<QDateTime> when;
            if (kv.second.IsScalar()) {
                when = parseTimestamp(toQString(kv.second.Scalar()));
            }
            if (!when) {
                return fail(kv.first.Mark(),
                            UserConfig::tr("expires_at must be a timestamp such as 2026-12-31T23:59:59Z"));
            }
            entry.expiresAt = when;
        } else {
            for (AclList list : ALL_ACL_LISTS) {
                if (name == aclListKeyView(list)) {
                    if (!readList(kv.first, list, kv.second, entry.list(list))) {
                        return false;
                    }
                    break;
                }
            }
        }
    }
    return true;
}

bool ConfigReader::readList(const YAML::Node &key,
                            AclList which,
                            const YAML::Node &value,
                            std::optional<PatternList> &list)
{
    const QString name = toQString(key.Scalar());
    if (value.IsNull()) {
        list.reset(); // `GET:` with nothing is the same as absent
        return true;
    }
    if (!value.IsSequence()) {
        return fail(key.Mark(), UserConfig::tr("%1 must be a list of strings").arg(name));
    }
    m_tokenPatterns += qsizetype(value.size());
    m_filePatterns += qsizetype(value.size());
    if (m_tokenPatterns > MAX_PATTERNS_PER_TOKEN) {
        return fail(key.Mark(), UserConfig::tr("more than %1 patterns for one token").arg(MAX_PATTERNS_PER_TOKEN));
    }
    if (m_filePatterns > MAX_PATTERNS_PER_FILE) {
        return fail(key.Mark(), UserConfig::tr("more than %1 patterns in the file").arg(MAX_PATTERNS_PER_FILE));
    }
    PatternList patterns;
    for (const YAML::Node &item : value) {
        if (!item.IsScalar() && !item.IsNull()) {
            return fail(item.Mark().is_null() ? key.Mark() : item.Mark(),
                        UserConfig::tr("%1 must be a list of strings").arg(name));
        }
        QString message;
        const QString text = item.IsNull() ? QString() : toQString(item.Scalar());
        const auto pattern = UserConfig::parsePattern(which, text, &message);
        if (!pattern) {
            return fail(item.Mark().is_null() ? key.Mark() : item.Mark(), message);
        }
        patterns.append(*pattern);
    }
    list = std::move(patterns);
    return true;
}

bool ConfigReader::readNtfy(const YAML::Node &key, const YAML::Node &value)
{
    if (value.IsNull()) {
        return true;
    }
    if (!value.IsMap()) {
        return fail(key.Mark(), UserConfig::tr("ntfy must be a map with \"type\" and \"config\""));
    }
    if (!checkUniqueKeys(value)) {
        return false;
    }
    for (const auto &kv : value) {
        if (!kv.first.IsScalar()) {
            continue;
        }
        if (kv.first.Scalar() == KEY_TYPE) {
            if (kv.second.IsNull()) {
                continue;
            }
            if (!kv.second.IsScalar()) {
                return fail(kv.first.Mark(), UserConfig::tr("ntfy.type must be a string"));
            }
            m_d.ntfyType = toQString(kv.second.Scalar());
        } else if (kv.first.Scalar() == KEY_CONFIG) {
            if (kv.second.IsNull()) {
                continue;
            }
            if (!kv.second.IsMap()) {
                return fail(kv.first.Mark(), UserConfig::tr("ntfy.config must be a map"));
            }
            int budget = MAX_NTFY_NODES;
            QVariant converted;
            if (!toVariant(kv.second, converted, budget)) {
                return fail(kv.first.Mark(), UserConfig::tr("ntfy.config is too large"));
            }
            m_d.ntfyConfig = converted.toMap();
        }
    }
    return true;
}

} // namespace

UserConfig::UserConfig()
    : d(std::make_unique<UserConfigPrivate>())
{
}

UserConfig::UserConfig(const UserConfig &other)
    : d(std::make_unique<UserConfigPrivate>(*other.d))
{
    // The copied YAML::Node still refers to the other document; re-point it (reset(), not
    // operator=, which would write through to the shared node) at a deep copy.
    d->root.reset(YAML::Clone(other.d->root));
}

UserConfig &UserConfig::operator=(const UserConfig &other)
{
    if (this != &other) {
        auto copy = std::make_unique<UserConfigPrivate>(*other.d);
        copy->root.reset(YAML::Clone(other.d->root));
        d = std::move(copy);
    }
    return *this;
}

UserConfig::~UserConfig() = default;

std::shared_ptr<UserConfig> UserConfig::parse(const QByteArray &yaml, const QString &fileName, QString *errorMessage)
{
    auto config = std::make_shared<UserConfig>();
    config->d->fileName = fileName;
    // YAML is printable UTF-8 text (YAML 1.2 §5.1: no control characters but tab and line breaks). yaml-cpp
    // does not check: bytes that are not UTF-8 would reach patterns and keys as replacement characters, and
    // it reads a NUL into a key as a lone 0xA0 byte, so such a file would not mean what it says or save back
    // the same.
    if (const std::optional<qsizetype> line = firstLineNotText(yaml)) {
        if (errorMessage) {
            *errorMessage = fileName + u':' + QString::number(*line) + u": "_s
                            + tr("the file is not text: invalid UTF-8 or a control character");
        }
        return nullptr;
    }
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml.constData(), size_t(yaml.size())));
        ConfigReader reader(*config->d, fileName);
        if (!reader.read(root)) {
            if (errorMessage) {
                *errorMessage = reader.error();
            }
            return nullptr;
        }
    } catch (const YAML::Exception &e) {
        if (errorMessage) {
            const QString what = toQString(e.msg);
            *errorMessage = e.mark.is_null() || e.mark.line < 0
                                ? QString(fileName + u": "_s + what)
                                : QString(fileName + u':' + QString::number(e.mark.line + 1) + u": "_s + what);
        }
        return nullptr;
    }
    if (root.IsMap()) {
        config->d->root.reset(root);
    }
    return config;
}

QString UserConfig::fileName() const
{
    return d->fileName;
}

const TokenEntry *UserConfig::findToken(QByteArrayView token) const
{
    if (token.isEmpty()) {
        return nullptr;
    }
    const std::string_view view(token.data(), size_t(token.size()));
    if (const auto it = d->literal.find(view); it != d->literal.end()) {
        return &d->tokens.at(it->second).entry;
    }
    if (d->hashed.empty()) {
        return nullptr;
    }
    if (d->lastHashedIndex >= 0 && sameBytes(d->lastHashedToken, token)) {
        return &d->tokens.at(d->lastHashedIndex).entry;
    }
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(token);
    const QByteArrayView digest = hash.resultView();
    if (const auto it = d->hashed.find(std::string_view(digest.data(), size_t(digest.size()))); it != d->hashed.end()) {
        d->lastHashedToken = token.toByteArray();
        d->lastHashedIndex = qsizetype(it->second);
        return &d->tokens.at(it->second).entry;
    }
    return nullptr;
}

QStringList UserConfig::tokenKeys() const
{
    QStringList keys;
    keys.reserve(d->tokens.size());
    for (const TokenSlot &slot : std::as_const(d->tokens)) {
        keys.append(slot.key);
    }
    return keys;
}

qsizetype UserConfig::tokenCount() const
{
    return d->tokens.size();
}

const TokenEntry *UserConfig::tokenEntry(const QString &key) const
{
    for (const TokenSlot &slot : std::as_const(d->tokens)) {
        if (slot.key == key) {
            return &slot.entry;
        }
    }
    return nullptr;
}

bool UserConfig::setToken(const QString &key, const TokenEntry &entry, QString *errorMessage)
{
    // Validate against the other keys first, on a copy, so a failure changes nothing.
    QList<TokenSlot> tokens = d->tokens;
    qsizetype index = -1;
    for (qsizetype i = 0; i < tokens.size(); ++i) {
        if (tokens.at(i).key == key) {
            index = i;
            break;
        }
    }
    if (index < 0) {
        tokens.append(TokenSlot{key, entry});
    } else {
        tokens[index].entry = entry;
    }
    std::swap(tokens, d->tokens);
    qsizetype badIndex = -1;
    QString reason;
    if (!d->rebuildIndex(&badIndex, &reason)) {
        std::swap(tokens, d->tokens);
        qsizetype ignored = -1;
        QString ignoredReason;
        d->rebuildIndex(&ignored, &ignoredReason);
        if (errorMessage) {
            *errorMessage = reason;
        }
        return false;
    }

    // The YAML side: rebuild the tokens map in order, replacing (a copy of) this token's node so
    // that aliases shared with other entries are not changed behind their back.
    const std::string stdKey = toStd(key);
    const YAML::Node oldTokens = findValue(d->root, std::string(KEY_TOKENS));
    YAML::Node newTokens(YAML::NodeType::Map);
    YAML::Node entryNode;
    bool found = false;
    if (oldTokens.IsMap()) {
        for (const auto &kv : oldTokens) {
            if (!found && kv.first.IsScalar() && kv.first.Scalar() == stdKey) {
                found = true;
                entryNode = kv.second.IsMap() ? YAML::Clone(kv.second) : YAML::Node(YAML::NodeType::Map);
                newTokens.force_insert(kv.first, entryNode);
            } else {
                newTokens.force_insert(kv.first, kv.second);
            }
        }
    }
    if (!found) {
        entryNode = YAML::Node(YAML::NodeType::Map);
        newTokens.force_insert(quotedScalar(key), entryNode);
    }

    if (entry.isAdmin || hasKey(entryNode, std::string(KEY_IS_ADMIN))) {
        entryNode[std::string(KEY_IS_ADMIN)] = entry.isAdmin;
    }
    for (AclList list : ALL_ACL_LISTS) {
        const std::string name(aclListKeyView(list));
        const std::optional<PatternList> &patterns = entry.list(list);
        if (!patterns) {
            entryNode.remove(name);
            continue;
        }
        YAML::Node seq(YAML::NodeType::Sequence);
        // A list written as a block stays a block; new lists are written in flow style.
        const YAML::Node old = findValue(entryNode, name);
        seq.SetStyle(old.IsSequence() ? old.Style() : YAML::EmitterStyle::Flow);
        for (const Pattern &p : patterns->patterns()) {
            seq.push_back(quotedScalar(p.text()));
        }
        entryNode[name] = seq;
    }
    if (entry.expiresAt) {
        entryNode[std::string(KEY_EXPIRES_AT)] = toStd(formatTimestamp(*entry.expiresAt));
    } else {
        entryNode.remove(std::string(KEY_EXPIRES_AT));
    }
    d->root[std::string(KEY_TOKENS)] = newTokens;
    return true;
}

bool UserConfig::removeToken(const QString &key)
{
    qsizetype index = -1;
    for (qsizetype i = 0; i < d->tokens.size(); ++i) {
        if (d->tokens.at(i).key == key) {
            index = i;
            break;
        }
    }
    if (index < 0) {
        return false;
    }
    d->tokens.removeAt(index);
    qsizetype ignored = -1;
    QString ignoredReason;
    d->rebuildIndex(&ignored, &ignoredReason);

    const std::string stdKey = toStd(key);
    const YAML::Node oldTokens = findValue(d->root, std::string(KEY_TOKENS));
    YAML::Node newTokens(YAML::NodeType::Map);
    if (oldTokens.IsMap()) {
        for (const auto &kv : oldTokens) {
            if (kv.first.IsScalar() && kv.first.Scalar() == stdKey) {
                continue;
            }
            newTokens.force_insert(kv.first, kv.second);
        }
    }
    d->root[std::string(KEY_TOKENS)] = newTokens;
    return true;
}

QString UserConfig::ntfyType() const
{
    return d->ntfyType;
}

QVariantMap UserConfig::ntfyConfig() const
{
    return d->ntfyConfig;
}

void UserConfig::setNtfy(const QString &type, const QVariantMap &config)
{
    const std::string ntfyKey(KEY_NTFY);
    if (type.isEmpty()) {
        d->root.remove(ntfyKey);
        d->ntfyType.clear();
        d->ntfyConfig.clear();
        return;
    }
    const YAML::Node old = findValue(d->root, ntfyKey);
    YAML::Node block = old.IsMap() ? YAML::Clone(old) : YAML::Node(YAML::NodeType::Map);
    block[std::string(KEY_TYPE)] = quotedScalar(type);
    block[std::string(KEY_CONFIG)] = fromVariant(config);
    d->root[ntfyKey] = block;
    d->ntfyType = type;
    // Store what a re-read would give (every scalar as a string).
    int budget = MAX_NTFY_NODES;
    QVariant converted;
    toVariant(block[std::string(KEY_CONFIG)], converted, budget);
    d->ntfyConfig = converted.toMap();
}

QByteArray UserConfig::toYaml() const
{
    YAML::Emitter out;
    out.SetIndent(2);
    emitNode(out, d->root, hasExplicitKeyBelow(d->root) ? EmitStyle::Block : EmitStyle::AsParsed);
    QByteArray yaml(out.c_str(), qsizetype(out.size()));
    if (!yaml.endsWith('\n')) {
        yaml.append('\n');
    }
    return yaml;
}

std::optional<Pattern> UserConfig::parsePattern(AclList list, const QString &text, QString *errorMessage)
{
    QString reason;
    auto pattern = Pattern::parse(text, &reason);
    if (!pattern && errorMessage) {
        *errorMessage = tr("%1: invalid pattern: %2").arg(aclListKey(list), reason);
    }
    return pattern;
}

bool UserConfig::isHashedKey(QStringView key)
{
    return key.startsWith(HASH_PREFIX) && !digestFromHashedKey(key).isEmpty();
}

QString UserConfig::hashedKey(QByteArrayView token)
{
    return HASH_PREFIX.toString()
           + QString::fromLatin1(QCryptographicHash::hash(token, QCryptographicHash::Sha256).toHex());
}

} // namespace Patchwork
