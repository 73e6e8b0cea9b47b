"""Slack layouts as Adaptive Cards: markup, people, times, buttons and forms."""

from __future__ import annotations

from handlers.slack import blocks
from handlers.teams import cards


def test_slack_markup_becomes_card_markdown_and_typed_text_stays_inert():
    typed = blocks.escape("<!channel> **hi** <at>Dev Sharma</at> & co")
    text = f":rotating_light: *Bold* _it_ ~gone~ <https://acme.example|the site> <#C0STUDY> {typed}"
    assert cards.markdown(text) == (
        "🚨 **Bold** _it_ gone [the site](https://acme.example) **the study channel** "
        "<!channel> **hi** <\u200bat>Dev Sharma<\u200b/at> & co"
    )


def test_times_are_shown_in_each_readers_timezone():
    assert cards.markdown("<!date^1795442400^{date_short_pretty} {time}|2026-11-23 14:00 UTC>") == (
        "{{DATE(2026-11-23T14:00:00Z, SHORT)}} {{TIME(2026-11-23T14:00:00Z)}}"
    )


def test_people_become_mentions_when_teams_knows_them_and_bold_names_otherwise():
    known = {"mei": "aad-mei"}
    with cards.drawing(lambda slack_id, handle: known.get(handle or "")) as mentions:
        text = f"{blocks.named('Mei Lin', 'U02MEI', 'mei')} and {blocks.named('Tom Becker', None, 'tom')}"
    card = cards.message_card({"blocks": [blocks.section(text)]}, mentions)
    assert card["body"][0]["text"] == "<at>Mei Lin</at> and **Tom Becker**"
    assert card["msteams"]["entities"] == [
        {"type": "mention", "text": "<at>Mei Lin</at>", "mentioned": {"id": "aad-mei", "name": "Mei Lin"}}
    ]
    assert blocks.named("Mei Lin", "U02MEI", "mei") == "<@U02MEI>"  # Slack outside the drawing


def test_buttons_carry_their_action_ids_and_a_modal_becomes_a_card_with_inputs():
    modal = blocks.form_for_button("action_cant", "7")
    card = cards.form_card(modal)
    inputs = {e["id"]: e["type"] for e in card["body"] if e["type"].startswith("Input.")}
    assert inputs == {"due": "Input.Date", "reason": "Input.Text"}
    [submit] = card["actions"]
    assert submit["data"] == {"cadence": "form", "form": "action_reschedule", "meta": "7"}

    layout = {"blocks": [{"type": "actions", "elements": [
        {"type": "button", "action_id": "esc_ack", "value": "3", "style": "primary",
         "text": {"type": "plain_text", "text": ":white_check_mark: Acknowledge"}},
    ]}]}  # fmt: skip
    [action_set] = cards.message_card(layout)["body"]
    assert action_set["actions"] == [
        {"type": "Action.Submit", "title": "✅ Acknowledge", "style": "positive",
         "data": {"cadence": "button", "action_id": "esc_ack", "value": "3"}}
    ]  # fmt: skip


def test_lines_become_one_text_block_each():
    card = cards.message_card({"blocks": [blocks.section("*Owner*\nMei Lin\n\nDrug Safety Lead")]})
    assert [(b["text"], b.get("spacing")) for b in card["body"]] == [
        ("**Owner**", None),
        ("Mei Lin", "None"),
        ("Drug Safety Lead", "None"),
    ]
