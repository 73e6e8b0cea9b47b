"""Reading action and decision lines from meeting notes: a corpus of realistic lines."""

from __future__ import annotations

from datetime import date

import pytest

from bot.config import EXAMPLE_PLAN
from bot.directory import Contact
from bot.notes import parse_action, parse_due, parse_notes
from bot.plan import load_plan_file

TODAY = date(2026, 11, 23)  # a Monday


def people() -> list[Contact]:
    plan = load_plan_file(EXAMPLE_PLAN)
    return [
        Contact(i, p.handle, p.name, p.side, p.role, p.slack, p.teams, p.email, p.prefers, p.timezone)
        for i, p in enumerate(plan.people.values(), 1)
    ]


CORPUS = [
    ("ACTION @raj: send the revised monitoring plan by Friday", "raj", date(2026, 11, 27)),
    ("ACTION: Omar to close the open EDC queries by 2026-12-05", "omar", date(2026, 12, 5)),
    ("ACTION @mei: file the SUSAR narrative by tomorrow", "mei", date(2026, 11, 24)),
    ("Action: Sofia will schedule the SIV at site 4 by Dec 10", "sofia", date(2026, 12, 10)),
    ("ACTION - Ben: confirm the kit shipment by 2 December", "ben", date(2026, 12, 2)),
    ("action item: alice to circulate the protocol amendment by next Monday", "alice", date(2026, 11, 30)),
    ("TODO @carla submit the IRB package by 2026-12-15", "carla", date(2026, 12, 15)),
    ("ACTION: Raj Patel to update the recruitment forecast by Thursday", "raj", date(2026, 11, 26)),
    ("ACTION: update the budget tracker (owner: ben) by end of month", "ben", date(2026, 11, 30)),
    ("ACTION: Mei to reconcile SAEs with the safety database by 30 Nov", "mei", date(2026, 11, 30)),
    ("ACTION @omar: share the data cleaning plan by EOW", "omar", date(2026, 11, 27)),
    ("ACTION: Tom will approve the change order by next Friday", "tom", date(2026, 12, 4)),
    ("- ACTION: Dev to sign off the budget by 12/04", "dev", date(2026, 12, 4)),
    ("* Action: raj: chase site 7 contract by Wednesday", "raj", date(2026, 11, 25)),
    ("ACTION: Alice Chen to review the SAP draft due December 8", "alice", date(2026, 12, 8)),
    ("ACTION: Sofia to send the monitoring visit report, due 2026-12-01", "sofia", date(2026, 12, 1)),
    ("ACTION @ben confirm IMP labeling text before Dec 3", "ben", date(2026, 12, 3)),
    ("ACTION: Carla to answer the FDA information request by in 2 weeks", "carla", date(2026, 12, 7)),
    ("ACTION: omar to run the export by the 15th", "omar", date(2026, 12, 15)),
    ("ACTION: (mei) update the pharmacovigilance plan by Jan 15", "mei", date(2027, 1, 15)),
    ("ACTION: Raj will book the next steering committee by 2027-01-08", "raj", date(2027, 1, 8)),
    ("ACTION @sofia: retrain site 2 coordinators by next week", "sofia", date(2026, 11, 30)),
    ("ACTION: Ben should renegotiate the courier contract by December 18", "ben", date(2026, 12, 18)),
    ("Action: Tom Becker to staff a second CRA by end of next week", "tom", date(2026, 12, 4)),
    ("ACTION: alice: send the sponsor letter by today", "alice", date(2026, 11, 23)),
    ("ACTION: Mei Lin to draft the DSUR section by Dec 20, 2026", "mei", date(2026, 12, 20)),
    ("ACTION: Omar to lock the interim database no later than 2027-02-01", "omar", date(2027, 2, 1)),
    (
        "ACTION @carla to file the amendment with the ethics committee by 11 December",
        "carla",
        date(2026, 12, 11),
    ),
]

