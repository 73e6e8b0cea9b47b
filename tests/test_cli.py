"""The `cadence` command as a user runs it: real processes, real files, the real HTTP server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from bot.config import EXAMPLE_PLAN
from handlers.server import bind
from tests.conftest import child_pythonpath, moving_the_date
from tests.payloads import BOT_TOKEN, RAJ, SIGNING_SECRET, post_command

REPO = Path(__file__).resolve().parent.parent


def cadence(*args: str, env: dict[str, str], stdin: str = "", cwd: Path | None = None, timeout: float = 60):
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or REPO,
        timeout=timeout,
    )


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CADENCE_", "DATABASE_URL"))}
    return clean | {"DATABASE_URL": database_url, "PYTHONPATH": child_pythonpath()}


BAD_PLAN = """
study: {id: S-1, timezone: UTC, admins: [ann]}
people:
  ann: {name: Ann, side: sponsor}
responsibilities:
  - {topic: Safety, owner: zed, answer_within: 3 days}
"""


def test_validate_accepts_the_example_plan(env):
    done = cadence("plan", "validate", str(EXAMPLE_PLAN), env=env)
    assert done.returncode == 0
    assert "valid — study ACME-201, 9 people, 8 topics" in done.stdout


def test_validate_lists_every_problem_and_exits_1_without_a_traceback(env, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(BAD_PLAN)
    done = cadence("plan", "validate", str(plan), env=env)
    assert done.returncode == 1
    assert "2 problems" in done.stderr
    assert "line 6: responsibilities[0].owner: unknown person 'zed'" in done.stderr
    assert "responsibilities[0].answer_within: '3 days' is not a duration" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_validate_a_missing_file(env, tmp_path):
    done = cadence("plan", "validate", str(tmp_path / "missing.yaml"), env=env)
    assert done.returncode == 1 and "cannot read" in done.stderr and "Traceback" not in done.stderr


def test_apply_creates_then_updates_in_place(env):
    first = cadence("plan", "apply", str(EXAMPLE_PLAN), env=env)
    assert first.returncode == 0 and "Created study ACME-201." in first.stdout
    again = cadence("plan", "apply", str(EXAMPLE_PLAN), env=env)
    assert again.returncode == 0 and "Study ACME-201 is already up to date." in again.stdout


def test_apply_refuses_an_invalid_plan_and_changes_nothing(env, tmp_path, engine):
    plan = tmp_path / "plan.yaml"
    plan.write_text(BAD_PLAN)
    assert cadence("plan", "apply", str(plan), env=env).returncode == 1
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM study").scalar() == 0


@pytest.mark.parametrize("verb", ["validate", "apply"])
def test_a_number_of_thousands_of_digits_is_a_plan_error_with_its_path(verb, env, tmp_path, engine):
    plan = tmp_path / "plan.yaml"
    huge = "9" * 5_000
    text = EXAMPLE_PLAN.read_text().replace("id: ACME-201", f"id: {huge}", 1)
    plan.write_text(
        text.replace("ack_factor: 0.5}", f"ack_factor: {huge}}}", 1) + f"kpis: {{checkin_response: {huge}}}\n"
    )
    done = cadence("plan", verb, str(plan), env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr + done.stdout
    assert "3 problems" in done.stderr
    for path in ("study.id", "escalation.severities.high.ack_factor", "kpis.checkin_response"):
        assert f"{path}: '999999999999…' is too large a number (5,000 digits; at most 18)" in done.stderr
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM study").scalar() == 0


def test_run_without_slack_credentials_starts_the_console_on_the_example_plan(env, tmp_path):
    env = env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'cadence.db'}"}
    done = cadence("run", env=env, stdin="/who-owns SAE\n/quit\n")
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("Cadence local console") and "examples/plan.yaml" in first and "sqlite" in first
    assert "Safety reporting is owned by @mei" in done.stdout


def test_console_as_someone_not_in_the_plan_refuses_and_names_the_people(env, engine):
    refused = cadence("console", "--as", "maria", env=env, stdin="/who-owns SAE\n/quit\n")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr and refused.stdout == ""
    assert "'maria' is not in ACME-201's plan." in refused.stderr
    assert "alice (Alice Chen), ben (Ben Okafor)" in refused.stderr and "mei (Mei Lin)" in refused.stderr
    with engine.connect() as connection:  # refused before the plan was applied: nothing stored
        assert connection.exec_driver_sql("SELECT count(*) FROM study").scalar() == 0
    started = cadence("console", "--as", "Mei", env=env, stdin="/who-owns mei\n/quit\n")
    assert started.returncode == 0 and "ACME-201: you are mei." in started.stdout, started.stderr


def test_a_chat_change_survives_a_restart_with_the_same_plan_file_and_export_catches_the_file_up(
    env, tmp_path
):
    env = env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'cadence.db'}"}
    changed = cadence("run", env=env, stdin="/who-owns set safety backup @omar\n/quit\n")
    assert "@omar is now the backup of Safety reporting (was @raj)" in changed.stdout
    # The console shows the post in the study channel, as Slack would.
    assert "[#C0STUDY]" in changed.stdout and "Changed by Alice Chen" in changed.stdout

    restarted = cadence("run", env=env, stdin="/who-owns SAE\n/quit\n")
    assert "Backup: @omar" in restarted.stdout, restarted.stdout
    assert "Safety reporting backup: omar here, raj in the file" in restarted.stdout
    assert "cadence plan export --study ACME-201" in restarted.stdout

    exported = tmp_path / "plan.yaml"
    done = cadence("plan", "export", "--out", str(exported), env=env)
    assert done.returncode == 0 and f"Wrote ACME-201 to {exported}" in done.stdout
    text = exported.read_text()
    assert "backup: omar" in text and "channel: C0STUDY" in text and "Weekly sponsor–CRO call" in text
    # The exported file is a valid plan of the same study: applying it replaces nothing the chat did.
    applied = cadence("plan", "apply", "--replace", str(exported), env=env)
    assert "Study ACME-201 is already up to date." in applied.stdout, applied.stdout
    # And the example file, applied over it with --replace, does undo the chat change.
    undone = cadence("plan", "apply", "--replace", str(EXAMPLE_PLAN), env=env)
    assert "topics updated: Safety reporting" in undone.stdout


def test_plan_export_names_the_studies_when_it_cannot_tell_which(env, tmp_path):
    done = cadence("plan", "export", "--study", "NOPE-1", env=env)
    assert (
        done.returncode == 2 and "There is no study NOPE-1" in done.stderr and "Traceback" not in done.stderr
    )


def test_an_unreachable_database_is_a_clear_message(env):
    env = env | {"DATABASE_URL": "postgresql://cadence:secret@127.0.0.1:1/none"}
    done = cadence("plan", "apply", str(EXAMPLE_PLAN), env=env)
    assert done.returncode == 1
    assert "Cannot use the database postgresql://cadence:***@127.0.0.1:1/none" in done.stderr
    assert "secret" not in done.stderr and "Traceback" not in done.stderr


def test_serve_without_credentials_says_what_is_missing(env):
    done = cadence("serve", env=env)
    assert done.returncode == 2 and "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in done.stderr


def slack_env(env: dict[str, str], fake_slack, **more: str) -> dict[str, str]:
    """`env` with Slack's credentials, the fake Web API and the example plan (or what `more` says)."""
    slack = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.url,
        "CADENCE_PLAN": str(EXAMPLE_PLAN),
    }
    return env | slack | more


