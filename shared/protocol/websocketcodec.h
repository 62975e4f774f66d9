// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <optional>

#include <QByteArray>
#include <QByteArrayView>

namespace Patchwork::Server
{

// RFC 6455 framing for the tunnel (PROTOCOL §11), used by both ends: the server side of
// `/huproxy/...` and the `patchworkd tunnel` client.
//
// Why not QtWebSockets: Qt 6.4's QWebSocket reads everything its socket has buffered on every
// readyRead, assembles whole messages in memory, offers no way to stop reading (its pauseMode() is
// for TLS errors only), and its frame reader closes the connection with 1001 when a frame stays
// incomplete for 5 s; so a tunnel could neither hold back a fast client while the target is slow,
// nor pause for longer than 5 s. This decoder instead works on whatever bytes the caller read and
// hands data payload out as it arrives (frames are never assembled), so the caller controls how
// much is read, and memory stays bounded by its read size.
class WebSocketCodec
{
public:
    enum class Role
    {
        Server, // frames from the peer must be masked
        Client, // frames from the peer must not be masked
    };

    enum class OpCode : quint8
    {
        Continuation = 0x0,
        Text = 0x1,
        Binary = 0x2,
        Close = 0x8,
        Ping = 0x9,
        Pong = 0xA,
    };

    // Close codes used by the tunnel.
    static constexpr quint16 CloseNormal = 1000;
    static constexpr quint16 CloseGoingAway = 1001;
    static constexpr quint16 CloseProtocolError = 1002;
    static constexpr quint16 CloseNoStatus = 1005; // received close frame without a code
    static constexpr quint16 CloseInternalError = 1011;

    using MaskKey = std::array<char, 4>;

    struct Event
    {
        enum class Kind
        {
            NeedMore, // every byte given was consumed; call again with more input
            Data, // `payload`: message payload bytes (text or binary), unmasked, in order
            Ping, // `payload`: the ping's application data (answer with a pong carrying it)
            Pong,
            Close, // `closeCode` (CloseNoStatus when the frame had none) and `payload` = the reason
            Error, // the peer broke the protocol: close with `closeCode` and `payload` as the reason
        };
        Kind kind = Kind::NeedMore;
        // Data: a view into the caller's buffer (unmasked in place). Control frames: a view into the
        // codec, valid until the next decode().
        QByteArrayView payload;
        quint16 closeCode = 0;
        // How many input bytes this call consumed; the next call starts after them.
        qsizetype consumed = 0;
    };

    explicit WebSocketCodec(Role role);

    // Decodes from `data` (at most `size` bytes), unmasking payload in place, and returns the next
    // event. Call again with the rest (data + consumed) until it returns NeedMore. After an Error
    // every further call returns the same Error.
    Event decode(char *data, qsizetype size);

    // True between the first and the last frame of a fragmented message.
    bool inMessage() const;

    // A whole frame with FIN set. With `mask` (client role) the payload is masked.
    static QByteArray frame(OpCode op, QByteArrayView payload, std::optional<MaskKey> mask = std::nullopt);
    // Only the header of a frame with FIN set, for a payload sent separately (unmasked: server role).
    static QByteArray frameHeader(OpCode op, qint64 payloadSize, std::optional<MaskKey> mask = std::nullopt);
    // XORs `size` bytes with `mask`; `offset` is the position of data[0] within the frame payload.
    static void applyMask(char *data, qsizetype size, const MaskKey &mask, qint64 offset = 0);
    // The payload of a close frame: the code, then `reason` cut to 123 bytes at a UTF-8 boundary.
    static QByteArray closePayload(quint16 code, QByteArrayView reason);
    // Codes a peer may send in a close frame (RFC 6455 §7.4).
    static bool isValidCloseCode(quint16 code);
    // Sec-WebSocket-Accept for a Sec-WebSocket-Key.
    static QByteArray acceptKey(QByteArrayView key);
    // A Sec-WebSocket-Key must be the base64 of 16 bytes.
    static bool isValidKey(QByteArrayView key);

private:
    enum class State
    {
        Header,
        Payload,
        Control,
        Failed,
    };

    qsizetype headerLength() const;
    Event fail(quint16 code, QByteArrayView reason, qsizetype consumed);
    Event parseHeader(qsizetype consumed);
    Event controlEvent(qsizetype consumed);

    Role m_role;
    State m_state = State::Header;
    std::array<uchar, 14> m_head{};
    qsizetype m_headLength = 0;
    OpCode m_controlOp = OpCode::Close;
    bool m_final = false;
    bool m_masked = false;
    bool m_inMessage = false;
    MaskKey m_mask{};
    qint64 m_remaining = 0;
    qint64 m_offset = 0; // position within the current frame's payload
    QByteArray m_control; // the payload of a control frame (at most 125 bytes)
    quint16 m_errorCode = 0;
    QByteArray m_errorReason;
};

} // namespace Patchwork::Server
