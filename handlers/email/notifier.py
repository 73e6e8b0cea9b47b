"""The Notifier port by e-mail: a person's messages drawn as multipart text + HTML and sent over SMTP.

The core decides who gets e-mail (bot.directory.goes_by_email, in the delivery worker); this only draws
and sends. One SMTP connection per message, from the delivery worker's thread:
- `smtp://user:pass@host:587` upgrades with STARTTLS (refused when the server does not offer it, except
  on loopback, for tests and a local relay); `smtps://user:pass@host:465` is TLS from the start.
- A 4xx reply (or a dropped connection) is a TemporaryFailure, retried with the outbox's backoff; a 5xx
  is a PermanentFailure, which the outbox records and tells the study's admins.
- The Message-ID is the outbox key's hash: a retry is the same message. SMTP cannot say whether an
  earlier attempt was delivered, so a crash after the server took the message and before the outbox
  recorded it sends it once more, with the same Message-ID (`find_posted` finds nothing): at least once
  in that window, exactly once otherwise.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import smtplib
import ssl
from dataclasses import dataclass, replace
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import quote, unquote, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from bot import action_links, directory
from bot.clock import Clock
from bot.db import session_scope
from bot.directory import Contact
from bot.messages import Button, Home, Image, Message, plain
from bot.replies import Attachment, PermanentFailure, Posted, TemporaryFailure
from handlers.email.render import Footer, Linker, draw

log = logging.getLogger("cadence.email")
MAIL_CHANNEL = "mail:"  # bot.outbox.MAIL_CHANNEL: where an e-mail "landed"
TIMEOUT = 30.0


class SmtpUrlInvalid(ValueError):
    pass


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    user: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """SMTP_URL: smtp://[user:pass@]host[:port] (STARTTLS, port 587) or smtps://… (TLS, port 465)."""
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise SmtpUrlInvalid("SMTP_URL takes smtp://user:pass@host:587 or smtps://user:pass@host:465")
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            implicit_tls=implicit,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    @property
    def loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host == "localhost"


def _failure(code: int, words: bytes | str, what: str) -> TemporaryFailure | PermanentFailure:
    """An SMTP reply as the outbox's kind of failure: 4xx try again later, 5xx never."""
    text = words.decode(errors="replace") if isinstance(words, bytes) else str(words)
    reason = f"smtp {code} ({what}): {' '.join(text.split())[:200]}"
    return TemporaryFailure(reason) if 400 <= code < 500 else PermanentFailure(reason)


class SmtpSender:
    """Hands one message to the SMTP server; raises the outbox's failures."""

    def __init__(self, server: SmtpServer, *, timeout: float = TIMEOUT):
        self.server = server
        self.timeout = timeout
        self._context: ssl.SSLContext | None = None

    @property
    def context(self) -> ssl.SSLContext:
        """The TLS context, made once: loading the system's certificates takes about 70 ms."""
        if self._context is None:
            self._context = ssl.create_default_context()
        return self._context

    def send(self, message: EmailMessage) -> None:
        try:
            with self._connect() as smtp:
                if self.server.user:
                    smtp.login(self.server.user, self.server.password or "")
                refused = smtp.send_message(message)
            if refused:  # some recipients refused (we send to one, so this is rare)
                code, words = next(iter(refused.values()))
                raise _failure(code, words, "recipient")
        except smtplib.SMTPRecipientsRefused as error:
            code, words = next(iter(error.recipients.values()))
            raise _failure(code, words, "recipient") from None
        except smtplib.SMTPResponseException as error:
            raise _failure(error.smtp_code, error.smtp_error, type(error).__name__) from None
        except smtplib.SMTPNotSupportedError as error:
            raise PermanentFailure(f"smtp: {error}") from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as error:
            raise TemporaryFailure(f"smtp connection: {type(error).__name__}: {error}") from None

    def _connect(self) -> smtplib.SMTP:
        if self.server.implicit_tls:
            context = self.context
            return smtplib.SMTP_SSL(self.server.host, self.server.port, timeout=self.timeout, context=context)
        smtp = smtplib.SMTP(self.server.host, self.server.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=self.context)
                smtp.ehlo()
            elif not self.server.loopback:  # never a password or a message in clear over a network
                raise PermanentFailure(
                    "smtp: the server offers no STARTTLS (use smtps:// for TLS from the start)"
                )
        except BaseException:
            smtp.close()
            raise
        return smtp


def message_id(key: str, mail_from: str) -> str:
    """The Message-ID of the e-mail sent under an outbox key: the same for every attempt."""
    domain = mail_from.rpartition("@")[2].strip(" >") or "cadence.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


@dataclass(frozen=True)
class _Reader:
    person: Contact
    study: directory.StudyView | None
    listed: bool = False  # written to because the plan's report_to: lists them (not as a person's DMs)


