"""Messages due together arrive together: what Cadence starts itself to one person within a few minutes is
one message with each item's own lines and buttons, sent once for all of them whatever happens; past a
person's daily budget the rest waits for the next morning's digest; a critical escalation never waits."""

from __future__ import annotations

import signal
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from bot.clock import ManualClock, process_clock
from bot.config import EXAMPLE_PLAN
from bot.db import run_in_session
from bot.models import OutboxMessage
from bot.outbox import DAILY_BUDGET, DeliveryWorker, Destination, digest_key, enqueue
from bot.plan import load_plan
from bot.replies import Notice
from bot.studies import apply_plan
from handlers.console.console import ConsoleSession
from schedules import jobs
from schedules.simulation import Simulation
from tests import worker_process
from tests.conftest import STUDY_APPLIED
from tests.test_outbox import notifier_for, person_id, rows

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Warsaw


def own(engine, clock, key, *, handle="raj", due_at=None, started_by_cadence=True) -> None:
    """A message Cadence starts itself (as due work queues it) to `handle`."""

    def write(session):
        enqueue(
            session,
            key=key,
            to=Destination.person(person_id(engine, handle)),
            notice=Notice("text", {"text": f"about {key}"}),
            now=clock.now(),
            study_id=1,
            due_at=due_at,
            started_by_cadence=started_by_cadence,
        )

    run_in_session(engine, write)


def test_what_falls_due_for_one_person_within_minutes_is_one_message(engine, study, fake_slack):
    clock = ManualClock(T0)
    worker = DeliveryWorker(engine, notifier_for(fake_slack), clock)
    own(engine, clock, "ask:1")
    own(engine, clock, "ask:2", due_at=T0 + timedelta(minutes=5))  # within the window: comes along
    own(engine, clock, "ask:3", due_at=T0 + timedelta(minutes=20))  # later: on its own
    own(engine, clock, "question:1", started_by_cadence=False)  # a colleague's question: never folded
    own(engine, clock, "ask:mei", handle="mei")
    worker.drain()
    digest = digest_key(["ask:1", "ask:2"])
    assert sorted(fake_slack.posted_keys()) == sorted([digest, "question:1", "ask:mei"])
    (posted,) = [p for p in fake_slack.posted if p.key == digest]
    assert (
        posted.channel == "D02RAJ"
        and "about ask:1" in str(posted.blocks)
        and "about ask:2" in str(posted.blocks)
    )
    assert posted.text.startswith("2 things from Cadence")
    sent = rows(engine)
    assert [sent[k].state for k in ("ask:1", "ask:2", "ask:3")] == ["sent", "sent", "pending"]
    assert sent["ask:1"].platform_message_id == sent["ask:2"].platform_message_id == posted.ts
    clock.advance(minutes=20)
    worker.drain()
    assert fake_slack.posted_keys()[-1] == "ask:3"


def test_a_crash_after_the_digest_was_sent_sends_no_member_again(engine, database_url, study, fake_slack):
    clock = ManualClock(T0)
    keys = [f"ask:{i}" for i in range(3)]
    for key in keys:
        own(engine, clock, key)
    landed, release = threading.Event(), threading.Event()

    def keep_it_and_hang(call):
        answer = fake_slack._post_message(call)
        landed.set()
        release.wait(30)  # Slack has the digest; the worker never hears back
        return answer

    fake_slack.respond_with("chat.postMessage", keep_it_and_hang)
    fake_slack.ts_clock = lambda: clock.now().timestamp()

    def worker(now):
        return worker_process.start(database_url, fake_slack.url, now)

    first = worker(clock.now())
    assert landed.wait(30)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    release.set()
    time.sleep(0.1)
    assert {r.state for r in rows(engine).values()} == {"sending"}
    own(engine, clock, "ask:late", due_at=T0 + timedelta(minutes=12))  # not part of the digest sent

    second = worker(clock.advance(minutes=10))  # once the dead worker's lease has run out
    assert second.wait(60) == 0
    assert fake_slack.posted_keys() == [digest_key(keys)]  # found in the history, not sent again
    assert all(rows(engine)[key].state == "sent" for key in keys)
    assert rows(engine)["ask:late"].state == "pending"


def test_past_the_daily_budget_the_rest_waits_for_the_next_mornings_digest(engine, study, fake_slack):
    clock = ManualClock(T0)
    worker = DeliveryWorker(engine, notifier_for(fake_slack), clock)
    keys = [f"chase:{i}" for i in range(DAILY_BUDGET + 2)]
    for number, key in enumerate(keys):  # one every half hour from 10:00 in Warsaw
        own(engine, clock, key, due_at=T0 + timedelta(minutes=30 * number))
    for _ in keys:
        worker.drain()
        clock.advance(minutes=30)
    assert fake_slack.posted_keys() == keys[:DAILY_BUDGET]
    held = [rows(engine)[key] for key in keys[DAILY_BUDGET:]]
    tomorrow_morning = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 09:00 in Warsaw, when her day begins
    assert [r.next_attempt_at for r in held] == [tomorrow_morning] * 2
    clock.set(tomorrow_morning)
    worker.drain()
    assert fake_slack.posted_keys()[DAILY_BUDGET:] == [digest_key(keys[DAILY_BUDGET:])]


