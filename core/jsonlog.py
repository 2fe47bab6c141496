"""JSON log lines (``LOG_FORMAT=json``): one object per record on one line, for a log
collector to parse without guessing where a multi-line traceback ends.

Only what the record says is written (time, level, logger, message, and the traceback
of an exception); the request, its body and its user are never added, so a line holds
no more than the plain format would."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        # json.dumps escapes newlines: a traceback stays on the record's one line.
        return json.dumps(line, ensure_ascii=False, default=str)
