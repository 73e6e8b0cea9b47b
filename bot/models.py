"""Tables. Times are stored in UTC and come back timezone-aware."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, Integer, LargeBinary, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from bot.clock import process_now


def utcnow() -> datetime:
    return process_now()


class UTCDateTime(TypeDecorator):
    """Stores naive UTC (SQLite has no zones) and hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _utc_column(**kwargs: Any) -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, **kwargs))


class Study(SQLModel, table=True):
    __tablename__ = "study"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True, description="The plan's study.id, e.g. ACME-201")
    name: str
    timezone: str
    channel: str | None = Field(default=None, index=True, description="The study's Slack channel id")
    admins: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    plan: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    revision: int = 1
    created_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()


class Person(SQLModel, table=True):
    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("study_id", "handle"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(sa_column=Column(Integer, ForeignKey("study.id"), nullable=False, index=True))
    handle: str
    name: str
    side: str
    role: str = ""
    slack_id: str | None = Field(default=None, index=True)
    slack_team: str | None = None  # the workspace the person writes from (Slack Connect: their own)
    teams_id: str | None = None
    email: str | None = None
    timezone: str
    prefers: str | None = None
    # What the plan says of their working calendar (bot.calendars.calendar_spec): working hours, country,
    # the study's days off for them; None for defaults.
    calendar: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    active: bool = True


class Milestone(SQLModel, table=True):
    """A plan milestone as it stands: its status, its forecast, whether it is done and accepted. The plan
    keeps its name, due date, owner and acceptors; this row what chat made of it since."""

    __tablename__ = "milestone"
    __table_args__ = (UniqueConstraint("study_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(sa_column=Column(Integer, ForeignKey("study.id"), nullable=False, index=True))
    key: str = Field(description="The milestone's name folded to lower case")
    status: str = "on-track"  # on-track, at-risk, slipped, done, accepted
    forecast: date | None = None
    updated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    done_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    accepted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    accepted_by: str | None = None
    created_at: datetime = _utc_column()


class MilestoneUpdate(SQLModel, table=True):
    """A written update from the owner (or an admin), kept as it was written: the milestone's history."""

    __tablename__ = "milestone_update"

    id: int | None = Field(default=None, primary_key=True)
    milestone_id: int = Field(
        sa_column=Column(Integer, ForeignKey("milestone.id"), nullable=False, index=True)
    )
    by: str = Field(description="The name of who wrote it")
    status: str
    forecast: date | None = None
    previous_forecast: date | None = None
    text: str
    at: datetime = _utc_column()


class StudyDue(SQLModel, table=True):
    """When one study next has something for one capability's due work (bot.due): the tick looks at the
    studies whose moment has come, not at every study. A change in the study makes it due at once."""

    __tablename__ = "study_due"
    __table_args__ = (UniqueConstraint("work", "study_id"),)

    id: int | None = Field(default=None, primary_key=True)
    work: str = Field(description="the due work's name, e.g. checkins.do_due_work")
    study_id: int = Field(sa_column=Column(Integer, ForeignKey("study.id"), nullable=False))
    due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True))
    version: int = Field(default=1, description="bumped by each change: a tick's answer never hides one")


class PulseRound(SQLModel, table=True):
    """One round of the two-way pulse: each participant asked how well the other side communicated."""

    __tablename__ = "pulse_round"
    __table_args__ = (UniqueConstraint("study_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(sa_column=Column(Integer, ForeignKey("study.id"), nullable=False, index=True))
    period: str = Field(description="the month, e.g. 2026-12; a further round that month 2026-12#2")
    state: str = Field(default="open", index=True, description="open or closed")
    opened_by: str = Field(description="'schedule', or the admin who ran /cadence pulse now")
    opened_at: datetime = _utc_column()
    # handle -> ISO time of the person's request (their local schedule time, or when opened by hand)
    prompts: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    questions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    closes_at: datetime = _utc_column()
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class PulseAnswer(SQLModel, table=True):
    """A participant's ratings (1 to 5, by question) and comment; a second click changes them. Shown only
    as averages by side, never with the person."""

    __tablename__ = "pulse_answer"
    __table_args__ = (UniqueConstraint("round_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(sa_column=Column(Integer, ForeignKey("pulse_round.id"), nullable=False, index=True))
    person_id: int = Field(sa_column=Column(Integer, ForeignKey("person.id"), nullable=False))
    side: str = Field(description="the rater's side when they answered: sponsor or cro")
    scores: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    comment: str | None = None
    answered_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()


class SlackInstallation(SQLModel, table=True):
    """Cadence installed in one Slack workspace (OAuth v2): its bot, and its token encrypted at rest."""

    __tablename__ = "slack_installation"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(unique=True, index=True)
    team_name: str | None = None
    enterprise_id: str | None = None
    app_id: str | None = None
    bot_id: str | None = None
    bot_user_id: str | None = None
    bot_scopes: str | None = None
    bot_token_encrypted: str = Field(description="Fernet token of the bot token, under CADENCE_SECRET_KEY")
    installer_user_id: str | None = None
    installed_at: datetime = _utc_column()  # the latest install: a reinstall sets it again
    # The first install, which no reinstall resets: the earliest is the home installation.
    first_installed_at: datetime = _utc_column()


class Responsibility(SQLModel, table=True):
    __tablename__ = "responsibility"
    __table_args__ = (UniqueConstraint("study_id", "topic_key"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(sa_column=Column(Integer, ForeignKey("study.id"), nullable=False, index=True))
    topic: str
    topic_key: str = Field(description="The topic folded to lower case; topics are unique per study")
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    owner_id: int = Field(sa_column=Column(Integer, ForeignKey("person.id"), nullable=False))
    backup_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("person.id")))
    answer_within: str | None = None
    position: int = 0
    active: bool = True
    # When the owner last confirmed the topic is theirs (a plan or chat change of owner counts).
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # Words routing learned for the topic from people's picks and Not mine (bot.evidence); no plan sets it.
    learned: dict[str, float] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict)
    )


class AuditEvent(SQLModel, table=True):
    """Append-only: the database refuses updates and deletes (see the first migration)."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    study_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("study.id"), index=True))
    at: datetime = _utc_column()
    actor: str = Field(description="Who did it: 'slack:U…', 'console:raj', 'cli'")
    action: str = Field(index=True)
    subject: str = ""
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class OutboxMessage(SQLModel, table=True):
    """One outgoing message: written before it is sent, sent at most once per idempotency key."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_recipient_state", "recipient", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, description="Idempotency key, e.g. checkin:ACME-201:2026-W48:raj")
    study_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("study.id"), index=True))
    platform: str = "slack"
    recipient_kind: str = Field(description="channel, thread, person or update")
    recipient: str = Field(description="channel id, or the person's id in the study (person)")
    thread_of: str | None = Field(
        default=None, description="the message (channel ts) a thread reply belongs to"
    )
    notice_kind: str
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    started_by_cadence: bool = Field(
        default=False, description="queued by due work (a reminder, a chase), not by a person's request"
    )
    digest: str | None = Field(
        default=None,
        index=True,
        description="the key of the digest it is sent in, with what fell due with it",
    )
    due_at: datetime = _utc_column()
    state: str = Field(
        default="pending", index=True, description="pending, sending, sent, failed or cancelled"
    )
    attempts: int = 0
    next_attempt_at: datetime = _utc_column(index=True)
    claim_token: str | None = Field(default=None, index=True)
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_error: str | None = None
    platform_channel: str | None = None
    platform_message_id: str | None = None
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = _utc_column()


