"""The message model (bot.messages) as an e-mail: a plain-text part and an HTML part saying the same.

The HTML is a table layout with inline styles only (Outlook's Word engine and Gmail drop <style> sheets
and ignore most CSS outside the element), every word of the model escaped. Buttons become links where
the core gave one (a signed, single-use action link, bot.action_links), else the command that does the
same in chat. Times are in the reader's timezone, people by name.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot import messages as m

# A button's link in this e-mail (None: the button has no link, its typed command is shown instead).
Linker = Callable[[m.Button], str | None]
SUBJECT_LIMIT = 120
FONT = "font-family:Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;line-height:20px;color:#1d1c1d"
_EMOJI = {
    "warning": "\u26a0\ufe0f",
    "white_check_mark": "\u2705",
    "hourglass": "\u231b",
    "tada": "\U0001f389",
    "memo": "\U0001f4dd",
    "calendar": "\U0001f4c5",
    "bell": "\U0001f514",
    "palm_tree": "\U0001f334",
    "bar_chart": "\U0001f4ca",
    "rotating_light": "\U0001f6a8",
    "sos": "\U0001f198",
}


@dataclass(frozen=True)
class Drawn:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Footer:
    """What every Cadence e-mail ends with: who sent it, that replies are not read, how to change it."""

    study: str
    change_preferences: str  # a sentence: whom to ask, or where to go


def draw(message: m.Message, zone: ZoneInfo, *, link: Linker, footer: Footer) -> Drawn:
    """The message as an e-mail's subject, text part and HTML part, for a reader in `zone`."""
    subject = " ".join(_plain(message.fallback, zone).split())
    if len(subject) > SUBJECT_LIMIT:
        subject = subject[: SUBJECT_LIMIT - 1].rstrip() + "\u2026"
    return Drawn(
        subject or "A message from Cadence",
        _text_part(message.blocks, zone, link, footer),
        _html_part(message.blocks, zone, link, footer, subject),
    )


# --- text -----------------------------------------------------------------------------------------


def _plain(line: m.Line, zone: ZoneInfo) -> str:
    return "".join(_plain_span(span, zone) for span in line)


def _plain_span(span: m.Span, zone: ZoneInfo) -> str:
    if isinstance(span, m.Text | m.Code):
        return span.text
    if isinstance(span, m.Bold | m.Italic):
        return _plain(span.spans, zone)
    if isinstance(span, m.Link):
        return f"{span.label} <{span.url}>"
    if isinstance(span, m.Person):
        return span.name
    if isinstance(span, m.Time):
        return _moment(span, zone)
    if isinstance(span, m.Channel):
        return "the study channel"
    if isinstance(span, m.Emoji):
        return _EMOJI.get(span.name, "")
    raise TypeError(f"no e-mail rendering for {type(span).__name__}")


def _moment(span: m.Time, zone: ZoneInfo) -> str:
    return f"{span.moment.astimezone(zone):%a %d %b %Y %H:%M %Z}"


def _text_part(items: tuple[m.Block, ...], zone: ZoneInfo, link: Linker, footer: Footer) -> str:
    lines: list[str] = []
    for item in items:
        if isinstance(item, m.Section):
            lines += [_plain(line, zone).strip() for line in item.lines]
            for field in item.fields:
                label, *rest = (_plain(line, zone).strip() for line in field.lines)
                lines.append(f"  {label}: {', '.join(r for r in rest if r)}")
            if item.accessory is not None:
                lines += _text_controls((item.accessory,), link)
        elif isinstance(item, m.Context):
            lines.append("  " + " · ".join(_plain(line, zone).strip() for line in item.items))
        elif isinstance(item, m.Actions):
            lines += _text_controls(item.elements, link)
        elif isinstance(item, m.Header):
            lines += [item.text, "=" * min(len(item.text), 60)]
        elif isinstance(item, m.Divider):
            lines.append("-" * 40)
        elif isinstance(item, m.Image):
            lines.append(f"[{item.alt}]")
    lines += ["", "-- ", *_footer_words(footer)]
    return "\n".join(lines).strip() + "\n"


def _text_controls(elements: tuple[m.Button | m.Select, ...], link: Linker) -> list[str]:
    lines = []
    for element in elements:
        if isinstance(element, m.Button):
            url = link(element)
            if url:
                lines.append(f"  {element.label}: {url}")
            elif element.typed:
                lines.append(f"  {element.label}: type {element.typed} in chat")
        else:
            options = element.options or tuple(o for _, group in element.groups for o in group)
            lines += [f"  {o.label}: type {o.typed} in chat" for o in options if o.typed]
    return lines


def _footer_words(footer: Footer) -> list[str]:
    return [
        f"Sent by Cadence for {footer.study}. Replies to this e-mail are not read.",
        footer.change_preferences,
    ]


# --- HTML -----------------------------------------------------------------------------------------


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _html_line(line: m.Line, zone: ZoneInfo) -> str:
    return "".join(_html_span(span, zone) for span in line)


