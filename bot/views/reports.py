"""Visibility: each person's home, the cadence report, and the export's news."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import messages as m
from bot.export import ExportRequested
from bot.reports import HomeView, ReportRequested
from bot.views import context, left_out, message, notice_view, reply, section
from bot.views.escalation import severity_line
from bot.views.minutes import date_label
from bot.views.partnership import kpi_blocks
from bot.wording import duration_label, side_label

HOME_ACTIONS = 15  # action items listed one by one, each with its Done button


def home_blocks(data: dict[str, Any]) -> tuple[m.Block, ...]:
    blocks: list[m.Block] = [
        section(m.line("*{study}* — what waits on you, {name}", study=data["study"], name=data["name"]))
    ]
    if data.get("away_until"):
        cover = m.line("; {c} covers", c=data["cover"]) if data.get("cover") else None
        until = date_label(data["away_until"])
        blocks.append(
            context(m.line(":palm_tree: You are away until {until}{cover}.", until=until, cover=cover))
        )
    if data["actions"]:
        blocks.append(section(m.line("*Your open action items*")))
        for item in data["actions"][:HOME_ACTIONS]:
            due = f"due {date_label(item['due'])}" if item["due"] else "no due date"
            late = m.line(" :hourglass: *overdue*") if item["overdue"] else None
            text = m.line("{t} — {due}{late}", t=item["text"], due=due, late=late)
            blocks.append(
                m.Section(
                    (text,),
                    accessory=m.Button(
                        "action_done", str(item["id"]), "Done", typed=f"/actions done A{item['id']}"
                    ),
                )
            )
        if len(data["actions"]) > HOME_ACTIONS:
            blocks.append(left_out(len(data["actions"]) - HOME_ACTIONS, "/actions"))
    else:
        blocks.append(section(m.line("*Your open action items*"), m.line("nothing open. :tada:")))
    questions = [m.line("• *{r}* {t} — from {a}", r=r, t=t[:80], a=a) for r, t, a in data["questions"]]
    blocks.append(m.Section((m.line("*Questions waiting on you*"), *(questions or [m.line("none")]))))
    issues = [
        m.line("• *{r}* {severity} {t} — {level}", r=r, severity=severity_line(s), t=t[:80], level=level)
        for r, s, t, level in data["escalations"]
    ]
    blocks.append(m.Section((m.line("*Escalations with your level*"), *(issues or [m.line("none")]))))
    if data.get("next_checkin"):
        last = {True: "You answered the last one.", False: "You did not answer the last one.", None: ""}[
            data["answered_last"]
        ]
        at = m.Time(datetime.fromisoformat(data["next_checkin"]))
        blocks.append(section(m.line("*Next check-in* {at}. {last}", at=at, last=last)))
    if data["milestones"]:
        milestones = [
            m.line("• {n} — {d}, {o}{s}", n=n, d=date_label(d), o=o, s=_standing(s))
            for n, d, o, *s in data["milestones"]
        ]
        blocks.append(m.Section((m.line("*Milestones*"), *milestones)))
    dashboard = m.Button("web_dashboard", data["study"], "Open the dashboard", typed="/cadence dashboard")
    blocks.append(m.Actions((dashboard,), id="home_web"))
    return tuple(blocks)


def _standing(status: list[str]) -> str:
    """`: late` beside a milestone that is not on track (homes published before carry no status)."""
    shown = status[0].replace("-", " ") if status else "on track"
    return "" if shown == "on track" else f": {shown}"


def home(data: dict[str, Any]) -> m.Home:
    return m.Home(home_blocks(data))


@notice_view("home")
def _(data: dict[str, Any]) -> m.Message:
    return message(f"What waits on you in {data['study']}", *home_blocks(data))


@reply.register
def _(result: HomeView) -> m.Message:
    return message(f"What waits on you in {result.study_key}", *home_blocks(result.as_data()))


def _milestone(ms: dict[str, Any]) -> str:
    """First patient in, 15 Jan (Raj Patel): at risk, forecast 29 Jan."""
    status = (ms.get("status") or "on-track").replace("-", " ")
    forecast = f", forecast {date_label(ms['forecast'])}" if ms.get("forecast") else ""
    due = date_label(ms["due"]) if ms.get("due") else "no due date"
    return f"{ms['name']}, {due} ({ms['owner']}): {status}{forecast}"


@reply.register
def _(result: ReportRequested) -> m.Message:
    where = m.line("{c}", c=m.Channel(result.channel)) if result.channel else m.line("your direct messages")
    text = m.line(
        ":bar_chart: The cadence report for the last {weeks} week(s) is on its way to {where}.",
        weeks=str(result.weeks),
        where=where,
    )
    return message("The cadence report is on its way", section(text))


def _percent(rate: dict[str, Any] | None) -> str:
    if not rate or rate.get("percent") is None:
        return "—"
    return f"{rate['percent']}% ({rate['answered']}/{rate['asked']})"


def _trend(now: float | None, before: float | None) -> m.Line:
    """A median span in minutes against the period before's; shorter is better."""
    if now is None:
        return m.line("—")
    if before is None:
        return m.line("{v}", v=duration_label(now))
    arrow = "→" if now == before else ("↓" if now < before else "↑")
    mark = "" if now == before else (" :white_check_mark:" if now < before else " :warning:")
    return m.line(
        "{v} ({arrow} from {b})" + mark, v=duration_label(now), arrow=arrow, b=duration_label(before)
    )