class EmailNotifier:
    platform = "email"

    def __init__(
        self,
        engine: Engine,
        sender: SmtpSender,
        clock: Clock,
        *,
        mail_from: str,
        public_url: str | None,
    ):
        self.engine = engine
        self.sender = sender
        self.clock = clock
        self.mail_from = mail_from
        self.public_url = public_url

    # --- the port ---------------------------------------------------------------------------------

    def direct_message(self, person: Contact, message: Message, *, key: str) -> Posted:
        reader = self._reader(person)
        email = self._build(reader, message, key)
        self.sender.send(email)
        return Posted(f"{MAIL_CHANNEL}{person.email}", email["Message-ID"])

    def post_in_thread(self, channel: str, thread: str, message: Message, *, key: str) -> Posted:
        """A reply to an e-mail Cadence sent: an e-mail in the same conversation."""
        person = self._person_at(channel.removeprefix(MAIL_CHANNEL))
        email = self._build(self._reader(person), message, key)
        email["In-Reply-To"] = email["References"] = thread
        self.sender.send(email)
        return Posted(channel, email["Message-ID"])

    def upload_file(
        self,
        *,
        channel: str | None,
        person: Contact | None,
        thread: str | None,
        filename: str,
        content: bytes,
        title: str,
        key: str,
    ) -> Posted:
        if person is None and channel:
            person = self._person_at(channel.removeprefix(MAIL_CHANNEL))
        if person is None:
            raise PermanentFailure("no_email_destination")
        from bot import messages as m

        note = Message(m.line("{title}", title=title), (m.Section((m.line("{title}", title=title),)),))
        email = self._build(self._reader(person), note, key)
        maintype, _, subtype = _content_type(filename).partition("/")
        email.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
        self.sender.send(email)
        return Posted(f"{MAIL_CHANNEL}{person.email}", email["Message-ID"])

    def send_email(
        self,
        to: Contact | str,
        message: Message,
        *,
        key: str,
        study_id: int | None,
        attachments: tuple[Attachment, ...] = (),
    ) -> Posted:
        """An e-mail with what it carries: to a person, or to an address `report_to:` lists (a plan
        person's or a plain one). Inline images are shown where the message ends, by Content-ID."""
        reader = self._reader(to) if isinstance(to, Contact) else self._addressee(to, study_id)
        cids = [_content_id(key, i) for i in range(len(attachments))]
        images = tuple(
            Image(f"cid:{cid}", a.title) for a, cid in zip(attachments, cids, strict=True) if a.inline
        )
        shown = replace(message, blocks=(*message.blocks, *images))
        email = self._build(reader, shown, key)
        body = email.get_body(("html",))
        assert body is not None
        for attachment, cid in zip(attachments, cids, strict=True):
            maintype, subtype, params = _mime_type(attachment.content_type)
            if attachment.inline:
                body.add_related(
                    attachment.content,
                    maintype=maintype,
                    subtype=subtype,
                    cid=f"<{cid}>",
                    filename=attachment.filename,
                    disposition="inline",
                )
            else:
                email.add_attachment(
                    attachment.content,
                    maintype=maintype,
                    subtype=subtype,
                    filename=attachment.filename,
                    params=params,
                )
        self.sender.send(email)
        return Posted(f"{MAIL_CHANNEL}{reader.person.email}", email["Message-ID"])

    def find_posted(self, channel: str | None, person: Contact | None, *, key: str, since: float) -> None:
        """SMTP cannot tell whether an earlier attempt was delivered: the message goes again, the same
        Message-ID on it (mail clients show one)."""
        return None

    def post_to_channel(self, channel: str, message: Message, *, key: str) -> Posted:
        raise PermanentFailure("email_has_no_channels")

    def update_message(self, channel: str, message_id: str, message: Message) -> Posted:
        return Posted(channel, message_id)  # a sent e-mail cannot change

    def publish_view(self, person: Contact, home: Home) -> None:
        return None  # e-mail has no App Home

    # --- drawing ----------------------------------------------------------------------------------

    def _reader(self, person: Contact) -> _Reader:
        if not person.email:
            raise PermanentFailure("no_email_in_plan")
        with session_scope(self.engine) as session:
            view = directory.current(session)
        study = next((s for s in view.studies.values() if s.person(person.id) is not None), None)
        return _Reader(person, study)

    def _addressee(self, address: str, study_id: int | None) -> _Reader:
        """Whom `report_to:` names by address: the study's person with it, or the address alone (read in
        the study's timezone)."""
        with session_scope(self.engine) as session:
            study = directory.current(session).studies.get(study_id) if study_id is not None else None
        known = (p for p in (study.people.values() if study else ()) if (p.email or "").lower() == address)
        person = next(known, None) or Contact(
            id=0,
            handle=address,
            name="",
            side="",
            role="",
            slack_id=None,
            teams_id=None,
            email=address,
            prefers="email",
            timezone=study.timezone if study else "UTC",
        )
        return _Reader(person, study, listed=True)

    def _person_at(self, address: str) -> Contact:
        with session_scope(self.engine) as session:
            view = directory.current(session)
        for study in view.studies.values():
            for person in study.people.values():
                if (person.email or "").lower() == address.lower():
                    return person
        raise PermanentFailure("person_not_in_plan")

    def _build(self, reader: _Reader, message: Message, key: str) -> EmailMessage:
        person, study = reader.person, reader.study
        now = self.clock.now()
        drawn = draw(
            message,
            ZoneInfo(person.timezone),
            link=self._linker(reader, message, key),
            footer=Footer(
                study.name if study else "your study",
                _why_listed(study) if reader.listed else _change_preferences(study),
            ),
        )
        email = EmailMessage()
        email["From"] = self.mail_from
        email["To"] = Address(display_name=person.name, addr_spec=person.email or "")
        email["Subject"] = drawn.subject
        email["Date"] = format_datetime(now)
        email["Message-ID"] = message_id(key, self.mail_from)
        email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to Cadence
        email["X-Auto-Response-Suppress"] = "All"  # the same, for Exchange
        email["List-Unsubscribe"] = _unsubscribe(study, person, self.mail_from)
        email["X-Cadence-Key"] = key
        email.set_content(drawn.text)
        email.add_alternative(drawn.html, subtype="html")
        return email

    def _linker(self, reader: _Reader, message: Message, key: str) -> Linker:
        """Links for the buttons an e-mail offers, minted as the message is drawn (none without a public
        address: the e-mail then says which command does the same in chat)."""
        public_url, study = self.public_url, reader.study
        if not public_url or study is None or reader.listed:  # a report offers no actions
            return lambda button: None
        about = plain(message.fallback)
        minted: dict[tuple[str, str], str] = {}

        def link(button: Button) -> str | None:
            if not action_links.offered(button):
                return None
            if (button.action, button.value) not in minted:
                with session_scope(self.engine) as session:
                    token = action_links.mint(
                        session,
                        key=key,
                        study_id=study.id,
                        person_id=reader.person.id,
                        button=button,
                        about=about,
                        now=self.clock.now(),
                    )
                minted[(button.action, button.value)] = action_links.address(public_url, token)
            return minted[(button.action, button.value)]

        return link


