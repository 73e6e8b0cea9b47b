"""The Trial Master File export: one PDF per record (minutes, escalations, routed questions), the
partnership review of the period, and an index CSV with the metadata a TMF needs. The same records give
the same bytes, and no secret is ever written."""

from __future__ import annotations

import csv
import io
import logging
import os
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from bot import audit, directory, due, outbox, partnership, published
from bot.directory import StudyView
from bot.errors import BadCommand, NotAnAdmin
from bot.escalation import reference as issue_ref
from bot.escalation import show as issue_history
from bot.minutes import ref as minutes_ref
from bot.models import ActionItem, Decision, Escalation, ExportDownload, Minutes, Question, utcnow
from bot.questions import reference as question_ref
from bot.replies import Notice
from bot.studies import Requester, requester_for

log = logging.getLogger("cadence.export")
MEETING_MATERIAL = ("Other Meeting Material", "01.05.03")
COMMUNICATIONS = ("Relevant Communications", "01.05.01")
# The periods an export can cover: a study's records lie well within these, and dates near the calendar's
# ends cannot be turned into times in every timezone.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
PERIOD_HINT = "/cadence export 2026-01-01 2026-12-31"
INDEX_COLUMNS = (
    "file",
    "study_id",
    "tmf_artifact",
    "tmf_reference",
    "date",
    "title",
    "participants",
    "version",
)


@dataclass(frozen=True)
class Exported:
    files: tuple[str, ...]
    archive: bytes  # the same files, zipped, for chat


