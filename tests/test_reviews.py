"""Owners confirm the responsibilities map every confirm_every (default 90 days)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot import reviews
from bot.db import run_in_session
from bot.errors import BadCommand
from bot.models import OutboxMessage, Responsibility
from bot.studies import find_requester


def as_person(engine, handle):
    return run_in_session(engine, find_requester, platform="console", user_id=handle, study_key="ACME-201")


def applied_at(engine):
    with Session(engine) as session:
        return session.exec(select(Responsibility)).first().confirmed_at


def review(engine, moment) -> int:
    return run_in_session(engine, reviews.ask_owners_to_confirm, now=moment)


def rows(engine, prefix):
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.key.startswith(prefix))))


def test_owners_are_asked_once_after_ninety_days_then_admins_hear_of_silence(engine, study):
    start = applied_at(engine)
    assert review(engine, start + timedelta(days=89)) == 0
    assert review(engine, start + timedelta(days=90)) == 7  # one message per owner (ben owns two topics)
    assert review(engine, start + timedelta(days=91)) == 0
    ben = next(r for r in rows(engine, "confirm:") if r.payload["handle"] == "ben")
    assert ben.payload["topics"] == ["Budget and invoices", "Product supply"]
    run_in_session(
        engine, reviews.confirm_topics, requester=as_person(engine, "ben"), now=start + timedelta(days=92)
    )
    review(engine, start + timedelta(days=97))
    flagged = {r.payload["handle"] for r in rows(engine, "confirm-overdue:")}
    assert "ben" not in flagged and "mei" in flagged
    assert {r.recipient for r in rows(engine, "confirm-overdue:ACME-201:mei")} == {
        str(as_person(engine, "alice").person_id),
        str(as_person(engine, "raj").person_id),
    }


def test_a_hand_over_reaches_the_admins_and_keeps_the_owner_until_then(engine, study):
    handed = run_in_session(
        engine,
        reviews.hand_over,
        requester=as_person(engine, "omar"),
        topic="data management",
        now=applied_at(engine),
    )
    assert handed.admins == ("Alice Chen", "Raj Patel")
    assert len(rows(engine, "handover:")) == 2
    with pytest.raises(BadCommand):
        run_in_session(
            engine,
            reviews.hand_over,
            requester=as_person(engine, "omar"),
            topic="Recruitment",
            now=applied_at(engine),
        )


def test_someone_who_owns_nothing_has_nothing_to_confirm(engine, study):
    with pytest.raises(BadCommand):
        run_in_session(
            engine, reviews.confirm_topics, requester=as_person(engine, "dev"), now=applied_at(engine)
        )


def test_the_plan_sets_the_period(engine, study):
    from bot.config import EXAMPLE_PLAN
    from bot.plan import load_plan
    from bot.studies import apply_plan

    text = EXAMPLE_PLAN.read_text().replace(
        "  answer_within: 1bd", "  confirm_every: 30d\n  answer_within: 1bd"
    )
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")
    assert review(engine, applied_at(engine) + timedelta(days=31)) == 7


def test_review_in_the_console(engine, study):
    from handlers.console.console import ConsoleSession

    chat = ConsoleSession(engine, study_key="ACME-201", handle="ben")
    assert chat.say("/who-owns confirm") == "Thanks, confirmed: Budget and invoices, Product supply."
    assert chat.say("/who-owns handover product supply").startswith(
        "Noted: Alice Chen and Raj Patel will name"
    )
