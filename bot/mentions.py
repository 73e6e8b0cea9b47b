"""Free words typed to Cadence (an @mention, a Teams message): what they ask about."""

from __future__ import annotations

import re

_FILLER = re.compile(r"^\s*(who\s+(owns|handles|is\s+responsible\s+for)|owner\s+of)\s+", re.I)


def topic_asked(text: str) -> str:
    """What someone asked about in free words: "who owns SAE reporting?" -> "SAE reporting"."""
    return _FILLER.sub("", text).strip(" ?!.")