def _html_span(span: m.Span, zone: ZoneInfo) -> str:
    if isinstance(span, m.Text):
        return _e(span.text)
    if isinstance(span, m.Code):
        return f'<code style="font-family:Consolas,Menlo,monospace;background:#f4f4f4">{_e(span.text)}</code>'
    if isinstance(span, m.Bold):
        return f"<strong>{_html_line(span.spans, zone)}</strong>"
    if isinstance(span, m.Italic):
        return f"<em>{_html_line(span.spans, zone)}</em>"
    if isinstance(span, m.Link):
        if not span.url.startswith(("https://", "http://", "mailto:")):
            return _e(f"{span.label} ({span.url})")  # no javascript: or data: link from anywhere
        return f'<a href="{_e(span.url)}" style="color:#1264a3">{_e(span.label)}</a>'
    return _e(_plain_span(span, zone))


def _html_part(items: tuple[m.Block, ...], zone: ZoneInfo, link: Linker, footer: Footer, subject: str) -> str:
    rows = "".join(_html_block(item, zone, link) for item in items)
    rows += _row(
        "<br>".join(_e(words) for words in _footer_words(footer)),
        "font-size:12px;color:#616061;border-top:1px solid #dddddd;padding-top:12px",
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(subject)}</title></head>"
        '<body style="margin:0;padding:0;background:#f6f6f6">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        'style="background:#f6f6f6"><tr><td align="center" style="padding:16px">'
        '<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" '
        f'style="max-width:600px;width:100%;background:#ffffff;{FONT}">'
        f"{rows}</table></td></tr></table></body></html>"
    )


def blocks_html(items: tuple[m.Block, ...], zone: ZoneInfo, link: Linker) -> str:
    """Blocks as a table of their own (a web page's body: the result of an action link)."""
    rows = "".join(_html_block(item, zone, link) for item in items)
    return (
        f'<table role="presentation" cellpadding="0" cellspacing="0" border="0" width="100%">{rows}</table>'
    )


def _row(inner: str, style: str = "") -> str:
    return f'<tr><td style="padding:8px 20px;{FONT};{style}">{inner}</td></tr>'


def _html_block(item: m.Block, zone: ZoneInfo, link: Linker) -> str:
    if isinstance(item, m.Section):
        inner = "<br>".join(_html_line(line, zone) for line in item.lines)
        if item.fields:
            inner += _html_fields(item.fields, zone)
        if item.accessory is not None:
            inner += _html_controls((item.accessory,), link)
        return _row(inner)
    if isinstance(item, m.Context):
        inner = " &middot; ".join(_html_line(line, zone) for line in item.items)
        return _row(inner, "font-size:12px;color:#616061")
    if isinstance(item, m.Actions):
        return _row(_html_controls(item.elements, link))
    if isinstance(item, m.Header):
        return _row(f"<strong>{_e(item.text)}</strong>", "font-size:18px;line-height:24px;padding-top:16px")
    if isinstance(item, m.Divider):
        return _row('<hr style="border:0;border-top:1px solid #dddddd;margin:4px 0">')
    if isinstance(item, m.Image):
        if not item.url.startswith(("https://", "cid:")):
            return _row(_e(f"[{item.alt}]"))
        return _row(f'<img src="{_e(item.url)}" alt="{_e(item.alt)}" width="560" style="max-width:100%">')
    return ""


def _html_fields(fields: tuple[m.Field, ...], zone: ZoneInfo) -> str:
    cells = []
    for field in fields:
        label, *rest = field.lines
        values = ", ".join(_html_line(line, zone) for line in rest)
        cells.append(
            f'<tr><td style="{FONT};padding:2px 12px 2px 0;vertical-align:top;color:#616061">'
            f'{_html_line(label, zone)}</td><td style="{FONT};padding:2px 0">{values}</td></tr>'
        )
    return f'<table role="presentation" cellpadding="0" cellspacing="0" border="0">{"".join(cells)}</table>'


def _html_controls(elements: tuple[m.Button | m.Select, ...], link: Linker) -> str:
    drawn = []
    for element in elements:
        if isinstance(element, m.Button):
            url = link(element)
            if url:
                colour = "#e01e5a" if element.style == "danger" else "#007a5a"
                drawn.append(
                    f'<a href="{_e(url)}" style="display:inline-block;background:{colour};color:#ffffff;'
                    "text-decoration:none;padding:8px 14px;border-radius:4px;margin:0 8px 8px 0;"
                    f'font-weight:bold">{_e(element.label)}</a>'
                )
            elif element.typed:
                drawn.append(_typed_html(element.label, element.typed))
        else:
            options = element.options or tuple(o for _, group in element.groups for o in group)
            drawn += [_typed_html(o.label, o.typed) for o in options if o.typed]
    return "<div>" + "".join(drawn) + "</div>"


def _typed_html(label: str, typed: str) -> str:
    return f'<span style="color:#616061">{_e(label)}: type <code>{_e(typed)}</code> in chat</span><br>'