@contextmanager
def serving(env: dict[str, str]) -> Iterator[tuple[str, list[str]]]:
    """`cadence serve` in a process of its own on a free port, once /healthz answers; its output after."""
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"],
        env=env | {"PORT": str(port)},
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url, output = f"http://127.0.0.1:{port}", []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                    assert json.load(response) == {"status": "ok"}
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "cadence serve did not start"
                time.sleep(0.1)
        yield url, output
    finally:
        process.terminate()
        output.append(process.communicate(timeout=10)[0])


def test_serve_answers_signed_commands_with_the_plan_applied_at_start(env, fake_slack):
    env = slack_env(env, fake_slack)
    with serving(env) as (url, output):
        answer = post_command(url, "/who-owns", "SAE")
        assert answer.status == 200 and "owned by <@U02MEI>" in answer.text
    assert BOT_TOKEN not in output[0] and SIGNING_SECRET not in output[0]


def test_serve_with_teams_credentials_only_answers_teams_and_refuses_unsigned_activities(env):
    env = env | {"TEAMS_CLIENT_ID": "00000000-0000-4000-8000-00000000b07a", "TEAMS_CLIENT_SECRET": "teams-secret-1",
                 "CADENCE_PLAN": str(EXAMPLE_PLAN)}  # fmt: skip
    with serving(env) as (url, output):
        activity = json.dumps({"type": "message", "text": "who-owns SAE"}).encode()
        for path, status in (("/api/messages", 401), ("/slack/events", 404)):
            request = urllib.request.Request(f"{url}{path}", data=activity, method="POST")
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)
            assert refused.value.code == status
    assert "serving /api/messages on http://127.0.0.1" in output[0]
    assert "teams-secret-1" not in output[0]


