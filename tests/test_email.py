"""E-mail through the outbox to a real SMTP server on loopback (aiosmtpd): who gets e-mail, what it holds,
its headers, a 4xx then success, a 5xx told to the admins, and a worker killed mid-send."""

from __future__ import annotations

import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot import audit, directory
from bot.clock import ManualClock
from bot.db import run_in_session
from bot.models import Person
from bot.outbox import DeliveryWorker, Destination, digest_key, enqueue
from bot.replies import Notice
from handlers.email.notifier import email_notifier, message_id
from schedules import jobs
from tests import worker_process
from tests.test_outbox import notifier_for, person_id, rows

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday: at work in Rome, New York and Chicago
MAIL_FROM = worker_process.MAIL_FROM
PUBLIC_URL = worker_process.PUBLIC_URL


def mailer(engine, clock, smtp_server):
    return email_notifier(engine, clock, smtp_url=smtp_server.url, mail_from=MAIL_FROM, public_url=PUBLIC_URL)


def worker_with_email(engine, clock, fake_slack, smtp_server) -> DeliveryWorker:
    return DeliveryWorker(engine, notifier_for(fake_slack), clock, mailer=mailer(engine, clock, smtp_server))


def change(engine, handle, **values) -> None:
    """A person's row changed as a new plan would change it (the directory sees it at once)."""

    def write(session):
        person = session.get(Person, person_id(engine, handle))
        for name, value in values.items():
            setattr(person, name, value)
        directory.revised(session, person.study_id)

    run_in_session(engine, write)


def own(engine, clock, key, *, handle="carla", text=None, due_at=None) -> None:
    """A message Cadence starts itself to `handle`, as due work queues it."""

    def write(session):
        enqueue(
            session,
            key=key,
            to=Destination.person(person_id(engine, handle)),
            notice=Notice("text", {"text": text or f"about {key}"}),
            now=clock.now(),
            study_id=1,
            due_at=due_at,
            started_by_cadence=True,
        )

    run_in_session(engine, write)


def test_carla_who_prefers_email_gets_her_direct_message_by_email(engine, study, fake_slack, smtp_server):
    clock = ManualClock(T0)
    own(engine, clock, "ask:carla", text="The IRB letter <b>is</b> due & pending")
    own(engine, clock, "ask:raj", handle="raj")
    worker_with_email(engine, clock, fake_slack, smtp_server).drain()

    (mail,) = smtp_server.mailbox.received
    assert fake_slack.posted_keys() == ["ask:raj"]  # Raj on Slack as before; Carla not by DM
    assert mail["To"].addresses[0].addr_spec == "carla@acme.example"
    assert mail["From"].addresses[0].addr_spec == "cadence@acme.example"
    assert mail["Message-ID"] == message_id("ask:carla", MAIL_FROM)
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["List-Unsubscribe"].startswith("<mailto:alice@acme.example,raj@cro.example?subject=")
    assert mail["Date"].datetime == T0
    assert mail["Subject"] == "The IRB letter <b>is</b> due & pending"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "The IRB letter <b>is</b> due & pending" in text and "Replies to this e-mail are not read" in text
    assert "The IRB letter &lt;b&gt;is&lt;/b&gt; due &amp; pending" in html
    row = rows(engine)["ask:carla"]
    assert (row.state, row.platform_channel) == ("sent", "mail:carla@acme.example")


def test_someone_no_chat_knows_is_written_to_by_email(engine, study, fake_slack, smtp_server):
    change(engine, "ben", slack_id=None)  # the plan names Ben by e-mail alone, and Slack found no one
    clock = ManualClock(T0)
    own(engine, clock, "ask:ben", handle="ben")
    worker_with_email(engine, clock, fake_slack, smtp_server).drain()
    assert [m["To"].addresses[0].addr_spec for m in smtp_server.mailbox.received] == ["ben@acme.example"]
    assert fake_slack.posted_keys() == []


