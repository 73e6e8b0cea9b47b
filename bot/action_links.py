"""An e-mail's buttons as links: `<CADENCE_PUBLIC_URL>/act/<token>` lets one person do one action once.

- A token is 256 random bits; only its SHA-256 is kept, so reading the table opens nothing.
- It lasts VALID (a week) and is used once: the use is claimed by one conditional UPDATE in the same
  transaction as the action, so two clicks (or two instances) cannot both act.
- Opening the link does nothing (mail scanners follow links): the page says what will be done and
  offers a button; the POST of that button acts, through the same core code a chat button runs
  (bot.forms), as the person the e-mail went to.
- A message sent again (a retry) mints its links again under the same key: the newer e-mail's links
  replace the older ones, so an action is still offered once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from bot import directory, forms
from bot.commands import Invocation
from bot.db import insert_once
from bot.errors import CadenceError
from bot.messages import Button, Form
from bot.models import ActionLink

VALID = timedelta(days=7)
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
# Buttons an e-mail offers as links: those that act at once, and those that open a form a web page can show.
FORM_OPENERS = frozenset({"checkin_answer"}) | forms.FORM_BUTTONS


def offered(button: Button) -> bool:
    """Whether an e-mail offers this button as a link (Remind me in 2h, say, makes sense in chat only)."""
    base = forms.button_base(button.action)
    return base in forms.BUTTONS or base in FORM_OPENERS


def address(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/act/{token}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint(
    session: Session,
    *,
    key: str,
    study_id: int,
    person_id: int,
    button: Button,
    about: str,
    now: datetime,
) -> str:
    """A new token for `button` of the e-mail keyed `key`, for the person it goes to; it replaces the token
    an earlier send of the same e-mail had for the same button."""
    session.execute(delete(ActionLink).where(col(ActionLink.expires_at) < now - VALID))
    token = secrets.token_urlsafe(32)
    link_key = f"{key}|{button.action}|{button.value}"
    values = {
        "key": link_key,
        "token_hash": _hash(token),
        "study_id": study_id,
        "person_id": person_id,
        "action": button.action,
        "value": button.value,
        "label": button.label,
        "about": about[:500],
        "created_at": now,
        "expires_at": now + VALID,
        "used_at": None,
    }
    if not insert_once(session, ActionLink, values):
        session.execute(
            update(ActionLink)
            .where(col(ActionLink.key) == link_key)
            .values(token_hash=values["token_hash"], expires_at=values["expires_at"], used_at=None)
        )
    return token


class LinkRefused(CadenceError):
    """A link that cannot act: unknown, expired or used."""


@dataclass(frozen=True)
class Offer:
    """What a link will do, for the page to show before anyone presses its button."""

    label: str
    about: str
    person: str
    study: str
    form: Form | None  # the inputs to fill in first (a check-in's answers, a resolution note)


def _valid(session: Session, token: str, now: datetime) -> ActionLink:
    found = (
        session.exec(select(ActionLink).where(ActionLink.token_hash == _hash(token))).first()
        if TOKEN.fullmatch(token)
        else None
    )
    if found is None:
        raise LinkRefused(
            "This link is not one Cadence knows.",
            hint="A newer e-mail may have replaced it: use the link in the latest one.",
        )
    if found.used_at is not None:
        raise LinkRefused("This link has been used already, so nothing more was done.")
    if found.expires_at < now:
        raise LinkRefused(
            "This link has expired, so nothing was done.", hint="Links in Cadence's e-mails last a week."
        )
    return found


def _who(session: Session, link: ActionLink) -> tuple[directory.StudyView, directory.Contact]:
    study = directory.current(session).studies.get(link.study_id)
    person = study.person(link.person_id) if study is not None else None
    if study is None or person is None or not person.email:
        raise LinkRefused("This link's person is no longer in the study's plan, so nothing was done.")
    return study, person


def _invocation(study: directory.StudyView, person: directory.Contact, now: datetime) -> Invocation:
    assert person.email is not None
    return Invocation(platform="email", user_id=person.email.lower(), study_key=study.key, now=now)


def offer(session: Session, *, token: str, now: datetime) -> Offer:
    """What the link would do (nothing is changed: the caller rolls the session back)."""
    link = _valid(session, token, now)
    study, person = _who(session, link)
    return Offer(link.label, link.about, person.name, study.key, _form(session, link, study, person, now))


def _form(
    session: Session, link: ActionLink, study: directory.StudyView, person: directory.Contact, now: datetime
) -> Form | None:
    from bot import views
    from bot.views.buttons import form_for_button

    base = forms.button_base(link.action)
    if base == "checkin_answer":
        result = forms.checkin_button(
            session, name="checkin.form", value=link.value, invocation=_invocation(study, person, now)
        )
        return views.form(result)
    if base in forms.FORM_BUTTONS:
        return form_for_button(link.action, link.value)
    return None


@dataclass(frozen=True)
class Performed:
    """What a link did: the core result, and the timezone of the person it was done for (the page shows
    its times in it)."""

    result: Any
    timezone: str


def perform(session: Session, *, token: str, fields: dict[str, Any], now: datetime) -> Performed:
    """Do what the link offers, once, as its person (for the page to show). The use and the action commit
    together: an action refused leaves the link usable."""
    link = _valid(session, token, now)
    study, person = _who(session, link)
    claimed = session.execute(
        update(ActionLink)
        .where(col(ActionLink.id) == link.id, col(ActionLink.used_at).is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkRefused("This link has been used already, so nothing more was done.")
    invocation = _invocation(study, person, now)
    form = _form(session, link, study, person, now)
    if form is not None:
        result = forms.submit_form(
            session, form=form.id, meta=form.meta, fields=fields, invocation=invocation
        )
    else:
        result = forms.press_button(session, action_id=link.action, value=link.value, invocation=invocation)
    return Performed(result, person.timezone)
