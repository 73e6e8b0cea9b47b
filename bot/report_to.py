"""`report_to:`: who gets the study's weekly cadence report and its partnership review by e-mail.

The plan lists handles of people with an `email:` or plain addresses of the study's organisations' domains
(bot.plan checks both). Each gets its own outbox row, addressed to the address (`Destination.email`), keyed
by the report and the address: once per recipient per report, however often the tick runs. The delivery
worker sends it only when SMTP_URL is set (without it, nothing, and one log line).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot import outbox
from bot.directory import StudyView
from bot.models import Study
from bot.replies import Notice


def addresses(session: Session, study: StudyView) -> list[str]:
    """The addresses `report_to:` names, each once (a handle as that person's address in the plan)."""
    row = session.get(Study, study.id)
    found: list[str] = []
    for entry in (row.plan if row else {}).get("report_to") or []:
        person = study.people.get(entry)
        address = (person.email if person else entry if "@" in entry else None) or ""
        if address and address.lower() not in found:
            found.append(address.lower())
    return found


def mail(session: Session, study: StudyView, *, key: str, notice: Notice, now: datetime) -> int:
    """Queue `notice` by e-mail to each of `report_to:`, under `key` and the address."""
    queued = 0
    for address in addresses(session, study):
        queued += outbox.enqueue(
            session,
            key=f"{key}:e-mail:{address}",
            to=outbox.Destination.email(address),
            notice=notice,
            now=now,
            study_id=study.id,
        )
    return queued
