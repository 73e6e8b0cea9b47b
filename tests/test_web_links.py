"""One-time sign-in links: used once even when two instances take the same link at the same moment."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlmodel import Session, select

from bot.db import run_in_session
from bot.models import OutboxMessage
from bot.studies import find_requester
from bot.web_links import LINK_VALID, link_usable, send_link, use_link

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def a_link(engine, handle: str = "mei") -> str:
    requester = run_in_session(
        engine, find_requester, platform="console", user_id=handle, study_key="ACME-201"
    )
    run_in_session(engine, send_link, requester=requester, now=NOW, web_url="https://cadence.example.org/")
    with Session(engine) as session:
        (sent,) = session.exec(select(OutboxMessage).where(OutboxMessage.notice_kind == "signin_link")).all()
    assert sent.payload["url"].startswith("https://cadence.example.org/app/signin/")
    return sent.payload["url"].rsplit("/", 1)[1]


def test_two_uses_at_the_same_moment_sign_in_once(engine, study):
    token = a_link(engine)
    start = threading.Barrier(8)
    results = []

    def use() -> None:
        start.wait()
        results.append(run_in_session(engine, use_link, token=token, now=NOW))

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    signed = [r for r in results if r is not None]
    assert len(results) == 8 and len(signed) == 1
    assert (signed[0].actor, signed[0].handle, signed[0].study_key) == ("console:mei", "mei", "ACME-201")


def test_a_link_is_good_until_its_tenth_minute_and_shaped_tokens_only(engine, study):
    token = a_link(engine)
    assert run_in_session(engine, link_usable, token=token, now=NOW + LINK_VALID - (LINK_VALID / 600))
    assert not run_in_session(engine, link_usable, token=token, now=NOW + LINK_VALID)
    assert run_in_session(engine, use_link, token=token, now=NOW + LINK_VALID) is None
    for odd in ("", "x" * 43 + "/", token[:-1], token + "A", "' OR 1=1 --"):
        assert run_in_session(engine, use_link, token=odd, now=NOW) is None