WEDNESDAY_NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_serve_reminds_an_action_due_today_within_a_few_ticks_once(env, fake_slack, tmp_path):
    # The running bot's tick, not a test calling the flow, must send the reminder of Omar's item due today.
    # The bot and the test both live from a Wednesday noon (Omar in UTC: past 09:00, a working day), whatever
    # day the suite runs on: a weekend or a night would rightly hold the reminder for his working hours.
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / "sitecustomize.py").write_text(moving_the_date(WEDNESDAY_NOON.isoformat()))
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        EXAMPLE_PLAN.read_text().replace(
            "U02OMAR,  email: omar@cro.example,   timezone: Europe/Warsaw",
            "U02OMAR,  email: omar@cro.example,   timezone: UTC",
        )
    )
    env = slack_env(env, fake_slack, CADENCE_PLAN=str(plan), CADENCE_TICK_SECONDS="0.3")
    env["PYTHONPATH"] = os.pathsep.join([str(moved), env["PYTHONPATH"]])
    with time_machine.travel(WEDNESDAY_NOON, tick=True), serving(env) as (url, _output):
        drafted = post_command(
            url,
            "/minutes",
            f"ACTION @omar send the data cleaning plan by {WEDNESDAY_NOON.date()}",
            user_id=RAJ,
        )
        assert drafted.status == 200 and "ACME-201-M1" in drafted.text
        assert post_command(url, "/minutes", "post M1", user_id=RAJ).status == 200

        def reminders() -> list[str]:
            return [
                k
                for k in fake_slack.posted_keys()
                if k and k.startswith("action-reminder:") and k.endswith(":due")
            ]

        deadline = time.monotonic() + 20
        while not reminders() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # five more ticks
        assert len(reminders()) == 1


def test_text_typed_into_a_command_cannot_forge_a_log_line(env, fake_slack):
    env = slack_env(env, fake_slack)
    forged = "2026-12-01 07:00:00,000 ERROR cadence.slack: FORGED LOG LINE"
    with serving(env) as (url, output):
        answer = post_command(url, "/actions", f"x\n{forged}", user_id=RAJ)
        assert answer.status == 200
    lines = output[0].splitlines()
    assert not [line for line in lines if line.startswith(forged)]
    assert any("FORGED LOG LINE" in line and "\\n" in line for line in lines)  # kept, escaped


def test_serve_verifies_the_token_at_start_through_slack_failures(env, fake_slack):
    failures = iter([503, 500])

    def flaky(call):
        status = next(failures, None)
        if status is None:
            return (
                200,
                {"ok": True, "user_id": "UBOTCADENCE", "bot_id": "BCADENCE", "team_id": "T0SPONSOR"},
                {},
            )
        return status, {"ok": False, "error": "fatal_error"}, {}

    fake_slack.respond_with("auth.test", flaky)
    with serving(slack_env(env, fake_slack)) as (url, _):
        checked_at_start = len(fake_slack.calls_to("auth.test"))
        answer = post_command(url, "/who-owns", "SAE")
    assert checked_at_start == 3  # two failures, then the answer, all before the first request
    assert "owned by <@U02MEI>" in answer.text and "reinstall" not in answer.text.lower()
    assert len(fake_slack.calls_to("auth.test")) == 3  # kept: the first request asked nothing


