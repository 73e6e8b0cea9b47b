"""The outbox: every outgoing message is a row first, then sent exactly once, whatever happens.

- `enqueue` writes a row under an idempotency key; the same key twice is a no-op.
- `DeliveryWorker.drain` claims due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, one atomic
  UPDATE on SQLite) so that two workers never hold the same row, sends each through the Notifier,
  and records the outcome row by row, so a crash loses at most the message in flight.
- A claim is a short lease, renewed while its batch is sent. A worker that died mid-send leaves its
  rows to be taken again once the lease runs out, within a minute; before sending such a row again the
  worker asks the platform whether the earlier attempt landed (Slack: the message's metadata carries
  the key), so a kill -9 sends nothing twice.
- What Cadence starts itself to a person (due work's DMs, not what answers or relays a request) comes
  together: the rows of one person due within FOLD_WINDOW of the first go as one digest, keyed from its
  members and fixed before it is sent, so that every member is marked sent with its one delivery and a
  crash sends none of them again; a person hears from Cadence on its own at most once a FOLD_WINDOW and
  DAILY_BUDGET times a day (what is past it waits for the next morning's digest); urgent ones (a
  critical escalation) go at once, on their own.
- 429 waits for Retry-After for that destination only; server and connection errors retry with
  exponential backoff and jitter, a bounded number of times; permanent errors fail at once. Every
  failure is recorded, audited and reported to the study's admins.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, col, select

from bot import audit, calendars, directory, due, received
from bot.clock import Clock
from bot.db import OUTAGE, insert_once, refusal_for, session_scope, waited_in_vain
from bot.directory import Contact
from bot.messages import Home, Message
from bot.models import OutboxMessage
from bot.replies import (
    Attachment,
    DeliveryError,
    Mailer,
    Notice,
    Notifier,
    PermanentFailure,
    Posted,
    RateLimited,
    TemporaryFailure,
)

log = logging.getLogger("cadence.outbox")
T = TypeVar("T")

MAX_ATTEMPTS = 15  # transient failures only; with the backoff below that is about two hours of trying
BACKOFF_BASE = timedelta(seconds=2)
BACKOFF_CAP = timedelta(minutes=15)
# A claim lasts a minute, longer than one send can take (the Web API client times out at 30 s), and is
# renewed while the batch is sent: after a crash, the rows the worker never came to are free a minute later.
LEASE = timedelta(minutes=1)
PARENT_WAIT = timedelta(seconds=5)  # a thread reply waits this long at a time for its parent to be sent
PACE_MARGIN = 1.02  # send this much slower than the rate a workspace-wide limit let through
PACE_FOR = 60.0  # seconds a learned pace holds without a new workspace-wide 429
INTERRUPTED = "interrupted"  # the row's last attempt ended without an answer: it may have landed
# What falls due for one person within this of the first goes with it, as one message; and a person hears
# from Cadence on its own at most once in this long (what falls due meanwhile waits and comes together).
FOLD_WINDOW = timedelta(minutes=10)
DAILY_BUDGET = 6  # messages Cadence starts itself to one person in their day; the rest wait for the next
MOST_FOLDED = 8  # items in one digest: Slack shows 50 blocks in a message, an item takes up to five


@dataclass(frozen=True)
class Destination:
    """Where a message goes: a channel, a person (by DM), or the thread or update of an earlier message."""

    kind: str  # channel, person, email, reply, thread or update
    # channel id; the person's id in the study; an e-mail address; or, for thread and update, the channel id
    target: str
    parent_key: str | None = (
        None  # thread, update: the key of Cadence's message; reply: the chat's message id
    )

    @classmethod
    def channel(cls, channel_id: str) -> Destination:
        return cls("channel", channel_id)

    @classmethod
    def person(cls, person_id: int) -> Destination:
        return cls("person", str(person_id))

    @classmethod
    def email(cls, address: str) -> Destination:
        """An e-mail to an address, whether or not a plan person has it (`report_to:`); sent only when
        SMTP_URL is set."""
        return cls("email", address)

    @classmethod
    def reply(cls, channel_id: str, message_id: str) -> Destination:
        """A reply in the thread of a message Cadence did not send (one that mentioned it, say), by the
        chat's own id for that message."""
        return cls("reply", channel_id, message_id)

    @classmethod
    def thread(cls, parent_key: str) -> Destination:
        return cls("thread", "", parent_key)

    @classmethod
    def update(cls, parent_key: str) -> Destination:
        return cls("update", "", parent_key)


