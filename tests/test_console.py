"""Whole conversations in the local console, on the same core as Slack."""

from __future__ import annotations

import io
import re

import pytest

from handlers.console.console import ConsoleSession, run_console


@pytest.fixture
def chat(engine, study) -> ConsoleSession:
    return ConsoleSession(engine, study_key="ACME-201")


def test_the_console_starts_as_the_first_admin(chat):
    assert chat.handle == "alice" and chat.prompt == "alice@ACME-201> "


def test_a_conversation_about_ownership(chat):
    answer = chat.say("/who-owns safety")
    assert answer.splitlines()[0] == "Safety reporting is owned by @mei"
    assert "Owner: @mei, Drug Safety Lead · CRO, reach on Slack" in answer
    assert "Backup: @raj, Project Manager · CRO" in answer
    assert "@carla, Regulatory Affairs · Sponsor, prefers e-mail: carla@acme.example" in chat.say(
        "/who-owns IRB"
    )
    assert "No topic matches “parking”." in chat.say("/who-owns parking")
    listing = chat.say("/who-owns").splitlines()
    assert listing[0] == "Who owns what in ACME-201" and "Sponsor" in listing and "CRO" in listing
    assert (
        "• @ben, Clinical Operations: Budget and invoices (backup @alice), Product supply (backup @raj)"
        in listing
    )


def test_switching_person_changes_what_they_may_do(chat):
    assert chat.say("/who-owns set SAE backup @omar").startswith(
        "@omar is now the backup of Safety reporting"
    )
    assert chat.say("/as ben") == "You are now ben (Ben Okafor)."
    refused = chat.say("/who-owns set SAE backup @raj")
    assert refused.startswith("! Only the plan's admins can change who owns a topic.")
    assert "Backup: @omar" in chat.say("/who-owns SAE")


def test_bad_input_gets_a_clear_message(chat):
    assert chat.say("/as zed").startswith("! 'zed' is not in ACME-201's plan.")
    assert chat.say("/as") == "People in this study: alice, ben, carla, dev, raj, mei, omar, sofia, tom"
    assert chat.say("/frobnicate") == "! There is no /frobnicate command.\n  Type /help to see them all."
    assert chat.say("hello") == "Type a command such as /who-owns safety, or /help."
    assert chat.say("   ") == ""


def test_help_lists_cadence_and_console_commands(chat):
    text = chat.say("/help")
    assert "/who-owns — Find who owns a topic" in text
    assert "/as <handle>" in text and "/quit" in text


def test_the_console_reads_until_quit(chat):
    out = io.StringIO()
    run_console(chat, ["/who-owns EDC", "/quit", "/who-owns SAE"], out)
    assert "Data management is owned by @omar" in out.getvalue()
    assert "Safety reporting" not in out.getvalue()


def test_scheduled_prompts_appear_in_the_console_as_direct_messages(engine, study):
    from datetime import UTC, datetime

    from bot.checkins import do_due_work
    from bot.clock import ManualClock
    from bot.db import run_in_session
    from bot.outbox import DeliveryWorker
    from handlers.console.notifier import ConsoleNotifier

    shown: list[str] = []
    monday_nine_in_warsaw = ManualClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    run_in_session(engine, do_due_work, now=monday_nine_in_warsaw.now())
    DeliveryWorker(engine, ConsoleNotifier(shown.append), monday_nine_in_warsaw).drain()
    first, *others = shown
    assert "1. What moved since last week?" in first
    assert "/checkin answer <on track|at risk|off track>; <answer 1>; <answer 2>; <answer 3>" in first
    assert "ACME-201 · week 2026-W48" in first
    raj = next(line for line in shown if line.startswith("[DM to @raj]"))
    assert "Hi Raj, it's check-in time for ACME-201." in raj
    # The same prompt for the next person is printed once: their greeting, and a pointer to it.
    assert all(o.endswith("(with the card shown above)") and "What moved" not in o for o in others)
    assert len(shown) == 5  # everyone whose 09:00 it is: Warsaw, Rome and Prague


