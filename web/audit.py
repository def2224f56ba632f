"""The audit log of record views: the table `web_audit` of the catalog's database (web/store.py),
hash-chained like the vault's audit log and append-only (the database refuses UPDATE and DELETE).

Every record detail or thread that is shown appends one entry before the page is rendered:
who (user, role), when (UTC), which page, which record. Only ids go in, never text: the log
holds nothing a pseudonym hides. The append is a committed (SQLite: fsynced; PostgreSQL:
synchronous) transaction, so a view that was shown is a view that was logged; when it fails,
the page is refused. Each entry carries the hash of the one before it (`prev`): an entry
changed or removed behind the database's back breaks the chain, which `verify` finds.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from archiefstroom.core import audit_chain
from archiefstroom.core.audit_chain import GENESIS

_FIELDS = ("at", "user", "role", "page", "record", "record_version")
_COLUMNS = "seq, at, user_name, role, page, record, record_version, prev, hash"
_CHUNK = 10_000                 # entries read at a time by `verify`


def entry_hash(entry: dict) -> str:
    """The chain hash of an entry: every field but the hash and the sequence number."""
    body = {k: entry[k] for k in (*_FIELDS, "prev")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _entry(row) -> dict:
    return dict(zip(("seq", *_FIELDS, "prev", "hash"), row))


def _append(db, entries: list[dict]) -> list[dict]:
    """Chain `entries` to the last one in the table and insert them (inside the caller's write
    transaction, which holds the web's write lock)."""
    last = db.execute("SELECT seq, hash FROM web_audit ORDER BY seq DESC LIMIT 1")
    seq, prev = last[0] if last else (0, GENESIS)
    out = []
    for e in entries:
        seq += 1
        e = {"seq": seq, **{k: e[k] for k in _FIELDS}, "prev": prev}
        e["hash"] = prev = entry_hash(e)
        out.append(e)
    db.executemany(f"INSERT INTO web_audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [tuple(e[k] for k in ("seq", *_FIELDS, "prev", "hash")) for e in out])
    return out


class AuditLog:
    def __init__(self, store, clock=None):
        self.store = store
        self._clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))

    def write(self, *, user: str, role: str, page: str, record: str, version: int | None = None) -> dict:
        """Append one entry; returns once it is committed (raises when it could not be)."""
        entry = {"at": self._clock().isoformat(timespec="milliseconds"), "user": user, "role": role,
                 "page": page, "record": record, "record_version": version}
        with self.store.transaction(write=True) as db:
            (written,) = _append(db, [entry])
        return written

    def read(self, *, user: str | None = None, record: str | None = None, limit: int = 200) -> list[dict]:
        """The newest entries first, optionally only one user's or one record's."""
        where, params = [], []
        if user:
            where.append("user_name = ?")
            params.append(user)
        if record:
            where.append("record = ?")
            params.append(record)
        sql = f"SELECT {_COLUMNS} FROM web_audit {'WHERE ' + ' AND '.join(where) if where else ''} " \
              "ORDER BY seq DESC LIMIT ?"
        with self.store.transaction() as db:
            return [_entry(r) for r in db.execute(sql, (*params, limit))]

    def verify(self) -> tuple[bool, int, str, str | None]:
        """(intact, entries, head hash, first problem): every entry's hash, its link to the one
        before and gap-free sequence numbers (a removed entry breaks one of them)."""
        return audit_chain.verify(self._all(), entry_hash)

    def _all(self):
        """Every entry in order, read in chunks (the log may be long)."""
        n = 0
        while True:
            with self.store.transaction() as db:
                rows = db.execute(f"SELECT {_COLUMNS} FROM web_audit WHERE seq > ? ORDER BY seq LIMIT ?",
                                  (n, _CHUNK))
            if not rows:
                return
            for row in rows:
                e = _entry(row)
                n = e["seq"]
                yield e


def _valid(line) -> bool:
    return (isinstance(line, dict) and all(isinstance(line.get(k), str) for k in ("at", "user", "role", "page", "record"))
            and (line.get("record_version") is None or type(line["record_version"]) is int))


def import_file(db, path: Path) -> dict:
    """Chain the JSON lines of the audit file of an earlier version (no chain of its own) into
    `web_audit`, in file order (inside the caller's write transaction). A line that is not an
    entry (torn by a crash) is skipped and counted; the file's SHA-256 is returned with the
    counts, so that what was taken over can be checked against the file."""
    raw = Path(path).read_bytes()
    entries, skipped = [], 0
    for text in raw.decode("utf-8", errors="replace").splitlines():
        if not text.strip():
            continue
        try:
            line = json.loads(text)
        except ValueError:
            line = None
        if _valid(line):
            entries.append({k: line.get(k) for k in _FIELDS})
        else:
            skipped += 1
    _append(db, entries)
    return {"imported": len(entries), "skipped": skipped, "sha256": hashlib.sha256(raw).hexdigest()}