def enqueue(
    session: Session,
    *,
    key: str,
    to: Destination,
    notice: Notice,
    now: datetime,
    study_id: int | None = None,
    due_at: datetime | None = None,
    platform: str = "slack",
    started_by_cadence: bool | None = None,
    at_once: bool = False,
) -> bool:
    """Write a message to send at `due_at` (default: now); False when the key was already there. A message
    to a person waits for their working hours (bot.calendars) unless it goes `at_once`: an answer to their
    own command, or a page. `started_by_cadence`: Cadence's own (a reminder, a chase), which may be folded
    into a digest and waits for the person's turn; by default, whether due work is what queues it."""
    sent_at = due_at or now
    if to.kind == "person" and not at_once and study_id is not None:
        sent_at = _at_work(session, study_id, int(to.target), sent_at)
    values: dict[str, Any] = {
        "key": key,
        "study_id": study_id,
        "platform": platform,
        "recipient_kind": to.kind,
        "recipient": to.target,
        "thread_of": to.parent_key,
        "notice_kind": notice.kind,
        "payload": notice.data,
        "due_at": sent_at,
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": sent_at,
        "created_at": now,
        "started_by_cadence": due.is_due_work(session) if started_by_cadence is None else started_by_cadence,
    }
    inserted = insert_once(session, OutboxMessage, values)
    if inserted:
        session.info["outbox_queued"] = True
        due.changed(session, study_id)  # its App Homes, its chases: the study's works look again
    return inserted


def _at_work(session: Session, study_id: int, person_id: int, moment: datetime) -> datetime:
    """`moment`, or the person's next working moment when they are not at work then."""
    calendar = _calendar_of(session, study_id, person_id)
    return calendar.next_working_moment(moment) if calendar is not None else moment


def _calendar_of(session: Session, study_id: int | None, person_id: int) -> calendars.WorkingCalendar | None:
    """The working calendar of a person of a study (None when the study or the person is gone)."""
    study = directory.current(session).studies.get(study_id) if study_id is not None else None
    person = study.person(person_id) if study is not None else None
    return calendars.of(study, person) if person is not None else None


def queued_in(session: Session) -> bool:
    """Whether this session queued a new message (its owner wakes delivery once it has committed)."""
    return bool(session.info.get("outbox_queued"))


def run_then_wake(
    engine: Engine,
    wake: Callable[[], None],
    function: Callable[..., T],
    /,
    once: received.Once | None = None,
    **kwargs: Any,
) -> T:
    """`function(session, **kwargs)` in a session of its own; once committed, `wake()` if it queued messages,
    so they go out now rather than at the next tick. With `once`, a change is kept only the first time the
    request comes (received.AlreadyTakenIn otherwise). A person waits for the database only briefly: when it
    is held elsewhere or out, nothing is done and they are told Cadence is busy (errors.DatabaseBusy)."""
    try:
        with session_scope(engine, request=True) as session:
            result = function(session, **kwargs)
            claimed = once is not None and received.claim_if_changed(session, once)
            queued = queued_in(session)
    except OperationalError as error:
        if not waited_in_vain(error):
            raise
        raise refusal_for(error) from None
    OUTAGE.over()
    if claimed:
        once.claimed = True  # committed: the request's later transactions hold the claim
    if queued:
        wake()
    return result


def tell_admins(
    session: Session,
    study: directory.StudyView,
    *,
    key: str,
    notice: Notice,
    now: datetime,
    besides: int | None = None,
) -> int:
    """The same message to each of the study's admins, keyed `key:<handle>`, each in their own working
    hours; how many were new. `besides`: the admin who did it, whom Cadence does not tell of their own
    action."""
    return sum(
        enqueue(
            session,
            key=f"{key}:{handle}",
            to=Destination.person(admin.id),
            notice=notice,
            now=now,
            study_id=study.id,
        )
        for handle in study.admins
        if (admin := study.people.get(handle)) is not None and admin.id != besides
    )


def message(session: Session, key: str) -> OutboxMessage | None:
    return session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).first()


def claim_due(session: Session, *, now: datetime, limit: int) -> list[OutboxMessage]:
    """Take up to `limit` due rows for this worker alone, under a lease; expired leases come back first."""
    session.exec(  # type: ignore[call-overload]
        update(OutboxMessage)
        .where(col(OutboxMessage.state) == "sending", col(OutboxMessage.claimed_until) < now)
        .values(state="pending", claim_token=None, last_error=INTERRUPTED)
    )
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    token = secrets.token_hex(8)
    session.exec(  # type: ignore[call-overload]
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(due.scalar_subquery()))
        .values(
            state="sending", claim_token=token, claimed_until=now + LEASE, attempts=OutboxMessage.attempts + 1
        )
    )
    rows = list(
        session.exec(
            select(OutboxMessage).where(OutboxMessage.claim_token == token).order_by(col(OutboxMessage.id))
        )
    )
    rows = _fold(session, rows, token=token, now=now)
    session.commit()
    return rows


# notice kind -> whether a message of that kind is urgent (from its payload): it goes at once, on its own
_URGENT: dict[str, Callable[[dict[str, Any]], bool]] = {}