class CheckinRound(SQLModel, table=True):
    """One week's check-in of a study: opened once (study + ISO week), closed once, then digested."""

    __tablename__ = "checkin_round"
    __table_args__ = (UniqueConstraint("study_id", "week"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(sa_column=Column(Integer, ForeignKey("study.id"), nullable=False, index=True))
    week: str = Field(description="ISO week, e.g. 2026-W48")
    state: str = Field(default="open", description="open or closed")
    opened_by: str = Field(description="'schedule', or the actor who ran /checkin now")
    opened_at: datetime = _utc_column()
    # handle -> ISO time of the person's prompt (their local schedule time, or when opened by hand)
    prompts: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    questions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    remind_after: str | None = None
    closes_at: datetime = _utc_column()
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class CheckinAnswer(SQLModel, table=True):
    """A participant's answer to a round; edited in place until the round closes, later ones are late."""

    __tablename__ = "checkin_answer"
    __table_args__ = (UniqueConstraint("round_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(
        sa_column=Column(Integer, ForeignKey("checkin_round.id"), nullable=False, index=True)
    )
    person_id: int = Field(sa_column=Column(Integer, ForeignKey("person.id"), nullable=False))
    answers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(description="on_track, at_risk or off_track")
    version: int = 1
    late: bool = False
    submitted_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()


class CheckinSkip(SQLModel, table=True):
    """A date on which no round opens, added from chat (`/checkin skip`) beside the plan's `skip`."""

    __tablename__ = "checkin_skip"
    __table_args__ = (UniqueConstraint("study_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(sa_column=Column(Integer, ForeignKey("study.id"), nullable=False, index=True))
    day: date
    added_by: str
    added_at: datetime = _utc_column()


class AwayPeriod(SQLModel, table=True):
    """A person away (leave, travel), with who covers for them; kept after it ends, as a record."""

    __tablename__ = "away_period"

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(sa_column=Column(Integer, ForeignKey("study.id"), nullable=False, index=True))
    person_id: int = Field(sa_column=Column(Integer, ForeignKey("person.id"), nullable=False, index=True))
    starts_on: date
    until: date = Field(description="the last day away, in the person's timezone")
    cover_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("person.id")))
    set_by: str
    created_at: datetime = _utc_column()
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class Question(SQLModel, table=True):
    """A question routed to a topic's owner by /ask, tracked until it is answered."""

    __tablename__ = "question"

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(sa_column=Column(Integer, ForeignKey("study.id"), nullable=False, index=True))
    asker_id: int = Field(sa_column=Column(Integer, ForeignKey("person.id"), nullable=False, index=True))
    text: str
    topic: str | None = Field(default=None, description="the topic it was routed to; None until chosen")
    assignee_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("person.id"), index=True)
    )
    state: str = Field(default="choosing", index=True, description="choosing, open or answered")
    routes: int = Field(default=0, description="how many times it was routed; more than one means re-routed")
    asked_at: datetime = _utc_column()
    due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    answered_by: str | None = None
    answer: str | None = Field(default=None, description="the answer's words, as the answerer gave them")


class Escalation(SQLModel, table=True):
    """A problem raised with /escalate, walking up the plan's escalation path until acknowledged."""

    __tablename__ = "escalation"

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(sa_column=Column(Integer, ForeignKey("study.id"), nullable=False, index=True))
    summary: str
    severity: str
    topic: str | None = None
    impact: str = ""
    tried: str = ""
    reporter_id: int = Field(sa_column=Column(Integer, ForeignKey("person.id"), nullable=False))
    level: int = Field(description="1-based level of the path the issue is at")
    state: str = Field(default="open", index=True, description="open, acknowledged or resolved")
    version: int = Field(
        default=1, description="bumped by every change; guards against two instances at once"
    )
    raised_at: datetime = _utc_column()
    level_since: datetime = _utc_column()
    deadline: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True)
    )
    reminders: int = 0
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    acknowledged_by: str | None = None
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    resolved_by: str | None = None
    resolution: str | None = None


