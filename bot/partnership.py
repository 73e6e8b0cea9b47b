"""How the partnership went: the KPIs of each side against the targets, the pulse of each side about the
other, what went well and what to improve. Posted in the study channel once a month when a pulse round
closes, and on request for any period (`/cadence review`), with a PDF in the Trial Master File export."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import calendars, directory, due, escalation, kpis, outbox, pulse, report_to, timeline
from bot.dates import read_leading_date
from bot.directory import StudyView
from bot.errors import BadCommand
from bot.models import Milestone, MilestoneUpdate, PulseRound, Question, Study
from bot.replies import Notice
from bot.studies import Requester, typists_day

MONTH = timedelta(weeks=4)  # what a monthly review looks back on, beside the four weeks before
MOVED = 5  # percentage points a KPI moves before the review calls it improved or slipped
REVIEW_BACK = timedelta(days=14)  # a round closed longer ago than this (Cadence was down) gets no review
MOST_ROUTED = 3


@dataclass(frozen=True)
class ReviewShown:
    review: dict  # as `review` builds it


def review(session: Session, study: StudyView, start: datetime, end: datetime, now: datetime) -> dict:
    """The figures of `start` to `end` per side against the targets, beside a period as long before it;
    each side's pulse about the other in it; what went well, what to improve, what moved. Neither period
    reaches back before the study's start: a period that would lies after it, or is left out."""
    row = session.get(Study, study.id)
    began = timeline.began(row) if row else start
    start = max(start, min(began, end))
    before = max(start - (end - start), began)
    table = kpis.as_table(
        session,
        study,
        kpis.counts(session, study, start, end, now),
        kpis.counts(session, study, before, start, now) if before < start else None,
        start=start,
        end=end,
    )
    rounds = pulse.rounds_between(session, study.id, start, end)
    earlier = pulse.last_rounds(session, study.id, 1, before=rounds[0].opened_at) if rounds else []
    summaries = [pulse.summarize(session, study, r).as_data() for r in (*earlier, *rounds)]
    return {
        "study": study.key,
        "study_name": study.name,
        "from": start.date().isoformat(),
        "to": (end - timedelta(seconds=1)).date().isoformat(),  # the last day in it
        "kpis": table,
        "pulse": summaries[len(earlier) :],
        "went_well": _verdicts(table, True),
        "to_improve": _verdicts(table, False)
        + _slipped_milestones(session, study, start, end)
        + _rerouted_topics(session, study, start, end)
        + _climbed_escalations(session, study, start, end),
        "moved": _moves(table) + _pulse_moves(summaries),
    }


def _verdicts(table: dict, met: bool) -> list[str]:
    return [
        f"{_side(side)}: {row['label'].lower()} {figure['percent']}% ({figure['met']} of {figure['of']}; "
        f"target {row['target']}%)"
        for row in table["rows"]
        for side, figure in row["sides"].items()
        if figure["ok"] is met
    ]


def _moves(table: dict) -> list[str]:
    moves = []
    for row in table["rows"]:
        for side, figure in row["sides"].items():
            now, before = figure["percent"], figure["previous"]
            if now is not None and before is not None and abs(now - before) >= MOVED:
                way = "improved" if now > before else "slipped"
                moves.append(f"{_side(side)}: {row['label'].lower()} {way}, from {before}% to {now}%")
    return moves


def _pulse_moves(summaries: list[dict]) -> list[str]:
    """Each side's rating of the other against the round before, where both could be shown."""
    moves = []
    for before, after in zip(summaries, summaries[1:], strict=False):
        for q_before, q_after in zip(before["questions"], after["questions"], strict=False):
            for was, now in zip(q_before["sides"], q_after["sides"], strict=True):
                if was["average"] is None or now["average"] is None or was["average"] == now["average"]:
                    continue
                way = "rose" if now["average"] > was["average"] else "fell"
                was_shown, now_shown = f"{was['average']:.1f}", f"{now['average']:.1f}"
                moves.append(f"{about(now['side'])}: the rating {way} from {was_shown} to {now_shown}")
    return moves


def about(side: str) -> str:
    """'CRO about the sponsor': whose rating of whom."""
    return {"cro": "CRO about the sponsor", "sponsor": "Sponsor about the CRO"}.get(side, side)


def _side(side: str) -> str:
    return {"cro": "CRO", "sponsor": "Sponsor"}.get(side, side)


def _slipped_milestones(session: Session, study: StudyView, start: datetime, end: datetime) -> list[str]:
    rows = {r.id: r for r in session.exec(select(Milestone).where(Milestone.study_id == study.id))}
    if not rows:
        return []
    names = {
        str(m["name"]).casefold(): m["name"]
        for m in ((session.get(Study, study.id).plan or {}).get("milestones") or [])
    }
    slipped = session.exec(
        select(MilestoneUpdate).where(
            col(MilestoneUpdate.milestone_id).in_(list(rows)),
            MilestoneUpdate.at >= start,
            MilestoneUpdate.at < end,
            MilestoneUpdate.status == "slipped",
        )
    ).all()
    seen = dict.fromkeys(names.get(rows[u.milestone_id].key, rows[u.milestone_id].key) for u in slipped)
    return [f"milestone slipped: {name}" for name in seen]


def _rerouted_topics(session: Session, study: StudyView, start: datetime, end: datetime) -> list[str]:
    counted = Counter(
        q.topic
        for q in session.exec(
            select(Question).where(
                Question.study_id == study.id,
                Question.asked_at >= start,
                Question.asked_at < end,
                Question.routes > 1,
            )
        )
        if q.topic
    )
    return [
        f"questions on {topic} were re-routed {n} time(s): is its owner clear?"
        for topic, n in counted.most_common(MOST_ROUTED)
    ]


