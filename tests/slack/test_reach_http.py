"""Noise and reach over signed Slack HTTP: who sees a report, what a report's period may be, and the home
of someone away."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import ManualClock
from handlers.console.console import ConsoleSession
from tests.payloads import ALICE, BEN, post_command
from tests.slack.test_checkin_http import deliver


def posted_report_to(fake_slack) -> list[str]:
    return [
        p.channel for p in fake_slack.posted if (p.key or "").startswith("report:") and ":chart" not in p.key
    ]


def test_a_participants_report_stays_private_and_an_admins_goes_to_the_channel(slack_url, engine, fake_slack):
    answer = post_command(slack_url, "/cadence", "report", user_id=BEN)
    assert "is on its way to your direct messages" in answer.text
    deliver(engine, fake_slack, ManualClock(datetime.now(UTC)))
    assert posted_report_to(fake_slack) == ["D01BEN"]  # not the channel both companies read
    answer = post_command(slack_url, "/cadence", "report", user_id=ALICE)
    assert "is on its way to <#C0STUDY>" in answer.text
    deliver(engine, fake_slack, ManualClock(datetime.now(UTC)))
    assert posted_report_to(fake_slack) == ["D01BEN", "C0STUDY"]


def test_a_reports_period_is_read_or_refused_never_silently_replaced(slack_url, engine, fake_slack):
    assert "last 2 week(s)" in post_command(slack_url, "/cadence", "report 2 weeks", user_id=ALICE).text
    refused = post_command(slack_url, "/cadence", "report abc", user_id=ALICE)
    assert "'abc' is not a number of weeks" in refused.text and "/cadence report 2" in refused.text
    assert "'a few' is not a number of weeks" in post_command(slack_url, "/checkin", "stats a few").text
    deliver(engine, fake_slack, ManualClock(datetime.now(UTC)))
    assert len(posted_report_to(fake_slack)) == 1  # only the valid request sent a report


def test_the_home_of_someone_away_shows_their_first_check_in_after_their_return(engine, study):
    tuesday = ManualClock(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    chat = ConsoleSession(engine, study_key="ACME-201", handle="mei", clock=tuesday)
    assert "Next check-in Mon 07 Dec 09:00" in chat.say("/cadence home")
    chat.say("/away until 2026-12-10")
    assert "Next check-in Mon 14 Dec 09:00" in chat.say("/cadence home")
