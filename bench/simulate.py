"""Simulation benchmark: four weeks of the example plan through `cadence simulate`'s engine, against its
budget (10 s on this machine) and against a baseline measured in the same run: the same engine made to
stop every 30 s as the live bot's tick does, over one Monday morning, which also shows that jumping from
due moment to due moment sends exactly what ticking every 30 s sends.

    python bench/simulate.py [--weeks 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.cli import simulate_plan  # noqa: E402
from bot.config import EXAMPLE_PLAN  # noqa: E402
from bot.plan import load_plan_file  # noqa: E402

BUDGET = 10.0  # seconds for four weeks
START = datetime(2027, 3, 8, tzinfo=ZoneInfo("America/New_York"))
MORNING = """\
2027-03-08 04:00 @alice /escalate high Freezer failure at site 3
2027-03-08 09:30 @raj /checkin answer on track; site 3 activated; SIV at site 4; none
"""
SCRIPT = (
    MORNING
    + """\
2027-03-10 10:00 @alice /ask Is the SAE narrative for subject 104 due this week?
2027-03-11 22:30 @raj /minutes ACTION @omar send the data cleaning plan by 2027-03-19
2027-03-11 22:31 @raj /minutes post M1
"""
)


def run(folder: Path, name: str, end: datetime, script: str, max_step: timedelta | None = None):
    plan = load_plan_file(EXAMPLE_PLAN)
    started, cpu = time.perf_counter(), time.process_time()
    simulated = simulate_plan(plan, f"sqlite:///{folder / name}.db", START, end, script, max_step=max_step)
    run.cpu = time.process_time() - cpu  # type: ignore[attr-defined]
    return simulated, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        weeks, took = run(Path(folder), "weeks", START + timedelta(weeks=args.weeks), SCRIPT)
        cpu = run.cpu  # type: ignore[attr-defined]
        morning_end = START + timedelta(hours=8)  # through 09:00 in Europe and the escalation's climb
        jumped, _ = run(Path(folder), "jumped", morning_end, MORNING)
        ticked, tick_took = run(Path(folder), "ticked", morning_end, MORNING, max_step=timedelta(seconds=30))
    per_tick = tick_took / ticked.moments
    live_paced = per_tick * args.weeks * 7 * 24 * 120
    same = [(r.to, r.kind, r.text) for r in jumped.received] == [
        (r.to, r.kind, r.text) for r in ticked.received
    ]
    print(
        f"{args.weeks} weeks of the example plan: {took:.2f} s, {weeks.moments} moments, "
        f"{len(weeks.received)} messages; budget {BUDGET * args.weeks / 4:.0f} s: "
        f"{took / (BUDGET * args.weeks / 4):.2f}x of it"
    )
    # On a shared machine the wall time grows with the others' load; the CPU time is what it takes alone.
    print(
        f"of which {cpu:.2f} s of CPU: with the machine to itself, about that "
        f"(load average {os.getloadavg()[0]:.1f} now)"
    )
    print(
        f"baseline, a tick every 30 s: {per_tick * 1000:.1f} ms a tick ({ticked.moments} over a morning), "
        f"so {live_paced:,.0f} s for the same weeks: jumping is {live_paced / took:,.0f}x faster"
    )
    print(f"the morning jumped and ticked every 30 s sends the same messages: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