class Minutes(SQLModel, table=True):
    """A meeting's minutes: a draft until the note taker confirms what Cadence read, then posted."""

    __tablename__ = "minutes"

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(sa_column=Column(Integer, ForeignKey("study.id"), nullable=False, index=True))
    meeting: str = Field(description="the plan meeting's name, or 'Ad hoc meeting'")
    held_on: date
    attendees: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    notes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    parsed: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    note_taker_id: int = Field(sa_column=Column(Integer, ForeignKey("person.id"), nullable=False))
    state: str = Field(default="draft", description="draft, posted or cancelled")
    created_at: datetime = _utc_column()
    posted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class ActionItem(SQLModel, table=True):
    __tablename__ = "action_item"

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(sa_column=Column(Integer, ForeignKey("study.id"), nullable=False, index=True))
    # None: added with /actions add, not from minutes
    minutes_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("minutes.id"), nullable=True, index=True)
    )
    # None: the notes named nobody Cadence knows; the item is listed as needing an owner until assigned
    owner_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("person.id"), nullable=True, index=True)
    )
    text: str
    due_on: date | None = None
    state: str = Field(default="open", index=True, description="open, done, or dropped (by a correction)")
    created_at: datetime = _utc_column()
    done_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    done_by: str | None = None


class Decision(SQLModel, table=True):
    """Never edited: a change is a new decision that supersedes the old one."""

    __tablename__ = "decision"

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(sa_column=Column(Integer, ForeignKey("study.id"), nullable=False, index=True))
    minutes_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("minutes.id")))
    text: str
    decided_on: date
    supersedes_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("decision.id")))
    recorded_by: str
    created_at: datetime = _utc_column()