def test_without_smtp_carla_gets_a_chat_dm_and_the_log_says_so_once(engine, study, fake_slack, caplog):
    clock = ManualClock(T0)
    own(engine, clock, "ask:1")
    own(engine, clock, "ask:2", due_at=T0 + timedelta(minutes=30))
    worker = DeliveryWorker(engine, notifier_for(fake_slack), clock)
    from bot import outbox

    outbox._told_email_is_off.clear()
    worker.drain()
    clock.advance(minutes=30)
    worker.drain()
    assert fake_slack.posted_keys() == ["ask:1", "ask:2"]
    said = [r for r in caplog.records if "SMTP_URL is not set" in r.getMessage()]
    assert len(said) == 1


def test_several_due_together_come_as_one_email_digest(engine, study, fake_slack, smtp_server):
    clock = ManualClock(T0)
    own(engine, clock, "ask:1")
    own(engine, clock, "ask:2", due_at=T0 + timedelta(minutes=5))
    worker_with_email(engine, clock, fake_slack, smtp_server).drain()
    (mail,) = smtp_server.mailbox.received
    assert mail["Subject"].startswith("2 things from Cadence")
    assert mail["Message-ID"] == message_id(digest_key(["ask:1", "ask:2"]), MAIL_FROM)
    text = mail.get_body(("plain",)).get_content()
    assert "about ask:1" in text and "about ask:2" in text


def test_carlas_checkin_prompt_by_the_tick_is_an_email_with_an_answer_link(
    engine, study, fake_slack, smtp_server
):
    rome_0900 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    clock = ManualClock(rome_0900)
    jobs.configure(
        jobs.Runtime(
            engine=engine, worker=worker_with_email(engine, clock, fake_slack, smtp_server), clock=clock
        )
    )
    jobs.tick()
    (mail,) = smtp_server.mailbox.to("carla@acme.example")
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    assert "check-in" in mail["Subject"].lower()
    assert f'href="{PUBLIC_URL}/act/' in html and "Answer" in html
    assert f"Answer: {PUBLIC_URL}/act/" in text
    assert "D01CARLA" not in [p.channel for p in fake_slack.posted]


def test_a_4xx_from_the_server_is_tried_again_and_then_sent_once(engine, study, fake_slack, smtp_server):
    clock = ManualClock(T0)
    smtp_server.mailbox.answer = lambda attempt: "451 4.3.0 Try again later" if attempt == 1 else None
    own(engine, clock, "ask:carla")
    worker = worker_with_email(engine, clock, fake_slack, smtp_server)
    worker.drain()
    row = rows(engine)["ask:carla"]
    assert row.state == "pending" and "smtp 451" in row.last_error and row.next_attempt_at > T0
    clock.set(row.next_attempt_at)
    worker.drain()
    assert len(smtp_server.mailbox.received) == 1 and rows(engine)["ask:carla"].state == "sent"


def test_a_5xx_from_the_server_fails_at_once_and_the_admins_hear(engine, study, fake_slack, smtp_server):
    clock = ManualClock(T0)
    smtp_server.mailbox.answer = lambda attempt: "550 5.1.1 No such mailbox"
    own(engine, clock, "ask:carla")
    worker = worker_with_email(engine, clock, fake_slack, smtp_server)
    worker.drain()
    row = rows(engine)["ask:carla"]
    assert (row.state, row.attempts) == ("failed", 1) and row.last_error.startswith("smtp 550")
    reports = [p for p in fake_slack.posted if (p.key or "").startswith("failed:ask:carla")]
    assert sorted(p.channel for p in reports) == ["D01ALICE", "D02RAJ"]
    assert "could not be delivered to Carla Rossi (e-mail to carla@acme.example): smtp 550" in reports[0].text
    with Session(engine) as session:
        [event] = audit.events_for(session, study_id=1, action="delivery.failed")
        assert event.subject == "ask:carla"
    clock.advance(hours=3)
    worker.drain()
    assert smtp_server.mailbox.tries == 1  # never tried again


