"""Minutes over signed Slack HTTP against the fake Web API: the form, posting, Done, /actions, reminders."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot import minutes
from bot.clock import ManualClock
from bot.db import run_in_session
from handlers.server import build_asgi
from handlers.slack.app import build_app
from tests.conftest import serve_in_thread
from tests.payloads import ALICE, BEN, RAJ, post_command, trigger_id
from tests.slack.test_ask_http import said
from tests.slack.test_checkin_http import deliver, interaction
from tests.slack.test_escalate_http import submit_view

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
OMAR, SOFIA = "U02OMAR", "U02SOFIA"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def url(settings, engine, study, clock):
    url, stop = serve_in_thread(build_asgi(build_app(settings, engine, clock=clock), engine))
    yield url
    stop()


def press(url, fake_slack, user, action_id, value, tag):
    return interaction(url, {
        "type": "block_actions", "user": {"id": user, "team_id": "T0CRO"}, "api_app_id": "A0CADENCE",
        "trigger_id": trigger_id(), "team": {"id": "T0CRO"}, "channel": {"id": "D" + user[1:]},
        "response_url": f"{fake_slack.url}response/{tag}",
        "actions": [{"action_id": action_id, "block_id": "minutes", "value": value, "type": "button",
                     "action_ts": "1.1"}],
    })  # fmt: skip


def test_minutes_from_the_form_to_done(url, engine, fake_slack, clock):
    # /minutes alone opens the form; its submission shows the parsed result for confirmation.
    assert post_command(url, "/minutes", "", user_id=RAJ).status == 200
    [opened] = fake_slack.calls_to("views.open")
    form = (
        opened.params["view"]
        if isinstance(opened.params["view"], dict)
        else json.loads(opened.params["view"])
    )
    assert [b["block_id"] for b in form["blocks"]] == [
        "meeting",
        "held_on",
        "attendees",
        "notes",
        "decisions",
        "actions",
    ]
    values = {
        "meeting": {"value": {"type": "static_select", "selected_option": {"value": "Weekly sponsor–CRO call"}}},
        "held_on": {"value": {"type": "datepicker", "selected_date": "2026-11-23"}},
        "attendees": {"value": {"type": "multi_users_select", "selected_users": ["U01ALICE", RAJ, OMAR, SOFIA]}},
        "notes": {"value": {"type": "plain_text_input", "value": "Recruitment on track."}},
        "decisions": {"value": {"type": "plain_text_input", "value": "Screening window extended to 21 days"}},
        "actions": {"value": {"type": "plain_text_input",
                              "value": "@omar close the open EDC queries by 2026-12-05\n"
                                       "Sofia to send the monitoring visit report by Friday"}},
    }  # fmt: skip
    preview = submit_view(url, RAJ, "minutes_form", "ACME-201", values).json()
    assert preview["response_action"] == "update" and preview["view"]["callback_id"] == "minutes_confirm"
    shown = json.dumps(preview["view"]["blocks"])
    assert "<@U02OMAR> \\u2014 Close the open EDC queries" in shown and "Screening window" in shown

    assert submit_view(url, RAJ, "minutes_confirm", preview["view"]["private_metadata"], {}).status == 200
    deliver(engine, fake_slack, clock)
    [posted] = [p for p in fake_slack.posted if p.channel == "C0STUDY"]
    text = json.dumps(posted.blocks)
    assert (
        "Weekly sponsor\\u2013CRO call" in text
        and "<@U02SOFIA> \\u2014 Send the monitoring visit report" in text
    )
    assert "due Sat 05 Dec 2026" in text and "due Fri 27 Nov 2026" in text and "Screening window" in text
    dms = sorted(p.channel for p in fake_slack.posted if (p.key or "").startswith("minutes-actions:"))
    assert dms == ["D02OMAR", "D02SOFIA"]

    # Done: refused for anyone but the owner; the owner closes it and the thread hears of it.
    omar_items = next(p for p in fake_slack.posted if p.channel == "D02OMAR")
    item_id = omar_items.blocks[2]["elements"][0]["value"]
    assert press(url, fake_slack, BEN, "action_done", item_id, "ben") == 200
    assert "Only Omar Haddad" in said(fake_slack.calls_to("ben")[0])
    assert press(url, fake_slack, OMAR, "action_done", item_id, "omar") == 200
    assert "Done" in said(fake_slack.calls_to("omar")[0])
    deliver(engine, fake_slack, clock)
    [thread] = [p for p in fake_slack.posted if p.thread_ts == posted.ts]
    assert "Done: Close the open EDC queries" in thread.text

    listed = post_command(url, "/actions", "all", user_id=BEN).text
    assert "Send the monitoring visit report" in listed and "Close the open EDC queries" not in listed

    # A moved clock: Sofia's reminders (a business day before, on the day) go out once each.
    for day in (26, 26, 27, 27):
        clock.set(datetime(2026, 11, day, 8, 30, tzinfo=UTC))
        run_in_session(engine, minutes.remind_actions, now=clock.now())
        deliver(engine, fake_slack, clock)
    reminders = [p for p in fake_slack.posted if (p.key or "").startswith("action-reminder:")]
    assert [p.key.rsplit(":", 1)[1] for p in reminders] == ["before", "due"]


def test_the_note_taker_chase_happens_once(url, engine, fake_slack, clock):
    clock.set(datetime(2026, 11, 27, 21, 5, tzinfo=UTC))  # a day after Thursday's call ended
    for _ in range(3):
        run_in_session(engine, minutes.chase_note_takers, now=clock.now())
        deliver(engine, fake_slack, clock)
    # Friday 22:05 in Warsaw: the chase waits for Raj's Monday 09:00 (before working calendars it went out
    # at once), and goes out once then.
    assert not [p for p in fake_slack.posted if (p.key or "").startswith("minutes-chase:")]
    monday = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # 16:00 in Warsaw, 10:00 in New York
    clock.set(monday)
    deliver(engine, fake_slack, clock)
    chased = [p for p in fake_slack.posted if (p.key or "").startswith("minutes-chase:")]
    assert [p.channel for p in chased] == ["D02RAJ"]
    run_in_session(engine, minutes.chase_note_takers, now=clock.now())  # a day later still: the admins
    deliver(engine, fake_slack, clock)
    chased = [p.channel for p in fake_slack.posted if (p.key or "").startswith("minutes-chase:")]
    assert sorted(chased) == [
        "D01ALICE",
        "D02RAJ",
        "D02RAJ",
    ]  # raj as note taker, then raj and alice as admins


def test_pasted_notes_are_previewed_with_post_and_discard_buttons(url, engine, fake_slack, clock):
    answer = post_command(
        url,
        "/minutes",
        "ACTION: Ben to confirm the kit shipment by Dec 2\nDECISION: keep 8 sites",
        user_id=RAJ,
    )
    data = answer.json()
    assert "Here is what Cadence read" in answer.text
    buttons = next(b for b in data["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == ["minutes_post", "minutes_cancel"]
    assert press(url, fake_slack, RAJ, "minutes_post", buttons[0]["value"], "post") == 200
    assert "Posted *ACME-201-M1*" in said(fake_slack.calls_to("post")[0])
    decisions = post_command(url, "/decisions", "", user_id=BEN).text
    assert "keep 8 sites" in decisions


THURSDAY = datetime(
    2026, 12, 3, 15, 0, tzinfo=UTC
)  # 16:00 in Warsaw, 10:00 in New York, 09:00 in Chicago: all at work
ONE_LINE = (
    "Weekly call 3 Dec. ACTION Omar to re-check the two irritation cases by 15.12. "
    "ACTION @mei: send the diary cards by 3.1. Action item: Sofia drafts the SAP shell tables by 03/01 "
    "TODO Ben review claim wording draft in 3 days ACTION Jordan to confirm batch numbers … EOW"
)


def test_one_line_minutes_as_both_sides_write_them_and_an_owner_found_for_the_rest(
    url, engine, fake_slack, clock
):
    clock.set(THURSDAY)
    preview = post_command(url, "/minutes", ONE_LINE, user_id=RAJ)  # Raj writes from Warsaw: day first
    shown = preview.text
    for owner, due in (
        ("<@U02OMAR> — Re-check the two irritation cases", "due Tue 15 Dec 2026"),
        ("<@U02MEI> — Send the diary cards", "due Sun 03 Jan 2027"),
        ("<@U02SOFIA> — Drafts the SAP shell tables", "due Sun 03 Jan 2027"),
        ("<@U01BEN> — Review claim wording draft", "due Sun 06 Dec 2026"),
    ):
        assert f"{owner} ({due})" in shown, shown
    assert "03/01 was read as Sun 03 Jan 2027 (day first)" in shown  # the guess is said back
    assert "*Needs an owner*\n• Jordan to confirm batch numbers (due Fri 04 Dec 2026)" in shown
    assert "no owner found in “ACTION Jordan to confirm batch numbers … EOW”" in shown  # not understood
    assert "due Thu 03 Dec 2026" not in shown  # nothing read as today
    assert "Weekly call 3 Dec." in shown  # the rest stays a note

    buttons = next(b for b in preview.json()["blocks"] if b["type"] == "actions")["elements"]
    assert press(url, fake_slack, RAJ, "minutes_post", buttons[0]["value"], "post") == 200
    assert "1 need(s) an owner" in said(fake_slack.calls_to("post")[0])
    deliver(engine, fake_slack, clock)
    [posted] = [p for p in fake_slack.posted if p.channel == "C0STUDY"]
    assign = [e for b in posted.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [(e["action_id"], e["value"]) for e in assign] == [("action_assign", "5")]

    # /actions all lists it under Needs an owner, with the same picker.
    listed = post_command(url, "/actions", "all", user_id=BEN)
    assert "*Needs an owner*\n• *A5* Jordan to confirm batch numbers — needs an owner" in listed.text
    # Assign opens a person picker; Alice picks Ben; he is told, with the item's buttons.
    assert press(url, fake_slack, ALICE, "action_assign", "5", "assign") == 200
    [opened] = fake_slack.calls_to("views.open")
    form = (
        opened.params["view"]
        if isinstance(opened.params["view"], dict)
        else json.loads(opened.params["view"])
    )
    assert (
        form["callback_id"] == "action_assign"
        and form["blocks"][0]["element"]["type"] == "multi_users_select"
    )
    picked = {"owner": {"value": {"type": "multi_users_select", "selected_users": [BEN]}}}
    submitted = submit_view(url, ALICE, "action_assign", form["private_metadata"], picked)
    assert submitted.status == 200 and not submitted.body, submitted.body
    deliver(engine, fake_slack, clock)
    [told] = [p for p in fake_slack.posted if (p.key or "").startswith("action-assigned:")]
    assert (
        told.channel == "D01BEN"
        and "gave you an action item: Jordan to confirm batch numbers" in json.dumps(told.blocks)
    )
    assert "Needs an owner" not in post_command(url, "/actions", "all", user_id=BEN).text

    # Raj, who took the notes, gives it to Mei: audited, both told.
    moved = post_command(url, "/actions", "reassign A5 @mei", user_id=RAJ).text
    assert "Assigned: *A5* Jordan to confirm batch numbers — Mei Lin" in moved
    assert "It was Ben Okafor's; both are told." in moved
    deliver(engine, fake_slack, clock)
    assert [p.channel for p in fake_slack.posted if (p.key or "").startswith("action-assigned:")] == [
        "D01BEN",
        "D02MEI",
    ]
    [dropped] = [p for p in fake_slack.posted if (p.key or "").startswith("action-unassigned:")]
    assert dropped.channel == "D01BEN" and "gave your action item to Mei Lin" in json.dumps(dropped.blocks)
    refused = post_command(url, "/actions", "assign Arjun", user_id=RAJ).text
    assert "Which action? Give its id after assign." in refused


def test_actions_added_by_hand_in_the_typists_convention(url, engine, fake_slack, clock):
    clock.set(THURSDAY)
    alice = post_command(url, "/actions", "add @ben confirm the kit count by 03/01", user_id=ALICE).text
    assert "Added: *A1* Confirm the kit count — Ben Okafor, due Mon 01 Mar 2027" in alice  # New York
    assert "03/01 was read as Mon 01 Mar 2027 (month first)" in alice
    raj = post_command(url, "/actions", "add Omar re-check the irritation cases EOW", user_id=RAJ).text
    assert "Added: *A2* Re-check the irritation cases — Omar Haddad, due Fri 04 Dec 2026" in raj
    moved = post_command(url, "/actions", "move A2 15.12. waiting for the lab", user_id=OMAR).text
    assert "Moved: *A2* Re-check the irritation cases — Omar Haddad, due Tue 15 Dec 2026" in moved
    unread = post_command(url, "/actions", "add @mei file it by the twelfth-ish", user_id=RAJ).text
    assert "Nothing was added: 'the twelfth-ish' is not a date Cadence understands" in unread
    nobody = post_command(url, "/actions", "add file it by EOW", user_id=RAJ).text
    assert "Who owns it? Name someone of the plan: @alice (Alice Chen)" in nobody
    deliver(engine, fake_slack, clock)
    assert sorted(p.channel for p in fake_slack.posted if (p.key or "").startswith("action-assigned:")) == [
        "D01BEN",
        "D02OMAR",
    ]


def test_posted_minutes_are_corrected_and_whom_a_change_concerns_is_told(url, engine, fake_slack, clock):
    clock.set(THURSDAY)
    first = post_command(url, "/minutes", "ACTION @omar: re-check the cases by 15.12.", user_id=RAJ).json()
    post_button = next(b for b in first["blocks"] if b["type"] == "actions")["elements"][0]
    assert press(url, fake_slack, RAJ, "minutes_post", post_button["value"], "post") == 200
    deliver(engine, fake_slack, clock)
    refused = post_command(
        url, "/minutes", "correct M1 ACTION @mei: re-check the cases by 15.12.", user_id=BEN
    )
    assert "Only the note taker (or an admin) can correct these minutes." in refused.text
    preview = post_command(
        url,
        "/minutes",
        "correct M1 ACTION @mei: re-check the cases by 18.12. ACTION @ben: count kits EOW",
        user_id=RAJ,
    )
    assert "A correction: supersedes ACME-201-M1" in preview.text
    post_button = next(b for b in preview.json()["blocks"] if b["type"] == "actions")["elements"][0]
    assert press(url, fake_slack, RAJ, "minutes_post", post_button["value"], "post-2") == 200
    deliver(engine, fake_slack, clock)
    corrected = [p for p in fake_slack.posted if p.channel == "C0STUDY"][-1]
    shown = json.dumps(corrected.blocks)
    assert "supersedes ACME-201-M1" in shown and "now Mei Lin's, was Omar Haddad's" in shown
    told = {
        p.channel: json.dumps(p.blocks)
        for p in fake_slack.posted
        if (p.key or "").startswith("minutes-corrected:")
    }
    assert sorted(told) == ["D01BEN", "D02MEI", "D02OMAR"]
    assert "Re-check the cases: now Mei Lin's, was Omar Haddad's" in told["D02OMAR"]
    assert "action_done" in told["D02MEI"] and "added: Count kits (Ben Okafor)" in told["D01BEN"]
    again = post_command(url, "/minutes", "correct M1 ACTION @omar: re-check by 20.12.", user_id=RAJ).text
    assert "ACME-201-M1 was corrected already; correct ACME-201-M2 instead." in again
