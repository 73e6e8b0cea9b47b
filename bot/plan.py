"""The communication plan: load YAML, validate every part, report every problem with its path.

Validation never stops at the first problem: a plan author fixes the whole list in one go.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import process

from bot import yaml_errors
from bot.calendars import hours_text, parse_country, parse_working_hours
from bot.timing import DAYS, Schedule, parse_duration, parse_monthly, parse_schedule, parse_timezone

SIDES = ("sponsor", "cro")
CONTACTS = ("channel", "dm", "slack", "teams", "email")
SEVERITIES = ("low", "medium", "high", "critical")
AFTER_HOURS = ("page", "wait")  # a severity's notices: at once, day or night; or in working hours
PAGING_BY_DEFAULT = ("critical",)
# The partnership's KPIs and the target each has when the plan's `kpis:` leaves it out (percent).
KPI_TARGETS = {
    "checkin_response": 90,  # check-ins answered, by the side of who was asked
    "questions_on_time": 85,  # routed questions answered within their deadline, by the side asked
    "escalations_on_time": 95,  # escalations acknowledged within their level's deadline, by the level's sides
    "actions_on_time": 80,  # action items closed by their due date, by the owner's side
    "milestones_on_track": 80,  # milestones on track (or done on time), by the owner's side
}
_HANDLE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_SLACK_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_TEAMS_CHANNEL = re.compile(r"^19:[^\s;]+@thread\.[a-z0-9]+$")  # what Cadence says when added to a team
_SLACK_TEAM = re.compile(r"^[TE][A-Z0-9]{2,}$")  # a workspace (T…) or an Enterprise Grid organisation (E…)
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_TENANT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")  # an Entra tenant id

_FIELDS: dict[str, tuple[str, ...]] = {
    "": (
        "study",
        "people",
        "responsibilities",
        "cadence",
        "escalation",
        "meetings",
        "milestones",
        "kpis",
        "pulse",
        "organisations",
        "report_to",
    ),  # fmt: skip
    "study": (
        "id",
        "name",
        "timezone",
        "channel",
        "admins",
        "start",
        "end",
        "working_hours",
        "country",
        "holidays",
    ),  # fmt: skip
    "person": (
        "name",
        "side",
        "role",
        "slack",
        "teams",
        "email",
        "timezone",
        "prefers",
        "working_hours",
        "country",
        "subdivision",
    ),  # fmt: skip
    "responsibility": ("topic", "keywords", "owner", "backup", "answer_within"),
    "cadence": ("answer_within", "confirm_every", "checkin"),
    "checkin": ("schedule", "participants", "questions", "remind_after", "close_after", "grace", "skip"),
    "escalation": ("levels", "severities"),
    "level": ("name", "who", "ack_within"),
    "severity": ("start_level", "ack_factor", "ack_within", "words", "after_hours"),
    "meeting": ("name", "schedule", "duration", "note_taker", "minutes_due", "attendees", "skip"),
    "milestone": ("name", "due", "owner", "accepted_by", "update_every"),
    "kpis": tuple(KPI_TARGETS),
    "pulse": ("schedule", "questions", "participants", "remind_after", "close_after", "first_after"),
    "organisations": SIDES,
    "organisation": ("slack_teams", "teams_tenants"),
}


@dataclass(frozen=True)
class PlanError:
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.path or '(plan)'}: {self.message}"


class PlanInvalid(Exception):
    """The plan has problems; `errors` lists every one of them."""

    def __init__(self, errors: list[PlanError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass(frozen=True)
class PlanPerson:
    handle: str
    name: str
    side: str
    role: str
    timezone: str
    slack: str | None = None
    teams: str | None = None
    email: str | None = None
    prefers: str | None = None
    working_hours: str | None = None  # "08:30-17:00"; None: the study's, else 09:00-18:00
    country: str | None = None  # "PL", "US-CA"; None: the timezone's country


@dataclass(frozen=True)
class PlanTopic:
    topic: str
    keywords: tuple[str, ...]
    owner: str
    backup: str | None
    answer_within: str | None


@dataclass(frozen=True)
class Plan:
    study_id: str
    name: str
    timezone: str
    channel: str | None
    admins: tuple[str, ...]
    people: dict[str, PlanPerson]
    responsibilities: tuple[PlanTopic, ...]
    data: dict[str, Any] = field(repr=False)


def load_plan_file(path: str | Path) -> Plan:
    """Read and validate a plan file; raise PlanInvalid listing every problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanInvalid([PlanError("", f"cannot read {path}: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError:
        raise PlanInvalid([PlanError("", f"{path} is not UTF-8 text")]) from None
    return load_plan(text)


def load_plan(text: str) -> Plan:
    """Validate a plan given as YAML text; raise PlanInvalid listing every problem."""
    data, lines, errors = _parse_yaml(text)
    if errors and data is None:
        raise PlanInvalid(errors)
    checker = _Checker(lines, errors)
    plan = checker.check_plan(data)
    if checker.errors:
        raise PlanInvalid(sorted(checker.errors, key=lambda e: (e.line or 0, e.path)))
    assert plan is not None
    return plan


def plan_yaml(data: dict[str, Any], heading: str) -> str:
    """A plan as YAML that `load_plan` reads back to the same plan: empty fields left out, a person on one
    line and short lists inline, as people write plans."""
    return "".join(f"# {line}\n" for line in heading.splitlines()) + yaml.dump(
        _without_empty(data), Dumper=_PlanDumper, sort_keys=False, allow_unicode=True, width=200
    )


def _without_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_empty(v) for k, v in value.items() if v not in (None, [], {}, "")}
    if isinstance(value, list):
        return [_without_empty(v) for v in value]
    return value


class _PlanDumper(yaml.SafeDumper):
    """Flow style for short lists of words and for a mapping of words alone (a person, a milestone)."""

    def represent_sequence(self, tag, sequence, flow_style=None):
        words = [item for item in sequence if not isinstance(item, (dict, list))]
        inline = len(words) == len(sequence) and sum(len(str(w)) + 2 for w in words) < 80
        return super().represent_sequence(tag, sequence, flow_style=inline or flow_style)

    def represent_mapping(self, tag, mapping, flow_style=None):
        values = mapping.values() if isinstance(mapping, dict) else []
        inline = bool(values) and all(not isinstance(v, (dict, list)) for v in values) and len(values) > 2
        return super().represent_mapping(tag, mapping, flow_style=inline or flow_style)


_PlanDumper.add_representer(
    dict, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data)
)
_PlanDumper.add_representer(
    list, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data)
)


