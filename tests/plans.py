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


# A cosmetics study as a study manager wrote it: people named as both sides name them, roles on both
# sides, and topics whose words overlap the way real questions do.
PANEL_PLAN = """
study:
  id: GLOW-7
  name: "GLOW-7: 28-day tolerance of a retinol night cream"
  timezone: Europe/Warsaw
  channel: C0GLOW
  admins: [anna, priya]

people:
  anna:   {name: Anna Kowalska, side: sponsor, role: Study Lead,        slack: U01ANNA,   timezone: Europe/Warsaw}
  sam:    {name: Sam Taylor,    side: sponsor, role: Project Manager,   slack: U01SAM,    timezone: Europe/London}
  jordan: {name: Jordan Lee,    side: sponsor, role: Product Manager,   slack: U01JORDAN, timezone: America/New_York}
  priya:  {name: Priya Raman,   side: cro,     role: Project Manager,   slack: U02PRIYA,  timezone: Asia/Kolkata}
  arjun:  {name: Arjun Mehta,   side: cro,     role: Biostatistician,   slack: U02ARJUN,  timezone: Asia/Kolkata}
  piotr:  {name: Piotr Nowak,   side: cro,     role: Investigator (dermatologist), slack: U02PIOTR, timezone: Europe/Warsaw}

responsibilities:
  - topic: Panelist recruitment
    keywords: [panelists, screening, enrolment, no-shows]
    owner: priya
    backup: anna
  - topic: Skin tolerance and adverse reactions
    keywords: [irritation, erythema, AE]
    owner: piotr
    backup: priya
  - topic: Statistics and SAP
    keywords: [SAP, shell tables, analysis, randomisation]
    owner: arjun
    backup: priya
  - topic: Claims and labelling
    keywords: [claim wording, label, marketing]
    owner: sam
    backup: jordan
  - topic: Product supply
    keywords: [batch, shipment, kit]
    owner: jordan
    backup: sam
"""


def with_many_topics(count: int, text: str | None = None) -> str:
    """A plan's text (the example plan's by default) with `count` more topics, "Work package 1" and on,
    owned by Omar: more than one Slack menu holds."""
    text = EXAMPLE_PLAN.read_text() if text is None else text
    topics = "".join(f"  - {{topic: Work package {n}, owner: omar}}\n" for n in range(1, count + 1))
    return text.replace("\ncadence:\n", f"{topics}\ncadence:\n", 1)
