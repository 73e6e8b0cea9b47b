"""The message model (bot.messages) as HTML: the same words as every chat, every value escaped, times in
the viewer's own timezone. Buttons and menus act in a chat; a page has none of them, so they are left
out (the page links to what it can do instead)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from bot import messages as m

# Slack's shortcodes as the characters they draw (the views use these few).
EMOJI = {
    "alarm_clock": "⏰", "arrow_right": "➡️", "arrow_up": "⬆️", "arrows_counterclockwise": "🔄",
    "bar_chart": "📊", "bell": "🔔", "calendar": "📅", "checkered_flag": "🏁", "clipboard": "📋",
    "compass": "🧭", "crescent_moon": "🌙", "dart": "🎯", "file_folder": "📁", "handshake": "🤝",
    "hourglass": "⌛", "inbox_tray": "📥", "incoming_envelope": "📨", "large_green_circle": "🟢",
    "large_orange_circle": "🟠", "large_yellow_circle": "🟡", "leftwards_arrow_with_hook": "↩️", "memo": "📝",
    "palm_tree": "🌴", "question": "❓", "raised_hand": "✋", "red_circle": "🔴", "rotating_light": "🚨",
    "sos": "🆘", "speech_balloon": "💬", "spiral_calendar_pad": "🗓️", "spiral_note_pad": "🗒️", "tada": "🎉",
    "trophy": "🏆", "warning": "⚠️", "wave": "👋", "white_check_mark": "✅", "white_circle": "⚪",
}  # fmt: skip


def moment(when: datetime, zone: ZoneInfo) -> Markup:
    """A moment in the viewer's zone, machine-readable in UTC: Mon 7 Dec 2026, 09:00 CET."""
    local = when.astimezone(zone)
    shown = f"{local:%a} {local.day} {local:%b %Y, %H:%M %Z}"
    return Markup('<time datetime="{}">{}</time>').format(when.astimezone(UTC).isoformat(), shown)


def line(spans: m.Line, zone: ZoneInfo) -> Markup:
    return Markup("").join(_span(span, zone) for span in spans)


def _span(span: m.Span, zone: ZoneInfo) -> Markup:
    if isinstance(span, m.Text):
        return escape(span.text)
    if isinstance(span, m.Code):
        return Markup("<code>{}</code>").format(span.text)
    if isinstance(span, m.Bold):
        return Markup("<strong>{}</strong>").format(line(span.spans, zone))
    if isinstance(span, m.Italic):
        return Markup("<em>{}</em>").format(line(span.spans, zone))
    if isinstance(span, m.Link):
        if span.url.startswith(("https://", "http://")):  # never javascript: or data: from a message
            return Markup('<a href="{}" rel="noopener noreferrer">{}</a>').format(span.url, span.label)
        return escape(span.label)
    if isinstance(span, m.Person):
        return Markup('<span class="person">{}</span>').format(span.name)
    if isinstance(span, m.Time):
        return moment(span.moment, zone)
    if isinstance(span, m.Channel):
        return escape(f"#{span.id}")
    if isinstance(span, m.Emoji):
        shown = EMOJI.get(span.name)
        return Markup('<span aria-hidden="true">{}</span>').format(shown) if shown else Markup("")
    raise TypeError(f"no HTML rendering for {type(span).__name__}")


def _block(block: m.Block, zone: ZoneInfo) -> Markup:
    if isinstance(block, m.Section):
        drawn = Markup("").join(Markup("<p>{}</p>").format(line(each, zone)) for each in block.lines)
        if block.fields:
            drawn += Markup('<dl class="fields">{}</dl>').format(
                Markup("").join(_field(field, zone) for field in block.fields)
            )
        return Markup("<section>{}</section>").format(drawn)
    if isinstance(block, m.Context):
        items = Markup(" · ").join(line(item, zone) for item in block.items)
        return Markup('<p class="context">{}</p>').format(items)
    if isinstance(block, m.Header):
        return Markup("<h2>{}</h2>").format(block.text)
    if isinstance(block, m.Divider):
        return Markup("<hr>")
    if isinstance(block, m.Image):
        if not block.url.startswith(("https://", "http://", "/")):
            return escape(block.alt)
        return Markup('<img src="{}" alt="{}">').format(block.url, block.alt)
    return Markup("")  # buttons and menus act in a chat; the page has none of them


def _field(field: m.Field, zone: ZoneInfo) -> Markup:
    label, *rest = field.lines or ((),)
    values = Markup("").join(Markup("<dd>{}</dd>").format(line(each, zone)) for each in rest)
    return Markup("<div><dt>{}</dt>{}</div>").format(line(label, zone), values)


def blocks(items: tuple[m.Block, ...], zone: ZoneInfo) -> Markup:
    """Blocks as HTML for a reader in `zone`."""
    return Markup("\n").join(_block(block, zone) for block in items)


def message(drawn: m.Message | m.Home, zone: ZoneInfo) -> Markup:
    """A message (or an App Home) as HTML, for a reader in `zone`."""
    return blocks(drawn.blocks, zone)
