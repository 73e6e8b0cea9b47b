"""Property-based fuzzing (Hypothesis) of what people and Slack can send: every slash command with
generated text, every button and form with generated values and payload shapes, Slack's events (the
ones Cadence listens to and others) and interactive payloads with fields missing or of the wrong type,
over signed HTTP to the running bot, and mutated plans through the plan reader. Whatever comes in, the answer is a 200 (or a
clean refusal status), no traceback reaches the log, and a refused input changes nothing.

The suite runs a fixed, small budget of examples; `make fuzz` runs many more (CADENCE_FUZZ_EXAMPLES)."""

from __future__ import annotations

import json
import logging
import os
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from bot import forms
from bot.commands import command_names
from bot.config import EXAMPLE_PLAN
from bot.models import ActionItem, AuditEvent, Escalation, Minutes, OutboxMessage, Question
from bot.plan import PlanInvalid, load_plan
from tests.payloads import ALICE, BEN, MEI, STRANGER, post, post_command, sign, trigger_id

LONG = "CADENCE_FUZZ_EXAMPLES" in os.environ  # `make fuzz`
EXAMPLES = int(os.environ.get("CADENCE_FUZZ_EXAMPLES", "15"))
# The suite's run is the same every time and reports a failure as found; `make fuzz` explores and shrinks.
ROUNDS = dict(
    deadline=None, derandomize=not LONG, phases=list(Phase) if LONG else [Phase.explicit, Phase.generate]
)
FUZZ = settings(
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    **ROUNDS,
)
PEOPLE = st.sampled_from([ALICE, BEN, MEI, STRANGER])
WORDS = st.sampled_from(
    ["", "help", "list", "show", "answered", "done", "move", "set", "now", "skip", "stats", "report", "export",
     "high", "critcal", "A1", "Q1", "E1", "ACME-201-E1", "99999999999999999999999", "²", "@raj", "<!channel>",
     "2026-12-18", "Dec 18", "next friday", "safety", "backup", "\n", "·", "ACTION @omar:", "DECISION:"]
)  # fmt: skip
TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(WORDS, st.text(max_size=12)), max_size=8).map(" ".join),
)
ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=40), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.sampled_from(["1", "0", "-1", "99999999999999999999999", "1|Safety reporting", "ACME-201|x", "|", "A1"]),
)  # fmt: skip
TABLES = (ActionItem, AuditEvent, Escalation, Minutes, OutboxMessage, Question)


def counts(engine) -> dict[str, int]:
    with Session(engine) as session:
        return {t.__name__: session.exec(select(func.count()).select_from(t)).one() for t in TABLES}


