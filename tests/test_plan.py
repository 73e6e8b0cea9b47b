"""Loading and validating communication plans."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import EXAMPLE_PLAN
from bot.plan import PlanInvalid, load_plan, load_plan_file
from tests.conftest import SHARED_PLAN


def errors_of(text: str) -> list[str]:
    with pytest.raises(PlanInvalid) as caught:
        load_plan(text)
    return [str(e) for e in caught.value.errors]


MINIMAL = """
study: {id: S-1, name: Study, timezone: Europe/Warsaw, channel: C0S1, admins: [ann]}
people:
  ann: {name: Ann, side: sponsor, slack: U0ANN}
  bo: {name: Bo, side: cro, slack: U0BO, timezone: America/Chicago}
responsibilities:
  - {topic: Safety, keywords: [SAE], owner: ann, backup: bo}
"""


def test_the_shared_example_plan_loads_unchanged():
    if not SHARED_PLAN.exists():
        pytest.skip("shared/ is not beside this checkout")
    plan = load_plan_file(SHARED_PLAN)
    assert plan.study_id == "ACME-201"
    assert len(plan.people) == 9 and len(plan.responsibilities) == 8


def test_our_example_plan_matches_the_shared_one():
    if not SHARED_PLAN.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert Path(EXAMPLE_PLAN).read_text() == SHARED_PLAN.read_text()


def test_example_plan_reads_every_section():
    plan = load_plan_file(EXAMPLE_PLAN)
    assert plan.admins == ("alice", "raj")
    assert plan.channel == "C0STUDY"
    assert plan.people["carla"].prefers == "email"
    assert plan.people["mei"].timezone == "Europe/Warsaw"
    safety = plan.responsibilities[0]
    assert (safety.topic, safety.owner, safety.backup, safety.answer_within) == (
        "Safety reporting",
        "mei",
        "raj",
        "4h",
    )
    assert plan.data["cadence"]["checkin"]["schedule"] == "mon 09:00"
    assert plan.data["cadence"]["checkin"]["skip"] == ["2026-12-28", "2027-01-04"]
    assert plan.data["escalation"]["severities"]["critical"] == {
        "start_level": 2,
        "ack_factor": None,
        "ack_within": "1h",
        "after_hours": None,  # critical pages by default (bot.escalation.pages)
    }
    assert plan.data["milestones"][0] == {
        "name": "First patient in",
        "due": "2027-01-15",
        "owner": "raj",
        "accepted_by": [],
        "update_every": None,
    }


def test_an_unquoted_comma_in_a_flow_mapping_stays_part_of_the_value():
    # The example writes `role: Director, Clinical Ops` inside {…}; YAML alone would make "Clinical Ops" a key.
    assert load_plan_file(EXAMPLE_PLAN).people["tom"].role == "Director, Clinical Ops"


def test_a_person_without_a_timezone_lives_in_the_studys():
    plan = load_plan(MINIMAL)
    assert plan.people["ann"].timezone == "Europe/Warsaw"
    assert plan.people["bo"].timezone == "America/Chicago"


def test_every_problem_is_reported_at_once_with_its_path_and_line():
    errors = errors_of(
        """
study: {id: S-1, timezone: Mars/Base, channel: "#general", admins: [ann, zed]}
people:
  ann: {name: Ann, side: sponsor, slack: U0ANN}
  bo: {name: Bo, side: vendor, slack: U0ANN, timezon: UTC}
responsibilities:
  - {topic: Safety, owner: zed, answer_within: 4 hours}
  - {topic: safety, owner: ann, backup: ann}
cadence:
  answer_within: 0h
  checkin:
    schedule: "monday 9am"
    participants: [ann, ann]
    questions: []
    skip: [2026-13-01]
escalation:
  levels:
    - {name: PMs, who: []}
    - {name: Execs, who: [bo]}
  severities:
    high: {start_level: 4}
    urgent: {start_level: 1}
meetings:
  - {name: Weekly, schedule: "thu 25:00", note_taker: nobody, minutes_due: 1x}
milestones:
  - {name: FPI, due: soon, owner: bo}
