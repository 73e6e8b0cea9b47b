"""Applying plans and finding who asks, in which study."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from bot import audit
from bot.config import EXAMPLE_PLAN
from bot.db import run_in_session, session_scope
from bot.errors import BadCommand, NotConnected, NotInStudy
from bot.models import AuditEvent, Person, Responsibility, Study
from bot.plan import load_plan, plan_yaml
from bot.studies import apply_plan, find_requester, plan_as_it_stands


def test_applying_a_plan_creates_the_study_with_its_people_and_topics(engine, study):
    with Session(engine) as session:
        row = session.exec(select(Study)).one()
        assert (row.key, row.channel, row.admins, row.timezone) == (
            "ACME-201",
            "C0STUDY",
            ["alice", "raj"],
            "America/New_York",
        )
        assert len(session.exec(select(Person)).all()) == 9
        assert len(session.exec(select(Responsibility)).all()) == 8
        assert [e.action for e in audit.events_for(session, study_id=row.id)] == ["plan.created"]


def test_applying_the_same_plan_again_changes_nothing_but_is_recorded(engine, study):
    result = run_in_session(engine, apply_plan, plan=study, actor="cli")
    assert not result.created and result.summary == "Study ACME-201 is already up to date."
    with Session(engine) as session:
        assert len(session.exec(select(Person)).all()) == 9
        assert [e.action for e in session.exec(select(AuditEvent))] == ["plan.created", "plan.applied"]


def test_applying_a_changed_plan_updates_in_place_and_keeps_history(engine, study):
    with Session(engine) as session:
        ids_before = {p.handle: p.id for p in session.exec(select(Person))}
    text = EXAMPLE_PLAN.read_text()
    text = text.replace("    owner: mei\n", "    owner: omar\n", 1)  # safety reporting moves to omar
    text = text.replace(
        "  tom:   {", "  zoe:   {name: Zoe Kim, side: cro, role: CRA, slack: U02ZOE}\n  x_tom: {"
    )
    text = text.replace("who: [tom, alice]", "who: [x_tom, alice]").replace(
        "who: [dev, tom]", "who: [dev, x_tom]"
    )
    result = run_in_session(engine, apply_plan, plan=load_plan(text), actor="cli")
    assert result.changes["people added"] == ["zoe", "x_tom"]
    assert result.changes["people removed"] == ["tom"]
    assert result.changes["topics updated"] == ["Safety reporting"]
    with Session(engine) as session:
        people = {p.handle: p for p in session.exec(select(Person))}
        assert people["mei"].id == ids_before["mei"]  # updated in place, not recreated
        assert people["tom"].active is False  # gone from the plan, kept for the record
        safety = session.exec(select(Responsibility).where(Responsibility.topic == "Safety reporting")).one()
        assert safety.owner_id == people["omar"].id
        study_row = session.exec(select(Study)).one()
        assert study_row.revision == 2


def test_a_topic_dropped_from_the_plan_is_retired_not_deleted(engine, study):
    text = EXAMPLE_PLAN.read_text()
    start = text.index("  - topic: Product supply")
    text = text[:start] + text[text.index("cadence:") :]
    result = run_in_session(engine, apply_plan, plan=load_plan(text), actor="cli")
    assert result.changes["topics removed"] == ["Product supply"]
    with Session(engine) as session:
        row = session.exec(select(Responsibility).where(Responsibility.topic == "Product supply")).one()
        assert row.active is False


def test_the_audit_log_refuses_updates_and_deletes(engine, study):
    with pytest.raises(DBAPIError):
        with session_scope(engine) as session:
            event = session.exec(select(AuditEvent)).first()
            event.action = "rewritten"
    with pytest.raises(DBAPIError):
        with session_scope(engine) as session:
            session.delete(session.exec(select(AuditEvent)).first())
    with Session(engine) as session:
        assert [e.action for e in session.exec(select(AuditEvent))] == ["plan.created"]


def test_times_come_back_in_utc(engine, study):
    with Session(engine) as session:
        event = session.exec(select(AuditEvent)).one()
        assert event.at.utcoffset().total_seconds() == 0


def requester(engine, **kwargs):
    return run_in_session(engine, find_requester, **kwargs)


def test_a_person_in_the_study_channel_is_found_with_their_role(engine, study):
    found = requester(engine, platform="slack", user_id="U02RAJ", channel_id="C0STUDY")
    assert (found.study_key, found.handle, found.is_admin, found.actor) == (
        "ACME-201",
        "raj",
        True,
        "slack:U02RAJ",
    )
    assert requester(engine, platform="slack", user_id="U01BEN", channel_id="C0STUDY").is_admin is False


def test_a_direct_message_finds_the_persons_only_study(engine, study):
    # Adapters give no channel for a direct message (Slack's D… ids stay in the Slack adapter).
    assert requester(engine, platform="slack", user_id="U02MEI", channel_id=None).handle == "mei"


def test_a_stranger_in_the_study_channel_is_told_how_to_join(engine, study):
    with pytest.raises(NotInStudy) as caught:
        requester(engine, platform="slack", user_id="U09NOBODY", channel_id="C0STUDY")
    assert "not in ACME-201's communication plan" in caught.value.message
    assert "slack: U09NOBODY" in caught.value.hint


def test_a_person_in_no_study_is_told_how_to_connect(engine, study):
    with pytest.raises(NotInStudy) as caught:
        requester(engine, platform="slack", user_id="U09NOBODY", channel_id=None)
    assert "not in any study" in caught.value.message


def test_a_channel_of_no_study_is_explained(engine, study):
    with pytest.raises(NotConnected) as caught:
        requester(engine, platform="slack", user_id="U02RAJ", channel_id="C0RANDOM")
    assert "study.channel: C0RANDOM" in caught.value.hint
    assert caught.value.channels == {"ACME-201": "C0STUDY"}


def test_someone_in_two_studies_must_say_which_from_a_dm(engine, study):
    other = EXAMPLE_PLAN.read_text().replace("id: ACME-201", "id: ACME-202").replace("C0STUDY", "C0OTHER")
    run_in_session(engine, apply_plan, plan=load_plan(other), actor="test")
    with pytest.raises(BadCommand):
        requester(engine, platform="slack", user_id="U02RAJ", channel_id=None)
    assert requester(engine, platform="slack", user_id="U02RAJ", channel_id="C0OTHER").study_key == "ACME-202"


def _backup_and_keywords_of_safety(engine) -> tuple[str, list[str]]:
    with Session(engine) as session:
        safety = session.exec(select(Responsibility).where(Responsibility.topic == "Safety reporting")).one()
        return session.get(Person, safety.backup_id).handle, safety.keywords


def _chat_makes_omar_the_backup_of_safety(engine) -> None:
    from bot.ownership import change_ownership

    with session_scope(engine) as session:
        alice = find_requester(session, platform="slack", user_id="U01ALICE", channel_id="C0STUDY")
        change_ownership(
            session, requester=alice, topic_query="safety", role="backup", person_reference="@omar"
        )


def test_applying_the_file_again_keeps_what_chat_changed_and_says_where_they_differ(engine, study):
    _chat_makes_omar_the_backup_of_safety(engine)
    result = run_in_session(engine, apply_plan, plan=study, actor="startup")
    assert _backup_and_keywords_of_safety(engine)[0] == "omar"
    assert result.differences == ("Safety reporting backup: omar here, raj in the file",)
    assert "cadence plan export --study ACME-201" in result.drift


def test_a_file_change_applies_only_what_the_file_changed(engine, study):
    _chat_makes_omar_the_backup_of_safety(engine)
    text = EXAMPLE_PLAN.read_text().replace("SUSAR, pharmacovigilance", "SUSAR, DSUR, pharmacovigilance")
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="startup")
    backup, keywords = _backup_and_keywords_of_safety(engine)
    assert backup == "omar" and "DSUR" in keywords  # the new keyword lands; the chat's backup stays
    # The file naming a backup of its own is a decision made in the file: it wins.
    text = text.replace("    owner: mei\n    backup: raj\n", "    owner: mei\n    backup: sofia\n")
    result = run_in_session(engine, apply_plan, plan=load_plan(text), actor="startup")
    assert _backup_and_keywords_of_safety(engine)[0] == "sofia" and result.differences == ()


def test_replace_makes_the_study_exactly_the_file(engine, study):
    _chat_makes_omar_the_backup_of_safety(engine)
    result = run_in_session(engine, apply_plan, plan=study, actor="cli", replace=True)
    assert _backup_and_keywords_of_safety(engine)[0] == "raj" and result.differences == ()


def test_an_export_keeps_the_studys_timeline(engine, study):
    # No start in the file: the export writes the day the plan was first applied (in New York, where
    # midnight of 1 November UTC is still 31 October).
    exported = run_in_session(engine, plan_as_it_stands, study_key="ACME-201")
    assert exported["study"]["start"] == "2026-10-31" and not exported["study"].get("end")
    text = EXAMPLE_PLAN.read_text().replace(
        "  admins: [alice, raj]", "  start: 2026-12-07\n  end: 2027-06-30\n  admins: [alice, raj]"
    )
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")
    again = load_plan(plan_yaml(run_in_session(engine, plan_as_it_stands, study_key="ACME-201"), "exported"))
    assert (again.data["study"]["start"], again.data["study"]["end"]) == ("2026-12-07", "2027-06-30")