def _minutes(hours: float | None) -> float | None:
    return None if hours is None else hours * 60


@notice_view("report")
def _(data: dict[str, Any]) -> m.Message:
    cur, prev = data["current"], data["previous"]
    sides = " · ".join(
        f"{side_label(side)} {_percent(rate)}" for side, rate in cur["response_by_side"].items()
    )
    people = ", ".join(f"{name} {_percent(rate)}" for name, rate in cur["response_by_person"].items())
    lines = (
        m.line(
            ":bar_chart: *Cadence report — {study}, {start} to {end}* ({weeks} week(s))",
            study=data["study"],
            start=date_label(data["from"]),
            end=date_label(data["to"]),
            weeks=str(data["weeks"]),
        ),
        m.line("*Check-ins answered:* {s}", s=sides or "no rounds"),
        m.line(
            "*Time to answer routed questions (median):* {t}",
            t=_trend(_minutes(cur["median_hours_to_answer"]), _minutes(prev["median_hours_to_answer"])),
        ),
        m.line(
            "*Time to acknowledge escalations (median):* {t}",
            t=_trend(cur["median_minutes_to_acknowledge"], prev["median_minutes_to_acknowledge"]),
        ),
        m.line(
            "*Action items due:* {on} on time, {late} late; {open} open and not yet due",
            on=str(cur["actions_on_time"]),
            late=str(cur["actions_late"]),
            open=str(cur["actions_open"]),
        ),
    )
    blocks: list[m.Block] = [m.Section(lines[:1]), *kpi_blocks(data["kpis"]), m.Section(lines[1:])]
    if people:
        blocks.append(context(m.line("By person: {p}", p=people)))
    if data["milestones"]:
        ahead = "; ".join(_milestone(ms) for ms in data["milestones"])
        blocks.append(section(m.line("*Milestones:* {a}", a=ahead)))
    return message(f"Cadence report for {data['study']}", *blocks)


@reply.register
def _(result: ExportRequested) -> m.Message:
    text = m.line(
        ":file_folder: The export of {start} to {end} is being built: it comes to you by direct message, "
        "zipped, in a minute or so.",
        start=f"{result.start:%a %d %b %Y}",
        end=f"{result.end:%a %d %b %Y}",
    )
    return message("The export is on its way", section(text))
