"""Minutes, action items and decisions in the core, with a moved clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot import minutes
from bot.db import run_in_session
from bot.errors import BadCommand, CadenceError
from bot.models import ActionItem, Decision, OutboxMessage
from bot.studies import find_requester

MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 10:00 in New York
NOTES = """Weekly call — recruitment and safety
ACTION @omar: close the open EDC queries by 2026-12-05
ACTION: Sofia to send the monitoring visit report by Friday
DECISION: screening window extended to 21 days
ACTION: someone to check the temperature logs by Friday
Site 4 SIV went well."""


def as_person(engine, handle):
    return run_in_session(engine, find_requester, platform="console", user_id=handle, study_key="ACME-201")


def draft(engine, handle="raj", text=NOTES, now=MONDAY):
    return run_in_session(
        engine, minutes.draft_minutes, requester=as_person(engine, handle), text=text, now=now
    )


def post(engine, minutes_id, handle="raj", now=MONDAY):
    return run_in_session(
        engine, minutes.post_minutes, requester=as_person(engine, handle), minutes_id=minutes_id, now=now
    )


def rows(engine, prefix) -> list[OutboxMessage]:
    with Session(engine) as session:
        return sorted(
            (r for r in session.exec(select(OutboxMessage)) if r.key.startswith(prefix)), key=lambda r: r.key
        )


def items(engine) -> dict[str, ActionItem]:
    with Session(engine) as session:
        return {i.text: i for i in session.exec(select(ActionItem))}


def test_pasted_notes_become_a_draft_that_shows_what_was_understood(engine, study):
    drafted = draft(engine)
    data = drafted.data
    assert data["meeting"] == "Weekly sponsor–CRO call" and data["held_on"] == "2026-11-23"
    assert [a["owner"]["handle"] if a["owner"] else None for a in data["actions"]] == ["omar", "sofia", None]
    assert [a["due"] for a in data["actions"]] == ["2026-12-05", "2026-11-27", "2026-11-27"]
    assert data["decisions"] == ["screening window extended to 21 days"]
    assert data["problems"] == [
        "line 5: no owner found in “ACTION: someone to check the temperature logs by Friday”"
    ]
    assert data["notes"] == ["Weekly call — recruitment and safety", "Site 4 SIV went well."]
    assert [a["handle"] for a in data["attendees"]] == ["alice", "ben", "omar", "raj", "sofia"]  # the plan's
    assert rows(engine, "") == []  # nothing is posted before it is confirmed


def test_posting_sends_the_minutes_to_the_channel_and_each_owner_their_items(engine, study):
    drafted = draft(engine)
    posted = post(engine, drafted.minutes_id)
    assert (posted.actions, posted.decisions, posted.channel, posted.unowned) == (3, 1, "C0STUDY", 1)
    [channel] = rows(engine, "minutes:")
    assert (
        channel.recipient == "C0STUDY" and len(channel.payload["actions"]) == 3
    )  # the unowned one shown too
    assert [r.key for r in rows(engine, "minutes-actions:")] == [
        "minutes-actions:ACME-201:1:omar",
        "minutes-actions:ACME-201:1:sofia",
    ]
    assert set(items(engine)) == {
        "Close the open EDC queries",
        "Send the monitoring visit report",
        "Someone to check the temperature logs",  # kept with an id: it needs an owner
    }
    assert items(engine)["Someone to check the temperature logs"].owner_id is None
    assert [a["id"] for a in channel.payload["actions"]] == [1, 2, 3]
    with Session(engine) as session:
        assert session.exec(select(Decision)).one().text == "screening window extended to 21 days"
    with pytest.raises(CadenceError, match="posted already"):
        post(engine, drafted.minutes_id)


def test_only_the_note_taker_or_an_admin_posts(engine, study):
    drafted = draft(engine, handle="omar")
    with pytest.raises(CadenceError):
        post(engine, drafted.minutes_id, handle="ben")
    assert post(engine, drafted.minutes_id, handle="alice").actions == 3


def test_empty_notes_are_refused(engine, study):
    with pytest.raises(BadCommand):
        draft(engine, text="  ")


def test_done_by_the_owner_closes_the_item_and_tells_the_thread(engine, study):
    post(engine, draft(engine).minutes_id)
    item = items(engine)["Close the open EDC queries"]
    with pytest.raises(CadenceError, match="Only Omar Haddad"):
        run_in_session(
            engine, minutes.complete_action, requester=as_person(engine, "ben"), item_id=item.id, now=MONDAY
        )
    done = run_in_session(
        engine, minutes.complete_action, requester=as_person(engine, "omar"), item_id=item.id, now=MONDAY
    )
    assert done.what == "done"
    again = run_in_session(
        engine, minutes.complete_action, requester=as_person(engine, "omar"), item_id=item.id, now=MONDAY
    )
    assert again.what == "already"
    [told] = rows(engine, "action-done:")
    assert told.recipient_kind == "thread" and told.thread_of == "minutes:ACME-201:1"


def test_actions_all_lists_overdue_first(engine, study):
    post(engine, draft(engine).minutes_id)
    later = MONDAY + timedelta(days=6)  # after Friday
    listed = run_in_session(
        engine, minutes.list_actions, requester=as_person(engine, "ben"), everyone=True, now=later
    )
    assert [(i.text, i.owner, i.overdue) for i in listed.items] == [
        ("Send the monitoring visit report", "Sofia Novak", True),
        ("Someone to check the temperature logs", "", True),  # needs an owner, listed all the same
        ("Close the open EDC queries", "Omar Haddad", False),
    ]
    mine = run_in_session(
        engine, minutes.list_actions, requester=as_person(engine, "omar"), everyone=False, now=later
    )
    assert [i.text for i in mine.items] == ["Close the open EDC queries"]


def test_reminders_a_business_day_before_on_the_day_then_bounded_nudges_once_each(engine, study):
    post(engine, draft(engine).minutes_id)
    sofia_nine = lambda day: datetime(2026, 11, 23, 8, 5, tzinfo=UTC) + timedelta(days=day - 23)  # noqa: E731 — 09:05 in Prague
    for day in range(23, 32):
        for _ in range(2):  # every tick of the day finds nothing new to send
            run_in_session(engine, minutes.remind_actions, now=sofia_nine(day))
    kinds = [r.key.rsplit(":", 1)[1] for r in rows(engine, "action-reminder:ACME-201:2")]
    # Thursday, Friday (due), no nudge on the weekend, then Monday and Tuesday
    assert kinds == ["before", "due", "overdue-1", "overdue-2"]
    for day in range(32, 45):
        run_in_session(engine, minutes.remind_actions, now=sofia_nine(day))
    overdue = [r for r in rows(engine, "action-reminder:ACME-201:2") if "overdue" in r.key]
    assert len(overdue) == minutes.OVERDUE_NUDGES


def test_cant_make_it_moves_the_date_with_a_reason(engine, study):
    post(engine, draft(engine).minutes_id)
    item = items(engine)["Send the monitoring visit report"]
    with pytest.raises(BadCommand):
        run_in_session(
            engine,
            minutes.reschedule_action,
            requester=as_person(engine, "sofia"),
            item_id=item.id,
            new_date="2026-12-04",
            reason="",
            now=MONDAY,
        )
    with pytest.raises(BadCommand):
        run_in_session(
            engine,
            minutes.reschedule_action,
            requester=as_person(engine, "sofia"),
            item_id=item.id,
            new_date="last year",
            reason="x",
            now=MONDAY,
        )
    moved = run_in_session(
        engine,
        minutes.reschedule_action,
        requester=as_person(engine, "sofia"),
        item_id=item.id,
        new_date="2026-12-04",
        reason="site closed for a week",
        now=MONDAY,
    )
    assert moved.what == "moved" and moved.item.due_on == date(2026, 12, 4)


def test_a_decision_is_superseded_not_edited(engine, study):
    post(engine, draft(engine).minutes_id)
    with pytest.raises(CadenceError):
        run_in_session(
            engine,
            minutes.supersede_decision,
            requester=as_person(engine, "ben"),
            decision_id=1,
            text="28 days",
            now=MONDAY,
        )
    log = run_in_session(
        engine,
        minutes.supersede_decision,
        requester=as_person(engine, "alice"),
        decision_id=1,
        text="screening window extended to 28 days",
        now=MONDAY,
    )
    new, old = log.decisions
    assert (new.supersedes, old.superseded_by) == (
        1,
        2,
    ) and old.text == "screening window extended to 21 days"


def test_the_note_taker_is_chased_then_the_admins_once_each(engine, study):
    # The weekly call is Thursday 15:00 New York, an hour long; minutes are due a day later.
    friday_after = datetime(2026, 11, 27, 21, 5, tzinfo=UTC)  # Friday 16:05 in New York
    assert run_in_session(engine, minutes.chase_note_takers, now=friday_after - timedelta(minutes=10)) == 0
    assert run_in_session(engine, minutes.chase_note_takers, now=friday_after) == 1
    assert run_in_session(engine, minutes.chase_note_takers, now=friday_after + timedelta(hours=1)) == 0
    assert (
        run_in_session(engine, minutes.chase_note_takers, now=friday_after + timedelta(days=1)) == 2
    )  # admins
    assert [r.key.split(":")[-1] for r in rows(engine, "minutes-chase:")] == ["2026-11-26", "alice", "raj"]


def test_posted_minutes_stop_the_chase(engine, study):
    thursday_evening = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
    post(engine, draft(engine, now=thursday_evening).minutes_id, now=thursday_evening)
    assert (
        run_in_session(engine, minutes.chase_note_takers, now=datetime(2026, 11, 28, 21, 5, tzinfo=UTC)) == 0
    )


def test_overdue_items_join_the_checkin_digest(engine, study):
    from bot import checkins

    post(engine, draft(engine).minutes_id)
    run_in_session(
        engine, checkins.open_round_now, requester=as_person(engine, "alice"), now=MONDAY + timedelta(days=7)
    )
    run_in_session(engine, checkins.do_due_work, now=MONDAY + timedelta(days=9))
    [digest] = rows(engine, "checkin-digest:")
    assert [(i["text"], i["owner"]) for i in digest.payload["overdue"]] == [
        ("Send the monitoring visit report", "Sofia Novak"),
        ("Someone to check the temperature logs", "needs an owner"),
    ]


def test_an_item_that_needs_an_owner_is_assigned_then_reassigned_audited_and_told(engine, study):
    from bot.models import AuditEvent

    post(engine, draft(engine).minutes_id)
    unowned = items(engine)["Someone to check the temperature logs"]
    with pytest.raises(CadenceError, match="needs an owner first"):
        run_in_session(
            engine,
            minutes.complete_action,
            requester=as_person(engine, "ben"),
            item_id=unowned.id,
            now=MONDAY,
        )
    with pytest.raises(BadCommand, match="does not know 'zed'"):
        assign(engine, "ben", unowned.id, "zed")
    given = assign(engine, "ben", unowned.id, "Omar")  # anyone of the study gives an unowned item
    assert (given.what, given.item.owner, given.before) == ("assigned", "Omar Haddad", "")
    with pytest.raises(CadenceError, match="Only Omar Haddad, the note taker or an admin"):
        assign(engine, "ben", unowned.id, "@mei")
    moved = assign(engine, "raj", unowned.id, "@mei")  # raj took the notes
    assert (moved.item.owner, moved.before) == ("Mei Lin", "Omar Haddad")
    assert len(rows(engine, "action-assigned:")) == 2  # Omar, then Mei, each told
    assert len(rows(engine, "action-unassigned:")) == 1
    with Session(engine) as session:
        trail = [
            (e.action, e.detail["from"], e.detail["to"])
            for e in session.exec(select(AuditEvent).where(AuditEvent.subject == f"A{unowned.id}"))
        ]
    assert trail == [("action.assigned", None, "omar"), ("action.reassigned", "omar", "mei")]


def test_an_action_added_by_hand_reads_owner_and_date_as_notes_do(engine, study):
    added = run_in_session(
        engine,
        minutes.add_action,
        requester=as_person(engine, "raj"),  # Warsaw: 03.12. is day first
        text="@mei send the diary cards by 15.12.",
        now=MONDAY,
    )
    assert (added.what, added.item.owner, added.item.due_on, added.item.text) == (
        "added",
        "Mei Lin",
        date(2026, 12, 15),
        "Send the diary cards",
    )
    assert len(rows(engine, "action-assigned:")) == 1  # Mei is told
    with pytest.raises(BadCommand, match="Who owns it"):
        run_in_session(
            engine, minutes.add_action, requester=as_person(engine, "raj"), text="send it by EOW", now=MONDAY
        )
    with pytest.raises(BadCommand, match="'someday soon' is not a date"):
        run_in_session(
            engine,
            minutes.add_action,
            requester=as_person(engine, "raj"),
            text="@mei send it by someday soon",
            now=MONDAY,
        )


def assign(engine, handle, item_id, who):
    return run_in_session(
        engine,
        minutes.assign_action,
        requester=as_person(engine, handle),
        item_id=item_id,
        who=who,
        now=MONDAY,
    )


CORRECTED = """Weekly call — recruitment and safety
ACTION @omar: close the open EDC queries by 2026-12-10
ACTION: Ben to send the monitoring visit report by Friday
ACTION @mei: reconcile the SAE listings by 2026-12-04
DECISION: screening window extended to 21 days
DECISION: keep 8 sites"""


def test_a_correction_supersedes_posted_minutes_and_tells_only_whom_it_concerns(engine, study):
    from bot.models import AuditEvent, Minutes

    post(engine, draft(engine).minutes_id)
    before = items(engine)
    drafted = run_in_session(
        engine,
        minutes.draft_minutes,
        requester=as_person(engine, "raj"),
        text=CORRECTED,
        now=MONDAY,
        corrects=1,
    )
    assert drafted.data["corrects"] == "ACME-201-M1" and drafted.data["meeting"] == "Weekly sponsor–CRO call"
    with pytest.raises(CadenceError, match="Only the note taker"):
        run_in_session(
            engine,
            minutes.draft_minutes,
            requester=as_person(engine, "ben"),
            text=CORRECTED,
            now=MONDAY,
            corrects=1,
        )
    post(engine, drafted.minutes_id)
    after = items(engine)
    edc, report = after["Close the open EDC queries"], after["Send the monitoring visit report"]
    assert (edc.id, edc.due_on, edc.minutes_id) == (
        before["Close the open EDC queries"].id,
        date(2026, 12, 10),
        2,
    )
    assert report.id == before["Send the monitoring visit report"].id and report.state == "open"
    assert after["Someone to check the temperature logs"].state == "dropped"
    assert after["Reconcile the SAE listings"].minutes_id == 2
    [channel] = rows(engine, "minutes:ACME-201:2")
    assert channel.payload["changes"] == [
        "Close the open EDC queries: now due Thu 10 Dec 2026",
        "Send the monitoring visit report: now Ben Okafor's, was Sofia Novak's",
        "added: Reconcile the SAE listings (Mei Lin)",
        "dropped: Someone to check the temperature logs (nobody yet)",
    ]
    told = {r.key.rsplit(":", 1)[1]: r.payload["changes"] for r in rows(engine, "minutes-corrected:")}
    assert told == {
        "omar": ["Close the open EDC queries: now due Thu 10 Dec 2026"],
        "sofia": ["Send the monitoring visit report: now Ben Okafor's, was Sofia Novak's"],
        "ben": ["Send the monitoring visit report: now Ben Okafor's, was Sofia Novak's"],
        "mei": ["added: Reconcile the SAE listings (Mei Lin)"],
    }
    assert rows(engine, "minutes-actions:ACME-201:2") == []  # nobody gets the whole list again
    with Session(engine) as session:
        assert session.get(Minutes, 1).parsed["superseded_by"] == 2
        assert [d.text for d in session.exec(select(Decision))] == [
            "screening window extended to 21 days",
            "keep 8 sites",  # only what is new is recorded
        ]
        [audited] = session.exec(select(AuditEvent).where(AuditEvent.subject == "ACME-201-M2")).all()
        assert audited.detail["supersedes"] == "ACME-201-M1" and len(audited.detail["changes"]) == 4
    with pytest.raises(CadenceError, match="corrected already; correct ACME-201-M2 instead"):
        run_in_session(
            engine,
            minutes.draft_minutes,
            requester=as_person(engine, "raj"),
            text=CORRECTED,
            now=MONDAY,
            corrects=1,
        )
