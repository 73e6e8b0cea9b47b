"""The cadence report in Teams: the summary card in the study channel, its chart an image Teams fetches
(tests/teams/test_limits_teams.py fetches it)."""

from __future__ import annotations

from tests.teams.conftest import ALICE


def test_the_report_reaches_the_teams_channel_with_its_chart(teams, fake_teams):
    teams.say(ALICE, "cadence report", channel=True)
    assert "on its way to **the study channel**" in teams.answer(ALICE, channel=True).text
    teams.deliver()
    posts = teams.posts()
    assert any("cadence report" in p.text.lower() for p in posts)
    images = [
        element
        for post in fake_teams.sent
        for element in post.card.get("body", [])
        if element.get("type") == "Image"
    ]
    [chart] = images
    assert (
        chart["url"].startswith(f"{teams.url}/charts/")
        and chart["altText"] == "KPIs by side against the targets"
    )


def test_the_export_is_announced_in_teams_not_attached(teams, fake_teams):
    teams.say(ALICE, "cadence export 2026-11-01 2026-11-30")
    teams.deliver()
    texts = [s.text for s in teams.dms(ALICE)]
    assert any("Teams cannot take files from Cadence" in t for t in texts), texts
