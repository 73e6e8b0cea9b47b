"""The message model as Adaptive Cards: markup, people, times, buttons and forms."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import messages as m
from bot.views import checkins, escalation
from bot.views.buttons import form_for_button
from handlers.teams import cards

ROOT = Path(__file__).resolve().parents[2]

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


def test_people_become_mentions_when_teams_knows_them_and_plain_names_otherwise():
    known = {"mei": "aad-mei"}
    with cards.drawing(lambda slack_id, handle: known.get(handle or "")) as mentions:
        card = cards.message_card(
            m.Message((), (m.Section((m.line("{a} and {b}", a=MEI, b=TOM),)),)), mentions
        )
    assert card["body"][0]["text"] == "<at>Mei Lin</at> and Tom Becker"
    assert card["msteams"]["entities"] == [
        {"type": "mention", "text": "<at>Mei Lin</at>", "mentioned": {"id": "aad-mei", "name": "Mei Lin"}}
    ]


def test_bold_around_people_shows_no_stray_stars():
    """`*{owner}*` once drew `****Mei Lin****` for someone Teams does not know."""
    line = m.line("*{owner}* owns *Safety: {owner} and {tom}* *{channel}*", owner=MEI, tom=TOM,
                  channel=m.Channel("C0STUDY"))  # fmt: skip
    assert cards.markdown(line, cards.Mentions()) == (
        "**Mei Lin** owns **Safety: Mei Lin and Tom Becker** **the study channel**"
    )
    known = cards.Mentions(lambda slack_id, handle: {"mei": "aad-mei"}.get(handle or ""))
    assert cards.markdown(line, known) == (
        "<at>Mei Lin</at> owns **Safety:** <at>Mei Lin</at> **and Tom Becker** **the study channel**"
    )
    nested = (m.Bold((m.Text("a "), m.Bold((m.Text("b"),)), m.Text(" "))), m.Italic((m.Text(" c "),)))
    assert cards.markdown(nested, cards.Mentions()) == "**a b**  _c_ "


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


def emoji_named_in_source() -> set[str]:
    """Every emoji the messages name: `:name:` in the strings of bot/ and handlers/teams/ (docstrings
    aside), names given to m.Emoji, and the emoji of the check-in statuses and severities."""
    found: set[str] = set()
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers" / "teams").rglob("*.py")]:
        tree = ast.parse(path.read_text())
        documented = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, documented) and node.body and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                found |= set(re.findall(r":([a-z_]+):", node.value))
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", "")) == "Emoji"
            ):
                found |= {a.value for a in node.args if isinstance(a, ast.Constant)}
    return found | {emoji for emoji, _ in (*checkins.STATUSES.values(), *escalation.SEVERITIES.values())}


EMOJI_USED = sorted(emoji_named_in_source())


def test_the_walk_finds_the_emoji_teams_once_dropped():
    assert {"dart", "handshake", "trophy", "inbox_tray", "spiral_calendar_pad", "leftwards_arrow_with_hook",
            "large_green_circle", "white_circle", "large_orange_circle"} <= set(EMOJI_USED)  # fmt: skip


@pytest.mark.parametrize("name", EMOJI_USED)
def test_every_emoji_of_the_messages_is_drawn_in_teams(name):
    """Each as the template's emoji, as a value given in words (a milestone's status mark), and in a label."""
    drawn = cards.EMOJI.get(name)
    assert drawn and not re.search(r"[a-z_:]", drawn), f":{name}: has no Teams rendering"
    assert cards.markdown(m.line(f"x :{name}: y"), cards.Mentions()) == f"x {drawn} y"
    assert cards.markdown(m.line("{mark} y", mark=f":{name}:"), cards.Mentions()) == f"{drawn} y"
    assert cards.button(m.Button("esc_ack", "1", f":{name}: Go")).title == f"{drawn} Go"


def _texts(card: dict) -> list[str]:
    return [e["text"] for e in card["body"] if e.get("type") == "TextBlock"]


def test_a_message_past_teams_limit_becomes_several_cards_losing_nothing():
    people = [m.Person(f"Person {n:02d}", f"p{n:02d}") for n in range(60)]
    lines = tuple(
        m.line("• {p}: topic {n} " + "with a long enough description " * 12, p=p, n=str(n))
        for n, p in enumerate(people)
    )
    model = m.Message((), (m.Header("Who owns what"), m.Section(lines), m.Context((m.line("the end"),))))
    resolve = lambda slack_id, handle: f"aad-{handle}"  # noqa: E731 (everyone known to Teams)

    drawn = cards.message_cards(model, resolve)

    assert len(drawn) > 1 and cards.size(cards.message_card(model)) > cards.MAX_ACTIVITY_BYTES
    assert all(cards.size(card) <= cards.CARD_BYTES for card in drawn)
    texts = [t for card in drawn for t in _texts(card) if "part" not in t.lower()]
    assert texts == [
        "Who owns what",
        *(cards.markdown(line, cards.Mentions(resolve)) for line in lines),
        "the end",
    ]
    for card in drawn:  # each card mentions only the people in it
        named = {e["mentioned"]["name"] for e in card["msteams"]["entities"]}
        assert named == set(re.findall(r"<at>(.*?)</at>", " ".join(_texts(card))))
    assert (
        "Part 1 of" in _texts(drawn[0])[-1] and f"part {len(drawn)} of {len(drawn)}" in _texts(drawn[-1])[0]
    )
    assert cards.message_cards(m.Message((), (m.Section(lines[:3]),))) == [
        cards.message_card(m.Message((), (m.Section(lines[:3]),)))
    ]


def test_an_edit_too_long_for_one_message_is_cut_and_says_how_much():
    lines = tuple(m.line("{n} " + "words " * 100, n=str(n)) for n in range(100))
    card = cards.cut_card(m.Message((), (m.Section(lines),)))
    assert cards.size(card) <= cards.CARD_BYTES
    shown = _texts(card)
    assert shown[0].startswith("0 ") and re.fullmatch(
        r"_…and \d+ more lines, too long for one Teams message\._", shown[-1]
    )
    assert len(shown) - 1 + int(re.search(r"\d+", shown[-1]).group()) == 100


def test_one_line_too_long_for_any_message_is_cut():
    [card] = cards.message_cards(m.Message((), (m.Section((m.line("{w}", w="word " * 20_000),)),)))
    assert cards.size(card) <= cards.CARD_BYTES and _texts(card)[0].endswith("…") and len(_texts(card)) == 1