def urgent_when(kind: str):
    """Register when a message of `kind` is urgent (a critical escalation): it is never held back by a
    person's daily budget nor folded into a digest, where it could be overlooked."""

    def register(check: Callable[[dict[str, Any]], bool]):
        _URGENT[kind] = check
        return check

    return register


def _foldable(row: OutboxMessage) -> bool:
    """A message Cadence started itself to a person, that may come with others and wait its turn: not an
    App Home, a file, an urgent message, nor one whose earlier attempt may have landed on its own."""
    urgent = _URGENT.get(row.notice_kind)
    return (
        row.started_by_cadence
        and row.recipient_kind == "person"
        and row.notice_kind != "home"
        and row.notice_kind not in _FILE_BUILDERS
        and "content_b64" not in row.payload
        and not (urgent is not None and urgent(row.payload))
        and not (row.last_error or "").startswith(INTERRUPTED)
    )


def _fold(session: Session, rows: list[OutboxMessage], *, token: str, now: datetime) -> list[OutboxMessage]:
    """The claimed rows, each person's foldable ones grouped into a digest with what else falls due for them
    within FOLD_WINDOW (claimed too), or given back to wait for the person's turn; a digest fixed before
    a crash is taken whole, as it was."""
    fixed = {row.digest for row in rows if row.digest}
    if fixed:
        rows += _take(
            session, select(OutboxMessage.id).where(col(OutboxMessage.digest).in_(fixed)), token, now
        )
    by_person: dict[tuple[str, str], list[OutboxMessage]] = defaultdict(list)
    for row in rows:
        if row.digest is None and _foldable(row):
            by_person[(row.platform, row.recipient)].append(row)
    for (platform, recipient), mine in by_person.items():
        # Someone who has left the plan: UTC here, and the send fails as it should.
        calendar = _calendar_of(session, mine[0].study_id, int(recipient)) or calendars.from_spec("UTC", None)
        wait = _turn(session, platform, recipient, calendar, now)
        if wait is not None:
            _give_back(mine, until=wait)
            session.info["outbox_held"] = session.info.get("outbox_held", 0) + len(mine)
            continue
        coming = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.platform == platform,
                OutboxMessage.recipient_kind == "person",
                OutboxMessage.recipient == recipient,
                col(OutboxMessage.started_by_cadence).is_(True),
                col(OutboxMessage.digest).is_(None),
                OutboxMessage.notice_kind != "home",
                OutboxMessage.next_attempt_at <= now + FOLD_WINDOW,
            )
            .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        )
        pulled = _take(session, coming, token, now)
        _give_back([row for row in pulled if not _foldable(row)], until=None)  # they keep their own time
        rows += pulled
        mine = sorted(
            mine + [row for row in pulled if _foldable(row)], key=lambda r: (r.next_attempt_at, r.id)
        )
        together, later = mine[:MOST_FOLDED], mine[MOST_FOLDED:]
        _give_back(later, until=now + FOLD_WINDOW)
        session.info["outbox_held"] = session.info.get("outbox_held", 0) + len(later)
        if len(together) > 1:
            key = digest_key([row.key for row in together])
            for row in together:
                row.digest = key
    session.flush()
    return sorted((row for row in rows if row.claim_token == token), key=lambda r: r.id or 0)


def digest_key(member_keys: list[str]) -> str:
    """The idempotency key of the digest of these messages: the same members, the same key."""
    return "digest:" + hashlib.sha256("\n".join(sorted(member_keys)).encode()).hexdigest()[:32]


def _take(session: Session, ids: Any, token: str, now: datetime) -> list[OutboxMessage]:
    """Claim the pending rows among `ids` (a select of ids) for this token too; the rows newly claimed."""
    ids = ids.where(OutboxMessage.state == "pending")
    if session.get_bind().dialect.name == "postgresql":
        ids = ids.with_for_update(skip_locked=True)
    wanted = [i for i in session.exec(ids) if i is not None]  # type: ignore[call-overload]
    if not wanted:
        return []
    session.exec(  # type: ignore[call-overload]
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(wanted), col(OutboxMessage.state) == "pending")
        .values(
            state="sending", claim_token=token, claimed_until=now + LEASE, attempts=OutboxMessage.attempts + 1
        )
        .execution_options(synchronize_session=False)
    )
    return list(
        session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.id).in_(wanted), OutboxMessage.claim_token == token)
            .execution_options(populate_existing=True)
        )
    )


def _give_back(rows: list[OutboxMessage], *, until: datetime | None) -> None:
    """Unclaim rows not to be sent now: they wait until `until` (None: their own time), not a failed try."""
    for row in rows:
        row.state, row.claim_token, row.claimed_until = "pending", None, None
        row.attempts -= 1
        if until is not None:
            row.next_attempt_at = max(row.next_attempt_at, until)


