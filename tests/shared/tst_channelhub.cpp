// SPDX-License-Identifier: MIT
#include <memory>
#include <vector>

#include <QRegularExpression>
#include <QSet>
#include <QSignalSpy>
#include <QTest>

#include "engine/channelhub.h"
#include "engine/message.h"
#include "engine/replaybuffer.h"
#include "engine/waiter.h"
#include "manualclock.h"

using namespace Qt::StringLiterals;
using Patchwork::Answer;
using Patchwork::ChannelHub;
using Patchwork::HeaderList;
using Patchwork::ManualClock;
using Patchwork::Message;
using Patchwork::parseSince;
using Patchwork::ReplayBuffer;
using Patchwork::Waiter;

namespace
{

using Kind = Answer::Kind;
using Role = Waiter::Role;
using ResponderKind = Waiter::ResponderKind;

// How a reply can miss its request (reqresNoPendingRequest).
enum class Stale
{
    UnknownId,
    EmptyId,
    OtherResId,
    OtherNamespace,
    AlreadyAnswered,
    RequesterLeft,
    ReplyTimedOut
};

// How a party can start waiting again after shutdown() (shutdownLateWaiters).
enum class Late
{
    ConsumerLeaves,
    ResponderLeaves,
    GetResponderDrains,
    SwitchResponderDrains
};

const QByteArray IDLE = "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=0"_ba;

QByteArray kindName(Kind kind)
{
    switch (kind) {
    case Kind::Message:
        return "Message"_ba;
    case Kind::Done:
        return "Done"_ba;
    case Kind::Timeout:
        return "Timeout"_ba;
    case Kind::ReplyTimeout:
        return "ReplyTimeout"_ba;
    case Kind::SwitchTimeout:
        return "SwitchTimeout"_ba;
    case Kind::NoPendingRequest:
        return "NoPendingRequest"_ba;
    case Kind::ShuttingDown:
        return "ShuttingDown"_ba;
    case Kind::ReceiverLeft:
        return "ReceiverLeft"_ba;
    }
    return "?"_ba;
}

Message msg(const QByteArray &body, const HeaderList &headers = {}, int status = 200)
{
    Message m;
    m.body = body;
    m.headers = headers;
    m.status = status;
    return m;
}

// Patch-Ids of one server sort by (length, bytes) in publish order.
bool idBefore(const QByteArray &a, const QByteArray &b)
{
    return a.size() < b.size() || (a.size() == b.size() && a < b);
}

// One waiting party (what the front end keeps per request) and everything the engine told it.
struct Party
{
    QList<Answer> answers; // declared first: the waiter is destroyed before its record
    std::unique_ptr<Waiter> waiter;

    // The kinds of every answer so far, e.g. "Message" or "Message,Done".
    QByteArray kinds() const
    {
        QByteArrayList names;
        for (const Answer &a : answers) {
            names.append(kindName(a.kind));
        }
        return names.join(',');
    }
    const Answer &last() const
    {
        return answers.constLast();
    }
    const Message &received() const
    {
        return answers.constLast().message;
    }
    QByteArray requestId() const
    {
        return received().header("Patch-Request-Id");
    }
    // The socket drained the Message answer.
    void delivered()
    {
        waiter->delivered();
    }
    // The client went away.
    void leave()
    {
        waiter.reset();
    }
};

// The engine driven the way the HTTP front end drives it, on a manual clock.
struct Relay
{
    // Replay buffers (PROTOCOL §4.1) stay off unless a test asks for them, so that channel counts show
    // waiting parties only.
    explicit Relay(const ChannelHub::Settings &settings = {}, bool replay = false)
    {
        ChannelHub::Settings s = settings;
        if (!replay) {
            s.replay.count = 0;
        }
        hub.setSettings(s);
    }

    static ChannelHub::Settings replayLimits(const ReplayBuffer::Limits &limits)
    {
        ChannelHub::Settings s;
        s.replay = limits;
        return s;
    }

    Party *submit(std::unique_ptr<Waiter> waiter)
    {
        parties.push_back(std::make_unique<Party>());
        Party *party = parties.back().get();
        party->waiter = std::move(waiter);
        QObject::connect(party->waiter.get(), &Waiter::answered, party->waiter.get(), [party](const Answer &a) {
            party->answers.append(a);
        });
        hub.submit(party->waiter.get());
        return party;
    }

    Party *consumer(const QByteArray &key, int timeoutMs = 0)
    {
        auto w = std::make_unique<Waiter>(Role::Consumer, key);
        w->setTimeoutMs(timeoutMs);
        return submit(std::move(w));
    }

    // GET ?since=<since>.
    Party *resumer(const QByteArray &key, QByteArrayView since, int timeoutMs = 0)
    {
        auto w = std::make_unique<Waiter>(Role::Consumer, key);
        w->setSince(parseSince(since));
        w->setTimeoutMs(timeoutMs);
        return submit(std::move(w));
    }

    // GET ?stream=sse (optionally with since= or Last-Event-ID).
    Party *stream(const QByteArray &key, QByteArrayView since = {}, int timeoutMs = 0)
    {
        auto w = std::make_unique<Waiter>(Role::Consumer, key);
        w->setStreaming(true);
        w->setSince(parseSince(since));
        w->setTimeoutMs(timeoutMs);
        return submit(std::move(w));
    }

    Party *producer(const QByteArray &key, const Message &m, Waiter::Mode mode = Waiter::Mode::Queue, int timeoutMs = 0)
    {
        auto w = std::make_unique<Waiter>(Role::Producer, key);
        w->setMessage(m);
        w->setMode(mode);
        w->setTimeoutMs(timeoutMs);
        return submit(std::move(w));
    }

    Party *publisher(const QByteArray &key, const Message &m)
    {
        return producer(key, m, Waiter::Mode::Pubsub);
    }

    Party *requester(const QByteArray &ns, const QByteArray &id, const Message &m, int timeoutMs = 0)
    {
        auto w = std::make_unique<Waiter>(Role::Requester, ns + "/req/" + id);
        w->setMessage(m);
        w->setReqRes(ns, id);
        w->setTimeoutMs(timeoutMs);
        return submit(std::move(w));
    }

    // GET res/<id>.
    Party *responder(const QByteArray &ns, const QByteArray &id, int timeoutMs = 0)
    {
        auto w = std::make_unique<Waiter>(Role::Responder, ns + "/res/" + id);
        w->setReqRes(ns, id);
        w->setTimeoutMs(timeoutMs);
        return submit(std::move(w));
    }

    // POST res/<id>: the body is the reply.
    Party *oneShot(const QByteArray &ns, const QByteArray &id, const Message &reply, int timeoutMs = 0)
    {
        auto w = std::make_unique<Waiter>(Role::Responder, ns + "/res/" + id);
        w->setReqRes(ns, id);
        w->setMessage(reply);
        w->setResponderKind(ResponderKind::OneShot);
        w->setTimeoutMs(timeoutMs);
        return submit(std::move(w));
    }

    // POST res/<id>?switch=true with body <channelName>.
    Party *switcher(const QByteArray &ns, const QByteArray &id, const QByteArray &channelName, int timeoutMs = 0)
    {
        auto w = std::make_unique<Waiter>(Role::Responder, ns + "/res/" + id);
        w->setReqRes(ns, id);
        w->setResponderKind(ResponderKind::Switch, channelName);
        w->setTimeoutMs(timeoutMs);
        return submit(std::move(w));
    }

    Party *responderOfKind(ResponderKind kind, const QByteArray &ns, const QByteArray &id, int timeoutMs = 0)
    {
        switch (kind) {
        case ResponderKind::Get:
            return responder(ns, id, timeoutMs);
        case ResponderKind::OneShot:
            return oneShot(ns, id, msg("one-shot reply"_ba), timeoutMs);
        case ResponderKind::Switch:
            return switcher(ns, id, "c"_ba, timeoutMs);
        }
        return nullptr;
    }

    // POST res/<id>?reply=<requestId>.
    Party *replier(const QByteArray &ns, const QByteArray &id, const QByteArray &requestId, const Message &reply)
    {
        auto w = std::make_unique<Waiter>(Role::Replier, ns + "/res/" + id);
        w->setMessage(reply);
        w->setReplyTo(requestId);
        return submit(std::move(w));
    }

    QByteArray state() const
    {
        const auto n = [](qsizetype v) { return QByteArray::number(v); };
        return QByteArray("channels=" + n(hub.channelCount()) + " consumers=" + n(hub.waitingCount(Role::Consumer))
                          + " producers=" + n(hub.waitingCount(Role::Producer)) + " requesters="
                          + n(hub.waitingCount(Role::Requester)) + " responders=" + n(hub.waitingCount(Role::Responder))
                          + " inFlight=" + n(hub.inFlightCount()));
    }

    // The bodies of every Message answer a party got, in order; a replayed gap is marked with '!'.
    static QByteArrayList bodies(const Party *party)
    {
        QByteArrayList out;
        for (const Answer &a : party->answers) {
            if (a.kind == Kind::Message) {
                out.append(a.gap ? "!" + a.message.body : a.message.body);
            }
        }
        return out;
    }

    ManualClock clock;
    ChannelHub hub{&clock};
    std::vector<std::unique_ptr<Party>> parties;
};

} // namespace

class TestChannelHub final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();

    // Queue (PROTOCOL §3)
    void queueConsumerFirst();
    void queueProducerFirst();
    void queueProducersFifo();
    void queueConsumersFifo();
    void queueKeysAreExact();
    void queueConsumerLeavesBeforeDelivered();
    void queueConsumerLeavesNextConsumerWaiting();
    void queueProducerLeavesWhileWaiting();
    void queueConsumerLeavesWhileWaiting();
    void queueProducerLeavesInFlight_data();
    void queueProducerLeavesInFlight();
    void queueDeliveredInsideAnsweredSlot();
    void queueRequeuedProducerKeepsTimeout();

    // Pubsub (PROTOCOL §4)
    void pubsubFanOut_data();
    void pubsubFanOut();
    void pubsubNobodyWaiting();
    void pubsubResubscribe();
    void pubsubResubscribeInsideAnsweredSlot();
    void pubsubSlowSubscriber();
    void pubsubIds();
    void pubsubLeavesQueueProducersWaiting();

    // Flexible (PROTOCOL §2)
    void flexibleQueueAndPubsub();

    // Request/response (PROTOCOL §5)
    void reqresGetResponder_data();
    void reqresGetResponder();
    void reqresPrefixMatching_data();
    void reqresPrefixMatching();
    void reqresLongestIdWins();
    void reqresResponderTakesLongestWaitingRequester();
    void reqresEqualIdsFifo();
    void reqresRequestIdsUnique();
    void reqresNoPendingRequest_data();
    void reqresNoPendingRequest();
    void reqresOneShot_data();
    void reqresOneShot();
    void reqresResponderLeavesBeforeDelivered();
    void reqresResponderLeavesNoOtherResponder();
    void reqresRequeuedRequesterKeepsTimeout();
    void reqresConcurrentRequesters();
    void reqresRequesterLeavesWhileRequestInFlight_data();
    void reqresRequesterLeavesWhileRequestInFlight();
    void reqresRequesterLeavesDuringReply();
    void reqresReplierLeavesDuringReply();

    // Double clutch (PROTOCOL §5.3)
    void switchProducerAfter();
    void switchProducerAlreadyWaiting();
    void switchStaysInNamespace();
    void switchTimeout_data();
    void switchTimeout();
    void switchRequesterLeaves();
    void switchRequesterLeavesDuringReply();
    void switchPubsubProducerDoneAfterRequester();
    void switchClutchBoundedByMaxWait();

    // Timeouts (PROTOCOL §2)
    void timeoutWaiting_data();
    void timeoutWaiting();
    void timeoutAwaitingReply_data();
    void timeoutAwaitingReply();
    void timeoutNotWhileInFlight_data();
    void timeoutNotWhileInFlight();
    void replyAfterReplyTimeout();

    // Shutdown (PROTOCOL §14)
    void shutdownAnswersWaiting();
    void shutdownRefusesNewParties_data();
    void shutdownRefusesNewParties();
    void shutdownLateWaiters_data();
    void shutdownLateWaiters();

    // Replay (PROTOCOL §4.1)
    void replaySince_data();
    void replaySince();
    void replayGapAfterEviction();
    void replayUnknownIdOnEmptyChannelWaits();
    void replayResumeLosesNothing();
    void replayChannelLiveUntilExpired();
    void replayQueueMessagesNotKept();
    void replayFlexiblePath();
    void replayDisabled();
    void replaySettingsApplyAtOnce();

    // Event streams (PROTOCOL §4.1)
    void streamGetsEveryMessage();
    void streamCountsAsSubscriber();
    void streamReplayThenLive_data();
    void streamReplayThenLive();
    void streamSkipsQueueMessages();
    void streamDroppedWhileHandlingEvent();
    void streamDroppedDuringReplay();
    void streamDeletedInAnsweredDuringFanOut();
    void streamDeletedInAnsweredDuringReplay();
    void consumersDeletedInAnswered();
    void streamLeaves();
    void streamTimeout();
    void streamShutdown();

    // Signals
    void channelCountChangedSignal();
    void messageDeliveredSignal();
};

void TestChannelHub::init()
{
    QTest::failOnWarning(QRegularExpression(u".*"_s));
}

// --- queue -------------------------------------------------------------------------------------------

