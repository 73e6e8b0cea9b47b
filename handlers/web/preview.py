"""The plan page's preview for admins: what Cadence would send in the next two weeks, to whom and when, as
`cadence simulate --json` prints it for the plan as it stands.

It runs `cadence simulate` in a child process: the simulator moves the process's own clock (bot.clock's
process_clock) for as long as it runs, which must never happen inside the serving process, and it takes
seconds (10 s and more at 40 people), longer than a page should. So the first look at a plan on a day
starts it in the background and the page says it is being prepared (the page looks again by itself); the
same plan on the same day is then drawn from memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sys
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.plan import plan_yaml

log = logging.getLogger("cadence.web")
DAYS = 14
KEPT = 8  # previews kept in memory (a plan and a day each)
WAIT = 2.0  # seconds a page waits for a preview before saying it is being prepared
LONGEST = 300.0  # seconds after which a simulation is given up


@dataclass(frozen=True)
class Sent:
    at: datetime  # UTC
    to: str  # @handle or #channel
    kind: str
    text: str


class Previews:
    """Previews by plan and day: ready ones kept, running ones awaited by whoever asks next."""

    def __init__(self, command: tuple[str, ...] = (sys.executable, "-m", "bot")):
        self.command = command
        self.ready: OrderedDict[str, tuple[Sent, ...] | None] = OrderedDict()  # None: it failed
        self.running: dict[str, asyncio.Task] = {}

    async def of(self, plan: dict[str, Any], day: date) -> tuple[bool, tuple[Sent, ...] | None]:
        """(ready, what is sent): not ready while the simulation still runs; None when it failed."""
        key = hashlib.sha256(
            json.dumps([plan, day.isoformat()], sort_keys=True, default=str).encode()
        ).hexdigest()
        if key in self.ready:
            self.ready.move_to_end(key)
            return True, self.ready[key]
        task = self.running.get(key)
        if task is None:
            task = self.running[key] = asyncio.create_task(self._simulate(plan, day))
        try:
            found = await asyncio.wait_for(asyncio.shield(task), timeout=WAIT)
        except TimeoutError:
            return False, None
        self.running.pop(key, None)
        self.ready[key] = found
        while len(self.ready) > KEPT:
            self.ready.popitem(last=False)
        return True, found

    async def _simulate(self, plan: dict[str, Any], day: date) -> tuple[Sent, ...] | None:
        with tempfile.TemporaryDirectory(prefix="cadence-preview-") as folder:
            path = Path(folder) / "plan.yaml"
            path.write_text(plan_yaml(plan, "The plan as it stands, for the web's preview"), encoding="utf-8")
            child = await asyncio.create_subprocess_exec(
                *self.command, "simulate", "--plan", str(path), "--from", day.isoformat(),
                "--days", str(DAYS), "--json",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            try:
                out, err = await asyncio.wait_for(child.communicate(), timeout=LONGEST)
            except TimeoutError:
                child.kill()
                await child.wait()
                log.error("the plan preview took longer than %.0f s and was given up", LONGEST)
                return None
        if child.returncode != 0:
            log.error("the plan preview failed: %s", err.decode(errors="replace").strip()[-500:])
            return None
        return tuple(_sent(json.loads(line)) for line in out.decode().splitlines() if line.startswith("{"))


def _sent(record: dict[str, Any]) -> Sent:
    return Sent(datetime.fromisoformat(record["at"]), record["to"], record["kind"], record["text"])
