"""Plans made for tests: the example plan with a topic of 200 characters."""

from __future__ import annotations

from bot.config import EXAMPLE_PLAN

# Longer than a Slack menu choice's value may be (150 characters): choices name topics by id.
LONG_TOPIC = (
    "Skin tolerance, irritation and adverse skin reactions reported by panelists during the 28-day "
    "application phase, with photographs, dermatologist assessments and follow-up of each case till it resolves"
)
assert len(LONG_TOPIC) == 200


def with_long_topic(text: str | None = None) -> str:
    """A plan's text (the example plan's by default) with LONG_TOPIC added, owned by Ben, backed by Mei."""
    text = EXAMPLE_PLAN.read_text() if text is None else text
    topic = f"  - topic: {LONG_TOPIC}\n    keywords: [erythema, itching]\n    owner: ben\n    backup: mei\n"
    return text.replace("\ncadence:\n", f"{topic}\ncadence:\n", 1)
