"""`cadence`: the composition root, the one module that wires the core, the adapters and the schedules."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dotenv import load_dotenv
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from bot import logs
from bot.clock import ManualClock, SystemClock, process_clock
from bot.config import EXAMPLE_PLAN, Settings
from bot.db import make_engine, migrate, run_in_session
from bot.outbox import DeliveryWorker
from bot.plan import Plan, PlanInvalid, load_plan_file
from bot.routing import RoutingNotifier
from bot.studies import apply_plan

log = logging.getLogger("cadence")


class Stop(Exception):
    """End the command with a message and an exit code, without a traceback."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def main(argv: list[str] | None = None) -> int:
    load_dotenv()
    args = _parser().parse_args(argv)
    logs.configure()
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # every job run is not news
    try:
        return args.run(args, Settings.from_env())
    except Stop as stop:
        print(stop, file=sys.stderr)
        return stop.code
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cadence", description="Keep a study's sponsor and CRO on their plan."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="Socket Mode, the HTTP server or the local console, by what is set")
    run.set_defaults(run=cmd_run)

    serve = commands.add_parser(
        "serve", help="serve over HTTP: POST /slack/events, POST /api/messages (Teams), GET /healthz"
    )
    serve.add_argument("--port", type=int, help="port (default: PORT, else 3000)")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all)")
    serve.set_defaults(run=cmd_serve)

    console = commands.add_parser("console", help="chat with Cadence in the terminal")
    console.add_argument("--plan", help="plan file (default: CADENCE_PLAN, else the example plan)")
    console.add_argument("--as", dest="handle", help="whom to act as (default: the plan's first admin)")
    console.set_defaults(run=cmd_console)

    export = commands.add_parser("export", help="write a study's records for the Trial Master File")
    export.add_argument("--study", required=True, help="the study's id, e.g. ACME-201")
    export.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    export.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
    export.add_argument("--out", required=True, help="the folder to write the PDFs and index.csv to")
    export.set_defaults(run=cmd_export)

    simulate = commands.add_parser(
        "simulate", help="preview what a plan sends to whom, day by day, in simulated time"
    )
    simulate.add_argument("--plan", help="plan file (default: CADENCE_PLAN, else the example plan)")
    simulate.add_argument(
        "--from", dest="start", help="first day, YYYY-MM-DD (default: the next Monday in the study's time)"
    )
    simulate.add_argument("--days", type=int, default=14, help="how many days (default: %(default)s)")
    simulate.add_argument("--script", help="what people type: lines of 'YYYY-MM-DD HH:MM @handle /command'")
    simulate.add_argument("--json", action="store_true", help="one JSON object a message")
    simulate.add_argument("--homes", action="store_true", help="show App Home updates too")
    simulate.add_argument(
        "--stats",
        action="store_true",
        help="then, per person: messages a week, most at one moment, any outside 09:00-18:00 their time"
        " (with --json: a last object of kind 'stats')",
    )
    simulate.set_defaults(run=cmd_simulate)

    teams = commands.add_parser("teams", help="the Microsoft Teams app")
    teams_commands = teams.add_subparsers(required=True, metavar="ACTION")
    package = teams_commands.add_parser("package", help="zip the Teams app package (manifest and icons)")
    package.add_argument("--app-id", help="the bot's Entra app id (default: TEAMS_CLIENT_ID)")
    package.add_argument(
        "--website", default="https://cadence.example/", help="the developer's https:// site"
    )
    package.add_argument("--out", default="cadence-teams.zip", help="the zip to write (default: %(default)s)")
    package.add_argument(
        "--public-url",
        help="where `cadence serve` is reached (default: CADENCE_PUBLIC_URL): adds the Teams tabs",
    )
    package.set_defaults(run=cmd_teams_package)

    plan = commands.add_parser("plan", help="validate or apply a communication plan")
    plan_commands = plan.add_subparsers(required=True, metavar="ACTION")
    validate = plan_commands.add_parser("validate", help="check a plan and list every problem")
    validate.add_argument("file")
    validate.set_defaults(run=cmd_plan_validate)
    apply = plan_commands.add_parser("apply", help="validate a plan and create or update its study")
    apply.add_argument("file")
    apply.add_argument(
        "--replace",
        action="store_true",
        help="make the study exactly the file, undoing chat changes (default: what changed in the file)",
    )
    apply.set_defaults(run=cmd_plan_apply)
    export_plan = plan_commands.add_parser(
        "export", help="write a study as it stands (the plan file plus chat changes) as a plan file"
    )
    export_plan.add_argument("--study", help="the study's id (default: the only study, else CADENCE_PLAN's)")
    export_plan.add_argument("--out", help="the file to write (default: print it)")
    export_plan.set_defaults(run=cmd_plan_export)
    init = plan_commands.add_parser("init", help="answer a few questions; get a commented starter plan")
    init.add_argument("file", nargs="?", default="plan.yaml", help="the plan to write (default: %(default)s)")
    init.add_argument("--force", action="store_true", help="overwrite the file if it exists")
    init.set_defaults(run=cmd_plan_init)
    schema = plan_commands.add_parser("schema", help="print the plan's JSON Schema, for editors and tools")
    schema.add_argument("--markdown", action="store_true", help="print the fields' reference (docs/plan.md)")
    schema.set_defaults(run=cmd_plan_schema)
    return parser