def test_serve_with_a_token_slack_refuses_says_so_and_stops(env, fake_slack):
    done = cadence("serve", env=slack_env(env, fake_slack, SLACK_BOT_TOKEN="xoxb-mistyped"))
    assert done.returncode == 2 and "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in done.stderr
    assert "xoxb-mistyped" not in done.stderr and "Traceback" not in done.stderr


def test_serve_with_only_oauth_credentials_serves_the_install_page(env, fake_slack):
    env = env | {
        "SLACK_CLIENT_ID": "cadence-client-id",
        "SLACK_CLIENT_SECRET": "cadence-client-secret",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.url,
        "CADENCE_SECRET_KEY": "a-test-key-of-at-least-thirty-two-characters",
        "CADENCE_PLAN": str(EXAMPLE_PLAN),
    }
    with serving(env) as (url, output):
        with urllib.request.urlopen(f"{url}/slack/install", timeout=5) as page:
            assert "oauth/v2/authorize?" in page.read().decode()
        answer = post_command(
            url, "/who-owns", "SAE", team_id="T0NOTINSTALLED", response_url=f"{fake_slack.url}response/none"
        )
        assert answer.status == 200
        [told] = fake_slack.calls_to("none")  # Bolt answers through the command's response_url
        assert "Cadence is not installed in your workspace yet" in told.params["text"]
    assert "cadence-client-secret" not in output[0] and "thirty-two" not in output[0]


def test_plan_schema_prints_the_schema_the_repository_ships(env):
    done = cadence("plan", "schema", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (REPO / "docs" / "plan.schema.json").read_text()
    assert json.loads(done.stdout)["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    reference = cadence("plan", "schema", "--markdown", env=env)
    assert reference.stdout == (REPO / "docs" / "plan.md").read_text()


INIT_ANSWERS = "\n".join(
    [
        "ACME-301", "ACME-301: wrinkle cream", "New York", "America/New_York",
        "Alice Chen", "alice@acme", "alice@acme.example", "sponsor", "",
        "Piotr Nowak", "piotr@cro.example", "CRO", "Warsaw", "Europe/Warsaw",
        "Priya Iyer", "priya@cro.example", "cro", "",  # Enter: the timezone of the CRO person before her
        "",
        "Safety reporting", "maria", "@piotr",
        "Budget: invoices & change orders", "Alice",
        "", "",
    ]
) + "\n"  # fmt: skip


def test_plan_init_asks_and_writes_a_starter_plan_that_validates(env, tmp_path: Path):
    done = cadence("plan", "init", "plan.yaml", env=env, stdin=INIT_ANSWERS, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "'New York' is a place, not a timezone's name (use America/New_York)" in done.stdout
    assert "'alice@acme' is not an e-mail address" in done.stdout
    assert (
        "'maria' is none of the people: Alice Chen (@alice), Piotr Nowak (@piotr), Priya Iyer (@priya)"
        in done.stdout
    )
    text = (tmp_path / "plan.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=plan.schema.json\n")
    assert (tmp_path / "plan.schema.json").read_text() == (REPO / "docs" / "plan.schema.json").read_text()
    assert (
        '  priya: {name: "Priya Iyer", side: cro, email: "priya@cro.example", timezone: Europe/Warsaw}'
        in text
    )
    assert '  - topic: "Budget: invoices & change orders"\n    keywords: []\n    owner: alice' in text
    assert "  admins: [alice, piotr]" in text and "# escalation:" in text
    checked = cadence("plan", "validate", str(tmp_path / "plan.yaml"), env=env)
    assert checked.returncode == 0 and "valid — study ACME-301, 3 people, 2 topics" in checked.stdout


def test_plan_init_never_overwrites_a_plan_or_writes_half_of_one(env, tmp_path: Path):
    (tmp_path / "plan.yaml").write_text("mine\n")
    kept = cadence("plan", "init", env=env, stdin=INIT_ANSWERS, cwd=tmp_path)
    assert kept.returncode == 2 and "plan.yaml exists" in kept.stderr
    assert (tmp_path / "plan.yaml").read_text() == "mine\n"
    cut = cadence("plan", "init", "other.yaml", env=env, stdin="ACME-301\n\n", cwd=tmp_path)
    assert cut.returncode == 1 and "No plan written" in cut.stderr and "Traceback" not in cut.stderr
    assert not (tmp_path / "other.yaml").exists()