def test_a_worker_killed_mid_send_sends_the_rest_once_and_the_one_in_flight_with_the_same_message_id(
    engine, database_url, study, fake_slack, smtp_server
):
    clock = ManualClock(T0)
    people = ["carla", "alice", "ben", "dev"]
    for handle in people:
        change(engine, handle, prefers="email")  # they all prefer e-mail for this test
        own(engine, clock, f"ask:{handle}", handle=handle)
    mailbox = smtp_server.mailbox
    mailbox.hang_after_keeping = release = threading.Event()

    first = worker_process.start(database_url, fake_slack.url, clock.now(), smtp_server.url)
    assert mailbox.kept.wait(30)  # the server took the first e-mail; the worker never hears so
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    mailbox.hang_after_keeping = None
    release.set()
    time.sleep(0.1)
    (in_flight,) = mailbox.received
    assert rows(engine)[f"ask:{people[0]}"].state == "sending"

    second = worker_process.start(
        database_url, fake_slack.url, clock.now() + timedelta(minutes=10), smtp_server.url
    )
    assert second.wait(60) == 0
    ids = [m["Message-ID"] for m in mailbox.received]
    # Every e-mail reached its person; only the one in flight at the kill came twice, under one Message-ID.
    assert sorted(ids) == sorted(
        [message_id(f"ask:{h}", MAIL_FROM) for h in people] + [in_flight["Message-ID"]]
    )
    assert ids.count(in_flight["Message-ID"]) == 2
    assert all(rows(engine)[f"ask:{h}"].state == "sent" for h in people)


def link_in(mail, label: str) -> str:
    text = mail.get_body(("plain",)).get_content()
    (line,) = [ln for ln in text.splitlines() if ln.strip().startswith(f"{label}: {PUBLIC_URL}/act/")]
    return line.split(": ", 1)[1].strip()


def ask(url: str, method: str = "GET", form: dict | None = None) -> tuple[int, str, Any]:
    import urllib.error
    import urllib.parse
    import urllib.request

    data = urllib.parse.urlencode(form or {}).encode() if method == "POST" else None
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode(), answer.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers


def test_an_acknowledge_link_acts_once_on_post_and_never_on_get(engine, study, fake_slack, smtp_server):
    from bot import escalation
    from bot.studies import find_requester
    from handlers.email.act import action_routes
    from handlers.server import build_asgi
    from tests.conftest import serve_in_thread

    clock = ManualClock(T0)
    change(engine, "raj", prefers="email")  # on the first level of the escalation path, with Ben
    alice = run_in_session(engine, find_requester, platform="console", user_id="alice", study_key="ACME-201")
    run_in_session(
        engine,
        escalation.raise_issue,
        requester=alice,
        severity="medium",
        summary="Kit <script>x</script>",
        now=T0,
    )
    worker_with_email(engine, clock, fake_slack, smtp_server).drain()
    (mail,) = smtp_server.mailbox.to("raj@cro.example")
    address = "raj@cro.example"
    link = link_in(mail, "Acknowledge")
    url, stop = serve_in_thread(build_asgi(None, engine, routes=action_routes(engine, clock)))
    try:
        here = link.replace(PUBLIC_URL, url)
        for _ in range(2):  # a mail scanner opening the link twice does nothing
            status, page, headers = ask(here)
            assert status == 200 and "Acknowledge" in page and '<form method="post">' in page
            assert "&lt;script&gt;" in page and "<script>" not in page
            assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
        with Session(engine) as session:
            assert not audit.events_for(session, study_id=1, action="escalation.acknowledged")
        status, page, _ = ask(here, "POST", {"confirm": "1"})
        assert status == 200, page
        assert "16:00 CET" in page  # the result in Raj's own time (Warsaw), not the server's UTC
        with Session(engine) as session:
            [event] = audit.events_for(session, study_id=1, action="escalation.acknowledged")
            assert event.actor == f"email:{address}"
        status, page, _ = ask(here, "POST", {"confirm": "1"})
        assert status == 409 and "used already" in page
        status, page, _ = ask(url + "/act/" + "A" * 43)
        assert status == 410 and "not one Cadence knows" in page
    finally:
        stop()