def _turn(
    session: Session, platform: str, recipient: str, calendar: calendars.WorkingCalendar, now: datetime
) -> datetime | None:
    """When a person may next hear from Cadence on its own, if not now: FOLD_WINDOW after the last message
    it started to them, or, once today's DAILY_BUDGET is spent, the start of their next working day."""
    zone = calendar.zone
    local = now.astimezone(zone)
    day_start = datetime.combine(local.date(), datetime.min.time(), tzinfo=zone)
    since = min(day_start, now - FOLD_WINDOW)
    sent = session.exec(
        select(OutboxMessage.sent_at, func.coalesce(OutboxMessage.digest, OutboxMessage.key)).where(
            OutboxMessage.platform == platform,
            OutboxMessage.recipient_kind == "person",
            OutboxMessage.recipient == recipient,
            col(OutboxMessage.started_by_cadence).is_(True),
            OutboxMessage.notice_kind != "home",
            OutboxMessage.state == "sent",
            col(OutboxMessage.sent_at) >= since,
        )
    ).all()
    if not sent:
        return None
    last = max(at for at, _ in sent if at is not None)
    if now < last + FOLD_WINDOW:
        return last + FOLD_WINDOW
    if len({message for at, message in sent if at is not None and at >= day_start}) >= DAILY_BUDGET:
        tomorrow = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=zone)
        return calendar.next_working_moment(tomorrow)
    return None


# notice kind -> check run just before sending: a reason to cancel the message, or None to send it
_CANCEL_CHECKS: dict[str, Callable[[Session, OutboxMessage], str | None]] = {}


def cancel_unless_still_wanted(kind: str):
    """Register a check for messages of `kind` that may have become pointless while waiting (a reminder
    to someone who has since answered): it returns why to cancel, or None to send."""

    def register(check: Callable[[Session, OutboxMessage], str | None]):
        _CANCEL_CHECKS[kind] = check
        return check

    return register


# notice kind -> the file it shares, built when it is sent (what takes seconds to build is not built
# while a person waits for an answer)
_FILE_BUILDERS: dict[str, Callable[[Session, dict[str, Any]], bytes]] = {}


def builds_file(kind: str):
    """Register how the file that messages of `kind` share is built, from the message's payload, when the
    message is sent."""

    def register(build: Callable[[Session, dict[str, Any]], bytes]):
        _FILE_BUILDERS[kind] = build
        return build

    return register


# notice kind -> what its e-mail carries beside the text (the report's chart inline, the minutes' .ics),
# built when it is sent by e-mail; a chat message of the kind carries none of it
_EMAIL_EXTRAS: dict[str, Callable[[Session, OutboxMessage], tuple[Attachment, ...]]] = {}


def attaches_to_email(kind: str):
    """Register what an e-mail of `kind` carries, built from its row when it is sent by e-mail."""

    def register(build: Callable[[Session, OutboxMessage], tuple[Attachment, ...]]):
        _EMAIL_EXTRAS[kind] = build
        return build

    return register


def _email_extras(session: Session, row: OutboxMessage) -> tuple[Attachment, ...]:
    from bot import views  # noqa: F401  (the views import the capabilities, which register their extras)

    build = _EMAIL_EXTRAS.get(row.notice_kind)
    return build(session, row) if build else ()


class FileNotBuilt(PermanentFailure):
    """The file a message was to share could not be built: the same request would fail again."""


def _file_content(session: Session, row: OutboxMessage) -> bytes | None:
    """The bytes of the file a message shares, or None for a message that shares none."""
    if row.notice_kind in _FILE_BUILDERS:
        try:
            return _FILE_BUILDERS[row.notice_kind](session, row.payload)
        except DBAPIError:
            raise  # the database, not the request: worth trying again
        except Exception as error:
            reference = secrets.token_hex(3)
            log.error("building the file of %s failed (reference %s): %r", row.key, reference, error)
            raise FileNotBuilt(f"the file could not be built (reference {reference})") from error
    if "content_b64" in row.payload:
        return base64.b64decode(row.payload["content_b64"])
    return None


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    cancelled: int = 0
    next_due: datetime | None = None


@dataclass
class _Outcome:
    posted: Posted | None = None
    error: DeliveryError | None = None
    cancelled: str | None = None
    wait_until: datetime | None = None  # not sent, not failed: try again then


