"""/who-owns in the core: matching topics, listing them, and admins changing ownership."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot import audit
from bot.db import run_in_session
from bot.errors import BadCommand, NotAnAdmin, UnknownPerson, UnknownTopic
from bot.models import Study
from bot.ownership import (
    NoTopicFound,
    OwnerFound,
    OwnershipChanged,
    TopicsListed,
    change_ownership,
    find_owner,
)
from bot.studies import find_requester


def as_person(engine, handle):
    return run_in_session(engine, find_requester, platform="console", user_id=handle, study_key="ACME-201")


def who_owns(engine, query, handle="ben"):
    return run_in_session(engine, find_owner, requester=as_person(engine, handle), query=query)


def change(engine, handle, topic, role, person):
    return run_in_session(
        engine,
        change_ownership,
        requester=as_person(engine, handle),
        topic_query=topic,
        role=role,
        person_reference=person,
    )


@pytest.mark.parametrize(
    "query, topic, owner, exact",
    [
        ("SAE", "Safety reporting", "mei", True),
        ("sae", "Safety reporting", "mei", True),
        ("database lock", "Data management", "omar", True),
        ("Who handles SAE reports?", "Safety reporting", "mei", True),
        ("pharmacovigilence", "Safety reporting", "mei", False),
        ("safty", "Safety reporting", "mei", False),
        ("monitorng", "Site monitoring", "sofia", False),
        ("Recruitment", "Recruitment", "raj", True),
        ("invoices", "Budget and invoices", "ben", True),
        ("temperature excursion", "Product supply", "ben", True),
        ("IRB", "Regulatory submissions", "carla", True),
    ],
)
def test_a_topic_is_found_by_name_keyword_or_typo(engine, study, query, topic, owner, exact):
    found = who_owns(engine, query)
    assert isinstance(found, OwnerFound), found
    assert (found.topic.topic, found.topic.owner.handle, found.exact) == (topic, owner, exact)


def test_the_answer_names_owner_backup_side_role_and_preference(engine, study):
    found = who_owns(engine, "IRB")
    assert found.topic.owner.name == "Carla Rossi" and found.topic.owner.side == "sponsor"
    assert found.topic.owner.prefers == "email" and found.topic.owner.email == "carla@acme.example"
    assert found.topic.backup.handle == "alice"
    assert who_owns(engine, "SAE").topic.answer_within == "4h"


def test_no_topic_lists_every_topic_in_plan_order(engine, study):
    listed = who_owns(engine, "")
    assert isinstance(listed, TopicsListed)
    assert [t.topic for t in listed.topics][:3] == ["Safety reporting", "Data management", "Site monitoring"]
    assert len(listed.topics) == 8


@pytest.mark.parametrize("query", ["xyzzy", "sa", "the weather in Warsaw"])
def test_an_unknown_topic_gets_the_closest_topics_and_examples(engine, study, query):
    missed = who_owns(engine, query)
    assert isinstance(missed, NoTopicFound)
    assert missed.examples == ("SAE", "EDC", "monitoring visit")


def test_a_near_miss_suggests_the_closest_topics(engine, study):
    missed = who_owns(engine, "sa")
    assert "Safety reporting" in [t.topic for t in missed.closest]


def test_an_admin_changes_the_backup_and_it_is_audited(engine, study):
    changed = change(engine, "alice", "safety", "backup", "@omar")
    assert isinstance(changed, OwnershipChanged) and changed.changed
    assert (changed.topic.backup.handle, changed.previous.handle) == ("omar", "raj")
    assert who_owns(engine, "SAE").topic.backup.handle == "omar"
    with Session(engine) as session:
        study_row = session.exec(select(Study)).one()
        event = audit.events_for(session, study_id=study_row.id, action="ownership.changed")[0]
        assert event.actor == "console:alice" and event.subject == "Safety reporting"
        assert event.detail["before"] == {"owner": "mei", "backup": "raj"}
        assert event.detail["after"] == {"owner": "mei", "backup": "omar"}
        assert study_row.revision == 2


def test_a_slack_mention_names_the_person(engine, study):
    changed = change(engine, "raj", "EDC", "owner", "@sofia")
    assert changed.topic.owner.handle == "sofia"


def test_making_the_backup_owner_swaps_the_two(engine, study):
    changed = change(engine, "raj", "safety reporting", "owner", "raj")
    assert changed.swapped and changed.topic.owner.handle == "raj" and changed.topic.backup.handle == "mei"


def test_the_backup_can_be_cleared(engine, study):
    assert change(engine, "raj", "safety reporting", "backup", "none").topic.backup is None


def test_a_change_to_the_same_person_changes_nothing(engine, study):
    changed = change(engine, "alice", "SAE", "owner", "mei")
    assert not changed.changed
    with Session(engine) as session:
        assert audit.events_for(session, study_id=1, action="ownership.changed") == []


def test_a_non_admin_is_refused_and_nothing_changes(engine, study):
    with pytest.raises(NotAnAdmin) as caught:
        change(engine, "ben", "SAE", "owner", "ben")
    assert "Alice Chen or Raj Patel" in caught.value.hint
    assert who_owns(engine, "SAE").topic.owner.handle == "mei"
    with Session(engine) as session:
        assert audit.events_for(session, study_id=1, action="ownership.changed") == []


def test_an_unknown_person_is_refused_with_a_suggestion(engine, study):
    with pytest.raises(UnknownPerson) as caught:
        change(engine, "alice", "SAE", "owner", "@meii")
    assert caught.value.hint == "Did you mean mei?"


def test_an_unknown_topic_is_refused(engine, study):
    with pytest.raises(UnknownTopic):
        change(engine, "alice", "the weather", "owner", "mei")


def test_the_owner_cannot_also_be_the_backup(engine, study):
    with pytest.raises(BadCommand):
        change(engine, "alice", "SAE", "backup", "mei")
