"""The message model's contract: every notice kind, form and the App Home draws on every chat — Block Kit
that slack_sdk's own models accept, Adaptive Cards the Teams SDK's card models accept, console text —
and every button and form routes to a core action (bot.forms)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from microsoft_teams.cards import AdaptiveCard
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlmodel import Session, select

from bot import forms, views
from bot import messages as m
from bot.checkins import AnswerForm
from bot.cli import simulate_plan
from bot.config import EXAMPLE_PLAN
from bot.db import make_engine
from bot.escalation import EscalationForm
from bot.minutes import MinutesForm
from bot.models import OutboxMessage
from bot.plan import load_plan
from bot.replies import Notice
from bot.views.buttons import form_for_button
from handlers.console.render import form_text, render_message
from handlers.slack import layout
from handlers.teams import cards

START = datetime(2027, 3, 8, tzinfo=ZoneInfo("America/New_York"))
SCRIPT = """
2027-03-08 10:00 @raj /checkin answer on track; site 3 activated; SIV at site 4; none
2027-03-08 11:00 @alice /ask When is the next EDC export?
2027-03-08 11:05 @alice /ask Is the SAE narrative for subject 104 due this week?
2027-03-08 17:10 @mei /ask answered Q2
2027-03-08 18:00 @omar /ask not-mine Q1
2027-03-08 18:01 @raj /ask not-mine Q1
2027-03-08 18:02 @omar /ask not-mine Q1
2027-03-09 09:00 @ben /escalate high Temperature excursion on kit shipment
2027-03-09 09:30 @ben /escalate ack E1
2027-03-09 10:00 @ben /escalate resolve E1 Kits quarantined, replacements shipped
2027-03-09 11:00 @ben /escalate critical Unblinding risk at site 3
2027-03-10 12:00 @carla /checkin answer at risk; IRB letter pending; submit amendment; IRB delay
2027-03-11 22:30 @raj /minutes ACTION @omar send the data cleaning plan by 2027-03-12 DECISION: weekly calls move to Tuesdays
2027-03-11 22:31 @raj /minutes post M1
2027-03-12 10:00 @omar /actions done A1
2027-03-12 11:00 @sofia /who-owns handover Site monitoring
2027-03-12 14:00 @alice /who-owns set Site monitoring owner @raj
2027-03-10 09:00 @raj /milestones update first patient slipped forecast 2027-03-26 two sites activate late
2027-03-10 10:00 @sofia /milestones update last patient on-track monitoring visits on plan
2027-03-11 09:00 @omar /milestones done database lock
2027-03-11 10:00 @alice /milestones changes database lock the listings for site 104 are missing
2027-03-12 09:00 @omar /milestones done database lock
2027-03-12 10:00 @alice /milestones accept database lock
2027-03-15 10:00 @carla /ask When is the next EDC data export due?
2027-03-15 22:30 @raj /minutes ACTION @mei file the SUSAR narrative by 2027-03-17
2027-03-15 22:31 @raj /minutes post M2
2027-03-16 09:00 @raj /minutes Safety call. ACTION Jordan to confirm batch numbers EOW
2027-03-16 09:01 @raj /minutes post M3
2027-03-16 10:00 @alice /actions assign A3 @omar
2027-03-16 11:00 @raj /actions reassign A3 @mei
2027-03-16 12:00 @raj /minutes correct M3 Safety call. ACTION @tom confirm the batch numbers by 2027-03-19
2027-03-16 12:01 @raj /minutes post M4
2027-03-09 08:00 @alice /cadence pulse now
2027-03-09 15:00 @raj /cadence pulse answer 4 quick answers on safety
2027-03-09 15:10 @mei /cadence pulse answer 5
2027-03-09 15:20 @omar /cadence pulse answer 3
"""
# What no script line can make (a Slack @mention's answer, a thread reply, a failed delivery): made here.
BY_HAND = [
    Notice("slack_uninstalled", {"team": "CRO Inc.", "study": "ACME-201"}),
    Notice(  # two silent periods take longer than the fortnight
        "milestone_silent",
        {
            "study": "ACME-201",
            "id": 2,
            "name": "Last patient last visit",
            "status": "on-track",
            "due": "2027-04-30",
            "forecast": None,
            "due_words": "Fri 30 Apr 2027",
            "owner": {"name": "Sofia Novak", "handle": "sofia", "slack_id": "U02SOFIA"},
        },
    ),  # fmt: skip
    Notice("text", {"text": "Safety reporting is owned by Mei Lin <!channel>"}),
    Notice(
        "question_replied", {"ref": "ACME-201-Q1", "by": "Omar Haddad", "text": "Friday.", "question_id": 1}
    ),
    Notice(
        "delivery_failed",
        {
            "key": "checkin:ACME-201:2027-W10:raj",
            "reason": "channel_not_found",
            "recipient": "channel C0GONE",
            "study": "ACME-201",
            "what": "checkin_prompt",
        },
    ),  # fmt: skip
    Notice(  # the simulator serves no web pages: its /cadence dashboard has no link to send
        "signin_link",
        {
            "study": "ACME-201",
            "url": "https://cadence.example.org/app/signin/0123456789abcdefghijklmnopqrstuvwxyzABCDEFG",
            "until": "2027-03-08T11:10:00+00:00",
            "minutes": 10,
        },
    ),  # fmt: skip
    Notice(
        "file_not_built",
        {
            "title": "Trial Master File export 2026-11-01 to 2026-11-30",
            "reason": "the file could not be built (reference 0a1b2c)",
        },
    ),  # fmt: skip
]


@pytest.fixture(scope="module")
def notices(tmp_path_factory) -> list[Notice]:
    """Every notice a fortnight of the example study queued, as the outbox stored them."""
    path = tmp_path_factory.mktemp("contract") / "contract.db"
    text = EXAMPLE_PLAN.read_text().replace("cadence:\n", "cadence:\n  confirm_every: 7d\n", 1)
    plan = load_plan(
        text.replace("due: 2027-06-01, owner: omar", "due: 2027-06-01, owner: omar, accepted_by: [alice]")
    )
    simulate_plan(plan, f"sqlite:///{path}", START, START.replace(day=24), SCRIPT)
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    engine.dispose()
    return [Notice(r.notice_kind, r.payload) for r in rows if "content_b64" not in r.payload] + BY_HAND


def slack_accepts(drawn: dict) -> None:
    assert drawn["blocks"], "nothing to show"
    for block in drawn["blocks"]:
        Block.parse(block).validate_json()


def teams_accepts(card: dict) -> None:
    assert card["version"] == "1.5" and card["body"]
    AdaptiveCard.model_validate(card)


def buttons_of(model: m.Message | m.Home | m.Form) -> list[m.Button]:
    found = []
    for block in model.blocks:
        elements = block.elements if isinstance(block, m.Actions) else ()
        if isinstance(block, m.Section) and block.accessory is not None:
            elements = (block.accessory,)
        found += [e for e in elements if isinstance(e, m.Button)]
    return found


def test_every_notice_kind_is_drawn_by_the_fortnight(notices):
    assert set(views._NOTICES) == {n.kind for n in notices}


TEAMS_MAX_ACTIVITY_BYTES = 28_000  # Teams refuses a larger message
SHORTCODE = re.compile(r":[a-z_]+:")


def teams_activity_bytes(card: dict) -> int:
    """The size of the activity that carries `card`, as JSON."""
    return len(json.dumps({"type": "message", "attachments": [cards.attachment(card)]}).encode())


def test_every_notice_draws_on_every_chat(notices):
    for notice in notices:
        model = views.notice(notice)
        slack_accepts(layout.message(model))
        teams_accepts(cards.message_card(model))
        for card in cards.message_cards(model):  # the activities the Teams notifier sends
            assert teams_activity_bytes(card) < TEAMS_MAX_ACTIVITY_BYTES, notice.kind
            assert not SHORTCODE.findall(json.dumps(card, ensure_ascii=False)), notice.kind
        assert render_message(model).strip(), notice.kind
        if notice.kind == "home":
            View(**layout.home(m.Home(model.blocks))).validate_json()


def test_every_button_routes_to_a_core_action(notices):
    routed = set(forms.BUTTONS) | set(forms.FORM_BUTTONS) | {"checkin_answer", "checkin_snooze"}
    pressed = {forms.button_base(b.action) for n in notices for b in buttons_of(views.notice(n))}
    assert pressed and pressed <= routed
    assert all(b.typed for n in notices for b in buttons_of(views.notice(n)) if b.action != "checkin_snooze")


def load_plan_people():
    from bot.directory import Contact

    plan = load_plan(EXAMPLE_PLAN.read_text())
    return [
        Contact(n, h, p.name, p.side, p.role, p.slack, p.teams, p.email, p.prefers, p.timezone)
        for n, (h, p) in enumerate(plan.people.items(), 1)
    ]


FORMS = [
    EscalationForm("ACME-201", ("low", "medium", "high", "critical"), ("Safety reporting", "Product supply")),
    MinutesForm("ACME-201", ("Weekly sponsor–CRO call", "Ad hoc meeting"), date(2027, 3, 11)),
    MinutesForm("ACME-201", ("Ad hoc meeting",), date(2027, 3, 11), tuple(load_plan_people())),
    AnswerForm("ACME-201", "2027-W10", ("What moved?", "Blockers?"), ("site 3", "none"), "on_track", False),
]


@pytest.mark.parametrize("result", FORMS, ids=lambda r: type(r).__name__)
def test_every_form_draws_on_every_chat_and_submits_somewhere(result):
    check_form(views.form(result))


@pytest.mark.parametrize("action", sorted(forms.FORM_BUTTONS))
def test_every_form_a_button_opens_draws_and_submits_somewhere(action):
    check_form(form_for_button(action, "7"))


def all_forms() -> list[m.Form]:
    return [views.form(result) for result in FORMS] + [
        form_for_button(a, "7") for a in sorted(forms.FORM_BUTTONS)
    ]


PLAYGROUND = Path(__file__).resolve().parent / "playground"


@pytest.fixture(scope="module")
def adaptive_cards_parser() -> Path:
    """Microsoft's Adaptive Cards parser (npm: adaptivecards, pinned in tests/playground/package.json)."""
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("Node.js and npm are needed for Microsoft's Adaptive Cards parser")
    if not (PLAYGROUND / "node_modules" / "adaptivecards").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PLAYGROUND,
            check=True,
            timeout=300,
        )
    return PLAYGROUND / "check-cards.js"


def test_microsofts_parser_takes_every_card_as_it_is(notices, adaptive_cards_parser):
    drawn = [cards.message_card(views.notice(n)) for n in notices] + [cards.form_card(f) for f in all_forms()]
    done = subprocess.run(
        ["node", str(adaptive_cards_parser)],
        input="\n".join(json.dumps(card) for card in drawn),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    complaints = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(complaints) == len(drawn)
    assert not [
        (card["body"][0].get("text"), errors)
        for card, errors in zip(drawn, complaints, strict=True)
        if errors
    ]


def check_form(form: m.Form) -> None:
    View(**layout.modal(form)).validate_json()
    teams_accepts(cards.form_card(form))
    assert teams_activity_bytes(cards.form_card(form)) < TEAMS_MAX_ACTIVITY_BYTES
    assert form.typed and form.typed in form_text(form)
    assert form.id in forms.FORMS
