"""`cadence teams package`: the manifest (with every command in Teams' command menu) and icons, zipped."""

from __future__ import annotations

import json
import re
import struct
import zipfile

from bot.cli import main
from bot.commands import command_names
from tests.fake_teams import BOT_ID


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_package_holds_a_filled_in_manifest_with_every_command_and_both_icons(tmp_path, capsys):
    out = tmp_path / "cadence-teams.zip"
    assert (
        main(
            [
                "teams",
                "package",
                "--app-id",
                BOT_ID,
                "--website",
                "https://cadence.acme.example",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "Upload an app" in capsys.readouterr().out
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        assert png_size(archive.read("color.png")) == (192, 192)
        assert png_size(archive.read("outline.png")) == (32, 32)
    assert manifest["id"] == manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["developer"]["privacyUrl"] == "https://cadence.acme.example/privacy"
    assert "${{" not in json.dumps(manifest)
    [menu] = manifest["bots"][0]["commandLists"]
    titles = [c["title"] for c in menu["commands"]]
    # Teams shows at most ten commands per scope: every command, and `help` typed (or `cadence help`).
    assert titles == [name.lstrip("/") for name in command_names()]
    assert len(titles) <= 10
    assert all(len(c["title"]) <= 32 and 0 < len(c["description"]) <= 128 for c in menu["commands"])
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80


def test_the_same_inputs_give_the_same_zip(tmp_path):
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    for out in (first, second):
        assert main(["teams", "package", "--app-id", BOT_ID, "--out", str(out)]) == 0
    assert first.read_bytes() == second.read_bytes()


def test_what_teams_would_refuse_is_refused_here(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TEAMS_CLIENT_ID", raising=False)
    assert main(["teams", "package", "--out", str(tmp_path / "x.zip")]) == 2
    assert main(["teams", "package", "--app-id", "cadence", "--out", str(tmp_path / "x.zip")]) == 2
    assert main(["teams", "package", "--app-id", BOT_ID, "--website", "http://insecure.example"]) == 2
    errors = capsys.readouterr().err
    assert "TEAMS_CLIENT_ID" in errors and "not an app id" in errors and "https://" in errors
    assert not (tmp_path / "x.zip").exists()


GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def https_url(value: str) -> bool:
    """Teams v1.17's httpsUrl: https://, at most 2048 characters, no placeholder left."""
    return value.startswith("https://") and len(value) <= 2048 and "${{" not in value


def test_with_the_public_address_the_package_holds_the_tabs_and_their_single_sign_on(tmp_path, capsys):
    out = tmp_path / "cadence-teams.zip"
    args = [
        "teams",
        "package",
        "--app-id",
        BOT_ID,
        "--public-url",
        "https://cadence.acme.example/",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    assert "No tabs" not in capsys.readouterr().out
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["manifestVersion"] == "1.17" and "/v1.17/" in manifest["$schema"]
    # What the Teams v1.17 schema says of each field added.
    static = manifest["staticTabs"]
    assert len(static) <= 16 and len({t["entityId"] for t in static}) == len(static)
    assert all(
        len(t["entityId"]) <= 64 and set(t["scopes"]) <= {"personal", "team", "groupChat"} for t in static
    )
    [me] = [t for t in static if t.get("contentUrl")]
    assert me["contentUrl"] == "https://cadence.acme.example/app/tab/me" and https_url(me["websiteUrl"])
    assert me["scopes"] == ["personal"] and 0 < len(me["name"]) <= 128
    [channel] = manifest["configurableTabs"]  # the schema allows one
    assert channel["configurationUrl"] == "https://cadence.acme.example/app/tab/configure"
    assert set(channel["scopes"]) <= {"team", "groupChat"} and isinstance(
        channel["canUpdateConfiguration"], bool
    )
    assert manifest["validDomains"] == ["cadence.acme.example"]  # hosts, no scheme
    sso = manifest["webApplicationInfo"]
    assert GUID.match(sso["id"]) and sso["id"] == BOT_ID
    assert sso["resource"] == f"api://cadence.acme.example/{BOT_ID}" and len(sso["resource"]) <= 2048
    assert set(manifest) <= MANIFEST_1_17_FIELDS


# Top-level fields of a Teams v1.17 manifest (its schema has a few more, none of which Cadence uses; it
# allows no field outside its list).
MANIFEST_1_17_FIELDS = {
    "$schema", "manifestVersion", "version", "id", "localizationInfo", "developer", "name", "description",
    "icons", "accentColor", "configurableTabs", "staticTabs", "bots", "connectors", "composeExtensions",
    "permissions", "devicePermissions", "validDomains", "webApplicationInfo", "showLoadingIndicator",
    "isFullScreen", "activities", "defaultInstallScope", "defaultGroupCapability", "authorization",
}  # fmt: skip


def test_the_tabs_need_an_https_address_at_the_root_of_its_host(tmp_path, capsys):
    for wrong in ("http://cadence.acme.example", "https://acme.example/cadence"):
        out = tmp_path / "x.zip"
        assert main(["teams", "package", "--app-id", BOT_ID, "--public-url", wrong, "--out", str(out)]) == 2
        assert not out.exists()
    assert "without a path" in capsys.readouterr().err


def test_without_the_public_address_the_package_says_it_has_no_tabs(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CADENCE_PUBLIC_URL", raising=False)
    assert main(["teams", "package", "--app-id", BOT_ID, "--out", str(tmp_path / "x.zip")]) == 0
    assert "No tabs" in capsys.readouterr().out
    with zipfile.ZipFile(tmp_path / "x.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert "staticTabs" not in manifest and manifest["validDomains"] == []