def test_a_link_expires_after_a_week(engine, study, fake_slack, smtp_server):
    from bot import action_links
    from bot.messages import Button

    clock = ManualClock(T0)
    token = run_in_session(
        engine,
        action_links.mint,
        key="k",
        study_id=1,
        person_id=person_id(engine, "carla"),
        button=Button("action_done", "1", "Done"),
        about="x",
        now=T0,
    )
    with Session(engine) as session:
        assert action_links.offer(session, token=token, now=T0 + timedelta(days=6)).label == "Done"
        try:
            action_links.offer(session, token=token, now=T0 + action_links.VALID + timedelta(seconds=1))
            raise AssertionError("an expired link was offered")
        except action_links.LinkRefused as refused:
            assert "expired" in refused.message
    del clock


def answers_of(engine, handle: str) -> list:
    from sqlmodel import select

    from bot.models import CheckinAnswer

    with Session(engine) as session:
        return list(
            session.exec(select(CheckinAnswer).where(CheckinAnswer.person_id == person_id(engine, handle)))
        )


def test_carla_answers_her_checkin_from_the_emails_link(engine, study, fake_slack, smtp_server):
    from handlers.email.act import action_routes
    from handlers.server import build_asgi
    from tests.conftest import serve_in_thread

    clock = ManualClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))  # Monday 09:00 in Rome
    worker = worker_with_email(engine, clock, fake_slack, smtp_server)
    jobs.configure(jobs.Runtime(engine=engine, worker=worker, clock=clock))
    jobs.tick()
    (mail,) = smtp_server.mailbox.to("carla@acme.example")
    url, stop = serve_in_thread(build_asgi(None, engine, routes=action_routes(engine, clock)))
    try:
        here = link_in(mail, "Answer").replace(PUBLIC_URL, url)
        status, page, _ = ask(here)
        assert status == 200 and "What moved since last week?" in page and 'name="q0"' in page
        assert answers_of(engine, "carla") == []  # opening the link answered nothing
        status, page, _ = ask(here, "POST", {"status": "", "q0": "x"})
        assert status == 400 and "Choose how it is going" in page  # nothing done: the link still works
        answer = {"status": "at_risk", "q0": "IRB letter <pending>", "q1": "amendment", "q2": "IRB delay"}
        status, page, _ = ask(here, "POST", answer)
        assert status == 200, page
        (saved,) = answers_of(engine, "carla")
        assert saved.answers[0] == "IRB letter <pending>"
        assert ask(here, "POST", answer)[0] == 409  # once
    finally:
        stop()
    worker.drain()  # the prompt's update ("answered") has no e-mail to change: nothing more is sent
    assert len(smtp_server.mailbox.to("carla@acme.example")) == 1


def test_cadence_serve_emails_carlas_checkin_prompt_once_through_a_restart(
    database_url, tmp_path, fake_slack, smtp_server
):
    """The issue's check: `cadence serve` with SMTP_URL: Carla's prompt arrives as an e-mail with an Answer
    link, once, though the server restarts in the middle; the link's page is served by the same server."""
    import os

    import time_machine

    from tests.conftest import moving_the_date
    from tests.test_cli import serving, slack_env

    monday = datetime(2026, 11, 23, 8, 5, tzinfo=UTC)  # 09:05 in Rome
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / "sitecustomize.py").write_text(moving_the_date(monday.isoformat()))
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CADENCE_", "TEAMS_", "SMTP_"))
    }
    env = slack_env(clean | {"DATABASE_URL": database_url}, fake_slack, CADENCE_TICK_SECONDS="0.3")
    env |= {"SMTP_URL": smtp_server.url, "CADENCE_MAIL_FROM": MAIL_FROM, "CADENCE_PUBLIC_URL": PUBLIC_URL}
    env["PYTHONPATH"] = os.pathsep.join([str(moved), worker_process_path()])

    def carlas() -> list:
        return smtp_server.mailbox.to("carla@acme.example")

    with time_machine.travel(monday, tick=True):
        for _ in range(2):  # a restart in the middle
            with serving(env) as (url, output):
                deadline = time.monotonic() + 20
                while not carlas() and time.monotonic() < deadline:
                    time.sleep(0.1)
                time.sleep(1)  # a few more ticks
                (mail,) = carlas()
                status, page, _ = ask(link_in(mail, "Answer").replace(PUBLIC_URL, url))
                assert status == 200 and "What moved since last week?" in page
    assert len(carlas()) == 1
    assert "D01CARLA" not in [p.channel for p in fake_slack.posted]


