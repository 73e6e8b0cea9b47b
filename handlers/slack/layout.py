"""The message model (bot.messages) drawn as Block Kit: Slack's markup, escaping and limits in one place.

Every piece of text that is not the template's own markup is escaped here, so `<!channel>`, `<@U…>`
and links typed by users stay inert; sections longer than Slack allows are split between lines.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import messages as m

SECTION_LIMIT = 2900  # Slack allows 3,000 characters in a section's text
MAX_BLOCKS = 50


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


def _text(lines: tuple[m.Line, ...]) -> str:
    return "\n".join(mrkdwn(line) for line in lines)


def _plain_text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}


def _sections(lines: tuple[m.Line, ...]) -> list[dict[str, Any]]:
    """Lines in as few sections as Slack's length limit allows."""
    blocks, current = [], ""
    for text in (mrkdwn(line) for line in lines):
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
            "text": _plain_text(item.label),
        }
        return button | ({"style": item.style} if item.style else {})
    menu: dict[str, Any] = {
        "type": "static_select",
        "action_id": item.action,
        "placeholder": _plain_text(item.placeholder),
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
    return {"text": _plain_text(option.label[:75]), "value": option.value}


def block(item: m.Block | m.Input) -> list[dict[str, Any]]:
    """One block of the model as Block Kit blocks (a long section may take several)."""
    if isinstance(item, m.Section):
        if item.lines and not item.fields and item.accessory is None:
            return _sections(item.lines)
        drawn: dict[str, Any] = {"type": "section"}
        if item.lines:
            drawn["text"] = {"type": "mrkdwn", "text": _text(item.lines)[:SECTION_LIMIT]}
        if item.fields:
            drawn["fields"] = [{"type": "mrkdwn", "text": _text(f.lines)[:2000]} for f in item.fields[:10]]
        if item.accessory is not None:
            drawn["accessory"] = element(item.accessory)
        return [drawn]
    if isinstance(item, m.Context):
        return [
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": mrkdwn(t)[:SECTION_LIMIT]} for t in item.items[:10]],
            }
        ]
    if isinstance(item, m.Divider):
        return [{"type": "divider"}]
    if isinstance(item, m.Header):
        return [{"type": "header", "text": _plain_text(item.text[:150])}]
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


def blocks(items: tuple[m.Block | m.Input, ...]) -> list[dict[str, Any]]:
    return [drawn for item in items for drawn in block(item)][:MAX_BLOCKS]


def message(model: m.Message) -> dict[str, Any]:
    """A reply or a notice: `text` (escaped, since Slack parses it too) and `blocks`."""
    return {
        "response_type": "in_channel" if model.in_channel else "ephemeral",
        "text": escape(m.plain(model.fallback)),
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
        "blocks": [b for item in form.blocks for b in block(item)][:100],
    }
    return drawn | ({"notify_on_close": True} if form.tell_on_close else {})


def home(model: m.Home) -> dict[str, Any]:
    return {"type": "home", "blocks": blocks(model.blocks)[:100]}
