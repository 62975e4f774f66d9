// SPDX-License-Identifier: MIT
#include <memory>
#include <vector>

#include <QAbstractHttpServer>
#include <QElapsedTimer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QPointer>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include "access/forgejoconfigsource.h"
#include "manualclock.h"
#include "testutil.h"

using namespace Qt::StringLiterals;
using Patchwork::ConfigCacheEvent;
using Patchwork::ConfigLookup;
using Patchwork::ForgejoConfigSource;
using Patchwork::ManualClock;

Q_DECLARE_METATYPE(Patchwork::ConfigCacheEvent)

namespace
{

constexpr qint64 TTL_MS = 60'000;
constexpr qint64 RETRY_MS = 10'000;

QByteArray configWithToken(const QByteArray &token)
{
    return "tokens:\n  " + token + ":\n    GET: [\"*\"]\n";
}

// A stand-in for Forgejo's raw-file API: answers per user as configured, records what it was asked.
class FakeForgejo final : public QAbstractHttpServer
{
public:
    struct Answer
    {
        int status = 404;
        QByteArray body;
        int delayMs = 0; // answer later
        bool never = false; // keep the request open
    };
    struct Request
    {
        QString path;
        QByteArray authorization;
        QByteArray accept;
    };

    FakeForgejo()
    {
        m_port = listen(QHostAddress::LocalHost, 0);
    }

    quint16 port() const
    {
        return m_port;
    }
    void setAnswer(const QString &user, const Answer &answer)
    {
        m_answers.insert(user, answer);
    }
    int requestCount() const
    {
        return int(m_requests.size());
    }
    const QList<Request> &requests() const
    {
        return m_requests;
    }

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override
    {
        static const QRegularExpression route(u"^/api/v1/repos/([^/]+)/\\.patchwork/media/config\\.yaml$"_s);
        const QString path = request.url().path();
        m_requests.append(Request{path, request.value("Authorization"), request.value("Accept")});
        const QRegularExpressionMatch m = route.match(path);
        const Answer answer = m.hasMatch() ? m_answers.value(m.captured(1)) : Answer{400, "bad route", 0, false};

        auto responder = std::make_shared<QHttpServerResponder>(makeResponder(request, socket));
        if (answer.never) {
            m_open.push_back(responder);
            return true;
        }
        const QPointer<QTcpSocket> guard(socket);
        auto write = [responder, guard, answer] {
            if (guard && guard->state() == QAbstractSocket::ConnectedState) {
                responder->write(
                    answer.body, "application/octet-stream", QHttpServerResponder::StatusCode(answer.status));
            }
        };
        if (answer.delayMs > 0) {
            QTimer::singleShot(answer.delayMs, this, write);
        } else {
            write();
        }
        return true;
    }

    void missingHandler(const QHttpServerRequest &, QTcpSocket *) override
    {
    }

private:
    quint16 m_port = 0;
    QHash<QString, Answer> m_answers;
    QList<Request> m_requests;
    std::vector<std::shared_ptr<QHttpServerResponder>> m_open;
};

} // namespace

class TestForgejoConfigSource final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void fetchesWithTheRightRequest();
    void cachesForTheTtl();
    void notFoundIsAnEmptyConfig();
    void serverErrorWithoutEntryIsUnavailable();
    void servesStaleEntryOnFailure();
    void retriesAtMostEveryRetryInterval();
    void timesOut();
    void coalescesConcurrentLookups();
    void parseErrorFailsClosed();
    void destroyedContextIsNotCalled();
    void invalidateAndReload();
    void noTokenNoAuthorizationHeader();
    void cacheIsBounded();

private:
    // Looks up and waits for the answer; `synchronous` tells whether it came before lookup() returned.
    std::optional<ConfigLookup> lookup(const QString &user, bool *synchronous = nullptr);
    static bool hasToken(const std::optional<ConfigLookup> &lookup, const QByteArray &token);
    void expectWarning(const QString &pattern);

    std::unique_ptr<FakeForgejo> m_server;
    std::unique_ptr<ManualClock> m_clock;
    std::unique_ptr<ForgejoConfigSource> m_source;
    std::unique_ptr<QSignalSpy> m_events;
};

