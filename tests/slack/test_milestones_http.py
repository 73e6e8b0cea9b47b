"""Milestones over signed Slack HTTP: the list, written updates (typed and from the Update form), slips
told to both sides, deliverables accepted or sent back, and owners asked for updates by the tick."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from bot import milestones
from bot.clock import ManualClock
from bot.config import EXAMPLE_PLAN
from bot.db import run_in_session
from bot.models import Milestone, MilestoneUpdate
from bot.plan import load_plan
from bot.studies import apply_plan
from handlers.server import build_asgi
from handlers.slack.app import build_app
from tests.conftest import serve_in_thread
from tests.payloads import ALICE, BEN, RAJ, post_command
from tests.slack.test_checkin_http import deliver, press
from tests.slack.test_escalate_http import submit_view

OMAR = "U02OMAR"
NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # a Tuesday: 09:00 in New York, 15:00 in Warsaw


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def url(settings, engine, study, clock):
    text = EXAMPLE_PLAN.read_text().replace(
        "due: 2027-06-01, owner: omar", "due: 2027-06-01, owner: omar, accepted_by: [alice]"
    )
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")
    url, stop = serve_in_thread(build_asgi(build_app(settings, engine, clock=clock), engine))
    yield url
    stop()


def posted(fake_slack, prefix: str) -> list:
    return [p for p in fake_slack.posted if (p.key or "").startswith(prefix)]


def shown(post) -> str:
    return post.text + json.dumps(post.blocks, ensure_ascii=False)


def test_the_list_shows_every_milestone_with_its_owner_side_due_date_and_status(url):
    text = post_command(url, "/milestones", user_id=BEN).text
    for name in ("First patient in", "Last patient last visit", "Database lock"):
        assert name in text
    assert "<@U02RAJ> (CRO): on track, due Fri 15 Jan 2027" in text and "no written update yet" in text


def test_an_owners_slip_is_told_in_the_channel_and_to_the_admins_and_a_stranger_changes_nothing(
    url, engine, fake_slack, clock
):
    refused = post_command(url, "/milestones", "update first patient at-risk nothing", user_id=BEN)
    assert "Only First patient in's owner or an admin can update it." in refused.text
    answer = post_command(
        url,
        "/milestones",
        "update first patient at-risk forecast 2027-01-29 two sites activate late",
        user_id=RAJ,
    )
    assert "Update recorded. It is told in the study channel and to the admins." in answer.text
    deliver(engine, fake_slack, clock)
    [channel] = [p for p in posted(fake_slack, "ms-update:") if p.channel == "C0STUDY"]
    assert "*First patient in* is at risk" in shown(channel) and "two sites activate late" in shown(channel)
    assert "Due Fri 15 Jan 2027; forecast was Fri 15 Jan 2027, now Fri 29 Jan 2027." in shown(channel)
    assert [p.channel for p in posted(fake_slack, "ms-slip:")] == [
        "D01ALICE"
    ]  # Raj is the admin who wrote it
    listed = post_command(url, "/milestones", user_id=BEN).text
    assert (
        "at risk, due Fri 15 Jan 2027, forecast Fri 29 Jan 2027" in listed
        and "two sites activate late" in listed
    )
    with Session(engine) as session:
        [update] = session.exec(select(MilestoneUpdate)).all()
        assert (update.by, update.status, update.text) == ("Raj Patel", "at-risk", "two sites activate late")
    # Omar, neither its owner nor an admin, cannot update it; the cadence report shows its status.
    omar = post_command(url, "/milestones", "update first patient in on-track all fine", user_id=OMAR)
    assert "Only First patient in's owner or an admin can update it." in omar.text
    post_command(url, "/cadence", "report", user_id=ALICE)
    deliver(engine, fake_slack, clock)
    [report] = [p for p in posted(fake_slack, "report:") if ":chart" not in (p.key or "")]
    assert "First patient in" in shown(report) and "(Raj Patel): at risk, forecast" in shown(report)


def test_the_update_button_opens_a_form_whose_submission_records_the_update(url, engine, fake_slack):
    post_command(url, "/milestones", user_id=RAJ)
    milestone_id = run_in_session(engine, _id_of, name="first patient in")
    assert press(url, fake_slack, RAJ, "milestone_update", str(milestone_id)) == 200
    [opened] = fake_slack.calls_to("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "milestone_update"
    values = {
        "status": {"value": {"type": "static_select", "selected_option": {"value": "on-track"}}},
        "forecast": {"value": {"type": "datepicker", "selected_date": None}},
        "text": {"value": {"type": "plain_text_input", "value": "site 3 activated, first screening booked"}},
    }
    assert submit_view(url, RAJ, "milestone_update", str(milestone_id), values).status == 200
    assert "site 3 activated" in post_command(url, "/milestones", user_id=BEN).text


def test_a_deliverable_is_accepted_by_its_acceptor_once_or_sent_back_with_a_reason(
    url, engine, fake_slack, clock
):
    done = post_command(url, "/milestones", "done database lock", user_id=OMAR)
    assert "*Database lock* is done; Alice Chen is asked to accept it." in done.text
    deliver(engine, fake_slack, clock)
    [ask] = posted(fake_slack, "ms-accept:")
    assert (
        ask.channel == "D01ALICE" and "milestone_accept" in shown(ask) and "milestone_changes" in shown(ask)
    )
    milestone_id = run_in_session(engine, _id_of, name="database lock")

    # Changes requested (typed): back to the owner with the reason, open again.
    back = post_command(
        url, "/milestones", "changes database lock the site 104 listings are missing", user_id=ALICE
    )
    assert "goes back to its owner" in back.text
    deliver(engine, fake_slack, clock)
    [told] = posted(fake_slack, "ms-changes:")
    assert told.channel == "D02OMAR" and "the site 104 listings are missing" in shown(told)

    # Done again; Ben is no acceptor; Alice accepts; a second click changes nothing.
    post_command(url, "/milestones", "done M" + str(milestone_id), user_id=OMAR)
    assert press(url, fake_slack, BEN, "milestone_accept", str(milestone_id)) == 200
    assert press(url, fake_slack, ALICE, "milestone_accept", str(milestone_id)) == 200
    assert press(url, fake_slack, ALICE, "milestone_accept", str(milestone_id)) == 200
    replies = [c.params["text"] for c in fake_slack.calls_to("milestone_accept")]
    assert "Only Database lock's acceptors or an admin can accept it." in replies[0]
    assert "Database lock accepted" in replies[1] and "accepted" in replies[2]
    with Session(engine) as session:
        row = session.get(Milestone, milestone_id)
        assert (row.status, row.accepted_by) == ("accepted", "Alice Chen")
    deliver(engine, fake_slack, clock)
    assert len(posted(fake_slack, "ms-accepted:")) == 1


def test_the_tick_asks_each_owner_once_a_period_at_a_working_hour_with_one_reminder(
    url, engine, fake_slack, clock
):
    run_in_session(engine, milestones.ask_for_updates, now=clock.now())  # rows made: asked from now on
    # First patient in is due within eight weeks: weekly. The others, months away: every four weeks.
    eight_days = clock.advance(days=8)
    assert run_in_session(engine, milestones.ask_for_updates, now=eight_days) == 2  # Raj: an ask, a reminder
    assert run_in_session(engine, milestones.ask_for_updates, now=eight_days) == 0  # once a period
    clock.advance(days=2)
    deliver(engine, fake_slack, clock)
    asks = posted(fake_slack, "ms-ask:")
    assert [p.channel for p in asks] == ["D02RAJ", "D02RAJ"] and "reminder" in shown(asks[1])
    assert all("milestone_update" in shown(p) for p in asks)  # the Update button
    # Raj writes an update: the next ask waits a whole period from it.
    post_command(url, "/milestones", "update first patient on-track site 3 screening", user_id=RAJ)
    assert run_in_session(engine, milestones.ask_for_updates, now=clock.advance(days=3)) == 0
    assert run_in_session(engine, milestones.ask_for_updates, now=clock.advance(days=26)) > 2  # all three


def _id_of(session: Session, *, name: str) -> int:
    return session.exec(select(Milestone).where(Milestone.key == name)).one().id
