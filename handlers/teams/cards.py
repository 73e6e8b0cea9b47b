"""The message model (bot.messages) drawn as Adaptive Cards 1.5, built with the Teams SDK's card models.

Lines become TextBlocks (one a line: Teams clients disagree on single newlines in Markdown), people
Teams mentions with their entities (plain names for people Teams does not know), emoji Unicode, times
the card's DATE/TIME functions (each reader sees their own timezone), buttons Action.Submit carrying the
action id and value back, and forms cards with inputs whose submit names the form and its context. A
message past Teams' size limit becomes several cards.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from microsoft_teams import cards as ac
from microsoft_teams.api import Attachment, MessageActivityInput

from bot import messages as m

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
MAX_CHOICE_BUTTONS = 6  # a pick-one menu with more options than this becomes a drop-down and a button
# Teams refuses (413) a message whose activity passes about 28 KB, card included: a longer message goes
# as several. What the activity adds around its card (type, sender, conversation, reply ids) is kept aside.
MAX_ACTIVITY_BYTES = 28_000
CARD_BYTES = MAX_ACTIVITY_BYTES - 2_000
_PART_LABEL_BYTES = 600  # room left in each part for the line saying which part it is

# Slack's shortcode names (the message model's) as Unicode: Teams has no shortcodes. Every name bot/ uses is
# here (tests/teams/test_cards.py walks them), and Slack's common others, so new wording shows too.
EMOJI = {
    "alarm_clock": "⏰", "arrow_down": "⬇️", "arrow_forward": "▶️", "arrow_left": "⬅️", "arrow_right": "➡️",
    "arrow_up": "⬆️", "arrows_counterclockwise": "🔄", "ballot_box_with_check": "☑️", "bar_chart": "📊",
    "bell": "🔔", "black_circle": "⚫", "bookmark_tabs": "📑", "books": "📚", "bulb": "💡",
    "bust_in_silhouette": "👤", "busts_in_silhouette": "👥", "calendar": "📅", "card_index_dividers": "🗂️",
    "chart_with_downwards_trend": "📉", "chart_with_upwards_trend": "📈", "checkered_flag": "🏁",
    "clap": "👏", "clipboard": "📋", "clock": "🕐", "compass": "🧭", "construction": "🚧", "dart": "🎯",
    "date": "📅", "email": "📧", "envelope": "✉️", "eyes": "👀", "file_folder": "📁", "fire": "🔥",
    "crescent_moon": "🌙", "globe_with_meridians": "🌐", "handshake": "🤝", "heavy_check_mark": "✔️",
    "heavy_minus_sign": "➖",
    "heavy_plus_sign": "➕", "hourglass": "⌛", "hourglass_flowing_sand": "⏳", "inbox_tray": "📥",
    "incoming_envelope": "📨", "information_source": "ℹ️", "key": "🔑", "large_blue_circle": "🔵",
    "large_green_circle": "🟢", "large_orange_circle": "🟠", "large_yellow_circle": "🟡",
    "leftwards_arrow_with_hook": "↩️", "link": "🔗", "lock": "🔒", "loudspeaker": "📢", "mag": "🔍",
    "mailbox": "📫", "mega": "📣", "memo": "📝", "new": "🆕", "no_bell": "🔕", "no_entry": "⛔",
    "outbox_tray": "📤", "page_facing_up": "📄", "palm_tree": "🌴", "paperclip": "📎", "pencil": "📝",
    "pencil2": "✏️", "pill": "💊", "pray": "🙏", "pushpin": "📌", "question": "❓", "raised_hand": "✋",
    "red_circle": "🔴", "repeat": "🔁", "rocket": "🚀", "rotating_light": "🚨", "sleeping": "😴",
    "sos": "🆘", "sparkles": "✨", "speech_balloon": "💬", "spiral_calendar_pad": "🗓️",
    "spiral_note_pad": "🗒️", "star": "⭐", "stop_sign": "🛑", "stopwatch": "⏱️", "tada": "🎉",
    "thumbsup": "👍", "triangular_flag_on_post": "🚩", "trophy": "🏆", "warning": "⚠️", "wave": "👋",
    "white_check_mark": "✅", "white_circle": "⚪", "x": "❌", "zzz": "💤",
}  # fmt: skip

# Whom a mention names in Teams: (slack id, handle) -> their Entra object id, when known.
Resolver = Callable[[str | None, str | None], str | None]


def _no_one(slack_id: str | None, handle: str | None) -> str | None:
    return None


@dataclass
class Mentions:
    """The people a card names, in the order they first appear."""

    resolve: Resolver = _no_one
    people: list[tuple[str, str]] = field(default_factory=list)  # (name, Entra id)

    def name(self, person: m.Person) -> str:
        aad = self.resolve(person.slack_id, person.handle)
        if not aad:  # their name, as words: bold would show as stars where the line is bold already
            return _inert(person.name)
        if (person.name, aad) not in self.people:
            self.people.append((person.name, aad))
        return f"<at>{_inert(person.name)}</at>"

    def entities(self) -> list[dict[str, Any]]:
        return [
            {"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": aad, "name": name}}
            for name, aad in self.people
        ]


@contextmanager
def drawing(resolve: Resolver = _no_one) -> Iterator[Mentions]:
    """Draw cards whose people are named as Teams mentions where `resolve` knows them."""
    yield Mentions(resolve)


def _inert(text: str) -> str:
    """Typed text stays text: a typed <at> is broken so that it can never become a mention."""
    return re.sub(r"<(/?at\b)", "<\u200b\\1", text, flags=re.I)


def markdown(spans: m.Line, mentions: Mentions) -> str:
    """A line as Adaptive Card Markdown."""
    return "".join(_span(span, mentions) for span in spans)


def _span(span: m.Span, mentions: Mentions) -> str:
    if isinstance(span, m.Text):
        return _with_emoji(_inert(span.text))
    if isinstance(span, m.Bold):
        return _emphasis(span.spans, "**", mentions)
    if isinstance(span, m.Italic):
        return _emphasis(span.spans, "_", mentions)
    if isinstance(span, m.Code):
        return f"`{_inert(span.text)}`"
    if isinstance(span, m.Link):
        return f"[{_inert(span.label)}]({span.url})"
    if isinstance(span, m.Person):
        return mentions.name(span)
    if isinstance(span, m.Time):
        moment = span.moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{{{{DATE({moment}, SHORT)}}}} {{{{TIME({moment})}}}}"
    if isinstance(span, m.Channel):
        return "**the study channel**"
    if isinstance(span, m.Emoji):
        return EMOJI.get(span.name, f":{span.name}:")
    raise TypeError(f"no Teams rendering for {type(span).__name__}")


def _emphasis(spans: m.Line, marker: str, mentions: Mentions) -> str:
    """Bold or italic words: the marker around each run of words, never around a mention (Teams would show
    the stars of `**<at>…</at>**`) nor around nothing, with spaces kept outside it (Markdown reads `**a **`
    as stars)."""
    drawn, words = "", ""
    for span in _within(spans, m.Bold if marker == "**" else m.Italic):
        text = _span(span, mentions)
        if isinstance(span, m.Person) and text.startswith("<at>"):
            drawn, words = drawn + _marked(words, marker) + text, ""
        else:
            words += text
    return drawn + _marked(words, marker)


def _within(spans: m.Line, kind: type) -> Iterator[m.Span]:
    """The spans of an emphasis: one of the same kind inside it adds no markers of its own, nor does the
    study channel (drawn bold elsewhere)."""
    for span in spans:
        if isinstance(span, kind):
            yield from _within(span.spans, kind)  # type: ignore[attr-defined]
        elif isinstance(span, m.Channel) and kind is m.Bold:
            yield m.Text("the study channel")
        else:
            yield span


def _marked(words: str, marker: str) -> str:
    core = words.strip()
    if not core:
        return words
    start = len(words) - len(words.lstrip())
    return f"{words[:start]}{marker}{core}{marker}{words[start + len(core) :]}"


def _text_blocks(lines: tuple[m.Line, ...], mentions: Mentions, **style: Any) -> list[Any]:
    texts = [t for t in (markdown(line, mentions) for line in lines) for t in t.split("\n") if t.strip()] or [
        " "
    ]
    return [
        ac.TextBlock(text=text, wrap=True, spacing=None if n == 0 else "None", **style)
        for n, text in enumerate(texts)
    ]


def _with_emoji(text: str) -> str:
    """Words with the emoji they name the Slack way (`:tada:`) drawn as emoji, as Slack draws them."""
    return re.sub(r":([a-z_]+):", lambda found: EMOJI.get(found.group(1), found.group(0)), text)


def button(item: m.Button) -> Any:
    style = {"primary": "positive", "danger": "destructive"}.get(item.style or "")
    data = {"cadence": "button", "action_id": item.action, "value": item.value}
    return ac.SubmitAction(title=_with_emoji(item.label), data=data, style=style)


def _actions(elements: tuple[m.Button | m.Select, ...]) -> list[Any]:
    """Buttons, and a short pick-one menu as a button per option."""
    found = []
    for element in elements:
        if isinstance(element, m.Button):
            found.append(button(element))
        elif len(_options(element)) <= MAX_CHOICE_BUTTONS:
            found += [button(m.Button(element.action, o.value, o.label)) for o in _options(element)]
    return found


def _options(menu: m.Select) -> tuple[m.Option, ...]:
    return menu.options or tuple(o for _, group in menu.groups for o in group)


def _menus(elements: tuple[m.Button | m.Select, ...]) -> list[Any]:
    """A long pick-one menu as a drop-down of every option and a button that sends the one chosen: the
    drop-down's id is `value`, so Teams puts the choice where a button's value goes."""
    drawn: list[Any] = []
    for menu in elements:
        if isinstance(menu, m.Select) and len(_options(menu)) > MAX_CHOICE_BUTTONS:
            choices = [ac.Choice(title=_with_emoji(o.label), value=o.value) for o in _options(menu)]
            drawn.append(
                ac.ChoiceSetInput(
                    id="value", style="filtered", choices=choices, placeholder=_with_emoji(menu.placeholder)
                )
            )
            data = {"cadence": "button", "action_id": menu.action}
            drawn.append(ac.ActionSet(actions=[ac.SubmitAction(title="Choose", data=data)]))
    return drawn


def _input(item: m.Input) -> Any:
    common = {"id": item.id, "label": _with_emoji(item.label), "isRequired": not item.optional}
    if not item.optional:
        common["errorMessage"] = f"{_with_emoji(item.label)} is needed."
    if isinstance(item, m.TextInput):
        return ac.TextInput(
            isMultiline=item.multiline,
            value=item.initial,
            placeholder=item.placeholder or item.hint,
            maxLength=item.max_length,
            **common,
        )
    if isinstance(item, m.ChoiceInput):
        choices = [ac.Choice(title=_with_emoji(o.label), value=o.value) for o in item.options]
        return ac.ChoiceSetInput(
            style="compact", choices=choices, value=item.initial, placeholder=item.placeholder, **common
        )
    if isinstance(item, m.DateInput):
        return ac.DateInput(value=item.initial, **common)
    if isinstance(item, m.PeopleInput):  # the people one may pick (Teams' picker, Data.Query, is 1.6)
        choices = [ac.Choice(title=p.name, value=p.handle) for p in item.choices if p.handle]
        if not choices:
            return ac.TextInput(placeholder="@handles, separated by commas", **common)
        return ac.ChoiceSetInput(isMultiSelect=True, style="filtered", choices=choices, **common)
    raise TypeError(f"no Teams rendering for {type(item).__name__}")


def body(items: tuple[m.Block | m.Input, ...], mentions: Mentions) -> list[Any]:
    """The model's blocks as card elements."""
    drawn: list[Any] = []
    separator = False
    for item in items:
        elements: list[Any] = []
        if isinstance(item, m.Divider):
            separator = True
            continue
        if isinstance(item, m.Header):
            elements.append(ac.TextBlock(text=_inert(item.text), wrap=True, weight="Bolder", size="Medium"))
        elif isinstance(item, m.Section):
            elements += _text_blocks(item.lines, mentions) if item.lines else []
            if item.fields:
                columns = [
                    ac.Column(width="stretch", items=_text_blocks(f.lines, mentions)) for f in item.fields
                ]
                elements.append(ac.ColumnSet(columns=columns))
            if item.accessory is not None:
                elements.append(ac.ActionSet(actions=_actions((item.accessory,))))
        elif isinstance(item, m.Context):
            elements += _text_blocks(
                (m.join(list(item.items), " · "),), mentions, isSubtle=True, size="Small"
            )
        elif isinstance(item, m.Actions):
            buttons = _actions(item.elements)
            elements += ([ac.ActionSet(actions=buttons)] if buttons else []) + _menus(item.elements)
        elif isinstance(item, m.Image):
            elements.append(ac.Image(url=item.url, altText=item.alt))
        else:
            elements.append(_input(item))
        if elements and separator:
            elements[0].separator = True
            separator = False
        drawn += elements
    return drawn


