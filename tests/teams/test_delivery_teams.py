"""Proactive delivery to Teams through the outbox, with Teams' throttling and retry rules: 429 waits
(Retry-After, or a jittered backoff without it), 412/502/504 are tried again, other errors are final
and reported to the admins; two workers send each message once."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, select

from bot import directory, outbox
from bot.db import run_in_session
from bot.models import OutboxMessage
from bot.outbox import DeliveryWorker, Destination
from bot.replies import Notice
from bot.routing import RoutingNotifier
from handlers.teams.app import teams_notifier
from tests.teams.conftest import ALICE, BEN, RAJ


def enqueue_to(engine, clock, handle: str, key: str, text: str = "hello") -> None:
    def write(session):
        study = directory.current(session).study_by_key("ACME-201")
        person = study.people[handle]
        outbox.enqueue(
            session, key=key, to=Destination.person(person.id), notice=Notice("text", {"text": text}),
            now=clock.now(), study_id=study.id,
        )  # fmt: skip

    run_in_session(engine, write)


def row(engine, key: str) -> OutboxMessage:
    with Session(engine) as session:
        return session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).one()


def test_429_with_retry_after_waits_then_sends_once(teams, fake_teams, engine, clock):
    enqueue_to(engine, clock, "ben", "k:throttled")
    fake_teams.fail_next(429, **{"Retry-After": "7"})
    teams.deliver()
    waiting = row(engine, "k:throttled")
    assert waiting.state == "pending" and (waiting.next_attempt_at - clock.now()).total_seconds() == 7
    assert teams.dms(BEN) == []
    clock.advance(seconds=6)
    teams.deliver()
    assert teams.dms(BEN) == []  # not before Retry-After
    clock.advance(seconds=2)
    teams.deliver()
    assert [s.text for s in teams.dms(BEN)] == ["hello"]
    assert row(engine, "k:throttled").state == "sent"


def test_429_without_retry_after_backs_off_with_jitter(teams, fake_teams, engine, clock):
    enqueue_to(engine, clock, "ben", "k:jitter")
    fake_teams.fail_next(429)
    teams.deliver()
    wait = (row(engine, "k:jitter").next_attempt_at - clock.now()).total_seconds()
    assert 1 <= wait <= 3
    clock.advance(seconds=3)
    teams.deliver()
    assert len(teams.dms(BEN)) == 1


@pytest.mark.parametrize("status", [412, 502, 504])
def test_transient_errors_are_tried_again_and_deliver_once(teams, fake_teams, engine, clock, status):
    enqueue_to(engine, clock, "ben", f"k:{status}")
    fake_teams.fail_next(status, times=2)
    for _ in range(3):
        teams.deliver()
        clock.advance(minutes=1)
    assert [s.text for s in teams.dms(BEN)] == ["hello"]
    sent = row(engine, f"k:{status}")
    assert sent.state == "sent" and sent.attempts == 3


def test_a_final_error_is_recorded_and_the_admins_are_told_in_teams(teams, fake_teams, engine, clock):
    enqueue_to(engine, clock, "ben", "k:forbidden")
    fake_teams.fail_next(403)
    teams.deliver()
    failed = row(engine, "k:forbidden")
    assert failed.state == "failed" and failed.last_error.startswith("http 403")
    teams.deliver()
    told = [s.text for s in teams.dms(ALICE) + teams.dms(RAJ)]
    assert len(told) == 2 and all("could not be delivered to Ben Okafor" in t for t in told)


def test_two_workers_send_each_message_once(teams, fake_teams, engine, clock, teams_settings):
    from handlers.teams.app import build_teams_app

    for n in range(40):
        enqueue_to(engine, clock, ("ben", "raj", "alice", "sofia")[n % 4], f"k:many:{n}", text=f"message {n}")
    workers = []
    for _ in range(2):  # a second instance: its own app, notifier and worker, the same database
        app, _routes = build_teams_app(teams_settings, engine, clock=clock, token=fake_teams.bot_token)
        notifier = RoutingNotifier({"teams": teams_notifier(app, engine, teams_settings, clock)})
        workers.append(DeliveryWorker(engine, notifier, clock, batch=5))
    threads = [threading.Thread(target=w.drain) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    texts = sorted(s.text for s in fake_teams.sent)
    assert texts == sorted(f"message {n}" for n in range(40))


def test_a_message_sent_again_after_a_restart_is_not_sent_twice(teams, fake_teams, engine, clock):
    enqueue_to(engine, clock, "ben", "k:once")
    teams.deliver()
    enqueue_to(engine, clock, "ben", "k:once")  # the same due work found again after a restart
    teams.deliver()
    assert len(teams.dms(BEN)) == 1
