"""Adaptive Cards for Teams, drawn from the same layouts as Slack's messages and modals.

Cadence lays out every message once (handlers/slack/blocks.py, in Block Kit's vocabulary of
sections, fields, context lines, buttons and form inputs). Teams shows that layout as an Adaptive
Card: element for element, Slack's markup turned into the card's Markdown, people as Teams
mentions, times as the card's DATE/TIME functions (each reader sees their own timezone), buttons
as Action.Submit carrying the same action ids, and modals as cards with inputs. One layout keeps
the two chats saying the same thing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from handlers.slack import layout

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
MAX_CHOICE_BUTTONS = 6  # a select with more options than this becomes a drop-down and a button

EMOJI = {
    "alarm_clock": "⏰", "arrow_right": "➡️", "arrow_up": "⬆️", "arrows_counterclockwise": "🔄",
    "bar_chart": "📊", "bell": "🔔", "calendar": "📅", "clipboard": "📋", "compass": "🧭",
    "file_folder": "📁", "hourglass": "⌛", "incoming_envelope": "📨", "large_green_circle": "🟢",
    "large_orange_circle": "🟠", "large_yellow_circle": "🟡", "memo": "📝", "palm_tree": "🌴",
    "question": "❓", "raised_hand": "✋", "red_circle": "🔴", "rotating_light": "🚨", "sos": "🆘",
    "speech_balloon": "💬", "spiral_note_pad": "🗒️", "tada": "🎉", "warning": "⚠️", "wave": "👋",
    "white_check_mark": "✅", "white_circle": "⚪",
}  # fmt: skip

# Whom a mention names in Teams: (slack id, handle) -> their Entra object id, when known.
Resolver = Callable[[str | None, str | None], str | None]

_PLACEHOLDER = re.compile(r"\x02(\d+)\x03")
_SLACK_DATE = re.compile(r"<!date\^(\d+)\^[^|>]*\|[^>]*>")
_SLACK_CHANNEL = re.compile(r"<#[^|>]+(?:\|([^>]*))?>")
_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]+))?>")
_SLACK_BOLD = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_SLACK_STRIKE = re.compile(r"(?<![~\w])~(?=\S)([^~\n]+?)(?<=\S)~(?![~\w])")
_SHORTCODE = re.compile(r":([a-z_]+):")


@dataclass
class _Mentions:
    """The people a card names, in the order they first appear."""

    resolve: Resolver
    people: list[tuple[str, str | None]] = field(default_factory=list)  # (name, Entra id)

    def placeholder(self, name: str, slack_id: str | None, handle: str | None) -> str:
        self.people.append((name, self.resolve(slack_id, handle)))
        return f"\x02{len(self.people) - 1}\x03"

    def entities(self) -> list[dict[str, Any]]:
        seen, found = set(), []
        for name, aad in self.people:
            if aad and aad not in seen:
                seen.add(aad)
                found.append(
                    {"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": aad, "name": name}}
                )
        return found


def _no_one(slack_id: str | None, handle: str | None) -> str | None:
    return None


@contextmanager
def drawing(resolve: Resolver = _no_one) -> Iterator[_Mentions]:
    """Lay out with Slack's renderers while noting whom they mention, to name them the Teams way."""
    mentions = _Mentions(resolve)
    with layout.mentions_drawn_by(mentions.placeholder):
        yield mentions


def markdown(text: str, mentions: _Mentions | None = None) -> str:
    """Slack's mrkdwn as Adaptive Card Markdown; text users typed stays inert."""
    text = _SLACK_DATE.sub(lambda m: _local_time(int(m.group(1))), text)
    text = _SLACK_LINK.sub(lambda m: f"[{m.group(2) or m.group(1)}]({m.group(1)})", text)
    text = _SLACK_CHANNEL.sub(lambda m: f"**{m.group(1) or 'the study channel'}**", text)
    text = _SLACK_BOLD.sub(r"**\1**", text)
    text = _SLACK_STRIKE.sub(r"\1", text)
    text = _SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)
    # Slack's escapes undone; a typed <at> is broken so that it can never become a mention.
    text = re.sub(r"<(/?at\b)", "<\u200b\\1", html.unescape(text), flags=re.I)

    def person(match: re.Match) -> str:
        if mentions is None:
            return ""
        name, aad = mentions.people[int(match.group(1))]
        return f"<at>{name}</at>" if aad else f"**{name}**"

    return _PLACEHOLDER.sub(person, text)


def _local_time(epoch: int) -> str:
    moment = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{{{{DATE({moment}, SHORT)}}}} {{{{TIME({moment})}}}}"