def test_a_checkin_is_answered_by_typing(chat, engine):
    from datetime import UTC, datetime

    from bot.checkins import do_due_work
    from bot.db import run_in_session

    run_in_session(engine, do_due_work, now=datetime.now(UTC))
    assert chat.say("/checkin now").startswith("Opened the check-in for week")
    assert chat.say("/checkin answer maybe; x").startswith("! 'maybe' is not a status.")
    assert chat.say("/checkin answer on track; site 3 activated; SIV at site 4; none").startswith(
        "Thanks: your check-in for week"
    )
    assert "• Alice Chen: On track" in chat.say("/checkin")
    assert chat.say("/checkin now").startswith("This week's check-in")
    chat.say("/as ben")
    assert chat.say("/checkin now").startswith("! Only the plan's admins can open a check-in round.")


def test_away_in_the_console(chat):
    chat.say("/as mei")
    assert chat.say("/away until 2099-12-31 backup @omar").startswith("You are away until")
    chat.say("/as ben")
    assert "@mei is away until" in chat.say("/who-owns SAE")
    assert "(away until 31 Dec, ask @omar)" in chat.say("/who-owns")


def test_an_escalation_in_the_console_with_buttons_typed(chat):
    chat.say("/as sofia")
    raised = chat.say("/escalate high Temperature excursion on kit shipment 14")
    assert raised.startswith("Raised ACME-201-E1. Project managers (@raj, @ben) are notified")
    assert "Level 1 of 3, Project managers: @raj, @ben — acknowledge within 2h (" in raised
    assert chat.say("/escalate ack E1").startswith("! Only Project managers")
    chat.say("/as ben")
    assert chat.say("/escalate ack E1").startswith("ACME-201-E1 acknowledged.")
    assert chat.say("/escalate resolve E1").startswith("! Add a short resolution note.")
    assert chat.say("/escalate resolve E1 Kits quarantined").startswith("ACME-201-E1 resolved.")
    history = chat.say("/escalate show E1")
    assert "raised (high) at level 1" in history and "resolved: Kits quarantined" in history
    assert chat.say("/escalate list") == "No open issues in this study."
    assert chat.say("/escalate").startswith("Escalate: type /escalate [low|medium|high|critical] <summary>")


def test_minutes_and_actions_in_the_console(chat):
    chat.say("/as raj")
    drafted = chat.say("/minutes ACTION @omar: close the open EDC queries by 2099-12-05")
    assert "• @omar — Close the open EDC queries (due Sat 05 Dec 2099)" in drafted
    assert "/minutes post ACME-201-M1   ·   /minutes cancel ACME-201-M1" in drafted
    assert chat.say("/minutes post ACME-201-M1").startswith(
        "Posted ACME-201-M1 in #C0STUDY: 0 decision(s), 1 action item(s)"
    )
    assert "• A1 Close the open EDC queries — Omar Haddad, due Sat 05 Dec" in chat.say("/actions all")
    chat.say("/as ben")
    assert chat.say("/actions done A1").startswith("! Only Omar Haddad")
    chat.say("/as omar")
    assert chat.say("/actions move A1 2099-12-12 vendor delay").startswith("Moved: A1")
    assert chat.say("/actions done A1").startswith("Done: A1")
    assert chat.say("/actions") == "Your open action items\nnothing open."
    assert chat.say("/decisions") == "No decisions are recorded yet."