def card(elements: list[Any], actions: list[Any], mentions: Mentions | None) -> dict[str, Any]:
    teams = ac.TeamsCardProperties(width="full", entities=(mentions.entities() if mentions else None) or None)
    content = ac.AdaptiveCard(
        version=VERSION, body=elements or [ac.TextBlock(text=" ")], actions=actions or None, msteams=teams
    )
    drawn = content.model_dump(by_alias=True, exclude_none=True, mode="json")
    drawn["$schema"] = SCHEMA
    return drawn


def message_card(model: m.Message | m.Home, mentions: Mentions | None = None) -> dict[str, Any]:
    """A message as a card."""
    mentions = mentions or Mentions()
    return card(body(model.blocks, mentions), [], mentions)


def message_cards(model: m.Message, resolve: Resolver = _no_one, *, limit: int = CARD_BYTES) -> list[dict]:
    """A message as one card, or when that would pass Teams' size limit as several in order, split between
    blocks or between a section's lines, each saying which part it is: nothing is left out."""
    whole = _drawn(model.blocks, resolve)
    if size(whole) <= limit:
        return [whole]
    parts = _packed(model.blocks, _fitting(resolve, limit))
    return [_drawn(_labelled(part, n, len(parts)), resolve) for n, part in enumerate(parts, 1)]


