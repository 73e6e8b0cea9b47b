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


SKIPS_ON_MONDAYS = (
    "[2026-12-28, 2027-01-04]   # check-in days (Mondays) the holidays take: no round those weeks"
)


def test_the_shared_example_plan_loads_or_is_refused_only_for_its_skips_off_the_schedule():
    """The shared copy skips check-ins on the Fridays 25 Dec and 1 Jan, which does nothing: since this round
    a `skip:` date off its schedule is a plan error (DESIGN.md), naming the schedule's days. Nothing else
    in it may be refused."""
    if not SHARED_PLAN.exists():
        pytest.skip("shared/ is not beside this checkout")
    try:
        plan = load_plan_file(SHARED_PLAN)
    except PlanInvalid as refused:
        assert {e.path for e in refused.errors} <= {"cadence.checkin.skip[0]", "cadence.checkin.skip[1]"}
        assert all("check-ins are on Mondays" in e.message for e in refused.errors)
        plan = load_plan(SHARED_PLAN.read_text().replace("[2026-12-25, 2027-01-01]", SKIPS_ON_MONDAYS))
    assert plan.study_id == "ACME-201"
    assert len(plan.people) == 9 and len(plan.responsibilities) == 8


def test_our_example_plan_is_the_shared_one_with_its_skips_on_check_in_days():
    if not SHARED_PLAN.exists():
        pytest.skip("shared/ is not beside this checkout")
    pointer, rest = Path(EXAMPLE_PLAN).read_text().split("\n", 1)
    assert (
        pointer == "# yaml-language-server: $schema=../docs/plan.schema.json"
    )  # editors check it as it is typed
    shared = SHARED_PLAN.read_text()
    assert rest in (shared, shared.replace("[2026-12-25, 2027-01-01]", SKIPS_ON_MONDAYS))


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
    assert errors == [
        "line 3: the [ opened on this line is not closed on it: end it with ] "
        "(and quote a value that holds a comma or a colon)"
    ]


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("  name: Alice Chen,", "\tname: Alice Chen,", None),  # replaced below: a tab in block style
        ("    owner: mei\n", "    owner: @mei\n", "line 29: a value cannot start with @: write mei, or quote it: '@mei'"),
        ("    owner: mei\n", "    owner mei\n", "line 29: 'owner mei' has no colon after its field's name: write 'owner: mei'"),
        ("    backup: raj\n    answer_within: 4h", "    backup: raj\n   answer_within: 4h",
         "line 31: is indented by 3 spaces, unlike line 30 above it (4 spaces): fields of one section start in the same column"),
        ("  channel: C0STUDY ", "    channel: C0STUDY ",
         "line 12: is indented further than line 11, whose field already has a value: start it in the same column (2 spaces)"),
        ("study:\n", "study\n", "line 8: 'study' has no colon: write 'study:'"),
        ("  id: ACME-201\n", "  id: ACME-201: retinoid\n", 'line 9: a value holding \': \' must be quoted: write id: "ACME-201: retinoid"'),
        ("  channel: C0STUDY ", "  channel: #general ",
         'line 12: study.channel: \'#general\' is read as a comment in YAML (a # after a space starts one), so this is empty: put it in quotes, "#general"'),
    ],
)  # fmt: skip
def test_yaml_mistakes_are_explained_on_their_own_line(old: str, new: str, expected: str | None):
    if expected is None:
        text = _with("  timezone: America/New_York\n", "\ttimezone: America/New_York\n")
        expected = "line 11: starts with a tab: YAML indents with spaces; replace the tab with spaces"
    else:
        text = _with(old, new)
    assert text != EXAMPLE_PLAN.read_text()
    assert errors_of(text) == [expected]


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


@pytest.mark.parametrize(
    ("timeline", "message"),
    [
        ("start: 2027-01-08, end: 2026-12-07", "study.end: 2026-12-07 is not after study.start (2027-01-08)"),
        ("start: 2027-01-08, end: 2027-01-08", "study.end: 2027-01-08 is not after study.start (2027-01-08)"),
        ("start: 7 Dec", "study.start: '7 Dec' is not a date (YYYY-MM-DD)"),
        ("end: 2027-02-30", "study.end: '2027-02-30' is not a date (YYYY-MM-DD)"),
        ("stop: 2027-02-01", "study.stop: unknown field 'stop'"),
    ],
)
def test_the_studys_timeline_is_checked_with_its_paths(timeline: str, message: str):
    text = MINIMAL.replace("admins: [ann]}", f"admins: [ann], {timeline}}}")
    assert any(message in e for e in errors_of(text)), errors_of(text)


