"""`cadence simulate` as a study lead runs it: a real process, a plan, a script, its printout."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import holidays
import pytest

from tests.conftest import child_pythonpath
from tests.test_cli import cadence

SCRIPT = """\
# minutes with an action item for Omar, then a high issue on Friday afternoon
2026-12-03 16:30 @raj /minutes ACTION @omar send the data cleaning plan by 2026-12-09
2026-12-03 16:31 @raj /minutes post M1
2026-12-04 16:00 @ben /escalate high Temperature excursion on kit shipment   # nobody acknowledges
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CADENCE_", "TEAMS_"))}
    return clean | {"DATABASE_URL": f"sqlite:///{tmp_path / 'not-this.db'}", "PYTHONPATH": child_pythonpath()}


def simulate(env: dict[str, str], tmp_path: Path, *args: str, script: str | None = None):
    if script is not None:
        (tmp_path / "script.txt").write_text(script)
        args = (*args, "--script", str(tmp_path / "script.txt"))
    return cadence("simulate", *args, env=env, timeout=120)


def lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines()]


def at(message: dict) -> str:
    return datetime.fromisoformat(message["local"]).strftime("%a %d %H:%M")


def test_twelve_days_of_the_example_plan(env, tmp_path):
    done = simulate(env, tmp_path, "--from", "2026-12-03", "--days", "12", "--json", script=SCRIPT)
    assert done.returncode == 0, done.stderr
    messages = lines(done.stdout)
    assert set(messages[0]) == {"at", "local", "to", "kind", "text"}
    assert [m["at"] for m in messages] == sorted(m["at"] for m in messages)

    def of(kind: str) -> list[dict]:  # alone, or an item of a digest
        return [m for m in messages if kind == m["kind"] or kind in m.get("items", ())]

    def sent(kind: str, to: str | None = None) -> list[str]:
        return [at(m) for m in of(kind) if to is None or m["to"] == to]

    prompts = of("checkin_prompt")
    assert {at(m) for m in prompts} == {"Mon 07 09:00", "Mon 14 09:00"} and len(prompts) == 14
    assert (
        datetime.fromisoformat(next(m for m in prompts if m["to"] == "@raj")["local"]).utcoffset().seconds
        == 3600
    )
    assert sent("checkin_reminder", "@ben") == ["Mon 07 13:00", "Mon 14 13:00"]
    assert sent("checkin_digest", "#C0STUDY") == ["Tue 08 10:00"]
    assert sent("report", "#C0STUDY") == ["Mon 07 08:00", "Mon 14 08:00"]
    assert sent("action_reminder", "@omar") == [
        "Tue 08 09:00",
        "Wed 09 09:00",
        "Thu 10 09:00",
        "Fri 11 09:00",
        "Mon 14 09:00",
    ]
    # Raised Friday 16:00 New York, a `high` issue waits for working hours (before working calendars the
    # study leads had it at 19:00 on Friday): Raj at his Monday 09:00, the study leads two of his working
    # hours later (Alice at her 09:00), the executives from Monday morning New York time.
    assert sent("escalation_notify", "@raj") == ["Mon 07 09:00"]
    assert sent("escalation_notify", "@alice") == ["Mon 07 09:00"]
    assert sent("escalation_notify", "@dev")[0] == "Mon 07 09:30"
    # Thursday 10 December's call had no minutes: Raj is chased a day after it ended (16:00 New York),
    # which is Friday 22:00 his time: it waits for his Monday morning (it went out at 22:00 before).
    assert sent("minutes_chase", "@raj") == ["Mon 14 09:00"]
    assert any(m["kind"] == "reply" and m["to"] == "@ben" and "ACME-201-E1" in m["text"] for m in messages)
    assert len({(m["to"], m["kind"], m["text"], m["at"]) for m in messages}) == len(messages)  # nothing twice
    assert not (tmp_path / "not-this.db").exists()  # a throwaway database, never DATABASE_URL


def test_stats_tell_per_person_how_often_and_how_many_at_once(env, tmp_path):
    """Four weeks of the example plan: nobody gets more than two messages at one moment, nor 40 in all."""
    done = simulate(env, tmp_path, "--from", "2026-12-03", "--days", "28", "--json", "--stats", script=SCRIPT)
    assert done.returncode == 0, done.stderr
    *messages, stats = lines(done.stdout)
    assert all({"at", "local", "to", "kind", "text"} <= set(m) and m["kind"] != "stats" for m in messages)
    assert stats["kind"] == "stats" and stats["days"] == 28
    people = {p["to"]: p for p in stats["people"]}
    assert set(people) == {
        f"@{h}" for h in ("alice", "ben", "carla", "dev", "raj", "mei", "omar", "sofia", "tom")
    }
    assert max(p["most_at_once"] for p in people.values()) <= 2
    assert max(p["messages"] for p in people.values()) <= 40
    raj = [m for m in messages if m["to"] == "@raj" and m["kind"] != "reply"]
    assert people["@raj"]["messages"] == len(raj) and people["@raj"]["per_week"] == round(len(raj) / 4, 1)
    # Raj works 09:00-18:00 in Warsaw, Monday to Friday, but on Poland's public holidays (24-26 Dec too)
    polish = holidays.country_holidays("PL", years=[2026, 2027])
    assert people["@raj"]["outside_working_hours"] == sum(not "09:00" <= m["local"][11:16] < "18:00" or
                                                          datetime.fromisoformat(m["local"]).weekday() >= 5 or
                                                          datetime.fromisoformat(m["local"]).date() in polish
                                                          for m in raj)  # fmt: skip

    printed = simulate(env, tmp_path, "--from", "2026-12-03", "--days", "28", "--stats", script=SCRIPT)
    table = printed.stdout.split("Per person", 1)[1].splitlines()
    assert "most at once" in table[1] and "outside hours" in table[1]
    assert table[2].split()[:2] == ["@alice", str(people["@alice"]["messages"])]