def _admin_addresses(study: directory.StudyView | None) -> list[str]:
    if study is None:
        return []
    return [p.email for h in study.admins if (p := study.people.get(h)) is not None and p.email]


def _change_preferences(study: directory.StudyView | None) -> str:
    admins = [study.people[h].name for h in study.admins if h in study.people] if study else []
    who = f"the study's admins ({', '.join(admins)})" if admins else "the study's admins"
    return (
        f"To get these messages in chat instead, or fewer of them, ask {who} to change how the plan "
        "reaches you (prefers: email, dm or channel)."
    )


def _why_listed(study: directory.StudyView | None) -> str:
    admins = [study.people[h].name for h in study.admins if h in study.people] if study else []
    who = f"the study's admins ({', '.join(admins)})" if admins else "the study's admins"
    return (
        f"You get this because the study's plan lists this address under report_to:; ask {who} to change it."
    )


def _content_id(key: str, index: int) -> str:
    """An inline image's Content-ID: the same for every attempt of the message."""
    return f"{hashlib.sha256(f'{key}:{index}'.encode()).hexdigest()[:32]}@cadence"


def _mime_type(content_type: str) -> tuple[str, str, dict[str, str]]:
    """`text/calendar; method=PUBLISH` as ("text", "calendar", {"method": "PUBLISH"})."""
    kind, *rest = (part.strip() for part in content_type.split(";"))
    maintype, _, subtype = kind.partition("/")
    params = dict(p.partition("=")[::2] for p in rest if "=" in p)
    return maintype, subtype, params


def _unsubscribe(study: directory.StudyView | None, person: Contact, mail_from: str) -> str:
    """A mailto the study's admins read (Cadence reads no mail): they change the person's `prefers:`."""
    to = ",".join(_admin_addresses(study)) or Address(addr_spec=_bare(mail_from)).addr_spec
    subject = quote(f"Cadence: stop e-mail to {person.handle} ({study.key if study else 'study'})")
    return f"<mailto:{to}?subject={subject}>"


def _bare(address: str) -> str:
    return address.rpartition("<")[2].strip(" >") if "<" in address else address.strip()


def _content_type(filename: str) -> str:
    lower = filename.lower()
    if lower.endswith(".png"):
        return "image/png"
    if lower.endswith(".pdf"):
        return "application/pdf"
    if lower.endswith(".csv"):
        return "text/csv"
    if lower.endswith(".zip"):
        return "application/zip"
    return "application/octet-stream"


def email_notifier(
    engine: Engine, clock: Clock, *, smtp_url: str, mail_from: str | None, public_url: str | None
):
    """The e-mail sender for SMTP_URL and CADENCE_MAIL_FROM (default: cadence@<the SMTP host>)."""
    server = SmtpServer.from_url(smtp_url)
    sender_address = mail_from or f"Cadence <cadence@{server.host}>"
    return EmailNotifier(engine, SmtpSender(server), clock, mail_from=sender_address, public_url=public_url)