def test_the_studys_timeline_is_read_as_dates():
    plan = load_plan(MINIMAL.replace("admins: [ann]}", "admins: [ann], start: 2026-12-07, end: 2027-06-30}"))
    assert (plan.data["study"]["start"], plan.data["study"]["end"]) == ("2026-12-07", "2027-06-30")
    assert load_plan(MINIMAL).data["study"]["start"] is None  # the day it is first applied


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


def test_a_severity_may_add_its_own_words_each_naming_one_severity():
    text = EXAMPLE_PLAN.read_text()
    ok = text.replace(
        "high:     {start_level: 1, ack_factor: 0.5}",
        "high:     {start_level: 1, ack_factor: 0.5, words: [P1-ish]}",
    )
    assert load_plan(ok).data["escalation"]["severities"]["high"]["words"] == ["p1-ish"]
    bad = text.replace(
        "high:     {start_level: 1, ack_factor: 0.5}",
        "high:     {start_level: 1, ack_factor: 0.5, words: [critical, two words, {a: 1}]}",
    )
    assert [e.split(": ", 1)[1] for e in errors_of(bad)] == [
        "escalation.severities.high.words[0]: 'critical' already names critical; a word names one severity",
        "escalation.severities.high.words[1]: 'two words' should be one word, e.g. p1-ish",
        "escalation.severities.high.words[2]: '{'a': 1}' should be one word, e.g. p1-ish",
    ]


# --- the plan's schema and reference ------------------------------------------------------------

DOCS = Path(EXAMPLE_PLAN).resolve().parent.parent / "docs"


def test_the_shipped_schema_is_the_one_cadence_prints():
    from bot.plan_schema import plan_schema_json

    assert (DOCS / "plan.schema.json").read_text() == plan_schema_json(), (
        "run: cadence plan schema > docs/plan.schema.json"
    )


def test_the_plan_reference_is_generated_from_the_same_table():
    from bot.plan_schema import plan_reference

    assert (DOCS / "plan.md").read_text() == plan_reference(), (
        "run: cadence plan schema --markdown > docs/plan.md"
    )


def test_the_schema_describes_every_field_the_validator_knows():
    from bot.plan import _FIELDS
    from bot.plan_schema import field_names

    described = field_names()
    for kind, names in _FIELDS.items():
        assert set(names) <= set(described[kind]), (kind, set(names) - set(described[kind]))
        # and nothing a plan could not use: an editor must not offer a field the validator refuses
        assert set(described[kind]) <= set(names), (kind, set(described[kind]) - set(names))


def test_the_schema_holds_the_fields_agreed_on_2026_12_03():
    from bot.plan_schema import field_names

    described = field_names()
    assert {"start", "end", "working_hours", "country", "holidays"} <= set(described["study"])
    assert {"after_hours", "words"} <= set(described["severity"])
    assert "skip" in described["meeting"] and "organisations" in described[""]  # report_to: with e-mail (#30)


def _plan_data(text: str):
    import yaml

    from bot.plan import _PlanLoader

    return yaml.load(text, Loader=_PlanLoader)


def test_the_example_plan_validates_against_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    from bot.plan_schema import plan_schema

    validator = jsonschema.Draft202012Validator(plan_schema())
    validator.check_schema(plan_schema())
    assert list(validator.iter_errors(_plan_data(EXAMPLE_PLAN.read_text()))) == []
    assert list(validator.iter_errors(_plan_data(MINIMAL))) == []
    fewest = (
        "study: {id: S-1, timezone: Europe/Warsaw, admins: [ann]}\npeople: {ann: {name: Ann, side: CRO}}\n"
        "pulse: {schedule: off}\nkpis: {checkin_response: '85'}\n"
    )
    assert load_plan(fewest) and list(validator.iter_errors(_plan_data(fewest))) == []


