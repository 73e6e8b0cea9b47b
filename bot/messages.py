"""The message model: how the core lays out what it says, once, for every chat to draw its own way.

Plain dataclasses in no platform's vocabulary. Text is a line of spans (plain words, bold, italic,
code, a link, a person, a moment, a channel, an emoji); a message is a fallback line and blocks
(sections with lines and fields, context lines, dividers, headers, images, button rows); a form is
a title, inputs and a submit label. Each adapter has one renderer of this model (Block Kit, Adaptive
Cards, console text), which escapes what it must and keeps to its platform's limits.

`line("*{topic}* is owned by {owner}", topic=..., owner=person)` builds a line from a template of
ours: `*bold*`, `_italic_`, `` `code` `` and `:emoji:` mark up the template's own words, and each
`{name}` takes a value as it is (a string stays plain words, never parsed as markup), so text
someone typed can never become formatting, a mention or a link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Union

# --- spans ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Bold:
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Italic:
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Link:
    url: str
    label: str


@dataclass(frozen=True)
class Person:
    """Someone of the study, named the chat's way (a mention where the chat knows them)."""

    name: str
    handle: str | None = None
    slack_id: str | None = None


@dataclass(frozen=True)
class Time:
    """A moment every reader sees in their own timezone."""

    moment: datetime


@dataclass(frozen=True)
class Channel:
    """A conversation, linked where the chat can link it."""

    id: str


@dataclass(frozen=True)
class Emoji:
    name: str  # a shortcode name: warning, palm_tree, white_check_mark, …


Span = Union[Text, Bold, Italic, Code, Link, Person, Time, Channel, Emoji]  # noqa: UP007 (a runtime alias)
Line = tuple[Span, ...]

# --- blocks ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    action: str  # the action id every adapter routes (bot.forms)
    value: str
    label: str
    style: str | None = None  # primary or danger
    typed: str | None = None  # the command that does the same, for a chat without buttons


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    typed: str | None = None  # the command that picks it, for a chat without menus


@dataclass(frozen=True)
class Select:
    """Pick one of a few options (a menu in Slack, a row of buttons in Teams)."""

    action: str
    options: tuple[Option, ...]
    placeholder: str
    groups: tuple[tuple[str, tuple[Option, ...]], ...] = ()  # labelled groups instead of `options`


@dataclass(frozen=True)
class Field:
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Section:
    lines: tuple[Line, ...] = ()
    fields: tuple[Field, ...] = ()
    accessory: Button | Select | None = None


@dataclass(frozen=True)
class Context:
    items: tuple[Line, ...]


@dataclass(frozen=True)
class Divider:
    pass


@dataclass(frozen=True)
class Header:
    text: str


@dataclass(frozen=True)
class Image:
    url: str
    alt: str


@dataclass(frozen=True)
class Actions:
    elements: tuple[Button | Select, ...]
    id: str | None = None


# --- form inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextInput:
    id: str
    label: str
    multiline: bool = False
    initial: str | None = None
    placeholder: str | None = None
    max_length: int | None = None
    optional: bool = False
    hint: str | None = None


@dataclass(frozen=True)
class ChoiceInput:
    id: str
    label: str
    options: tuple[Option, ...]
    initial: str | None = None
    placeholder: str | None = None
    optional: bool = False


@dataclass(frozen=True)
class DateInput:
    id: str
    label: str
    initial: str | None = None  # YYYY-MM-DD
    optional: bool = False


@dataclass(frozen=True)
class PeopleInput:
    id: str
    label: str
    initial: tuple[Person, ...] = ()
    optional: bool = False
    choices: tuple[Person, ...] = ()  # whom one may pick (the study's people), for a chat without a picker


Block = Union[Section, Context, Divider, Header, Image, Actions]  # noqa: UP007
Input = Union[TextInput, ChoiceInput, DateInput, PeopleInput]  # noqa: UP007