def test_a_study_that_ends_stops_its_cadence_and_posts_its_close_out_review_once(env, tmp_path):
    from bot.config import EXAMPLE_PLAN
    from bot.timeline import CADENCE_KINDS

    plan = tmp_path / "plan.yaml"
    plan.write_text(
        EXAMPLE_PLAN.read_text().replace(
            "  admins: [alice, raj]", "  end: 2026-12-09\n  admins: [alice, raj]"
        )
    )
    script = SCRIPT + "2026-12-11 10:00 @alice /who-owns safety\n"
    done = simulate(
        env, tmp_path, "--plan", str(plan), "--from", "2026-12-03", "--days", "12", "--json", script=script
    )
    assert done.returncode == 0, done.stderr
    messages = lines(done.stdout)
    assert not [m for m in messages if m["kind"] == "pulse_request"]  # Monday 7th is the study's fifth day
    ended = "2026-12-10T05:00:00+00:00"  # the midnight after 9 December in New York
    after = [m for m in messages if m["at"] >= ended]
    assert not [m for m in after if m["kind"] in CADENCE_KINDS]  # no Monday prompts, reminders, report
    closing = [m for m in messages if m["kind"] == "partnership_review"]
    assert [(m["to"], at(m)) for m in closing] == [("#C0STUDY", "Thu 10 09:00")]  # the working day begins
    assert (
        "Close-out review — ACME-201, the whole study: Thu 03 Dec 2026 to Wed 09 Dec 2026"
        in closing[0]["text"]
    )
    assert any(m["kind"] == "reply" and "Safety reporting" in m["text"] for m in after)


def test_the_printout_reads_one_message_a_line(env, tmp_path):
    done = simulate(env, tmp_path, "--from", "2026-12-07", "--days", "2")
    assert done.returncode == 0, done.stderr
    first, *rest = done.stdout.splitlines()
    assert first.startswith("ACME-201 from Mon 07 Dec 2026 for 2 days:")
    assert any(line.startswith("Mon 07 Dec 09:00 CET  @raj") and "check-in prompt" in line for line in rest)
    assert any("#C0STUDY" in line and "check-in digest" in line for line in rest)
    # Carla prefers e-mail: her prompt is an e-mail, as the line says.
    assert any(
        line.startswith("Mon 07 Dec 09:00 CET  @carla (e-mail)") and "check-in prompt" in line
        for line in rest
    )


def test_in_json_an_email_says_so_beside_its_recipient(env, tmp_path):
    done = simulate(env, tmp_path, "--from", "2026-12-07", "--days", "1", "--json")
    assert done.returncode == 0, done.stderr
    carla = [m for m in lines(done.stdout) if m["to"] == "@carla"]
    assert carla and all(m["via"] == "e-mail" for m in carla)
    assert all("via" not in m for m in lines(done.stdout) if m["to"] == "@raj")


def test_report_to_shows_as_e_mail_to_each_address(env, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(Path("examples/plan.yaml").read_text() + "report_to: [dev, qa@cro.example]\n")
    done = simulate(env, tmp_path, "--plan", str(plan), "--from", "2026-11-30", "--days", "8", "--json")
    assert done.returncode == 0, done.stderr  # the first report is a week after the plan is applied
    mailed = {m["to"]: m for m in lines(done.stdout) if m["kind"] == "report" and m.get("via") == "e-mail"}
    assert set(mailed) == {"dev@acme.example", "qa@cro.example"}


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("2026-12-07 10:00 @zed /who-owns safety\n", "line 1: '@zed' is not in the plan"),
        ("\n# fine\nsometime @raj /who-owns safety\n", "line 3: expected 'YYYY-MM-DD HH:MM @handle /command"),
        ("2026-12-06 10:00 @raj /who-owns safety\n", "line 1: 2026-12-06 10:00 in @raj's time is before"),
        ("2026-12-31 10:00 @raj /who-owns safety\n", "line 1: 2026-12-31 10:00 in @raj's time is after"),
        ("2026-02-30 10:00 @raj /who-owns safety\n", "line 1: '2026-02-30 10:00' is not a date and time"),
        ("2026-12-07 10:00 @ben /checkin skip 2026-12-14\n", "line 1: Only the plan's admins"),
        ("2026-12-07 10:00 @ben /nonsense\n", "line 1: There is no /nonsense command"),
    ],
)
def test_a_bad_script_names_its_line_and_why(env, tmp_path, script, reason):
    done = simulate(env, tmp_path, "--from", "2026-12-07", "--days", "2", script=script)
    assert done.returncode == 1
    assert reason in done.stderr and "script.txt" in done.stderr
    assert "Traceback" not in done.stderr and not done.stdout


def test_a_bad_plan_is_refused_as_plan_validate_does(env, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text("study: {id: X}\npeople: {}\n")
    done = cadence("simulate", "--plan", str(plan), env=env)
    validated = cadence("plan", "validate", str(plan), env=env)
    assert done.returncode == validated.returncode == 1
    assert done.stderr == validated.stderr and "Traceback" not in done.stderr


def test_bad_options_are_refused_plainly(env, tmp_path):
    for args, words in (
        ((("--from", "next week"),), "--from takes a date"),
        ((("--days", "0"),), "--days takes"),
    ):
        done = cadence("simulate", *args[0], env=env)
        assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr
    missing = cadence("simulate", "--script", str(tmp_path / "none.txt"), env=env)
    assert missing.returncode == 1 and "Cannot read the script" in missing.stderr