void TestForgejoConfigSource::initTestCase()
{
    qRegisterMetaType<Patchwork::ConfigCacheEvent>();
}

void TestForgejoConfigSource::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
    m_server = std::make_unique<FakeForgejo>();
    QVERIFY(m_server->port() != 0);
    m_clock = std::make_unique<ManualClock>();
    m_source = std::make_unique<ForgejoConfigSource>(
        QUrl(u"http://127.0.0.1:%1/"_s.arg(m_server->port())), "forgejo-secret", m_clock.get());
    m_source->setTtl(TTL_MS);
    m_source->setRetryInterval(RETRY_MS);
    m_source->setTimeout(Patchwork::Test::timeoutMs(5000));
    m_events = std::make_unique<QSignalSpy>(m_source.get(), &Patchwork::ConfigSource::cacheEvent);
}

void TestForgejoConfigSource::cleanup()
{
    m_events.reset();
    m_source.reset();
    m_clock.reset();
    m_server.reset();
}

std::optional<ConfigLookup> TestForgejoConfigSource::lookup(const QString &user, bool *synchronous)
{
    auto result = std::make_shared<std::optional<ConfigLookup>>();
    m_source->lookup(user, this, [result](const ConfigLookup &answer) { *result = answer; });
    if (synchronous) {
        *synchronous = result->has_value();
    }
    const bool answered = QTest::qWaitFor([&] { return result->has_value(); }, Patchwork::Test::timeoutMs(10000));
    Q_UNUSED(answered) // a missing answer shows as std::nullopt
    return *result;
}

bool TestForgejoConfigSource::hasToken(const std::optional<ConfigLookup> &lookup, const QByteArray &token)
{
    return lookup && lookup->state == ConfigLookup::State::Found && lookup->config && lookup->config->findToken(token);
}

void TestForgejoConfigSource::expectWarning(const QString &pattern)
{
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(pattern));
}

void TestForgejoConfigSource::fetchesWithTheRightRequest()
{
    m_server->setAnswer(u"alice"_s, {200, configWithToken("alice-token")});
    bool synchronous = true;
    const auto result = lookup(u"alice"_s, &synchronous);
    QVERIFY(!synchronous); // the first lookup needs the network
    QVERIFY(hasToken(result, "alice-token"));
    QCOMPARE(m_server->requestCount(), 1);
    const FakeForgejo::Request &request = m_server->requests().first();
    QCOMPARE(request.path, u"/api/v1/repos/alice/.patchwork/media/config.yaml"_s);
    QCOMPARE(request.authorization, "token forgejo-secret"_ba);
    QCOMPARE(request.accept, "application/octet-stream"_ba);
    QCOMPARE(m_events->size(), 1);
    QCOMPARE(m_events->first().first().value<ConfigCacheEvent>(), ConfigCacheEvent::Miss);

    // A base URL with a path prefix.
    ForgejoConfigSource prefixed(QUrl(u"https://git.example/forgejo/"_s), {}, m_clock.get());
    QCOMPARE(prefixed.configUrl(u"bob"_s),
             QUrl(u"https://git.example/forgejo/api/v1/repos/bob/.patchwork/media/config.yaml"_s));
}

void TestForgejoConfigSource::cachesForTheTtl()
{
    m_server->setAnswer(u"alice"_s, {200, configWithToken("v1")});
    QVERIFY(hasToken(lookup(u"alice"_s), "v1"));
    m_server->setAnswer(u"alice"_s, {200, configWithToken("v2")});

    bool synchronous = false;
    m_clock->advance(TTL_MS - 1);
    auto result = lookup(u"alice"_s, &synchronous);
    QVERIFY(synchronous);
    QVERIFY(hasToken(result, "v1"));
    QCOMPARE(m_server->requestCount(), 1);
    QCOMPARE(m_events->last().first().value<ConfigCacheEvent>(), ConfigCacheEvent::Hit);

    m_clock->advance(1); // expired: fetched again, and the answer waits for it
    result = lookup(u"alice"_s, &synchronous);
    QVERIFY(!synchronous);
    QVERIFY(hasToken(result, "v2"));
    QCOMPARE(m_server->requestCount(), 2);
    QCOMPARE(m_events->last().first().value<ConfigCacheEvent>(), ConfigCacheEvent::Miss);
}

