"""One log line per event: ``time level=… logger=… event=… key=value``; tracebacks folded into the line."""

from __future__ import annotations

import logging


class OneLineFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        # Escaped, so a log collector keeps a traceback with the event it belongs to.
        return line.replace("\\", "\\\\").replace("\n", "\\n")


class RedisOutageFilter(logging.Filter):
    """channels_redis logs a full traceback every second while Redis is away; keep one line instead.
    It also logs a cancelled unsubscribe while the process stops, which is no error at all."""

    def filter(self, record: logging.LogRecord) -> bool:
        import asyncio

        import redis.exceptions

        if not record.name.startswith("channels_redis"):
            return True
        if record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError):
            return False
        if record.exc_info and isinstance(record.exc_info[1], redis.exceptions.ConnectionError | OSError):
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = "event=channel_layer_unavailable", ()
        return True
