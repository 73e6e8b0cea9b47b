"""Logging set up once for every `cadence` command: one line per record, whatever anyone typed."""

from __future__ import annotations

import logging
import re

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
# An OAuth code or client secret, in a query string (`?code=…`), a logged dict (`'code': '…'`) or Bolt's
# warning of a refused exchange (`… with code: …`).
_SECRET = re.compile(
    r"""((?:[?&](?:code|client_secret)=)|(?:['"](?:code|client_secret)['"]\s*:\s*['"])|(?:with code: ))"""
    r"""[^&'"\s]+"""
)


class OneLinePerRecord(logging.Filter):
    """Control characters in a record's message (a newline someone typed into a command, say) are
    written escaped, so no text can start a forged log line. Tracebacks are not part of the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _CONTROL.search(message):
            record.msg, record.args = _CONTROL.sub(lambda c: repr(c.group())[1:-1], message), None
        return True


class WithoutSecrets(logging.Filter):
    """An install's one-time OAuth code and the app's client secret never reach the log, whichever library
    logged the request that carried them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _SECRET.search(message):
            record.msg, record.args = _SECRET.sub(r"\1(redacted)", message), None
        return True


def configure(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format=FORMAT)
    for handler in logging.getLogger().handlers:
        handler.addFilter(WithoutSecrets())
        handler.addFilter(OneLinePerRecord())
