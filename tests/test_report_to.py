"""`report_to:` and the minutes' .ics, over a real SMTP server on loopback (aiosmtpd): the weekly report
reaches a plan person and a plain address by e-mail with its chart inline, once however often the tick
runs; an address of another domain is a plan error; the e-mail telling an owner of their new action items
carries them as an .ics whose UIDs and SEQUENCE are the calendar feed's."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

import icalendar
import pytest
from sqlmodel import Session, select

from bot import minutes, outbox
from bot.clock import ManualClock
from bot.config import EXAMPLE_PLAN
from bot.db import run_in_session
from bot.models import ActionItem, OutboxMessage
from bot.outbox import DeliveryWorker
from bot.plan import PlanInvalid, load_plan
from bot.studies import apply_plan, find_requester
from schedules import jobs
from tests.payloads import ALICE
from tests.test_calendar_feed import address_sent, clock, events, feed, url, valid  # noqa: F401 (fixtures)
from tests.test_email import worker_with_email
from tests.test_outbox import notifier_for

MONDAY_0805 = datetime(2026, 11, 23, 13, 5, tzinfo=UTC)  # the weekly report's moment in New York
REPORT_TO = "report_to: [dev, QA@cro.example]\n"


def with_report_to(engine, lines: str = REPORT_TO) -> None:
    run_in_session(engine, apply_plan, plan=load_plan(EXAMPLE_PLAN.read_text() + lines), actor="test")


def ticking(engine, worker: DeliveryWorker, at: ManualClock) -> None:
    jobs.configure(jobs.Runtime(engine=engine, worker=worker, clock=at))
    jobs.tick()


def inline_chart(mail: EmailMessage) -> tuple[str, bytes]:
    """The report's HTML and the PNG it shows, once the HTML names the image by its Content-ID."""
    (related,) = [p for p in mail.walk() if p.get_content_type() == "multipart/related"]
    html_part, image = related.iter_parts()
    assert html_part.get_content_type() == "text/html" and image.get_content_type() == "image/png"
    cid = image["Content-ID"].strip("<>")
    html = html_part.get_content()
    assert f'src="cid:{cid}"' in html
    assert image.get_content_disposition() == "inline"
    return html, image.get_content()


def test_report_to_people_and_addresses_get_the_weekly_report_with_its_chart_inline_once(
    engine, study, fake_slack, smtp_server
):
    with_report_to(engine)
    monday = ManualClock(MONDAY_0805)
    worker = worker_with_email(engine, monday, fake_slack, smtp_server)
    ticking(engine, worker, monday)
    monday.advance(hours=1)
    ticking(engine, worker, monday)  # a second tick, and a second drain: nothing more

    for address in ("dev@acme.example", "qa@cro.example"):
        reports = [m for m in smtp_server.mailbox.to(address) if "report" in m["Subject"].lower()]
        assert len(reports) == 1, [m["Subject"] for m in smtp_server.mailbox.to(address)]
        (mail,) = reports
        assert mail.get_content_type() == "multipart/alternative"
        html, png = inline_chart(mail)
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and "ACME-201" in html
        text = mail.get_body(("plain",)).get_content()
        assert "report_to:" in text  # the footer says why they get it
    assert str(smtp_server.mailbox.to("dev@acme.example")[0]["To"]).startswith("Dev Sharma")
    assert any(p.channel == "C0STUDY" and (p.key or "").startswith("report:") for p in fake_slack.posted)
    with Session(engine) as session:
        mailed = [r for r in session.exec(select(OutboxMessage)) if r.recipient_kind == "email"]
    assert sorted((r.recipient, r.state) for r in mailed) == [
        ("dev@acme.example", "sent"),
        ("qa@cro.example", "sent"),
    ]


