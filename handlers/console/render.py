"""The message model (bot.messages) as terminal text: the same words as every other chat, people as the
@handles one types here, times in the reader's own timezone, and each button as the command that does
what it does (the terminal has no buttons or forms)."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from bot import messages as m
from bot import views
from bot.errors import CadenceError
from bot.views.general import refusal

UTC_ZONE = ZoneInfo("UTC")
_EMOJI = {"warning": "!"}  # the terminal's one mark: a refusal starts with "!"


def text(line: m.Line, zone: ZoneInfo = UTC_ZONE) -> str:
    return "".join(_span(span, zone) for span in line)


def _span(span: m.Span, zone: ZoneInfo) -> str:
    if isinstance(span, m.Text | m.Code):
        return span.text
    if isinstance(span, m.Bold | m.Italic):
        return text(span.spans, zone)
    if isinstance(span, m.Link):
        return f"{span.label} ({span.url})"
    if isinstance(span, m.Person):
        return f"@{span.handle}" if span.handle else span.name
    if isinstance(span, m.Time):
        return f"{span.moment.astimezone(zone):%a %d %b %H:%M %Z}"
    if isinstance(span, m.Channel):
        return f"#{span.id}"
    if isinstance(span, m.Emoji):
        return _EMOJI.get(span.name, "")
    raise TypeError(f"no console rendering for {type(span).__name__}")


def _clean(words: str) -> str:
    """Spaces an emoji left behind, gone."""
    return re.sub(r" {2,}", " ", words).strip()


def _typed(elements: tuple[m.Button | m.Select, ...]) -> list[str]:
    """Buttons as the commands they stand for on one line; a menu's choices one a line, as there may be
    many."""
    commands = [e.typed for e in elements if isinstance(e, m.Button) and e.typed]
    lines = ["  " + "   ·   ".join(commands)] if commands else []
    for menu in (e for e in elements if isinstance(e, m.Select)):
        options = menu.options or tuple(o for _, group in menu.groups for o in group)
        lines += [f"  {option.typed}" for option in options if option.typed]
    return lines


def _block(item: m.Block | m.Input, zone: ZoneInfo) -> list[str]:
    if isinstance(item, m.Section):
        lines = [_clean(text(line, zone)) for line in item.lines]
        for field in item.fields:
            label, *rest = (_clean(text(line, zone)) for line in field.lines)
            lines.append(f"  {label}: {', '.join(r for r in rest if r)}")
        if isinstance(item.accessory, m.Button) and item.accessory.typed and lines:
            lines[-1] += f"   ({item.accessory.typed})"
        return lines
    if isinstance(item, m.Context):
        return ["  " + " · ".join(_clean(text(line, zone)) for line in item.items)]
    if isinstance(item, m.Actions):
        return _typed(item.elements)
    if isinstance(item, m.Header):
        return [item.text]
    if isinstance(item, m.Image):
        return [f"[{item.alt}]"]
    return []


def blocks(items: tuple[m.Block | m.Input, ...], zone: ZoneInfo = UTC_ZONE) -> str:
    return "\n".join(line for item in items for line in _block(item, zone) if line.strip())


def form_text(form: m.Form) -> str:
    """A form the terminal cannot show: how to type the same instead."""
    return f"{form.title}: type {form.typed}" if form.typed else form.title


def render(result: Any, zone: ZoneInfo = UTC_ZONE) -> str:
    """A core result as terminal text."""
    form = views.form(result)
    if form is not None:
        return form_text(form)
    return blocks(views.reply(result).blocks, zone)


def render_error(error: CadenceError) -> str:
    return blocks(refusal(error).blocks)


def render_message(message: m.Message | m.Home, zone: ZoneInfo = UTC_ZONE) -> str:
    """A message (or an App Home) as its reader in `zone` sees it."""
    return blocks(message.blocks, zone)
