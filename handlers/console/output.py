"""The console's one way to write to the terminal: a command's answer and what the scheduler's thread
sends meanwhile never run into each other's lines."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

_writing = threading.Lock()


def write(text: str, out: TextIO | None = None) -> None:
    with _writing:
        stream = out or sys.stdout
        stream.write(text.rstrip("\n") + "\n")
        stream.flush()
