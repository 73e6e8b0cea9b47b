"""The Teams app package: manifest.json (with the command menu) and the two icons, zipped to upload.

The manifest in appPackage/ holds ${{TEAMS_CLIENT_ID}} and ${{CADENCE_WEBSITE}} placeholders (the Teams
Toolkit's convention); packaging fills them in and checks what Teams would refuse.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

APP_PACKAGE = Path(__file__).resolve().parent / "appPackage"
FILES = ("manifest.json", "color.png", "outline.png")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # the same inputs give the same zip, byte for byte


class PackageProblem(ValueError):
    """Something Teams would refuse on upload."""


def manifest(app_id: str, website: str) -> dict:
    if not _GUID.match(app_id):
        raise PackageProblem(f"'{app_id}' is not an app id: Teams wants the bot's Entra app id (a GUID).")
    if not website.startswith("https://"):
        raise PackageProblem(f"'{website}' is not an https:// address: Teams requires one for the developer.")
    website = website if website.endswith("/") else website + "/"
    text = (APP_PACKAGE / "manifest.json").read_text()
    text = text.replace("${{TEAMS_CLIENT_ID}}", app_id).replace("${{CADENCE_WEBSITE}}", website)
    return json.loads(text)


def build_package(*, app_id: str, website: str, out: Path) -> Path:
    """Write the zip Teams takes under Apps > Manage your apps > Upload an app."""
    content = json.dumps(manifest(app_id, website), indent=2, ensure_ascii=False).encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in FILES:
            data = content if name == "manifest.json" else (APP_PACKAGE / name).read_bytes()
            archive.writestr(zipfile.ZipInfo(name, date_time=_FIXED_TIME), data, zipfile.ZIP_DEFLATED)
    return out
