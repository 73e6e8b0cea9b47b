"""What falls due together for one person in Teams is one Adaptive Card, each item with its own buttons."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import process_clock
from bot.db import run_in_session
from bot.plan import load_plan
from bot.studies import apply_plan
from schedules import jobs
from schedules.simulation import Simulation
from tests.teams.conftest import RAJ, teams_plan_text


def _actions(element) -> list[dict]:
    """Every Action.Submit in a card's element, however deep."""
    if isinstance(element, list):
        return [a for item in element for a in _actions(item)]
    if not isinstance(element, dict):
        return []
    found = [element] if element.get("type") == "Action.Submit" else []
    return found + [a for value in element.values() for a in _actions(value)]


def test_several_milestone_asks_come_as_one_card_with_each_ones_button(teams, fake_teams, engine, clock):
    text = teams_plan_text()
    for owner in ("raj", "sofia", "omar"):
        text = text.replace(f"owner: {owner}}}", "owner: raj, update_every: 1w}")
    with process_clock(clock):
        run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")
    runtime = jobs.Runtime(engine=engine, worker=teams.worker, clock=clock)
    start = clock.now()
    with process_clock(clock):
        Simulation(runtime, clock, lambda line: None).run(start, start + timedelta(days=8))
    asks = [s for s in teams.dms(RAJ) if "First patient in" in str(s.card)]
    assert len(asks) == 1  # one activity for the three
    card = asks[0].card
    updates = [a for a in _actions(card) if a["data"].get("action_id") == "milestone_update"]
    assert len(updates) == 3 and len({a["data"]["value"] for a in updates}) == 3
    for name in ("First patient in", "Last patient last visit", "Database lock"):
        assert name in str(card)
    assert "3 things from Cadence" in str(card)