void TestForgejoConfigSource::notFoundIsAnEmptyConfig()
{
    // No answer configured: the fake says 404.
    auto result = lookup(u"nobody"_s);
    QVERIFY(result);
    QCOMPARE(result->state, ConfigLookup::State::Found);
    QVERIFY(result->config);
    QCOMPARE(result->config->tokenCount(), 0);
    bool synchronous = false;
    result = lookup(u"nobody"_s, &synchronous);
    QVERIFY(synchronous);
    QCOMPARE(result->state, ConfigLookup::State::Found);
    QCOMPARE(m_server->requestCount(), 1);
}

void TestForgejoConfigSource::serverErrorWithoutEntryIsUnavailable()
{
    m_server->setAnswer(u"alice"_s, {500, "boom"});
    QSignalSpy errors(m_source.get(), &Patchwork::ConfigSource::errorOccurred);
    expectWarning(u"alice/.patchwork/config.yaml failed with HTTP status 500"_s);
    const auto result = lookup(u"alice"_s);
    QVERIFY(result);
    QCOMPARE(result->state, ConfigLookup::State::Unavailable);
    QVERIFY(!result->config);
    QVERIFY2(result->error.contains(u"500"_s), qPrintable(result->error));
    QCOMPARE(errors.size(), 1);
    QVERIFY(!errors.first().first().toString().contains(u"forgejo-secret"_s));
    QCOMPARE(m_events->last().first().value<ConfigCacheEvent>(), ConfigCacheEvent::Miss);
}

void TestForgejoConfigSource::servesStaleEntryOnFailure()
{
    m_server->setAnswer(u"alice"_s, {200, configWithToken("v1")});
    QVERIFY(hasToken(lookup(u"alice"_s), "v1"));

    // Expired, and Forgejo is down: the old entry is served.
    m_server->setAnswer(u"alice"_s, {503, "down"});
    m_clock->advance(TTL_MS);
    expectWarning(u"HTTP status 503"_s);
    auto result = lookup(u"alice"_s);
    QVERIFY(hasToken(result, "v1"));
    QCOMPARE(m_events->last().first().value<ConfigCacheEvent>(), ConfigCacheEvent::Stale);
    QCOMPARE(m_server->requestCount(), 2);

    // During the retry interval: stale at once, without asking Forgejo.
    m_clock->advance(RETRY_MS / 2);
    bool synchronous = false;
    result = lookup(u"alice"_s, &synchronous);
    QVERIFY(synchronous);
    QVERIFY(hasToken(result, "v1"));
    QCOMPARE(m_events->last().first().value<ConfigCacheEvent>(), ConfigCacheEvent::Stale);
    QCOMPARE(m_server->requestCount(), 2);

    // After it: still stale at once (no waiting on a failing upstream), refreshed in the background.
    m_server->setAnswer(u"alice"_s, {200, configWithToken("v2")});
    m_clock->advance(RETRY_MS / 2);
    result = lookup(u"alice"_s, &synchronous);
    QVERIFY(synchronous);
    QVERIFY(hasToken(result, "v1"));
    QTRY_COMPARE_WITH_TIMEOUT(m_server->requestCount(), 3, Patchwork::Test::timeoutMs(5000));
    QTRY_VERIFY_WITH_TIMEOUT(hasToken(lookup(u"alice"_s), "v2"), Patchwork::Test::timeoutMs(5000));
    QCOMPARE(m_events->last().first().value<ConfigCacheEvent>(), ConfigCacheEvent::Hit);
    QCOMPARE(m_server->requestCount(), 3);
}