class TeamsConversation(SQLModel, table=True):
    """A conversation reference Teams gave the bot (installation, a message): where proactive messages go."""

    __tablename__ = "teams_conversation"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(unique=True, description="19:…@thread.tacv2, a:… (personal)")
    kind: str = Field(description="personal, channel or groupChat")
    service_url: str
    tenant_id: str | None = None
    user_aad_id: str | None = Field(default=None, index=True, description="personal: whose chat this is")
    updated_at: datetime = _utc_column()


class TeamsMember(SQLModel, table=True):
    """Someone the bot met in Teams: their Entra object id, Teams user id and e-mail, to reach them."""

    __tablename__ = "teams_member"

    id: int | None = Field(default=None, primary_key=True)
    aad_object_id: str = Field(unique=True)
    user_id: str = Field(description="the Teams user id (29:…) used in conversations")
    name: str | None = None
    email: str | None = Field(default=None, index=True, description="lower case: e-mail or UPN")
    tenant_id: str | None = None
    service_url: str
    updated_at: datetime = _utc_column()


class PublishedFile(SQLModel, table=True):
    """A file served at an unguessable address until it expires, for a chat to fetch (a report's chart,
    which Teams shows only from a URL)."""

    __tablename__ = "published_file"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, description="the outbox message publishing it: a retry keeps the address")
    token: str = Field(unique=True, description="the address's secret part (256 random bits)")
    content_type: str
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    published_at: datetime = _utc_column()
    expires_at: datetime = _utc_column(index=True)


class ReceivedRequest(SQLModel, table=True):
    """A request taken in (a Teams activity, a signed Slack request), kept until it cannot come again."""

    __tablename__ = "received_request"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, description="teams:<activity id> or slack:<signature>")
    expires_at: datetime = _utc_column(index=True)


class ExportDownload(SQLModel, table=True):
    """An admin's Trial Master File export asked for on the web: built by the tick (it takes seconds), then
    kept as a published file for them to download."""

    __tablename__ = "export_download"

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(sa_column=Column(Integer, ForeignKey("study.id"), nullable=False, index=True))
    person_id: int = Field(sa_column=Column(Integer, ForeignKey("person.id"), nullable=False))
    start: date
    end: date
    state: str = Field(default="pending", index=True, description="pending, building, built or failed")
    requested_at: datetime = _utc_column()
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    built_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    token: str | None = Field(default=None, description="the published file's token, once built")


class WebSignIn(SQLModel, table=True):
    """A one-time sign-in link to the web pages (bot.web_links): only a hash of its token is kept, and it
    is used at most once, before it expires."""

    __tablename__ = "web_signin"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, description="SHA-256 of the link's token, in hex")
    study_id: int = Field(sa_column=Column(Integer, ForeignKey("study.id"), nullable=False))
    person_id: int = Field(sa_column=Column(Integer, ForeignKey("person.id"), nullable=False))
    actor: str = Field(description="the chat identity it signs in (slack:U01BEN, teams:<id>, console:raj)")
    created_at: datetime = _utc_column()
    expires_at: datetime = _utc_column(index=True)
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
