"""/away: cover while away; /who-owns names the cover, check-ins skip the person, periods are kept."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot import audit, checkins
from bot.away import AwayEnded, AwaySet, AwayShown, handle_away
from bot.db import run_in_session
from bot.errors import BadCommand, UnknownPerson
from bot.models import AwayPeriod
from bot.ownership import find_owner
from bot.studies import find_requester

MONDAY = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def as_person(engine, handle):
    return run_in_session(engine, find_requester, platform="console", user_id=handle, study_key="ACME-201")


def away(engine, handle, text, now=MONDAY):
    return run_in_session(engine, handle_away, requester=as_person(engine, handle), text=text, now=now)


def who_owns(engine, query, now=MONDAY):
    return run_in_session(engine, find_owner, requester=as_person(engine, "ben"), query=query, now=now)


def test_away_with_a_named_cover_points_who_owns_to_them(engine, study):
    result = away(engine, "mei", "until 2026-12-04 backup @omar")
    assert isinstance(result, AwaySet) and result.until == date(2026, 12, 4) and result.cover.handle == "omar"
    found = who_owns(engine, "SAE")
    assert found.topic.owner.handle == "mei"
    assert found.cover.until == date(2026, 12, 4) and found.cover.person.handle == "omar"
    assert who_owns(engine, "SAE", now=datetime(2026, 12, 5, 12, tzinfo=UTC)).cover is None  # back by then


def test_away_without_a_cover_falls_to_the_topics_backup(engine, study):
    away(engine, "mei", "2026-12-04")
    assert who_owns(engine, "SAE").cover.person.handle == "raj"
    listed = who_owns(engine, "")
    assert listed.away["mei"].person.handle == "raj"


def test_back_early_and_the_record_stays(engine, study):
    away(engine, "mei", "until 2026-12-04")
    assert isinstance(away(engine, "mei", "off"), AwayEnded)
    assert who_owns(engine, "SAE").cover is None
    assert away(engine, "mei", "off") == AwayEnded(False)
    with Session(engine) as session:
        [period] = session.exec(select(AwayPeriod)).all()
        assert period.ended_at is not None
        actions = [e.action for e in audit.events_for(session, study_id=1)]
        assert actions[-2:] == ["away.set", "away.ended"]


def test_away_shows_where_things_stand(engine, study):
    assert away(engine, "mei", "") == AwayShown(None, None)
    away(engine, "mei", "until 2026-12-04 cover raj")
    shown = away(engine, "mei", "")
    assert shown.away.until == date(2026, 12, 4) and shown.cover.handle == "raj"


@pytest.mark.parametrize(
    "text, error",
    [
        ("until whenever", BadCommand),
        ("until 2026-11-01", BadCommand),  # passed
        ("until 2026-12-04 backup @mei", BadCommand),  # oneself
        ("until 2026-12-04 backup @zed", UnknownPerson),
    ],
)
def test_bad_away_requests_change_nothing(engine, study, text, error):
    with pytest.raises(error):
        away(engine, "mei", text)
    with Session(engine) as session:
        assert session.exec(select(AwayPeriod)).all() == []


def test_check_ins_skip_someone_away_and_do_not_remind_them(engine, study):
    away(engine, "omar", "until 2026-11-27", now=MONDAY - timedelta(days=3))
    run_in_session(engine, checkins.do_due_work, now=MONDAY + timedelta(hours=1))
    with Session(engine) as session:
        from bot.models import CheckinRound

        round_ = session.exec(select(CheckinRound)).one()
        assert "omar" not in round_.prompts and "mei" in round_.prompts