def cut_card(model: m.Message, resolve: Resolver = _no_one, *, limit: int = CARD_BYTES) -> dict:
    """A message as one card within Teams' size limit (an edit replaces one message): what does not fit is
    left out, and the card says how much."""
    whole = _drawn(model.blocks, resolve)
    if size(whole) <= limit:
        return whole
    first, *rest = _packed(model.blocks, _fitting(resolve, limit))
    left_out = sum(len(b.lines) if isinstance(b, m.Section) and b.lines else 1 for part in rest for b in part)
    note = m.line("_…and {n} more lines, too long for one Teams message._", n=str(left_out))
    return _drawn((*first, m.Context((note,))), resolve)


def size(card: dict[str, Any]) -> int:
    """The bytes a card takes in an activity (JSON with every non-ASCII character escaped: the most)."""
    return len(json.dumps(attachment(card)).encode())


def _fitting(resolve: Resolver, limit: int) -> Callable[[list[m.Block]], bool]:
    """Whether blocks drawn as a card leave room for the line that says which part it is."""
    return lambda blocks: size(_drawn(blocks, resolve)) <= limit - _PART_LABEL_BYTES


def _drawn(blocks: tuple[m.Block, ...] | list[m.Block], resolve: Resolver) -> dict[str, Any]:
    """Blocks as a card of their own, with the mentions of the people in it."""
    mentions = Mentions(resolve)
    return message_card(m.Message((), tuple(blocks)), mentions)