def test_report_to_gets_the_close_out_partnership_review_by_email_once(
    engine, study, fake_slack, smtp_server
):
    ending = EXAMPLE_PLAN.read_text().replace("  id: ACME-201\n", "  id: ACME-201\n  end: 2026-11-27\n")
    run_in_session(engine, apply_plan, plan=load_plan(ending + REPORT_TO), actor="test")
    monday = ManualClock(datetime(2026, 11, 30, 14, 0, tzinfo=UTC))  # 09:00 in New York, after the end
    worker = worker_with_email(engine, monday, fake_slack, smtp_server)
    ticking(engine, worker, monday)
    monday.advance(hours=1)
    ticking(engine, worker, monday)

    (review,) = smtp_server.mailbox.to("qa@cro.example")  # only report_to: writes to this address
    assert review["Message-ID"] != smtp_server.mailbox.to("dev@acme.example")[0]["Message-ID"]
    assert len(smtp_server.mailbox.to("dev@acme.example")) == 1
    assert "ACME-201" in review.get_body(("plain",)).get_content()
    with Session(engine) as session:
        mailed = {r.key: r.state for r in session.exec(select(OutboxMessage)) if r.recipient_kind == "email"}
    assert mailed == {
        "close-out:ACME-201:e-mail:dev@acme.example": "sent",
        "close-out:ACME-201:e-mail:qa@cro.example": "sent",
    }
    assert any((p.key or "") == "close-out:ACME-201" and p.channel == "C0STUDY" for p in fake_slack.posted)


def test_without_smtp_report_to_gets_nothing_and_the_log_says_so_once(engine, study, fake_slack, caplog):
    with_report_to(engine)
    monday = ManualClock(MONDAY_0805)
    outbox._told_email_is_off.clear()
    worker = DeliveryWorker(engine, notifier_for(fake_slack), monday)
    with caplog.at_level(logging.WARNING, logger="cadence.outbox"):
        ticking(engine, worker, monday)
    with Session(engine) as session:
        mailed = [r for r in session.exec(select(OutboxMessage)) if r.recipient_kind == "email"]
    assert len(mailed) == 2 and {r.state for r in mailed} == {"cancelled"}
    assert len([r for r in caplog.records if "report_to: gets nothing" in r.getMessage()]) == 1
    assert not any("@" in p.channel for p in fake_slack.posted)


def test_an_address_of_another_domain_is_refused_naming_the_allowed_ones(engine, study):
    text = EXAMPLE_PLAN.read_text() + "report_to: [dev, boss@gmail.example, nobody]\n"
    with pytest.raises(PlanInvalid) as refused:
        load_plan(text)
    errors = {e.path: e.message for e in refused.value.errors}
    assert set(errors) == {"report_to[1]", "report_to[2]"}
    assert "boss@gmail.example" in errors["report_to[1]"]
    assert "allowed domains: acme.example, cro.example" in errors["report_to[1]"]
    assert "unknown person 'nobody'" in errors["report_to[2]"]


def test_the_minutes_email_carries_the_owners_new_due_dates_as_the_feeds_events(
    url,  # noqa: F811
    engine,
    fake_slack,
    smtp_server,
    clock,  # noqa: F811
):
    now = clock.now()
    notes = "Weekly call\nACTION @carla: file the IRB amendment by 2026-12-11\nACTION @raj: call site 4"
    raj = run_in_session(engine, find_requester, platform="console", user_id="raj", study_key="ACME-201")
    drafted = run_in_session(engine, minutes.draft_minutes, requester=raj, text=notes, now=now)
    run_in_session(engine, minutes.post_minutes, requester=raj, minutes_id=drafted.minutes_id, now=now)
    worker_with_email(engine, clock, fake_slack, smtp_server).drain()

    (mail,) = smtp_server.mailbox.to("carla@acme.example")  # Carla prefers e-mail
    (part,) = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "PUBLISH" and part.get_filename().endswith(".ics")
    sent = icalendar.Calendar.from_ical(part.get_content())
    assert str(sent["METHOD"]) == "PUBLISH"
    with Session(engine) as session:
        item = session.exec(select(ActionItem).where(ActionItem.text.contains("IRB"))).one()  # type: ignore[union-attr]
    uid = f"action-{item.id}@acme-201.cadence"
    (event,) = events(sent).values()  # only her dated item: Raj's has no date
    assert str(event["UID"]) == uid and event.decoded("DTSTART") == date(2026, 12, 11)

    clock.advance(hours=2)
    study_feed, _ = address_sent(url, engine, fake_slack, clock, ALICE, "calendar study")
    served = valid(feed(study_feed))[uid]
    assert served["SEQUENCE"] == event["SEQUENCE"] == 0
    assert served.decoded("DTSTAMP") == event.decoded("DTSTAMP") == now
    assert str(served["SUMMARY"]) == str(event["SUMMARY"])
    assert timedelta(0) == served.decoded("DTEND") - event.decoded("DTEND")