def worker_process_path() -> str:
    from tests.conftest import child_pythonpath

    return child_pythonpath()


def test_over_starttls_with_a_password_and_never_in_clear(engine, study, fake_slack, tmp_path, monkeypatch):
    from tests.smtp_server import SmtpServer, self_signed

    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", cert)  # the client trusts the test's certificate
    server = SmtpServer(tls=(cert, key), login=("cadence", "p@ss:word/1")).start()
    try:
        clock = ManualClock(T0)
        own(engine, clock, "ask:carla")
        worker_with_email(engine, clock, fake_slack, server).drain()
        assert rows(engine)["ask:carla"].state == "sent" and len(server.mailbox.received) == 1
        wrong = SmtpServer(tls=(cert, key), login=("cadence", "another")).start()
        try:
            own(engine, clock, "ask:carla:2", due_at=T0 + timedelta(hours=1))
            clock.advance(hours=1)
            worker = worker_with_email(engine, clock, fake_slack, wrong)  # SMTP_URL says "another"
            wrong.login = ("cadence", "right")  # the server wants another: 535, permanent
            worker.drain()
            row = rows(engine)["ask:carla:2"]
            assert row.state == "failed" and row.last_error.startswith("smtp 535"), row.last_error
            assert "another" not in row.last_error
        finally:
            wrong.stop()
    finally:
        server.stop()


def this_machines_address() -> str | None:
    """An address of this machine that is not loopback (None when it has none)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the route
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_plain_smtp_is_refused_off_loopback_and_nothing_is_sent_in_clear(engine, study, fake_slack):
    import pytest

    from tests.smtp_server import SmtpServer

    address = this_machines_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    server = SmtpServer(host=address).start()  # offers no STARTTLS
    try:
        clock = ManualClock(T0)
        own(engine, clock, "ask:carla")
        worker_with_email(engine, clock, fake_slack, server).drain()
        row = rows(engine)["ask:carla"]
        assert row.state == "failed" and "offers no STARTTLS" in row.last_error
        assert server.mailbox.tries == 0 and server.mailbox.received == []
    finally:
        server.stop()


def test_smtp_url_forms():
    from handlers.email.notifier import SmtpServer, SmtpUrlInvalid

    assert SmtpServer.from_url("smtp://mail.acme.example") == SmtpServer("mail.acme.example", 587, False)
    assert SmtpServer.from_url("smtps://u%40acme:p%2Fw@mail.acme.example") == SmtpServer(
        "mail.acme.example", 465, True, "u@acme", "p/w"
    )
    for wrong in ("http://mail.acme.example", "smtp://", "mail.acme.example:587"):
        try:
            SmtpServer.from_url(wrong)
            raise AssertionError(f"{wrong} was taken")
        except SmtpUrlInvalid:
            pass


def test_a_question_for_carla_who_prefers_email_is_emailed_to_her_not_posted_in_the_channel(
    engine, study, fake_slack, smtp_server
):
    from handlers.console.console import ConsoleSession

    clock = ManualClock(T0)
    worker = worker_with_email(engine, clock, fake_slack, smtp_server)
    ben = ConsoleSession(engine, study_key="ACME-201", handle="ben", clock=clock)
    assert not ben.answer("/ask Has the IRB approved the amendment <v2>?").failed
    worker.drain()
    (mail,) = smtp_server.mailbox.to("carla@acme.example")
    text = mail.get_body(("plain",)).get_content()
    assert "Has the IRB approved the amendment <v2>?" in text
    assert f"Not mine: {PUBLIC_URL}/act/" in text  # her buttons, as links
    assert "&lt;v2&gt;" in mail.get_body(("html",)).get_content()
    assert not [p for p in fake_slack.posted if p.channel == "C0STUDY" and "IRB" in (p.text or "")]
