// SPDX-License-Identifier: MIT
#pragma once

#include <QObject>
#include <QTcpSocket>

#include "engine/message.h"

namespace Patchwork::Test
{

struct TestResponse
{
    int status = 0;
    HeaderList headers;
    QByteArray body;

    QByteArray header(QByteArrayView name) const;
    QList<QByteArray> headerValues(QByteArrayView name) const;
};

// A raw HTTP/1.1 client on one real loopback connection: it sends exactly the bytes a test gives and
// parses the responses, so tests control framing, timing and disconnects precisely.
class TestHttpClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TestHttpClient)

public:
    explicit TestHttpClient(quint16 port, QObject *parent = nullptr);

    static QByteArray
    request(QByteArrayView method, QByteArrayView target, const QByteArray &body = {}, const HeaderList &headers = {});

    // Sends a request built by request() (or any raw bytes).
    void send(const QByteArray &raw);
    void get(QByteArrayView target, const HeaderList &headers = {});
    void post(QByteArrayView target, const QByteArray &body, const HeaderList &headers = {});

    // Waits until a complete response has arrived; false on timeout.
    bool waitForResponse(int ms = 5000);
    bool hasResponse() const;
    // How many "100 Continue" interim responses arrived.
    int continues() const;
    // Takes the oldest complete response.
    TestResponse takeResponse();
    bool waitForDisconnected(int ms = 5000);
    bool isConnected() const;
    void close();
    void abort();
    QTcpSocket *socket();

Q_SIGNALS:
    // One or more complete responses arrived (takeResponse()).
    void responseReceived();

private:
    void onReadyRead();
    bool parseOne();

    QTcpSocket m_socket;
    QByteArray m_buf;
    QList<TestResponse> m_responses;
    int m_continues = 0;
    QList<bool> m_headRequests;
};

// One request on a fresh connection; waits for the response.
TestResponse fetch(quint16 port,
                   QByteArrayView method,
                   QByteArrayView target,
                   const QByteArray &body = {},
                   const HeaderList &headers = {},
                   int ms = 5000);

} // namespace Patchwork::Test
