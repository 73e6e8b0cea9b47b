"""The outbox against the real Slack notifier and the fake Web API: nothing lost, nothing twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient
from sqlmodel import Session, select

from bot import audit
from bot.clock import ManualClock
from bot.db import make_engine, run_in_session
from bot.models import OutboxMessage
from bot.outbox import MAX_ATTEMPTS, DeliveryWorker, Destination, enqueue
from bot.replies import Notice
from handlers.slack.notifier import SlackNotifier
from tests import worker_process
from tests.fake_slack import FakeSlack
from tests.payloads import BOT_TOKEN

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


def notifier_for(fake: FakeSlack) -> SlackNotifier:
    # No client-side retries: the outbox decides when to try again.
    return SlackNotifier(WebClient(token=BOT_TOKEN, base_url=fake.url, retry_handlers=[], timeout=5))


@pytest.fixture
def worker(engine, fake_slack, clock) -> DeliveryWorker:
    return DeliveryWorker(engine, notifier_for(fake_slack), clock)


def put(engine, clock, key, to=None, text="hello", **kwargs) -> bool:
    def write(session):
        return enqueue(
            session,
            key=key,
            to=to or Destination.channel("C0STUDY"),
            notice=Notice("text", {"text": text}),
            now=clock.now(),
            study_id=1,
            **kwargs,
        )

    return run_in_session(engine, write)


def rows(engine) -> dict[str, OutboxMessage]:
    with Session(engine) as session:
        return {r.key: r for r in session.exec(select(OutboxMessage))}


def person_id(engine, handle) -> int:
    from bot.models import Person

    with Session(engine) as session:
        return session.exec(select(Person).where(Person.handle == handle)).one().id


def test_the_same_key_enqueued_twice_is_sent_once(engine, study, worker, fake_slack, clock):
    assert put(engine, clock, "hello:1") is True
    assert put(engine, clock, "hello:1", text="again") is False
    worker.drain()
    worker.drain()
    assert fake_slack.posted_keys() == ["hello:1"]
    row = rows(engine)["hello:1"]
    assert (row.state, row.platform_channel, row.platform_message_id) == (
        "sent",
        "C0STUDY",
        fake_slack.posted[0].ts,
    )


def test_a_message_waits_until_it_is_due(engine, study, worker, fake_slack, clock):
    put(engine, clock, "later:1", due_at=T0.replace(hour=15))
    report = worker.drain()
    assert fake_slack.posted == [] and report.next_due == T0.replace(hour=15)
    clock.set(T0.replace(hour=15))
    worker.drain()
    assert fake_slack.posted_keys() == ["later:1"]


def test_a_direct_message_reaches_the_person_by_their_slack_id(engine, study, worker, fake_slack, clock):
    put(engine, clock, "dm:mei", to=Destination.person(person_id(engine, "mei")))
    worker.drain()
    assert [(p.channel, p.key) for p in fake_slack.posted] == [("D02MEI", "dm:mei")]


def test_a_thread_reply_waits_for_its_parent_and_lands_under_it(engine, study, worker, fake_slack, clock):
    put(engine, clock, "reply:1", to=Destination.thread("parent:1"))
    put(engine, clock, "parent:1", due_at=T0.replace(minute=1))
    worker.drain()
    assert fake_slack.posted == []  # the parent is not due yet, so neither is the reply
    clock.set(T0.replace(minute=1))
    worker.drain()
    clock.advance(seconds=5)
    worker.drain()
    parent, reply = fake_slack.posted
    assert (parent.key, reply.key, reply.thread_ts) == ("parent:1", "reply:1", parent.ts)


def test_429_waits_for_retry_after_and_loses_nothing(engine, study, worker, fake_slack, clock):
    limited_until = T0.replace(second=30)

    def rate_limit_the_study_channel(call):
        if call.params["channel"] == "C0STUDY" and clock.now() < limited_until:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"}
        return fake_slack._post_message(call)

    fake_slack.respond_with("chat.postMessage", rate_limit_the_study_channel)
    put(engine, clock, "channel:1")
    put(engine, clock, "channel:2")
    put(engine, clock, "dm:omar", to=Destination.person(person_id(engine, "omar")))
    report = worker.drain()
    # The limited channel waits; the DM to someone else is not held up behind it.
    assert fake_slack.posted_keys() == ["dm:omar"]
    assert report.next_due == limited_until
    assert rows(engine)["channel:1"].attempts == 0  # waiting one's turn is not a failure
    clock.set(limited_until)
    worker.drain()
    assert sorted(fake_slack.posted_keys()) == ["channel:1", "channel:2", "dm:omar"]


def test_a_minute_of_server_errors_then_recovery_delivers_everything_once(
    engine, study, worker, fake_slack, clock
):
    outage_ends = T0.replace(minute=1)

    def outage(call):
        if clock.now() < outage_ends:
            return 500, {"ok": False, "error": "fatal_error"}, {}
        return fake_slack._post_message(call)

    fake_slack.respond_with("chat.postMessage", outage)
    keys = [f"outage:{i}" for i in range(10)]
    for key in keys:
        put(engine, clock, key)
    while clock.now() < outage_ends + (outage_ends - T0) * 10:
        worker.drain()
        clock.advance(seconds=1)
    assert sorted(fake_slack.posted_keys()) == sorted(keys)
    assert all(r.state == "sent" for r in rows(engine).values())
    attempts = [c for c in fake_slack.calls_to("chat.postMessage")]
    assert len(attempts) < 10 * 12  # backed off: far fewer than one try a second for a minute


def test_a_permanent_error_is_recorded_and_reported_to_the_admins(engine, study, worker, fake_slack, clock):
    def archived(call):
        if call.params["channel"] == "C0GONE":
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        return fake_slack._post_message(call)

    fake_slack.respond_with("chat.postMessage", archived)
    put(engine, clock, "gone:1", to=Destination.channel("C0GONE"))
    worker.drain()
    row = rows(engine)["gone:1"]
    assert (row.state, row.last_error, row.attempts) == ("failed", "channel_not_found", 1)
    reports = [p for p in fake_slack.posted if (p.key or "").startswith("failed:gone:1")]
    assert sorted(p.channel for p in reports) == ["D01ALICE", "D02RAJ"]  # the plan's admins, by DM
    assert "could not be delivered to channel C0GONE: channel_not_found" in reports[0].text
    with Session(engine) as session:
        [event] = audit.events_for(session, study_id=1, action="delivery.failed")
        assert event.subject == "gone:1"
    worker.drain()
    assert len(fake_slack.calls_to("chat.postMessage")) == 3  # never retried


@pytest.mark.parametrize(
    ("notice", "reason"),
    [
        (Notice("escalation_moved", {"ref": "ACME-201-E9"}), "cannot draw 'escalation_moved': KeyError"),
        (Notice("no_such_kind", {}), "no view for notices of kind 'no_such_kind'"),
    ],
)
def test_a_notice_that_cannot_be_drawn_fails_at_once_and_the_admins_hear(
    engine, study, worker, fake_slack, clock, notice, reason
):
    def write(session):
        return enqueue(
            session,
            key="broken:1",
            to=Destination.channel("C0STUDY"),
            notice=notice,
            now=clock.now(),
            study_id=1,
        )

    run_in_session(engine, write)
    worker.drain()
    row = rows(engine)["broken:1"]
    assert (row.state, row.attempts) == ("failed", 1) and row.last_error.startswith(reason)
    reports = [p for p in fake_slack.posted if (p.key or "").startswith("failed:broken:1")]
    assert sorted(p.channel for p in reports) == ["D01ALICE", "D02RAJ"]
    clock.advance(hours=3)
    worker.drain()
    assert rows(engine)["broken:1"].attempts == 1  # a drawing error is not retried like a network error
    assert not [p for p in fake_slack.posted if p.key == "broken:1"]


def test_a_server_error_after_slack_kept_the_message_does_not_send_it_twice(
    engine, study, worker, fake_slack, clock
):
    fake_slack.ts_clock = lambda: clock.now().timestamp()
    answered = []

    def keep_it_but_time_out_the_first_time(call):
        status, body, headers = fake_slack._post_message(call)
        answered.append(status)
        return (
            (504, {"ok": False, "error": "gateway_timeout"}, {})
            if len(answered) == 1
            else (status, body, headers)
        )

    fake_slack.respond_with("chat.postMessage", keep_it_but_time_out_the_first_time)
    put(engine, clock, "ambiguous:1")
    worker.drain()
    assert rows(engine)["ambiguous:1"].state == "pending"
    clock.advance(minutes=1)
    worker.drain()
    assert fake_slack.posted_keys() == ["ambiguous:1"]  # found in the history, not posted again
    assert rows(engine)["ambiguous:1"].state == "sent"


def test_temporary_errors_are_not_retried_forever(engine, study, worker, fake_slack, clock):
    fake_slack.respond_with(
        "chat.postMessage", lambda call: (503, {"ok": False, "error": "service_unavailable"}, {})
    )
    put(engine, clock, "doomed:1")
    for _ in range(MAX_ATTEMPTS * 3):
        worker.drain()
        clock.advance(minutes=20)
    row = rows(engine)["doomed:1"]
    assert row.state == "failed" and row.last_error.startswith(f"gave up after {MAX_ATTEMPTS} attempts")
    tries = [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.params["metadata"]["event_payload"]["key"] == "doomed:1"
    ]
    assert len(tries) == MAX_ATTEMPTS


def test_a_connection_error_is_retried(engine, study, clock, fake_slack):
    dead = SlackNotifier(
        WebClient(token=BOT_TOKEN, base_url="http://127.0.0.1:9/api/", retry_handlers=[], timeout=2)
    )
    put(engine, clock, "offline:1")
    DeliveryWorker(engine, dead, clock).drain()
    row = rows(engine)["offline:1"]
    assert row.state == "pending" and "connection" in row.last_error and row.next_attempt_at > T0
    clock.set(row.next_attempt_at)
    DeliveryWorker(engine, notifier_for(fake_slack), clock).drain()
    assert fake_slack.posted_keys() == ["offline:1"]


def test_two_workers_on_one_database_send_each_message_once(database_url, study, fake_slack, clock):
    keys = [f"fanout:{i}" for i in range(120)]
    first, second = make_engine(database_url), make_engine(database_url)
    for key in keys:
        put(first, clock, key, to=Destination.channel(f"C{key.split(':')[1]:0>4}"))
    workers = [DeliveryWorker(engine, notifier_for(fake_slack), clock, batch=7) for engine in (first, second)]
    threads = [threading.Thread(target=w.drain) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(fake_slack.posted_keys()) == sorted(keys)
    first.dispose()
    second.dispose()


def test_a_worker_killed_mid_fan_out_is_finished_by_the_next_without_duplicates(
    engine, database_url, study, fake_slack, clock
):
    import signal
    import time

    keys = [f"fanout:{i:02d}" for i in range(20)]
    for i, key in enumerate(keys):
        put(engine, clock, key, to=Destination.channel(f"C{i:04d}"))
    eighth_landed, release = threading.Event(), threading.Event()

    def hang_after_the_eighth(call):
        answer = fake_slack._post_message(call)
        if len(fake_slack.posted) == 8:
            eighth_landed.set()
            release.wait(30)  # Slack has the message; the worker never hears back
        return answer

    fake_slack.respond_with("chat.postMessage", hang_after_the_eighth)
    fake_slack.ts_clock = lambda: clock.now().timestamp()

    def worker(now):
        return worker_process.start(database_url, fake_slack.url, now)

    first = worker(clock.now())
    assert eighth_landed.wait(30)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    release.set()
    time.sleep(0.1)
    assert sorted(r.state for r in rows(engine).values()).count("sent") == 7

    # The next worker starts once the dead one's lease has run out.
    second = worker(clock.advance(minutes=10))
    assert second.wait(60) == 0
    assert sorted(fake_slack.posted_keys()) == keys  # every key once: the eighth was found, not re-sent
    assert all(r.state == "sent" for r in rows(engine).values())


def test_rows_a_dead_worker_claimed_but_never_tried_are_free_again_within_a_minute(
    engine, study, worker, fake_slack, clock
):
    from bot.outbox import claim_due

    keys = [f"fanout:{i}" for i in range(5)]
    for i, key in enumerate(keys):
        put(engine, clock, key, to=Destination.channel(f"C{i:04d}"))
    with Session(engine, expire_on_commit=False) as session:  # claimed, then the worker was killed
        assert len(claim_due(session, now=clock.now(), limit=50)) == 5
    clock.advance(seconds=30)
    worker.drain()
    assert fake_slack.posted_keys() == []  # still the dead worker's
    clock.advance(seconds=31)
    worker.drain()
    assert sorted(fake_slack.posted_keys()) == keys
    assert all(r.state == "sent" for r in rows(engine).values())


def test_a_batch_being_sent_keeps_its_claim_however_long_its_sends_take(
    engine, database_url, study, worker, fake_slack, clock
):
    from bot.outbox import claim_due

    keys = [f"fanout:{i}" for i in range(5)]
    for i, key in enumerate(keys):
        put(engine, clock, key, to=Destination.channel(f"C{i:04d}"))
    other = make_engine(database_url)
    taken_by_another: list[str] = []

    def slow_post(call):
        answer = fake_slack._post_message(call)
        clock.advance(seconds=40)  # each send takes 40 s of the worker's time
        with Session(other, expire_on_commit=False) as session:  # another worker looks meanwhile
            taken_by_another.extend(r.key for r in claim_due(session, now=clock.now(), limit=50))
        return answer

    fake_slack.respond_with("chat.postMessage", slow_post)
    worker.drain()
    other.dispose()
    assert taken_by_another == []
    assert sorted(fake_slack.posted_keys()) == keys
    assert all(r.state == "sent" for r in rows(engine).values())
