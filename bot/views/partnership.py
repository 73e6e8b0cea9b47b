"""Partnership health: the KPIs against their targets, the pulse both ways, and the partnership review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import messages as m
from bot.kpis import KpisShown
from bot.partnership import ReviewShown, about
from bot.pulse import SCORES, PulseCommented, PulseRated, PulseShown, PulseStarted
from bot.views import context, message, notice_view, reply, section
from bot.views.minutes import date_label
from bot.wording import side_label

_VERDICT = {True: m.Emoji("white_check_mark"), False: m.Emoji("warning"), None: m.Emoji("white_circle")}


# --- the KPI table ---------------------------------------------------------------------------------


def kpi_blocks(table: dict[str, Any]) -> tuple[m.Block, ...]:
    """Each KPI with its target, and each side's figure, verdict and trend: what heads the report too."""
    return tuple(
        m.Section(
            (m.line("*{label}* · target {t}%", label=row["label"], t=str(row["target"])),),
            fields=tuple(_figure(side, figure) for side, figure in row["sides"].items()),
        )
        for row in table["rows"]
    )


def _figure(side: str, figure: dict[str, Any]) -> m.Field:
    """A side's figure under its name: `Sponsor` / `:warning: 70% (7 of 10), missed; ↓ from 80%`."""
    label = m.line("*{s}*", s=side_label(side))
    if figure["percent"] is None:
        return m.Field((label, m.line("nothing due")))
    verdict = "met" if figure["ok"] else "missed"
    return m.Field((label, _measured(figure, verdict)))


def _measured(figure: dict[str, Any], verdict: str) -> m.Line:
    return m.line(
        "{mark} *{p}%* ({met} of {of}), {verdict}{trend}",
        mark=_VERDICT[figure["ok"]],
        p=str(figure["percent"]),
        met=str(figure["met"]),
        of=str(figure["of"]),
        verdict=verdict,
        trend=_trend(figure["percent"], figure["previous"]),
    )


def _trend(now: int, before: int | None) -> str:
    if before is None:
        return ""
    if now == before:
        return f"; → as before ({before}%)"
    return f"; {'↑' if now > before else '↓'} from {before}%"


@reply.register
def _(result: KpisShown) -> m.Message:
    table = result.table
    title = m.line(
        ":dart: *KPIs of {study}, {start} to {end}* ({weeks} week(s)), each side against the agreed targets",
        study=table["study"],
        start=date_label(table["from"]),
        end=date_label(table["to"]),
        weeks=str(table["weeks"]),
    )
    note = m.line(
        "The trend compares with the {w} week(s) before. Not yet due counts neither way.",
        w=str(table["weeks"]),
    )
    return message(f"KPIs of {table['study']}", section(title), *kpi_blocks(table), context(note))


# --- the pulse -------------------------------------------------------------------------------------


def _rating_buttons(data: dict[str, Any], number: int) -> m.Actions:
    typed = f"/cadence pulse answer {f'q{number + 1} ' if number else ''}"
    return m.Actions(
        tuple(
            m.Button(
                f"pulse_rate_{score}",
                f"{data['study']}|{data['round']}|{number}|{score}",
                str(score),
                typed=f"{typed}{score}",
            )
            for score in SCORES
        ),
        id=f"pulse_{number}",
    )


def _comment_button(round_id: int) -> m.Button:
    return m.Button(
        "pulse_comment", str(round_id), "Add a comment", typed="/cadence pulse answer <1-5> <comment>"
    )


def comment_form(round_id: int) -> m.Form:
    field = m.TextInput(
        "note",
        "Your comment for the other side",
        multiline=True,
        max_length=1000,
        hint="Shown without your name, with your side's comments, once at least three of your side answered.",
    )
    return m.Form(
        "pulse_comment",
        "Pulse comment",
        "Send",
        (field,),
        str(round_id),
        typed="/cadence pulse answer <1-5> <comment>",
    )


@notice_view("pulse_request")
@notice_view("pulse_reminder")
def _(data: dict[str, Any]) -> m.Message:
    opening = (
        m.line(
            ":bell: A reminder, {n}: the monthly pulse of *{s}* is still waiting for you.",
            n=data["name"],
            s=data["study"],
        )
        if data.get("reminder")
        else m.line(
            ":handshake: *Monthly pulse of {s}* — hi {n}, a minute of yours on the partnership.",
            s=data["study"],
            n=data["name"],
        )
    )
    blocks: list[m.Block] = [section(opening)]
    for number, question in enumerate(data["questions"]):
        blocks.append(section(m.line("*{q}* 1 = poorly, 5 = very well.", q=question)))
        blocks.append(_rating_buttons(data, number))
    blocks.append(m.Actions((_comment_button(data["round"]),), id="pulse_comment"))
    privacy = m.line(
        "Shown only as your side's average, and only once three of your side answered; never with your name. "
        "A second click changes your rating. Open until {at}.",
        at=m.Time(datetime.fromisoformat(data["closes_at"])),
    )
    blocks.append(context(privacy))
    return message(f"How well did {data['other']} communicate this month?", *blocks)


