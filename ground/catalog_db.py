"""The one client factory of the project's databases (the catalog, and the re-identification
vault of ground/vault_db.py): SQLite (the embedded default, a file under data_dir) or PostgreSQL
(production), behind one small interface, so their SQL is written once with `?` placeholders
and both databases run it.

Where the two differ (full-text search, upserts, a month from epoch ms) the caller asks
`db.dialect`; nothing else here knows what a catalog or a vault is.
"""
from __future__ import annotations

import sqlite3
import threading
import urllib.parse
from pathlib import Path

import psycopg

from archiefstroom.ground.config import Config


class Database:
    """A connection with `?` placeholders on both databases, used by one thread at a time
    (each thread of a process opens its own through `connect`)."""

    # a unique key refused a row: another writer got there first
    IntegrityError = (sqlite3.IntegrityError, psycopg.errors.IntegrityError)
    # SQLite refused a schema change (e.g. a column another process added first)
    SchemaError = sqlite3.OperationalError

    def __init__(self, dialect: str, conn, where: str):
        self.dialect, self.conn, self.where = dialect, conn, where
        self._lock = threading.Lock()

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    def execute(self, sql: str, params=()) -> list[tuple]:
        with self._lock:
            cur = self.conn.execute(self._sql(sql), params)
            return cur.fetchall() if cur.description else []

    def executemany(self, sql: str, rows) -> None:
        rows = list(rows)
        if not rows:
            return
        with self._lock:
            if self.dialect == "postgresql":
                with self.conn.cursor() as cur:
                    cur.executemany(self._sql(sql), rows)
            else:
                self.conn.executemany(sql, rows)

    def insert_rows(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        """Bulk insert (PostgreSQL: COPY, several times faster than row-wise INSERTs)."""
        if not rows:
            return
        if self.dialect == "postgresql":
            cols = ", ".join(f'"{c}"' for c in columns)
            with self._lock, self.conn.cursor() as cur:
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            self.executemany(f"INSERT INTO {table} ({', '.join(chr(34) + c + chr(34) for c in columns)}) "
                             f"VALUES ({marks})", rows)

    def columns(self, table: str) -> list[str]:
        """The column names of `table` (to add one to a catalog created before it existed)."""
        if self.dialect == "postgresql":
            rows = self.execute("SELECT column_name FROM information_schema.columns "
                                "WHERE table_schema = current_schema() AND table_name = ?", (table,))
        else:
            rows = [(r[1],) for r in self.execute(f"PRAGMA table_info({table})")]
        return [r[0] for r in rows]

    def script(self, statements: list[str]) -> None:
        with self._lock:
            for s in statements:
                self.conn.execute(s)

    def commit(self) -> None:
        with self._lock:
            self.conn.commit()

    def rollback(self) -> None:
        with self._lock:
            self.conn.rollback()

    def close(self) -> None:
        self.conn.close()


def connect(cfg: Config) -> Database:
    """Open the catalog database named by `cfg.catalog.url`:
    `sqlite:///catalog.sqlite` (relative to data_dir) or `sqlite:////abs/path`, or
    `postgresql://user@host:port/db` (password from ARCHIEFSTROOM_CATALOG_PASSWORD or the URL)."""
    return open_url(cfg.catalog.url, cfg.data_dir, cfg.catalog.password)


def open_url(url: str, data_dir: Path, password: str | None = None) -> Database:
    """A database by URL: `sqlite:///rel/path` (relative to `data_dir`), `sqlite:////abs/path`
    or `postgresql://...` (`password` wins over one in the URL)."""
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        if not path.is_absolute():
            path = Path(data_dir) / path
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")      # readers (web, CLI) beside the indexer
        conn.execute("PRAGMA synchronous=NORMAL")
        return Database("sqlite", conn, str(path))
    parts = urllib.parse.urlsplit(url)
    kwargs = {"password": password} if password else {}
    conn = psycopg.connect(url, connect_timeout=10, **kwargs)
    return Database("postgresql", conn, f"{parts.hostname}:{parts.port or 5432}{parts.path}")
