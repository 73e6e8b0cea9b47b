"""The baselines: a bare Bolt app that only acks the command, served the way Bolt's docs show.

python bench/bare_bolt.py async PORT API_URL   # AsyncApp behind uvicorn (the fastest Bolt setup we know)
python bench/bare_bolt.py dev PORT API_URL     # App on Bolt's built-in development server
python bench/bare_bolt.py raw PORT API_URL     # no Bolt: a raw ASGI app on the same uvicorn that checks
                                               # the signature and returns a fixed JSON body (the ceiling)
"""

from __future__ import annotations

import logging
import sys

SIGNING_SECRET = "bench-signing-secret"
TOKEN = "xoxb-test-token"


def run_async(port: int, api_url: str) -> None:
    import uvicorn
    from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=api_url), signing_secret=SIGNING_SECRET)

    @app.command("/who-owns")
    async def who_owns(ack):
        await ack("ok")

    uvicorn.run(
        AsyncSlackRequestHandler(app), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )


def run_raw(port: int, api_url: str) -> None:
    import uvicorn
    from slack_sdk.signature import SignatureVerifier

    verifier = SignatureVerifier(SIGNING_SECRET)
    answer = b'{"response_type":"ephemeral","text":"ok"}'

    async def app(scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        ok = verifier.is_valid_request(body, headers)
        await send(
            {
                "type": "http.response.start",
                "status": 200 if ok else 401,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": answer if ok else b"{}"})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def run_dev(port: int, api_url: str) -> None:
    from slack_bolt import App
    from slack_sdk import WebClient

    app = App(client=WebClient(token=TOKEN, base_url=api_url), signing_secret=SIGNING_SECRET)

    @app.command("/who-owns")
    def who_owns(ack):
        ack("ok")

    app.start(port=port)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    mode, port, api_url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    {"async": run_async, "dev": run_dev, "raw": run_raw}[mode](port, api_url)