def _plain(element: dict[str, Any] | None) -> str:
    """A plain_text element's words (Slack lets them hold emoji shortcodes)."""
    text = html.unescape((element or {}).get("text", ""))
    return _SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def _text_block(text: str, mentions: _Mentions | None, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": markdown(text, mentions), "wrap": True, **style}


def _text_blocks(text: str, mentions: _Mentions | None, **style: Any) -> list[dict[str, Any]]:
    """A block of lines as one TextBlock a line: Teams clients disagree on single newlines in Markdown."""
    lines = [line for line in text.split("\n") if line.strip()] or [" "]
    first, *rest = (_text_block(line, mentions, **style) for line in lines)
    return [first, *({**block, "spacing": "None"} for block in rest)]


def button(element: dict[str, Any]) -> dict[str, Any]:
    """A Block Kit button as an Action.Submit that carries its action id and value back."""
    title = _plain(element.get("text"))
    if element.get("url"):
        return {"type": "Action.OpenUrl", "title": title, "url": element["url"]}
    action: dict[str, Any] = {
        "type": "Action.Submit",
        "title": title,
        "data": {"cadence": "button", "action_id": element["action_id"], "value": element.get("value", "")},
    }
    style = {"primary": "positive", "danger": "destructive"}.get(element.get("style", ""))
    if style:
        action["style"] = style
    return action


def _select_actions(element: dict[str, Any]) -> list[dict[str, Any]]:
    """A pick-one menu among buttons: one button per option (Slack's menus hold only a few here)."""
    options = element.get("options") or [o for g in element.get("option_groups", []) for o in g["options"]]
    return [
        button({"text": o["text"], "action_id": element["action_id"], "value": o["value"]})
        for o in options[:MAX_CHOICE_BUTTONS]
    ]


def _actions(elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for element in elements:
        if element.get("type") == "button":
            found.append(button(element))
        elif element.get("type") == "static_select":
            found.extend(_select_actions(element))
    return found


def _input(block: dict[str, Any]) -> dict[str, Any] | None:
    """A modal's input block as the matching Adaptive Card input, identified by the block's id."""
    element, block_id = block["element"], block["block_id"]
    common = {"id": block_id, "label": _plain(block.get("label")), "isRequired": not block.get("optional")}
    kind = element.get("type")
    if kind == "plain_text_input":
        found = {"type": "Input.Text", "isMultiline": bool(element.get("multiline")), **common}
        if element.get("initial_value"):
            found["value"] = element["initial_value"]
        if element.get("placeholder"):
            found["placeholder"] = _plain(element["placeholder"])
        if element.get("max_length"):
            found["maxLength"] = element["max_length"]
        return found
    if kind == "static_select":
        options = element.get("options") or []
        found = {
            "type": "Input.ChoiceSet",
            "style": "compact",
            "choices": [{"title": _plain(o["text"]), "value": o["value"]} for o in options],
            **common,
        }
        if element.get("initial_option"):
            found["value"] = element["initial_option"]["value"]
        return found
    if kind == "datepicker":
        found = {"type": "Input.Date", **common}
        if element.get("initial_date"):
            found["value"] = element["initial_date"]
        return found
    if kind == "multi_users_select":  # Teams' people picker answers with Entra object ids
        return {
            "type": "Input.ChoiceSet",
            "isMultiSelect": True,
            "choices": [],
            "choices.data": {"type": "Data.Query", "dataset": "graph.microsoft.com/users"},
            **common,
        }
    return None


def _body(layout: list[dict[str, Any]], mentions: _Mentions | None) -> list[dict[str, Any]]:
    """Block Kit blocks as card elements."""
    body: list[dict[str, Any]] = []
    separator = False
    for block in layout:
        kind = block.get("type")
        items: list[dict[str, Any]] = []
        if kind == "divider":
            separator = True
            continue
        if kind == "header":
            items.append(_text_block(_plain(block.get("text")), mentions, weight="Bolder", size="Medium"))
        elif kind == "section":
            if block.get("text"):
                items.extend(_text_blocks(block["text"]["text"], mentions))
            if block.get("fields"):
                columns = [
                    {"type": "Column", "width": "stretch", "items": _text_blocks(f["text"], mentions)}
                    for f in block["fields"]
                ]
                items.append({"type": "ColumnSet", "columns": columns})
            accessory = block.get("accessory")
            if accessory and _actions([accessory]):
                items.append({"type": "ActionSet", "actions": _actions([accessory])})
        elif kind == "context":
            texts = [e["text"] for e in block.get("elements", []) if "text" in e]
            if texts:
                items.extend(_text_blocks(" · ".join(texts), mentions, isSubtle=True, size="Small"))
        elif kind == "actions":
            actions = _actions(block.get("elements", []))
            if actions:
                items.append({"type": "ActionSet", "actions": actions})
        elif kind == "image":
            items.append({"type": "Image", "url": block["image_url"], "altText": block.get("alt_text", "")})
        elif kind == "input":
            found = _input(block)
            if found:
                items.append(found)
        if items and separator:
            items[0]["separator"] = True
            separator = False
        body.extend(items)
    return body


def card(
    body: list[dict[str, Any]], actions: list[dict[str, Any]], mentions: _Mentions | None
) -> dict[str, Any]:
    content: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body or [{"type": "TextBlock", "text": " "}],
        "msteams": {"width": "Full"},
    }
    if actions:
        content["actions"] = actions
    entities = mentions.entities() if mentions else []
    if entities:
        content["msteams"]["entities"] = entities
    return content


def message_card(payload: dict[str, Any], mentions: _Mentions | None = None) -> dict[str, Any]:
    """A Slack message (`text` and `blocks`) as a card; the plain text when there are no blocks."""
    layout = payload.get("blocks") or [
        {"type": "section", "text": {"type": "mrkdwn", "text": payload.get("text", "")}}
    ]
    return card(_body(layout, mentions), [], mentions)


def form_card(
    modal: dict[str, Any], mentions: _Mentions | None = None, problem: str | None = None
) -> dict[str, Any]:
    """A Slack modal as a card with inputs; its submit button sends the form's name and context back."""
    body = _body(modal.get("blocks", []), mentions)
    title = _plain(modal.get("title"))
    body.insert(0, _text_block(f"*{title}*", mentions, size="Medium"))
    if problem:
        body.insert(1, _text_block(f":warning: {problem}", mentions, color="Attention"))
    submit = {
        "type": "Action.Submit",
        "title": _plain(modal.get("submit")) or "Submit",
        "style": "positive",
        "data": {
            "cadence": "form",
            "form": modal.get("callback_id", ""),
            "meta": modal.get("private_metadata", ""),
        },
    }
    return card(body, [submit], mentions)


def attachment(content: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CARD_TYPE, "content": content}