# --- YAML with line numbers -------------------------------------------------------------------


class _PlanLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so a bad date is a plan error rather than a crash."""


_PlanLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


MAX_TEXT = 2_000  # a name, a role, a topic, a question: none is longer (chats cut labels far sooner)
MAX_PLAN_CHARACTERS = 1_000_000  # a plan of a few hundred people is some tens of kilobytes
MAX_PLAN_NODES = 200_000  # what aliases may expand to: a "billion laughs" plan stops here
# No number in a plan (a level, a factor, a percentage, an id written as digits) needs more digits than a
# database integer holds; longer ones cannot even be read back as text (Python's 4,300-digit limit).
MAX_NUMBER_DIGITS = 18
_INTEGER_TAG = "tag:yaml.org,2002:int"


class _TooLarge(Exception):
    pass


def _parse_yaml(text: str) -> tuple[Any, dict[str, int], list[PlanError]]:
    if len(text) > MAX_PLAN_CHARACTERS:
        return None, {}, [PlanError("", f"the plan is over {MAX_PLAN_CHARACTERS:,} characters long")]
    lines: dict[str, int] = {}
    errors: list[PlanError] = []
    loader = None
    try:
        loader = _PlanLoader(text)
        loader.nodes_seen = 0  # type: ignore[attr-defined]
        node = loader.get_single_node()
        data = None if node is None else _to_python(node, "", loader, lines, errors)
    except _TooLarge:
        return None, lines, [PlanError("", f"the plan expands to over {MAX_PLAN_NODES:,} values (aliases?)")]
    except RecursionError:
        return None, lines, [PlanError("", "the plan nests too deeply to be a communication plan")]
    except yaml.MarkedYAMLError as exc:
        line, reason = yaml_errors.explain(exc, text)
        return None, lines, [_SyntaxProblem("", reason, line)]
    except yaml.reader.ReaderError as exc:
        return None, lines, [PlanError("", f"the plan holds a character YAML does not allow ({exc.reason})")]
    except yaml.YAMLError as exc:
        return None, lines, [PlanError("", f"YAML syntax error: {exc}")]
    finally:
        if loader is not None:
            loader.dispose()
    if data is None:
        return None, lines, [PlanError("", "the plan is empty")]
    return data, lines, errors


def _is_comma_continuation(mapping: yaml.MappingNode, key: yaml.Node, value: yaml.Node, before: Any) -> bool:
    """`{role: Director, Clinical Ops}` means one role: YAML reads the part after the comma as a bare key."""
    return (
        bool(mapping.flow_style)
        and isinstance(before, str)
        and isinstance(key, yaml.ScalarNode)
        and key.style is None
        and _left_empty(value)
    )


def _left_empty(value: yaml.Node) -> bool:
    """A value not written at all (`key:` and nothing), as opposed to a written `null` or `~`."""
    return isinstance(value, yaml.ScalarNode) and value.tag == "tag:yaml.org,2002:null" and value.value == ""


def _to_python(node: yaml.Node, path: str, loader: _PlanLoader, lines: dict[str, int], errors: list) -> Any:
    loader.nodes_seen += 1  # type: ignore[attr-defined]
    if loader.nodes_seen > MAX_PLAN_NODES:  # type: ignore[attr-defined]
        raise _TooLarge()
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        previous: str | None = None
        for key_node, value_node in node.value:
            if _too_many_digits(key_node):
                errors.append(_NumberTooLarge(path, _too_large(key_node.value), key_node.start_mark.line + 1))
                continue
            key = str(loader.construct_object(key_node, deep=True))
            if previous and _is_comma_continuation(node, key_node, value_node, result[previous]):
                result[previous] = f"{result[previous]}, {key}"
                continue
            previous = key
            child = f"{path}.{key}" if path else key
            if key in result:
                errors.append(PlanError(child, "appears twice", key_node.start_mark.line + 1))
            if commented := _comment_taken_for_a_value(key_node, value_node):
                errors.append(_CommentedValue(child, commented, key_node.start_mark.line + 1))
            result[key] = _to_python(value_node, child, loader, lines, errors)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, f"{path}[{i}]", loader, lines, errors) for i, item in enumerate(node.value)]
    if _too_many_digits(node):
        errors.append(_NumberTooLarge(path, _too_large(node.value), node.start_mark.line + 1))
        return None
    return loader.construct_object(node, deep=True)


_COMMENTED_VALUE = re.compile(r"\s*:\s*(#[^\s#][^\n]*)")


def _comment_taken_for_a_value(key: yaml.Node, value: yaml.Node) -> str | None:
    """`channel: #general` is an empty channel to YAML (a `#` after a space starts a comment): the text a
    person meant as the value, when a key's empty value is followed by a `#word` on its line."""
    if not _left_empty(value):
        return None
    buffer = key.end_mark.buffer
    if buffer is None:
        return None
    found = _COMMENTED_VALUE.match(buffer, key.end_mark.pointer)
    return found.group(1).strip() if found else None


