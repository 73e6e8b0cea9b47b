"""The message model (bot.messages) drawn as Block Kit: Slack's markup, escaping and limits in one place.

Every piece of text that is not the template's own markup is escaped here, so `<!channel>`, `<@U…>`
and links typed by users stay inert; sections longer than Slack allows are split between lines.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import messages as m

SECTION_LIMIT = 3000  # characters in a section's text, and in a context element's
FIELD_LIMIT = 2000
TEXT_LIMIT = 4000  # a message's top-level text: Slack takes 40,000, a notification shows far less
MAX_BLOCKS = 50  # in a message; 100 in a modal or an App Home
ELLIPSIS = "…"


def escape(text: str) -> str:
    """Neutralise Slack's control sequences (`<!channel>`, `<@U…>`, links) in text we did not write."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def named(name: str, slack_id: str | None, handle: str | None) -> str:
    """A person as Slack names them: a mention, or their name in bold when Slack does not know them."""
    return f"<@{slack_id}>" if slack_id else f"*{escape(name)}*"


def slack_time(moment: datetime) -> str:
    """A time every reader sees in their own timezone (Slack's date formatting), UTC as the fallback."""
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def mrkdwn(spans: m.Line) -> str:
    """A line as Slack's mrkdwn."""
    return "".join(_span(span) for span in spans)


def _span(span: m.Span) -> str:
    if isinstance(span, m.Text):
        return escape(span.text)
    if isinstance(span, m.Bold):
        return f"*{mrkdwn(span.spans)}*"
    if isinstance(span, m.Italic):
        return f"_{mrkdwn(span.spans)}_"
    if isinstance(span, m.Code):
        return f"`{escape(span.text)}`"
    if isinstance(span, m.Link):
        return f"<{span.url}|{escape(span.label)}>"
    if isinstance(span, m.Person):
        return named(span.name, span.slack_id, span.handle)
    if isinstance(span, m.Time):
        return slack_time(span.moment)
    if isinstance(span, m.Channel):
        return f"<#{span.id}>"
    if isinstance(span, m.Emoji):
        return f":{span.name}:"
    raise TypeError(f"no Slack rendering for {type(span).__name__}")


def _text(lines: tuple[m.Line, ...], limit: int = SECTION_LIMIT) -> str:
    """Lines as mrkdwn within `limit` characters. Past it, the longest pieces of typed text are cut, each
    with "…", as little as fits: people, times, links and the markup around them are never cut."""
    drawn = "\n".join(mrkdwn(line) for line in lines)
    if len(drawn) <= limit:
        return drawn
    longest = max((len(t) for line in lines for t in _texts(line)), default=0)
    low, high = 0, longest  # the longest text each piece may keep: the most that fits
    while low < high:
        middle = (low + high + 1) // 2
        if len(_capped_text(lines, middle)) <= limit:
            low = middle
        else:
            high = middle - 1
    drawn = _capped_text(lines, low)
    return drawn if len(drawn) <= limit else _cut_between_tokens(drawn, limit)


def _texts(spans: m.Line) -> list[str]:
    found = []
    for span in spans:
        if isinstance(span, m.Text | m.Code):
            found.append(span.text)
        elif isinstance(span, m.Bold | m.Italic):
            found += _texts(span.spans)
    return found


def _capped_text(lines: tuple[m.Line, ...], cap: int) -> str:
    return "\n".join(mrkdwn(_capped(line, cap)) for line in lines)


def _capped(spans: m.Line, cap: int) -> m.Line:
    """`spans` with every piece of text over `cap` characters cut to it, "…" included."""
    kept: list[m.Span] = []
    for span in spans:
        if isinstance(span, m.Text | m.Code) and len(span.text) > cap:
            kept.append(type(span)(span.text[: max(cap - 1, 0)].rstrip() + ELLIPSIS))
        elif isinstance(span, m.Bold | m.Italic):
            kept.append(type(span)(_capped(span.spans, cap)))
        else:
            kept.append(span)
    return tuple(kept)


def _cut_between_tokens(drawn: str, limit: int) -> str:
    """The last resort, for structure alone past the limit (hundreds of mentions): cut, but never inside
    a `<…>` token or an `&…;` escape."""
    cut = drawn[: limit - 1]
    opened, closed = cut.rfind("<"), cut.rfind(">")
    if opened > closed:
        cut = cut[:opened]
    amp = cut.rfind("&")
    if amp > cut.rfind(";"):
        cut = cut[:amp]
    return cut + ELLIPSIS


def clipped(text: str, limit: int) -> str:
    """Plain text (a label, a title) within `limit` characters."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def _plain_text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _sections(lines: tuple[m.Line, ...]) -> list[dict[str, Any]]:
    """Lines in as few sections as Slack's length limit allows (a line past it alone is cut to fit)."""
    blocks, current = [], ""
    for text in (_text((line,)) for line in lines):
        if current and len(current) + len(text) + 1 > SECTION_LIMIT:
            blocks.append(section(current))
            current = ""
        current = f"{current}\n{text}" if current else text
    if current:
        blocks.append(section(current))
    return blocks