def _packed(blocks: tuple[m.Block, ...], fits: Callable[[list[m.Block]], bool]) -> list[list[m.Block]]:
    """Blocks in order in as few parts as fit, a section split between its lines where it must."""
    parts: list[list[m.Block]] = [[]]
    pending = list(blocks)
    while pending:
        block = pending.pop(0)
        if fits([*parts[-1], block]):
            parts[-1].append(block)
            continue
        taken = _lines_that_fit(parts[-1], block, fits)
        if taken:  # as many of its lines as fit here, the rest in the next part
            assert isinstance(block, m.Section)
            parts[-1].append(m.Section(block.lines[:taken]))
            pending.insert(0, m.Section(block.lines[taken:]))
            parts.append([])
        elif parts[-1]:
            parts.append([])
            pending.insert(0, block)
        else:  # too long even alone: its words, cut
            parts[-1].append(_shortened(block, fits))
            parts.append([])
    return [part for part in parts if part]


def _lines_that_fit(part: list[m.Block], block: m.Block, fits: Callable[[list[m.Block]], bool]) -> int:
    """How many of a section's first lines fit after `part` (none for another block)."""
    if not isinstance(block, m.Section) or block.fields or block.accessory is not None:
        return 0
    low, high = 0, len(block.lines) - 1  # the whole section does not fit
    while low < high:
        middle = (low + high + 1) // 2
        if fits([*part, m.Section(block.lines[:middle])]):
            low = middle
        else:
            high = middle - 1
    return low


