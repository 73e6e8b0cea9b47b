"""The page an e-mail's button link opens: `GET /act/<token>` says what will be done and offers a button
(mail scanners follow links: a GET changes nothing); `POST /act/<token>` does it, once (bot.action_links),
through the same core code a chat button runs, and shows the result."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from bot import action_links, views
from bot import messages as m
from bot.clock import Clock
from bot.errors import CadenceError
from bot.forms import FormProblem
from bot.outbox import run_then_wake
from handlers.email.render import FONT, blocks_html

MAX_FORM_BYTES = 64 * 1024
# The token is in the address: no other site gets it as a referrer, no cache or robot keeps the page.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def action_routes(engine: Engine, clock: Clock, wake: Callable[[], None] = lambda: None) -> list[Route]:
    """The routes of the action links, for `cadence serve` to mount."""

    async def show(request: Request) -> HTMLResponse:
        token = request.path_params["token"]
        try:
            offer = await asyncio.to_thread(_offer, engine, token, clock)
        except CadenceError as refused:
            return _page("Nothing to do", _refusal(refused), status=410)
        return _page(offer.label, _offer_html(offer))

    async def act(request: Request) -> HTMLResponse:
        token = request.path_params["token"]
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return _page("Too long", "<p>That is more than Cadence takes in one form.</p>", status=413)
        fields = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
        fields.pop("confirm", None)
        try:
            done = await asyncio.to_thread(
                run_then_wake, engine, wake, action_links.perform, token=token, fields=fields, now=clock.now()
            )
        except FormProblem as problem:  # nothing was done: the link still works
            offer = await asyncio.to_thread(_offer, engine, token, clock)
            return _page(offer.label, _refusal(problem) + _offer_html(offer, fields), status=400)
        except CadenceError as refused:
            return _page("Nothing was done", _refusal(refused), status=409)
        return _page("Done", _result_html(done.result, ZoneInfo(done.timezone)))

    return [
        Route("/act/{token}", show, methods=["GET"]),
        Route("/act/{token}", act, methods=["POST"]),
    ]


def _offer(engine: Engine, token: str, clock: Clock) -> action_links.Offer:
    with Session(engine) as session:
        try:
            return action_links.offer(session, token=token, now=clock.now())
        finally:
            session.rollback()  # a GET changes nothing


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _page(title: str, inner: str, *, status: int = 200) -> HTMLResponse:
    page = (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)} · Cadence</title></head>"
        f'<body style="margin:0;padding:24px;background:#f6f6f6;{FONT}">'
        f'<div style="max-width:600px;margin:0 auto;background:#fff;padding:20px">{inner}</div></body></html>'
    )
    return HTMLResponse(page, status_code=status, headers=HEADERS)


def _refusal(error: CadenceError) -> str:
    hint = f"<p>{_e(error.hint)}</p>" if error.hint else ""
    return f'<p style="color:#8a1c1c"><strong>{_e(error.message)}</strong></p>{hint}'


def _offer_html(offer: action_links.Offer, values: dict[str, str] | None = None) -> str:
    values = values or {}
    inputs = "".join(_input(item, values) for item in offer.form.blocks) if offer.form else ""
    return (
        f"<p>{_e(offer.study)} · for {_e(offer.person)}</p>"
        f"<p>{_e(offer.about)}</p>"
        f'<form method="post">{inputs}'
        f'<button type="submit" name="confirm" value="1" style="background:#007a5a;color:#fff;border:0;'
        f'padding:10px 16px;border-radius:4px;font-weight:bold">{_e(offer.label)}</button></form>'
        '<p style="font-size:12px;color:#616061">Nothing is done until you press the button. The link works '
        "once.</p>"
    )


def _input(item: Any, values: dict[str, str]) -> str:
    style = "display:block;width:100%;margin:4px 0 12px;padding:6px;box-sizing:border-box"
    if isinstance(item, m.TextInput):
        value = values.get(item.id, item.initial or "")
        label = f"<label>{_e(item.label)}{'' if not item.optional else ' (optional)'}"
        if item.multiline:
            area = f'<textarea name="{_e(item.id)}" rows="3" style="{style}">{_e(value)}</textarea>'
            return f"{label}{area}</label>"
        return f'{label}<input name="{_e(item.id)}" value="{_e(value)}" style="{style}"></label>'
    if isinstance(item, m.ChoiceInput):
        chosen = values.get(item.id, item.initial or "")
        options = "".join(
            f'<option value="{_e(o.value)}"{" selected" if o.value == chosen else ""}>{_e(o.label)}</option>'
            for o in item.options
        )
        return (
            f'<label>{_e(item.label)}<select name="{_e(item.id)}" style="{style}">{options}</select></label>'
        )
    if isinstance(item, m.DateInput):
        value = values.get(item.id, item.initial or "")
        field = f'<input type="date" name="{_e(item.id)}" value="{_e(value)}" style="{style}">'
        return f"<label>{_e(item.label)}{field}</label>"
    if isinstance(item, m.Section):
        return "".join(f"<p>{_e(m.plain(line))}</p>" for line in item.lines)
    return ""


def _result_html(result: Any, zone: ZoneInfo) -> str:
    try:
        message = views.reply(result)
    except TypeError:
        return "<p>Done.</p>"
    return blocks_html(message.blocks, zone, lambda button: None)
