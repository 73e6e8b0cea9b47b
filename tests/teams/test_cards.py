"""The message model as Adaptive Cards: markup, people, times, buttons and forms."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import messages as m
from bot.views.buttons import form_for_button
from handlers.teams import cards

MEI = m.Person("Mei Lin", "mei", "U02MEI")
TOM = m.Person("Tom Becker", "tom", None)


def test_markup_becomes_card_markdown_and_typed_text_stays_inert():
    typed = "<!channel> **hi** <at>Dev Sharma</at> & co"
    line = m.line(":rotating_light: *Bold* _it_ {link} {channel} {typed}", link=m.Link("https://acme.example", "the site"),
                  channel=m.Channel("C0STUDY"), typed=typed)  # fmt: skip
    assert cards.markdown(line, cards.Mentions()) == (
        "🚨 **Bold** _it_ [the site](https://acme.example) **the study channel** "
        "<!channel> **hi** <\u200bat>Dev Sharma<\u200b/at> & co"
    )


def test_times_are_shown_in_each_readers_timezone():
    line = m.line("{at}", at=m.Time(datetime(2026, 11, 23, 14, 0, tzinfo=UTC)))
    assert cards.markdown(line, cards.Mentions()) == (
        "{{DATE(2026-11-23T14:00:00Z, SHORT)}} {{TIME(2026-11-23T14:00:00Z)}}"
    )


def test_people_become_mentions_when_teams_knows_them_and_bold_names_otherwise():
    known = {"mei": "aad-mei"}
    with cards.drawing(lambda slack_id, handle: known.get(handle or "")) as mentions:
        card = cards.message_card(
            m.Message((), (m.Section((m.line("{a} and {b}", a=MEI, b=TOM),)),)), mentions
        )
    assert card["body"][0]["text"] == "<at>Mei Lin</at> and **Tom Becker**"
    assert card["msteams"]["entities"] == [
        {"type": "mention", "text": "<at>Mei Lin</at>", "mentioned": {"id": "aad-mei", "name": "Mei Lin"}}
    ]


def test_buttons_carry_their_action_ids_and_a_form_becomes_a_card_with_inputs():
    card = cards.form_card(form_for_button("action_cant", "7"))
    inputs = {e["id"]: e["type"] for e in card["body"] if e["type"].startswith("Input.")}
    assert inputs == {"due": "Input.Date", "reason": "Input.Text"}
    assert all(e["isRequired"] and e["errorMessage"] for e in card["body"] if e["type"].startswith("Input."))
    [submit] = card["actions"]
    assert submit["data"] == {"cadence": "form", "form": "action_reschedule", "meta": "7"}

    actions = m.Actions((m.Button("esc_ack", "3", ":white_check_mark: Acknowledge", "primary"),))
    [action_set] = cards.message_card(m.Message((), (actions,)))["body"]
    assert action_set["actions"] == [
        {"type": "Action.Submit", "title": "✅ Acknowledge", "style": "positive",
         "data": {"cadence": "button", "action_id": "esc_ack", "value": "3"}}
    ]  # fmt: skip


def test_lines_become_one_text_block_each():
    section = m.Section((m.line("*Owner*"), m.line("Mei Lin"), m.line(""), m.line("Drug Safety Lead")))
    card = cards.message_card(m.Message((), (section,)))
    assert [(b["text"], b.get("spacing")) for b in card["body"]] == [
        ("**Owner**", None),
        ("Mei Lin", "None"),
        ("Drug Safety Lead", "None"),
    ]
    assert card["version"] == "1.5" and card["$schema"].startswith("http://adaptivecards.io/")