def element(item: m.Button | m.Select) -> dict[str, Any]:
    if isinstance(item, m.Button):
        button = {
            "type": "button",
            "action_id": item.action,
            "value": item.value,
            "text": _plain_text(clipped(item.label, 75)),
        }
        return button | ({"style": item.style} if item.style else {})
    menu: dict[str, Any] = {
        "type": "static_select",
        "action_id": item.action,
        "placeholder": _plain_text(clipped(item.placeholder, 150)),
    }
    if item.groups:
        menu["option_groups"] = [
            {"label": _plain_text(label), "options": [_option(o) for o in options]}
            for label, options in item.groups
        ]
    else:
        menu["options"] = [_option(o) for o in item.options]
    return menu


def _option(option: m.Option) -> dict[str, Any]:
    return {"text": _plain_text(clipped(option.label, 75)), "value": option.value}


def block(item: m.Block | m.Input) -> list[dict[str, Any]]:
    """One block of the model as Block Kit blocks (a long section may take several)."""
    if isinstance(item, m.Section):
        if item.lines and not item.fields and item.accessory is None:
            return _sections(item.lines)
        drawn: dict[str, Any] = {"type": "section"}
        if item.lines:
            drawn["text"] = {"type": "mrkdwn", "text": _text(item.lines)}
        if item.fields:
            drawn["fields"] = [
                {"type": "mrkdwn", "text": _text(f.lines, FIELD_LIMIT)} for f in item.fields[:10]
            ]
        if item.accessory is not None:
            drawn["accessory"] = element(item.accessory)
        return [drawn]
    if isinstance(item, m.Context):
        return [
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": _text((t,))} for t in item.items[:10]],
            }
        ]
    if isinstance(item, m.Divider):
        return [{"type": "divider"}]
    if isinstance(item, m.Header):
        return [{"type": "header", "text": _plain_text(clipped(item.text, 150))}]
    if isinstance(item, m.Image):
        return [{"type": "image", "image_url": item.url, "alt_text": item.alt}]
    if isinstance(item, m.Actions):
        drawn = {"type": "actions", "elements": [element(e) for e in item.elements[:25]]}
        return [drawn | ({"block_id": item.id} if item.id else {})]
    return [_input(item)]


def _input(item: m.Input) -> dict[str, Any]:
    if isinstance(item, m.TextInput):
        field: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": "value",
            "multiline": item.multiline,
        }
        if item.initial:
            field["initial_value"] = item.initial
        if item.placeholder:
            field["placeholder"] = _plain_text(item.placeholder)
        if item.max_length:
            field["max_length"] = item.max_length
    elif isinstance(item, m.ChoiceInput):
        field = {"type": "static_select", "action_id": "value", "options": [_option(o) for o in item.options]}
        initial = next((o for o in item.options if o.value == item.initial), None)
        if initial:
            field["initial_option"] = _option(initial)
        if item.placeholder:
            field["placeholder"] = _plain_text(item.placeholder)
    elif isinstance(item, m.DateInput):
        field = {"type": "datepicker", "action_id": "value"}
        if item.initial:
            field["initial_date"] = item.initial
    elif isinstance(item, m.PeopleInput):
        field = {"type": "multi_users_select", "action_id": "value"}
        known = [p.slack_id for p in item.initial if p.slack_id]
        if known:
            field["initial_users"] = known
    else:
        raise TypeError(f"no Slack rendering for {type(item).__name__}")
    drawn = {"type": "input", "block_id": item.id, "label": _plain_text(item.label), "element": field}
    if isinstance(item, m.TextInput) and item.hint:
        drawn["hint"] = _plain_text(item.hint)
    return drawn | ({"optional": True} if item.optional else {})


def blocks(items: tuple[m.Block | m.Input, ...], limit: int = MAX_BLOCKS) -> list[dict[str, Any]]:
    """The model's blocks, at most `limit` (views list long lists in part, with `views.left_out`; this is
    the last guard): past it, the last block says that the rest was left out."""
    drawn = [b for item in items for b in block(item)]
    if len(drawn) <= limit:
        return drawn
    note = "…the rest is longer than Slack shows in one message."
    return drawn[: limit - 1] + [{"type": "context", "elements": [{"type": "mrkdwn", "text": escape(note)}]}]


def message(model: m.Message) -> dict[str, Any]:
    """A reply or a notice: `text` (escaped, since Slack parses it too) and `blocks`."""
    return {
        "response_type": "in_channel" if model.in_channel else "ephemeral",
        "text": escape(clipped(m.plain(model.fallback), TEXT_LIMIT)),  # escaped, it stays under 40,000
        "blocks": blocks(model.blocks),
    }


def modal(form: m.Form) -> dict[str, Any]:
    drawn = {
        "type": "modal",
        "callback_id": form.id,
        "private_metadata": form.meta,
        "title": _plain_text(form.title[:24]),
        "submit": _plain_text(form.submit[:24]),
        "close": _plain_text(form.close[:24]),
        "blocks": blocks(form.blocks, 100),
    }
    return drawn | ({"notify_on_close": True} if form.tell_on_close else {})


def home(model: m.Home) -> dict[str, Any]:
    return {"type": "home", "blocks": blocks(model.blocks, 100)}
