"""The plan's fields, written down once: each with its type, default, description and an example.

`cadence plan schema` prints the JSON Schema made from this table and `docs/plan.md` is generated from
it, so an editor's completion, the reference and the validator's list of fields cannot drift apart
(tests compare them with `bot.plan`'s fields).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from bot.plan import CONTACTS, KPI_TARGETS, SEVERITIES, SIDES, _PlanLoader

SCHEMA_ID = "https://cadence.example/plan.schema.json"
NO_DEFAULT = object()

# JSON Schema fragments for the kinds of value a plan holds. They accept what the validator accepts
# (YAML may read an id written as digits as a number) and leave the finer checks to it.
TEXT = {"type": ["string", "number"]}
HANDLE = {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9_.-]*$"}
HANDLES = {"type": "array", "items": HANDLE}
TEXTS = {"type": "array", "items": TEXT}
DURATION = {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*([bB][dD]|[sSmMhHdDwW])\s*$"}
DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
DATES = {"type": "array", "items": DATE}
DAYS_OFF = {
    "oneOf": [
        DATES,
        {"type": "object", "properties": {"sponsor": DATES, "cro": DATES}, "additionalProperties": False},
    ]
}
SCHEDULE = {"type": "string"}
MONTHLY = {"type": ["string", "boolean"]}  # YAML 1.1 (PyYAML) reads `off` as false
TIMEZONE = {"type": "string"}
HOURS = {"type": "string", "pattern": r"^\s*\d{1,2}:\d{2}\s*[-–]\s*\d{1,2}:\d{2}\s*$"}
COUNTRY = {"type": "string", "pattern": r"^[A-Za-z]{2}(-[A-Za-z0-9]{1,3})?$"}
PERCENT = {
    "anyOf": [
        {"type": "number", "minimum": 1, "maximum": 100},
        {"const": 0},
        {"type": "string", "pattern": r"^\s*\d{1,3}(\.\d+)?\s*%?\s*$"},
    ]
}


def _any_case(words: tuple[str, ...]) -> dict[str, list[str]]:
    """The validator reads `CRO` and `Sponsor` as `cro` and `sponsor`; an editor should accept them too."""
    return {"enum": list(dict.fromkeys(v for w in words for v in (w, w.upper(), w.capitalize())))}


@dataclass(frozen=True)
class Field:
    name: str
    about: str
    example: str  # the value as a plan author writes it in YAML
    kind: dict | None = None  # a JSON Schema fragment; None when `section` describes the value
    section: str | None = None  # a nested section's key in SECTIONS
    shape: str = "one"  # how the nested section appears: one, list (of them) or map (name → one)
    default: Any = NO_DEFAULT  # a JSON value Cadence uses when the field is left out
    default_text: str = ""  # the default in words, where it depends on something else
    required: bool = False
    keys: dict | None = None  # for a map: what its keys may be


@dataclass(frozen=True)
class Section:
    path: str  # where it sits in a plan, as errors name it
    about: str
    fields: tuple[Field, ...]


SECTIONS: dict[str, Section] = {
    "": Section(
        "(plan)",
        "A study's communication plan, as agreed at the sponsor–CRO kickoff.",
        (
            Field("study", "The study: its id, name, timezone, channel and admins.", "", section="study",
                  required=True),
            Field("people", "Everyone in the plan, by handle (letters, digits, `.`, `_`, `-`).", "",
                  section="person", shape="map", required=True, keys=HANDLE),
            Field("responsibilities", "Who owns what: `/who-owns` and `/ask` route by topic and keywords.",
                  "", section="responsibility", shape="list", default=[]),
            Field("cadence", "Deadlines for routed questions, the ownership review and the weekly check-in.",
                  "", section="cadence"),
            Field("escalation", "The agreed escalation path and where each severity starts on it.", "",
                  section="escalation"),
            Field("meetings", "Recurring meetings whose minutes Cadence expects.", "", section="meeting",
                  shape="list"),
            Field("milestones", "The study's milestones and who owns each.", "", section="milestone",
                  shape="list"),
            Field("kpis", "Targets, in percent, for each side's partnership KPIs.", "", section="kpis"),
            Field("pulse", "The monthly two-way pulse: how each side finds working with the other.", "",
                  section="pulse", default_text="first Monday of the month at 10:00, everyone asked"),
            Field("organisations", "Each side's Slack workspaces and Teams tenants.", "",
                  section="organisations"),
            Field("report_to", "Who gets the weekly cadence report (its chart inline) and the partnership "
                  "review by e-mail, when SMTP_URL is set: handles of people with an `email:`, or plain "
                  "addresses of a domain the plan's people's addresses use.", "[dev, qa@cro.example]",
                  {"type": "array", "items": {"type": "string"}}, default=[]),
        ),
    ),
    "study": Section(
        "study",
        "The study itself.",
        (
            Field("id", "The study's short id, used in messages and exports.", "ACME-201", TEXT,
                  required=True),
            Field("name", "The study's full name.", '"ACME-201 Phase II: topical retinoid"', TEXT,
                  default_text="the id"),
            Field("timezone", "The study's IANA timezone (a place, not an abbreviation or an offset): "
                  "meeting and check-in times without a person's own zone are read in it.",
                  "America/New_York", TIMEZONE, required=True),
            Field("channel", "The shared channel's id: a Slack channel (`C…`) or a Teams conversation "
                  "(`19:…@thread.tacv2`). Names change, ids do not.", "C0STUDY", TEXT),
            Field("admins", "Who may change the plan from chat (handles).", "[alice, raj]", HANDLES,
                  required=True),
            Field("start", "The day the study starts working together: reports, reviews and KPIs never "
                  "cover time before it.", "2026-11-02", DATE,
                  default_text="the day the plan is first applied"),
            Field("end", "The study's last day: after it Cadence stops its cadence and posts a close-out "
                  "review.", "2027-06-30", DATE),
            Field("working_hours", "Everyone's working hours unless a person has their own: Cadence sends "
                  "what can wait inside them.", '"09:00-18:00"', HOURS, default="09:00-18:00"),
            Field("country", "The country (ISO 3166, with a subdivision where it matters) whose public "
                  "holidays count for people without their own.", "US", COUNTRY,
                  default_text="the country of each person's timezone"),
            Field("holidays", "The study's own days off, besides public holidays: a list for everyone, or "
                  "a list per side (`{cro: [2026-12-31]}`).", "[2026-12-24, 2026-12-31]", DAYS_OFF),
        ),
    ),
    "person": Section(
        "people.<handle>",
        "One person of either side.",
        (
            Field("name", "Their full name.", "Alice Chen", TEXT, required=True),
            Field("side", f"Their side: {' or '.join(SIDES)}.", "sponsor", _any_case(SIDES),
                  required=True),
            Field("role", "Their role, shown beside their name; `/who-owns` finds people by it.",
                  "Study Lead", TEXT, default=""),
            Field("slack", "Their Slack user id (`U…` or `W…`).", "U01ALICE", TEXT),
            Field("teams", "Their Microsoft Entra object id (Teams).",
                  "00000000-0000-0000-0000-000000000001", TEXT),
            Field("email", "Their e-mail address: enough alone, Cadence finds them in Slack or Teams by it.",
                  "alice@acme.example", TEXT),
            Field("timezone", "Their IANA timezone: check-in prompts and reminders go out in their time.",
                  "Europe/Warsaw", TIMEZONE, default_text="the study's timezone"),
            Field("prefers", f"How they like to be reached: {', '.join(CONTACTS)}.", "email",
                  _any_case(CONTACTS)),
            Field("working_hours", "Their own working hours.", '"08:00-16:30"', HOURS,
                  default_text="the study's working_hours"),
            Field("country", "The country whose public holidays are theirs (ISO 3166, e.g. PL, US, IN-KA).",
                  "PL", COUNTRY, default_text="the country of their timezone"),
            Field("subdivision", "The part of their country whose holidays also count (with `country:`).",
                  "CA", TEXT),
        ),
    ),
    "responsibility": Section(
        "responsibilities[]",
        "One topic and who owns it.",
        (
            Field("topic", "The topic's name.", "Safety reporting", TEXT, required=True),
            Field("keywords", "Words that route a question to this topic.", "[SAE, adverse event, SUSAR]",
                  TEXTS, default=[]),
            Field("owner", "Who owns the topic (a handle).", "mei", HANDLE, required=True),
            Field("backup", "Who answers when the owner is away or silent (a handle, not the owner).", "raj",
                  HANDLE),
            Field("answer_within", "How long a routed question may wait before the owner is chased.", "4h",
                  DURATION, default_text="cadence.answer_within"),
        ),
    ),
    "cadence": Section(
        "cadence",
        "Deadlines and the weekly check-in.",
        (
            Field("answer_within", "How long a routed question may wait before its owner is chased, then "
                  "the backup.", "1bd", DURATION, default="1bd"),
            Field("confirm_every", "How often each owner is asked to confirm their topics.", "90d", DURATION,
                  default="90d"),
            Field("checkin", "The weekly check-in.", "", section="checkin"),
        ),
    ),
    "checkin": Section(
        "cadence.checkin",
        "A direct message with the plan's questions at the schedule, in each participant's own time.",
        (
            Field("schedule", "When: `mon 09:00`, `mon,thu 15:00`, `mon-fri 09:30`, `weekdays 09:00`, "
                  "`daily 08:00` (each participant's local time).", '"mon 09:00"', SCHEDULE, required=True),
            Field("participants", "Who is asked (handles).", "[alice, raj, mei]", HANDLES, default=[]),
            Field("questions", "What they are asked.", '["What moved since last week?"]', TEXTS,
                  required=True),
            Field("remind_after", "When to nudge who has not answered.", "4h", DURATION),
            Field("close_after", "When to post the digest to the study channel.", "1d", DURATION,
                  default="1d"),
            Field("grace", "How late an answer still counts for its round.", "12h", DURATION,
                  default="12h"),
            Field("skip", "Dates without a check-in.", "[2026-12-28]", DATES, default=[]),
        ),
    ),
    "escalation": Section(
        "escalation",
        "The escalation path: an issue climbs a level when nobody acknowledges it in time.",
        (
            Field("levels", "The levels, lowest first.", "", section="level", shape="list", required=True),
            Field("severities", f"Where each severity ({', '.join(SEVERITIES)}) starts and how fast each "
                  "level must acknowledge it.", "", section="severity", shape="map",
                  keys={"enum": list(SEVERITIES)}),
        ),
    ),
    "level": Section(
        "escalation.levels[]",
        "One level of the escalation path.",
        (
            Field("name", "The level's name.", "Project managers", TEXT, required=True),
            Field("who", "Who is notified at this level (handles).", "[raj, ben]", HANDLES, required=True),
            Field("ack_within", "How long this level has to acknowledge before the issue climbs; every "
                  "level but the last needs one.", "4h", DURATION, default_text="1d for the last level"),
        ),
    ),
    "severity": Section(
        "escalation.severities.<severity>",
        "One severity's place on the path.",
        (
            Field("start_level", "The level an issue of this severity starts at (1 is the first).", "2",
                  {"type": "integer", "minimum": 1}, default=1),
            Field("ack_factor", "Scales every level's `ack_within` (0.5 halves them).", "0.5",
                  {"type": "number", "exclusiveMinimum": 0, "maximum": 100}, default=1),
            Field("ack_within", "One deadline for every level, instead of the levels' own.", "1h", DURATION),
            Field("words", "The team's own one-word names for this severity in `/escalate`.",
                  "[sev1, showstopper]", TEXTS, default=[]),
            Field("after_hours", "Outside the recipient's working hours: `page` reaches them at once, "
                  "`wait` waits for their working day.", "page", _any_case(("page", "wait")),
                  default_text="page for critical, wait for the others"),
        ),
    ),
    "meeting": Section(
        "meetings[]",
        "A recurring meeting.",
        (
            Field("name", "The meeting's name.", "Weekly sponsor–CRO call", TEXT, required=True),
            Field("schedule", "When it is held, in the study's timezone.", '"thu 15:00"', SCHEDULE),
            Field("duration", "How long it lasts.", "1h", DURATION),
            Field("note_taker", "Who posts the minutes (a handle).", "raj", HANDLE),
            Field("minutes_due", "How long after the meeting the minutes are due; the note taker is "
                  "chased after that.", "1d", DURATION),
            Field("attendees", "Who attends (handles).", "[alice, ben, raj]", HANDLES, default=[]),
            Field("skip", "Dates the meeting is not held (each a day of its schedule).", "[2026-12-24]",
                  DATES, default=[]),
        ),
    ),
    "milestone": Section(
        "milestones[]",
        "A milestone of the study.",
        (
            Field("name", "The milestone's name (unique).", "First patient in", TEXT, required=True),
            Field("due", "Its due date.", "2027-01-15", DATE, required=True),
            Field("owner", "Who reports on it (a handle).", "raj", HANDLE),
            Field("accepted_by", "Who must accept it as done (handles).", "[alice]", HANDLES, default=[]),
            Field("update_every", "How often the owner is asked for an update.", "2w", DURATION,
                  default_text="weekly within eight weeks of the due date, else every two weeks"),
        ),
    ),
    "kpis": Section(
        "kpis",
        "Targets in percent (`90` or `90%`); a KPI left out keeps its default target.",
        tuple(
            Field(name, about, f"{target}", PERCENT, default=target)
            for name, about, target in (
                ("checkin_response", "Check-ins answered, by the side asked.",
                 KPI_TARGETS["checkin_response"]),
                ("questions_on_time", "Routed questions answered within their deadline, by the side asked.",
                 KPI_TARGETS["questions_on_time"]),
                ("escalations_on_time", "Escalations acknowledged within their level's deadline.",
                 KPI_TARGETS["escalations_on_time"]),
                ("actions_on_time", "Action items closed by their due date, by the owner's side.",
                 KPI_TARGETS["actions_on_time"]),
                ("milestones_on_track", "Milestones on track or done on time, by the owner's side.",
                 KPI_TARGETS["milestones_on_track"]),
            )
        ),
    ),
    "pulse": Section(
        "pulse",
        "The monthly two-way pulse.",
        (
            Field("schedule", "When: `first mon 10:00`, `last fri 16:00`, … or `off` (rounds only when an "
                  "admin starts one).", '"first mon 10:00"', MONTHLY, default="first mon 10:00"),
            Field("questions", "What each side is asked; `{other}` names the other side.",
                  '["How well did {other} communicate with you this month?"]', TEXTS,
                  default=["How well did {other} communicate with you this month?"]),
            Field("participants", "Who is asked (handles).", "[alice, raj]", HANDLES,
                  default_text="everyone of both sides"),
            Field("remind_after", "When to nudge who has not answered.", "3d", DURATION, default="3d"),
            Field("close_after", "When the round closes.", "7d", DURATION, default="7d"),
            Field("first_after", "How long both sides work together before the first round.", "4w",
                  DURATION, default="4w"),
        ),
    ),
    "organisations": Section(
        "organisations",
        "Each side's organisation: people are matched by e-mail only inside their side's workspaces.",
        tuple(
            Field(side, f"The {side} side's organisation.", "", section="organisation") for side in SIDES
        ),
    ),
    "organisation": Section(
        "organisations.<side>",
        "One side's Slack workspaces and Teams tenants.",
        (
            Field("slack_teams", "Its Slack workspace ids (`T…`) or Enterprise Grid organisation (`E…`).",
                  "[T0ACME]", TEXTS, default=[]),
            Field("teams_tenants", "Its Microsoft Entra tenant ids (GUIDs).",
                  "[72f988bf-86f1-41af-91ab-2d7cd011db47]", TEXTS, default=[]),
        ),
    ),
}  # fmt: skip


def field_names() -> dict[str, tuple[str, ...]]:
    """Every section's field names, keyed as `bot.plan` keys its own list of known fields."""
    return {key: tuple(f.name for f in section.fields) for key, section in SECTIONS.items()}