@dataclass
class DeliveryWorker:
    """Sends what is due through one Notifier; any number of workers may run against one database."""

    engine: Engine
    notifier: Notifier
    clock: Clock
    batch: int = 50
    # E-mail (SMTP_URL): people who prefer it, or whom no chat can reach, get their messages by e-mail.
    mailer: Mailer | None = None
    # Retry-After deadlines by destination ("*": every destination).
    _paused: dict[str, datetime] = field(default_factory=dict)
    _limited: list[tuple[datetime, str]] = field(default_factory=list)  # recent 429s: when, where
    _sent: deque = field(default_factory=deque)  # monotonic times of the sends in the last second
    _interval: float | None = None  # seconds between sends while a workspace-wide limit is known
    _interval_since: float = 0.0

    def _for_person(self, person: Contact) -> Notifier:
        """The e-mail sender for a person Cadence writes to by e-mail (directory.goes_by_email), else the
        chat; without SMTP_URL e-mail falls back to the chat DM, said once in the log."""
        if not directory.goes_by_email(person):
            return self.notifier
        if self.mailer is None:
            _say_once_that_email_is_off(person)
            return self.notifier
        return self.mailer

    def _for_parent(self, parent: OutboxMessage | None) -> Notifier:
        """A thread reply or an update goes where its parent went: an e-mail's, by e-mail."""
        if parent is not None and self.mailer is not None and _is_an_email(parent.platform_channel):
            return self.mailer
        return self.notifier

    def drain(self) -> DeliveryReport:
        """Send everything due now; returns counts and when the next row falls due."""
        report = DeliveryReport()
        while True:
            now = self.clock.now()
            with Session(self.engine, expire_on_commit=False) as session:
                rows = claim_due(session, now=now, limit=self.batch)
                held = session.info.get("outbox_held", 0)
            if not rows:
                if held:
                    continue  # all it claimed waits for its person's turn: others may be due behind them
                break
            renewed = now
            for together in _together(rows):
                if self.clock.now() - renewed >= LEASE / 2:
                    renewed = self._keep_claim(together[0].claim_token)
                if len(together) == 1 and together[0].digest is None:
                    self._deliver(together[0], report)
                else:
                    self._deliver_digest(together, report)
        report.next_due = self.next_due()
        return report

    def _keep_claim(self, token: str | None) -> datetime:
        """Extend the lease of the batch's rows not yet sent; when it was renewed."""
        now = self.clock.now()
        with session_scope(self.engine) as session:
            session.exec(  # type: ignore[call-overload]
                update(OutboxMessage)
                .where(col(OutboxMessage.claim_token) == token, col(OutboxMessage.state) == "sending")
                .values(claimed_until=now + LEASE)
            )
        return now

    def next_due(self) -> datetime | None:
        with Session(self.engine) as session:
            return session.exec(
                select(OutboxMessage.next_attempt_at)
                .where(OutboxMessage.state == "pending")
                .order_by(col(OutboxMessage.next_attempt_at))
                .limit(1)
            ).first()

    def _deliver(self, row: OutboxMessage, report: DeliveryReport) -> None:
        now = self.clock.now()
        destination = row.platform_channel or f"{row.recipient_kind}:{row.recipient}"
        paused_until = max(self._paused.get(destination, now), self._paused.get("*", now))
        if paused_until > now:
            outcome = _Outcome(wait_until=paused_until)
        else:
            self._wait_for_a_slot()
            started = time.monotonic()  # pace by when sends start, or their own duration slows the pace
            outcome = self._attempt(row, now)
            if outcome.posted:
                self._sent.append(started)
                self._forget_old_sends()
        with session_scope(self.engine) as session:
            current = session.get(OutboxMessage, row.id)
            if current is None or current.claim_token != row.claim_token:
                return  # our lease ran out and another worker took the row: it is theirs now
            self._record(session, current, outcome, now, destination, report)

    def _deliver_digest(self, rows: list[OutboxMessage], report: DeliveryReport) -> None:
        """One message for what fell due together for one person; each member row records its outcome."""
        now = self.clock.now()
        destination = rows[0].platform_channel or f"person:{rows[0].recipient}"
        paused_until = max(self._paused.get(destination, now), self._paused.get("*", now))
        if paused_until > now:
            outcomes = {row.id: _Outcome(wait_until=paused_until) for row in rows}
        else:
            self._wait_for_a_slot()
            started = time.monotonic()
            outcomes = self._attempt_digest(rows, now)
            if any(outcome.posted for outcome in outcomes.values()):
                self._sent.append(started)
                self._forget_old_sends()
        with session_scope(self.engine) as session:
            told = False  # the admins hear once of a digest that failed, not once per member
            for row in rows:
                current = session.get(OutboxMessage, row.id)
                if current is None or current.claim_token != row.claim_token:
                    continue
                outcome = outcomes[row.id]
                self._record(session, current, outcome, now, destination, report, tell=not told)
                told = told or current.state == "failed"

    def _attempt_digest(self, rows: list[OutboxMessage], now: datetime) -> dict[int | None, _Outcome]:
        key = rows[0].digest or rows[0].key
        outcomes: dict[int | None, _Outcome] = {}
        try:
            drawn: list[tuple[OutboxMessage, Message]] = []
            with Session(self.engine) as session:
                person, _, _ = _resolve(session, rows[0])
                assert person is not None
                if any((row.last_error or "").startswith(INTERRUPTED) for row in rows):
                    # Sent whole or not at all: found, it counts for every member.
                    since = min(row.due_at for row in rows).timestamp()
                    landed = self._for_person(person).find_posted(None, person, key=key, since=since)
                    if landed:
                        return {row.id: _Outcome(posted=landed) for row in rows}
                for row in rows:
                    check = _CANCEL_CHECKS.get(row.notice_kind)
                    reason = check(session, row) if check else None
                    if reason:
                        outcomes[row.id] = _Outcome(cancelled=reason)
                        continue
                    try:
                        drawn.append((row, _draw(Notice(row.notice_kind, row.payload))))
                    except PermanentFailure as failed:  # that one fails; the others still go
                        outcomes[row.id] = _Outcome(error=failed)
            if drawn:
                sender = self._for_person(person)
                posted = sender.direct_message(person, _digest([m for _, m in drawn]), key=key)
                outcomes.update({row.id: _Outcome(posted=posted) for row, _ in drawn})
        except DeliveryError as error:
            outcomes.update({row.id: _Outcome(error=error) for row in rows if row.id not in outcomes})
        except Exception as error:  # an adapter bug must not stop the other messages
            log.exception("sending the digest %s failed unexpectedly", key)
            failure = TemporaryFailure(f"unexpected: {type(error).__name__}")
            outcomes.update({row.id: _Outcome(error=failure) for row in rows if row.id not in outcomes})
        return outcomes

    def _attempt(self, row: OutboxMessage, now: datetime) -> _Outcome:
        try:
            if row.recipient_kind == "email" and self.mailer is None:
                _say_once_that_email_is_off(None)
                return _Outcome(cancelled="no SMTP_URL: not sent by e-mail")
            with Session(self.engine) as session:
                check = _CANCEL_CHECKS.get(row.notice_kind)
                reason = check(session, row) if check else None
                if reason:
                    return _Outcome(cancelled=reason)
                person, channel, parent = _resolve(session, row)
                content = _file_content(session, row)
            by_email = row.recipient_kind == "email" or (
                person is not None and self.mailer is not None and self._for_person(person) is self.mailer
            )
            with session_scope(self.engine) as session:  # what they record (an event's SEQUENCE) is kept
                extras = _email_extras(session, row) if by_email else ()
            if parent is not None and parent.state != "sent":
                if parent.state == "failed":
                    raise PermanentFailure(f"parent_{parent.state}")
                return _Outcome(wait_until=now + PARENT_WAIT)
            if (row.last_error or "").startswith(INTERRUPTED) and row.recipient_kind != "email":
                # The last attempt may have landed: look before sending again. Nothing can have
                # been sent before the row fell due. (SMTP cannot tell: an e-mail to an address goes again.)
                sender = self._for_person(person) if person is not None else self._for_parent(parent)
                landed = sender.find_posted(channel, person, key=row.key, since=row.due_at.timestamp())
                if landed:
                    return _Outcome(posted=landed)
            if row.recipient_kind == "email" or extras:
                assert self.mailer is not None
                notice = _draw(Notice(row.notice_kind, row.payload))
                to = person if person is not None else row.recipient
                return _Outcome(
                    posted=self.mailer.send_email(
                        to, notice, key=row.key, study_id=row.study_id, attachments=extras
                    )
                )
            return _Outcome(posted=self._send(row, person, channel, parent, content))
        except DeliveryError as error:
            return _Outcome(error=error)
        except Exception as error:  # an adapter bug must not stop the other messages
            log.exception("sending %s failed unexpectedly", row.key)
            return _Outcome(error=TemporaryFailure(f"unexpected: {type(error).__name__}"))

    def _send(
        self,
        row: OutboxMessage,
        person: Contact | None,
        channel: str | None,
        parent: OutboxMessage | None,
        content: bytes | None,
    ):
        sender = self._for_person(person) if person is not None else self._for_parent(parent)
        if content is not None:  # a file to share
            thread = parent.platform_message_id if parent is not None else None
            return sender.upload_file(
                channel=parent.platform_channel if parent is not None else channel,
                person=person,
                thread=thread,
                filename=row.payload["filename"],
                content=content,
                title=row.payload.get("title", row.payload["filename"]),
                key=row.key,
            )
        notice = _draw(Notice(row.notice_kind, row.payload))
        if row.recipient_kind == "person":
            assert person is not None
            if row.notice_kind == "home":  # a person's App Home is published, not messaged
                if sender is self.notifier:
                    self.notifier.publish_view(person, Home(notice.blocks))
                return Posted(person.slack_id or person.handle, row.key)  # e-mail has no App Home
            return sender.direct_message(person, notice, key=row.key)
        if row.recipient_kind == "reply":
            assert channel is not None and row.thread_of
            return self.notifier.post_in_thread(channel, row.thread_of, notice, key=row.key)
        if row.recipient_kind == "thread":
            assert parent is not None and parent.platform_channel and parent.platform_message_id
            return sender.post_in_thread(
                parent.platform_channel, parent.platform_message_id, notice, key=row.key
            )
        if row.recipient_kind == "update":
            assert parent is not None and parent.platform_channel and parent.platform_message_id
            if _is_an_email(
                parent.platform_channel
            ):  # a sent e-mail cannot change: its link's page shows now
                return Posted(parent.platform_channel, parent.platform_message_id)
            shown = self._digest_showing(parent, notice) if parent.digest else notice
            return self.notifier.update_message(parent.platform_channel, parent.platform_message_id, shown)
        assert channel is not None
        return self.notifier.post_to_channel(channel, notice, key=row.key)

    def _digest_showing(self, parent: OutboxMessage, change: Message) -> Message:
        """The digest `parent` was sent in, with `change` in its place: an update of one item (a prompt
        answered) keeps the others on show."""
        with Session(self.engine) as session:
            members = session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.digest == parent.digest, OutboxMessage.state == "sent")
                .order_by(col(OutboxMessage.id))
            ).all()
        return _digest(
            [change if m.id == parent.id else _draw(Notice(m.notice_kind, m.payload)) for m in members]
        )

    def _record(
        self,
        session: Session,
        row: OutboxMessage,
        outcome: _Outcome,
        now: datetime,
        destination: str,
        report: DeliveryReport,
        *,
        tell: bool = True,
    ) -> None:
        row.claim_token, row.claimed_until = None, None
        if outcome.cancelled:
            row.state, row.last_error = "cancelled", outcome.cancelled
            report.cancelled += 1
            return
        if outcome.posted:
            row.state, row.sent_at, row.last_error = "sent", now, None
            row.platform_channel, row.platform_message_id = outcome.posted.channel, outcome.posted.message_id
            report.sent += 1
            if row.recipient_kind == "update":
                _keep_shown(session, row)
            return
        error = outcome.error
        if outcome.wait_until or isinstance(error, RateLimited):
            if isinstance(error, RateLimited):
                outcome.wait_until = now + timedelta(seconds=max(error.retry_after, 1))
                self._pause(destination, outcome.wait_until, now)
                row.last_error = f"rate limited: {error.reason}"
            row.state, row.next_attempt_at = "pending", outcome.wait_until
            row.attempts -= 1  # waiting our turn is not a failed attempt
            report.retried += 1
            return
        assert error is not None
        if isinstance(error, TemporaryFailure) and row.attempts < MAX_ATTEMPTS:
            # A timeout or a server error does not say whether Slack kept the message.
            row.state, row.last_error = "pending", f"{INTERRUPTED}: {error.reason}"
            row.next_attempt_at = now + _backoff(row.attempts)
            report.retried += 1
            return
        reason = (
            error.reason
            if isinstance(error, PermanentFailure)
            else f"gave up after {row.attempts} attempts: {error.reason}"
        )
        row.state, row.last_error = "failed", reason
        report.failed += 1
        log.warning("message %s failed: %s", row.key, reason)
        if isinstance(error, FileNotBuilt) and row.recipient_kind == "person":
            _tell_the_asker(session, row, reason, now)
        elif tell:
            _report_failure(session, row, reason, now)
        else:
            _audit_failure(session, row, reason)

    def _pause(self, destination: str, until: datetime, now: datetime) -> None:
        """Wait for this destination only; when several at once are limited, the limit is the workspace's."""
        self._paused[destination] = until
        self._limited = [(at, where) for at, where in self._limited if now - at < timedelta(seconds=1)]
        self._limited.append((now, destination))
        if len({where for _, where in self._limited}) >= 3:
            self._paused["*"] = until
            # Bursting into the limit and pausing wastes part of every second: send at the rate
            # that just went through instead, a little under it.
            self._forget_old_sends()
            self._interval = PACE_MARGIN / max(len(self._sent), 1)
            self._interval_since = time.monotonic()

    def _wait_for_a_slot(self) -> None:
        if self._interval is None:
            return
        if time.monotonic() - self._interval_since > PACE_FOR:
            self._interval = None  # limits change: burst again and learn anew
            return
        if self._sent:
            delay = self._sent[-1] + self._interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def _forget_old_sends(self) -> None:
        horizon = time.monotonic() - 1
        while self._sent and self._sent[0] < horizon:
            self._sent.popleft()


