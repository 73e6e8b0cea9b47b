"""Partnership health over signed Slack HTTP with the example plan: the KPIs of each side against the
targets, the monthly pulse both ways (rating buttons, the comment form, one reminder, averages by side
without names), the review posted when a round closes, and `/cadence review` of any period."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, col, select

from bot.clock import ManualClock
from bot.config import EXAMPLE_PLAN
from bot.db import run_in_session
from bot.models import OutboxMessage, PulseAnswer, PulseRound
from bot.plan import load_plan
from bot.studies import apply_plan
from handlers.server import build_asgi
from handlers.slack.app import build_app
from schedules import jobs
from tests.conftest import serve_in_thread
from tests.payloads import ALICE, BEN, MEI, RAJ, post_command
from tests.slack.test_checkin_http import deliver, press
from tests.slack.test_escalate_http import submit_view
from tests.test_checkins import worker

OMAR, CARLA, TOM, SOFIA, DEV = "U02OMAR", "U01CARLA", "U02TOM", "U02SOFIA", "U01DEV"
EVERYONE = ("alice", "ben", "carla", "dev", "raj", "mei", "omar", "sofia", "tom")
# A Tuesday: 10:00 in New York, 09:00 in Chicago, 16:00 in Warsaw, everyone at work (it was 14:00 UTC, 08:00
# for Ben in Chicago, before working calendars held his messages until his 09:00).
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def url(settings, engine, study, clock):
    url, stop = serve_in_thread(build_asgi(build_app(settings, engine, clock=clock), engine))
    yield url
    stop()


def shown(post) -> str:
    return post.text + json.dumps(post.blocks, ensure_ascii=False)


def requests(fake_slack) -> list:
    return [p for p in fake_slack.posted if (p.key or "").startswith("pulse:")]


def pulse_posts(engine, fake_slack) -> list:
    """The posts that carried a pulse request: alone, or as an item of a digest with what else was due."""
    with Session(engine) as session:
        sent = session.exec(select(OutboxMessage).where(col(OutboxMessage.key).startswith("pulse:"))).all()
        keys = {row.digest or row.key for row in sent if row.state == "sent"}
    return [p for p in fake_slack.posted if p.key in keys]


def round_id(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(PulseRound)).one().id


def rate(url, fake_slack, user: str, rid: int, score: int) -> int:
    return press(url, fake_slack, user, f"pulse_rate_{score}", f"ACME-201|{rid}|0|{score}")


def test_the_kpis_show_each_side_against_each_target(url):
    text = post_command(url, "/cadence", "kpis", user_id=BEN).text
    for label, target in (
        ("Check-ins answered", 90),
        ("Questions answered in time", 85),
        ("Escalations acknowledged in time", 95),
        ("Action items closed by their due date", 80),
        ("Milestones on track", 80),
    ):
        assert f"*{label}* · target {target}%" in text
    assert "*Sponsor*\nnothing due" in text and "*CRO*\n:white_check_mark: *100%* (3 of 3), met" in text
    assert "'abc' is not a number of weeks" in post_command(url, "/cadence", "kpis abc", user_id=BEN).text


def test_a_plans_targets_replace_the_defaults(url, engine):
    text = EXAMPLE_PLAN.read_text() + "\nkpis: {milestones_on_track: 100%, checkin_response: 75}\n"
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")
    answer = post_command(url, "/cadence", "kpis 2", user_id=BEN).text
    assert "*Milestones on track* · target 100%" in answer and "*Check-ins answered* · target 75%" in answer
    assert "*Questions answered in time* · target 85%" in answer  # left out: the default


def test_only_admins_start_a_pulse_and_every_participant_of_both_sides_is_asked(
    url, engine, fake_slack, clock
):
    refused = post_command(url, "/cadence", "pulse now", user_id=TOM).text
    assert "Only the plan's admins can start a pulse round." in refused
    assert run_in_session(engine, lambda session: session.exec(select(PulseRound)).all()) == []
    started = post_command(url, "/cadence", "pulse now", user_id=ALICE).text
    assert "Pulse round started: 9 people of both sides are asked" in started
    deliver(engine, fake_slack, clock)
    asked = requests(fake_slack)
    assert sorted(p.key.rsplit(":", 1)[1] for p in asked) == sorted(EVERYONE)
    raj = next(p for p in asked if p.channel == "D02RAJ")
    assert "How well did the sponsor communicate with you this month?" in shown(raj)
    buttons = [e for b in raj.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["1", "2", "3", "4", "5", "Add a comment"]
    alice = next(p for p in asked if p.channel == "D01ALICE")
    assert "How well did the CRO communicate" in shown(alice)
    again = post_command(url, "/cadence", "pulse now", user_id=RAJ).text
    assert "A pulse round is open already" in again


def test_the_pulse_shows_each_sides_average_of_the_other_and_never_who_gave_what(url, engine, fake_slack):
    post_command(url, "/cadence", "pulse now", user_id=ALICE)
    rid = round_id(engine)
    for user, score in ((RAJ, 4), (MEI, 5), (ALICE, 4), (BEN, 2)):
        assert rate(url, fake_slack, user, rid, score) == 200
    early = post_command(url, "/cadence", "pulse", user_id=BEN).text
    assert early.count("too few answers to show") == 2
    assert rate(url, fake_slack, OMAR, rid, 5) == 200
    assert rate(url, fake_slack, OMAR, rid, 3) == 200  # a second click changes Omar's rating, not the count
    assert rate(url, fake_slack, CARLA, rid, 5) == 200
    replies = [json.dumps(c.params, ensure_ascii=False) for c in fake_slack.calls_to("pulse_rate_3")]
    assert "Thanks: you rated *3*" in replies[-1] and "was 5; changed, counted once" in replies[-1]
    text = post_command(url, "/cadence", "pulse", user_id=TOM).text
    assert "CRO about the sponsor: *4.0* from 3" in text
    assert "Sponsor about the CRO: *3.7* from 3" in text
    for name in ("Raj", "Mei", "Omar", "Alice", "Ben", "Carla", "U02", "U01"):
        assert name not in text
    with Session(engine) as session:
        assert len(session.exec(select(PulseAnswer)).all()) == 6


def test_a_comment_from_the_form_is_shown_without_its_name_once_its_side_has_three_answers(
    url, engine, fake_slack
):
    post_command(url, "/cadence", "pulse now", user_id=RAJ)
    rid = round_id(engine)
    assert press(url, fake_slack, MEI, "pulse_comment", str(rid)) == 200
    [opened] = fake_slack.calls_to("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "pulse_comment"
    note = {"note": {"value": {"type": "plain_text_input", "value": "Fast answers on <!channel> safety"}}}
    assert submit_view(url, MEI, "pulse_comment", view["private_metadata"], note).status == 200
    rate(url, fake_slack, MEI, rid, 5)
    rate(url, fake_slack, RAJ, rid, 4)
    assert "Fast answers" not in post_command(url, "/cadence", "pulse", user_id=BEN).text  # two answers
    rate(url, fake_slack, OMAR, rid, 3)
    text = post_command(url, "/cadence", "pulse", user_id=BEN).text
    assert "Comments from the CRO: “Fast answers on &lt;!channel&gt; safety”" in text
    assert "<!channel>" not in text


def test_a_stranger_and_a_late_click_change_nothing(url, engine, fake_slack, clock):
    post_command(url, "/cadence", "pulse now", user_id=ALICE)
    rid = round_id(engine)
    assert press(url, fake_slack, "U09NOBODY", "pulse_rate_4", f"ACME-201|{rid}|0|4") == 200
    assert press(url, fake_slack, RAJ, "pulse_rate_9", f"ACME-201|{rid}|0|9") == 200
    assert press(url, fake_slack, RAJ, "pulse_rate_4", "ACME-201|x|0|4") == 200
    jobs.configure(jobs.Runtime(engine=engine, worker=worker(engine, fake_slack, clock), clock=clock))
    clock.advance(days=8)
    jobs.tick()
    assert rate(url, fake_slack, RAJ, rid, 4) == 200
    assert "closed on" in json.dumps(fake_slack.calls_to("pulse_rate_4")[-1].params)
    with Session(engine) as session:
        assert session.exec(select(PulseAnswer)).all() == []


def test_the_silent_get_one_reminder_and_the_closed_round_brings_the_review_to_the_channel(
    url, engine, fake_slack, clock
):
    jobs.configure(jobs.Runtime(engine=engine, worker=worker(engine, fake_slack, clock), clock=clock))
    post_command(url, "/cadence", "pulse now", user_id=ALICE)
    rid = round_id(engine)
    for user, score in ((RAJ, 4), (MEI, 5), (OMAR, 3), (ALICE, 4), (BEN, 2), (CARLA, 5)):
        rate(url, fake_slack, user, rid, score)
    for _ in range(10):  # a tick a day: the reminder goes on day three, the round closes on day seven
        clock.advance(days=1)
        jobs.tick()
    reminded = sorted(
        p.key.rsplit(":", 1)[1] for p in fake_slack.posted if (p.key or "").startswith("pulse-reminder:")
    )
    assert reminded == ["dev", "sofia", "tom"]  # the silent only, once
    [review] = [p for p in fake_slack.posted if (p.key or "").startswith("partnership:")]
    assert review.channel == "C0STUDY"
    text = shown(review)
    assert "Partnership review" in text and "CRO about the sponsor: *4.0* from 3" in text
    assert "What went well" in text and "What to improve" in text and "Milestones on track" in text
    assert "Raj" not in text.replace("Raj Patel", "")  # no rater is named (an owner may be)


def test_a_review_of_a_period_goes_to_the_asker_and_reads_its_dates(url, engine, fake_slack):
    answer = post_command(url, "/cadence", "review 2026-11-01 2026-11-30", user_id=BEN)
    assert "Partnership review — ACME-201, Sun 01 Nov 2026 to Mon 30 Nov 2026" in answer.text
    assert "What went well" in answer.text and "What to improve" in answer.text
    assert "is not a date" in post_command(url, "/cadence", "review soon", user_id=BEN).text
    assert (
        "before the start" in post_command(url, "/cadence", "review 2026-11-30 2026-11-01", user_id=BEN).text
    )
    whole = post_command(url, "/cadence", "review", user_id=BEN).text
    assert "Partnership review — ACME-201" in whole


def test_the_trial_master_file_export_has_the_partnership_review(engine, study):
    from datetime import date

    from bot.export import export_study

    exported = run_in_session(
        engine, export_study, study_key="ACME-201", start=date(2026, 11, 1), end=date(2026, 12, 31)
    )
    assert "ACME-201-partnership-review-2026-11-01-2026-12-31.pdf" in exported.files
    later = run_in_session(
        engine, export_study, study_key="ACME-201", start=date(2026, 11, 1), end=date(2026, 12, 31)
    )
    assert later.archive == exported.archive  # the same records, the same bytes


def test_the_kpis_count_what_each_side_did_in_time_and_the_review_says_what_to_improve(
    url, engine, fake_slack, clock
):
    jobs.configure(jobs.Runtime(engine=engine, worker=worker(engine, fake_slack, clock), clock=clock))
    post_command(url, "/ask", "Is the SAE narrative for subject 104 due this week?", user_id=ALICE)
    post_command(url, "/escalate", "medium Kit shipment delayed", user_id=MEI)
    post_command(url, "/escalate", "ack E1", user_id=RAJ)  # within the level's 4h: in time, both sides
    post_command(url, "/escalate", "high Temperature excursion at site 3", user_id=MEI)
    clock.advance(hours=3)
    jobs.tick()  # high halves the 4h: nobody acknowledged E2 in 2h, so it climbed
    # Safety's deadline is 4h of Mei's working time: two on Tuesday (from 16:00 Warsaw), two on Wednesday,
    # so she answers late at Wednesday 12:00 her time (before working calendars, 5 clock hours were late).
    clock.set(datetime(2026, 12, 2, 11, 0, tzinfo=UTC))
    post_command(url, "/ask", "answered Q1 due Friday", user_id=MEI)
    text = post_command(url, "/cadence", "kpis", user_id=BEN).text
    escalations = text.split("*Escalations acknowledged in time*")[1].split("*Action items")[0]
    assert escalations.count(":warning: *50%* (1 of 2), missed") == 2  # the level has one of each side
    questions = text.split("*Questions answered in time*")[1].split("*Escalations")[0]
    assert "*Sponsor*\nnothing due" in questions and ":warning: *0%* (0 of 1), missed" in questions
    review = post_command(url, "/cadence", "review", user_id=BEN).text
    assert "1 escalation(s) climbed a level before anyone acknowledged: ACME-201-E2" in review
    assert "CRO: questions answered in time 0% (0 of 1; target 85%)" in review


def test_a_climb_by_hand_is_no_missed_acknowledgement_and_nobody_is_counted_for_what_they_raised(
    url, engine, fake_slack, clock
):
    jobs.configure(jobs.Runtime(engine=engine, worker=worker(engine, fake_slack, clock), clock=clock))
    post_command(url, "/escalate", "medium Kit shipment delayed", user_id=BEN)  # ben: the level's sponsor
    post_command(url, "/escalate", "up E1 the freezer vendor is not answering", user_id=BEN)
    clock.advance(hours=1)
    post_command(url, "/escalate", "ack E1", user_id=TOM)
    jobs.tick()
    text = post_command(url, "/cadence", "kpis", user_id=BEN).text
    escalations = text.split("*Escalations acknowledged in time*")[1].split("*Action items")[0]
    assert "*Sponsor*\nnothing due" in escalations  # Ben raised it: not his side's miss, nor its success
    assert ":white_check_mark: *100%* (1 of 1), met" in escalations  # Raj, the CRO's, was not too late
    review = post_command(url, "/cadence", "review", user_id=BEN).text
    assert "climbed a level before anyone acknowledged" not in review


def test_the_report_shows_every_span_in_one_unit_rule_and_each_chart_panel_its_own_target(
    url, engine, fake_slack, clock
):
    from bot import reports

    post_command(url, "/escalate", "low Courier asks for a new pickup slot", user_id=MEI)
    clock.advance(hours=56, minutes=40)  # 3,400 minutes
    post_command(url, "/escalate", "ack E1", user_id=RAJ)
    clock.advance(minutes=1)
    post_command(url, "/cadence", "report 2", user_id=ALICE)
    deliver(engine, fake_slack, clock)
    [figures] = [p for p in fake_slack.posted if (p.key or "").startswith("report:")]
    text = json.dumps(figures.blocks)
    assert "Time to acknowledge escalations (median):* 2.4 d" in text and "min" not in text
    report = run_in_session(engine, reports.build_report, study_id=1, weeks=2, now=clock.now())
    figure = reports.chart_figure(report)
    labels = [[t.get_text() for t in axes.texts] for axes in figure.axes]
    assert labels == [[f"target {row['target']}%"] for row in report["kpis"]["rows"]]
    assert {row["target"] for row in report["kpis"]["rows"]} == {90, 85, 95, 80}


def test_the_monthly_round_is_not_sent_late_after_downtime_and_the_next_comes_on_its_day(
    engine, study, fake_slack
):
    from bot import due, pulse

    back = ManualClock(datetime(2026, 12, 9, 15, 0, tzinfo=UTC))  # two days after the first Monday
    jobs.configure(jobs.Runtime(engine=engine, worker=worker(engine, fake_slack, back), clock=back))
    jobs.tick()
    assert requests(fake_slack) == []
    assert run_in_session(engine, pulse.next_pulse_work, now=back.now()) == datetime(
        2027, 1, 4, 9, 0, tzinfo=UTC
    )  # 10:00 in Warsaw on the first Monday of January: the first of anyone's
    assert run_in_session(engine, due.next_moment, now=back.now()) > back.now()
    back.set(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    jobs.tick()
    europe = {"D02RAJ", "D02MEI", "D02OMAR", "D02SOFIA", "D02TOM", "D01CARLA"}
    # 10:00 in Europe (with the check-in prompt of 09:00 for those asked, as one digest); America later
    assert {p.channel for p in pulse_posts(engine, fake_slack)} == europe
    back.set(datetime(2027, 1, 4, 16, 0, tzinfo=UTC))
    jobs.tick()
    assert len(pulse_posts(engine, fake_slack)) == 9  # each at 10:00 of their own day, once


def test_typed_pulse_answers_that_cannot_be_taken_say_why_and_change_nothing(url, engine):
    assert (
        "There is no pulse round open for you to answer."
        in post_command(url, "/cadence", "pulse answer 4", user_id=RAJ).text
    )
    post_command(url, "/cadence", "pulse now", user_id=ALICE)
    assert (
        "Give your rating from 1 to 5."
        in post_command(url, "/cadence", "pulse answer great", user_id=RAJ).text
    )
    assert "'9' is not a rating." in post_command(url, "/cadence", "pulse answer 9", user_id=RAJ).text
    assert (
        "That question is not in the round."
        in post_command(url, "/cadence", "pulse answer q3 4", user_id=RAJ).text
    )
    assert "does not know 'sideways'" in post_command(url, "/cadence", "pulse sideways", user_id=RAJ).text
    with Session(engine) as session:
        assert session.exec(select(PulseAnswer)).all() == []
    assert (
        "Thanks: you rated *4*"
        in post_command(url, "/cadence", "pulse answer 4 clear agendas", user_id=RAJ).text
    )