def plan_schema() -> dict[str, Any]:
    """The plan as a JSON Schema (draft 2020-12), for editors and other tools."""
    root = _object("")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Cadence communication plan",
        **root,
        "$defs": {key or "plan": _object(key) for key in SECTIONS if key},
    }


def plan_schema_json() -> str:
    """The schema as `cadence plan schema` prints it and `docs/plan.schema.json` holds it."""
    return json.dumps(plan_schema(), indent=2, ensure_ascii=False) + "\n"


# In `{name: Tom, role: Director, Clinical Ops}` YAML reads "Clinical Ops" as a key without a value; the
# plan reads it as the rest of the role, so a person's schema lets a key with no value pass.
_COMMA_CONTINUED = {"person"}


def _object(key: str) -> dict[str, Any]:
    section = SECTIONS[key]
    return {
        "type": "object",
        "description": section.about,
        "properties": {f.name: _property(f) for f in section.fields},
        "required": [f.name for f in section.fields if f.required],
        "additionalProperties": {"type": "null"} if key in _COMMA_CONTINUED else False,
    }


def _property(field: Field) -> dict[str, Any]:
    if field.section is None:
        schema = dict(field.kind or {})
    else:
        one = {"$ref": f"#/$defs/{field.section}"}
        if field.shape == "list":
            schema = {"type": "array", "items": one}
        elif field.shape == "map":
            schema = {"type": "object", "propertyNames": field.keys or {}, "additionalProperties": one}
        else:
            schema = one
    schema["description"] = field.about + (f" Default: {field.default_text}." if field.default_text else "")
    if field.default is not NO_DEFAULT:
        schema["default"] = field.default
    if field.example:
        schema["examples"] = [_example_value(field.example)]
    return schema