void TestChannelHub::queueConsumerFirst()
{
    Relay r;
    Party *c = r.consumer("public/queue/jobs"_ba);
    QCOMPARE(c->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=1 consumers=1 producers=0 requesters=0 responders=0 inFlight=0"_ba);
    c->delivered(); // not in flight: ignored
    QCOMPARE(r.state(), "channels=1 consumers=1 producers=0 requesters=0 responders=0 inFlight=0"_ba);

    const HeaderList headers{{"Content-Type"_ba, "text/plain"_ba}, {"X-A"_ba, "1"_ba}, {"X-A"_ba, "2"_ba}};
    Party *p = r.producer("public/queue/jobs"_ba, msg("hello"_ba, headers));
    QCOMPARE(c->kinds(), "Message"_ba);
    QCOMPARE(c->received().body, "hello"_ba);
    QCOMPARE(c->received().headers, headers);
    QVERIFY(c->received().id.isEmpty()); // only pubsub messages get a Patch-Id
    QCOMPARE(c->received().time, qint64(0));
    // The producer hears of it only once the consumer's socket drained the body.
    QCOMPARE(p->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=1"_ba);
    p->delivered(); // sources do not report delivery: ignored
    QCOMPARE(p->kinds(), ""_ba);

    c->delivered();
    QCOMPARE(p->kinds(), "Done"_ba);
    QCOMPARE(p->last().subscribers, -1);
    QCOMPARE(c->kinds(), "Message"_ba);
    QCOMPARE(r.state(), IDLE);
    c->delivered(); // twice: ignored
    QCOMPARE(p->kinds(), "Done"_ba);
}

void TestChannelHub::queueProducerFirst()
{
    Relay r;
    Party *p = r.producer("public/queue/jobs"_ba, msg("work"_ba, {{"Content-Type"_ba, "application/json"_ba}}));
    QCOMPARE(p->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=1 consumers=0 producers=1 requesters=0 responders=0 inFlight=0"_ba);

    Party *c = r.consumer("public/queue/jobs"_ba);
    QCOMPARE(c->kinds(), "Message"_ba);
    QCOMPARE(c->received().body, "work"_ba);
    QCOMPARE(c->received().header("content-type"), "application/json"_ba);
    QCOMPARE(p->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=1"_ba);

    c->delivered();
    QCOMPARE(p->kinds(), "Done"_ba);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::queueProducersFifo()
{
    Relay r;
    const QByteArray key = "public/queue/fifo"_ba;
    Party *p1 = r.producer(key, msg("1"_ba));
    Party *p2 = r.producer(key, msg("2"_ba));
    Party *p3 = r.producer(key, msg("3"_ba));
    QCOMPARE(r.state(), "channels=1 consumers=0 producers=3 requesters=0 responders=0 inFlight=0"_ba);

    Party *c1 = r.consumer(key);
    Party *c2 = r.consumer(key);
    Party *c3 = r.consumer(key);
    QCOMPARE(c1->kinds(), "Message"_ba);
    QCOMPARE(c2->kinds(), "Message"_ba);
    QCOMPARE(c3->kinds(), "Message"_ba);
    QCOMPARE(c1->received().body, "1"_ba);
    QCOMPARE(c2->received().body, "2"_ba);
    QCOMPARE(c3->received().body, "3"_ba);
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=3"_ba);

    // Each producer is told about its own delivery only.
    c2->delivered();
    QCOMPARE(p1->kinds(), ""_ba);
    QCOMPARE(p2->kinds(), "Done"_ba);
    QCOMPARE(p3->kinds(), ""_ba);
    c3->delivered();
    QCOMPARE(p1->kinds(), ""_ba);
    QCOMPARE(p3->kinds(), "Done"_ba);
    c1->delivered();
    QCOMPARE(p1->kinds(), "Done"_ba);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::queueConsumersFifo()
{
    Relay r;
    const QByteArray key = "public/queue/fifo"_ba;
    Party *c1 = r.consumer(key);
    r.clock.advance(10);
    Party *c2 = r.consumer(key);
    r.clock.advance(10);
    Party *c3 = r.consumer(key);
    QCOMPARE(r.state(), "channels=1 consumers=3 producers=0 requesters=0 responders=0 inFlight=0"_ba);

    Party *p1 = r.producer(key, msg("a"_ba));
    QCOMPARE(c1->kinds(), "Message"_ba);
    QCOMPARE(c2->kinds(), ""_ba);
    QCOMPARE(c3->kinds(), ""_ba);
    Party *p2 = r.producer(key, msg("b"_ba));
    Party *p3 = r.producer(key, msg("c"_ba));
    QCOMPARE(c1->received().body, "a"_ba);
    QCOMPARE(c2->kinds(), "Message"_ba);
    QCOMPARE(c2->received().body, "b"_ba);
    QCOMPARE(c3->kinds(), "Message"_ba);
    QCOMPARE(c3->received().body, "c"_ba);
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=3"_ba);

    c1->delivered();
    c2->delivered();
    c3->delivered();
    QCOMPARE(p1->kinds(), "Done"_ba);
    QCOMPARE(p2->kinds(), "Done"_ba);
    QCOMPARE(p3->kinds(), "Done"_ba);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::queueKeysAreExact()
{
    Relay r;
    Party *c = r.consumer("public/x"_ba);
    Party *upper = r.producer("public/X"_ba, msg("upper"_ba));
    Party *slash = r.producer("public/x/"_ba, msg("slash"_ba));
    Party *user = r.producer("u/alice/x"_ba, msg("user"_ba));
    QCOMPARE(c->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=4 consumers=1 producers=3 requesters=0 responders=0 inFlight=0"_ba);

    Party *same = r.producer("public/x"_ba, msg("same"_ba));
    QCOMPARE(c->kinds(), "Message"_ba);
    QCOMPARE(c->received().body, "same"_ba);
    c->delivered();
    QCOMPARE(same->kinds(), "Done"_ba);

    upper->leave();
    slash->leave();
    user->leave();
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::queueConsumerLeavesBeforeDelivered()
{
    Relay r;
    const QByteArray key = "public/queue/jobs"_ba;
    Party *p1 = r.producer(key, msg("first"_ba));
    Party *c1 = r.consumer(key);
    QCOMPARE(c1->kinds(), "Message"_ba);
    Party *p2 = r.producer(key, msg("second"_ba)); // arrives while "first" is being written
    QCOMPARE(r.state(), "channels=1 consumers=0 producers=1 requesters=0 responders=0 inFlight=1"_ba);

    c1->leave(); // the socket closed before it drained
    QCOMPARE(p1->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=1 consumers=0 producers=2 requesters=0 responders=0 inFlight=0"_ba);

    // "first" went back to the front, ahead of "second".
    Party *c2 = r.consumer(key);
    QCOMPARE(c2->kinds(), "Message"_ba);
    QCOMPARE(c2->received().body, "first"_ba);
    QCOMPARE(p1->kinds(), ""_ba);
    QCOMPARE(p2->kinds(), ""_ba);
    c2->delivered();
    QCOMPARE(p1->kinds(), "Done"_ba);
    QCOMPARE(p2->kinds(), ""_ba);

    Party *c3 = r.consumer(key);
    QCOMPARE(c3->kinds(), "Message"_ba);
    QCOMPARE(c3->received().body, "second"_ba);
    c3->delivered();
    QCOMPARE(p2->kinds(), "Done"_ba);
    QCOMPARE(p1->kinds(), "Done"_ba);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::queueConsumerLeavesNextConsumerWaiting()
{
    Relay r;
    const QByteArray key = "public/queue/jobs"_ba;
    Party *c1 = r.consumer(key);
    Party *c2 = r.consumer(key);
    Party *p = r.producer(key, msg("job"_ba));
    QCOMPARE(c1->kinds(), "Message"_ba);
    QCOMPARE(c2->kinds(), ""_ba);

    c1->leave();
    QCOMPARE(c2->kinds(), "Message"_ba); // handed on at once
    QCOMPARE(c2->received().body, "job"_ba);
    QCOMPARE(p->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=1"_ba);
    c2->delivered();
    QCOMPARE(p->kinds(), "Done"_ba);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::queueProducerLeavesWhileWaiting()
{
    Relay r;
    const QByteArray key = "public/queue/jobs"_ba;
    Party *p1 = r.producer(key, msg("withdrawn"_ba));
    p1->leave();
    QCOMPARE(r.state(), IDLE);

    Party *c = r.consumer(key);
    QCOMPARE(c->kinds(), ""_ba);
    Party *p2 = r.producer(key, msg("kept"_ba));
    QCOMPARE(c->kinds(), "Message"_ba);
    QCOMPARE(c->received().body, "kept"_ba);
    c->delivered();
    QCOMPARE(p2->kinds(), "Done"_ba);
    QCOMPARE(p1->kinds(), ""_ba);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::queueConsumerLeavesWhileWaiting()
{
    Relay r;
    const QByteArray key = "public/queue/jobs"_ba;
    Party *c1 = r.consumer(key);
    Party *c2 = r.consumer(key);
    c1->leave();
    QCOMPARE(r.state(), "channels=1 consumers=1 producers=0 requesters=0 responders=0 inFlight=0"_ba);

    Party *p = r.producer(key, msg("job"_ba));
    QCOMPARE(c1->kinds(), ""_ba);
    QCOMPARE(c2->kinds(), "Message"_ba);
    c2->delivered();
    QCOMPARE(p->kinds(), "Done"_ba);
    QCOMPARE(r.state(), IDLE);

    Party *c3 = r.consumer(key);
    c3->leave();
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::queueProducerLeavesInFlight_data()
{
    QTest::addColumn<bool>("consumerDrains");
    QTest::addRow("consumer then fails") << false;
    QTest::addRow("consumer then drains") << true;
}

void TestChannelHub::queueProducerLeavesInFlight()
{
    QFETCH(bool, consumerDrains);
    Relay r;
    const QByteArray key = "public/queue/jobs"_ba;
    Party *p = r.producer(key, msg("orphan"_ba));
    Party *c = r.consumer(key);
    QCOMPARE(c->kinds(), "Message"_ba);
    p->leave();
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=1"_ba);

    if (consumerDrains) {
        c->delivered();
    } else {
        c->leave(); // nobody to give it back to: dropped
    }
    QCOMPARE(r.state(), IDLE);
    QCOMPARE(p->kinds(), ""_ba);

    Party *later = r.consumer(key);
    QCOMPARE(later->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=1 consumers=1 producers=0 requesters=0 responders=0 inFlight=0"_ba);
    later->leave();
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::queueDeliveredInsideAnsweredSlot()
{
    // A tiny body may drain while the answer is still being handled.
    Relay r;
    const QByteArray key = "public/queue/jobs"_ba;
    Party *c = r.consumer(key);
    Waiter *w = c->waiter.get();
    QObject::connect(w, &Waiter::answered, w, [w](const Answer &a) {
        if (a.kind == Kind::Message) {
            w->delivered();
        }
    });
    Party *p = r.producer(key, msg("fast"_ba));
    QCOMPARE(c->kinds(), "Message"_ba);
    QCOMPARE(p->kinds(), "Done"_ba); // synchronously, inside submit()
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::queueRequeuedProducerKeepsTimeout()
{
    // PROTOCOL §2: ?timeout= bounds the producer's whole wait. A message that went back to the front
    // of the line must still be withdrawn with 504 when its producer's timeout passes.
    Relay r;
    const QByteArray key = "public/queue/jobs"_ba;
    Party *p = r.producer(key, msg("job"_ba), Waiter::Mode::Queue, 10'000);
    r.clock.advance(2'000);
    Party *c = r.consumer(key);
    QCOMPARE(c->kinds(), "Message"_ba);
    c->leave();
    QCOMPARE(r.state(), "channels=1 consumers=0 producers=1 requesters=0 responders=0 inFlight=0"_ba);

    r.clock.advance(10'000); // past the deadline counted from submit() and from the requeue alike
    QCOMPARE(p->kinds(), "Timeout"_ba);
    QCOMPARE(r.state(), IDLE);
}

// --- pubsub ------------------------------------------------------------------------------------------

void TestChannelHub::pubsubFanOut_data()
{
    QTest::addColumn<int>("subscribers");
    QTest::addColumn<int>("leaving");
    QTest::addRow("one subscriber") << 1 << 0;
    QTest::addRow("three subscribers") << 3 << 0;
    QTest::addRow("five subscribers, two leave") << 5 << 2;
    QTest::addRow("three subscribers, all leave") << 3 << 3;
    QTest::addRow("hundred subscribers") << 100 << 0;
}

void TestChannelHub::pubsubFanOut()
{
    QFETCH(int, subscribers);
    QFETCH(int, leaving);
    Relay r;
    const QByteArray key = "public/pubsub/news"_ba;
    QList<Party *> consumers;
    for (int i = 0; i < subscribers; ++i) {
        consumers.append(r.consumer(key));
    }
    QCOMPARE(r.state(),
             "channels=1 consumers=" + QByteArray::number(subscribers)
                 + " producers=0 requesters=0 responders=0 inFlight=0");

    const QByteArray body(64 * 1024, 'x');
    const HeaderList headers{{"Content-Type"_ba, "text/plain"_ba}, {"X-Edition"_ba, "7"_ba}};
    Party *p = r.publisher(key, msg(body, headers));
    QCOMPARE(p->kinds(), ""_ba);
    QCOMPARE(r.state(),
             "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight="
                 + QByteArray::number(subscribers));

    const QByteArray id = consumers.first()->answers.isEmpty() ? QByteArray() : consumers.first()->received().id;
    QVERIFY(!id.isEmpty());
    for (Party *c : std::as_const(consumers)) {
        QCOMPARE(c->kinds(), "Message"_ba);
        QCOMPARE(c->received().body, body);
        QCOMPARE(c->received().headers, headers);
        QCOMPARE(c->received().id, id);
        // Stored once, however many receive it.
        QVERIFY(c->received().body.constData() == body.constData());
        QVERIFY(c->received().body.isSharedWith(body));
        QVERIFY(c->received().headers.isSharedWith(headers));
    }

    for (int i = 0; i < subscribers; ++i) {
        QCOMPARE(p->kinds(), ""_ba); // Done only once every subscriber is through
        if (i < leaving) {
            consumers.at(i)->leave();
        } else {
            consumers.at(i)->delivered();
        }
    }
    QCOMPARE(p->kinds(), "Done"_ba);
    QCOMPARE(p->last().subscribers, subscribers - leaving);
    QCOMPARE(p->last().message.id, id);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::pubsubNobodyWaiting()
{
    Relay r;
    r.clock.setUnixMs(1'700'000'042'900);
    Party *p = r.publisher("public/pubsub/void"_ba, msg("lost"_ba));
    QCOMPARE(p->kinds(), "Done"_ba); // at once, inside submit()
    QCOMPARE(p->last().subscribers, 0);
    QVERIFY(!p->last().message.id.isEmpty());
    QCOMPARE(p->last().message.time, qint64(1'700'000'042));
    QCOMPARE(r.state(), IDLE);

    Party *late = r.consumer("public/pubsub/void"_ba);
    QCOMPARE(late->kinds(), ""_ba); // not kept for later consumers
    late->leave();
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::pubsubResubscribe()
{
    Relay r;
    const QByteArray key = "public/pubsub/news"_ba;
    Party *first = r.consumer(key);
    Party *p1 = r.publisher(key, msg("m1"_ba));
    QCOMPARE(first->kinds(), "Message"_ba);
    first->delivered();
    QCOMPARE(p1->kinds(), "Done"_ba);
    QCOMPARE(p1->last().subscribers, 1);

    Party *again = r.consumer(key); // the same client, back for more
    QCOMPARE(again->kinds(), ""_ba);
    Party *p2 = r.publisher(key, msg("m2"_ba));
    QCOMPARE(again->kinds(), "Message"_ba);
    QCOMPARE(again->received().body, "m2"_ba);
    QVERIFY(again->received().id != first->received().id);
    again->delivered();
    QCOMPARE(p2->kinds(), "Done"_ba);
    QCOMPARE(p2->last().subscribers, 1);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::pubsubResubscribeInsideAnsweredSlot()
{
    // A front end that re-subscribes while handling the message must not get that message again.
    Relay r;
    const QByteArray key = "public/pubsub/news"_ba;
    Party *first = r.consumer(key);
    Party *again = nullptr;
    QObject::connect(first->waiter.get(), &Waiter::answered, first->waiter.get(), [&r, &again, key](const Answer &) {
        again = r.consumer(key);
    });
    Party *p1 = r.publisher(key, msg("m1"_ba));
    QCOMPARE(first->kinds(), "Message"_ba);
    QVERIFY(again);
    QCOMPARE(again->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=1 consumers=1 producers=0 requesters=0 responders=0 inFlight=1"_ba);
    first->delivered();
    QCOMPARE(p1->kinds(), "Done"_ba);
    QCOMPARE(p1->last().subscribers, 1);

    Party *p2 = r.publisher(key, msg("m2"_ba));
    QCOMPARE(again->kinds(), "Message"_ba);
    QCOMPARE(again->received().body, "m2"_ba);
    again->delivered();
    QCOMPARE(p2->kinds(), "Done"_ba);
    QCOMPARE(p2->last().subscribers, 1);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::pubsubSlowSubscriber()
{
    Relay r;
    const QByteArray key = "public/pubsub/news"_ba;
    Party *c1 = r.consumer(key);
    Party *slow = r.consumer(key);
    Party *c3 = r.consumer(key);
    Party *p = r.publisher(key, msg("news"_ba));
    // Everyone has the message at once; the slow one does not hold the others back.
    QCOMPARE(c1->kinds(), "Message"_ba);
    QCOMPARE(slow->kinds(), "Message"_ba);
    QCOMPARE(c3->kinds(), "Message"_ba);
    c1->delivered();
    c3->delivered();
    QCOMPARE(p->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=1"_ba);

    // The others are free to subscribe again and get the next message meanwhile.
    Party *c1b = r.consumer(key);
    Party *p2 = r.publisher(key, msg("more"_ba));
    QCOMPARE(c1b->kinds(), "Message"_ba);
    QCOMPARE(c1b->received().body, "more"_ba);
    QCOMPARE(slow->kinds(), "Message"_ba);
    c1b->delivered();
    QCOMPARE(p2->kinds(), "Done"_ba);
    QCOMPARE(p2->last().subscribers, 1);

    slow->delivered();
    QCOMPARE(p->kinds(), "Done"_ba);
    QCOMPARE(p->last().subscribers, 3);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::pubsubIds()
{
    Relay r;
    r.clock.setUnixMs(1'700'000'123'456);
    const QByteArray key = "public/pubsub/ids"_ba;
    const QRegularExpression token(u"^[A-Za-z0-9_-]+$"_s);
    const QRegularExpression digitsOnly(u"^[0-9]+$"_s);

    Party *c = r.consumer(key);
    Party *first = r.publisher(key, msg("0"_ba));
    QCOMPARE(c->kinds(), "Message"_ba);
    QCOMPARE(c->received().time, qint64(1'700'000'123));
    c->delivered();
    QCOMPARE(first->kinds(), "Done"_ba);
    QCOMPARE(first->last().message.id, c->received().id); // the publisher learns the id
    QCOMPARE(first->last().message.time, qint64(1'700'000'123));

    QList<QByteArray> ids{first->last().message.id};
    for (int i = 1; i < 100; ++i) {
        if (i == 50) {
            r.clock.advance(5'000);
        }
        // Alternate between two channels: ids are unique on the server, not only per channel.
        Party *p = r.publisher(i % 2 ? "public/pubsub/other"_ba : key, msg(QByteArray::number(i)));
        QCOMPARE(p->kinds(), "Done"_ba);
        QCOMPARE(p->last().subscribers, 0);
        QCOMPARE(p->last().message.time, qint64(i < 50 ? 1'700'000'123 : 1'700'000'128));
        ids.append(p->last().message.id);
    }

    QCOMPARE(QSet<QByteArray>(ids.cbegin(), ids.cend()).size(), ids.size());
    for (qsizetype i = 0; i < ids.size(); ++i) {
        const QString text = QString::fromLatin1(ids.at(i));
        QVERIFY2(token.match(text).hasMatch(), ids.at(i).constData());
        QVERIFY2(!digitsOnly.match(text).hasMatch(), ids.at(i).constData());
        if (i > 0) {
            QVERIFY2(idBefore(ids.at(i - 1), ids.at(i)),
                     QByteArray(ids.at(i - 1) + " should sort before " + ids.at(i)).constData());
        }
    }
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::pubsubLeavesQueueProducersWaiting()
{
    Relay r;
    const QByteArray key = "public/flex"_ba;
    Party *queued = r.producer(key, msg("queued"_ba));
    Party *pub = r.publisher(key, msg("published"_ba));
    QCOMPARE(pub->kinds(), "Done"_ba);
    QCOMPARE(pub->last().subscribers, 0);
    QCOMPARE(queued->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=1 consumers=0 producers=1 requesters=0 responders=0 inFlight=0"_ba);

    Party *c = r.consumer(key);
    QCOMPARE(c->kinds(), "Message"_ba);
    QCOMPARE(c->received().body, "queued"_ba);
    c->delivered();
    QCOMPARE(queued->kinds(), "Done"_ba);
    QCOMPARE(r.state(), IDLE);
}

// --- flexible ----------------------------------------------------------------------------------------

void TestChannelHub::flexibleQueueAndPubsub()
{
    Relay r;
    const QByteArray key = "public/news"_ba;
    Party *c1 = r.consumer(key);
    Party *c2 = r.consumer(key);
    Party *c3 = r.consumer(key);

    Party *queued = r.producer(key, msg("q"_ba));
    QCOMPARE(c1->kinds(), "Message"_ba);
    QCOMPARE(c1->received().body, "q"_ba);
    QCOMPARE(c2->kinds(), ""_ba);
    QCOMPARE(c3->kinds(), ""_ba);

    Party *pub = r.publisher(key, msg("p"_ba));
    QCOMPARE(c1->kinds(), "Message"_ba);
    QCOMPARE(c2->kinds(), "Message"_ba);
    QCOMPARE(c3->kinds(), "Message"_ba);
    QCOMPARE(c2->received().body, "p"_ba);
    QCOMPARE(c3->received().body, "p"_ba);
    QVERIFY(!c2->received().id.isEmpty());
    QVERIFY(c1->received().id.isEmpty());
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=3"_ba);

    c1->delivered();
    c2->delivered();
    c3->delivered();
    QCOMPARE(queued->kinds(), "Done"_ba);
    QCOMPARE(queued->last().subscribers, -1);
    QCOMPARE(pub->kinds(), "Done"_ba);
    QCOMPARE(pub->last().subscribers, 2);
    QCOMPARE(r.state(), IDLE);
}

// --- request/response --------------------------------------------------------------------------------

void TestChannelHub::reqresGetResponder_data()
{
    QTest::addColumn<bool>("responderFirst");
    QTest::addRow("requester first") << false;
    QTest::addRow("responder first") << true;
}

void TestChannelHub::reqresGetResponder()
{
    QFETCH(bool, responderFirst);
    Relay r;
    const HeaderList requestHeaders{{"Patch-Method"_ba, "POST"_ba},
                                    {"Patch-Uri"_ba, "/api/users/7?x=1"_ba},
                                    {"Content-Type"_ba, "application/json"_ba},
                                    {"X-Trace"_ba, "abc"_ba}};
    Party *res = nullptr;
    Party *req = nullptr;
    if (responderFirst) {
        res = r.responder("public"_ba, "api/users"_ba);
        QCOMPARE(r.state(), "channels=1 consumers=0 producers=0 requesters=0 responders=1 inFlight=0"_ba);
        req = r.requester("public"_ba, "api/users/7"_ba, msg("{\"q\":1}"_ba, requestHeaders));
    } else {
        req = r.requester("public"_ba, "api/users/7"_ba, msg("{\"q\":1}"_ba, requestHeaders));
        QCOMPARE(r.state(), "channels=1 consumers=0 producers=0 requesters=1 responders=0 inFlight=0"_ba);
        res = r.responder("public"_ba, "api/users"_ba);
    }

    QCOMPARE(res->kinds(), "Message"_ba);
    QCOMPARE(res->received().body, "{\"q\":1}"_ba);
    const QByteArray requestId = res->requestId();
    QVERIFY(!requestId.isEmpty());
    HeaderList expected{{"Patch-Request-Id"_ba, requestId}};
    expected += requestHeaders;
    QCOMPARE(res->received().headers, expected);
    QCOMPARE(req->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=1"_ba);

    res->delivered();
    QCOMPARE(req->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=1 responders=0 inFlight=0"_ba);

    const HeaderList replyHeaders{{"Content-Type"_ba, "text/html"_ba}, {"X-Reply"_ba, "yes"_ba}};
    Party *rep = r.replier("public"_ba, "api/users"_ba, requestId, msg("<p>7</p>"_ba, replyHeaders, 201));
    QCOMPARE(req->kinds(), "Message"_ba);
    QCOMPARE(req->received().body, "<p>7</p>"_ba);
    QCOMPARE(req->received().status, 201);
    QCOMPARE(req->received().headers, replyHeaders);
    QCOMPARE(rep->kinds(), ""_ba); // only once the requester has it
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=1"_ba);

    req->delivered();
    QCOMPARE(rep->kinds(), "Done"_ba);
    QCOMPARE(res->kinds(), "Message"_ba);
    QCOMPARE(r.state(), IDLE);

    Party *again = r.replier("public"_ba, "api/users"_ba, requestId, msg("again"_ba));
    QCOMPARE(again->kinds(), "NoPendingRequest"_ba);
    QCOMPARE(req->kinds(), "Message"_ba);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::reqresPrefixMatching_data()
{
    QTest::addColumn<QByteArray>("responderId");
    QTest::addColumn<QByteArray>("requesterId");
    QTest::addColumn<bool>("served");
    QTest::addColumn<bool>("responderFirst");

    struct Row
    {
        const char *name;
        QByteArray responderId;
        QByteArray requesterId;
        bool served;
    };
    const Row rows[] = {
        {"exact", "api/users"_ba, "api/users"_ba, true},
        {"child", "api/users"_ba, "api/users/7"_ba, true},
        {"grandchild", "api/users"_ba, "api/users/7/posts"_ba, true},
        {"trailing slash", "api/users"_ba, "api/users/"_ba, true},
        {"single segment", "api"_ba, "api/users/7"_ba, true},
        {"suffix without slash", "api/users"_ba, "api/usersX"_ba, false},
        {"suffix with dash", "api/users"_ba, "api/users-7"_ba, false},
        {"partial segment", "api/use"_ba, "api/users"_ba, false},
        {"parent", "api/users/7"_ba, "api/users"_ba, false},
        {"case differs", "api/users"_ba, "API/users"_ba, false},
        {"sibling", "api/users"_ba, "api/groups/7"_ba, false},
    };
    for (const Row &row : rows) {
        QTest::addRow("%s, responder first", row.name) << row.responderId << row.requesterId << row.served << true;
        QTest::addRow("%s, requester first", row.name) << row.responderId << row.requesterId << row.served << false;
    }
}

void TestChannelHub::reqresPrefixMatching()
{
    QFETCH(QByteArray, responderId);
    QFETCH(QByteArray, requesterId);
    QFETCH(bool, served);
    QFETCH(bool, responderFirst);
    Relay r;
    Party *res = nullptr;
    Party *req = nullptr;
    if (responderFirst) {
        res = r.responder("public"_ba, responderId);
        req = r.requester("public"_ba, requesterId, msg("request"_ba));
    } else {
        req = r.requester("public"_ba, requesterId, msg("request"_ba));
        res = r.responder("public"_ba, responderId);
    }
    QCOMPARE(req->kinds(), ""_ba);
    if (served) {
        QCOMPARE(res->kinds(), "Message"_ba);
        QCOMPARE(res->received().body, "request"_ba);
        QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=1"_ba);
        res->delivered();
        Party *rep = r.replier("public"_ba, responderId, res->requestId(), msg("reply"_ba));
        QCOMPARE(req->kinds(), "Message"_ba);
        QCOMPARE(req->received().body, "reply"_ba);
        req->delivered();
        QCOMPARE(rep->kinds(), "Done"_ba);
    } else {
        QCOMPARE(res->kinds(), ""_ba);
        QCOMPARE(r.state(), "channels=2 consumers=0 producers=0 requesters=1 responders=1 inFlight=0"_ba);
        req->leave();
        res->leave();
    }
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::reqresLongestIdWins()
{
    Relay r;
    const QByteArray ns = "public"_ba;
    Party *api = r.responder(ns, "api"_ba);
    Party *users1 = r.responder(ns, "api/users"_ba);
    Party *user7 = r.responder(ns, "api/users/7"_ba);
    Party *users2 = r.responder(ns, "api/users"_ba);
    QCOMPARE(r.state(), "channels=3 consumers=0 producers=0 requesters=0 responders=4 inFlight=0"_ba);

    r.requester(ns, "api/users/7/posts"_ba, msg("A"_ba));
    QCOMPARE(user7->kinds(), "Message"_ba);
    QCOMPARE(user7->received().body, "A"_ba);
    QCOMPARE(users1->kinds(), ""_ba);

    r.requester(ns, "api/users/8"_ba, msg("B"_ba));
    QCOMPARE(users1->kinds(), "Message"_ba); // the longest-waiting of the two api/users
    QCOMPARE(users1->received().body, "B"_ba);
    QCOMPARE(users2->kinds(), ""_ba);

    r.requester(ns, "api/users"_ba, msg("C"_ba));
    QCOMPARE(users2->kinds(), "Message"_ba);
    QCOMPARE(users2->received().body, "C"_ba);
    QCOMPARE(api->kinds(), ""_ba);

    r.requester(ns, "api/users/9"_ba, msg("D"_ba)); // no api/users left: the shorter id serves it
    QCOMPARE(api->kinds(), "Message"_ba);
    QCOMPARE(api->received().body, "D"_ba);

    Party *unserved = r.requester(ns, "apix"_ba, msg("E"_ba));
    QCOMPARE(unserved->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=1 consumers=0 producers=0 requesters=1 responders=0 inFlight=4"_ba);

    for (const auto &party : r.parties) {
        if (party->waiter && party->waiter->role() == Role::Responder) {
            party->delivered();
        }
    }
    QCOMPARE(r.state(), "channels=1 consumers=0 producers=0 requesters=5 responders=0 inFlight=0"_ba);
    r.parties.clear();
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::reqresResponderTakesLongestWaitingRequester()
{
    Relay r;
    const QByteArray ns = "public"_ba;
    Party *q1 = r.requester(ns, "api/users/7"_ba, msg("1"_ba));
    r.clock.advance(10);
    Party *q2 = r.requester(ns, "api/users"_ba, msg("2"_ba));
    r.clock.advance(10);
    Party *qx = r.requester(ns, "api/usersX"_ba, msg("x"_ba));
    r.clock.advance(10);
    Party *q4 = r.requester(ns, "api/users/7"_ba, msg("4"_ba));
    QCOMPARE(r.state(), "channels=3 consumers=0 producers=0 requesters=4 responders=0 inFlight=0"_ba);

    Party *r1 = r.responder(ns, "api/users"_ba);
    Party *r2 = r.responder(ns, "api/users"_ba);
    Party *r3 = r.responder(ns, "api/users"_ba);
    Party *r4 = r.responder(ns, "api/users"_ba);
    QCOMPARE(r1->kinds(), "Message"_ba);
    QCOMPARE(r1->received().body, "1"_ba);
    QCOMPARE(r2->kinds(), "Message"_ba);
    QCOMPARE(r2->received().body, "2"_ba);
    QCOMPARE(r3->kinds(), "Message"_ba);
    QCOMPARE(r3->received().body, "4"_ba);
    QCOMPARE(r4->kinds(), ""_ba); // api/usersX is not for it
    QCOMPARE(r.state(), "channels=2 consumers=0 producers=0 requesters=1 responders=1 inFlight=3"_ba);

    q1->leave();
    q2->leave();
    q4->leave();
    qx->leave();
    r.parties.clear();
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::reqresEqualIdsFifo()
{
    Relay r;
    QList<Party *> responders;
    for (int i = 0; i < 3; ++i) {
        responders.append(r.responder("public"_ba, "svc"_ba));
    }
    for (int i = 0; i < 3; ++i) {
        r.requester("public"_ba, "svc"_ba, msg(QByteArray::number(i)));
        for (int j = 0; j < 3; ++j) {
            QCOMPARE(responders.at(j)->kinds(), j <= i ? "Message"_ba : ""_ba);
        }
        QCOMPARE(responders.at(i)->received().body, QByteArray::number(i));
    }
    r.parties.clear();
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::reqresRequestIdsUnique()
{
    Relay r;
    QSet<QByteArray> ids;
    for (int i = 0; i < 50; ++i) {
        Party *res = r.responder("public"_ba, "svc"_ba);
        r.requester("public"_ba, "svc"_ba, msg("q"_ba));
        QCOMPARE(res->kinds(), "Message"_ba);
        const QByteArray id = res->requestId();
        QVERIFY2(id.size() >= 16, id.constData()); // unguessable
        ids.insert(id);
    }
    QCOMPARE(ids.size(), 50);
    r.parties.clear();
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::reqresNoPendingRequest_data()
{
    QTest::addColumn<Stale>("stale");
    QTest::addColumn<bool>("requesterStillWaits");
    QTest::addRow("unknown id") << Stale::UnknownId << true;
    QTest::addRow("empty id") << Stale::EmptyId << true;
    QTest::addRow("other res id") << Stale::OtherResId << true;
    QTest::addRow("other namespace") << Stale::OtherNamespace << true;
    QTest::addRow("already answered") << Stale::AlreadyAnswered << false;
    QTest::addRow("requester left") << Stale::RequesterLeft << false;
    QTest::addRow("reply timed out") << Stale::ReplyTimedOut << false;
}

void TestChannelHub::reqresNoPendingRequest()
{
    QFETCH(Stale, stale);
    QFETCH(bool, requesterStillWaits);
    Relay r;
    Party *res = r.responder("public"_ba, "api"_ba);
    Party *req = r.requester("public"_ba, "api/7"_ba, msg("q"_ba));
    QCOMPARE(res->kinds(), "Message"_ba);
    res->delivered();
    const QByteArray id = res->requestId();

    Party *rep = nullptr;
    switch (stale) {
    case Stale::UnknownId:
        rep = r.replier("public"_ba, "api"_ba, "00112233445566778899aabbccddeeff"_ba, msg("r"_ba));
        break;
    case Stale::EmptyId:
        rep = r.replier("public"_ba, "api"_ba, QByteArray(), msg("r"_ba));
        break;
    case Stale::OtherResId:
        rep = r.replier("public"_ba, "api/7"_ba, id, msg("r"_ba)); // the requester's path, not the responder's id
        break;
    case Stale::OtherNamespace:
        rep = r.replier("u/alice"_ba, "api"_ba, id, msg("r"_ba));
        break;
    case Stale::AlreadyAnswered: {
        Party *first = r.replier("public"_ba, "api"_ba, id, msg("first"_ba));
        req->delivered();
        QCOMPARE(first->kinds(), "Done"_ba);
        rep = r.replier("public"_ba, "api"_ba, id, msg("r"_ba));
        break;
    }
    case Stale::RequesterLeft:
        req->leave();
        rep = r.replier("public"_ba, "api"_ba, id, msg("r"_ba));
        break;
    case Stale::ReplyTimedOut:
        r.clock.advance(60'000);
        QCOMPARE(req->kinds(), "ReplyTimeout"_ba);
        rep = r.replier("public"_ba, "api"_ba, id, msg("r"_ba));
        break;
    }
    QCOMPARE(rep->kinds(), "NoPendingRequest"_ba);

    if (requesterStillWaits) {
        QCOMPARE(req->kinds(), ""_ba);
        QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=1 responders=0 inFlight=0"_ba);
        Party *good = r.replier("public"_ba, "api"_ba, id, msg("right"_ba));
        QCOMPARE(req->kinds(), "Message"_ba);
        QCOMPARE(req->received().body, "right"_ba);
        req->delivered();
        QCOMPARE(good->kinds(), "Done"_ba);
    }
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::reqresOneShot_data()
{
    QTest::addColumn<bool>("responderFirst");
    QTest::addRow("requester first") << false;
    QTest::addRow("responder first") << true;
}

void TestChannelHub::reqresOneShot()
{
    QFETCH(bool, responderFirst);
    Relay r;
    const HeaderList replyHeaders{{"Content-Type"_ba, "application/json"_ba}, {"X-Served-By"_ba, "one-shot"_ba}};
    const Message reply = msg("{\"ok\":true}"_ba, replyHeaders, 202);
    Party *res = nullptr;
    Party *req = nullptr;
    if (responderFirst) {
        res = r.oneShot("public"_ba, "api"_ba, reply);
        req = r.requester("public"_ba, "api/x"_ba, msg("request"_ba, {{"Patch-Method"_ba, "PUT"_ba}}));
    } else {
        req = r.requester("public"_ba, "api/x"_ba, msg("request"_ba, {{"Patch-Method"_ba, "PUT"_ba}}));
        res = r.oneShot("public"_ba, "api"_ba, reply);
    }
    QCOMPARE(res->kinds(), "Message"_ba);
    QCOMPARE(res->received().body, "request"_ba);
    QCOMPARE(res->received().headers.size(), 2);
    QCOMPARE(res->received().headers.at(0).first, "Patch-Request-Id"_ba);
    QCOMPARE(res->received().header("Patch-Method"), "PUT"_ba);
    QCOMPARE(req->kinds(), ""_ba); // not before the responder has the request
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=1"_ba);

    res->delivered();
    QCOMPARE(req->kinds(), "Message"_ba);
    QCOMPARE(req->received().body, "{\"ok\":true}"_ba);
    QCOMPARE(req->received().status, 202);
    QCOMPARE(req->received().headers, replyHeaders);
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=1"_ba);

    req->delivered();
    QCOMPARE(res->kinds(), "Message"_ba);
    QCOMPARE(req->kinds(), "Message"_ba);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::reqresResponderLeavesBeforeDelivered()
{
    Relay r;
    Party *r1 = r.responder("public"_ba, "svc"_ba);
    Party *r2 = r.responder("public"_ba, "svc"_ba);
    Party *req = r.requester("public"_ba, "svc"_ba, msg("request"_ba, {{"X-A"_ba, "1"_ba}}));
    QCOMPARE(r1->kinds(), "Message"_ba);
    QCOMPARE(r2->kinds(), ""_ba);

    r1->leave();
    QCOMPARE(r2->kinds(), "Message"_ba); // offered to the next responder at once
    QCOMPARE(r2->received().body, "request"_ba);
    QCOMPARE(r2->received().header("X-A"), "1"_ba);
    const QByteArray id = r2->requestId();
    QVERIFY(!id.isEmpty());
    QCOMPARE(req->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=1"_ba);

    r2->delivered();
    Party *rep = r.replier("public"_ba, "svc"_ba, id, msg("reply"_ba));
    QCOMPARE(req->kinds(), "Message"_ba);
    QCOMPARE(req->received().body, "reply"_ba);
    req->delivered();
    QCOMPARE(rep->kinds(), "Done"_ba);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::reqresResponderLeavesNoOtherResponder()
{
    Relay r;
    Party *r1 = r.responder("public"_ba, "svc"_ba);
    Party *q1 = r.requester("public"_ba, "svc"_ba, msg("one"_ba));
    Party *q2 = r.requester("public"_ba, "svc"_ba, msg("two"_ba)); // arrives while "one" is being written
    QCOMPARE(r1->kinds(), "Message"_ba);
    QCOMPARE(r.state(), "channels=1 consumers=0 producers=0 requesters=1 responders=0 inFlight=1"_ba);

    r1->leave();
    QCOMPARE(q1->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=1 consumers=0 producers=0 requesters=2 responders=0 inFlight=0"_ba);

    // "one" went back to the front, ahead of "two".
    Party *r2 = r.responder("public"_ba, "svc"_ba);
    QCOMPARE(r2->kinds(), "Message"_ba);
    QCOMPARE(r2->received().body, "one"_ba);
    Party *r3 = r.responder("public"_ba, "svc"_ba);
    QCOMPARE(r3->kinds(), "Message"_ba);
    QCOMPARE(r3->received().body, "two"_ba);

    r2->delivered();
    r3->delivered();
    Party *rep2 = r.replier("public"_ba, "svc"_ba, r3->requestId(), msg("for two"_ba));
    Party *rep1 = r.replier("public"_ba, "svc"_ba, r2->requestId(), msg("for one"_ba));
    QCOMPARE(q1->kinds(), "Message"_ba);
    QCOMPARE(q1->received().body, "for one"_ba);
    QCOMPARE(q2->kinds(), "Message"_ba);
    QCOMPARE(q2->received().body, "for two"_ba);
    q1->delivered();
    q2->delivered();
    QCOMPARE(rep1->kinds(), "Done"_ba);
    QCOMPARE(rep2->kinds(), "Done"_ba);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::reqresRequeuedRequesterKeepsTimeout()
{
    // PROTOCOL §2: ?timeout= bounds the requester's whole wait, also after its request went back to
    // the line because the responder left.
    Relay r;
    Party *r1 = r.responder("public"_ba, "svc"_ba);
    Party *req = r.requester("public"_ba, "svc"_ba, msg("q"_ba), 10'000);
    QCOMPARE(r1->kinds(), "Message"_ba);
    r.clock.advance(2'000);
    r1->leave();
    QCOMPARE(r.state(), "channels=1 consumers=0 producers=0 requesters=1 responders=0 inFlight=0"_ba);

    r.clock.advance(10'000);
    QCOMPARE(req->kinds(), "Timeout"_ba);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::reqresConcurrentRequesters()
{
    Relay r;
    Party *r1 = r.responder("public"_ba, "svc"_ba);
    Party *r2 = r.responder("public"_ba, "svc"_ba);
    Party *q1 = r.requester("public"_ba, "svc/1"_ba, msg("one"_ba));
    Party *q2 = r.requester("public"_ba, "svc/2"_ba, msg("two"_ba));
    QCOMPARE(r1->received().body, "one"_ba);
    QCOMPARE(r2->received().body, "two"_ba);
    QVERIFY(r1->requestId() != r2->requestId());
    r1->delivered();
    r2->delivered();
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=2 responders=0 inFlight=0"_ba);

    Party *rep2 = r.replier("public"_ba, "svc"_ba, r2->requestId(), msg("for two"_ba, {}, 404));
    QCOMPARE(q1->kinds(), ""_ba);
    QCOMPARE(q2->kinds(), "Message"_ba);
    QCOMPARE(q2->received().body, "for two"_ba);
    QCOMPARE(q2->received().status, 404);
    Party *rep1 = r.replier("public"_ba, "svc"_ba, r1->requestId(), msg("for one"_ba, {}, 200));
    QCOMPARE(q1->kinds(), "Message"_ba);
    QCOMPARE(q1->received().body, "for one"_ba);
    QCOMPARE(q1->received().status, 200);
    QCOMPARE(q2->kinds(), "Message"_ba);

    q1->delivered();
    QCOMPARE(rep1->kinds(), "Done"_ba);
    QCOMPARE(rep2->kinds(), ""_ba);
    q2->delivered();
    QCOMPARE(rep2->kinds(), "Done"_ba);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::reqresRequesterLeavesWhileRequestInFlight_data()
{
    QTest::addColumn<ResponderKind>("kind");
    QTest::addRow("get") << ResponderKind::Get;
    QTest::addRow("one-shot") << ResponderKind::OneShot;
    QTest::addRow("switch") << ResponderKind::Switch;
}

void TestChannelHub::reqresRequesterLeavesWhileRequestInFlight()
{
    QFETCH(ResponderKind, kind);
    Relay r;
    Party *res = r.responderOfKind(kind, "public"_ba, "svc"_ba);
    Party *req = r.requester("public"_ba, "svc"_ba, msg("q"_ba));
    QCOMPARE(res->kinds(), "Message"_ba);
    const QByteArray id = res->requestId();
    req->leave();
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=1"_ba);

    res->delivered();
    QCOMPARE(r.state(), IDLE); // no reply awaited, no double-clutch consumer left behind
    Party *rep = r.replier("public"_ba, "svc"_ba, id, msg("late"_ba));
    QCOMPARE(rep->kinds(), "NoPendingRequest"_ba);
    Party *p = r.producer("public/c"_ba, msg("late"_ba));
    QCOMPARE(p->kinds(), ""_ba);
    p->leave();
    QCOMPARE(req->kinds(), ""_ba);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::reqresRequesterLeavesDuringReply()
{
    Relay r;
    Party *res = r.responder("public"_ba, "svc"_ba);
    Party *req = r.requester("public"_ba, "svc"_ba, msg("q"_ba));
    res->delivered();
    Party *rep = r.replier("public"_ba, "svc"_ba, res->requestId(), msg("reply"_ba));
    QCOMPARE(req->kinds(), "Message"_ba);
    req->leave(); // before the reply drained
    QCOMPARE(rep->kinds(), "NoPendingRequest"_ba);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::reqresReplierLeavesDuringReply()
{
    Relay r;
    Party *res = r.responder("public"_ba, "svc"_ba);
    Party *req = r.requester("public"_ba, "svc"_ba, msg("q"_ba));
    res->delivered();
    Party *rep = r.replier("public"_ba, "svc"_ba, res->requestId(), msg("reply"_ba));
    QCOMPARE(req->kinds(), "Message"_ba);
    rep->leave();
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=1"_ba);
    req->delivered();
    QCOMPARE(req->kinds(), "Message"_ba);
    QCOMPARE(r.state(), IDLE);
}

// --- double clutch -----------------------------------------------------------------------------------

void TestChannelHub::switchProducerAfter()
{
    Relay r;
    Party *res = r.switcher("public"_ba, "api"_ba, "c"_ba);
    Party *req = r.requester("public"_ba, "api/x"_ba, msg("question"_ba, {{"Patch-Method"_ba, "GET"_ba}}));
    QCOMPARE(res->kinds(), "Message"_ba);
    QCOMPARE(res->received().body, "question"_ba);
    QCOMPARE(res->received().headers.at(0).first, "Patch-Request-Id"_ba);
    QCOMPARE(res->received().header("Patch-Method"), "GET"_ba);
    QCOMPARE(r.hub.channelCount(), 0);

    res->delivered();
    QCOMPARE(req->kinds(), ""_ba);
    QCOMPARE(r.hub.channelCount(), 1); // public/c, where the reply will come from
    QCOMPARE(r.hub.waitingCount(Role::Requester), 1);
    QCOMPARE(r.hub.inFlightCount(), 0);

    const HeaderList headers{{"Content-Type"_ba, "text/csv"_ba}, {"X-From"_ba, "c"_ba}};
    Party *p = r.producer("public/c"_ba, msg("answer"_ba, headers, 203));
    QCOMPARE(req->kinds(), "Message"_ba);
    QCOMPARE(req->received().body, "answer"_ba);
    QCOMPARE(req->received().status, 203);
    QCOMPARE(req->received().headers, headers);
    QCOMPARE(p->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=1"_ba);

    req->delivered();
    QCOMPARE(p->kinds(), "Done"_ba);
    QCOMPARE(res->kinds(), "Message"_ba);
    QCOMPARE(r.state(), IDLE);

    // The double-clutch consumer is gone: the next producer waits.
    Party *p2 = r.producer("public/c"_ba, msg("next"_ba));
    QCOMPARE(p2->kinds(), ""_ba);
    p2->leave();
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::switchProducerAlreadyWaiting()
{
    Relay r;
    Party *p = r.producer("public/c"_ba, msg("early"_ba));
    Party *res = r.switcher("public"_ba, "api"_ba, "c"_ba);
    Party *req = r.requester("public"_ba, "api"_ba, msg("q"_ba));
    QCOMPARE(res->kinds(), "Message"_ba);
    QCOMPARE(req->kinds(), ""_ba); // the request is not through yet
    QCOMPARE(r.state(), "channels=1 consumers=0 producers=1 requesters=0 responders=0 inFlight=1"_ba);

    res->delivered();
    QCOMPARE(req->kinds(), "Message"_ba);
    QCOMPARE(req->received().body, "early"_ba);
    QCOMPARE(p->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=1"_ba);
    req->delivered();
    QCOMPARE(p->kinds(), "Done"_ba);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::switchStaysInNamespace()
{
    Relay r;
    Party *res = r.switcher("u/alice"_ba, "api"_ba, "c"_ba);
    Party *req = r.requester("u/alice"_ba, "api"_ba, msg("q"_ba));
    res->delivered();
    Party *other = r.producer("public/c"_ba, msg("wrong namespace"_ba));
    QCOMPARE(req->kinds(), ""_ba);
    QCOMPARE(other->kinds(), ""_ba);
    Party *right = r.producer("u/alice/c"_ba, msg("right"_ba));
    QCOMPARE(req->kinds(), "Message"_ba);
    QCOMPARE(req->received().body, "right"_ba);
    req->delivered();
    QCOMPARE(right->kinds(), "Done"_ba);
    other->leave();
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::switchTimeout_data()
{
    QTest::addColumn<int>("switchTimeoutMs");
    QTest::addColumn<int>("seconds");
    QTest::addRow("default 30 s") << 0 << 30;
    QTest::addRow("configured 5 s") << 5'000 << 5;
}

void TestChannelHub::switchTimeout()
{
    QFETCH(int, switchTimeoutMs);
    QFETCH(int, seconds);
    ChannelHub::Settings settings;
    if (switchTimeoutMs > 0) {
        settings.switchTimeoutMs = switchTimeoutMs;
    }
    Relay r(settings);
    Party *res = r.switcher("public"_ba, "api"_ba, "jobs-reply"_ba);
    Party *req = r.requester("public"_ba, "api"_ba, msg("q"_ba));
    r.clock.advance(1'000); // the switch timeout starts once the request was delivered
    res->delivered();

    r.clock.advance(seconds * 1000 - 1);
    QCOMPARE(req->kinds(), ""_ba);
    r.clock.advance(1);
    QCOMPARE(req->kinds(), "SwitchTimeout"_ba);
    QCOMPARE(req->last().detail, "jobs-reply"_ba);
    QCOMPARE(req->last().seconds, seconds);
    QCOMPARE(r.state(), IDLE);

    Party *p = r.producer("public/jobs-reply"_ba, msg("too late"_ba));
    QCOMPARE(p->kinds(), ""_ba);
    p->leave();
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::switchRequesterLeaves()
{
    Relay r;
    Party *res = r.switcher("public"_ba, "api"_ba, "c"_ba);
    Party *req = r.requester("public"_ba, "api"_ba, msg("q"_ba));
    res->delivered();
    QCOMPARE(r.hub.channelCount(), 1);
    req->leave();
    QCOMPARE(r.state(), IDLE); // the internal consumer went with it

    Party *p = r.producer("public/c"_ba, msg("nobody"_ba));
    QCOMPARE(p->kinds(), ""_ba);
    p->leave();
    r.clock.advance(60'000);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::switchRequesterLeavesDuringReply()
{
    Relay r;
    Party *res = r.switcher("public"_ba, "api"_ba, "c"_ba);
    Party *req = r.requester("public"_ba, "api"_ba, msg("q"_ba));
    res->delivered();
    Party *p = r.producer("public/c"_ba, msg("answer"_ba));
    QCOMPARE(req->kinds(), "Message"_ba);
    req->leave(); // before the reply drained: the message goes back to public/c
    QCOMPARE(p->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=1 consumers=0 producers=1 requesters=0 responders=0 inFlight=0"_ba);

    Party *c = r.consumer("public/c"_ba);
    QCOMPARE(c->kinds(), "Message"_ba);
    QCOMPARE(c->received().body, "answer"_ba);
    c->delivered();
    QCOMPARE(p->kinds(), "Done"_ba);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::switchPubsubProducerDoneAfterRequester()
{
    // PROTOCOL §5.3: the producer on <ns>/<c> gets 200 once the requester has the reply; §4: a
    // publisher's Patch-Subscribers counts receivers that got the whole body.
    Relay r;
    Party *res = r.switcher("public"_ba, "api"_ba, "c"_ba);
    Party *req = r.requester("public"_ba, "api"_ba, msg("q"_ba));
    res->delivered();
    Party *pub = r.publisher("public/c"_ba, msg("broadcast answer"_ba));
    QCOMPARE(req->kinds(), "Message"_ba);
    QCOMPARE(req->received().body, "broadcast answer"_ba);
    QCOMPARE(pub->kinds(), ""_ba);
    req->leave(); // never received it
    QCOMPARE(pub->kinds(), "Done"_ba);
    QCOMPARE(pub->last().subscribers, 0);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::switchClutchBoundedByMaxWait()
{
    // --max-wait bounds the requester's whole wait (PROTOCOL §2). The engine's internal double-clutch
    // consumer must not time out on its own and leave the requester (and the counters) behind.
    ChannelHub::Settings settings;
    settings.maxWaitMs = 10'000;
    Relay r(settings);
    Party *res = r.switcher("public"_ba, "api"_ba, "c"_ba);
    Party *req = r.requester("public"_ba, "api"_ba, msg("q"_ba));
    res->delivered();

    r.clock.advance(10'000);
    const QByteArray atMaxWait = req->kinds();
    r.clock.advance(20'000); // the switch timeout has passed too
    QCOMPARE(r.state(), IDLE);
    QVERIFY2(atMaxWait == "Timeout"_ba || atMaxWait == "SwitchTimeout"_ba,
             QByteArray("answered at max-wait: '" + atMaxWait + "'").constData());
}

// --- timeouts ----------------------------------------------------------------------------------------

void TestChannelHub::timeoutWaiting_data()
{
    QTest::addColumn<Role>("role");
    QTest::addColumn<int>("ownMs");
    QTest::addColumn<int>("maxWaitMs");
    QTest::addColumn<int>("expectedMs"); // -1: waits forever

    const struct
    {
        const char *name;
        Role role;
    } roles[] = {
        {"consumer", Role::Consumer},
        {"producer", Role::Producer},
        {"requester", Role::Requester},
        {"responder", Role::Responder},
    };
    for (const auto &role : roles) {
        QTest::addRow("%s, own 10 s", role.name) << role.role << 10'000 << 0 << 10'000;
        QTest::addRow("%s, own 1.5 s", role.name) << role.role << 1'500 << 0 << 1'500;
        QTest::addRow("%s, max-wait 5 s", role.name) << role.role << 0 << 5'000 << 5'000;
        QTest::addRow("%s, own longer than max-wait", role.name) << role.role << 20'000 << 5'000 << 5'000;
        QTest::addRow("%s, own shorter than max-wait", role.name) << role.role << 2'000 << 5'000 << 2'000;
        QTest::addRow("%s, no bound", role.name) << role.role << 0 << 0 << -1;
    }
}

void TestChannelHub::timeoutWaiting()
{
    QFETCH(Role, role);
    QFETCH(int, ownMs);
    QFETCH(int, maxWaitMs);
    QFETCH(int, expectedMs);
    ChannelHub::Settings settings;
    settings.maxWaitMs = maxWaitMs;
    Relay r(settings);

    Party *w = nullptr;
    QByteArray waiting;
    switch (role) {
    case Role::Consumer:
        w = r.consumer("public/x"_ba, ownMs);
        waiting = "channels=1 consumers=1 producers=0 requesters=0 responders=0 inFlight=0"_ba;
        break;
    case Role::Producer:
        w = r.producer("public/x"_ba, msg("m"_ba), Waiter::Mode::Queue, ownMs);
        waiting = "channels=1 consumers=0 producers=1 requesters=0 responders=0 inFlight=0"_ba;
        break;
    case Role::Requester:
        w = r.requester("public"_ba, "x"_ba, msg("m"_ba), ownMs);
        waiting = "channels=1 consumers=0 producers=0 requesters=1 responders=0 inFlight=0"_ba;
        break;
    case Role::Responder:
        w = r.responder("public"_ba, "x"_ba, ownMs);
        waiting = "channels=1 consumers=0 producers=0 requesters=0 responders=1 inFlight=0"_ba;
        break;
    case Role::Replier:
        QFAIL("not a waiting role");
    }
    QCOMPARE(r.state(), waiting);

    if (expectedMs < 0) {
        r.clock.advance(86'400'000);
        QCOMPARE(w->kinds(), ""_ba);
        QCOMPARE(r.state(), waiting);
        w->leave();
        QCOMPARE(r.state(), IDLE);
        return;
    }
    r.clock.advance(expectedMs - 1); // nothing early
    QCOMPARE(w->kinds(), ""_ba);
    QCOMPARE(r.state(), waiting);
    r.clock.advance(1);
    QCOMPARE(w->kinds(), "Timeout"_ba);
    QCOMPARE(r.state(), IDLE);
    r.clock.advance(100'000);
    QCOMPARE(w->kinds(), "Timeout"_ba); // once

    // Withdrawn: a counterpart arriving now does not find it.
    Party *counterpart = nullptr;
    switch (role) {
    case Role::Consumer:
        counterpart = r.producer("public/x"_ba, msg("m"_ba));
        break;
    case Role::Producer:
        counterpart = r.consumer("public/x"_ba);
        break;
    case Role::Requester:
        counterpart = r.responder("public"_ba, "x"_ba);
        break;
    case Role::Responder:
        counterpart = r.requester("public"_ba, "x"_ba, msg("m"_ba));
        break;
    case Role::Replier:
        break;
    }
    QVERIFY(counterpart);
    QCOMPARE(counterpart->kinds(), ""_ba);
    counterpart->leave();
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::timeoutAwaitingReply_data()
{
    QTest::addColumn<ResponderKind>("kind");
    QTest::addColumn<int>("replyTimeoutMs"); // 0: the default (60 s)
    QTest::addColumn<int>("maxWaitMs");
    QTest::addColumn<int>("ownMs");
    QTest::addColumn<int>("responderAfterMs"); // 0: the responder waits first
    QTest::addColumn<Kind>("expected");
    QTest::addColumn<int>("expectedAtMs"); // after the requester's submit()

    const auto get = ResponderKind::Get;
    const auto sw = ResponderKind::Switch;
    QTest::addRow("get, default reply timeout") << get << 0 << 0 << 0 << 0 << Kind::ReplyTimeout << 60'000;
    QTest::addRow("get, configured reply timeout") << get << 5'000 << 0 << 0 << 0 << Kind::ReplyTimeout << 5'000;
    QTest::addRow("get, requester waited first") << get << 0 << 0 << 0 << 25'000 << Kind::ReplyTimeout << 85'000;
    QTest::addRow("get, own timeout longer") << get << 0 << 0 << 120'000 << 0 << Kind::ReplyTimeout << 60'000;
    QTest::addRow("get, own timeout ends after the reply timeout")
        << get << 0 << 0 << 90'000 << 20'000 << Kind::ReplyTimeout << 80'000;
    QTest::addRow("get, own timeout shorter") << get << 0 << 0 << 10'000 << 0 << Kind::Timeout << 10'000;
    QTest::addRow("get, own timeout shorter, requester waited first")
        << get << 0 << 0 << 10'000 << 4'000 << Kind::Timeout << 10'000;
    QTest::addRow("get, own timeout covers the wait for a responder")
        << get << 0 << 0 << 90'000 << 40'000 << Kind::Timeout << 90'000;
    QTest::addRow("get, max-wait longer") << get << 0 << 100'000 << 0 << 0 << Kind::ReplyTimeout << 60'000;
    QTest::addRow("get, max-wait shorter") << get << 0 << 30'000 << 0 << 0 << Kind::Timeout << 30'000;
    QTest::addRow("switch, default switch timeout") << sw << 0 << 0 << 0 << 0 << Kind::SwitchTimeout << 30'000;
    QTest::addRow("switch, requester waited first") << sw << 0 << 0 << 0 << 5'000 << Kind::SwitchTimeout << 35'000;
    QTest::addRow("switch, own timeout longer") << sw << 0 << 0 << 60'000 << 0 << Kind::SwitchTimeout << 30'000;
    QTest::addRow("switch, own timeout shorter") << sw << 0 << 0 << 10'000 << 0 << Kind::Timeout << 10'000;
}

void TestChannelHub::timeoutAwaitingReply()
{
    QFETCH(ResponderKind, kind);
    QFETCH(int, replyTimeoutMs);
    QFETCH(int, maxWaitMs);
    QFETCH(int, ownMs);
    QFETCH(int, responderAfterMs);
    QFETCH(Kind, expected);
    QFETCH(int, expectedAtMs);
    ChannelHub::Settings settings;
    if (replyTimeoutMs > 0) {
        settings.replyTimeoutMs = replyTimeoutMs;
    }
    settings.maxWaitMs = maxWaitMs;
    Relay r(settings);

    Party *res = responderAfterMs == 0 ? r.responderOfKind(kind, "public"_ba, "svc"_ba) : nullptr;
    Party *req = r.requester("public"_ba, "svc"_ba, msg("q"_ba), ownMs);
    if (responderAfterMs > 0) {
        r.clock.advance(responderAfterMs);
        QCOMPARE(req->kinds(), ""_ba);
        res = r.responderOfKind(kind, "public"_ba, "svc"_ba);
    }
    QCOMPARE(res->kinds(), "Message"_ba);
    res->delivered();
    QCOMPARE(r.hub.waitingCount(Role::Requester), 1);

    r.clock.advance(expectedAtMs - responderAfterMs - 1); // nothing early
    QCOMPARE(req->kinds(), ""_ba);
    r.clock.advance(1);
    QCOMPARE(req->kinds(), kindName(expected));
    if (expected == Kind::SwitchTimeout) {
        QCOMPARE(req->last().detail, "c"_ba);
        QCOMPARE(req->last().seconds, 30);
    }
    QCOMPARE(r.state(), IDLE);
    r.clock.advance(200'000);
    QCOMPARE(req->kinds(), kindName(expected)); // once
}

void TestChannelHub::timeoutNotWhileInFlight_data()
{
    QTest::addColumn<Role>("bounded");
    QTest::addRow("consumer") << Role::Consumer;
    QTest::addRow("producer") << Role::Producer;
}

void TestChannelHub::timeoutNotWhileInFlight()
{
    // Once matched, a party's message is being written: its own timeout no longer applies.
    QFETCH(Role, bounded);
    Relay r;
    const QByteArray key = "public/x"_ba;
    const int consumerTimeout = bounded == Role::Consumer ? 1'000 : 0;
    const int producerTimeout = bounded == Role::Producer ? 1'000 : 0;
    Party *c = nullptr;
    Party *p = nullptr;
    if (bounded == Role::Consumer) {
        c = r.consumer(key, consumerTimeout);
        r.clock.advance(500);
        p = r.producer(key, msg("m"_ba), Waiter::Mode::Queue, producerTimeout);
    } else {
        p = r.producer(key, msg("m"_ba), Waiter::Mode::Queue, producerTimeout);
        r.clock.advance(500);
        c = r.consumer(key, consumerTimeout);
    }
    QCOMPARE(c->kinds(), "Message"_ba);
    r.clock.advance(10'000);
    QCOMPARE(c->kinds(), "Message"_ba);
    QCOMPARE(p->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=1"_ba);
    c->delivered();
    QCOMPARE(p->kinds(), "Done"_ba);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::replyAfterReplyTimeout()
{
    Relay r;
    Party *res = r.responder("public"_ba, "svc"_ba);
    Party *req = r.requester("public"_ba, "svc"_ba, msg("q"_ba));
    res->delivered();
    r.clock.advance(59'999);
    QCOMPARE(req->kinds(), ""_ba);
    Party *inTime = r.replier("public"_ba, "svc"_ba, res->requestId(), msg("just in time"_ba));
    QCOMPARE(req->kinds(), "Message"_ba);
    r.clock.advance(10'000); // the reply deadline no longer applies while the reply is written
    QCOMPARE(req->kinds(), "Message"_ba);
    req->delivered();
    QCOMPARE(inTime->kinds(), "Done"_ba);
    QCOMPARE(r.state(), IDLE);
}

// --- shutdown ----------------------------------------------------------------------------------------

void TestChannelHub::shutdownAnswersWaiting()
{
    Relay r;
    const QByteArray ns = "public"_ba;
    // Waiting parties.
    Party *c1 = r.consumer("public/a"_ba);
    Party *c2 = r.consumer("public/a"_ba);
    Party *p1 = r.producer("public/b"_ba, msg("b"_ba));
    Party *waitingRequester = r.requester(ns, "nobody"_ba, msg("q"_ba));
    Party *waitingResponder = r.responder(ns, "idle"_ba);
    Party *getResponder = r.responder(ns, "get"_ba);
    Party *awaitingReply = r.requester(ns, "get"_ba, msg("q"_ba));
    getResponder->delivered();
    Party *switchResponder = r.switcher(ns, "sw"_ba, "c"_ba);
    Party *awaitingSwitch = r.requester(ns, "sw"_ba, msg("q"_ba));
    switchResponder->delivered();
    // Parties in flight.
    Party *c4 = r.consumer("public/f"_ba);
    Party *p4 = r.producer("public/f"_ba, msg("f"_ba));
    Party *c5 = r.consumer("public/g"_ba);
    Party *p5 = r.publisher("public/g"_ba, msg("g"_ba));
    Party *oneShot = r.oneShot(ns, "fly"_ba, msg("reply"_ba));
    Party *q6 = r.requester(ns, "fly"_ba, msg("q"_ba));
    Party *res7 = r.responder(ns, "rep"_ba);
    Party *q7 = r.requester(ns, "rep"_ba, msg("q"_ba));
    res7->delivered();
    Party *rep7 = r.replier(ns, "rep"_ba, res7->requestId(), msg("r"_ba));
    QCOMPARE(q7->kinds(), "Message"_ba);

    QVERIFY(!r.hub.isShuttingDown());
    r.hub.shutdown();
    QVERIFY(r.hub.isShuttingDown());

    for (Party *w : {c1, c2, p1, waitingRequester, waitingResponder, awaitingReply, awaitingSwitch}) {
        QCOMPARE(w->kinds(), "ShuttingDown"_ba);
    }
    QCOMPARE(getResponder->kinds(), "Message"_ba);
    QCOMPARE(switchResponder->kinds(), "Message"_ba);
    QCOMPARE(c4->kinds(), "Message"_ba);
    QCOMPARE(p4->kinds(), ""_ba);
    QCOMPARE(c5->kinds(), "Message"_ba);
    QCOMPARE(p5->kinds(), ""_ba);
    QCOMPARE(oneShot->kinds(), "Message"_ba);
    QCOMPARE(q6->kinds(), ""_ba);
    QCOMPARE(q7->kinds(), "Message"_ba);
    QCOMPARE(rep7->kinds(), ""_ba);
    QCOMPARE(r.state(), "channels=0 consumers=0 producers=0 requesters=0 responders=0 inFlight=4"_ba);

    r.hub.shutdown(); // twice: nothing new
    QCOMPARE(c1->kinds(), "ShuttingDown"_ba);
    QCOMPARE(awaitingSwitch->kinds(), "ShuttingDown"_ba);

    // Deliveries in flight finish.
    c4->delivered();
    QCOMPARE(p4->kinds(), "Done"_ba);
    c5->delivered();
    QCOMPARE(p5->kinds(), "Done"_ba);
    QCOMPARE(p5->last().subscribers, 1);
    q7->delivered();
    QCOMPARE(rep7->kinds(), "Done"_ba);
    QCOMPARE(r.hub.inFlightCount(), 1);
    oneShot->delivered();
    QCOMPARE(q6->kinds(), "Message"_ba);
    QCOMPARE(q6->received().body, "reply"_ba);
    q6->delivered();
    QCOMPARE(r.state(), IDLE);

    // Newcomers are refused.
    Party *late = r.producer("public/c"_ba, msg("late"_ba));
    QCOMPARE(late->kinds(), "ShuttingDown"_ba);
    r.parties.clear();
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::shutdownRefusesNewParties_data()
{
    QTest::addColumn<int>("which");
    QTest::addRow("consumer") << 0;
    QTest::addRow("queue producer") << 1;
    QTest::addRow("publisher") << 2;
    QTest::addRow("requester") << 3;
    QTest::addRow("get responder") << 4;
    QTest::addRow("one-shot responder") << 5;
    QTest::addRow("switch responder") << 6;
    QTest::addRow("replier") << 7;
}

void TestChannelHub::shutdownRefusesNewParties()
{
    QFETCH(int, which);
    Relay r;
    // A requester awaiting a reply, so the replier would otherwise have a partner.
    Party *res = r.responder("public"_ba, "svc"_ba);
    Party *req = r.requester("public"_ba, "svc"_ba, msg("q"_ba));
    res->delivered();
    const QByteArray id = res->requestId();
    r.hub.shutdown();
    QCOMPARE(req->kinds(), "ShuttingDown"_ba);

    Party *w = nullptr;
    switch (which) {
    case 0:
        w = r.consumer("public/x"_ba);
        break;
    case 1:
        w = r.producer("public/x"_ba, msg("m"_ba));
        break;
    case 2:
        w = r.publisher("public/x"_ba, msg("m"_ba));
        break;
    case 3:
        w = r.requester("public"_ba, "svc"_ba, msg("q"_ba));
        break;
    case 4:
        w = r.responder("public"_ba, "svc"_ba);
        break;
    case 5:
        w = r.oneShot("public"_ba, "svc"_ba, msg("r"_ba));
        break;
    case 6:
        w = r.switcher("public"_ba, "svc"_ba, "c"_ba);
        break;
    case 7:
        w = r.replier("public"_ba, "svc"_ba, id, msg("r"_ba));
        break;
    }
    QVERIFY(w);
    QCOMPARE(w->kinds(), "ShuttingDown"_ba); // synchronously, inside submit()
    QCOMPARE(r.state(), IDLE);
    r.clock.advance(100'000);
    QCOMPARE(w->kinds(), "ShuttingDown"_ba);
    w->leave();
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::shutdownLateWaiters_data()
{
    QTest::addColumn<Late>("late");
    QTest::addRow("queue consumer leaves mid-delivery: producer") << Late::ConsumerLeaves;
    QTest::addRow("responder leaves mid-delivery: requester") << Late::ResponderLeaves;
    QTest::addRow("get responder drains: requester") << Late::GetResponderDrains;
    QTest::addRow("switch responder drains: requester") << Late::SwitchResponderDrains;
}

void TestChannelHub::shutdownLateWaiters()
{
    // PROTOCOL §14: every waiting (unmatched) request gets 503. A party that starts waiting again
    // after shutdown() (its delivery failed, or it now needs a reply that no new request can bring)
    // must be answered ShuttingDown too, not left hanging until the process exits.
    QFETCH(Late, late);
    Relay r;
    Party *waiting = nullptr;
    Party *inFlight = nullptr;
    switch (late) {
    case Late::ConsumerLeaves:
        waiting = r.producer("public/x"_ba, msg("m"_ba));
        inFlight = r.consumer("public/x"_ba);
        break;
    case Late::ResponderLeaves:
    case Late::GetResponderDrains:
        inFlight = r.responder("public"_ba, "svc"_ba);
        waiting = r.requester("public"_ba, "svc"_ba, msg("q"_ba));
        break;
    case Late::SwitchResponderDrains:
        inFlight = r.switcher("public"_ba, "svc"_ba, "c"_ba);
        waiting = r.requester("public"_ba, "svc"_ba, msg("q"_ba));
        break;
    }
    QCOMPARE(inFlight->kinds(), "Message"_ba);
    r.hub.shutdown();
    QCOMPARE(waiting->kinds(), ""_ba);
    QCOMPARE(r.hub.inFlightCount(), 1);

    if (late == Late::ConsumerLeaves || late == Late::ResponderLeaves) {
        inFlight->leave();
    } else {
        inFlight->delivered();
    }
    QCOMPARE(waiting->kinds(), "ShuttingDown"_ba);
    QCOMPARE(r.state(), IDLE);
}

// --- replay ------------------------------------------------------------------------------------------

namespace
{

constexpr qint64 HOUR_MS = 3600 * 1000;

// Publishes m1..m<n> on `key`, 10 s apart, nobody waiting; returns their ids.
QByteArrayList publishSeries(Relay &r, const QByteArray &key, int n)
{
    QByteArrayList ids;
    for (int i = 1; i <= n; ++i) {
        if (i > 1) {
            r.clock.advance(10'000);
        }
        Party *p = r.publisher(key, msg("m" + QByteArray::number(i), {{"Content-Type"_ba, "text/plain"_ba}}));
        ids.append(p->last().message.id);
    }
    return ids;
}

// "#2" stands for the id of m2.
QByteArray sinceValue(const QByteArray &since, const QByteArrayList &ids)
{
    return since.startsWith('#') ? ids.at(since.mid(1).toInt() - 1) : since;
}

} // namespace

void TestChannelHub::replaySince_data()
{
    QTest::addColumn<QByteArray>("since");
    QTest::addColumn<QByteArray>("expected"); // empty: the consumer waits

    // m1..m5 were published at Unix seconds 1700000001, ...011, ...021, ...031, ...041 (now).
    QTest::addRow("not given") << ""_ba
                               << ""_ba;
    QTest::addRow("all") << "all"_ba
                         << "m1"_ba;
    QTest::addRow("after m1") << "#1"_ba
                              << "m2"_ba;
    QTest::addRow("after m4") << "#4"_ba
                              << "m5"_ba;
    QTest::addRow("after the newest") << "#5"_ba
                                      << ""_ba;
    QTest::addRow("unknown id") << "unknown-1"_ba
                                << "!m1"_ba;
    QTest::addRow("unix seconds of m3") << "1700000021"_ba
                                        << "m3"_ba;
    QTest::addRow("unix seconds after m3") << "1700000022"_ba
                                           << "m4"_ba;
    QTest::addRow("unix seconds in the future") << "1700000042"_ba
                                                << ""_ba;
    QTest::addRow("15 s ago") << "15s"_ba
                              << "m4"_ba;
    QTest::addRow("1 m ago") << "1m"_ba
                             << "m1"_ba;
}

void TestChannelHub::replaySince()
{
    QFETCH(QByteArray, since);
    QFETCH(QByteArray, expected);
    Relay r({}, true);
    const QByteArray key = "public/pubsub/r"_ba;
    const QByteArrayList ids = publishSeries(r, key, 5);
    QCOMPARE(r.state(), "channels=1 consumers=0 producers=0 requesters=0 responders=0 inFlight=0"_ba);

    Party *c = r.resumer(key, sinceValue(since, ids));
    if (expected.isEmpty()) {
        QCOMPARE(c->kinds(), ""_ba); // waits as usual
        QCOMPARE(r.state(), "channels=1 consumers=1 producers=0 requesters=0 responders=0 inFlight=0"_ba);
        Party *p = r.publisher(key, msg("m6"_ba));
        QCOMPARE(Relay::bodies(c), QByteArrayList{"m6"_ba});
        c->delivered();
        QCOMPARE(p->kinds(), "Done"_ba);
        QCOMPARE(p->last().subscribers, 1);
        return;
    }
    // Answered at once, inside submit(), with the oldest matching message and its id and time.
    QCOMPARE(c->kinds(), "Message"_ba);
    QCOMPARE(Relay::bodies(c), QByteArrayList{expected});
    const int n = expected.back() - '0';
    QCOMPARE(c->received().id, ids.at(n - 1));
    QCOMPARE(c->received().time, qint64(1'700'000'001 + 10 * (n - 1)));
    QCOMPARE(c->received().header("Content-Type"), "text/plain"_ba);
    c->delivered(); // nobody waits for this outcome
    QCOMPARE(r.state(), "channels=1 consumers=0 producers=0 requesters=0 responders=0 inFlight=0"_ba);
}

void TestChannelHub::replayGapAfterEviction()
{
    Relay r(Relay::replayLimits({3, HOUR_MS, 1 << 20, 1 << 24}), true);
    const QByteArray key = "public/pubsub/g"_ba;
    const QByteArrayList ids = publishSeries(r, key, 5);
    QCOMPARE(Relay::bodies(r.resumer(key, ids.at(0))), QByteArrayList{"!m3"_ba}); // m1, m2 evicted: m2 missed
    QCOMPARE(Relay::bodies(r.resumer(key, ids.at(1))), QByteArrayList{"m3"_ba}); // the newest evicted: no gap
    QCOMPARE(Relay::bodies(r.resumer(key, ids.at(2))), QByteArrayList{"m4"_ba});
}

void TestChannelHub::replayUnknownIdOnEmptyChannelWaits()
{
    Relay r({}, true);
    const QByteArray key = "public/pubsub/empty"_ba;
    // An id of this run (all its messages evicted since): nothing missed.
    const QByteArray ours = r.hub.idPrefix() + "7";
    Party *c = r.resumer(key, ours);
    QCOMPARE(c->kinds(), ""_ba);
    r.publisher(key, msg("next"_ba));
    QCOMPARE(Relay::bodies(c), QByteArrayList{"next"_ba});
    // An id of no run this hub knows (an earlier run without a journal, another server, a typo): the
    // client waits, and its message tells that it may have missed some.
    Party *lost = r.resumer(key + "2", "lost-id");
    QCOMPARE(lost->kinds(), ""_ba);
    r.publisher(key + "2", msg("next"_ba));
    QCOMPARE(Relay::bodies(lost), QByteArrayList{"!next"_ba});
}

void TestChannelHub::replayResumeLosesNothing()
{
    // A subscriber loop that reconnects with since=<last id> gets every message, including the three
    // published while it was away, exactly once and in order.
    Relay r({}, true);
    const QByteArray key = "public/pubsub/loop"_ba;
    QByteArrayList received;
    QByteArray last;
    Party *c = r.resumer(key, last);
    Party *p1 = r.publisher(key, msg("m1"_ba));
    QCOMPARE(c->kinds(), "Message"_ba);
    c->delivered();
    QCOMPARE(p1->last().subscribers, 1);
    received.append(c->received().body);
    last = c->received().id;

    for (int i = 2; i <= 4; ++i) { // the subscriber is away
        QCOMPARE(r.publisher(key, msg("m" + QByteArray::number(i)))->last().subscribers, 0);
    }
    for (;;) {
        c = r.resumer(key, last);
        if (c->answers.isEmpty()) {
            break; // caught up: it waits
        }
        QVERIFY(!c->last().gap);
        received.append(c->received().body);
        last = c->received().id;
    }
    QCOMPARE(received, (QByteArrayList{"m1"_ba, "m2"_ba, "m3"_ba, "m4"_ba}));
    r.publisher(key, msg("m5"_ba));
    QCOMPARE(Relay::bodies(c), QByteArrayList{"m5"_ba});
}

void TestChannelHub::replayChannelLiveUntilExpired()
{
    Relay r(Relay::replayLimits({100, 60'000, 1 << 20, 1 << 24}), true);
    QSignalSpy counts(&r.hub, &ChannelHub::channelCountChanged);
    Party *p = r.publisher("public/pubsub/kept"_ba, msg("m"_ba));
    QCOMPARE(p->last().subscribers, 0);
    QCOMPARE(r.hub.channelCount(), 1);
    QCOMPARE(counts.size(), 1);
    r.clock.advance(59'999);
    QCOMPARE(r.hub.channelCount(), 1);
    QCOMPARE(Relay::bodies(r.resumer("public/pubsub/kept"_ba, "all")), QByteArrayList{"m"_ba});
    r.clock.advance(1);
    QCOMPARE(r.hub.channelCount(), 0);
    QCOMPARE(counts.size(), 2);
    QCOMPARE(counts.last().at(0).value<qsizetype>(), 0);
    Party *late = r.resumer("public/pubsub/kept"_ba, "all");
    QCOMPARE(late->kinds(), ""_ba);
    late->leave();
    QCOMPARE(r.state(), IDLE);
    QCOMPARE(r.hub.replayBuffer()->totalBytes(), 0);
}

void TestChannelHub::replayQueueMessagesNotKept()
{
    Relay r({}, true);
    const QByteArray flex = "public/flex"_ba;
    Party *c = r.consumer(flex);
    Party *q = r.producer(flex, msg("queued"_ba));
    c->delivered();
    QCOMPARE(q->kinds(), "Done"_ba);
    QCOMPARE(r.state(), IDLE); // nothing kept of a queue message

    // On a flexible path the mode is the producer's: pubsub messages are kept, queue messages never.
    r.publisher(flex, msg("published"_ba));
    r.producer(flex, msg("queued again"_ba), Waiter::Mode::Queue, 1000);
    QCOMPARE(Relay::bodies(r.resumer(flex, "all")), QByteArrayList{"published"_ba});
    Party *c2 = r.consumer(flex); // a plain consumer takes the waiting queue message
    QCOMPARE(Relay::bodies(c2), QByteArrayList{"queued again"_ba});
}

void TestChannelHub::replayFlexiblePath()
{
    // since= works on any key that has pubsub messages, e.g. GET /public/x?since=all.
    Relay r({}, true);
    r.publisher("public/x"_ba, msg("one"_ba));
    r.publisher("public/x"_ba, msg("two"_ba));
    Party *c = r.resumer("public/x"_ba, "all");
    QCOMPARE(Relay::bodies(c), QByteArrayList{"one"_ba});
    QCOMPARE(Relay::bodies(r.resumer("public/x"_ba, c->received().id)), QByteArrayList{"two"_ba});
    QCOMPARE(r.resumer("public/other"_ba, "all")->kinds(), ""_ba); // keys are exact
}

void TestChannelHub::replayDisabled()
{
    Relay r; // replay off
    r.publisher("public/pubsub/off"_ba, msg("gone"_ba));
    QCOMPARE(r.state(), IDLE);
    Party *c = r.resumer("public/pubsub/off"_ba, "all");
    QCOMPARE(c->kinds(), ""_ba);
    c->leave();
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::replaySettingsApplyAtOnce()
{
    Relay r({}, true);
    const QByteArray key = "public/pubsub/s"_ba;
    publishSeries(r, key, 3);
    QCOMPARE(r.hub.channelCount(), 1);
    r.hub.setSettings(Relay::replayLimits({0, HOUR_MS, 1 << 20, 1 << 24})); // reload with replay off
    QCOMPARE(r.state(), IDLE);
    r.hub.setSettings(Relay::replayLimits({2, HOUR_MS, 1 << 20, 1 << 24}));
    publishSeries(r, key, 3);
    QCOMPARE(Relay::bodies(r.resumer(key, "all")), QByteArrayList{"m2"_ba});
}

// --- event streams -----------------------------------------------------------------------------------

void TestChannelHub::streamGetsEveryMessage()
{
    Relay r;
    const QByteArray key = "public/pubsub/live"_ba;
    Party *s = r.stream(key);
    QCOMPARE(s->kinds(), ""_ba);
    QCOMPARE(r.hub.streamCount(), 1);
    QCOMPARE(r.state(), "channels=1 consumers=1 producers=0 requesters=0 responders=0 inFlight=0"_ba);
    QByteArrayList ids;
    for (int i = 1; i <= 3; ++i) {
        Party *p = r.publisher(key, msg("m" + QByteArray::number(i)));
        // The publisher is answered at once: a stream counts when it is handed the event.
        QCOMPARE(p->kinds(), "Done"_ba);
        QCOMPARE(p->last().subscribers, 1);
        ids.append(p->last().message.id);
    }
    QCOMPARE(Relay::bodies(s), (QByteArrayList{"m1"_ba, "m2"_ba, "m3"_ba}));
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(s->answers.at(i).message.id, ids.at(i));
    }
    QCOMPARE(r.state(), "channels=1 consumers=1 producers=0 requesters=0 responders=0 inFlight=0"_ba);
    s->delivered(); // drained: changes nothing for a stream
    QCOMPARE(r.hub.streamCount(), 1);
    s->leave();
    QCOMPARE(r.hub.streamCount(), 0);
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::streamCountsAsSubscriber()
{
    Relay r;
    const QByteArray key = "public/pubsub/mixed"_ba;
    Party *s1 = r.stream(key);
    Party *c = r.consumer(key);
    Party *s2 = r.stream(key);
    QCOMPARE(r.hub.waitingCount(Role::Consumer), 3);
    Party *p = r.publisher(key, msg("hello"_ba));
    QCOMPARE(Relay::bodies(s1), QByteArrayList{"hello"_ba});
    QCOMPARE(Relay::bodies(s2), QByteArrayList{"hello"_ba});
    QCOMPARE(Relay::bodies(c), QByteArrayList{"hello"_ba});
    QVERIFY(s1->received().body.isSharedWith(c->received().body)); // one body for all
    QCOMPARE(p->kinds(), ""_ba); // the long-polling consumer has not drained yet
    c->delivered();
    QCOMPARE(p->kinds(), "Done"_ba);
    QCOMPARE(p->last().subscribers, 3);
    QCOMPARE(r.hub.waitingCount(Role::Consumer), 2);
}

void TestChannelHub::streamReplayThenLive_data()
{
    QTest::addColumn<QByteArray>("since");
    QTest::addColumn<QByteArrayList>("expected");
    QTest::addRow("not given") << ""_ba << QByteArrayList{"live"_ba};
    QTest::addRow("all") << "all"_ba << QByteArrayList{"m1"_ba, "m2"_ba, "m3"_ba, "live"_ba};
    QTest::addRow("after m1") << "#1"_ba << QByteArrayList{"m2"_ba, "m3"_ba, "live"_ba};
    QTest::addRow("after the newest") << "#3"_ba << QByteArrayList{"live"_ba};
    QTest::addRow("unknown id") << "nope"_ba << QByteArrayList{"!m1"_ba, "m2"_ba, "m3"_ba, "live"_ba};
    QTest::addRow("unix seconds") << "1700000011"_ba << QByteArrayList{"m2"_ba, "m3"_ba, "live"_ba};
    QTest::addRow("duration") << "5s"_ba << QByteArrayList{"m3"_ba, "live"_ba};
}

void TestChannelHub::streamReplayThenLive()
{
    QFETCH(QByteArray, since);
    QFETCH(QByteArrayList, expected);
    Relay r({}, true);
    const QByteArray key = "public/pubsub/rs"_ba;
    const QByteArrayList ids = publishSeries(r, key, 3);
    Party *s = r.stream(key, sinceValue(since, ids));
    QCOMPARE(r.hub.streamCount(), 1);
    Party *p = r.publisher(key, msg("live"_ba));
    QCOMPARE(p->last().subscribers, 1);
    QCOMPARE(Relay::bodies(s), expected);
}

void TestChannelHub::streamSkipsQueueMessages()
{
    Relay r;
    const QByteArray flex = "public/flex"_ba;
    Party *s = r.stream(flex);
    Party *q = r.producer(flex, msg("for one consumer"_ba));
    QCOMPARE(q->kinds(), ""_ba); // a stream never takes a queue message
    QCOMPARE(r.state(), "channels=1 consumers=1 producers=1 requesters=0 responders=0 inFlight=0"_ba);
    Party *c = r.consumer(flex);
    QCOMPARE(Relay::bodies(c), QByteArrayList{"for one consumer"_ba});
    r.publisher(flex, msg("for everyone"_ba));
    QCOMPARE(Relay::bodies(s), QByteArrayList{"for everyone"_ba});
}

void TestChannelHub::streamDroppedWhileHandlingEvent()
{
    // The front end drops a stream whose client stopped reading while it handles an event: that
    // stream does not count, and the others are not affected.
    Relay r;
    const QByteArray key = "public/pubsub/slow"_ba;
    Party *slow = r.stream(key);
    Party *fine = r.stream(key);
    QObject::connect(
        slow->waiter.get(), &Waiter::answered, slow->waiter.get(), [slow](const Answer &) { slow->waiter->abandon(); });
    Party *p = r.publisher(key, msg("one"_ba));
    QCOMPARE(p->last().subscribers, 1);
    QCOMPARE(r.hub.streamCount(), 1);
    Party *p2 = r.publisher(key, msg("two"_ba));
    QCOMPARE(p2->last().subscribers, 1);
    QCOMPARE(Relay::bodies(slow), QByteArrayList{"one"_ba});
    QCOMPARE(Relay::bodies(fine), (QByteArrayList{"one"_ba, "two"_ba}));
    slow->leave(); // the connection goes later: nothing more happens
    fine->leave();
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::streamDroppedDuringReplay()
{
    Relay r({}, true);
    const QByteArray key = "public/pubsub/replaydrop"_ba;
    publishSeries(r, key, 3);
    auto w = std::make_unique<Waiter>(Role::Consumer, key);
    w->setStreaming(true);
    w->setSince(parseSince("all"));
    Waiter *raw = w.get();
    QObject::connect(raw, &Waiter::answered, raw, [raw](const Answer &) { raw->abandon(); });
    Party *s = r.submit(std::move(w));
    QCOMPARE(Relay::bodies(s), QByteArrayList{"m1"_ba});
    QCOMPARE(r.hub.streamCount(), 0);
    QCOMPARE(r.state(), "channels=1 consumers=0 producers=0 requesters=0 responders=0 inFlight=0"_ba);
}

// waiter.h allows the front end to destroy a waiter inside answered(): the engine must not touch it
// afterwards (ASan reports the use after free this once was).
void TestChannelHub::streamDeletedInAnsweredDuringFanOut()
{
    Relay r;
    const QByteArray key = "public/pubsub/gone"_ba;
    Party *gone = r.stream(key);
    Party *stays = r.stream(key);
    QObject::connect(
        gone->waiter.get(), &Waiter::answered, gone->waiter.get(), [gone](const Answer &) { gone->waiter.reset(); });
    Party *p = r.publisher(key, msg("one"_ba));
    QCOMPARE(p->last().subscribers, 1);
    QCOMPARE(Relay::bodies(gone), QByteArrayList{"one"_ba});
    QCOMPARE(Relay::bodies(stays), QByteArrayList{"one"_ba});
    QCOMPARE(r.hub.streamCount(), 1);
    QCOMPARE(r.publisher(key, msg("two"_ba))->last().subscribers, 1);
    stays->leave();
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::streamDeletedInAnsweredDuringReplay()
{
    Relay r({}, true);
    const QByteArray key = "public/pubsub/replaygone"_ba;
    publishSeries(r, key, 3);
    auto w = std::make_unique<Waiter>(Role::Consumer, key);
    w->setStreaming(true);
    w->setSince(parseSince("all"));
    Waiter *raw = w.get();
    Party *s = nullptr;
    QObject::connect(raw, &Waiter::answered, raw, [&s](const Answer &) { s->waiter.reset(); });
    // submit() connects its recorder after this slot: record through the party it returns.
    r.parties.push_back(std::make_unique<Party>());
    s = r.parties.back().get();
    s->waiter = std::move(w);
    r.hub.submit(raw);
    QVERIFY(!s->waiter);
    QCOMPARE(r.hub.streamCount(), 0);
    QCOMPARE(r.state(), "channels=1 consumers=0 producers=0 requesters=0 responders=0 inFlight=0"_ba);
}

void TestChannelHub::consumersDeletedInAnswered()
{
    Relay r;
    const QByteArray key = "public/pubsub/many"_ba;
    QList<Party *> consumers;
    for (int i = 0; i < 3; ++i) {
        Party *c = r.consumer(key);
        QObject::connect(
            c->waiter.get(), &Waiter::answered, c->waiter.get(), [c](const Answer &) { c->waiter.reset(); });
        consumers.append(c);
    }
    Party *p = r.publisher(key, msg("x"_ba));
    // Every consumer left before its answer drained: none counts as a receiver.
    QCOMPARE(p->kinds(), "Done"_ba);
    QCOMPARE(p->last().subscribers, 0);
    for (Party *c : std::as_const(consumers)) {
        QCOMPARE(Relay::bodies(c), QByteArrayList{"x"_ba});
    }
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::streamLeaves()
{
    Relay r;
    const QByteArray key = "public/pubsub/bye"_ba;
    Party *a = r.stream(key);
    Party *b = r.stream(key);
    a->leave();
    QCOMPARE(r.publisher(key, msg("x"_ba))->last().subscribers, 1);
    b->leave();
    QCOMPARE(r.state(), IDLE);
    QCOMPARE(r.publisher(key, msg("y"_ba))->last().subscribers, 0);
}

void TestChannelHub::streamTimeout()
{
    Relay r;
    const QByteArray key = "public/pubsub/t"_ba;
    Party *s = r.stream(key, {}, 5000);
    r.clock.advance(2000);
    r.publisher(key, msg("before"_ba));
    r.clock.advance(2999);
    QCOMPARE(s->kinds(), "Message"_ba);
    r.clock.advance(1); // ?timeout= counts from the start of the stream
    QCOMPARE(s->kinds(), "Message,Timeout"_ba);
    QCOMPARE(r.hub.streamCount(), 0);
    QCOMPARE(r.state(), IDLE);
    QCOMPARE(r.publisher(key, msg("after"_ba))->last().subscribers, 0);
}

void TestChannelHub::streamShutdown()
{
    Relay r;
    Party *s = r.stream("public/pubsub/sd"_ba);
    r.hub.shutdown();
    QCOMPARE(s->kinds(), "ShuttingDown"_ba);
    QCOMPARE(r.hub.streamCount(), 0);
    QCOMPARE(r.state(), IDLE);
    Party *late = r.stream("public/pubsub/sd"_ba);
    QCOMPARE(late->kinds(), "ShuttingDown"_ba);
}

// --- signals -----------------------------------------------------------------------------------------

void TestChannelHub::channelCountChangedSignal()
{
    Relay r;
    QSignalSpy spy(&r.hub, &ChannelHub::channelCountChanged);
    const auto counts = [&spy]() {
        QList<qsizetype> values;
        for (const QList<QVariant> &args : std::as_const(spy)) {
            values.append(args.at(0).value<qsizetype>());
        }
        spy.clear();
        return values;
    };
    Party *a1 = r.consumer("public/a"_ba);
    QCOMPARE(counts(), QList<qsizetype>{1});
    Party *b = r.consumer("public/b"_ba);
    QCOMPARE(counts(), QList<qsizetype>{2});
    Party *a2 = r.consumer("public/a"_ba);
    QCOMPARE(counts(), QList<qsizetype>{});
    a1->leave();
    QCOMPARE(counts(), QList<qsizetype>{});
    a2->leave();
    QCOMPARE(counts(), QList<qsizetype>{1});
    Party *p = r.producer("public/b"_ba, msg("m"_ba));
    QCOMPARE(counts(), QList<qsizetype>{0});
    b->delivered();
    QCOMPARE(p->kinds(), "Done"_ba);
    QCOMPARE(counts(), QList<qsizetype>{});
    QCOMPARE(r.state(), IDLE);
}

void TestChannelHub::messageDeliveredSignal()
{
    Relay r;
    QSignalSpy spy(&r.hub, &ChannelHub::messageDelivered);

    Party *c = r.consumer("public/q"_ba);
    r.producer("public/q"_ba, msg("12345"_ba));
    QCOMPARE(spy.size(), 0);
    c->delivered();
    QCOMPARE(spy.size(), 1);
    QCOMPARE(spy.at(0).at(0).toByteArray(), "public/q"_ba);
    QCOMPARE(spy.at(0).at(1).toBool(), false);
    QCOMPARE(spy.at(0).at(2).toLongLong(), 5);
    QCOMPARE(spy.at(0).at(3).toInt(), 1);

    Party *s1 = r.consumer("public/p"_ba);
    Party *s2 = r.consumer("public/p"_ba);
    Party *s3 = r.consumer("public/p"_ba);
    r.publisher("public/p"_ba, msg("abc"_ba));
    s1->delivered();
    s2->leave();
    QCOMPARE(spy.size(), 1);
    s3->delivered();
    QCOMPARE(spy.size(), 2);
    QCOMPARE(spy.at(1).at(0).toByteArray(), "public/p"_ba);
    QCOMPARE(spy.at(1).at(1).toBool(), true);
    QCOMPARE(spy.at(1).at(2).toLongLong(), 3);
    QCOMPARE(spy.at(1).at(3).toInt(), 2);

    r.publisher("public/empty"_ba, msg("x"_ba));
    QCOMPARE(spy.size(), 3);
    QCOMPARE(spy.at(2).at(1).toBool(), true);
    QCOMPARE(spy.at(2).at(3).toInt(), 0);
    QCOMPARE(r.state(), IDLE);
}

QTEST_GUILESS_MAIN(TestChannelHub)
#include "tst_channelhub.moc"