class _CommentedValue(PlanError):
    def __init__(self, path: str, commented: str, line: int):
        word = commented.split()[0]
        super().__init__(
            path,
            f"'{word}' is read as a comment in YAML (a # after a space starts one), so this is empty: "
            f'put it in quotes, "{word}"',
            line,
        )


def _too_many_digits(node: yaml.Node) -> bool:
    return node.tag == _INTEGER_TAG and _digits(node.value) > MAX_NUMBER_DIGITS


def _digits(literal: str) -> int:
    return sum(c.isdigit() for c in literal)


def _too_large(literal: str) -> str:
    shown = literal if len(literal) <= 24 else f"{literal[:12]}…"
    return f"'{shown}' is too large a number ({_digits(literal):,} digits; at most {MAX_NUMBER_DIGITS})"


class _SyntaxProblem(PlanError):
    """A mistake in the YAML itself: its line is all the place there is, no field's path."""

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class _NumberTooLarge(PlanError):
    """A number Cadence cannot hold: its field is left out of the check and reported once."""


# --- validation -------------------------------------------------------------------------------


def _suggest(value: str, choices: Iterable[str]) -> str:
    best = process.extractOne(value, list(choices), score_cutoff=70)
    return f" (did you mean '{best[0]}'?)" if best else ""


def _suggest_field(key: str, names: Iterable[str]) -> str:
    """A near spelling, else the one field that ends the same way: respond_within → answer_within."""
    close = _suggest(key, names)
    if close:
        return close
    words = {w for w in key.casefold().split("_") if len(w) > 3}
    alike = [name for name in names if words & set(name.split("_"))]
    return f" (did you mean '{alike[0]}'?)" if len(alike) == 1 else ""


