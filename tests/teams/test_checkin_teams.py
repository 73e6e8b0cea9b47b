"""Weekly check-ins in Teams, and a round across both chats: each person asked once, where they are."""

from __future__ import annotations

from sqlmodel import Session, select

from bot import checkins
from bot.commands import Invocation, run_command
from bot.db import run_in_session
from bot.models import CheckinAnswer
from bot.outbox import DeliveryWorker
from bot.plan import load_plan
from bot.routing import RoutingNotifier
from bot.studies import apply_plan
from tests.teams.conftest import ALICE, BEN, CHANNEL, SOFIA, teams_plan_text
from tests.test_outbox import notifier_for


def test_a_check_in_answered_in_teams_through_its_form(teams, fake_teams, engine):
    teams.say(ALICE, "checkin now")
    assert "Opened the check-in for week 2026-W48: 7 people are being asked." in teams.answer(ALICE).text
    teams.deliver()
    [prompt] = teams.dms(BEN)
    assert [b["data"]["action_id"] for b in prompt.buttons()] == ["checkin_answer", "checkin_snooze"]

    # Answer brings the form: the status and one field per question.
    teams.press(BEN, prompt.button("Answer"))
    form = teams.answer(BEN)
    ids = [e["id"] for e in form.card["body"] if e["type"].startswith("Input.")]
    assert ids == ["status", "q0", "q1", "q2"]
    submit = form.button("Send")
    teams.press(BEN, submit, q0="Site 3 activated")  # no status: sent back, nothing stored
    assert "Choose how it is going." in teams.answer(BEN).text
    teams.press(BEN, submit, status="at_risk", q0="Site 3 activated", q1="Kit shortage at site 5", q2="")
    with Session(engine) as session:
        [answer] = session.exec(select(CheckinAnswer)).all()
    assert answer.status == "at_risk" and answer.answers[1] == "Kit shortage at site 5"

    # Remind me in 2h: the prompt comes back later unless answered.
    teams.press(SOFIA, teams.dms(SOFIA)[0].button("2h"))
    assert "I'll ask again" in teams.answer(SOFIA).text


def test_one_round_reaches_two_people_on_slack_and_two_on_teams_each_once(
    teams, fake_teams, fake_slack, engine, clock
):
    text = teams_plan_text(keep_on_slack=("alice", "raj")).replace(
        "participants: [alice, ben, carla, raj, mei, omar, sofia]", "participants: [alice, raj, ben, sofia]"
    )
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")
    both = RoutingNotifier(
        {"slack": notifier_for(fake_slack), "teams": teams.worker.notifier.notifiers["teams"]}
    )
    worker = DeliveryWorker(engine, both, clock)

    teams.say(BEN, "checkin now")  # Ben is no admin: refused
    assert "Only the plan's admins" in teams.answer(BEN).text
    fake_teams.clear()
    alice_on_slack = Invocation(platform="slack", user_id="U01ALICE", now=clock.now())
    run_in_session(engine, run_command, name="/checkin", text="now", invocation=alice_on_slack)
    for _ in range(2):  # a second pass of the schedule and of delivery sends nothing more
        run_in_session(engine, checkins.do_due_work, now=clock.now())
        worker.drain()

    assert sorted(p.channel for p in fake_slack.posted) == ["D01ALICE", "D02RAJ"]
    teams_prompts = [s for s in fake_teams.sent if s.conversation != CHANNEL]
    assert sorted(s.conversation for s in teams_prompts) == sorted([BEN.chat, SOFIA.chat])
    assert all("check-in" in s.text for s in teams_prompts)