@pytest.mark.parametrize(
    "old, new",
    [
        ("  answer_within: 1bd", "  respond_within: 1bd"),
        ("side: cro,", "side: vendor,"),
        ("ack_factor: 0.5}", "ack_factor: 0}"),
        ("answer_within: 4h", "answer_within: 4 hours"),
        ("skip: [2026-12-28,", "skip: [28.12.2026,"),
    ],
)
def test_the_schema_refuses_what_the_validator_refuses(old: str, new: str):
    jsonschema = pytest.importorskip("jsonschema")
    from bot.plan_schema import plan_schema

    text = _with(old, new)
    assert text != EXAMPLE_PLAN.read_text()
    assert list(jsonschema.Draft202012Validator(plan_schema()).iter_errors(_plan_data(text)))
    with pytest.raises(PlanInvalid):
        load_plan(text)


@pytest.mark.parametrize(
    "written, message",
    [
        ("New York", "'New York' is a place, not a timezone's name (use America/New_York)"),
        ("Warsaw", "'Warsaw' is a place, not a timezone's name (use Europe/Warsaw)"),
        ("Kolkata", "(use Asia/Kolkata)"),
        ("Bangalore", "'Bangalore' is a place, not a timezone's name (use Asia/Kolkata)"),
        ("Poland", "(use Europe/Warsaw)"),
        ("Asia/Bangalore", "unknown timezone 'Asia/Bangalore' (did you mean Asia/Kolkata?)"),
        ("Europe/Warsw", "(did you mean Europe/Warsaw?)"),
        ("UTC+5:30", "'UTC+5:30' is an offset from UTC, not a place's timezone"),
        ("UTC+5:30", "Asia/Kolkata [India (IST)]"),
        ("Mars/Olympus", "unknown timezone 'Mars/Olympus' (use an IANA name such as Europe/Warsaw)"),
    ],
)
def test_timezones_as_people_write_them_get_the_iana_name(written: str, message: str):
    errors = errors_of(MINIMAL.replace("timezone: Europe/Warsaw", f"timezone: {written}"))
    assert any(f"study.timezone: {message}" in e or message in e for e in errors), errors
    assert not any("abbreviation" in e for e in errors)


def test_an_offset_lists_the_zones_at_that_offset_on_the_day():
    from datetime import UTC, datetime, timedelta

    from bot.zone_names import zones_at_offset

    winter, summer = datetime(2027, 1, 15, tzinfo=UTC), datetime(2027, 7, 15, tzinfo=UTC)
    assert "Europe/Paris" in zones_at_offset(timedelta(hours=1), now=winter)
    assert "Europe/Paris" in zones_at_offset(timedelta(hours=2), now=summer)
    assert "Europe/Paris" not in zones_at_offset(timedelta(hours=1), now=summer)


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("    answer_within: 4h ", "    respond_within: 4h ",
         "responsibilities[0].respond_within: unknown field 'respond_within' (did you mean 'answer_within'?)"),
        ("  answer_within: 1bd ", "  reply_within: 1bd ",
         "cadence.reply_within: unknown field 'reply_within' (did you mean 'answer_within'?)"),
        ("milestones:", "kpis: {checkin_response: 0.9}\nmilestones:",
         "kpis.checkin_response: '0.9' is under 1: targets are percents, so write 90 or 90%"),
    ],
)  # fmt: skip
def test_near_misses_get_a_hint(old: str, new: str, message: str):
    text = _with(old, new)
    assert text != EXAMPLE_PLAN.read_text()
    assert any(message in e for e in errors_of(text)), errors_of(text)


def test_a_target_written_with_its_percent_sign_is_taken_as_written():
    plan = load_plan(_with("milestones:", "kpis: {checkin_response: 90%, actions_on_time: 0}\nmilestones:"))
    assert plan.data["kpis"] == {"checkin_response": 90, "actions_on_time": 0}


def test_a_list_item_after_a_value_is_explained():
    errors = errors_of(_with("  admins: [alice, raj]", "  admins: - alice"))
    assert errors == [
        "line 13: a '- ' item cannot follow a value on the same line, nor sit under a field that has a value: "
        "put each item on a line of its own under a field that ends with ':'"
    ]
