"""The web interface's own state in the catalog's database (issue 16): its users and the audit
log of record views, so that every `archiefstroom web` of a cluster sees the same users and
writes one audit chain, and nothing of it lives on a pod's disk.

The catalog's database (`catalog.url`, through the one factory ground/catalog_db) because the
web already depends on it and on nothing else: the vault's database is the re-identification
store, which the web must never be able to reach. `catalog rebuild` empties only the catalog's
own tables; the web's tables are not an index and are never rebuilt.

* `web_users`: name, role, argon2id hash, created.
* `web_audit`: the hash-chained audit log, append-only (triggers refuse UPDATE and DELETE; `seq`
  is the primary key, and appends take one lock, so the chain cannot fork).
* `web_meta`: what was taken over from the files of earlier versions, and when.

Users file and audit JSONL of an earlier version (`web.users_file`, `web.audit_log`) are taken
over once, at the first open that finds them while the table is still empty (`take_over`).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import threading
from pathlib import Path
from typing import Callable

from archiefstroom.ground import catalog_db
from archiefstroom.web import audit, users

log = logging.getLogger(__name__)

# one writer of the web's tables at a time on PostgreSQL (schema, take-over, audit appends)
_PG_LOCK = 6017


def _ddl(dialect: str) -> list[str]:
    out = [
        """CREATE TABLE IF NOT EXISTS web_users (
              name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL, created TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS web_audit (
              seq BIGINT PRIMARY KEY, at TEXT NOT NULL, user_name TEXT NOT NULL, role TEXT NOT NULL,
              page TEXT NOT NULL, record TEXT NOT NULL, record_version INTEGER, prev TEXT NOT NULL,
              hash TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS web_audit_by_user ON web_audit (user_name, seq)",
        "CREATE INDEX IF NOT EXISTS web_audit_by_record ON web_audit (record, seq)",
        "CREATE TABLE IF NOT EXISTS web_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ]
    if dialect == "postgresql":
        out += ["""CREATE OR REPLACE FUNCTION web_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                   BEGIN RAISE EXCEPTION 'web: % on % refused (append-only)', TG_OP, TG_TABLE_NAME; END $$""",
                """CREATE OR REPLACE TRIGGER web_audit_append_only BEFORE UPDATE OR DELETE ON web_audit
                   FOR EACH ROW EXECUTE FUNCTION web_append_only()"""]
    else:
        out += [f"""CREATE TRIGGER IF NOT EXISTS web_audit_no_{op.lower()} BEFORE {op} ON web_audit
                    BEGIN SELECT RAISE(ABORT, 'web: {op} on web_audit refused (append-only)'); END"""
                for op in ("UPDATE", "DELETE")]
    return out


class Store:
    """One connection to the web's tables, one transaction at a time (requests run in threads).
    A connection the server dropped (a PostgreSQL restart) fails its request and is opened
    anew at the next one."""

    def __init__(self, opener: Callable[[], catalog_db.Database]):
        self._opener = opener
        self._lock = threading.RLock()
        self.db = self._open()
        with self.transaction(write=True) as db:
            db.script(_ddl(db.dialect))

    @classmethod
    def open(cls, cfg) -> "Store":
        """The web's tables in the catalog's database, with the files of earlier versions taken over."""
        store = cls(lambda: catalog_db.connect(cfg))
        try:
            store.take_over(cfg.web.users_file, cfg.web.audit_log)
        except BaseException:
            store.close()
            raise
        return store

    @property
    def where(self) -> str:
        return self.db.where

    def _open(self) -> catalog_db.Database:
        db = self._opener()
        if db.dialect == "sqlite":
            # the file holds password hashes now; each commit fsynced (the audit's promise)
            for path in (db.where, db.where + "-wal", db.where + "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.chmod(path, 0o600)
            db.execute("PRAGMA synchronous=FULL")
        else:
            db.execute("SET synchronous_commit = on")
            db.commit()
        return db

    @contextlib.contextmanager
    def transaction(self, *, write: bool = False):
        """The connection inside one transaction, committed at the end (rolled back on error).
        `write`: the web's write lock first, so that read-then-insert (the audit chain, the
        take-over) is one step for every process on the database."""
        with self._lock:
            if self.db is None or getattr(self.db.conn, "broken", False):
                if self.db is not None:
                    with contextlib.suppress(Exception):
                        self.db.close()
                    self.db = None          # stays None if opening fails: the next request tries again
                self.db = self._open()
            db = self.db
            try:
                if write:
                    db.execute("BEGIN IMMEDIATE" if db.dialect == "sqlite" else f"SELECT pg_advisory_xact_lock({_PG_LOCK})")
                yield db
                db.commit()
            except BaseException:
                with contextlib.suppress(Exception):
                    db.rollback()
                raise

    def take_over(self, users_file: Path | None, audit_file: Path | None) -> dict[str, int]:
        """Import the users file and the audit JSONL of an earlier version, each once: when it
        exists, nothing was taken over before, and its table is still empty. Returns what was
        imported per table; the files are left as they are."""
        done = {}
        with self.transaction(write=True) as db:
            for name, path, table, load in (("users", users_file, "web_users", users.import_file),
                                            ("audit", audit_file, "web_audit", audit.import_file)):
                if path is None or not Path(path).exists():
                    continue
                if db.execute("SELECT value FROM web_meta WHERE name = ?", (f"{name}_taken_over",)):
                    continue
                if db.execute(f"SELECT 1 FROM {table} LIMIT 1"):
                    log.warning("web: %s not taken over: the database holds %s already", path, table)
                    continue
                summary = load(db, Path(path))
                summary.update(file=str(path), at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
                db.execute("INSERT INTO web_meta (name, value) VALUES (?, ?)",
                           (f"{name}_taken_over", json.dumps(summary, sort_keys=True)))
                done[name] = summary["imported"]
                log.info("web: %s taken over into %s (%d rows, %d lines skipped)", path, table,
                         summary["imported"], summary.get("skipped", 0))
        return done

    def taken_over(self) -> dict[str, dict]:
        """What `take_over` recorded, per table ("users", "audit")."""
        with self.transaction() as db:
            rows = db.execute("SELECT name, value FROM web_meta WHERE name IN ('users_taken_over', 'audit_taken_over')")
        return {name[:-len("_taken_over")]: json.loads(value) for name, value in rows}

    def close(self) -> None:
        with self._lock:
            if self.db is not None:
                with contextlib.suppress(Exception):
                    self.db.rollback()
                self.db.close()
                self.db = None