@dataclass(frozen=True)
class Message:
    fallback: Line  # what a notification or a chat without layouts shows
    blocks: tuple[Block, ...]
    in_channel: bool = False  # a reply everyone in the conversation sees
    kind: str = ""  # for a notice, its kind (checkin_prompt, escalation_card, …)
    parts: tuple[Message, ...] = ()  # a digest's items, each drawn as it would be alone (in its blocks too)


@dataclass(frozen=True)
class Form:
    id: str  # what the submission routes by (bot.forms)
    title: str
    submit: str
    blocks: tuple[Block | Input, ...]
    meta: str = ""  # context carried to the submission (validated there like any input)
    close: str = "Cancel"
    tell_on_close: bool = False  # closing it means something (discarding a draft): say so to Cadence
    typed: str | None = None  # the command that does the same, for a chat without forms


@dataclass(frozen=True)
class Home:
    blocks: tuple[Block, ...] = field(default_factory=tuple)


# --- building lines -------------------------------------------------------------------------------

_MARK = re.compile(r"\*([^*\n]+)\*|(?<![\w])_([^_\n]+)_(?![\w])|`([^`]+)`|:([a-z_]+):|\{(\w+)\}")


def line(template: str, **values: str | Span | Line | None) -> Line:
    """A line from a template of ours (see the module's doc); None values count as empty."""
    return _fill(_parsed(template), values)


# A parsed template: spans as they are, and ("slot", name), ("code", name), ("bold"|"italic", parts).
_Part = Union[Span, tuple]  # noqa: UP007


@lru_cache(maxsize=2048)
def _parsed(template: str) -> tuple[_Part, ...]:
    """A template read once: the same few hundred templates are filled on every message."""
    parts: list[_Part] = []
    at = 0
    for match in _MARK.finditer(template):
        if match.start() > at:
            parts.append(Text(template[at : match.start()]))
        bold, italic, code, emoji, name = match.groups()
        if bold is not None:
            parts.append(("bold", _parsed(bold)))
        elif italic is not None:
            parts.append(("italic", _parsed(italic)))
        elif code is not None:
            parts.append(("code", code[1:-1]) if _is_slot(code) else Code(code))
        elif emoji is not None:
            parts.append(Emoji(emoji))
        else:
            parts.append(("slot", name))
        at = match.end()
    if at < len(template):
        parts.append(Text(template[at:]))
    return tuple(parts)


def _fill(parts: tuple[_Part, ...], values: dict) -> Line:
    spans: list[Span] = []
    for part in parts:
        if not isinstance(part, tuple):
            spans.append(part)
        elif part[0] == "slot":
            spans.extend(_value(part[1], values))
        elif part[0] == "code":
            spans.append(Code(str(values[part[1]] or "")))
        else:
            inner = _fill(part[1], values)
            spans.append(Bold(inner) if part[0] == "bold" else Italic(inner))
    return tuple(spans)


def join(lines: list[Line] | tuple[Line, ...], separator: str = ", ") -> Line:
    """Lines run together into one, `separator` between them."""
    joined: list[Span] = []
    for number, part in enumerate(lines):
        if number:
            joined.append(Text(separator))
        joined.extend(part)
    return tuple(joined)


def plain(spans: Line) -> str:
    """A line's words without markup: names for people, UTC for times (logs, fallbacks, tests)."""
    words = []
    for span in spans:
        if isinstance(span, Text | Code):
            words.append(span.text)
        elif isinstance(span, Bold | Italic):
            words.append(plain(span.spans))
        elif isinstance(span, Link):
            words.append(span.label)
        elif isinstance(span, Person):
            words.append(span.name)
        elif isinstance(span, Time):
            words.append(f"{span.moment:%Y-%m-%d %H:%M} UTC")
        elif isinstance(span, Channel):
            words.append(f"#{span.id}")
    return "".join(words)


def _is_slot(text: str) -> bool:
    return text.startswith("{") and text.endswith("}")


def _value(name: str, values: dict) -> Line:
    value = values[name]
    if value is None:
        return ()
    if isinstance(value, str):
        return (Text(value),)
    if isinstance(value, tuple):
        return value
    return (value,)