def _is_an_email(channel: str | None) -> bool:
    """Whether a message "landed" in a mailbox (the e-mail sender's Posted): it cannot be updated."""
    return bool(channel) and str(channel).startswith(MAIL_CHANNEL)


MAIL_CHANNEL = "mail:"  # where an e-mail "landed": mail:<address> (a thread or an update follows it there)
_told_email_is_off: list[bool] = []


def _say_once_that_email_is_off(person: Contact | None) -> None:
    """One log line for as long as the process runs: people who prefer e-mail get chat DMs, and what
    goes only by e-mail (the report to `report_to:`) is not sent."""
    if not _told_email_is_off:
        _told_email_is_off.append(True)
        log.warning(
            "SMTP_URL is not set: people who prefer e-mail (%s among them) get their messages as chat DMs, "
            "and report_to: gets nothing",
            person.handle if person is not None else "if any",
        )


def _keep_shown(session: Session, update: OutboxMessage) -> None:
    """An item of a digest now shows what its update said: a later update of another item keeps it."""
    parent = message(session, update.thread_of or "")
    if parent is not None and parent.digest:
        parent.notice_kind, parent.payload = update.notice_kind, update.payload


def _together(rows: list[OutboxMessage]) -> list[list[OutboxMessage]]:
    """The claimed rows as they are sent: each digest's members together, every other row alone."""
    groups: dict[str, list[OutboxMessage]] = {}
    for row in rows:
        groups.setdefault(row.digest or f"row:{row.id}", []).append(row)
    return list(groups.values())


