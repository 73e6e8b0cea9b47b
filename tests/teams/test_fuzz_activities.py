"""Hypothesis over the running Teams app: Bot Framework activities of every type and of odd shapes (a
field missing, or of the wrong type: a sender that is a string, text that is a number, entities that
are not a list), from people of the study and a stranger, each with a valid token. Whatever comes, the
answer is never a 5xx, the log holds no traceback and no ERROR, and a refused activity stores nothing.

The suite runs a fixed, small budget of examples; CADENCE_FUZZ_EXAMPLES runs more, exploring and
shrinking (as tests/test_fuzz.py)."""

from __future__ import annotations

import copy
import itertools
import logging
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from tests.teams.conftest import ALICE, BEN, MEI, STRANGER, message
from tests.test_fuzz import Log as SlackFuzzLog

LONG = "CADENCE_FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("CADENCE_FUZZ_EXAMPLES", "15"))
FUZZ = settings(
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
    derandomize=not LONG,
    phases=list(Phase) if LONG else [Phase.explicit, Phase.generate],
)
_ids = itertools.count(1)

TYPES = st.sampled_from(
    ["message", "conversationUpdate", "installationUpdate", "endOfConversation", "trace", "handoff", "command",
     "event", "invoke", "typing", "messageReaction", "messageUpdate", "messageDelete", "", "MESSAGE"]
)  # fmt: skip
TEXTS = st.one_of(
    st.sampled_from(["who-owns SAE", "help", "ask list", "escalate high Kit shipment late", "actions", ""]),
    st.text(max_size=60),
)
ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
PATHS = st.sampled_from(
    ["type", "id", "from", "from.id", "from.aadObjectId", "conversation", "conversation.id",
     "conversation.conversationType", "conversation.tenantId", "recipient", "recipient.id", "text", "entities",
     "value", "channelData", "channelData.tenant", "serviceUrl", "timestamp", "membersAdded", "channelId",
     "replyToId", "attachments"]
)  # fmt: skip
CHANGES = st.lists(st.tuples(PATHS, st.one_of(ODD, st.just("<delete>"))), max_size=3)


class Log(SlackFuzzLog):
    """What Cadence logged during one example; here an ERROR without a traceback counts against it too."""

    @property
    def bad(self) -> list[str]:
        return [
            r.getMessage()
            for r in self.records
            if r.exc_info or r.levelno >= logging.ERROR or "Traceback" in r.getMessage()
        ]


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


def counts(engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            name: session.exec(select(func.count()).select_from(table)).one()
            for name, table in SQLModel.metadata.tables.items()
        }


def mutated(activity: dict[str, Any], changes: list[tuple[str, Any]]) -> dict[str, Any]:
    shaped = copy.deepcopy(activity)
    for path, value in changes:
        *parents, leaf = path.split(".")
        node: Any = shaped
        for key in parents:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            continue
        if value == "<delete>":
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return shaped


@FUZZ
@given(
    who=st.sampled_from([ALICE, BEN, MEI, STRANGER]),
    kind=TYPES,
    text=TEXTS,
    in_channel=st.booleans(),
    changes=CHANGES,
)
def test_any_activity_is_answered_cleanly_and_a_refused_one_stores_nothing(
    teams, fake_teams, engine, log, who, kind, text, in_channel, changes
):
    activity = message(fake_teams, who, text, channel=in_channel) | {"type": kind, "id": f"fz-{next(_ids)}"}
    if kind == "conversationUpdate":
        activity["membersAdded"] = [{"id": activity["recipient"]["id"]}]
    activity = mutated(activity, changes)
    service_url = activity.get("serviceUrl")
    # Microsoft signs the service URL it sends an activity from; a test of shapes signs what it sends.
    token = fake_teams.activity_token(service_url=service_url if isinstance(service_url, str) else None)
    before = counts(engine)
    status = teams.post(activity, token=token)
    assert status < 500, (status, activity)
    assert not log.bad, (log.bad, activity)
    if status >= 400:
        assert counts(engine) == before, ("a refused activity stored something", activity)
    log.records.clear()
