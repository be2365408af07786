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