def _example_value(example: str) -> Any:
    # Read as the plan reads it, so a date stays text.
    return yaml.load(f"x: {example}", Loader=_PlanLoader)["x"]


def plan_reference() -> str:
    """docs/plan.md: every field with its type, default and an example."""
    out = [
        "# The communication plan: every field",
        "",
        "<!-- Generated from bot/plan_schema.py (`cadence plan schema --markdown`): edit that, not this. -->",
        "",
        "A plan is a YAML file (`examples/plan.yaml` is a complete one). `cadence plan validate FILE` checks",
        "it and lists every problem with its line; `cadence plan init` writes a starter plan from a few",
        "questions. Editors that read JSON Schema (VS Code with the YAML extension, JetBrains IDEs) complete",
        "and check fields when the plan's first line is",
        "",
        "    # yaml-language-server: $schema=https://cadence.example/plan.schema.json",
        "",
        "or a path to `docs/plan.schema.json` (the same schema, printed by `cadence plan schema`).",
        "",
        "Durations are `30s`, `30m`, `4h`, `2d`, `1bd` (business days) or `1w`; dates are `YYYY-MM-DD`;",
        "timezones are IANA names such as `Europe/Warsaw` (a city or an offset gets the name suggested);",
        "people are named by their handle. **Required** fields are marked; any other field may be left out.",
    ]
    for section in SECTIONS.values():
        out += ["", f"## `{section.path}`", "", section.about, ""]
        out += ["| field | default | example | what it is |", "|---|---|---|---|"]
        for f in section.fields:
            out.append(f"| `{f.name}` | {_default_cell(f)} | {_example_cell(f)} | {_about_cell(f)} |")
    return "\n".join(out) + "\n"


def _default_cell(field: Field) -> str:
    if field.required:
        return "**required**"
    if field.default_text:
        return field.default_text
    if field.default is NO_DEFAULT or field.default in ("", []):
        return "—"
    return f"`{json.dumps(field.default, ensure_ascii=False)}`"


def _example_cell(field: Field) -> str:
    if field.section:
        anchor = SECTIONS[field.section].path
        return f"see `{anchor}`"
    return f"`{field.name}: {field.example}`".replace("|", "\\|")


def _about_cell(field: Field) -> str:
    return field.about.replace("|", "\\|")
