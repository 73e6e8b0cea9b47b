"""Minutes and action items in Teams: pasted notes, the confirmation card, owners' cards with Done."""

from __future__ import annotations

from tests.teams.conftest import RAJ, SOFIA, message

NOTES = (
    "Weekly sponsor–CRO call\n"
    "DECISION: screening window stays at 21 days\n"
    "ACTION <at>Sofia Novak</at>: send the monitoring plan by 2026-11-27\n"
    "ACTION @raj: circulate the recruitment forecast by 2026-11-30"
)


def test_minutes_from_pasted_notes_reach_each_owner_who_closes_the_item(teams, fake_teams):
    activity = message(fake_teams, RAJ, f"minutes {NOTES}")
    activity["entities"] = [
        {
            "type": "mention",
            "text": "<at>Sofia Novak</at>",
            "mentioned": {"id": SOFIA.user_id, "name": "Sofia Novak"},
        }
    ]
    teams.post(activity)
    draft = teams.answer(RAJ)
    assert "screening window stays at 21 days" in draft.text
    assert "Send the monitoring plan" in draft.text and "<at>Sofia Novak</at>" in draft.text

    teams.press(RAJ, draft.button("Post minutes"))
    assert "Posted **ACME-201-M1**" in teams.answer(RAJ).text
    teams.deliver()
    assert any("screening window stays at 21 days" in p.text for p in teams.posts())
    [for_sofia] = teams.dms(SOFIA)
    assert "Send the monitoring plan" in for_sofia.text

    teams.press(SOFIA, for_sofia.button("Done"))
    assert "✅ Done" in teams.answer(SOFIA).text
    teams.say(SOFIA, "actions")
    assert "nothing open" in teams.answer(SOFIA).text


def test_cant_make_it_asks_for_a_new_date_on_a_form(teams, fake_teams):
    teams.say(RAJ, f"minutes {NOTES}")
    teams.press(RAJ, teams.answer(RAJ).button("Post minutes"))
    teams.deliver()
    [for_raj] = [s for s in teams.dms(RAJ) if any(b["title"] == "Can't make it" for b in s.buttons())]
    teams.press(RAJ, for_raj.button("Can't make it"))
    form = teams.answer(RAJ)
    assert {e["id"] for e in form.card["body"] if e["type"].startswith("Input.")} >= {"due", "reason"}
    teams.press(RAJ, form.buttons()[-1], due="2026-12-07", reason="waiting for site 5 numbers")
    assert "Moved" in teams.answer(RAJ).text


def test_the_minutes_form_reads_the_notes_then_asks_to_confirm_before_posting(teams, fake_teams):
    teams.say(RAJ, "minutes")
    form = teams.answer(RAJ)
    inputs = {e["id"]: e for e in form.card["body"] if e["type"].startswith("Input.")}
    assert {"notes", "decisions", "actions", "held_on", "attendees"} <= set(inputs)
    # The study's people to pick from (Teams' own picker, Data.Query, is Adaptive Cards 1.6)
    attendees = inputs["attendees"]
    assert attendees["isMultiSelect"] and {"title": "Sofia Novak", "value": "sofia"} in attendees["choices"]
    teams.press(
        RAJ,
        form.buttons()[-1],
        meeting="Weekly sponsor–CRO call",
        notes="Kit supply reviewed",
        decisions="screening window stays at 21 days",
        actions="@sofia send the monitoring plan by 2026-11-27",
        held_on="2026-11-19",
        attendees="raj,sofia",  # what the card's choices answer with
    )
    confirm = teams.answer(RAJ)
    assert "screening window stays at 21 days" in confirm.text and "Thu 19 Nov 2026" in confirm.text
    assert confirm.buttons()[-1]["data"]["form"] == "minutes_confirm"
    teams.press(RAJ, confirm.buttons()[-1])
    assert "Posted **ACME-201-M1**" in teams.answer(RAJ).text


def test_an_item_that_needs_an_owner_is_assigned_from_its_card(teams, fake_teams):
    teams.say(RAJ, "minutes ACTION Jordan to confirm batch numbers by 2026-12-04")
    draft = teams.answer(RAJ)
    assert "Needs an owner" in draft.text and "no owner found" in draft.text
    teams.press(RAJ, draft.button("Post minutes"))
    teams.deliver()
    [posted] = [p for p in teams.posts() if "Needs an owner" in p.text]
    teams.press(RAJ, posted.button("Assign A1"))
    form = teams.answer(RAJ)
    assert [e["id"] for e in form.card["body"] if e["type"].startswith("Input.")] == ["owner"]
    teams.press(RAJ, form.buttons()[-1], owner="@sofia")
    assert "Assigned" in teams.answer(RAJ).text and "Sofia Novak" in teams.answer(RAJ).text
    teams.deliver()
    [for_sofia] = [d for d in teams.dms(SOFIA) if "gave you an action item" in d.text]
    assert "Jordan to confirm batch numbers" in for_sofia.text