NO_OWNER = [
    "ACTION: someone to check the temperature logs by Friday",
    "ACTION: update the site list by Friday",
    "ACTION: Zed to send the report by Friday",
]
NO_DATE = [
    ("ACTION @raj: send the revised monitoring plan", "raj"),
    ("ACTION: Omar to close the open EDC queries soon-ish", "omar"),
    ("ACTION: Mei to file the SAE narrative by whenever", "mei"),
]
NOT_ACTIONS = [
    "Discussed the recruitment forecast; two sites behind.",
    "Raj to follow up — see notes above",  # no ACTION marker: a note, not an action
    "Site 4 SIV went well.",
    "Actionable items are listed below",
    "Attendees: Alice, Ben, Raj, Sofia, Omar",
    "Next call Thursday 15:00.",
]


@pytest.mark.parametrize("line, owner, due", CORPUS)
def test_actions_in_the_corpus(line, owner, due):
    action = parse_action(line, people(), TODAY, month_first=True)  # ACME-201 is a US study
    assert action.owner is not None and action.owner.handle == owner, action
    assert action.due == due, action
    assert action.problems == () and action.text and action.text[0].isupper()


@pytest.mark.parametrize("line", NO_OWNER)
def test_an_action_without_a_known_owner_is_flagged_not_dropped(line):
    action = parse_action(line, people(), TODAY)
    assert action.owner is None and "no owner found" in action.problems


@pytest.mark.parametrize("line, owner", NO_DATE)
def test_an_action_without_a_readable_date_is_flagged(line, owner):
    action = parse_action(line, people(), TODAY)
    assert action.owner.handle == owner and action.due is None and action.problems


def test_the_text_of_an_action_loses_its_owner_and_date():
    action = parse_action("ACTION: Omar to close the open EDC queries by 2026-12-05", people(), TODAY)
    assert action.text == "Close the open EDC queries"


def test_notes_split_into_actions_decisions_and_the_rest():
    text = "\n".join(
        [
            *NOT_ACTIONS,
            "DECISION: screening window extended to 21 days",
            "Decided - keep 8 sites",
            CORPUS[0][0],
            NO_OWNER[0],
            "",
            "AGREED: monthly steering calls",
        ]
    )
    parsed = parse_notes(text, people(), TODAY)
    assert parsed.decisions == (
        "screening window extended to 21 days",
        "keep 8 sites",
        "monthly steering calls",
    )
    assert len(parsed.actions) == 2 and parsed.notes == tuple(NOT_ACTIONS)
    assert parsed.problems == (f"line 10: no owner found in “{NO_OWNER[0]}”",)


def test_a_past_date_is_flagged():
    action = parse_action("ACTION: Raj to send it by 2026-11-01", people(), TODAY)
    assert action.due == date(2026, 11, 1) and "Sun 01 Nov 2026 has passed" in action.problems


@pytest.mark.parametrize(
    "words, due",
    [
        ("Friday", date(2026, 11, 27)),
        ("monday", date(2026, 11, 23)),
        ("EOM", date(2026, 11, 30)),
        ("in 3 days", date(2026, 11, 26)),
        ("nonsense words", None),
    ],
)
def test_due_words(words, due):
    assert parse_due(words, TODAY) == due


THURSDAY = date(2026, 12, 3)
BOTH_SIDES = [
    Contact(i, handle, name, side, "", None, None, None, None, zone)
    for i, (handle, name, side, zone) in enumerate(
        [
            ("piotr", "Piotr Nowak", "cro", "Europe/Warsaw"),
            ("arjun", "Arjun Mehta", "cro", "Asia/Kolkata"),
            ("sam", "Sam Ortiz", "sponsor", "America/New_York"),
            ("priya", "Priya Raman", "cro", "Asia/Kolkata"),
        ],
        1,
    )
]