void TestForgejoConfigSource::retriesAtMostEveryRetryInterval()
{
    m_server->setAnswer(u"alice"_s, {500, "boom"});
    expectWarning(u"HTTP status 500"_s);
    QCOMPARE(lookup(u"alice"_s)->state, ConfigLookup::State::Unavailable);
    QCOMPARE(m_server->requestCount(), 1);

    bool synchronous = false;
    for (int i = 0; i < 5; ++i) {
        const auto result = lookup(u"alice"_s, &synchronous);
        QVERIFY(synchronous);
        QCOMPARE(result->state, ConfigLookup::State::Unavailable);
        QVERIFY(result->error.contains(u"500"_s));
    }
    m_clock->advance(RETRY_MS - 1);
    QCOMPARE(lookup(u"alice"_s, &synchronous)->state, ConfigLookup::State::Unavailable);
    QVERIFY(synchronous);
    QCOMPARE(m_server->requestCount(), 1);

    m_clock->advance(1);
    m_server->setAnswer(u"alice"_s, {200, configWithToken("back")});
    const auto result = lookup(u"alice"_s, &synchronous);
    QVERIFY(!synchronous);
    QVERIFY(hasToken(result, "back"));
    QCOMPARE(m_server->requestCount(), 2);
}

void TestForgejoConfigSource::timesOut()
{
    m_source->setTimeout(200);
    m_server->setAnswer(u"slow"_s, {200, configWithToken("late"), Patchwork::Test::timeoutMs(3000), false});
    m_server->setAnswer(u"never"_s, {200, {}, 0, true});
    expectWarning(u"slow/.patchwork/config.yaml timed out after 200 ms"_s);
    expectWarning(u"never/.patchwork/config.yaml timed out after 200 ms"_s);
    QElapsedTimer elapsed;
    elapsed.start();
    auto result = lookup(u"slow"_s);
    QVERIFY(result);
    QCOMPARE(result->state, ConfigLookup::State::Unavailable);
    QVERIFY2(result->error.contains(u"timed out"_s), qPrintable(result->error));
    result = lookup(u"never"_s);
    QVERIFY(result);
    QCOMPARE(result->state, ConfigLookup::State::Unavailable);
    QVERIFY(elapsed.elapsed() < Patchwork::Test::timeoutMs(2500));
}

void TestForgejoConfigSource::coalescesConcurrentLookups()
{
    m_server->setAnswer(u"alice"_s, {200, configWithToken("shared"), 300, false});
    constexpr int N = 20;
    int answered = 0;
    std::vector<std::shared_ptr<const Patchwork::UserConfig>> configs;
    for (int i = 0; i < N; ++i) {
        m_source->lookup(u"alice"_s, this, [&](const ConfigLookup &result) {
            ++answered;
            configs.push_back(result.config);
        });
    }
    QCOMPARE(answered, 0);
    QTRY_COMPARE_WITH_TIMEOUT(answered, N, Patchwork::Test::timeoutMs(5000));
    QCOMPARE(m_server->requestCount(), 1);
    for (const auto &config : configs) {
        QVERIFY(config);
        QCOMPARE(config.get(), configs.front().get());
        QVERIFY(config->findToken("shared"));
    }
    QCOMPARE(m_events->size(), N);
    // Other users are fetched separately.
    m_server->setAnswer(u"bob"_s, {200, configWithToken("b")});
    QVERIFY(hasToken(lookup(u"bob"_s), "b"));
    QCOMPARE(m_server->requestCount(), 2);
}

void TestForgejoConfigSource::parseErrorFailsClosed()
{
    m_server->setAnswer(u"alice"_s, {200, configWithToken("good")});
    QVERIFY(hasToken(lookup(u"alice"_s), "good"));

    // A broken file replaces the good one: fail closed, no stale entry.
    m_server->setAnswer(u"alice"_s, {200, "tokens:\n  t:\n    is_admin: \"true\"\n"});
    m_clock->advance(TTL_MS);
    expectWarning(u"^alice/\\.patchwork/config\\.yaml:3: is_admin must be"_s);
    auto result = lookup(u"alice"_s);
    QVERIFY(result);
    QCOMPARE(result->state, ConfigLookup::State::Unavailable);
    QCOMPARE(result->error, u"alice/.patchwork/config.yaml:3: is_admin must be true or false (unquoted)"_s);

    // Retried like a failure, and fixed.
    m_server->setAnswer(u"alice"_s, {200, configWithToken("fixed")});
    bool synchronous = false;
    QCOMPARE(lookup(u"alice"_s, &synchronous)->state, ConfigLookup::State::Unavailable);
    QVERIFY(synchronous);
    m_clock->advance(RETRY_MS);
    QVERIFY(hasToken(lookup(u"alice"_s), "fixed"));
}