class Log(logging.Handler):
    """What Cadence logged during one example: its tracebacks, and whether it refused the input."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def tracebacks(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.exc_info or "Traceback" in r.getMessage()]

    @property
    def refused(self) -> bool:
        return any(r.getMessage().startswith("refused") for r in self.records)


@pytest.fixture
def log():
    handler = Log()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)


def check(answer, log: Log, before: dict[str, int], engine) -> None:
    assert answer.status < 500, answer.body
    assert "Traceback" not in answer.body
    assert not log.tracebacks, log.tracebacks
    if log.refused:
        assert counts(engine) == before, "a refused input changed something"
    log.records.clear()


@FUZZ
@given(command=st.sampled_from(command_names()), text=TEXT, user=PEOPLE)
def test_any_text_for_any_command_gets_an_answer(slack_url, engine, log, command, text, user):
    before = counts(engine)
    check(post_command(slack_url, command, text, user_id=user), log, before, engine)


def interactive(url: str, payload: object):
    body = urlencode({"payload": json.dumps(payload)})
    return post(f"{url}/slack/events", body, sign(body), "application/x-www-form-urlencoded")


ACTION_IDS = st.sampled_from(
    sorted(forms.BUTTONS) + sorted(forms.FORM_BUTTONS)
    + ["checkin_answer", "checkin_snooze", "question_topic_2", "home_refresh", "nonsense"]
)  # fmt: skip


@FUZZ
@given(
    action=ACTION_IDS, value=ODD_VALUES, user=PEOPLE, extra=st.dictionaries(st.text(max_size=8), ODD_VALUES)
)
def test_any_button_value_gets_an_answer(slack_url, fake_slack, engine, log, action, value, user, extra):
    button = {"action_id": action, "type": "button", "action_ts": "1.1"} | extra
    if value is not None:
        button["value"] = value
    payload = {
        "type": "block_actions", "user": {"id": user, "team_id": "T0SPONSOR"}, "api_app_id": "A0CADENCE",
        "trigger_id": trigger_id(), "team": {"id": "T0SPONSOR"}, "channel": {"id": "C0STUDY"},
        "response_url": f"{fake_slack.url}response-hook", "actions": [button],
    }  # fmt: skip
    before = counts(engine)
    check(interactive(slack_url, payload), log, before, engine)


FIELD_VALUES = st.one_of(
    st.fixed_dictionaries({"value": st.one_of(st.text(max_size=60), st.none())}),
    st.fixed_dictionaries({"selected_option": st.one_of(st.none(), st.fixed_dictionaries({"value": st.text(max_size=30)}))}),
    st.fixed_dictionaries({"selected_date": st.one_of(st.text(max_size=12), st.just("2026-12-18"))}),
    st.fixed_dictionaries({"selected_users": st.lists(st.sampled_from([BEN, MEI, "U0NOPE", ""]), max_size=3)}),
    ODD_VALUES,
)  # fmt: skip
BLOCK_IDS = st.sampled_from(
    ["summary", "severity", "topic", "impact", "tried", "note", "reason", "notes", "meeting", "attendees",
     "due", "date", "status", "q0", "q1", "held_on", "x"]
)  # fmt: skip


@FUZZ
@given(
    form=st.sampled_from(sorted(forms.FORMS) + ["nonsense"]),
    meta=st.one_of(
        st.text(max_size=40), st.sampled_from(["ACME-201", "ACME-201|1", "1", "{}", "ACME-201|W48"])
    ),
    values=st.dictionaries(
        BLOCK_IDS, st.dictionaries(st.just("value"), FIELD_VALUES, max_size=1), max_size=6
    ),
    user=PEOPLE,
)
def test_any_form_submission_gets_an_answer(slack_url, engine, log, form, meta, values, user):
    payload = {
        "type": "view_submission", "user": {"id": user, "team_id": "T0SPONSOR"}, "team": {"id": "T0SPONSOR"},
        "trigger_id": trigger_id(),
        "view": {"id": "V1", "type": "modal", "callback_id": form, "private_metadata": meta,
                 "state": {"values": values}},
    }  # fmt: skip
    before = counts(engine)
    check(interactive(slack_url, payload), log, before, engine)


def event_body(url: str, body: object):
    raw = json.dumps(body)
    return post(f"{url}/slack/events", raw, sign(raw), "application/json")


EVENT_TYPES = st.sampled_from(
    ["app_mention", "message", "app_home_opened", "member_joined_channel", "tokens_revoked", "app_uninstalled",
     "reaction_added"]
)  # fmt: skip
# Plausible values of each event field, or a value of the wrong type, or the field left out.
EVENT_FIELDS = {
    "user": st.sampled_from([BEN, MEI, STRANGER]), "channel": st.sampled_from(["C0STUDY", "D01BEN", "C0OTHER"]),
    "text": st.one_of(WORDS, st.just("<@UBOTT0SPONSOR> who-owns SAE")), "ts": st.just("1800000000.000100"),
    "thread_ts": st.sampled_from(["1800000000.000100", "1700000000.000001"]),
    "channel_type": st.sampled_from(["im", "channel", "group"]),
    "subtype": st.sampled_from(["message_changed", "bot_message", "channel_join", "thread_broadcast"]),
    "tab": st.sampled_from(["home", "messages"]), "bot_id": st.just("B0"), "user_team": st.just("T0CRO"),
    "tokens": st.one_of(
        st.fixed_dictionaries({"oauth": st.lists(st.sampled_from([BEN, "U0X"]), max_size=2),
                               "bot": st.lists(st.sampled_from(["UBOTT0SPONSOR", "UBOT"]), max_size=2)}),
        ODD_VALUES),
    "message": st.one_of(st.fixed_dictionaries({"user": st.just(BEN), "text": st.just("x")}), ODD_VALUES),
    "item": ODD_VALUES,
}  # fmt: skip


@st.composite
def events(draw):
    event: dict[str, object] = {"type": draw(st.one_of(EVENT_TYPES, ODD_VALUES))}
    for name, plausible in EVENT_FIELDS.items():
        kind = draw(st.sampled_from(["left out", "plausible", "plausible", "odd"]))
        if kind != "left out":
            event[name] = draw(plausible if kind == "plausible" else ODD_VALUES)
    outer = {
        "token": "legacy", "team_id": "T0SPONSOR", "api_app_id": "A0CADENCE", "type": "event_callback",
        "event_id": f"Ev{trigger_id()[-16:]}", "event_time": 1800000000, "event": event,
    }  # fmt: skip
    for name in draw(st.lists(st.sampled_from(sorted(outer)), max_size=2, unique=True)):
        outer[name] = draw(ODD_VALUES)
    return outer


@FUZZ
@given(body=events())
def test_any_event_shape_gets_an_answer(slack_url, engine, log, body):
    before = counts(engine)
    check(event_body(slack_url, body), log, before, engine)


def _click(user: str, response_url: str) -> dict[str, object]:
    return {
        "type": "block_actions", "user": {"id": user, "team_id": "T0SPONSOR"}, "api_app_id": "A0CADENCE",
        "trigger_id": trigger_id(), "team": {"id": "T0SPONSOR"}, "channel": {"id": "C0STUDY"},
        "container": {"type": "message", "message_ts": "1800000000.000001", "channel_id": "C0STUDY"},
        "response_url": response_url,
        "actions": [{"action_id": "esc_ack", "block_id": "x", "value": "1", "type": "button", "action_ts": "1.1"}],
    }  # fmt: skip


def _form(user: str) -> dict[str, object]:
    return {
        "type": "view_submission", "user": {"id": user, "team_id": "T0SPONSOR"}, "team": {"id": "T0SPONSOR"},
        "trigger_id": trigger_id(),
        "view": {"id": "V1", "type": "modal", "callback_id": "escalate", "private_metadata": "ACME-201",
                 "state": {"values": {"summary": {"value": {"type": "plain_text_input", "value": "x"}}}}},
    }  # fmt: skip


# Where in a payload a field may be given the wrong type (a path of keys; "0" is a list's first item).
PAYLOAD_PATHS = st.sampled_from(
    ["type", "user", "user.id", "team", "team.id", "channel", "channel.id", "container", "response_url",
     "actions", "actions.0", "actions.0.action_id", "actions.0.value", "actions.0.action_ts", "view",
     "view.type", "view.callback_id", "view.private_metadata", "view.state", "view.state.values",
     "view.state.values.summary", "view.state.values.summary.value", "trigger_id"]
)  # fmt: skip


def _replace(payload: dict[str, object], path: str, value: object) -> None:
    *parents, last = path.split(".")
    where: object = payload
    for key in parents:
        where = where[int(key)] if isinstance(where, list) and key.isdigit() else (where or {}).get(key)
        if not isinstance(where, dict | list):
            return
    if isinstance(where, list) and last.isdigit() and where:
        where.pop(0) if value is _LEFT_OUT else where.__setitem__(0, value)
    elif isinstance(where, dict):
        where.pop(last, None) if value is _LEFT_OUT else where.__setitem__(last, value)


_LEFT_OUT = object()


@FUZZ
@given(
    kind=st.sampled_from(["click", "form", "legacy"]),
    changes=st.lists(
        st.tuples(PAYLOAD_PATHS, st.one_of(st.just(_LEFT_OUT), ODD_VALUES)), min_size=1, max_size=3
    ),
    user=PEOPLE,
)
def test_any_interactive_payload_with_fields_of_the_wrong_type_gets_an_answer(
    slack_url, fake_slack, engine, log, kind, changes, user
):
    payload = _form(user) if kind == "form" else _click(user, f"{fake_slack.url}response-hook")
    if kind == "legacy":
        payload["type"] = "interactive_message"
    for path, value in changes:
        _replace(payload, path, value)
    before = counts(engine)
    check(interactive(slack_url, payload), log, before, engine)


PLAN = EXAMPLE_PLAN.read_text()


@settings(max_examples=EXAMPLES * 4, **ROUNDS)
@given(
    cut=st.integers(0, len(PLAN)),
    length=st.integers(0, 40),
    insert=st.one_of(st.text(max_size=30), st.sampled_from(["*a", "&a ", "[", "{", "- ", ": ", "\t", "\x00", "!!python/object:os.system", "99999999999999999999w", ".inf", "EST", "~"])),
)  # fmt: skip
def test_a_mutated_plan_is_read_or_refused_with_reasons(cut, length, insert):
    mutated = PLAN[:cut] + insert + PLAN[cut + length :]
    try:
        load_plan(mutated)
    except PlanInvalid as invalid:
        assert invalid.errors and all(str(e) for e in invalid.errors)