@reply.register
def _(result: PulseStarted) -> m.Message:
    text = m.line(
        ":handshake: Pulse round started: {n} people of both sides are asked by direct message. "
        "It is open until {at}.",
        n=str(result.asked),
        at=m.Time(result.closes_at),
    )
    return message(
        "Pulse round started", section(text), context(m.line("/cadence pulse shows how it stands."))
    )


@reply.register
def _(result: PulseRated) -> m.Message:
    changed = (
        m.line(" (was {p}; changed, counted once)", p=str(result.previous))
        if result.previous not in (None, result.score)
        else None
    )
    text = m.line(
        "Thanks: you rated *{s}* for “{q}”{changed}.", s=str(result.score), q=result.question, changed=changed
    )
    after = m.line("Until {at} a second click changes it. Anything to add?", at=m.Time(result.closes_at))
    comment = m.Actions((_comment_button(result.round_id),), id="pulse_comment")
    return message("Thanks for your rating", section(text), context(after), comment)


@reply.register
def _(result: PulseCommented) -> m.Message:
    text = m.line("Thanks: your comment is kept, and shown without your name.")
    return message("Thanks for your comment", section(text))


def pulse_lines(rounds: list[dict[str, Any]]) -> list[m.Block]:
    """Each round: each side's rating of the other (average and count), and its comments, no names."""
    blocks: list[m.Block] = []
    for shown in rounds:
        state = (
            m.line("open until {at}", at=m.Time(datetime.fromisoformat(shown["closes_at"])))
            if shown["open"]
            else m.line("closed")
        )
        lines = [m.line("*Pulse {p}* ({state})", p=_period(shown["period"]), state=state)]
        several = len(shown["questions"]) > 1
        for question in shown["questions"]:
            if several:
                lines.append(m.line("_{q}_", q=question["text"].replace("{other}", "the other side")))
            lines += [_rating(r) for r in question["sides"]]
        blocks.append(m.Section(tuple(lines)))
        for side, words in shown["comments"].items():
            if words:
                quoted = "; ".join(f"“{w}”" for w in words)
                blocks.append(context(m.line("Comments from the {s}: {c}", s=side_label(side), c=quoted)))
    return blocks


def _rating(rating: dict[str, Any]) -> m.Line:
    if rating["average"] is None:
        return m.line("{who}: too few answers to show", who=about(rating["side"]))
    return m.line(
        "{who}: *{avg}* from {n}",
        who=about(rating["side"]),
        avg=f"{rating['average']:.1f}",
        n=str(rating["answers"]),
    )


def _period(period: str) -> str:
    month, _, extra = period.partition("#")
    name = datetime.strptime(month, "%Y-%m").strftime("%b %Y")
    return f"{name} (round {extra})" if extra else name


@reply.register
def _(result: PulseShown) -> m.Message:
    if not result.rounds:
        text = m.line(
            "*{s}* has had no pulse round yet. Each month's goes out on its own; "
            "admins can start one with {c}.",
            s=result.study_key,
            c=m.Code("/cadence pulse now"),
        )
        return message("No pulse round yet", section(text))
    rounds = [r.as_data() for r in result.rounds]
    note = m.line(
        "Ratings from 1 to 5, by the raters' side; a side with fewer than three answers shows none."
    )
    return message(f"The pulse of {result.study_key}", *pulse_lines(rounds), context(note))


# --- the partnership review -----------------------------------------------------------------------


def review_blocks(data: dict[str, Any]) -> tuple[m.Block, ...]:
    title = m.line(
        ":checkered_flag: *Close-out review — {s}, the whole study: {start} to {end}*"
        if data.get("closing")
        else ":handshake: *Partnership review — {s}, {start} to {end}*",
        s=data["study"],
        start=date_label(data["from"]),
        end=date_label(data["to"]),
    )
    blocks: list[m.Block] = [section(title), *kpi_blocks(data["kpis"])]
    blocks += pulse_lines(data["pulse"])
    for heading, items in (
        ("What went well", data["went_well"]),
        ("What to improve", data["to_improve"]),
        ("What moved", data["moved"]),
    ):
        shown = [m.line("• {i}", i=item) for item in items[:12]] or [m.line("nothing to note")]
        blocks.append(m.Section((m.line("*{h}*", h=heading), *shown)))
    return tuple(blocks)


@notice_view("partnership_review")
def _(data: dict[str, Any]) -> m.Message:
    kind = "Close-out review" if data.get("closing") else "Partnership review"
    return message(f"{kind} of {data['study']}", *review_blocks(data))


@reply.register
def _(result: ReviewShown) -> m.Message:
    return message(f"Partnership review of {result.review['study']}", *review_blocks(result.review))