void TestForgejoConfigSource::destroyedContextIsNotCalled()
{
    m_server->setAnswer(u"alice"_s, {200, configWithToken("a"), 200, false});
    bool called = false;
    auto *context = new QObject;
    m_source->lookup(u"alice"_s, context, [&](const ConfigLookup &) { called = true; });
    delete context;
    // A second lookup without a context (nullptr) is answered.
    bool second = false;
    m_source->lookup(u"alice"_s, nullptr, [&](const ConfigLookup &) { second = true; });
    QTRY_VERIFY_WITH_TIMEOUT(second, Patchwork::Test::timeoutMs(5000));
    QVERIFY(!called);
}

void TestForgejoConfigSource::invalidateAndReload()
{
    m_server->setAnswer(u"alice"_s, {200, configWithToken("v1")});
    m_server->setAnswer(u"bob"_s, {200, configWithToken("b1")});
    QVERIFY(hasToken(lookup(u"alice"_s), "v1"));
    QVERIFY(hasToken(lookup(u"bob"_s), "b1"));
    m_server->setAnswer(u"alice"_s, {200, configWithToken("v2")});
    m_server->setAnswer(u"bob"_s, {200, configWithToken("b2")});

    m_source->invalidate(u"alice"_s);
    QVERIFY(hasToken(lookup(u"alice"_s), "v2"));
    QVERIFY(hasToken(lookup(u"bob"_s), "b1")); // still cached
    QCOMPARE(m_server->requestCount(), 3);

    m_source->reload();
    QVERIFY(hasToken(lookup(u"bob"_s), "b2"));
    QCOMPARE(m_server->requestCount(), 4);

    // Invalidating during a fetch restarts it, and the waiting lookups get the new answer.
    m_server->setAnswer(u"alice"_s, {200, configWithToken("v3"), 300, false});
    m_source->invalidate(u"alice"_s);
    std::optional<ConfigLookup> waiting;
    m_source->lookup(u"alice"_s, this, [&](const ConfigLookup &result) { waiting = result; });
    QTRY_COMPARE_WITH_TIMEOUT(m_server->requestCount(), 5, Patchwork::Test::timeoutMs(5000));
    m_server->setAnswer(u"alice"_s, {200, configWithToken("v4")});
    m_source->invalidate(u"alice"_s);
    QTRY_VERIFY_WITH_TIMEOUT(waiting.has_value(), Patchwork::Test::timeoutMs(5000));
    QVERIFY(hasToken(waiting, "v4"));
    m_source->invalidate(u"nobody"_s); // unknown users are fine
}

void TestForgejoConfigSource::noTokenNoAuthorizationHeader()
{
    ForgejoConfigSource anonymous(QUrl(u"http://127.0.0.1:%1"_s.arg(m_server->port())), {}, m_clock.get());
    bool done = false;
    anonymous.lookup(u"alice"_s, this, [&](const ConfigLookup &) { done = true; });
    QTRY_VERIFY_WITH_TIMEOUT(done, Patchwork::Test::timeoutMs(5000));
    QCOMPARE(m_server->requestCount(), 1);
    QVERIFY(m_server->requests().first().authorization.isEmpty());
}

void TestForgejoConfigSource::cacheIsBounded()
{
    m_source->setMaxEntries(3);
    for (int i = 0; i < 6; ++i) {
        QCOMPARE(lookup(u"user%1"_s.arg(i))->state, ConfigLookup::State::Found);
    }
    QCOMPARE(m_server->requestCount(), 6);
    // The earliest users were evicted to make room: looking them up fetches again.
    int fetchedAgain = 0;
    for (int i = 0; i < 6; ++i) {
        const int before = m_server->requestCount();
        QVERIFY(lookup(u"user%1"_s.arg(i)));
        fetchedAgain += m_server->requestCount() - before;
    }
    QVERIFY(fetchedAgain >= 3);
}

QTEST_GUILESS_MAIN(TestForgejoConfigSource)
#include "tst_forgejoconfigsource.moc"