"""
    )
    expected = [
        "line 2: study.timezone: unknown timezone 'Mars/Base'",
        "line 2: study.channel: '#general' is not a Slack channel id",
        "line 2: study.admins[1]: unknown person 'zed'",
        "line 5: people.bo.side: 'vendor' is not a side (sponsor or cro)",
        "line 5: people.bo.timezon: unknown field 'timezon' (did you mean 'timezone'?)",
        "line 5: people.bo.slack: 'U0ANN' is also ann's",
        "line 7: responsibilities[0].owner: unknown person 'zed'",
        "line 7: responsibilities[0].answer_within: '4 hours' is not a duration",
        "line 8: responsibilities[1].topic: 'safety' is already responsibilities[0]",
        "line 8: responsibilities[1].backup: is the owner",
        "line 10: cadence.answer_within: '0h' must be longer than zero",
        "line 12: cadence.checkin.schedule: 'monday 9am': unknown day 'monday'",
        "line 13: cadence.checkin.participants[1]: 'ann' is listed twice",
        "line 14: cadence.checkin.questions: asks nothing",
        "line 15: cadence.checkin.skip[0]: '2026-13-01' is not a date (YYYY-MM-DD)",
        "line 18: escalation.levels[0].who: names nobody",
        "line 18: escalation.levels[0].ack_within: is missing",
        "line 21: escalation.severities.high.start_level: level 4 does not exist (the path has 2)",
        "line 22: escalation.severities.urgent: unknown severity 'urgent'",
        "line 24: meetings[0].schedule: 'thu 25:00': '25:00' is not a time of day",
        "line 24: meetings[0].note_taker: unknown person 'nobody'",
        "line 24: meetings[0].minutes_due: '1x' is not a duration",
        "line 26: milestones[0].due: 'soon' is not a date (YYYY-MM-DD)",
    ]
    for fragment in expected:
        assert any(e.startswith(fragment) for e in errors), f"missing: {fragment}\nin:\n" + "\n".join(errors)
    assert len(errors) == len(expected)


def test_duplicate_handles_are_reported_with_their_line():
    text = MINIMAL.replace("  bo: {", "  ann: {name: Ann 2, side: cro}\n  bo: {")
    assert "line 5: people.ann: appears twice" in errors_of(text)


def test_yaml_syntax_errors_name_the_line():
    errors = errors_of("study:\n  id: S-1\n  admins: [ann\npeople: {}\n")
    assert len(errors) == 1 and errors[0].startswith("line 4: (plan): YAML syntax error")


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "(plan): the plan is empty"),
        ("- just\n- a list\n", "(plan): should be a mapping of fields"),
        ("study: {id: S}\n", "people: is missing"),
        ("study: {id: S, timezone: UTC, admins: [a]}\npeople: [a, b]\n", "people: should map each handle"),
        (MINIMAL + "extra: 1\n", "extra: unknown field 'extra'"),
        (MINIMAL.replace("slack: U0BO", "slack: '@bo'"), "people.bo.slack: '@bo' is not a Slack user id"),
        (
            MINIMAL.replace("side: cro", "side: cro, prefers: pigeon"),
            "people.bo.prefers: 'pigeon' is not a contact",
        ),
        (MINIMAL + "escalation: {levels: []}\n", "escalation.levels: is empty"),
        (
            MINIMAL + "escalation: {levels: [{name: A, who: [ann]}], severities: {low: {ack_factor: -1}}}\n",
            "escalation.severities.low.ack_factor: '-1' should be a number above zero",
        ),
    ],
)
def test_bad_plans_get_a_plain_reason(text: str, message: str):
    assert any(message in e for e in errors_of(text)), errors_of(text)


def test_a_missing_file_is_a_plan_error_not_a_crash(tmp_path: Path):
    with pytest.raises(PlanInvalid) as caught:
        load_plan_file(tmp_path / "nope.yaml")
    assert "cannot read" in str(caught.value)


def test_a_file_that_is_not_text_is_a_plan_error(tmp_path: Path):
    path = tmp_path / "plan.yaml"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(PlanInvalid) as caught:
        load_plan_file(path)
    assert "not UTF-8" in str(caught.value)


def _with(old: str, new: str) -> str:
    return EXAMPLE_PLAN.read_text().replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_with("timezone: America/New_York\n", "timezone: EST\n"), "'EST' is an abbreviation, not a place's timezone (did you mean America/New_York?)"),
        (_with("timezone: America/New_York\n", "timezone: CET\n"), "did you mean Europe/Paris?"),
        (_with("ack_within: 4h}", "ack_within: 99999999999999999999999999w}"), "is longer than a year"),
        (_with("answer_within: 1bd ", "answer_within: 99999999999999999999w "), "is longer than a year"),
        (_with("ack_factor: 0.5}", "ack_factor: .inf}"), "should be a number above zero and at most 100"),
        (_with("ack_factor: 0.5}", "ack_factor: .nan}"), "should be a number above zero and at most 100"),
        ("study: {id: X, name: \x00}\n", "a character YAML does not allow"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nests too deeply"),
        (_with("id: ACME-201", "id: " + "A" * 100_000), "is 100,000 characters long (at most 2,000)"),
    ],
)  # fmt: skip
def test_hostile_or_absurd_plans_are_refused_with_a_reason(text: str, message: str):
    assert any(message in error for error in errors_of(text))


HUGE = "9" * 5_000  # past Python's 4,300-digit limit for turning text into a number and back


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("id: ACME-201", f"id: {HUGE}", "study.id"),
        ("ack_factor: 0.5}", f"ack_factor: {HUGE}}}", "escalation.severities.high.ack_factor"),
        ("{start_level: 1, ack_factor: 0.5}", f"{{start_level: -{HUGE}, ack_factor: 0.5}}", "escalation.severities.high.start_level"),
        ("    low: ", f"    ? {HUGE}\n    : {{start_level: 1}}\n    low: ", "escalation.severities"),
    ],
)  # fmt: skip
def test_a_number_too_large_to_hold_is_one_plan_error_at_its_path(old: str, new: str, path: str):
    assert _with(old, new) != EXAMPLE_PLAN.read_text()
    errors = errors_of(_with(old, new))
    assert [e for e in errors if f"{path}: " in e] == [e for e in errors if "too large a number" in e]
    assert len(errors) == 1 and "(5,000 digits; at most 18)" in errors[0]


def test_large_numbers_that_can_be_held_are_range_checked():
    errors = errors_of(
        _with("ack_factor: 0.5}", "ack_factor: 99999999999999999}") + "kpis: {checkin_response: 1e999}\n"
    )
    assert any("ack_factor: '99999999999999999' should be a number above zero" in e for e in errors)
    assert any("kpis.checkin_response: '1e999' should be a percentage from 0 to 100" in e for e in errors)


def test_a_billion_laughs_plan_is_refused():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    assert any("expands to over" in error for error in errors_of("\n".join(lines) + "\n"))