def _climbed_escalations(session: Session, study: StudyView, start: datetime, end: datetime) -> list[str]:
    climbed = sorted(escalation.climbed_unacknowledged(session, study_id=study.id, start=start, end=end))
    if not climbed:
        return []
    return [f"{len(climbed)} escalation(s) climbed a level before anyone acknowledged: {', '.join(climbed)}"]


# --- the monthly review, and one on request ---------------------------------------------------------


@due.work(order=57)
def post_monthly_reviews(session: Session, *, now: datetime) -> int:
    """When a pulse round has closed: the partnership review of the four weeks before, in the channel."""
    queued = 0
    view = directory.current(session)
    for round_ in _closed_recently(session, now):
        study = view.studies.get(round_.study_id)
        if study is None or not study.channel or timeline.is_over(session.get(Study, study.id), now):
            continue  # after the study's end, its close-out review says it all
        review_key = f"partnership:{study.key}:{round_.period}"
        if outbox.message(session, review_key) is not None:
            continue
        assert round_.closed_at is not None
        data = review(session, study, round_.closed_at - MONTH, round_.closed_at, now)
        notice = Notice("partnership_review", data | {"monthly": True, "period": round_.period})
        queued += outbox.enqueue(
            session,
            key=review_key,
            to=outbox.Destination.channel(study.channel),
            notice=notice,
            now=now,
            study_id=study.id,
        )
        report_to.mail(session, study, key=review_key, notice=notice, now=now)
    return queued


@due.next_due_of(post_monthly_reviews)
def next_monthly_review(session: Session, *, now: datetime) -> datetime | None:
    """Now, while a closed round's review is still to post (the close itself wakes the tick)."""
    view = directory.current(session)
    for round_ in _closed_recently(session, now):
        study = view.studies.get(round_.study_id)
        if (
            study
            and study.channel
            and not timeline.is_over(session.get(Study, study.id), now)
            and outbox.message(session, f"partnership:{study.key}:{round_.period}") is None
        ):
            return now
    return None


# --- the close-out review, once the study has ended ---------------------------------------------------


@due.each_study(order=58)
def close_out(session: Session, study: StudyView, *, now: datetime) -> int:
    """At the study's end, what its cadence still had queued is dropped; at the next working hour in the
    study's time, the review of the whole study goes to the study channel, once."""
    row = session.get(Study, study.id)
    end = timeline.ends(row) if row else None
    if row is None or end is None or now < end:
        return 0
    timeline.drop_cadence_after_end(session, row)
    key = f"close-out:{study.key}"
    if not study.channel or now < _close_out_at(row, end) or outbox.message(session, key) is not None:
        return 0
    data = review(session, study, timeline.began(row), end, now)
    notice = Notice("partnership_review", data | {"closing": True})
    report_to.mail(session, study, key=key, notice=notice, now=now)
    return outbox.enqueue(
        session,
        key=key,
        to=outbox.Destination.channel(study.channel),
        notice=notice,
        now=now,
        study_id=study.id,
    )


@due.next_for_study(close_out)
def next_close_out(session: Session, study: StudyView, *, now: datetime) -> datetime | None:
    """The study's end, then the working hour its close-out review is posted at."""
    row = session.get(Study, study.id)
    end = timeline.ends(row) if row else None
    if row is None or end is None:
        return None
    if now < end:
        return end
    if study.channel and outbox.message(session, f"close-out:{study.key}") is None:
        return max(_close_out_at(row, end), now)
    return None


def _close_out_at(row: Study, end: datetime) -> datetime:
    return calendars.from_spec(row.timezone, None).next_working_moment(end)


def _closed_recently(session: Session, now: datetime) -> list[PulseRound]:
    return list(
        session.exec(
            select(PulseRound).where(
                PulseRound.state == "closed", col(PulseRound.closed_at) >= now - REVIEW_BACK
            )
        )
    )


def review_for(session: Session, *, requester: Requester, text: str, now: datetime) -> ReviewShown:
    """`/cadence review [from] [to]`: any period (the whole study by default), to the asker."""
    study = directory.current(session).studies[requester.study_id]
    start, end = period(session, requester, text, now)
    return ReviewShown(review(session, study, start, end, now))


def period(session: Session, requester: Requester, text: str, now: datetime) -> tuple[datetime, datetime]:
    """The dates typed (`2026-10-01 2026-12-31`, `1 Oct 31 Dec`), whole days in the study's time;
    without them, from the study's start to now (or to its end). Never from before the study's start."""
    usage = "/cadence review 2026-10-01 2026-12-31   (both left out: the whole study)"
    today, month_first = typists_day(session, requester, now)
    words, days = text.split(), []
    while words and len(days) < 2:
        read = read_leading_date(words, today, month_first=month_first)
        if read is None:
            raise BadCommand(f"'{' '.join(words)[:40]}' is not a date.", hint=f"For example: {usage}")
        day, words = read
        days.append(day)
    if words:
        raise BadCommand("Give at most two dates: from and to.", hint=f"For example: {usage}")
    zone = ZoneInfo(requester.study_timezone)
    row = session.get(Study, requester.study_id)
    began = timeline.began(row) if row else now
    ended = timeline.ends(row) if row else None
    start = _midnight(days[0], zone) if days else began
    end = _midnight(days[1] + timedelta(days=1), zone) if len(days) > 1 else min(now, ended or now)
    if end <= start:
        raise BadCommand("The end date is before the start date.", hint=f"For example: {usage}")
    if end <= began:
        raise BadCommand(
            f"The study began on {began:%a %d %b %Y}: there is nothing to review before it.",
            hint=f"Give dates from {began:%Y-%m-%d} on, or none for the whole study.",
        )
    return max(start, began), end


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)
