"""The audit log of record views: JSON lines appended to cfg.web.audit_log, never rewritten.

Every record detail or thread that is shown writes one line before the page is sent:
who (user, role), when (UTC), which page, which record. Only ids go in, never text: the
log holds nothing a pseudonym hides. The file is opened in append mode for each line
(O_APPEND: concurrent writers do not overwrite each other) and flushed to disk, so a
view that was shown is a view that was logged.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path


class AuditLog:
    def __init__(self, path: Path, clock=None):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))

    def write(self, *, user: str, role: str, page: str, record: str, version: int | None = None) -> dict:
        line = {"at": self._clock().isoformat(timespec="milliseconds"), "user": user, "role": role,
                "page": page, "record": record, "record_version": version}
        data = (json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
        return line

    def read(self, *, user: str | None = None, record: str | None = None, limit: int = 200) -> list[dict]:
        """The newest lines first, optionally only one user's or one record's."""
        if not self.path.exists():
            return []
        out = []
        with self.path.open(encoding="utf-8") as f:
            for raw in f:
                try:
                    line = json.loads(raw)
                except ValueError:
                    continue   # a torn last line after a crash: skipped, not fatal
                if (user and line.get("user") != user) or (record and line.get("record") != record):
                    continue
                out.append(line)
        return out[::-1][:limit]