def test_home_and_report_in_the_console(chat, engine, tmp_path):
    from datetime import UTC, datetime

    from bot.clock import ManualClock
    from bot.outbox import DeliveryWorker
    from handlers.console.notifier import ConsoleNotifier

    assert chat.say("/cadence home").startswith("ACME-201 — what waits on you, Alice Chen")
    assert (
        chat.say("/cadence report 2")
        == "The cadence report for the last 2 week(s) is on its way to #C0STUDY."
    )
    shown: list[str] = []
    DeliveryWorker(
        engine, ConsoleNotifier(shown.append, files=tmp_path), ManualClock(datetime.now(UTC))
    ).drain()
    report = next(line for line in shown if "Cadence report — ACME-201" in line)
    assert "Check-ins answered" in report
    chart = next(line for line in shown if line.endswith(".png"))
    path = chart.rsplit(": ", 1)[1]
    assert open(path, "rb").read().startswith(b"\x89PNG")


def test_a_multi_line_paste_into_minutes_is_one_message(chat):
    out = io.StringIO()
    pasted = "/minutes\nACTION @raj: send the plan by Friday\nDECISION: screening window 21 days\n/quit\n"
    run_console(chat, io.StringIO(pasted), out)
    shown = out.getvalue()
    assert "Type a command" not in shown
    assert "• screening window 21 days" in shown and "@raj — Send the plan (due Fri" in shown


def test_the_helps_one_line_example_reads_as_an_action_and_a_decision(chat):
    shown = chat.say("/minutes ACTION @raj: send the plan by Friday · DECISION: screening window 21 days")
    assert "• screening window 21 days" in shown
    assert "@raj — Send the plan (due Fri" in shown and "DECISION" not in shown


def test_a_near_miss_command_gets_a_suggestion_and_people_are_named_as_people_say_them(chat):
    assert "Did you mean /who-owns?" in chat.say("/who-own safety")
    assert chat.say("/as Raj") == "You are now raj (Raj Patel)."
    assert chat.say("/as mei lin") == "You are now mei (Mei Lin)."


def test_actions_done_without_an_id_says_which_actions_are_open(chat):
    chat.say("/as raj")
    chat.say(
        "/minutes post "
        + chat.say("/minutes ACTION @raj: send the plan by Friday").split("post ")[1].split()[0]
    )
    answer = chat.say("/actions done")
    assert "Which action? Say its id: /actions done A1" in answer and "A1 Send the plan" in answer
    assert "/actions does not know" not in answer


def test_a_handover_names_the_topic_by_a_word_of_it(chat):
    answer = chat.say("/who-owns handover protocol")  # alice owns Protocol and study design
    assert "will name a new owner for Protocol and study design" in answer
    assert "Alice Chen" not in answer  # she is an admin herself: Raj names the owner, and she is not told


def test_a_channel_post_shows_its_times_in_the_typists_own_timezone(chat, engine):
    from bot.clock import SystemClock
    from bot.outbox import DeliveryWorker
    from handlers.console.notifier import ConsoleNotifier

    shown: list[str] = []
    notifier = ConsoleNotifier(shown.append)
    notifier.reader = lambda: chat.zone  # as `cadence console` wires it
    chat.say("/ask Is the SAE narrative for subject 104 due this week?")
    DeliveryWorker(engine, notifier, SystemClock()).drain()
    [posted] = [s for s in shown if s.startswith("[#C0STUDY]")]
    assert "expected by" in posted and "UTC" not in posted
    assert " EST" in posted or " EDT" in posted  # alice is in New York, in winter or summer


def test_who_owns_in_the_console_answers_typos_and_people(chat):
    assert chat.say("/who-owns saftey").startswith("Safety reporting is owned by @mei")
    assert chat.say("/who-owns budjet").startswith("Budget and invoices is owned by @ben")
    assert "Owns: Safety reporting" in chat.say("/who-owns mei")
    routed = chat.say("/ask Do we need to report the SAE at site 104 within 24 hours?")
    assert "went to @mei (Safety reporting)" in routed


FIVE_QUICK_COMMANDS = "/as raj\n/ask when is the next EDC export?\n/as ben\n/ask who signs the budget?\n/cadence report 2w\n/quit\n"