def test_a_critical_escalation_reaches_its_level_however_much_they_heard_today(engine, study, fake_slack):
    clock = ManualClock(T0)
    worker = DeliveryWorker(engine, notifier_for(fake_slack), clock)
    jobs.configure(jobs.Runtime(engine=engine, worker=worker, clock=clock))
    for number in range(DAILY_BUDGET):  # Tom (Berlin) has heard from Cadence all his budget today
        own(engine, clock, f"chase:{number}", handle="tom", due_at=T0 + timedelta(minutes=15 * number))
        worker.drain()
        clock.advance(minutes=15)
    own(engine, clock, "chase:more", handle="tom")
    console = ConsoleSession(engine, study_key="ACME-201", handle="alice", clock=clock)
    with process_clock(clock):
        assert not console.answer("/escalate critical Freezer failure at site 3").failed
    clock.advance(hours=1, minutes=1)  # nobody acknowledged: it climbs to the executives (Dev, Tom)
    jobs.tick()
    (climbed,) = [
        r for key, r in rows(engine).items() if key.startswith("esc-notify:") and key.endswith(":L3:tom")
    ]
    assert climbed.state == "sent" and climbed.digest is None and climbed.started_by_cadence
    (to_tom,) = [p for p in fake_slack.posted if p.key == climbed.key]
    assert to_tom.channel == "D02TOM" and "Freezer failure" in str(to_tom.blocks)
    assert rows(engine)["chase:more"].state == "pending"  # the routine one waits for tomorrow


def raj_owns_every_milestone() -> str:
    text = EXAMPLE_PLAN.read_text()
    for owner in ("raj", "sofia", "omar"):
        text = text.replace(f"owner: {owner}}}", "owner: raj, update_every: 1w}")
    return text


def test_several_milestone_asks_come_as_one_slack_message_with_each_ones_button(engine, fake_slack):
    """Through the running tick: a week after the plan, Raj is asked about his three milestones at once."""
    clock = ManualClock(STUDY_APPLIED)
    with process_clock(clock):
        run_in_session(engine, apply_plan, plan=load_plan(raj_owns_every_milestone()), actor="test")
    worker = DeliveryWorker(engine, notifier_for(fake_slack), clock)
    runtime = jobs.Runtime(engine=engine, worker=worker, clock=clock)
    with process_clock(clock):
        Simulation(runtime, clock, lambda line: None).run(STUDY_APPLIED, STUDY_APPLIED + timedelta(days=9))
    to_raj = [p for p in fake_slack.posted if p.channel == "D02RAJ"]
    asks = [p for p in to_raj if "milestone_update" in str(p.blocks)]
    assert len(asks) == 1 and asks[0].key.startswith("digest:")  # one chat.postMessage for the three
    # Monday 09:00 in Warsaw: the check-in prompt falls due with them, and comes in the same message.
    actions = [e for b in asks[0].blocks if b["type"] == "actions" for e in b["elements"]]
    buttons = [e for e in actions if e["action_id"] == "milestone_update"]
    assert len(buttons) == 3
    with Session(engine) as session:
        members = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.digest == asks[0].key, OutboxMessage.notice_kind == "milestone_ask"
            )
        ).all()
    assert sorted(b["value"] for b in buttons) == sorted(str(r.payload["id"]) for r in members)
    assert {r.state for r in members} == {"sent"} and len(members) == 3
    block_ids = [b["block_id"] for b in asks[0].blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))  # Slack refuses a block id twice in a message
    for name in ("First patient in", "Last patient last visit", "Database lock"):
        assert name in str(asks[0].blocks)


def test_answering_a_prompt_sent_in_a_digest_keeps_its_other_items_on_show(engine, study, fake_slack):
    from bot import checkins
    from bot.studies import find_requester

    warsaw_0900 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    clock = ManualClock(warsaw_0900)
    worker = DeliveryWorker(engine, notifier_for(fake_slack), clock)
    own(engine, clock, "chase:1")  # due with Raj's check-in prompt
    jobs.configure(jobs.Runtime(engine=engine, worker=worker, clock=clock))
    jobs.tick()
    (sent,) = [p for p in fake_slack.posted if p.channel == "D02RAJ"]
    assert sent.key.startswith("digest:") and "about chase:1" in str(sent.blocks)
    raj = run_in_session(engine, find_requester, platform="console", user_id="raj", study_key="ACME-201")
    run_in_session(
        engine,
        checkins.save_answer,
        requester=raj,
        status="on track",
        answers=["a", "b", "c"],
        now=clock.now(),
    )
    worker.drain()
    (update,) = fake_slack.calls_to("chat.update")
    assert update.params["ts"] == sent.ts
    shown = str(update.params["blocks"])
    assert "Edit answer" in shown and "about chase:1" in shown  # the prompt answered, the other item kept