def cmd_teams_package(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.teams.package import PackageProblem, build_package

    app_id = args.app_id or settings.teams_client_id
    if not app_id:
        raise Stop("cadence teams package needs the bot's app id: --app-id or TEAMS_CLIENT_ID.", code=2)
    try:
        public_url = args.public_url or settings.public_url
        out = build_package(app_id=app_id, website=args.website, out=Path(args.out), public_url=public_url)
    except PackageProblem as problem:
        raise Stop(str(problem), code=2) from None
    print(f"Wrote {out}: upload it in Teams under Apps > Manage your apps > Upload an app.")
    if not public_url:
        print("No tabs: give --public-url (or set CADENCE_PUBLIC_URL) for the personal and channel tabs.")
    return 0


def cmd_plan_validate(args: argparse.Namespace, settings: Settings) -> int:
    plan = _load_plan(args.file)
    print(
        f"{args.file}: valid — study {plan.study_id}, {len(plan.people)} people, "
        f"{len(plan.responsibilities)} topics."
    )
    return 0


def cmd_plan_apply(args: argparse.Namespace, settings: Settings) -> int:
    plan = _load_plan(args.file)
    engine = prepare_database(settings)
    result = run_in_session(engine, apply_plan, plan=plan, actor="cli", replace=args.replace)
    print(result.summary)
    if result.drift:
        print(result.drift)
    if settings.slack_bot_token:
        from handlers.slack.identify import find_by_email

        found = find_by_email(engine, slack_web_client(settings))
        if found:
            print(f"Found {found} of the plan's people in Slack by their e-mail.")
    return 0


def cmd_plan_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.plan import plan_yaml
    from bot.studies import plan_as_it_stands, study_keys

    engine = prepare_database(settings)
    keys = run_in_session(engine, study_keys)
    wanted = args.study or (_load_plan(settings.plan_file).study_id if settings.plan_file else None)
    if wanted is None and len(keys) == 1:
        wanted = keys[0]
    if wanted is None or wanted not in keys:
        known = ", ".join(keys) or "none yet"
        what = f"There is no study {wanted}" if wanted else "Say which study with --study"
        raise Stop(f"{what}. Studies in this database: {known}.", code=2)
    data = run_in_session(engine, plan_as_it_stands, study_key=wanted)
    text = plan_yaml(
        data, f"Study {wanted} as it stands on {date.today():%Y-%m-%d}: the plan file plus chat changes."
    )
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"Wrote {wanted} to {args.out}. Apply it with: cadence plan apply {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_plan_init(args: argparse.Namespace, settings: Settings) -> int:
    from bot.plan_init import ask_plan, starter_plan
    from bot.plan_schema import plan_schema_json

    target = Path(args.file)
    if target.exists() and not args.force:
        raise Stop(f"{target} exists; choose another file, or --force to overwrite it.", code=2)
    try:
        answers = ask_plan(input, print)
    except EOFError:
        raise Stop("\nNo plan written: the answers ended before the last question.") from None
    schema = target.with_name("plan.schema.json")
    target.write_text(starter_plan(answers, schema.name), encoding="utf-8")
    schema.write_text(plan_schema_json(), encoding="utf-8")
    print(
        f"Wrote {target} ({len(answers.people)} people, {len(answers.topics)} topics) and {schema.name} "
        f"(for editors). Next: fill in what its comments say, then cadence plan apply {target}"
    )
    return 0


def cmd_plan_schema(args: argparse.Namespace, settings: Settings) -> int:
    from bot.plan_schema import plan_reference, plan_schema_json

    sys.stdout.write(plan_reference() if args.markdown else plan_schema_json())
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.errors import CadenceError
    from bot.export import export_study

    try:
        start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    except ValueError:
        raise Stop("--from and --to take dates as YYYY-MM-DD.", code=2) from None
    engine = prepare_database(settings)
    try:
        exported = run_in_session(
            engine, export_study, study_key=args.study, start=start, end=end, out=Path(args.out)
        )
    except CadenceError as error:
        raise Stop(error.message) from None
    print(
        f"Wrote {len(exported.files)} files to {args.out}: index.csv, one PDF per record and the "
        "partnership review of the period."
    )
    return 0


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    """Run the plan in simulated time through the live bot's tick, schedules and outbox, on a throwaway
    database, and print what everyone would receive."""
    import json
    import tempfile

    from handlers.console.recorder import one_line
    from schedules.simulation import DueWorkFailed, ScriptProblem, person_stats

    # The printout is the output: no migration or delivery chatter, and a job that fails is reported
    # below as one line, not as a logged traceback.
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("cadence").propagate = False
    plan = _load_plan(args.plan or settings.plan_file or str(EXAMPLE_PLAN))
    zone = ZoneInfo(plan.timezone)
    first = _simulation_start(args.start, datetime.now(UTC).astimezone(zone).date())
    if not 1 <= args.days <= 366:
        raise Stop("--days takes a number of days from 1 to 366.", code=2)
    start = datetime.combine(first, time(0, 0), tzinfo=zone)
    end = datetime.combine(first + timedelta(days=args.days), time(0, 0), tzinfo=zone)
    script_text = _read_script(args.script) if args.script else ""
    # A database of its own, thrown away after: never DATABASE_URL, whose study this is not.
    with tempfile.TemporaryDirectory(prefix="cadence-simulate-") as folder:
        try:
            received = simulate_plan(
                plan, f"sqlite:///{Path(folder) / 'simulation.db'}", start, end, script_text
            ).received
        except ScriptProblem as problem:
            raise Stop(f"{args.script} line {problem.number}: {one_line(problem.reason)}") from None
        except DueWorkFailed as failed:
            raise Stop(f"Cadence's due work failed {failed}") from None
    shown = [r for r in received if args.homes or r.kind != "home"]
    stats = person_stats(received, handles=plan.people, start=start, days=args.days) if args.stats else None
    if args.json:
        for record in shown:
            print(json.dumps(record.as_json(), ensure_ascii=False))
        if stats is not None:
            people = [s.as_json() for s in stats]
            print(json.dumps({"kind": "stats", "days": args.days, "people": people}, ensure_ascii=False))
        return 0
    print(f"{plan.study_id} from {start:%a %d %b %Y} for {args.days} days: {len(shown)} messages.")
    for record in shown:
        print(record.as_line())
    if stats is not None:
        _print_stats(stats)
    return 0


def _print_stats(stats) -> None:
    """Per person, what reached them directly (not their commands' answers), in a small table."""
    print()
    print("Per person (direct messages; working hours 09:00-18:00 their time, Monday to Friday):")
    heads = ("messages", "a week", "busiest week", "most at once", "outside hours")
    print(f"  {'person':<12} " + " ".join(heads))
    for s in stats:
        values = (s.messages, s.per_week, s.busiest_week, s.most_at_once, s.outside_hours)
        print(f"  {s.to:<12} " + " ".join(f"{v:>{len(h)}}" for v, h in zip(values, heads, strict=True)))


def simulate_plan(
    plan: Plan,
    database_url: str,
    start: datetime,
    end: datetime,
    script_text: str = "",
    *,
    max_step: timedelta | None = None,
):
    """What everyone in `plan` receives from `start` to `end`, with `script_text` typed, in time order,
    on the (empty) database at `database_url`."""
    from handlers.console.console import ConsoleSession
    from handlers.console.recorder import RecordingNotifier
    from schedules import jobs
    from schedules.simulation import ScriptProblem, Simulated, Simulation, parse_script

    zones = {handle: person.timezone for handle, person in plan.people.items()}
    script = parse_script(script_text, zones=zones, start=start, end=end)
    clock = ManualClock(start.astimezone(UTC))
    engine = make_engine(database_url)
    try:
        migrate(engine)
        recorder = RecordingNotifier(
            clock,
            channel_zones={plan.channel: plan.timezone} if plan.channel else {},
            default_zone=plan.timezone,
        )
        runtime = jobs.Runtime(engine=engine, worker=DeliveryWorker(engine, recorder, clock), clock=clock)
        with process_clock(clock):
            run_in_session(engine, apply_plan, plan=plan, actor="simulate")
            console = ConsoleSession(engine, study_key=plan.study_id, wake=jobs.deliver, clock=clock)

            def run_line(line) -> None:
                console.handle = line.handle
                answer = console.answer(line.command)
                if answer.failed:
                    raise ScriptProblem(line.number, answer.text.removeprefix("! "))
                recorder.reply(line.handle, zones[line.handle], answer.text)

            simulation = Simulation(runtime, clock, run_line)
            simulation.run(start.astimezone(UTC), end.astimezone(UTC), script, max_step=max_step)
    finally:
        engine.dispose()
    return Simulated(sorted(recorder.received, key=lambda r: r.at), simulation.moments)


def _simulation_start(given: str | None, today: date) -> date:
    if given is None:
        return today + timedelta(days=7 - today.weekday())  # the next Monday
    try:
        return date.fromisoformat(given)
    except ValueError:
        raise Stop(f"--from takes a date as YYYY-MM-DD, not '{given}'.", code=2) from None


def _read_script(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Stop(f"Cannot read the script {path}: {getattr(exc, 'strerror', None) or exc}") from None


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.slack_socket_ready:
        if settings.teams_ready:  # Teams comes in over HTTP only
            log.warning(
                "Socket Mode serves Slack only: Teams is not served. Unset SLACK_APP_TOKEN to serve Slack "
                "(SLACK_SIGNING_SECRET) and Teams from one HTTP server (cadence serve)."
            )
        return _serve_socket_mode(settings)
    if settings.slack_http_ready or settings.teams_ready:
        return cmd_serve(argparse.Namespace(port=None, host="0.0.0.0"), settings)
    plan_file = settings.plan_file or str(EXAMPLE_PLAN)
    database = _redacted(settings.database_url)
    print(
        "Cadence local console — no Slack or Teams credentials are set, so this runs the plan "
        f"{_shown(plan_file)} on {database}. Type /help."
    )
    return cmd_console(argparse.Namespace(plan=plan_file, handle=None), settings)


def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.console.console import ConsoleSession, not_in_plan, person_named, run_console
    from handlers.console.notifier import ConsoleNotifier

    logging.getLogger().setLevel(logging.WARNING)
    plan = _load_plan(args.plan or settings.plan_file or str(EXAMPLE_PLAN))
    names = {person.handle: person.name for person in plan.people.values()}
    handle = person_named(args.handle, names) if args.handle else None
    if args.handle and handle is None:  # never someone else in their place; nothing applied or stored
        raise Stop(f"cadence console --as: {not_in_plan(args.handle, plan.study_id, names)}", code=2)
    engine = prepare_database(settings)
    applied = run_in_session(engine, apply_plan, plan=plan, actor="console")
    if applied.drift:
        print(applied.drift)
    notifier = ConsoleNotifier()
    schedules = build_schedules(settings, engine, notifier)
    session = ConsoleSession(
        engine, study_key=plan.study_id, handle=handle, wake=schedules.wake, web_url=settings.public_url
    )
    notifier.reader = lambda: session.zone
    print(f"{plan.study_id}: you are {session.handle}. /as <handle> switches person, /quit leaves.")
    schedules.start()
    try:
        run_console(session, None if sys.stdin.isatty() else sys.stdin, sys.stdout)
    finally:
        schedules.stop()
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.server import build_asgi, make_server
    from handlers.web.app import WebSettings

    if settings.teams_unsafe:
        raise Stop(f"cadence serve will not start: {settings.teams_unsafe}", code=2)
    if not (settings.slack_http_ready or settings.teams_ready):
        raise Stop(
            "cadence serve needs Slack (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, or for an install in each "
            "workspace SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET) or Teams "
            "(TEAMS_CLIENT_ID and TEAMS_CLIENT_SECRET) credentials (see .env.example).",
            code=2,
        )
    engine = prepare_database(settings)
    apply_configured_plan(engine, settings)
    wake: list = []
    slack_app, teams_app, routes, notifiers, hourly = None, None, None, {}, []
    if settings.slack_http_ready and settings.slack_oauth:
        from handlers.slack.app import build_app

        notifiers["slack"], find_people = _installed_slack(engine, settings)
        slack_app = build_app(settings, engine, wake_delivery=lambda: wake[0]())
        hourly.append(find_people)
    elif settings.slack_http_ready:
        from handlers.slack.app import build_app

        slack_app = build_app(settings, engine, wake_delivery=lambda: wake[0]())
        _verify_slack_token(slack_app)
        notifiers["slack"] = slack_notifier(settings)
        hourly.append(find_slack_people(engine, settings))
    if settings.teams_ready:
        from handlers.teams.app import build_teams_app, teams_notifier

        teams_app, routes = build_teams_app(settings, engine, wake_delivery=lambda: wake[0]())
        notifiers["teams"] = teams_notifier(teams_app, engine, settings)
    schedules = build_schedules(settings, engine, RoutingNotifier(notifiers), hourly)
    wake.append(schedules.wake)

    async def start() -> None:
        if teams_app is not None:
            await teams_app.initialize()
        schedules.start()

    async def stop() -> None:
        schedules.stop()

    port = args.port or settings.port
    server = make_server(
        build_asgi(
            slack_app,
            engine,
            teams=routes,
            on_startup=start,
            on_shutdown=stop,
            web=WebSettings.from_settings(settings),
        ),
        host=args.host,
        port=port,
    )
    served = [
        path for path, on in (("/slack/events", slack_app), ("/api/messages", teams_app)) if on is not None
    ]
    log.info(
        "serving %s on http://%s:%s (database %s)",
        " and ".join(served),
        args.host,
        port,
        _redacted(settings.database_url),
    )
    # What startup built (SQLAlchemy, Bolt, the plan) lives as long as the process: frozen out of the
    # collector's reach, full collections stay short and so do the slowest requests.
    gc.collect()
    gc.freeze()
    server.run()
    return 0


def _serve_socket_mode(settings: Settings) -> int:
    from handlers.server import run_socket_mode
    from handlers.slack.app import build_app

    engine = prepare_database(settings)
    apply_configured_plan(engine, settings)
    assert settings.slack_app_token is not None
    schedules = build_schedules(
        settings, engine, slack_notifier(settings), [find_slack_people(engine, settings)]
    )
    schedules.start()
    try:
        app = build_app(settings, engine, wake_delivery=schedules.wake)
        _verify_slack_token(app)
        asyncio.run(run_socket_mode(app, settings.slack_app_token))
    finally:
        schedules.stop()
    return 0


def _verify_slack_token(app) -> None:
    """Check the bot token before taking requests: a refused token stops the start with the reason."""
    from handlers.slack.app import verify_token
    from handlers.slack.auth import TokenRefused

    try:
        asyncio.run(verify_token(app))
    except TokenRefused as refused:
        raise Stop(
            f"{refused}: copy the Bot User OAuth Token from the app's OAuth & Permissions page into "
            "SLACK_BOT_TOKEN (see .env.example).",
            code=2,
        ) from None


def slack_web_client(settings: Settings):
    from slack_sdk import WebClient

    # No client-side retries: the outbox decides when to try again, and never holds up other messages.
    return WebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=30, retry_handlers=[]
    )


def slack_notifier(settings: Settings):
    from handlers.slack.notifier import SlackNotifier

    return SlackNotifier(slack_web_client(settings))


def _installed_slack(engine: Engine, settings: Settings):
    """OAuth mode: the notifier that sends each message through the right workspace's installation, and
    the hourly lookup of people by e-mail through the home installation. No key, no start."""
    from slack_sdk import WebClient

    from bot import installations
    from handlers.slack.identify import find_by_email
    from handlers.slack.workspaces import WorkspaceNotifier

    try:
        box = installations.TokenBox(settings.secret_key)
    except installations.KeyProblem as problem:
        raise Stop(f"{problem} (see .env.example).", code=2) from None

    def client_for(token: str) -> WebClient:
        return WebClient(token=token, base_url=settings.slack_api_url, timeout=30, retry_handlers=[])

    def find_people() -> int:
        home = run_in_session(engine, installations.home, box=box)
        return find_by_email(engine, client_for(home.bot_token), single_workspace=False) if home else 0

    return WorkspaceNotifier(engine, box, client_for), find_people


def find_slack_people(engine: Engine, settings: Settings) -> Callable[[], int]:
    """Look up in Slack, now, the plan people known by e-mail alone; the same lookup, for the hourly job."""
    from handlers.slack.identify import find_by_email

    client = slack_web_client(settings)

    def find() -> int:
        return find_by_email(engine, client)

    found = find()
    if found:
        log.info("found %d plan people in Slack by their e-mail", found)
    return find


def build_schedules(settings: Settings, engine: Engine, notifier, hourly: list | None = None):
    """The scheduler and the delivery worker of this process, sending through `notifier`; `hourly`: the
    adapters' upkeep."""
    from schedules.jobs import Runtime
    from schedules.scheduler import Schedules

    clock = SystemClock()
    runtime = Runtime(
        engine=engine, worker=DeliveryWorker(engine, notifier, clock), clock=clock, hourly=list(hourly or [])
    )
    return Schedules(runtime, settings.tick_seconds)


def prepare_database(settings: Settings) -> Engine:
    """Connect and migrate; a database that cannot be reached stops the command with a clear message."""
    try:
        engine = make_engine(settings.database_url)
        migrate(engine)
    except (SQLAlchemyError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc
        raise Stop(f"Cannot use the database {_redacted(settings.database_url)}: {reason}") from None
    return engine


def apply_configured_plan(engine: Engine, settings: Settings) -> None:
    """Apply CADENCE_PLAN at start, when it is set."""
    if settings.plan_file:
        result = run_in_session(engine, apply_plan, plan=_load_plan(settings.plan_file), actor="startup")
        log.info("%s", result.summary)
        if result.drift:
            log.warning("%s", result.drift)


def _load_plan(path: str) -> Plan:
    try:
        return load_plan_file(path)
    except PlanInvalid as invalid:
        count = len(invalid.errors)
        problems = "\n".join(f"  {error}" for error in invalid.errors)
        raise Stop(f"{path}: {count} problem{'s' if count != 1 else ''}\n{problems}") from None


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the configured database"


def _shown(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path