def test_commands_piped_in_at_once_on_a_fresh_database_do_not_race_the_first_tick(tmp_path):
    """The tick's first run and the first commands both make the milestones' rows: whichever comes second
    keeps the first one's. Several consoles at once make the race likely, as it was on a busy machine."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "TEAMS_", "CADENCE_", "DATABASE_URL"))
    }
    consoles = []
    for n in range(3):
        (tmp_path / str(n)).mkdir()
        env = clean | {
            "DATABASE_URL": f"sqlite:///{tmp_path / str(n) / 'cadence.db'}",
            "PYTHONPATH": str(repo),
        }
        consoles.append(
            subprocess.Popen(
                [sys.executable, "-m", "bot", "console"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=env,
                cwd=tmp_path / str(n),
            )
        )
    for console in consoles:
        out, _ = console.communicate(FIVE_QUICK_COMMANDS, timeout=120)
        assert console.returncode == 0
        assert "Traceback" not in out and "IntegrityError" not in out and "went wrong" not in out
        assert "Your question ACME-201-Q1 went to @omar" in out and "ACME-201-Q2 is about Budget" in out
        assert "The cadence report for the last 2 week(s) is on its way" in out


def test_two_sessions_making_the_milestones_rows_at_once_both_succeed(engine, database_url, study):
    """The same race, made certain: the second session has looked (no rows yet) before the first commits."""
    import threading
    from datetime import UTC, datetime

    from sqlalchemy import event
    from sqlmodel import Session, func, select

    from bot import directory, milestones
    from bot.db import make_engine, run_in_session
    from bot.models import Milestone

    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    second_engine = make_engine(database_url)
    about_to_insert = threading.Event()

    @event.listens_for(second_engine, "before_cursor_execute")
    def _(conn, cursor, statement, *args):
        if statement.startswith("INSERT INTO milestone"):
            about_to_insert.set()

    def ask(session: Session) -> int:
        return milestones.ask_for_updates(
            session, directory.current(session).study_by_key("ACME-201"), now=now
        )

    outcome: list = []
    second = threading.Thread(
        target=lambda: outcome.append(_outcome_of(lambda: run_in_session(second_engine, ask)))
    )
    with Session(engine) as first:
        ask(first)  # its rows made, not yet committed
        second.start()
        assert about_to_insert.wait(60)
        first.commit()
    second.join(60)
    second_engine.dispose()
    assert outcome and not isinstance(outcome[0], Exception), outcome
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Milestone)).one() == len(
            study.data["milestones"]
        )


def _outcome_of(call):
    try:
        return call()
    except Exception as error:
        return error


def test_notes_commands_and_severities_read_as_people_write_them(engine, study):
    from datetime import UTC, datetime

    from bot.clock import ManualClock

    chat = ConsoleSession(
        engine,
        study_key="ACME-201",
        handle="raj",
        clock=ManualClock(datetime(2026, 12, 3, 13, 0, tzinfo=UTC)),
    )
    drafted = chat.say(
        "/minutes Weekly call 3 Dec. ACTION Omar to re-check the two irritation cases by 15.12. "
        "ACTION Jordan to confirm batch numbers EOW"
    )
    assert "• @omar — Re-check the two irritation cases (due Tue 15 Dec 2026)" in drafted
    assert "Needs an owner\n• Jordan to confirm batch numbers (due Fri 04 Dec 2026)" in drafted
    assert "Posted ACME-201-M1" in chat.say("/minutes post M1")
    listed = chat.say("/actions all")
    assert (
        "Needs an owner\n• A2 Jordan to confirm batch numbers — needs an owner, due Fri 04 Dec 2026" in listed
    )
    assert "/actions assign A2 @who" in listed  # the picker, typed
    assert chat.say("/actions assign A2 @ben").startswith(
        "Assigned: A2 Jordan to confirm batch numbers — Ben Okafor"
    )
    assert chat.say("/actions add @mei send the diary cards by 3.1.").startswith(
        "Added: A3 Send the diary cards — Mei Lin, due Sun 03 Jan 2027"
    )
    raised = chat.say("/escalate urgent two panelists with severe erythema")
    assert raised.startswith("Raised ACME-201-E1.")
    assert "raised (high) at level 1" in chat.say("/escalate show E1")
    assert chat.say("/escalate critcal kit lost").startswith("! Did you mean critical? Nothing was filed.")


def test_a_question_no_topic_fits_offers_every_topic_as_a_command_to_type(chat):
    answer = chat.say("/ask hello?")
    assert answer.splitlines()[0] == "No topic fits your question ACME-201-Q1 clearly. Which is it about?"
    typed = [line.strip() for line in answer.splitlines() if line.strip().startswith("/ask topic")]
    assert len(typed) == 8 and "/ask topic ACME-201-Q1 Budget and invoices" in typed
    assert chat.say("/ask topic ACME-201-Q1 Budget and invoices").startswith(
        "Your question ACME-201-Q1 went to @ben"
    )


def test_a_topic_of_200_characters_is_offered_and_chosen_whole(engine, study):
    from bot.db import run_in_session
    from bot.plan import load_plan
    from bot.studies import apply_plan
    from tests.plans import LONG_TOPIC, with_long_topic

    run_in_session(engine, apply_plan, plan=load_plan(with_long_topic()), actor="test")
    chat = ConsoleSession(engine, study_key="ACME-201", handle="alice")
    answer = chat.say("/ask what now?")
    assert f"  /ask topic ACME-201-Q1 {LONG_TOPIC}" in answer.splitlines()
    assert f"went to @ben ({LONG_TOPIC})" in chat.say(f"/ask topic ACME-201-Q1 {LONG_TOPIC}")


def test_who_owns_a_side_a_role_and_a_persons_topics_in_the_console(chat):
    cro = chat.say("/who-owns CRO").splitlines()
    assert cro[0] == "The CRO's people" and len([line for line in cro if line.startswith("• @")]) == 5
    assert "• @mei, Drug Safety Lead · CRO: owns Safety reporting" in cro
    assert chat.say("/who-owns who is the data manager?").splitlines()[1].startswith("• @omar, Data Manager")
    assert "Owns: Safety reporting" in chat.say("/who-owns what does Mie own?")  # a slip of the keyboard


def test_a_question_no_topic_fits_offers_every_one_of_many_topics(engine, study):
    from bot.db import run_in_session
    from bot.plan import load_plan
    from bot.studies import apply_plan
    from tests.plans import with_many_topics

    run_in_session(engine, apply_plan, plan=load_plan(with_many_topics(120)), actor="test")
    answer = ConsoleSession(engine, study_key="ACME-201").say("/ask what now?")
    typed = [line.strip() for line in answer.splitlines() if line.strip().startswith("/ask topic")]
    assert len(typed) == 128 and typed[-1] == "/ask topic ACME-201-Q1 Work package 120"


def test_a_milestones_status_mark_is_no_shortcode_in_the_console(chat):
    listed = chat.say("/milestones")
    assert "First patient in" in listed and "on track" in listed
    assert not re.search(r":[a-z_]+:", listed)  # the mark is an emoji span; the terminal draws none


def test_carla_who_prefers_email_is_shown_an_email_in_the_console(engine, study):
    from datetime import UTC, datetime

    from bot.checkins import do_due_work
    from bot.clock import ManualClock
    from bot.db import run_in_session
    from bot.outbox import DeliveryWorker
    from handlers.console.notifier import ConsoleNotifier

    shown: list[str] = []
    monday_nine_in_rome = ManualClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    run_in_session(engine, do_due_work, now=monday_nine_in_rome.now())
    console = ConsoleNotifier(shown.append)
    DeliveryWorker(engine, console, monday_nine_in_rome, mailer=console.by_email()).drain()
    assert [line for line in shown if "@carla" in line.split("]")[0]][0].startswith("[e-mail to @carla]")
    assert any(line.startswith("[DM to @raj]") for line in shown)
