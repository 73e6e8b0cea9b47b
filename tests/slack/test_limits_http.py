"""Slack's limits, checked with slack_sdk's own Block Kit models on what the running bot sends: long
text is cut piece by piece with "…", never a mention, a time or the card's structure; a list longer than
a message holds says how many were left out and which command shows them all."""

from __future__ import annotations

import json
import re

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.db import run_in_session
from tests.payloads import post_command
from tests.slack import test_visibility_http as visibility
from tests.slack.test_checkin_http import deliver
from tests.slack.test_visibility_http import OMAR, home_opened, post_minutes, published_texts

url, clock = visibility.url, visibility.clock  # the same served bot and clock


def valid_message(blocks: list[dict], text: str) -> None:
    assert len(blocks) <= 50 and len(text) <= 40_000
    for block in blocks:
        Block.parse(block).validate_json()
        assert not re.search(r"<[@#!][^>]*$", json.dumps(block)), "a cut inside a mention"


def test_a_huge_escalation_summary_is_cut_and_the_card_keeps_every_part(url, engine, fake_slack, clock):
    summary = "Freezer failure & temperature excursion at site 104 " * 100  # 5,300 characters, & escaped
    answer = post_command(url, "/escalate", f"high {summary}", user_id="U02MEI")
    valid_message(answer.json()["blocks"], answer.json()["text"])
    deliver(engine, fake_slack, clock)
    [card] = [p for p in fake_slack.posted if (p.key or "").startswith("esc-card")]
    valid_message(card.blocks, card.text)
    shown = json.dumps(card.blocks, ensure_ascii=False)
    assert "…" in shown and "Freezer failure &amp; temperature excursion" in shown
    assert "Raised by" in shown and "<!date^" in shown and "<@U02RAJ>" in shown  # level, people, deadline


def test_a_huge_action_item_keeps_its_done_button_on_the_home(url, engine, fake_slack):
    post_minutes(engine, f"ACTION @omar: {'check & sign ' * 300}by 2026-12-05")  # 3,600 characters
    assert home_opened(url, OMAR) == 200
    [published] = fake_slack.calls_to("views.publish")
    view = published.params["view"]
    view = view if isinstance(view, dict) else json.loads(view)
    View(**view).validate_json()
    assert any(b.get("accessory", {}).get("action_id") == "action_done" for b in view["blocks"])


def test_eighty_items_for_one_owner_say_how_many_more_and_where(url, engine, fake_slack, clock):
    post_minutes(engine, "\n".join(f"ACTION @omar: task number {n} by 2026-12-05" for n in range(1, 81)))
    deliver(engine, fake_slack, clock)
    [dm] = [p for p in fake_slack.posted if (p.key or "").startswith("minutes-actions:")]
    [channel_post] = [p for p in fake_slack.posted if (p.key or "").startswith("minutes:")]
    valid_message(channel_post.blocks, channel_post.text)
    valid_message(dm.blocks, dm.text)
    assert re.search(r"and \d+ more", json.dumps(dm.blocks, ensure_ascii=False)) and "/actions" in json.dumps(
        dm.blocks, ensure_ascii=False
    )
    assert home_opened(url, OMAR) == 200
    home = published_texts(fake_slack.calls_to("views.publish")[-1])
    assert re.search(r"and \d+ more", home) and "/actions" in home


@pytest.fixture
def many_topics_plan():
    from bot.config import EXAMPLE_PLAN

    topics = "".join(
        f"  - topic: Vendor oversight area number {n}\n    keywords: [vendor area {n}]\n    owner: ben\n"
        for n in range(1, 61)
    )
    head, tail = EXAMPLE_PLAN.read_text().split("\nresponsibilities:", 1)
    line_end = tail.index("\n") + 1
    return f"{head}\nresponsibilities:{tail[:line_end]}{topics}{tail[line_end:]}"


def test_sixty_eight_topics_are_all_named_whole(settings, engine, many_topics_plan, fake_slack):
    from bot.plan import load_plan
    from bot.studies import apply_plan
    from handlers.server import build_asgi
    from handlers.slack.app import build_app
    from tests.conftest import serve_in_thread

    run_in_session(engine, apply_plan, plan=load_plan(many_topics_plan), actor="test")
    base, stop = serve_in_thread(build_asgi(build_app(settings, engine), engine))
    try:
        answer = post_command(base, "/who-owns", "")
    finally:
        stop()
    valid_message(answer.json()["blocks"], answer.json()["text"])
    for n in range(1, 61):
        assert f"Vendor oversight area number {n}" in answer.text or re.search(r"and \d+ more", answer.text)
