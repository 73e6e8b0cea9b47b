"""Finding in Slack the people a plan names by e-mail alone (bot.identities): `users.lookupByEmail` when
the plan is applied, at start and hourly for whoever is still missing; and the profile of whoever
writes to Cadence when Slack gives an id no plan knows."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import directory, identities, outbox
from bot.db import run_in_session
from bot.errors import DatabaseBusy

log = logging.getLogger("cadence.slack.identify")
ASK_AGAIN_AFTER = 600.0  # seconds before the profile of the same stranger is read again


def find_by_email(engine: Engine, client: WebClient, *, single_workspace: bool = True) -> int:
    """Look up each plan person with an e-mail and no Slack id; how many were found (only users of the
    person's own side's workspace count: bot.organisations). With one bot token (`single_workspace`), its
    own workspace counts for a side of which nothing else is known. A rate limit or an outage ends this
    round quietly: the hourly round tries again."""
    found = 0
    own_workspace: str | None = None
    for email in sorted({m.email.casefold() for m in run_in_session(engine, identities.missing_slack_ids)}):
        try:
            user = client.users_lookupByEmail(email=email)["user"]
        except SlackApiError as error:
            reason = error.response.get("error")
            if reason == "users_not_found":
                continue
            log.warning("users.lookupByEmail stopped: %s; the next round tries again", reason)
            break
        except (SlackClientError, OSError) as error:
            log.warning("users.lookupByEmail stopped: %s; the next round tries again", type(error).__name__)
            break
        if user.get("deleted") or user.get("is_bot"):
            continue
        if single_workspace and own_workspace is None:
            own_workspace = _own_workspace(client)
        handles = run_in_session(
            engine,
            identities.found_on_slack,
            email=email,
            user_id=user["id"],
            team_id=user.get("team_id"),
            how="users.lookupByEmail",
            own_workspace=own_workspace,
        )
        if handles:
            log.info("found %s in Slack by e-mail", ", ".join(handles))
        found += len(handles)
    return found


def _own_workspace(client: WebClient) -> str | None:
    try:
        return client.auth_test().get("team_id")
    except (SlackClientError, OSError) as error:
        log.warning("auth.test failed (%s): the bot's own workspace counts for no side", type(error).__name__)
        return None


def recognise_writers(engine: Engine, *, single_workspace: bool = True) -> Callable[..., Awaitable[None]]:
    """Middleware: someone Slack names by an id no plan knows, while a plan still misses someone's id,
    is looked up once (users.info) and recorded when their e-mail is that person's and their workspace
    that person's side's (with one bot token, its own workspace counts for a side of which nothing else
    is known); a known person's workspace (Slack Connect: their own organisation's) is noted when it
    changes."""
    asked: dict[str, float] = {}
    noting: set[asyncio.Task] = set()

    async def middleware(
        body: dict[str, Any],
        context: dict[str, Any],
        client: AsyncWebClient,
        next: Callable[[], Awaitable[None]],
    ) -> None:
        user_id = context.get("user_id")
        known = _known(engine, user_id) if user_id else None
        if user_id and known and not _nothing_to_note(engine, user_id, workspace_of_user(body)):
            # A known person's new workspace is noted beside the answer, never before it.
            task = asyncio.create_task(
                asyncio.to_thread(_note_quietly, engine, user_id, workspace_of_user(body))
            )
            noting.add(task)
            task.add_done_callback(noting.discard)
        elif user_id and not _nothing_to_note(engine, user_id, workspace_of_user(body)):
            stranger = await asyncio.to_thread(_note_quietly, engine, user_id, workspace_of_user(body))
            if stranger and time.monotonic() - asked.get(user_id, -ASK_AGAIN_AFTER) >= ASK_AGAIN_AFTER:
                asked[user_id] = time.monotonic()
                authorized = context.get("authorize_result")
                own = getattr(authorized, "team_id", None) if single_workspace else None
                await _read_profile(engine, client, user_id, workspace_of_user(body), own)
        await next()

    return middleware


def workspace_of_user(body: dict[str, Any]) -> str | None:
    """The workspace of whoever sent a request, as Slack documents it for Slack Connect: an event's
    `user_team`, a click's or form's `user.team_id`, a slash command's `team_id` (commands come only
    through the typist's own workspace's install)."""
    event = body.get("event") or {}
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    command_team = body.get("team_id") if "command" in body else None
    return event.get("user_team") or user.get("team_id") or command_team


def _nothing_to_note(engine: Engine, user_id: str, team_id: str | None) -> bool:
    """A known person writing from the workspace Cadence knows for them: decided from the fresh in-process
    copy, so the usual request costs no worker-thread hop nor query here."""
    view = directory.fresh(engine)
    known = view.memberships("slack", user_id) if view is not None else ()
    return bool(known) and all(not team_id or person.slack_team == team_id for _, person in known)


def _known(engine: Engine, user_id: str) -> bool:
    view = directory.fresh(engine)
    return view is not None and bool(view.memberships("slack", user_id))


def _note_quietly(engine: Engine, user_id: str, team_id: str | None) -> bool:
    """`_note_writer` with a request's brief wait: when the database is busy or out, nothing is noted now
    (the person's next request notes it) and the request goes on."""
    try:
        return outbox.run_then_wake(engine, lambda: None, _note_writer, user_id=user_id, team_id=team_id)
    except DatabaseBusy:
        return False


def _note_writer(session: Session, *, user_id: str, team_id: str | None) -> bool:
    """Note a known person's workspace; True for a stranger who could be a plan person without an id."""
    view = directory.current(session)
    if view.memberships("slack", user_id):
        if team_id:
            identities.note_slack_team(session, user_id=user_id, team_id=team_id)
        return False
    return any(p.email and not p.slack_id for s in view.studies.values() for p in s.people.values())


async def _read_profile(
    engine: Engine, client: AsyncWebClient, user_id: str, writes_from: str | None, own_workspace: str | None
) -> None:
    """The stranger's profile: their e-mail, and their workspace as Slack tells it (else the one the
    request came from)."""
    try:
        user = (await client.users_info(user=user_id))["user"]
    except (SlackClientError, OSError) as error:
        log.info("users.info for a stranger failed (%s); they are asked again later", type(error).__name__)
        return
    email = (user.get("profile") or {}).get("email")
    if email and not user.get("is_bot"):
        await asyncio.to_thread(
            run_in_session,
            engine,
            identities.found_on_slack,
            email=email,
            user_id=user_id,
            team_id=user.get("team_id") or writes_from,
            how="profile",
            own_workspace=own_workspace,
        )