class _Checker:
    def __init__(self, lines: dict[str, int], errors: list[PlanError]):
        self.lines = lines
        self.errors = list(errors)
        self.handles: set[str] = set()
        self.unreadable = {e.path for e in errors if isinstance(e, _NumberTooLarge)}

    def error(self, path: str, message: str) -> None:
        if path in self.unreadable:
            return  # already reported as a number too large; "is missing" would only confuse
        line = self.lines.get(path)
        probe = path
        while line is None and probe:
            # Fall back to the nearest enclosing node that exists: `a.b[2].c` → `a.b[2]` → `a.b` → `a`.
            parent = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", probe)
            probe = "" if parent == probe else parent
            line = self.lines.get(probe)
        self.errors.append(PlanError(path, message, line))

    # generic readers: each reports its own problem and returns None when the value is unusable

    def mapping(self, value: Any, path: str, kind: str, required: bool = True) -> dict | None:
        if value is None:
            if required:
                self.error(path, "is missing")
            return None
        if not isinstance(value, dict):
            self.error(path, "should be a mapping of fields")
            return None
        for key in value:
            if key not in _FIELDS[kind]:
                child = f"{path}.{key}" if path else key
                self.error(child, f"unknown field '{key}'{_suggest_field(str(key), _FIELDS[kind])}")
        return value

    def text(self, value: Any, path: str, required: bool = False) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(path, "is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(path, "should be text")
            return None
        text = str(value).strip()
        if len(text) > MAX_TEXT:
            self.error(path, f"is {len(text):,} characters long (at most {MAX_TEXT:,})")
            return None
        return text

    def listing(self, value: Any, path: str, required: bool = False) -> list | None:
        if value is None:
            if required:
                self.error(path, "is missing")
            return None
        if not isinstance(value, list):
            self.error(path, "should be a list, e.g. [a, b]")
            return None
        return value

    def converted(self, value: Any, path: str, convert: Callable[[Any], Any], required: bool = False) -> Any:
        if value is None:
            if required:
                self.error(path, "is missing")
            return None
        try:
            return convert(value)
        except ValueError as exc:
            self.error(path, str(exc))
            return None

    def person(self, value: Any, path: str, required: bool = True) -> str | None:
        handle = self.text(value, path, required)
        if handle is None:
            return None
        if handle not in self.handles:
            self.error(path, f"unknown person '{handle}'{_suggest(handle, self.handles)}")
            return None
        return handle

    def people_list(self, value: Any, path: str, required: bool = True) -> list[str]:
        items = self.listing(value, path, required) or []
        handles: list[str] = []
        for i, item in enumerate(items):
            handle = self.person(item, f"{path}[{i}]")
            if handle in handles:
                self.error(f"{path}[{i}]", f"'{handle}' is listed twice")
            elif handle:
                handles.append(handle)
        if value is not None and not items and required:
            self.error(path, "names nobody")
        return handles

    # sections

    def check_plan(self, data: Any) -> Plan | None:
        root = self.mapping(data, "", "")
        if root is None:
            return None
        people = self.check_people(root.get("people"))
        study = self.check_study(root.get("study"))
        topics = self.check_responsibilities(root.get("responsibilities"))
        # A person without a timezone of their own lives in the study's.
        people = {h: p if p.timezone else replace(p, timezone=study["timezone"]) for h, p in people.items()}
        normalized: dict[str, Any] = {
            "study": study,
            "people": {h: vars(p) for h, p in people.items()},
            "responsibilities": [vars(t) | {"keywords": list(t.keywords)} for t in topics],
            "cadence": self.check_cadence(root.get("cadence")),
            "escalation": self.check_escalation(root.get("escalation")),
            "meetings": self.check_meetings(root.get("meetings")),
            "milestones": self.check_milestones(root.get("milestones")),
            "kpis": self.check_kpis(root.get("kpis")),
            "pulse": self.check_pulse(root.get("pulse")),
            "organisations": self.check_organisations(root.get("organisations")),
            "report_to": self.check_report_to(root.get("report_to"), people),
        }
        if self.errors:
            return None
        return Plan(
            study_id=study["id"],
            name=study["name"],
            timezone=study["timezone"],
            channel=study["channel"],
            admins=tuple(study["admins"]),
            people=people,
            responsibilities=tuple(topics),
            data=normalized,
        )

    def check_study(self, value: Any) -> dict[str, Any]:
        study = self.mapping(value, "study", "study") or {}
        study_id = self.text(study.get("id"), "study.id", required=bool(study))
        timezone = self.converted(
            study.get("timezone"), "study.timezone", parse_timezone, required=bool(study)
        )
        channel = self.text(study.get("channel"), "study.channel")
        if channel and not (_SLACK_CHANNEL.match(channel) or _TEAMS_CHANNEL.match(channel)):
            self.error(
                "study.channel",
                f"'{channel}' is not a Slack channel id (C…) nor a Teams conversation id (19:…@thread.…); "
                "names change, ids do not",
            )
        admins = self.people_list(study.get("admins"), "study.admins", required=bool(study))
        hours = self.converted(study.get("working_hours"), "study.working_hours", parse_working_hours)
        return {
            "id": study_id,
            "name": self.text(study.get("name"), "study.name") or study_id,
            "timezone": timezone.key if timezone else None,
            "channel": channel,
            "admins": admins,
            **self.check_timeline(study),
            "working_hours": hours_text(hours) if hours else None,
            "country": self.country(study, "study"),
            "holidays": self.days_off(study.get("holidays"), "study.holidays"),
        }

    def check_timeline(self, study: dict) -> dict[str, str | None]:
        """`start` (default: the day the plan is first applied) and `end`, the study's last day."""
        start, end = (
            self.date(study[name], f"study.{name}") if study.get(name) is not None else None
            for name in ("start", "end")
        )
        if start and end and end <= start:
            self.error("study.end", f"{end} is not after study.start ({start}); a study ends after it starts")
        return {"start": start, "end": end}

    def country(self, fields: dict, path: str) -> str | None:
        """`country: PL`, `country: US-CA`, or `country: US` with `subdivision: CA`, as `US-CA`."""
        raw, sub = fields.get("country"), fields.get("subdivision")
        if raw is None:
            if sub is not None:
                self.error(f"{path}.subdivision", "needs the country it is part of (country: US)")
            return None
        found = self.converted(raw, f"{path}.country", lambda v: parse_country(v, sub))
        if found is None:
            return None
        code, subdivision = found
        return f"{code}-{subdivision}" if subdivision else code

    def days_off(self, value: Any, path: str) -> dict[str, list[str]] | None:
        """`holidays: [2026-12-24]` (everyone) or `holidays: {cro: [...], sponsor: [...]}` (a side's)."""
        if value is None:
            return None
        if isinstance(value, list):
            lists = {"all": value}
        elif isinstance(value, dict):
            lists = {}
            for side, dates in value.items():
                if side not in SIDES:
                    where = f"{path}.{side}"
                    self.error(where, f"'{side}' is not a side (sponsor or cro){_suggest(side, SIDES)}")
                else:
                    lists[side] = dates
        else:
            self.error(path, "should list dates, e.g. [2026-12-24], or map sides to them: {cro: [...]}")
            return None
        found: dict[str, list[str]] = {}
        for side, dates in lists.items():
            where = path if side == "all" else f"{path}.{side}"
            days = [self.date(d, f"{where}[{i}]") for i, d in enumerate(self.listing(dates, where) or [])]
            found[side] = sorted({d for d in days if d})
        return found

    def check_people(self, value: Any) -> dict[str, PlanPerson]:
        people = value
        if people is None:
            self.error("people", "is missing")
            return {}
        if not isinstance(people, dict) or not people:
            self.error(
                "people", "should map each handle to a person, e.g. alice: {name: Alice, side: sponsor}"
            )
            return {}
        self.handles = {str(h) for h in people if _HANDLE.match(str(h))}
        result: dict[str, PlanPerson] = {}
        seen_ids: dict[tuple[str, str], str] = {}
        for handle, entry in people.items():
            path = f"people.{handle}"
            if not _HANDLE.match(str(handle)):
                self.error(path, f"'{handle}' is not a handle (letters, digits, '.', '_' or '-')")
                continue
            person = self.check_person(entry, path, handle, seen_ids)
            if person:
                result[handle] = person
        return result

    def check_person(self, entry: Any, path: str, handle: str, seen_ids: dict) -> PlanPerson | None:
        fields = self.mapping(entry, path, "person")
        if fields is None:
            return None
        name = self.text(fields.get("name"), f"{path}.name", required=True)
        side = self.text(fields.get("side"), f"{path}.side", required=True)
        if side and side.lower() not in SIDES:
            self.error(f"{path}.side", f"'{side}' is not a side (sponsor or cro)")
            side = None
        zone = self.converted(fields.get("timezone"), f"{path}.timezone", parse_timezone)
        slack = self.text(fields.get("slack"), f"{path}.slack")
        if slack and not _SLACK_USER.match(slack):
            self.error(f"{path}.slack", f"'{slack}' is not a Slack user id (U… or W…)")
        email = self.text(fields.get("email"), f"{path}.email")
        if email and "@" not in email:
            self.error(f"{path}.email", f"'{email}' is not an e-mail address")
        prefers = self.text(fields.get("prefers"), f"{path}.prefers")
        if prefers and prefers.lower() not in CONTACTS:
            self.error(f"{path}.prefers", f"'{prefers}' is not a contact ({', '.join(CONTACTS)})")
        teams = self.text(fields.get("teams"), f"{path}.teams")
        hours = self.converted(fields.get("working_hours"), f"{path}.working_hours", parse_working_hours)
        country = self.country(fields, path)
        for kind, ident in (("slack", slack), ("teams", teams), ("email", email and email.lower())):
            if ident and (kind, ident) in seen_ids:
                self.error(f"{path}.{kind}", f"'{ident}' is also {seen_ids[(kind, ident)]}'s")
            elif ident:
                seen_ids[(kind, ident)] = handle
        if not (name and side):
            return None
        return PlanPerson(
            handle=handle,
            name=name,
            side=side.lower(),
            role=self.text(fields.get("role"), f"{path}.role") or "",
            timezone=zone.key if zone else "",
            slack=slack,
            teams=teams,
            email=email,
            prefers=prefers.lower() if prefers else None,
            working_hours=hours_text(hours) if hours else None,
            country=country,
        )

    def check_responsibilities(self, value: Any) -> list[PlanTopic]:
        topics: list[PlanTopic] = []
        seen: dict[str, int] = {}
        for i, entry in enumerate(self.listing(value, "responsibilities") or []):
            path = f"responsibilities[{i}]"
            fields = self.mapping(entry, path, "responsibility")
            if fields is None:
                continue
            topic = self.text(fields.get("topic"), f"{path}.topic", required=True)
            if topic and topic.casefold() in seen:
                self.error(
                    f"{path}.topic", f"'{topic}' is already responsibilities[{seen[topic.casefold()]}]"
                )
            elif topic:
                seen[topic.casefold()] = i
            keywords = [
                k
                for j, raw in enumerate(self.listing(fields.get("keywords"), f"{path}.keywords") or [])
                if (k := self.text(raw, f"{path}.keywords[{j}]", required=True))
            ]
            owner = self.person(fields.get("owner"), f"{path}.owner")
            backup = self.person(fields.get("backup"), f"{path}.backup", required=False)
            if owner and backup == owner:
                self.error(f"{path}.backup", "is the owner; a backup must be someone else")
            within = self.converted(fields.get("answer_within"), f"{path}.answer_within", parse_duration)
            if topic and owner:
                topics.append(
                    PlanTopic(topic, tuple(keywords), owner, backup, str(within) if within else None)
                )
        return topics

    def check_cadence(self, value: Any) -> dict[str, Any] | None:
        cadence = self.mapping(value, "cadence", "cadence", required=False)
        if cadence is None:
            return None
        within = self.converted(cadence.get("answer_within"), "cadence.answer_within", parse_duration)
        confirm = self.converted(cadence.get("confirm_every"), "cadence.confirm_every", parse_duration)
        return {
            "answer_within": str(within) if within else None,
            "confirm_every": str(confirm) if confirm else None,
            "checkin": self.check_checkin(cadence),
        }

    def check_checkin(self, cadence: dict) -> dict[str, Any] | None:
        path = "cadence.checkin"
        checkin = self.mapping(cadence.get("checkin"), path, "checkin", required=False)
        if checkin is None:
            return None
        schedule = self.converted(checkin.get("schedule"), f"{path}.schedule", parse_schedule, required=True)
        questions = self.listing(checkin.get("questions"), f"{path}.questions", required=True) or []
        if checkin.get("questions") is not None and not questions:
            self.error(f"{path}.questions", "asks nothing; list at least one question")
        durations = {
            name: self.converted(checkin.get(name), f"{path}.{name}", parse_duration)
            for name in ("remind_after", "close_after", "grace")
        }
        skip = self.skip_dates(checkin.get("skip"), f"{path}.skip", schedule, "check-ins are on")
        return {
            "schedule": str(schedule) if schedule else None,
            "participants": self.people_list(checkin.get("participants"), f"{path}.participants"),
            "questions": [
                self.text(q, f"{path}.questions[{i}]", required=True) for i, q in enumerate(questions)
            ],
            **{name: str(d) if d else None for name, d in durations.items()},
            "skip": skip,
        }

    def skip_dates(self, value: Any, path: str, schedule: Schedule | None, what: str) -> list[str]:
        """Dates a schedule skips; each must be one of the schedule's days, or skipping it does nothing."""
        dates: list[str] = []
        for i, raw in enumerate(self.listing(value, path) or []):
            day = self.date(raw, f"{path}[{i}]")
            if day is None:
                continue
            weekday = DAYS[date.fromisoformat(day).weekday()]
            if schedule is not None and weekday not in schedule.days:
                self.error(
                    f"{path}[{i}]",
                    f"{day} is a {_DAY_NAMES[weekday]}; {what} {_days_named(schedule.days)}",
                )
                continue
            dates.append(day)
        return dates

    def date(self, value: Any, path: str) -> str | None:
        def convert(raw: Any) -> str:
            try:
                return date.fromisoformat(str(raw).strip()).isoformat()
            except ValueError:
                raise ValueError(f"'{raw}' is not a date (YYYY-MM-DD)") from None

        return self.converted(value, path, convert, required=True)

    def check_escalation(self, value: Any) -> dict[str, Any] | None:
        escalation = self.mapping(value, "escalation", "escalation", required=False)
        if escalation is None:
            return None
        raw_levels = self.listing(escalation.get("levels"), "escalation.levels", required=True) or []
        if escalation.get("levels") is not None and not raw_levels:
            self.error("escalation.levels", "is empty; an escalation path needs at least one level")
        levels = []
        for i, entry in enumerate(raw_levels):
            path = f"escalation.levels[{i}]"
            fields = self.mapping(entry, path, "level") or {}
            within = self.converted(fields.get("ack_within"), f"{path}.ack_within", parse_duration)
            if fields and within is None and "ack_within" not in fields and i < len(raw_levels) - 1:
                self.error(f"{path}.ack_within", "is missing; every level but the last needs a deadline")
            levels.append(
                {
                    "name": self.text(fields.get("name"), f"{path}.name", required=True),
                    "who": self.people_list(fields.get("who"), f"{path}.who") if fields else [],
                    "ack_within": str(within) if within else None,
                }
            )
        return {"levels": levels, "severities": self.check_severities(escalation, len(levels))}

    def check_severities(self, escalation: dict, level_count: int) -> dict[str, Any]:
        raw = escalation.get("severities") or {}
        if not isinstance(raw, dict):
            self.error(
                "escalation.severities", "should map severities to their levels, e.g. high: {start_level: 1}"
            )
            raw = {}
        severities: dict[str, Any] = {}
        for name, entry in raw.items():
            path = f"escalation.severities.{name}"
            if name not in SEVERITIES:
                self.error(path, f"unknown severity '{name}' (use {', '.join(SEVERITIES)})")
                continue
            fields = self.mapping(entry, path, "severity") or {}
            start = fields.get("start_level", 1)
            if isinstance(start, bool) or not isinstance(start, int):
                self.error(f"{path}.start_level", f"'{start}' is not a level number (1 to {level_count})")
                start = None
            elif not 1 <= start <= level_count:
                self.error(
                    f"{path}.start_level", f"level {start} does not exist (the path has {level_count})"
                )
                start = None
            factor = fields.get("ack_factor")
            if factor is not None and (
                isinstance(factor, bool)
                or not isinstance(factor, int | float)
                or not math.isfinite(factor)
                or not 0 < factor <= 100
            ):
                self.error(
                    f"{path}.ack_factor",
                    f"'{factor}' should be a number above zero and at most 100, e.g. 0.5 or 2",
                )
                factor = None
            within = self.converted(fields.get("ack_within"), f"{path}.ack_within", parse_duration)
            after_hours = self.text(fields.get("after_hours"), f"{path}.after_hours")
            if after_hours and after_hours.lower() not in AFTER_HOURS:
                self.error(
                    f"{path}.after_hours",
                    f"'{after_hours}' is not page (at once, day or night) or wait (in working hours)",
                )
                after_hours = None
            severities[name] = {
                "start_level": start,
                "ack_factor": factor,
                "ack_within": str(within) if within else None,
                "after_hours": after_hours.lower() if after_hours else None,
            }
            if words := self.severity_words(fields.get("words"), f"{path}.words", name, severities):
                severities[name]["words"] = words
        return severities

    def severity_words(self, value: Any, path: str, name: str, earlier: dict[str, Any]) -> list[str]:
        """A severity's own words (`/escalate p1-ish …`): single words, each naming one severity only."""
        words = []
        for i, raw in enumerate(self.listing(value, path) or []):
            word = " ".join(str(raw).casefold().split()) if isinstance(raw, str | int) else ""
            taken = next((s for s, spec in earlier.items() if word in (spec.get("words") or [])), None)
            if not word or " " in word:
                self.error(f"{path}[{i}]", f"'{raw}' should be one word, e.g. p1-ish")
            elif word in SEVERITIES and word != name or taken:
                self.error(
                    f"{path}[{i}]", f"'{word}' already names {taken or word}; a word names one severity"
                )
            else:
                words.append(word)
        return words

    def check_meetings(self, value: Any) -> list[dict[str, Any]]:
        meetings = []
        for i, entry in enumerate(self.listing(value, "meetings") or []):
            path = f"meetings[{i}]"
            fields = self.mapping(entry, path, "meeting")
            if fields is None:
                continue
            durations = {
                name: self.converted(fields.get(name), f"{path}.{name}", parse_duration)
                for name in ("duration", "minutes_due")
            }
            schedule = self.converted(fields.get("schedule"), f"{path}.schedule", parse_schedule)
            name = self.text(fields.get("name"), f"{path}.name", required=True)
            skip = self.skip_dates(
                fields.get("skip"), f"{path}.skip", schedule, f"the {name or 'meeting'} is on"
            )
            meetings.append(
                {
                    "name": name,
                    "schedule": str(schedule) if schedule else None,
                    **{name: str(d) if d else None for name, d in durations.items()},
                    "note_taker": self.person(fields.get("note_taker"), f"{path}.note_taker", required=False),
                    "attendees": self.people_list(
                        fields.get("attendees"), f"{path}.attendees", required=False
                    ),
                    "skip": skip,
                }
            )
        return meetings

    def check_kpis(self, value: Any) -> dict[str, int] | None:
        """Targets in percent (`90` or `"90%"`); a KPI left out keeps its default target."""
        kpis = self.mapping(value, "kpis", "kpis", required=False)
        if kpis is None:
            return None
        return {
            name: target
            for name, raw in kpis.items()
            if name in KPI_TARGETS and (target := self.converted(raw, f"kpis.{name}", _percent)) is not None
        }

    def check_pulse(self, value: Any) -> dict[str, Any] | None:
        """The monthly two-way pulse; `schedule: off` keeps only the rounds an admin starts."""
        pulse = self.mapping(value, "pulse", "pulse", required=False)
        if pulse is None:
            return None
        raw = pulse.get("schedule")
        off = raw is False or (isinstance(raw, str) and raw.strip().casefold() in {"off", "none", "no"})
        schedule = None if off else self.converted(raw, "pulse.schedule", parse_monthly)
        questions = self.listing(pulse.get("questions"), "pulse.questions") or []
        if pulse.get("questions") is not None and not questions:
            self.error("pulse.questions", "asks nothing; list at least one question, or leave it out")
        durations = {
            name: self.converted(pulse.get(name), f"pulse.{name}", parse_duration)
            for name in ("remind_after", "close_after", "first_after")
        }
        return {
            "schedule": "off" if off else (str(schedule) if schedule else None),
            "questions": [
                self.text(q, f"pulse.questions[{i}]", required=True) for i, q in enumerate(questions)
            ],
            "participants": self.people_list(pulse.get("participants"), "pulse.participants", required=False),
            **{name: str(d) if d else None for name, d in durations.items()},
        }

    def check_organisations(self, value: Any) -> dict[str, Any] | None:
        """Each side's Slack workspaces and Teams tenants: people are matched by e-mail only there."""
        sides = self.mapping(value, "organisations", "organisations", required=False)
        if sides is None:
            return None
        known: dict[str, Any] = {}
        for side in SIDES:
            path = f"organisations.{side}"
            fields = self.mapping(sides.get(side), path, "organisation", required=False)
            if fields is None:
                continue
            known[side] = {
                "slack_teams": self.ids(
                    fields.get("slack_teams"), f"{path}.slack_teams", _SLACK_TEAM, "a Slack workspace id (T…)"
                ),
                "teams_tenants": self.ids(
                    fields.get("teams_tenants"), f"{path}.teams_tenants", _TENANT, "an Entra tenant id (GUID)"
                ),
            }
        return known or None

    def check_report_to(self, value: Any, people: dict[str, PlanPerson]) -> list[str]:
        """Who gets the weekly report and the partnership review by e-mail: people of the plan (who need
        an `email:`) or plain addresses, only of a domain the plan's people's addresses use (the study's
        organisations): the report goes no further than the two companies."""
        domains = sorted({_domain(p.email) for p in people.values() if p.email})
        found: list[str] = []
        for i, raw in enumerate(self.listing(value, "report_to") or []):
            path = f"report_to[{i}]"
            entry = self.text(raw, path, required=True)
            if entry is None:
                continue
            if "@" in entry:
                entry = entry.lower()
                if not _EMAIL.match(entry):
                    self.error(path, f"'{entry}' is not an e-mail address")
                    continue
                if _domain(entry) not in domains:
                    allowed = ", ".join(domains) or "none: the plan's people have no e-mail addresses"
                    self.error(
                        path, f"'{entry}' is not of the study's organisations (allowed domains: {allowed})"
                    )
                    continue
            elif (handle := self.person(entry, path)) is None:
                continue
            elif not people[handle].email:
                self.error(path, f"'{handle}' has no email: in the plan, and the report goes by e-mail")
                continue
            if entry in found:
                self.error(path, f"'{entry}' is listed twice")
            else:
                found.append(entry)
        return found

    def ids(self, value: Any, path: str, pattern: re.Pattern, kind: str) -> list[str]:
        found: list[str] = []
        for i, raw in enumerate(self.listing(value, path) or []):
            ident = self.text(raw, f"{path}[{i}]", required=True)
            if ident is None:
                continue
            ident = ident.lower() if pattern is _TENANT else ident
            if not pattern.match(ident):
                self.error(f"{path}[{i}]", f"'{ident}' is not {kind}")
            elif ident not in found:
                found.append(ident)
        return found

    def check_milestones(self, value: Any) -> list[dict[str, Any]]:
        milestones = []
        for i, entry in enumerate(self.listing(value, "milestones") or []):
            path = f"milestones[{i}]"
            fields = self.mapping(entry, path, "milestone")
            if fields is None:
                continue
            every = self.converted(fields.get("update_every"), f"{path}.update_every", parse_duration)
            milestones.append(
                {
                    "name": self.text(fields.get("name"), f"{path}.name", required=True),
                    "due": self.date(fields.get("due"), f"{path}.due"),
                    "owner": self.person(fields.get("owner"), f"{path}.owner", required=False),
                    "accepted_by": self.people_list(
                        fields.get("accepted_by"), f"{path}.accepted_by", required=False
                    ),
                    "update_every": str(every) if every else None,
                }
            )
        names = [str(ms["name"]).casefold() for ms in milestones if ms["name"]]
        for i, ms in enumerate(milestones):
            if (
                ms["name"]
                and names.count(str(ms["name"]).casefold()) > 1
                and names.index(str(ms["name"]).casefold()) != i
            ):
                self.error(f"milestones[{i}].name", f"'{ms['name']}' is already another milestone's name")
        return milestones


_DAY_NAMES = dict(
    zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)


def _days_named(days: tuple[str, ...]) -> str:
    """`('mon',)` as "Mondays", `('mon', 'thu')` as "Mondays and Thursdays"."""
    names = [f"{_DAY_NAMES[d]}s" for d in days]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()


def _percent(value: Any) -> int:
    """A target as the plan gives it: 90, 90.0 or "90%", from 0 to 100."""
    text = str(value).strip().removesuffix("%").strip() if not isinstance(value, bool) else ""
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"'{value}' is not a percentage (e.g. 90 or 90%)") from None
    if not math.isfinite(number) or not 0 <= number <= 100:
        raise ValueError(f"'{value}' should be a percentage from 0 to 100")
    if 0 < number < 1 and "%" not in str(value):  # 0.9 meant as a fraction would be a target of 1 %
        whole = round(number * 100)
        raise ValueError(f"'{value}' is under 1: targets are percents, so write {whole} or {whole}%")
    return round(number)