def _shortened(block: m.Block, fits: Callable[[list[m.Block]], bool]) -> m.Block:
    """A block too long for a Teams message on its own (one line of many kilobytes): its words, cut."""
    lines = block.items if isinstance(block, m.Context) else getattr(block, "lines", ())
    words = " ".join(m.plain(line) for line in lines)
    keep = len(words)
    while keep:
        shortened = m.Section((m.line("{words}…", words=words[:keep]),))
        if fits([shortened]):
            return shortened
        keep //= 2
    return m.Section((m.line("(too long to show in Teams)"),))


def _labelled(part: list[m.Block], number: int, total: int) -> tuple[m.Block, ...]:
    if total == 1:
        return tuple(part)
    if number == 1:
        label = m.line("_Part 1 of {total}: continued in the next message._", total=str(total))
        return (*part, m.Context((label,)))
    label = m.line("_Continued: part {n} of {total}._", n=str(number), total=str(total))
    return (m.Context((label,)), *part)


def form_card(form: m.Form, mentions: Mentions | None = None, problem: str | None = None) -> dict[str, Any]:
    """A form as a card with inputs; its submit button sends the form's name and context back."""
    mentions = mentions or Mentions()
    elements = [ac.TextBlock(text=f"**{_inert(form.title)}**", wrap=True, size="Medium")]
    if problem:
        elements.append(ac.TextBlock(text=f"⚠️ {_inert(problem)}", wrap=True, color="Attention"))
    elements += body(form.blocks, mentions)
    data = {"cadence": "form", "form": form.id, "meta": form.meta}
    submit = ac.SubmitAction(title=_with_emoji(form.submit) or "Submit", style="positive", data=data)
    return card(elements, [submit], mentions)


def attachment(content: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CARD_TYPE, "content": content}


def card_activity(content: dict[str, Any]) -> MessageActivityInput:
    """A message activity carrying one card."""
    return MessageActivityInput(attachments=[Attachment(content_type=CARD_TYPE, content=content)])