def _digest(members: list[Message]) -> Message:
    from bot import views

    return views.digest(members)


def _draw(notice: Notice) -> Message:
    """The notice's view, drawn once for whichever chat sends it; one that cannot be drawn would fail
    on every try, so it fails now and the admins hear of it."""
    from bot import views  # the views import the capabilities, which import the outbox

    try:
        return views.notice(notice)
    except views.DrawingFailed as failed:
        log.error("%s", failed)
        raise PermanentFailure(str(failed)) from failed


def _backoff(attempts: int) -> timedelta:
    """Exponential, capped, with full jitter so that many workers do not retry in step."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(attempts - 1, 0)))
    return ceiling * random.uniform(0.5, 1.0)


def _resolve(session: Session, row: OutboxMessage) -> tuple[Contact | None, str | None, OutboxMessage | None]:
    """The person, channel or parent message a row is addressed to."""
    if row.recipient_kind == "person":
        person_id = int(row.recipient)
        view = directory.current(session)
        study = view.studies.get(row.study_id or -1)
        people = (
            study.people.values() if study else (p for s in view.studies.values() for p in s.people.values())
        )
        person = next((p for p in people if p.id == person_id), None)
        if person is None:
            raise PermanentFailure("person_not_in_plan")
        return person, None, None
    if row.recipient_kind == "email":
        return None, None, None
    if row.recipient_kind in {"thread", "update"}:
        parent = message(session, row.thread_of or "")
        if parent is None:
            raise PermanentFailure("parent_not_found")
        return None, parent.platform_channel, parent
    return None, row.recipient, None


def _report_failure(session: Session, row: OutboxMessage, reason: str, now: datetime) -> None:
    """Record the failure and tell the study's admins, once per failed message (never about a report)."""
    _audit_failure(session, row, reason)
    if row.notice_kind == "delivery_failed" or row.study_id is None:
        return
    study = directory.current(session).studies.get(row.study_id)
    if study is None:
        return
    recipient = _describe_recipient(study.people.values(), row, by_email=reason.startswith("smtp"))
    data = {
        "key": row.key,
        "reason": reason,
        "recipient": recipient,
        "study": study.key,
        "what": row.notice_kind,
    }
    tell_admins(session, study, key=f"failed:{row.key}", notice=Notice("delivery_failed", data), now=now)