def export_study(
    session: Session, *, study_key: str, start: date, end: date, out: Path | None = None
) -> Exported:
    """Write the records dated start..end (inclusive) as PDFs plus index.csv; return them zipped too."""
    check_period(start, end)
    study = directory.current(session).study_by_key(study_key)
    if study is None:
        raise BadCommand(f"There is no study {study_key}.")
    documents = (
        _minutes(session, study, start, end)
        + _escalations(session, study, start, end)
        + _questions(session, study, start, end)
        + _review(session, study, start, end)
    )
    rows, files = [], {}
    for name, pdf, meta in sorted(documents, key=lambda d: d[0]):
        files[name] = pdf
        rows.append({"file": name, "study_id": study.key, **meta, "version": "1.0"})
    index = io.StringIO()
    writer = csv.DictWriter(index, fieldnames=INDEX_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    files["index.csv"] = index.getvalue().encode()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (out / name).write_bytes(content)
    return Exported(tuple(files), _zip(files))


@dataclass(frozen=True)
class ExportRequested:
    start: date
    end: date


def export_for_admin(session: Session, *, requester: Requester, text: str, now: datetime) -> ExportRequested:
    """`/cadence export [from] [to]` (admins): the files come by direct message, zipped, built once the
    answer has gone (building them takes seconds, and Slack wants its answer within three)."""
    if not requester.is_admin:
        raise NotAnAdmin("Only the plan's admins can export the study's records.")
    words = text.split()
    try:
        start = date.fromisoformat(words[0]) if words else date(2000, 1, 1)
        end = date.fromisoformat(words[1]) if len(words) > 1 else now.date()
    except ValueError:
        raise BadCommand("Give the dates as YYYY-MM-DD.", hint=PERIOD_HINT) from None
    check_period(start, end)
    name = f"{requester.study_key}-tmf-{start}-{end}.zip"
    outbox.enqueue(
        session,
        key=f"export:{requester.study_key}:{requester.handle}:{now.isoformat()}",
        to=outbox.Destination.person(requester.person_id),
        now=now,
        study_id=requester.study_id,
        at_once=True,  # the file they asked for
        notice=Notice(
            "export_file",
            {
                "filename": name,
                "title": f"Trial Master File export {start} to {end}",
                "study_key": requester.study_key,
                "start": start.isoformat(),
                "end": end.isoformat(),
            },
        ),
    )
    return ExportRequested(start, end)


# --- downloads on the web ----------------------------------------------------------------------------

ZIP = "application/zip"
DOWNLOADS_SHOWN = 5
ABANDONED_AFTER = timedelta(minutes=15)  # a build this old was cut short (its instance stopped): built anew


@dataclass(frozen=True)
class Download:
    id: int
    filename: str
    start: date
    end: date
    state: str  # pending, building, built or failed
    requested_at: datetime
    built_at: datetime | None


def request_download(session: Session, *, requester: Requester, start: date, end: date, now: datetime) -> int:
    """An admin's export from the web: the tick builds it (it takes seconds, longer than a page should),
    as the delivery worker builds `/cadence export`'s; the page offers it once built."""
    if not requester.is_admin:
        raise NotAnAdmin("Only the plan's admins can export the study's records.")
    check_period(start, end)
    row = ExportDownload(
        study_id=requester.study_id, person_id=requester.person_id, start=start, end=end, requested_at=now
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        action="export.requested",
        actor=requester.actor,
        study_id=requester.study_id,
        subject=f"{start}..{end}",
        detail={"by": requester.handle, "from": "web"},
    )
    assert row.id is not None
    return row.id


def downloads(session: Session, *, requester: Requester, now: datetime) -> tuple[Download, ...]:
    """The study's latest exports asked for on the web (admins), newest first, those expired left out."""
    if not requester.is_admin:
        raise NotAnAdmin("Only the plan's admins can export the study's records.")
    rows = session.exec(
        select(ExportDownload)
        .where(ExportDownload.study_id == requester.study_id)
        .order_by(col(ExportDownload.requested_at).desc(), col(ExportDownload.id).desc())
        .limit(DOWNLOADS_SHOWN)
    )
    return tuple(
        Download(r.id, _filename(requester.study_key, r), r.start, r.end, r.state, r.requested_at, r.built_at)
        for r in rows
        if r.id is not None and (r.built_at is None or r.built_at + published.KEPT > now)
    )


def downloaded(
    session: Session, *, requester: Requester, download_id: int, now: datetime
) -> tuple[str, bytes]:
    """A built export's file name and zip, for an admin of its study; audited."""
    if not requester.is_admin:
        raise NotAnAdmin("Only the plan's admins can export the study's records.")
    row = session.get(ExportDownload, download_id)
    found = (
        published.find_published(session, token=row.token, now=now)
        if row is not None and row.study_id == requester.study_id and row.token
        else None
    )
    if row is None or found is None:
        raise BadCommand("That export is not there (any more).", hint="Ask for a new one.")
    audit.record(
        session,
        action="export.downloaded",
        actor=requester.actor,
        study_id=requester.study_id,
        subject=f"{row.start}..{row.end}",
        detail={"by": requester.handle, "from": "web"},
    )
    return _filename(requester.study_key, row), found[0]


def _filename(study_key: str, row: ExportDownload) -> str:
    return f"{study_key}-tmf-{row.start}-{row.end}.zip"


@due.work(order=95)
def build_downloads(session: Session, *, now: datetime) -> int:
    """Build the exports asked for on the web, oldest first: each claimed before it is built (another
    instance's tick builds another one), the claim committed at once so the seconds of building hold no
    lock; a failure is logged with a reference and shown on the page."""
    waiting = _waiting(now)
    pending = session.exec(select(ExportDownload.id).where(waiting).order_by(col(ExportDownload.id))).all()
    for download_id in pending:
        claimed = session.exec(  # type: ignore[call-overload]
            update(ExportDownload)
            .where(col(ExportDownload.id) == download_id, waiting)
            .values(state="building", claimed_at=now)
        )
        session.commit()
        if claimed.rowcount != 1:
            continue
        row = session.get(ExportDownload, download_id)
        study = directory.current(session).studies.get(row.study_id) if row else None
        if row is None or study is None:
            continue
        try:
            archive = export_study(session, study_key=study.key, start=row.start, end=row.end).archive
        except Exception:
            session.rollback()
            log.exception("building the web export %s of %s failed", download_id, study.key)
            row = session.get(ExportDownload, download_id)
            row.state = "failed"
            session.commit()
            continue
        token = published.publish(
            session, key=f"export-download:{download_id}", content=archive, content_type=ZIP, now=now
        )
        row.state, row.token, row.built_at = "built", token, now
        session.commit()
    return 0  # nothing queued: the file waits on the page


def _waiting(now: datetime):
    building = col(ExportDownload.state) == "building"
    return or_(
        col(ExportDownload.state) == "pending",
        and_(building, col(ExportDownload.claimed_at) < now - ABANDONED_AFTER),
    )


@due.next_due_of(build_downloads)
def next_download(session: Session, *, now: datetime) -> datetime | None:
    """At once while an export is waiting to be built."""
    return session.exec(
        select(ExportDownload.requested_at)
        .where(ExportDownload.state == "pending")
        .order_by(col(ExportDownload.requested_at))
    ).first()


def check_period(start: date, end: date) -> None:
    """Refuse a period that runs backwards or reaches outside the years an export can cover."""
    if end < start:
        raise BadCommand("The end date is before the start date.", hint=PERIOD_HINT)
    if start < EARLIEST or end > LATEST:
        raise BadCommand(f"An export covers dates from {EARLIEST} to {LATEST}.", hint=PERIOD_HINT)


@outbox.builds_file("export_file")
def _archive(session: Session, request: dict) -> bytes:
    """The zip an export request shares, built from the records as they are when it is sent."""
    return export_study(
        session,
        study_key=request["study_key"],
        start=date.fromisoformat(request["start"]),
        end=date.fromisoformat(request["end"]),
    ).archive


def _minutes(session: Session, study: StudyView, start: date, end: date) -> list:
    documents = []
    query = select(Minutes).where(Minutes.study_id == study.id, Minutes.state == "posted")
    for minutes in session.exec(query.order_by(col(Minutes.id))):
        if not start <= minutes.held_on <= end:
            continue
        ref = minutes_ref(study.key, minutes.id)
        people = [study.people[h] for h in minutes.attendees if h in study.people]
        pdf = _Pdf(f"Minutes — {minutes.meeting}", ref, minutes.held_on)
        pdf.field("Study", f"{study.key} — {study.name}")
        pdf.field("Meeting", f"{minutes.meeting}, {minutes.held_on}")
        pdf.field("Attendees", "; ".join(f"{p.name} ({_org(p.side)})" for p in people) or "—")
        decisions = session.exec(
            select(Decision).where(Decision.minutes_id == minutes.id).order_by(col(Decision.id))
        )
        pdf.section("Decisions", [f"D{d.id}: {d.text}" for d in decisions])
        items = session.exec(
            select(ActionItem).where(ActionItem.minutes_id == minutes.id).order_by(col(ActionItem.id))
        )
        pdf.section(
            "Action items",
            [
                f"A{i.id}: {i.text} — {study.member(i.owner_id).name if i.owner_id else 'needs an owner'}, "
                f"due {i.due_on or '—'}, {i.state}"
                for i in items
            ],
        )
        pdf.section("Notes", list(minutes.notes))
        artifact, reference = MEETING_MATERIAL
        documents.append(
            (
                f"{ref}.pdf",
                pdf.bytes(),
                {
                    "tmf_artifact": artifact,
                    "tmf_reference": reference,
                    "date": minutes.held_on.isoformat(),
                    "title": f"Minutes: {minutes.meeting}",
                    "participants": _participants(people),
                },
            )
        )
    return documents


def _escalations(session: Session, study: StudyView, start: date, end: date) -> list:
    documents = []
    for issue in session.exec(
        select(Escalation).where(Escalation.study_id == study.id).order_by(col(Escalation.id))
    ):
        raised = issue.raised_at.date()
        if not start <= raised <= end:
            continue
        reporter = study.person(issue.reporter_id)
        history = (
            issue_history(session, requester=requester_for(study, reporter), issue_id=issue.id)
            if reporter
            else None
        )
        ref = issue_ref(study.key, issue.id)
        pdf = _Pdf(f"Escalation — {issue.summary}", ref, raised)
        pdf.field("Severity", issue.severity)
        pdf.field("Status", issue.state + (f": {issue.resolution}" if issue.resolution else ""))
        pdf.field("Raised by", f"{reporter.name} ({_org(reporter.side)})" if reporter else "—")
        for label, value in (("Topic", issue.topic), ("Impact", issue.impact), ("Tried", issue.tried)):
            if value:
                pdf.field(label, value)
        pdf.section(
            "Audit trail (UTC)",
            [
                f"{when:%Y-%m-%d %H:%M} — {who}: {what}"
                for when, who, what in (history.events if history else ())
            ],
        )
        artifact, reference = COMMUNICATIONS
        documents.append(
            (
                f"{ref}.pdf",
                pdf.bytes(),
                {
                    "tmf_artifact": artifact,
                    "tmf_reference": reference,
                    "date": raised.isoformat(),
                    "title": f"Escalation: {issue.summary}",
                    "participants": _participants([reporter] if reporter else []),
                },
            )
        )
    return documents


def _questions(session: Session, study: StudyView, start: date, end: date) -> list:
    documents = []
    for question in session.exec(
        select(Question).where(Question.study_id == study.id).order_by(col(Question.id))
    ):
        asked = question.asked_at.date()
        if not start <= asked <= end or question.state == "choosing":
            continue
        people = [p for p in study.people.values() if p.id in {question.asker_id, question.assignee_id}]
        ref = question_ref(study.key, question.id)
        pdf = _Pdf(f"Routed question {ref}", ref, asked)
        pdf.field("Question", question.text)
        pdf.field("Topic", question.topic or "—")
        pdf.field("Asked by", study.member(question.asker_id).name)
        pdf.field("Asked of", study.member(question.assignee_id).name if question.assignee_id else "—")
        pdf.field(
            "Status", question.state + (f", marked by {question.answered_by}" if question.answered_by else "")
        )
        if question.answer:
            pdf.field("Answer", question.answer)
        artifact, reference = COMMUNICATIONS
        documents.append(
            (
                f"{ref}.pdf",
                pdf.bytes(),
                {
                    "tmf_artifact": artifact,
                    "tmf_reference": reference,
                    "date": asked.isoformat(),
                    "title": f"Question: {question.text[:80]}",
                    "participants": _participants(people),
                },
            )
        )
    return documents


def _review(session: Session, study: StudyView, start: date, end: date) -> list:
    """The partnership review of the export's period: the figures per side, the pulse, what to improve."""
    zone = ZoneInfo(study.timezone)
    since = datetime.combine(start, time(0), tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone)
    data = partnership.review(session, study, since, until, min(until, utcnow()))
    pdf = _Pdf(f"Partnership review — {study.key}", f"{study.key}-review-{start}-{end}", end)
    pdf.field("Study", f"{study.key} — {study.name}")
    pdf.field("Period", f"{start} to {end}")
    pdf.section(
        "Figures per side, against the agreed targets", [_kpi_line(row) for row in data["kpis"]["rows"]]
    )
    pdf.section("Pulse: each side's rating of the other (1 to 5)", _pulse_lines(data["pulse"]))
    pdf.section("What went well", data["went_well"])
    pdf.section("What to improve", data["to_improve"])
    pdf.section("What moved", data["moved"])
    artifact, reference = COMMUNICATIONS
    meta = {
        "tmf_artifact": artifact,
        "tmf_reference": reference,
        "date": end.isoformat(),
        "title": f"Partnership review {start} to {end}",
        "participants": "Sponsor; CRO",
    }
    return [(f"{study.key}-partnership-review-{start}-{end}.pdf", pdf.bytes(), meta)]


def _kpi_line(row: dict) -> str:
    sides = "; ".join(
        f"{_org(side)} {f['percent']}% ({f['met']} of {f['of']}, {'met' if f['ok'] else 'missed'})"
        if f["percent"] is not None
        else f"{_org(side)} nothing due"
        for side, f in row["sides"].items()
    )
    return f"{row['label']} (target {row['target']}%): {sides}"


def _pulse_lines(rounds: list[dict]) -> list[str]:
    lines = []
    for shown in rounds:
        for question in shown["questions"]:
            ratings = "; ".join(
                f"{partnership.about(r['side'])} "
                + (
                    f"{r['average']:.1f} from {r['answers']}"
                    if r["average"] is not None
                    else "too few answers"
                )
                for r in question["sides"]
            )
            lines.append(f"{shown['period']}: {ratings}")
        lines += [
            f"{shown['period']}, from the {_org(s)}: “{w}”"
            for s, words in shown["comments"].items()
            for w in words
        ]
    return lines


class _Pdf:
    """A plain, reproducible PDF: a Unicode font shipped with matplotlib, a creation date from the record."""

    def __init__(self, title: str, ref: str, day: date):
        # Imported when a PDF is made: fpdf brings PIL and fontTools, some 40 MB no request needs.
        import matplotlib
        from fpdf import FPDF

        self.pdf = FPDF()
        self.pdf.set_creation_date(datetime.combine(day, time(), tzinfo=UTC))
        self.pdf.set_title(title)
        self.pdf.add_page()
        font = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")
        self.pdf.add_font("DejaVu", fname=font)
        self.pdf.set_font("DejaVu", size=14)
        self._line(8, title)
        self.pdf.set_font("DejaVu", size=9)
        self._line(6, f"{ref} · version 1.0")
        self.pdf.ln(2)
        self.pdf.set_font("DejaVu", size=10)

    def field(self, label: str, value: str) -> None:
        self._line(6, f"{label}: {value}")

    def section(self, heading: str, lines: list[str]) -> None:
        self.pdf.ln(2)
        self.pdf.set_font("DejaVu", size=11)
        self._line(7, heading)
        self.pdf.set_font("DejaVu", size=10)
        for line in lines or ["—"]:
            self._line(6, f"• {line}")

    def _line(self, height: int, text: str) -> None:
        self.pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")

    def bytes(self) -> bytes:
        return bytes(self.pdf.output())


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(
                name, date_time=(2000, 1, 1, 0, 0, 0)
            )  # fixed: the same records, the same zip
            archive.writestr(info, content)
    return buffer.getvalue()


def _org(side: str) -> str:
    return {"sponsor": "Sponsor", "cro": "CRO"}.get(side, side)


def _participants(people) -> str:
    return "; ".join(f"{p.name} ({_org(p.side)})" for p in people if p)
