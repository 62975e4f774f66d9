// SPDX-License-Identifier: MIT
#include "protocol/websocketcodec.h"

#include <cstring>

#include <QCryptographicHash>
#include <QtEndian>

namespace Patchwork::Server
{

namespace
{

constexpr qsizetype MAX_CONTROL_PAYLOAD = 125;
constexpr qsizetype MAX_CLOSE_REASON = 123;

bool isControl(WebSocketCodec::OpCode op)
{
    return (quint8(op) & 0x8) != 0;
}

bool isKnown(quint8 op)
{
    switch (op) {
    case 0x0:
    case 0x1:
    case 0x2:
    case 0x8:
    case 0x9:
    case 0xA:
        return true;
    default:
        return false;
    }
}

} // namespace

WebSocketCodec::WebSocketCodec(Role role)
    : m_role(role)
{
}

bool WebSocketCodec::inMessage() const
{
    return m_inMessage;
}

qsizetype WebSocketCodec::headerLength() const
{
    if (m_headLength < 2) {
        return 2;
    }
    qsizetype length = 2;
    const int len7 = m_head[1] & 0x7F;
    if (len7 == 126) {
        length += 2;
    } else if (len7 == 127) {
        length += 8;
    }
    if (m_head[1] & 0x80) {
        length += 4;
    }
    return length;
}

WebSocketCodec::Event WebSocketCodec::fail(quint16 code, QByteArrayView reason, qsizetype consumed)
{
    m_state = State::Failed;
    m_errorCode = code;
    m_errorReason = reason.toByteArray();
    Event e;
    e.kind = Event::Kind::Error;
    e.closeCode = code;
    e.payload = m_errorReason;
    e.consumed = consumed;
    return e;
}

WebSocketCodec::Event WebSocketCodec::decode(char *data, qsizetype size)
{
    qsizetype pos = 0;
    for (;;) {
        switch (m_state) {
        case State::Failed: {
            Event e;
            e.kind = Event::Kind::Error;
            e.closeCode = m_errorCode;
            e.payload = m_errorReason;
            e.consumed = size;
            return e;
        }
        case State::Header: {
            qsizetype need = headerLength();
            while (m_headLength < need && pos < size) {
                m_head[size_t(m_headLength++)] = uchar(data[pos++]);
                need = headerLength();
            }
            if (m_headLength < need) {
                Event e;
                e.consumed = pos;
                return e;
            }
            Event e = parseHeader(pos);
            if (e.kind != Event::Kind::NeedMore) {
                return e; // an error, or an empty control frame
            }
            break;
        }
        case State::Payload: {
            if (pos == size) {
                Event e;
                e.consumed = pos;
                return e;
            }
            const qsizetype n = qsizetype(qMin<qint64>(m_remaining, size - pos));
            if (m_masked) {
                applyMask(data + pos, n, m_mask, m_offset);
            }
            m_offset += n;
            m_remaining -= n;
            if (m_remaining == 0) {
                m_state = State::Header;
                if (m_final) {
                    m_inMessage = false;
                }
            }
            Event e;
            e.kind = Event::Kind::Data;
            e.payload = QByteArrayView(data + pos, n);
            e.consumed = pos + n;
            return e;
        }
        case State::Control: {
            const qsizetype n = qsizetype(qMin<qint64>(m_remaining, size - pos));
            if (n > 0) {
                const qsizetype old = m_control.size();
                m_control.append(data + pos, n);
                if (m_masked) {
                    applyMask(m_control.data() + old, n, m_mask, m_offset);
                }
                m_offset += n;
                m_remaining -= n;
                pos += n;
            }
            if (m_remaining > 0) {
                Event e;
                e.consumed = pos;
                return e;
            }
            m_state = State::Header;
            return controlEvent(pos);
        }
        }
    }
}

WebSocketCodec::Event WebSocketCodec::parseHeader(qsizetype consumed)
{
    const uchar b0 = m_head[0];
    const uchar b1 = m_head[1];
    m_headLength = 0;
    if (b0 & 0x70) {
        return fail(CloseProtocolError, "reserved bits set", consumed);
    }
    if (!isKnown(b0 & 0x0F)) {
        return fail(CloseProtocolError, "unknown opcode", consumed);
    }
    const auto op = OpCode(b0 & 0x0F);
    const bool final = (b0 & 0x80) != 0;
    const bool masked = (b1 & 0x80) != 0;
    if (m_role == Role::Server && !masked) {
        return fail(CloseProtocolError, "frame not masked", consumed);
    }
    if (m_role == Role::Client && masked) {
        return fail(CloseProtocolError, "masked frame from server", consumed);
    }
    qint64 length = b1 & 0x7F;
    qsizetype at = 2;
    if (length == 126) {
        length = qFromBigEndian<quint16>(m_head.data() + 2);
        at = 4;
    } else if (length == 127) {
        const quint64 big = qFromBigEndian<quint64>(m_head.data() + 2);
        if (big >> 63) {
            return fail(CloseProtocolError, "invalid frame length", consumed);
        }
        length = qint64(big);
        at = 10;
    }
    if (masked) {
        std::memcpy(m_mask.data(), m_head.data() + at, 4);
    }
    m_masked = masked;
    m_remaining = length;
    m_offset = 0;
    if (isControl(op)) {
        if (!final || length > MAX_CONTROL_PAYLOAD) {
            return fail(CloseProtocolError, "invalid control frame", consumed);
        }
        m_controlOp = op;
        m_control.clear();
        if (length == 0) {
            return controlEvent(consumed);
        }
        m_state = State::Control;
        return {};
    }
    if (op == OpCode::Continuation) {
        if (!m_inMessage) {
            return fail(CloseProtocolError, "continuation frame without a message", consumed);
        }
    } else if (m_inMessage) {
        return fail(CloseProtocolError, "new message inside a fragmented one", consumed);
    }
    m_final = final;
    m_inMessage = !final;
    if (length > 0) {
        m_state = State::Payload;
    }
    return {};
}

WebSocketCodec::Event WebSocketCodec::controlEvent(qsizetype consumed)
{
    Event e;
    e.consumed = consumed;
    if (m_controlOp == OpCode::Ping) {
        e.kind = Event::Kind::Ping;
        e.payload = m_control;
        return e;
    }
    if (m_controlOp == OpCode::Pong) {
        e.kind = Event::Kind::Pong;
        e.payload = m_control;
        return e;
    }
    // Close
    if (m_control.isEmpty()) {
        e.kind = Event::Kind::Close;
        e.closeCode = CloseNoStatus;
        return e;
    }
    if (m_control.size() == 1) {
        return fail(CloseProtocolError, "invalid close frame", consumed);
    }
    const quint16 code = qFromBigEndian<quint16>(m_control.constData());
    if (!isValidCloseCode(code)) {
        return fail(CloseProtocolError, "invalid close code", consumed);
    }
    e.kind = Event::Kind::Close;
    e.closeCode = code;
    e.payload = QByteArrayView(m_control).sliced(2);
    return e;
}

QByteArray WebSocketCodec::frameHeader(OpCode op, qint64 payloadSize, std::optional<MaskKey> mask)
{
    QByteArray head;
    head.reserve(14);
    head.append(char(0x80 | quint8(op)));
    const char maskBit = mask ? char(0x80) : char(0);
    if (payloadSize < 126) {
        head.append(char(maskBit | char(payloadSize)));
    } else if (payloadSize <= 0xFFFF) {
        head.append(char(maskBit | 126));
        char len[2];
        qToBigEndian<quint16>(quint16(payloadSize), len);
        head.append(len, 2);
    } else {
        head.append(char(maskBit | 127));
        char len[8];
        qToBigEndian<quint64>(quint64(payloadSize), len);
        head.append(len, 8);
    }
    if (mask) {
        head.append(mask->data(), 4);
    }
    return head;
}

QByteArray WebSocketCodec::frame(OpCode op, QByteArrayView payload, std::optional<MaskKey> mask)
{
    QByteArray out = frameHeader(op, payload.size(), mask);
    const qsizetype at = out.size();
    out.append(payload);
    if (mask) {
        applyMask(out.data() + at, payload.size(), *mask);
    }
    return out;
}

void WebSocketCodec::applyMask(char *data, qsizetype size, const MaskKey &mask, qint64 offset)
{
    // Eight key bytes aligned with data[0], so the bulk is XORed a word at a time.
    char key[8];
    for (int i = 0; i < 8; ++i) {
        key[i] = mask[size_t((offset + i) & 3)];
    }
    quint64 key64;
    std::memcpy(&key64, key, 8);
    qsizetype i = 0;
    for (; i + 8 <= size; i += 8) {
        quint64 v;
        std::memcpy(&v, data + i, 8);
        v ^= key64;
        std::memcpy(data + i, &v, 8);
    }
    for (; i < size; ++i) {
        data[i] = char(data[i] ^ key[i & 7]);
    }
}

QByteArray WebSocketCodec::closePayload(quint16 code, QByteArrayView reason)
{
    qsizetype cut = reason.size();
    if (cut > MAX_CLOSE_REASON) {
        cut = MAX_CLOSE_REASON;
        // Never split a UTF-8 sequence: step back over continuation bytes.
        while (cut > 0 && (uchar(reason[cut]) & 0xC0) == 0x80) {
            --cut;
        }
    }
    QByteArray payload(2, Qt::Uninitialized);
    qToBigEndian<quint16>(code, payload.data());
    payload.append(reason.first(cut));
    return payload;
}

bool WebSocketCodec::isValidCloseCode(quint16 code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

QByteArray WebSocketCodec::acceptKey(QByteArrayView key)
{
    QCryptographicHash sha1(QCryptographicHash::Sha1);
    sha1.addData(key.trimmed());
    sha1.addData(QByteArrayView("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
    return sha1.result().toBase64();
}

bool WebSocketCodec::isValidKey(QByteArrayView key)
{
    const QByteArrayView k = key.trimmed();
    if (k.size() != 24) {
        return false;
    }
    const auto decoded = QByteArray::fromBase64Encoding(k.toByteArray(), QByteArray::AbortOnBase64DecodingErrors);
    return decoded.decodingStatus == QByteArray::Base64DecodingStatus::Ok && decoded.decoded.size() == 16;
}

} // namespace Patchwork::Server
