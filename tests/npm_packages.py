"""The npm packages some tests check against (Microsoft's own parsers, schemas and Playground), pinned in
tests/playground/package.json and its lock, installed once per checkout with `npm ci`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PLAYGROUND = Path(__file__).resolve().parent / "playground"


def installed(relative: str) -> Path:
    """A path inside tests/playground/node_modules, installing the pinned packages when it is missing
    (a checkout installed before a package was added gets it too)."""
    path = PLAYGROUND / "node_modules" / relative
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip(f"Node.js and npm are needed for {relative.split('/')[0]}")
    if not path.exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PLAYGROUND,
            check=True,
            timeout=300,
        )
    return path
