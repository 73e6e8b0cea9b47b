"""`cadence teams package`: the manifest (with every command in Teams' command menu) and icons, zipped."""

from __future__ import annotations

import json
import struct
import zipfile

import jsonschema

from bot.cli import main
from bot.commands import command_names
from tests.fake_teams import BOT_ID
from tests.npm_packages import installed


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


def test_the_manifest_is_valid_against_microsofts_own_v1_17_schema(tmp_path):
    """Microsoft's published schema for the manifest's version (npm: @microsoft/app-manifest, pinned)."""
    schemas = installed("@microsoft/app-manifest/build/json-schemas/teams")
    out = tmp_path / "cadence-teams.zip"
    assert main(["teams", "package", "--app-id", BOT_ID, "--website", "https://cadence.acme.example",
                 "--out", str(out)]) == 0  # fmt: skip
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["manifestVersion"] == "1.17"
    schema = json.loads((schemas / "v1.17" / "MicrosoftTeams.schema.json").read_text())
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in jsonschema.validators.validator_for(schema)(schema).iter_errors(manifest)]  # fmt: skip
    assert problems == []
