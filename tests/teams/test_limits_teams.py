"""Teams takes a message of at most about 28 KB (the fake Bot Connector refuses a larger one, as Teams
does): long answers and notices arrive whole across several messages, and a report's chart is an image
Teams fetches from Cadence, not inlined."""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.request
from dataclasses import replace

from bot.db import run_in_session
from bot.outbox import DeliveryWorker
from bot.plan import load_plan
from bot.routing import RoutingNotifier
from bot.studies import apply_plan
from handlers.teams.app import teams_notifier
from tests.fake_teams import MAX_ACTIVITY_BYTES
from tests.teams.conftest import ALICE, CHANNEL, RAJ, teams_plan_text

TOPICS = 60
ITEMS = 120


def sixty_topic_plan() -> str:
    """The example study grown to 60 topics, each owned and backed up by people of its own."""
    text = teams_plan_text()
    people = "".join(
        f"  p{n:02d}: {{name: Person{n:02d} Kowalska-Lindqvist, side: {'cro' if n % 2 else 'sponsor'}, "
        f"role: Clinical Research Associate for sites {n}, teams: aad-p{n:02d}, timezone: Europe/Warsaw}}\n"
        for n in range(TOPICS)
    )
    topics = "".join(
        f"  - topic: {topic_name(n)}\n    keywords: [site {n:02d} contract, site {n:02d} visit]\n"
        f"    owner: p{n:02d}\n    backup: p{(n + 1) % TOPICS:02d}\n"
        for n in range(6, TOPICS)
    )
    text = text.replace("\nresponsibilities:", f"\n{people}\nresponsibilities:", 1)
    return text.replace("\ncadence:\n", f"\n{topics}\ncadence:\n", 1)


def topic_name(n: int) -> str:
    return (
        f"Site {n:02d} start-up, contracts, budget, investigator payments and monitoring visit follow-up "
        f"(region {n % 7})"
    )


def assert_within_teams_limit(fake_teams) -> None:
    assert not fake_teams.too_large, "Teams would have refused a message"
    assert fake_teams.sent and all(0 < s.size <= MAX_ACTIVITY_BYTES for s in fake_teams.sent)


def test_who_owns_of_sixty_topics_arrives_whole_across_messages_each_within_the_limit(
    teams, fake_teams, engine
):
    run_in_session(engine, apply_plan, plan=load_plan(sixty_topic_plan()), actor="test")
    fake_teams.clear()

    teams.say(ALICE, "who-owns")

    answers = fake_teams.to(ALICE.chat)
    assert len(answers) > 1  # one card of it all would pass 28 KB
    assert_within_teams_limit(fake_teams)
    shown = "\n".join(a.text for a in answers)
    assert all(topic_name(n) in shown for n in range(6, TOPICS))
    assert "Safety reporting" in shown and "Ask about one" in answers[-1].text
    assert "Part 1 of" in answers[0].text and f"part {len(answers)} of {len(answers)}" in answers[-1].text


def post_long_minutes(teams, fake_teams) -> None:
    items = "\n".join(
        f"ACTION @raj: reconcile the site {n:02d} monitoring visit report with the CTMS entries "
        f"and the source data verification log, then confirm to the sponsor by 2026-12-{(n % 20) + 4:02d}"
        for n in range(ITEMS)
    )
    teams.say(RAJ, f"minutes Weekly sponsor–CRO call\nDECISION: screening window stays at 21 days\n{items}")
    teams.press(RAJ, next(a for a in reversed(fake_teams.to(RAJ.chat)) if a.buttons()).button("Post minutes"))
    fake_teams.clear()


def test_posted_minutes_with_many_items_reach_the_channel_whole(teams, fake_teams):
    post_long_minutes(teams, fake_teams)

    teams.deliver()

    posted = [p for p in teams.posts() if "Reconcile the site" in p.text]
    assert len(posted) > 1
    assert_within_teams_limit(fake_teams)
    shown = "\n".join(p.text for p in posted)
    assert all(f"site {n:02d} monitoring visit" in shown for n in range(ITEMS))


def test_a_send_interrupted_between_parts_sends_only_the_parts_still_missing(teams, fake_teams, clock):
    post_long_minutes(teams, fake_teams)
    fake_teams.fail_next(503, after=1)  # the first part goes, Teams fails the second

    teams.deliver()
    clock.advance(minutes=5)
    teams.deliver()

    posted = [p.text for p in teams.posts() if "Reconcile the site" in p.text]
    assert len(posted) == 2 and "Part 1 of 2" in posted[0] and "part 2 of 2" in posted[1]
    assert_within_teams_limit(fake_teams)


def test_the_weekly_report_shows_its_chart_from_an_address_cadence_serves(teams, fake_teams):
    teams.say(ALICE, "cadence report", channel=True)
    fake_teams.clear()

    teams.deliver()

    assert_within_teams_limit(fake_teams)
    [image] = [e for post in teams.posts() for e in post.card.get("body", []) if e.get("type") == "Image"]
    assert re.fullmatch(re.escape(teams.url) + r"/charts/[A-Za-z0-9_-]{43}\.png", image["url"])
    with urllib.request.urlopen(image["url"], timeout=10) as response:
        assert response.headers["Content-Type"] == "image/png"
        assert response.read()[:8] == b"\x89PNG\r\n\x1a\n"
    for guessed in (image["url"][:-6] + "AA.png", f"{teams.url}/charts/1.png", f"{teams.url}/charts/"):
        try:
            urllib.request.urlopen(guessed, timeout=10)
            raise AssertionError(f"{guessed} was served")
        except urllib.error.HTTPError as error:
            assert error.code == 404


def test_without_a_public_address_the_chart_is_left_out_with_a_line_saying_so(
    teams, fake_teams, engine, clock, teams_settings, caplog
):
    from handlers.teams.app import build_teams_app

    app, _routes = build_teams_app(teams_settings, engine, clock=clock, token=fake_teams.bot_token)
    with caplog.at_level(logging.WARNING, logger="cadence.teams"):
        no_address = teams_notifier(app, engine, replace(teams_settings, public_url=None), clock)
    assert any("CADENCE_PUBLIC_URL is not set" in r.getMessage() for r in caplog.records)
    worker = DeliveryWorker(engine, RoutingNotifier({"teams": no_address}), clock)
    teams.say(ALICE, "cadence report", channel=True)
    fake_teams.clear()

    worker.drain()

    assert_within_teams_limit(fake_teams)
    posts = [p for p in fake_teams.sent if p.conversation.startswith(CHANNEL)]
    assert not [e for p in posts for e in p.card.get("body", []) if e.get("type") == "Image"]
    assert any("chart is not shown here" in p.text and "CADENCE_PUBLIC_URL" in p.text for p in posts)
