"""The in-process copy of people and topics: fresh after this process's writes, and after other instances'."""

from __future__ import annotations

from sqlmodel import Session, select

from bot import directory
from bot.db import session_scope
from bot.directory import Directory
from bot.models import Person, Responsibility, Study


def owner_of_safety(directory: Directory, engine) -> str:
    with Session(engine) as session:
        study = next(iter(directory.view(session).studies.values()))
        return study.topics[0].owner.handle


def hand_safety_to_omar_elsewhere(engine) -> None:
    """What another instance does: change the row and bump the study's revision."""
    with session_scope(engine) as session:
        omar = session.exec(select(Person).where(Person.handle == "omar")).one()
        safety = session.exec(select(Responsibility).where(Responsibility.topic == "Safety reporting")).one()
        safety.owner_id = omar.id
        session.exec(select(Study)).one().revision += 1


def test_a_copy_is_trusted_only_for_its_max_age(engine, study):
    directory = Directory(max_age=3600)
    assert owner_of_safety(directory, engine) == "mei"
    hand_safety_to_omar_elsewhere(engine)
    assert owner_of_safety(directory, engine) == "mei"  # within max_age: the copy stands
    directory.invalidate()  # as if max_age had passed
    assert owner_of_safety(directory, engine) == "omar"


def test_another_instances_change_is_seen_once_max_age_has_passed(engine, study):
    directory = Directory(max_age=0)
    assert owner_of_safety(directory, engine) == "mei"
    hand_safety_to_omar_elsewhere(engine)
    assert owner_of_safety(directory, engine) == "omar"


def test_the_copy_reloads_only_when_a_revision_moved(engine, study):
    directory = Directory(max_age=0)
    with Session(engine) as session:
        first = directory.view(session)
        assert directory.view(session) is first


def test_a_session_sees_its_own_change_though_another_thread_loaded_the_copy_meanwhile(engine, study):
    """The console's scheduler thread reloaded the copy between an ownership change and its answer, which
    then named the old backup: `@raj is now the backup (was @raj)`."""
    with session_scope(engine) as session:
        safety = session.exec(select(Responsibility).where(Responsibility.topic == "Safety reporting")).one()
        safety.backup_id = session.exec(select(Person).where(Person.handle == "omar")).one().id
        session.exec(select(Study)).one().revision += 1
        session.flush()
        directory.changed(session)
        with Session(engine) as elsewhere:  # another thread, reading what is committed
            assert directory.current(elsewhere).studies[1].topics[0].backup.handle == "raj"
        assert directory.current(session).studies[1].topics[0].backup.handle == "omar"
    with Session(engine) as after:
        assert directory.current(after).studies[1].topics[0].backup.handle == "omar"