@pytest.mark.parametrize(
    "line, owner, text, due",
    [
        ("ACTION @piotr: re-check the two irritation cases by 15.12.", "piotr", "Re-check the two irritation cases",
         date(2026, 12, 15)),
        ("ACTION @piotr: re-check the cases by 15.12", "piotr", "Re-check the cases", date(2026, 12, 15)),
        ("ACTION @piotr: send the line listing by 3.1.", "piotr", "Send the line listing", date(2027, 1, 3)),
        ("Action item: Arjun drafts SAP shell tables by 12/15", "arjun", "Drafts SAP shell tables",
         date(2026, 12, 15)),
        ("TODO Sam review claim wording draft in 3 days", "sam", "Review claim wording draft", date(2026, 12, 6)),
        ("ACTION Piotr Nowak to file the deviation EOW", "piotr", "File the deviation", date(2026, 12, 4)),
        ("ACTION: send the diary cards to sites — Priya", "priya", "Send the diary cards to sites", None),
        ("ACTION priya: chase site 7 by Friday for the DSMB", "priya", "Chase site 7 for the DSMB",
         date(2026, 12, 4)),
        ("ACTION Piotr to re-check … end of next week", "piotr", "Re-check", date(2026, 12, 11)),
    ],
)  # fmt: skip
def test_owners_and_dates_as_both_sides_write_them(line, owner, text, due):
    action = parse_action(line, BOTH_SIDES, THURSDAY)
    assert (action.owner.handle, action.text, action.due) == (owner, text, due), action


def test_an_unknown_owner_and_an_unread_date_are_listed_never_guessed():
    jordan = parse_action("ACTION Jordan to confirm batch numbers … EOW", BOTH_SIDES, THURSDAY)
    assert (jordan.owner, jordan.due, jordan.problems) == (None, date(2026, 12, 4), ("no owner found",))
    zed = parse_action("ACTION @zed: send it by 15.12.", BOTH_SIDES, THURSDAY)
    assert zed.problems == ("no owner found (@zed is not in the plan)",)
    odd = parse_action("ACTION @piotr: send it by 31.4.", BOTH_SIDES, THURSDAY)
    assert (odd.due, odd.problems) == (
        None,
        ("'31.4' is not a date Cadence understands, so it has no due date",),
    )


def test_an_ambiguous_date_is_said_back_in_words():
    parsed = parse_notes("ACTION @piotr: send it by 03/01", BOTH_SIDES, THURSDAY)
    assert parsed.actions[0].due == date(2027, 1, 3)
    assert parsed.guesses == (
        "03/01 was read as Sun 03 Jan 2027 (day first); write it as 15 Jan or 2027-01-15 if another day was meant",
    )
    assert parse_notes("ACTION @sam: send it by 03/01", BOTH_SIDES, THURSDAY, month_first=True).actions[
        0
    ].due == date(2027, 3, 1)


def test_one_line_minutes_find_every_action():
    parsed = parse_notes(
        "Weekly call 15 Dec. ACTION Piotr to re-check the two irritation cases by 15.12. "
        "ACTION @priya: send the diary cards EOW. Decision: keep 8 sites",
        BOTH_SIDES,
        THURSDAY,
    )
    assert [(a.owner.handle, a.due) for a in parsed.actions] == [
        ("piotr", date(2026, 12, 15)),
        ("priya", date(2026, 12, 4)),
    ]
    assert parsed.notes == ("Weekly call 15 Dec.",) and parsed.decisions == ("keep 8 sites",)
    assert parsed.problems == ()


def test_a_marker_in_capitals_inside_a_line_starts_an_item_unless_it_is_words():
    parsed = parse_notes(
        "Went through the ACTION LOG and open ACTION items. ACTION Jordan to confirm batch numbers … EOW "
        "TODO Sam review the wording in 3 days DECISION agreed to keep 8 sites",
        BOTH_SIDES,
        THURSDAY,
    )
    assert parsed.notes == ("Went through the ACTION LOG and open ACTION items.",)
    assert [(a.owner.handle if a.owner else None, a.text) for a in parsed.actions] == [
        (None, "Jordan to confirm batch numbers"),
        ("sam", "Review the wording"),
    ]
    assert parsed.decisions == ("agreed to keep 8 sites",)
