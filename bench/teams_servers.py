"""The two servers of the Teams benchmark, each validating Bot Framework tokens against the keys
published at OPENID_URL and replying through the Bot Connector at the activity's service URL.

    python bench/teams_servers.py cadence PORT OPENID_URL DATABASE_URL   # Cadence (cadence serve's ASGI)
    python bench/teams_servers.py bare PORT OPENID_URL                  # a bare Teams SDK app replying "ok",
                                                                        # served the SDK's way (FastAPI)
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BOT_ID = "00000000-0000-4000-8000-00000000b07a"


def bot_token(*_args) -> str:
    """A well-formed app token; the benchmark's Bot Connector does not check it."""
    import jwt

    return jwt.encode({"appid": BOT_ID, "exp": int(time.time()) + 86400}, "bench", algorithm="HS256")


def run_cadence(port: int, openid_url: str, database_url: str) -> None:
    from bot.config import EXAMPLE_PLAN, Settings
    from bot.db import make_engine, migrate, run_in_session
    from bot.plan import load_plan
    from bot.studies import apply_plan
    from handlers.server import build_asgi, make_server
    from handlers.teams.app import build_teams_app

    engine = make_engine(database_url)
    migrate(engine)
    plan = EXAMPLE_PLAN.read_text().replace("slack: U01BEN,", "teams: aad-ben,")
    run_in_session(engine, apply_plan, plan=load_plan(plan), actor="bench")
    settings = Settings(database_url=database_url, teams_client_id=BOT_ID, teams_openid_url=openid_url)
    app, routes = build_teams_app(settings, engine, token=bot_token)
    asgi = build_asgi(None, engine, teams=routes, on_startup=app.initialize)
    make_server(asgi, host="127.0.0.1", port=port).run()


def run_bare(port: int, openid_url: str) -> None:
    import warnings

    warnings.filterwarnings("ignore")
    from microsoft_teams.api.auth.cloud_environment import PUBLIC, with_overrides
    from microsoft_teams.apps import App

    app = App(client_id=BOT_ID, token=bot_token, cloud=with_overrides(PUBLIC, openid_metadata_url=openid_url))

    @app.on_message
    async def reply(ctx) -> None:
        await ctx.send("ok")

    asyncio.run(app.start(port))


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    mode, port, openid_url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == "cadence":
        run_cadence(port, openid_url, sys.argv[4])
    else:
        run_bare(port, openid_url)
