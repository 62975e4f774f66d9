// SPDX-License-Identifier: MIT
#include "testhttpclient.h"

#include <QElapsedTimer>
#include <QTest>

#include "testutil.h"

namespace Patchwork::Test
{

QByteArray TestResponse::header(QByteArrayView name) const
{
    for (const auto &h : headers) {
        if (QByteArrayView(h.first).compare(name, Qt::CaseInsensitive) == 0) {
            return h.second;
        }
    }
    return {};
}

QList<QByteArray> TestResponse::headerValues(QByteArrayView name) const
{
    QList<QByteArray> out;
    for (const auto &h : headers) {
        if (QByteArrayView(h.first).compare(name, Qt::CaseInsensitive) == 0) {
            out.append(h.second);
        }
    }
    return out;
}

TestHttpClient::TestHttpClient(quint16 port, QObject *parent)
    : QObject(parent)
{
    connect(&m_socket, &QTcpSocket::readyRead, this, &TestHttpClient::onReadyRead);
    m_socket.connectToHost(QHostAddress::LocalHost, port);
    m_socket.waitForConnected(timeoutMs(5000));
}

QByteArray
TestHttpClient::request(QByteArrayView method, QByteArrayView target, const QByteArray &body, const HeaderList &headers)
{
    QByteArray raw = method.toByteArray() + ' ' + target.toByteArray() + " HTTP/1.1\r\n";
    bool hasHost = false;
    for (const auto &h : headers) {
        hasHost = hasHost || h.first.compare("Host", Qt::CaseInsensitive) == 0;
    }
    if (!hasHost) {
        raw += "Host: 127.0.0.1\r\n";
    }
    bool hasLength = false;
    for (const auto &h : headers) {
        raw += h.first + ": " + h.second + "\r\n";
        hasLength = hasLength || h.first.compare("Content-Length", Qt::CaseInsensitive) == 0
                    || h.first.compare("Transfer-Encoding", Qt::CaseInsensitive) == 0;
    }
    if (!hasLength && (!body.isEmpty() || method == "POST" || method == "PUT")) {
        raw += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    }
    raw += "\r\n";
    raw += body;
    return raw;
}

void TestHttpClient::send(const QByteArray &raw)
{
    m_headRequests.append(raw.startsWith("HEAD "));
    m_socket.write(raw);
    m_socket.flush();
}

void TestHttpClient::get(QByteArrayView target, const HeaderList &headers)
{
    send(request("GET", target, {}, headers));
}

void TestHttpClient::post(QByteArrayView target, const QByteArray &body, const HeaderList &headers)
{
    send(request("POST", target, body, headers));
}

void TestHttpClient::onReadyRead()
{
    m_buf += m_socket.readAll();
    while (parseOne()) {
    }
    if (!m_responses.isEmpty()) {
        Q_EMIT responseReceived();
    }
}

bool TestHttpClient::parseOne()
{
    const qsizetype end = m_buf.indexOf("\r\n\r\n");
    if (end < 0) {
        return false;
    }
    TestResponse r;
    const QList<QByteArray> lines = m_buf.left(end).split('\n');
    const QList<QByteArray> statusLine = lines.first().trimmed().split(' ');
    r.status = statusLine.value(1).toInt();
    qint64 length = -1;
    bool chunked = false;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        const qsizetype colon = line.indexOf(':');
        const QByteArray name = line.left(colon);
        const QByteArray value = line.mid(colon + 1).trimmed();
        r.headers.append({name, value});
        if (name.compare("Content-Length", Qt::CaseInsensitive) == 0) {
            length = value.toLongLong();
        } else if (name.compare("Transfer-Encoding", Qt::CaseInsensitive) == 0) {
            chunked = true;
        }
    }
    if (r.status == 100) {
        ++m_continues;
        m_buf.remove(0, end + 4);
        return true;
    }
    qsizetype pos = end + 4;
    const bool head = !m_headRequests.isEmpty() && m_headRequests.first();
    if (head || r.status == 204 || r.status == 304) {
        length = 0;
    }
    if (chunked) {
        QByteArray body;
        for (;;) {
            const qsizetype nl = m_buf.indexOf("\r\n", pos);
            if (nl < 0) {
                return false;
            }
            const qint64 size = m_buf.mid(pos, nl - pos).toLongLong(nullptr, 16);
            if (m_buf.size() < nl + 2 + size + 2) {
                return false;
            }
            if (size == 0) {
                pos = nl + 4;
                break;
            }
            body += m_buf.mid(nl + 2, size);
            pos = nl + 2 + size + 2;
        }
        r.body = body;
    } else if (length >= 0) {
        if (m_buf.size() < pos + length) {
            return false;
        }
        r.body = m_buf.mid(pos, length);
        pos += length;
    } else {
        if (m_socket.state() == QAbstractSocket::ConnectedState) {
            return false;
        }
        r.body = m_buf.mid(pos);
        pos = m_buf.size();
    }
    m_buf.remove(0, pos);
    if (!m_headRequests.isEmpty()) {
        m_headRequests.removeFirst();
    }
    m_responses.append(r);
    return true;
}

bool TestHttpClient::waitForResponse(int ms)
{
    QElapsedTimer t;
    t.start();
    while (m_responses.isEmpty() && t.elapsed() < timeoutMs(ms)) {
        QTest::qWait(5);
        if (m_socket.state() != QAbstractSocket::ConnectedState) {
            onReadyRead();
            if (m_responses.isEmpty() && !m_buf.isEmpty()) {
                parseOne();
            }
            break;
        }
    }
    return !m_responses.isEmpty();
}

int TestHttpClient::continues() const
{
    return m_continues;
}

bool TestHttpClient::hasResponse() const
{
    return !m_responses.isEmpty();
}

TestResponse TestHttpClient::takeResponse()
{
    return m_responses.isEmpty() ? TestResponse() : m_responses.takeFirst();
}

bool TestHttpClient::waitForDisconnected(int ms)
{
    QElapsedTimer t;
    t.start();
    while (m_socket.state() != QAbstractSocket::UnconnectedState && t.elapsed() < timeoutMs(ms)) {
        QTest::qWait(5);
    }
    return m_socket.state() == QAbstractSocket::UnconnectedState;
}

bool TestHttpClient::isConnected() const
{
    return m_socket.state() == QAbstractSocket::ConnectedState;
}

void TestHttpClient::close()
{
    m_socket.disconnectFromHost();
}

void TestHttpClient::abort()
{
    m_socket.abort();
}

QTcpSocket *TestHttpClient::socket()
{
    return &m_socket;
}

TestResponse fetch(quint16 port,
                   QByteArrayView method,
                   QByteArrayView target,
                   const QByteArray &body,
                   const HeaderList &headers,
                   int ms)
{
    TestHttpClient client(port);
    client.send(TestHttpClient::request(method, target, body, headers));
    client.waitForResponse(ms);
    return client.takeResponse();
}

} // namespace Patchwork::Test