def _audit_failure(session: Session, row: OutboxMessage, reason: str) -> None:
    audit.record(
        session,
        action="delivery.failed",
        actor="cadence",
        study_id=row.study_id,
        subject=row.key,
        detail={"reason": reason, "to": f"{row.recipient_kind}:{row.recipient}", "attempts": row.attempts},
    )


def _tell_the_asker(session: Session, row: OutboxMessage, reason: str, now: datetime) -> None:
    """A file someone asked for (an export) could not be built: they hear so, instead of waiting for it."""
    _audit_failure(session, row, reason)
    title = row.payload.get("title") or row.payload.get("filename") or "the file you asked for"
    enqueue(
        session,
        key=f"not_built:{row.key}",
        to=Destination.person(int(row.recipient)),
        notice=Notice("file_not_built", {"title": title, "reason": reason}),
        now=now,
        study_id=row.study_id,
        at_once=True,  # they asked for the file: the answer is theirs now
    )


def _describe_recipient(people, row: OutboxMessage, *, by_email: bool = False) -> str:
    if row.recipient_kind == "person":
        person = next((p for p in people if str(p.id) == row.recipient), None)
        how = f"e-mail to {person.email}" if person and by_email else "direct message"
        return f"{person.name} ({how})" if person else "a person no longer in the plan"
    if row.recipient_kind == "channel":
        return f"channel {row.recipient}"
    if row.recipient_kind == "email":
        return f"e-mail to {row.recipient}"
    return "a thread reply"
