"""The one log set-up of a process: text for a terminal, or one JSON object per line for a
log collector (`--log-format json`, or ARCHIEFSTROOM_LOG_FORMAT=json; docs/observability.md).

A JSON line has ts (UTC, ISO 8601), level, logger, message, thread, and for an exception
its type and the frames (file, line, function) of its traceback, never the exception's
text: an exception's message may quote the input (a parser's error quoting a payload, a
database error quoting a row). The code logs positions (topic/partition/offset), ids,
counts and error types, never event content; as a second line of defence every message is
scrubbed of what looks like personal data (e-mail addresses, phone numbers, IBANs and
numbers that pass the BSN eleven-test), so a slip shows as `[e-mail]` rather than the value.
Names cannot be recognised by pattern: that they are never logged is tested by feeding
records full of personal data through the pipeline and scanning every line
(tests/integration/test_observability.py).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
import traceback

FORMATS = ("text", "json")
ENV = "ARCHIEFSTROOM_LOG_FORMAT"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_PHONE = re.compile(r"(?<![\w.])(?:\+31|0031|0)[ \-]?(?:\(0\))?(?:\d[ \-]?){8,9}\d?(?![\w.])")
_NINE = re.compile(r"(?<![\w.\-/])(\d{4}\.?\d{2}\.?\d{3}|\d{9})(?![\w.\-/])")


def _bsn(digits: str) -> bool:
    d = [int(c) for c in digits if c.isdigit()]
    return len(d) == 9 and d[0] != 0 and (sum((9 - i) * v for i, v in enumerate(d[:8])) - d[8]) % 11 == 0


def scrub(text: str) -> str:
    """`text` with e-mail addresses, IBANs, Dutch phone numbers and BSNs replaced by their kind."""
    text = _EMAIL.sub("[e-mail]", text)
    text = _IBAN.sub("[iban]", text)
    text = _PHONE.sub("[phone]", text)
    return _NINE.sub(lambda m: "[bsn]" if _bsn(m.group(1)) else m.group(1), text)


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:   # a wrong format string must not lose the line
            message = str(record.msg)
        out = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(message),
            "thread": record.threadName,
        }
        if record.exc_info and record.exc_info[0] is not None:
            etype, _value, tb = record.exc_info
            out["exception"] = {"type": etype.__name__,
                                "frames": [f"{f.filename}:{f.lineno} {f.name}" for f in traceback.extract_tb(tb)]}
        return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def format_from(explicit: str | None = None) -> str:
    fmt = explicit or os.environ.get(ENV) or "text"
    if fmt not in FORMATS:
        raise ValueError(f"log format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return fmt


def configure(fmt: str | None = None, level: int = logging.WARNING, stream=None) -> logging.Handler:
    """Replace the root logger's handlers by one of `fmt` (text or json) on `stream`
    (stderr); returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if format_from(fmt) == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
