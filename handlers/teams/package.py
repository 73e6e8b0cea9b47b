"""The Teams app package: manifest.json (with the command menu) and the two icons, zipped to upload.

The manifest in appPackage/ holds ${{TEAMS_CLIENT_ID}} and ${{CADENCE_WEBSITE}} placeholders (the Teams
Toolkit's convention); packaging fills them in and checks what Teams would refuse. Given Cadence's public
address (CADENCE_PUBLIC_URL), the package also holds the tabs: a personal tab (what waits on me) and a
channel tab (a study's dashboard), both pages of `cadence serve` that sign in with Teams' single sign-on
(`webApplicationInfo`: the Teams app's Entra app, exposed as api://<host>/<app id>).
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

APP_PACKAGE = Path(__file__).resolve().parent / "appPackage"
FILES = ("manifest.json", "color.png", "outline.png")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # the same inputs give the same zip, byte for byte


class PackageProblem(ValueError):
    """Something Teams would refuse on upload."""


def manifest(app_id: str, website: str, public_url: str | None = None) -> dict:
    if not _GUID.match(app_id):
        raise PackageProblem(f"'{app_id}' is not an app id: Teams wants the bot's Entra app id (a GUID).")
    if not website.startswith("https://"):
        raise PackageProblem(f"'{website}' is not an https:// address: Teams requires one for the developer.")
    website = website if website.endswith("/") else website + "/"
    text = (APP_PACKAGE / "manifest.json").read_text()
    text = text.replace("${{TEAMS_CLIENT_ID}}", app_id).replace("${{CADENCE_WEBSITE}}", website)
    found = json.loads(text)
    if public_url:
        found |= tabs(app_id, public_url)
    return found


def tabs(app_id: str, public_url: str) -> dict:
    """The tabs, the domain Teams may open, and the single sign-on's resource, for Cadence served at
    `public_url` (https, at the root of its host: the tabs' pages are its /app/tab/…)."""
    parts = urlsplit(public_url)
    if parts.scheme != "https" or not parts.hostname or parts.path.strip("/") or parts.query:
        raise PackageProblem(
            f"'{public_url}' is not where Teams can open Cadence's tabs: give the https:// address `cadence "
            "serve` is reached at, without a path (CADENCE_PUBLIC_URL)."
        )
    base = f"https://{parts.netloc}"
    return {
        "staticTabs": [
            {"entityId": "cadence-me", "name": "What waits on me", "contentUrl": f"{base}/app/tab/me",
             "websiteUrl": f"{base}/app/", "scopes": ["personal"]},
            {"entityId": "conversations", "scopes": ["personal"]},  # the chat with Cadence stays beside it
        ],
        "configurableTabs": [
            {"configurationUrl": f"{base}/app/tab/configure", "canUpdateConfiguration": True,
             "scopes": ["team", "groupChat"]},
        ],
        "validDomains": [parts.netloc],
        "webApplicationInfo": {"id": app_id, "resource": f"api://{parts.netloc}/{app_id}"},
    }  # fmt: skip


def build_package(*, app_id: str, website: str, out: Path, public_url: str | None = None) -> Path:
    """Write the zip Teams takes under Apps > Manage your apps > Upload an app."""
    content = json.dumps(manifest(app_id, website, public_url), indent=2, ensure_ascii=False).encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in FILES:
            data = content if name == "manifest.json" else (APP_PACKAGE / name).read_bytes()
            archive.writestr(zipfile.ZipInfo(name, date_time=_FIXED_TIME), data, zipfile.ZIP_DEFLATED)
    return out
