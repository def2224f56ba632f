"""The catalog's tables and questions, on SQLite or PostgreSQL with the same code.

  entries    one row per archived record version (core.catalog.Entry), keyed (event_id,
             record_version): indexing the same record twice changes nothing, so a batch
             announced again after a crash, or a rebuild over a live index, is harmless
  text       SQLite: an FTS5 table over the Dutch-stemmed, accent-folded text (unicode61);
             PostgreSQL: a tsvector of the folded text in the `dutch` configuration, GIN index
  outcomes   every offset's fate that is not an archived record (dropped, held, dead letter,
             duplicate, ...), from the ledgers, for `explain`; `seal` is the sealed thread a fate
             names (a reaction counted as late, issue 17), indexed for `archive thread`
  batches    the ledgers indexed, so `catalog run` and `rebuild` know what they have done
  destroyed  a tombstone per record destroyed by a vernietigingslijst (issue 13): its id, object
             and list, nothing of its content; its entry is gone, so no search finds it as live
"""
from __future__ import annotations

import datetime as dt
import json
import operator
from collections import Counter

from archiefstroom.core import catalog as core
from archiefstroom.core.retention import add_years
from archiefstroom.core.catalog import COLUMNS, Entry, Query, SearchResult, ThreadNode
from archiefstroom.ground import catalog_db
from archiefstroom.ground.catalog_db import Database

_BOOL = {"burgerbrief", "publishable", "deleted", "latest"}
_TYPES = {"record_version": "INTEGER NOT NULL", "created_at": "BIGINT NOT NULL",
          "burgerbrief_score": "REAL", "chain_version": "INTEGER NOT NULL", "partition": "INTEGER NOT NULL",
          "offset": "BIGINT NOT NULL", **{b: "BOOLEAN" for b in _BOOL}}
_FACET_COLUMN = {f: {"account": "account_handle"}.get(f, f) for f in core.FACETS}   # facet -> its column


def _q(name: str) -> str:
    return f'"{name}"'


_COLS = ", ".join(_q(c) for c in COLUMNS)
_VALUES = operator.attrgetter(*COLUMNS)


def _schema(dialect: str) -> list[str]:
    cols = ",\n  ".join(f"{_q(c)} {_TYPES.get(c, 'TEXT')}" for c in COLUMNS)
    ident = "id INTEGER PRIMARY KEY" if dialect == "sqlite" else "id BIGSERIAL PRIMARY KEY"
    out = [f"""CREATE TABLE IF NOT EXISTS entries (
  {ident},
  {cols},
  period TEXT NOT NULL,
  body TEXT NOT NULL{",  tsv tsvector GENERATED ALWAYS AS (to_tsvector('dutch', body)) STORED" if dialect == "postgresql" else ""},
  UNIQUE (event_id, record_version))""",
           "CREATE INDEX IF NOT EXISTS entries_object ON entries (object_id)",
           "CREATE INDEX IF NOT EXISTS entries_item ON entries (item_id)",
           "CREATE INDEX IF NOT EXISTS entries_thread ON entries (thread_root)",
           "CREATE INDEX IF NOT EXISTS entries_created ON entries (created_at)",
           "CREATE INDEX IF NOT EXISTS entries_latest ON entries (latest, created_at)",
           "CREATE INDEX IF NOT EXISTS entries_account ON entries (account_handle, created_at)",
           """CREATE TABLE IF NOT EXISTS outcomes (
  ledger TEXT NOT NULL, "offset" BIGINT NOT NULL, topic TEXT NOT NULL, "partition" INTEGER NOT NULL,
  event_id TEXT, kind TEXT NOT NULL, reason TEXT, detail TEXT, seal TEXT,
  PRIMARY KEY (ledger, "offset", kind))""",
           "CREATE INDEX IF NOT EXISTS outcomes_event ON outcomes (event_id)",
           "CREATE TABLE IF NOT EXISTS batches (ledger TEXT PRIMARY KEY, records INTEGER NOT NULL, outcomes INTEGER NOT NULL)",
           """CREATE TABLE IF NOT EXISTS destroyed (
  event_id TEXT NOT NULL, record_version INTEGER NOT NULL, object_key TEXT NOT NULL, list_id TEXT NOT NULL,
  destroyed_at TEXT NOT NULL, category TEXT, PRIMARY KEY (event_id, record_version))""",
           "CREATE INDEX IF NOT EXISTS destroyed_object ON destroyed (object_key)",
           "CREATE INDEX IF NOT EXISTS entries_object_key ON entries (object_key)"]
    if dialect == "sqlite":
        out.append("CREATE VIRTUAL TABLE IF NOT EXISTS entries_text USING fts5(body, content='entries', "
                   "content_rowid='id', tokenize='unicode61 remove_diacritics 2')")
    else:
        out.append("CREATE INDEX IF NOT EXISTS entries_tsv ON entries USING GIN (tsv)")
    return out


def _seal_of(detail: dict) -> str | None:
    seal = detail.get("seal")
    return seal if isinstance(seal, str) else None


def _period(e: Entry) -> str:
    return e.created.strftime("%Y-%m")


def _body(text: str, dialect: str) -> str:
    """What the text index holds: SQLite gets stems (Python's Snowball), PostgreSQL the folded
    words (its `dutch` configuration stems them with the same algorithm). Text only: account
    and author are filters, and in the body they would make every word of a handle
    ('gemeente...') match a whole account."""
    return core.stemmed(text) if dialect == "sqlite" else " ".join(core.words(text))


class Catalog:
    def __init__(self, db: Database):
        self.db = db
        db.script(_schema(db.dialect))
        self._add_seal_column()
        db.script(["CREATE INDEX IF NOT EXISTS outcomes_seal ON outcomes (seal)"])
        db.commit()

    def _add_seal_column(self) -> None:
        """A catalog made before outcomes had `seal`: add it and fill it from the details."""
        if "seal" in self.db.columns("outcomes"):
            return
        if self.db.dialect == "postgresql":
            self.db.script(["ALTER TABLE outcomes ADD COLUMN IF NOT EXISTS seal TEXT"])
        else:
            try:
                self.db.script(["ALTER TABLE outcomes ADD COLUMN seal TEXT"])
            except self.db.SchemaError:   # another process opening the same file added it first
                if "seal" not in self.db.columns("outcomes"):
                    raise
                return
        rows = self.db.execute("SELECT ledger, \"offset\", kind, detail FROM outcomes WHERE detail LIKE ?",
                               ('%"seal"%',))
        self.db.executemany('UPDATE outcomes SET seal = ? WHERE ledger = ? AND "offset" = ? AND kind = ?',
                            [(_seal_of(json.loads(r[3] or "{}")), r[0], r[1], r[2]) for r in rows])

    @classmethod
    def open(cls, cfg) -> "Catalog":
        return cls(catalog_db.connect(cfg))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing ------------------------------------------------------------------------
    def index(self, entries: list[Entry]) -> int:
        """Add entries not yet indexed (keyed by event id and record version) and recompute
        `latest` for the objects they belong to. Returns how many were new. Commits.
        Another writer (a rebuild beside `catalog run`) may insert one of them between the
        check and the insert: the unique key then refuses the call, which is done again."""
        for attempt in range(3):
            try:
                return self._index(entries)
            except self.db.IntegrityError:
                if attempt == 2:
                    raise
        return 0

    def _index(self, entries: list[Entry]) -> int:
        db = self.db
        if db.dialect == "sqlite":   # take the write lock now: the FTS rows follow the ids read below
            db.execute("BEGIN IMMEDIATE")
        fresh, seen = [], set()
        for e in entries:
            if (e.event_id, e.record_version) not in seen:
                seen.add((e.event_id, e.record_version))
                fresh.append(e)
        known = set()
        for chunk in _chunks(sorted({e.event_id for e in fresh}), 500):
            known.update(db.execute(f"SELECT event_id, record_version FROM entries WHERE event_id IN "
                                    f"({', '.join('?' * len(chunk))})", chunk))
        new = [e for e in fresh if (e.event_id, e.record_version) not in known]
        # only items with an earlier version, or several new ones, need `latest` worked out
        # again; a brand-new item's one version is its latest (Entry.latest's default)
        per_item = Counter(e.item_id for e in new)
        recheck = {i for i, n in per_item.items() if n > 1} | self._known_items({i for i, n in per_item.items() if n == 1})
        for e in new:
            if e.item_id not in recheck:
                e.latest = True
        try:
            rows = [(*self._values(e), _period(e), _body(e.text, db.dialect)) for e in new]
            before = db.execute("SELECT COALESCE(MAX(id), 0) FROM entries")[0][0] if db.dialect == "sqlite" else 0
            db.insert_rows("entries", [*COLUMNS, "period", "body"], rows)
            if db.dialect == "sqlite" and new:   # one writer at a time: the ids above `before` are ours
                db.execute("INSERT INTO entries_text (rowid, body) SELECT id, body FROM entries WHERE id > ?", (before,))
            self._relatest(recheck)
            self._tombstone_bodies({e.item_id for e in new})
            db.commit()
        except BaseException:
            db.rollback()
            raise
        return len(new)

    def _tombstone_bodies(self, item_ids: set[str]) -> None:
        """A delete tombstone's index body is the text of the newest earlier version of its post,
        so that a deleted post is still found by what it said (and shown as deleted). Worked out
        from every version indexed so far, whichever arrived first: a tombstone may be keyed to
        another partition than its post, so live indexing and a rebuild see them in other orders."""
        db, stones = self.db, []
        for chunk in _chunks(sorted(item_ids), 400):
            stones += db.execute(f"SELECT id, item_id, body FROM entries WHERE deleted = ? AND item_id IN "
                                 f"({', '.join('?' * len(chunk))})", [True, *chunk])
        if not stones:
            return
        said: dict[str, str] = {}
        items = sorted({item for _, item, _ in stones})
        for chunk in _chunks(items, 400):
            versions = self._select(f"deleted = ? AND item_id IN ({', '.join('?' * len(chunk))})", [False, *chunk])
            for e in sorted(versions, key=core.order_key):
                if e.text:
                    said[e.item_id] = e.text
        for ident, item, old in stones:
            new = _body(said.get(item, ""), db.dialect)
            if new == old:
                continue
            db.execute("UPDATE entries SET body = ? WHERE id = ?", (new, ident))
            if db.dialect == "sqlite":   # an external-content FTS5 row is replaced by delete + insert
                db.execute("INSERT INTO entries_text (entries_text, rowid, body) VALUES ('delete', ?, ?)", (ident, old))
                db.execute("INSERT INTO entries_text (rowid, body) VALUES (?, ?)", (ident, new))

    def _values(self, e: Entry) -> tuple:
        return _VALUES(e)

    def _known_items(self, item_ids: set[str]) -> set[str]:
        found = set()
        for chunk in _chunks(sorted(item_ids), 500):
            found.update(r[0] for r in self.db.execute(
                f"SELECT DISTINCT item_id FROM entries WHERE item_id IN ({', '.join('?' * len(chunk))})", chunk))
        return found

    def _relatest(self, item_ids: set[str]) -> None:
        changes = []
        for chunk in _chunks(sorted(item_ids), 400):
            marks = ", ".join("?" * len(chunk))
            group = self._select(f"item_id IN ({marks})", chunk)
            before = {(e.event_id, e.record_version): e.latest for e in group}
            for e in core.mark_latest(group):
                if before[(e.event_id, e.record_version)] != e.latest:
                    changes.append((e.latest, e.event_id, e.record_version))
        self.db.executemany("UPDATE entries SET latest = ? WHERE event_id = ? AND record_version = ?", changes)

    def record_outcomes(self, ledger: str, rows: list[dict], records: int) -> None:
        """The not-archived fates of one ledger, and the ledger itself as done. Commits."""
        db = self.db
        conflict = "ON CONFLICT DO NOTHING" if db.dialect == "postgresql" else ""
        verb = "INSERT" if conflict else "INSERT OR IGNORE"
        db.executemany(f'{verb} INTO outcomes (ledger, "offset", topic, "partition", event_id, kind, reason, detail, '
                       f"seal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) {conflict}",
                       [(ledger, r["offset"], r["topic"], r["partition"], r.get("event_id"), r["kind"],
                         r.get("reason"), json.dumps(r.get("detail") or {}, sort_keys=True),
                         _seal_of(r.get("detail") or {})) for r in rows])
        db.execute(f"{verb} INTO batches (ledger, records, outcomes) VALUES (?, ?, ?) {conflict}",
                   (ledger, records, len(rows)))
        db.commit()

    # -- the duties (issue 13): destruction tombstones, retention changed after the fact --------
    def mark_destroyed(self, object_key: str, list_id: str, destroyed_at: str,
                       records: list[tuple[str, int]] = (), category: str | None = None) -> int:
        """A destroyed object's records leave the index (text included: destroyed means gone)
        and leave a tombstone each: the entries indexed for the object, and `records` (event
        id, record version) in case the index never had them. Idempotent. Commits."""
        db = self.db
        conflict = "ON CONFLICT DO NOTHING" if db.dialect == "postgresql" else ""
        verb = "INSERT" if conflict else "INSERT OR IGNORE"
        try:
            rows = db.execute("SELECT id, event_id, record_version, item_id, body, category FROM entries "
                              "WHERE object_key = ?", (object_key,))
            stones = {(r[1], int(r[2])): r[5] for r in rows}
            for event_id, version in records:
                stones.setdefault((event_id, int(version)), category)
            db.executemany(f"{verb} INTO destroyed (event_id, record_version, object_key, list_id, destroyed_at, "
                           f"category) VALUES (?, ?, ?, ?, ?, ?) {conflict}",
                           [(e, v, object_key, list_id, destroyed_at, c or category) for (e, v), c in sorted(stones.items())])
            if db.dialect == "sqlite":
                db.executemany("INSERT INTO entries_text (entries_text, rowid, body) VALUES ('delete', ?, ?)",
                               [(r[0], r[4]) for r in rows])
            db.execute("DELETE FROM entries WHERE object_key = ?", (object_key,))
            self._relatest({r[3] for r in rows})
            # a delete tombstone kept elsewhere is found by its post's last text: once that post is
            # destroyed, its text must not live on in the tombstone's index body
            self._tombstone_bodies({r[3] for r in rows})
            db.commit()
        except BaseException:
            db.rollback()
            raise
        return len(stones)

    def destroyed(self, event_id: str) -> list[dict]:
        """The tombstones of a destroyed record (one per record version), oldest version first."""
        rows = self.db.execute("SELECT event_id, record_version, object_key, list_id, destroyed_at, category "
                               "FROM destroyed WHERE event_id = ? ORDER BY record_version", (event_id,))
        return [{"event_id": r[0], "record_version": r[1], "object_key": r[2], "list_id": r[3],
                 "destroyed_at": r[4], "category": r[5]} for r in rows]

    def destroyed_count(self, list_id: str | None = None) -> int:
        where, params = ("WHERE list_id = ?", (list_id,)) if list_id else ("", ())
        return self.db.execute(f"SELECT COUNT(*) FROM destroyed {where}", params)[0][0]

    def set_retention(self, object_key: str, *, retention_class: str, category: str, hotspot: str | None,
                      years: int | None) -> int:
        """An object re-tagged after the fact (a hotspot, a changed selectielijst): its entries
        get the class, category and hotspot, and each record its own new date (its creation
        day, UTC, plus `years`; None: permanent). Returns the entries changed. Commits."""
        rows = self.db.execute("SELECT event_id, record_version, created_at FROM entries WHERE object_key = ?",
                               (object_key,))
        changes = []
        for event_id, version, created in rows:
            day = dt.datetime.fromtimestamp(created / 1000, dt.timezone.utc).date()
            until = add_years(day, years).isoformat() if years is not None else None
            changes.append((retention_class, category, hotspot, until, event_id, version))
        self.db.executemany("UPDATE entries SET retention_class = ?, category = ?, hotspot = ?, destroy_after = ? "
                            "WHERE event_id = ? AND record_version = ?", changes)
        self.db.commit()
        return len(changes)

    def object_entries(self, object_key: str) -> list[Entry]:
        return self._select("object_key = ?", (object_key,), "ORDER BY event_id, record_version")

    def indexed(self, ledger: str) -> bool:
        return bool(self.db.execute("SELECT 1 FROM batches WHERE ledger = ?", (ledger,)))

    def clear(self) -> None:
        """Empty every table (a rebuild starts from nothing)."""
        stmts = ["DELETE FROM entries", "DELETE FROM outcomes", "DELETE FROM batches"]
        if self.db.dialect == "sqlite":
            stmts.insert(0, "INSERT INTO entries_text (entries_text) VALUES ('delete-all')")
        self.db.script(stmts)
        self.db.commit()

    # -- reading ------------------------------------------------------------------------
    def _select(self, where: str, params, tail: str = "") -> list[Entry]:
        rows = self.db.execute(f"SELECT {_COLS} FROM entries WHERE {where} {tail}", params)
        return [self._entry(r) for r in rows]

    @staticmethod
    def _entry(row) -> Entry:
        values = {c: (bool(v) if c in _BOOL and v is not None else v) for c, v in zip(COLUMNS, row)}
        return Entry(**values)

    def get(self, event_id: str, record_version: int | None = None) -> Entry | None:
        if record_version is None:
            found = self._select("event_id = ?", (event_id,), "ORDER BY record_version DESC LIMIT 1")
        else:
            found = self._select("event_id = ? AND record_version = ?", (event_id, record_version))
        return found[0] if found else None

    def entries(self, event_id: str) -> list[Entry]:
        return self._select("event_id = ?", (event_id,), "ORDER BY record_version")

    def versions(self, item_id: str) -> list[Entry]:
        """Every version of a post or reply (its object id) or of a reaction (its event id)."""
        return sorted(self._select("item_id = ?", (item_id,)), key=core.order_key)

    def thread(self, some_id: str) -> list[ThreadNode]:
        """The thread holding an event or object id: its root post with every reaction under it."""
        e = self.get(some_id) or next(iter(self.versions(some_id)), None)
        if e is None:
            return []
        root = e.thread_root or e.in_reply_to or e.object_id
        objects = {root} | {m.object_id for m in self._select("thread_root = ? OR in_reply_to = ?", (root, root))}
        # reactions on reactions may name only their parent: follow in_reply_to downwards
        frontier = objects - {root}
        while frontier:
            marks = ", ".join("?" * len(frontier))
            found = {m.object_id for m in self._select(f"in_reply_to IN ({marks})", sorted(frontier))}
            frontier = found - objects
            objects |= found
        # every version of each object (the newest, a tombstone say, may not name the thread),
        # and the reactions (likes) on them
        members = []
        for chunk in _chunks(sorted(objects), 400):
            members += self._select(f"object_id IN ({', '.join('?' * len(chunk))})", chunk)
        return core.thread_tree(members)

    def outcomes(self, event_ids: list[str]) -> list[dict]:
        marks = ", ".join("?" * len(event_ids))
        return self._outcomes(f"WHERE event_id IN ({marks})", event_ids, order='"offset"')

    def outcomes_of_seal(self, seal_id: str) -> list[dict]:
        """The fates that name one sealed thread (its reactions counted as late): an index lookup
        whose cost is that thread's, not the archive's."""
        return self._outcomes("WHERE seal = ?", [seal_id])

    def all_outcomes(self) -> list[dict]:
        """Every indexed fate that is not an archived record, in the shape of `outcomes` (the
        compliance report counts them per organisation and account)."""
        return self._outcomes("", [])

    def _outcomes(self, where: str, params: list, order: str = 'ledger, "offset"') -> list[dict]:
        rows = self.db.execute(f'SELECT ledger, "offset", topic, "partition", event_id, kind, reason, detail '
                               f'FROM outcomes {where} ORDER BY {order}', params)
        return [{"ledger": r[0], "kind": r[5], "reason": r[6], "detail": json.loads(r[7] or "{}"), "event_id": r[4],
                 "source": {"topic": r[2], "partition": r[3], "offset": r[1]}} for r in rows]

    def search(self, q: Query, *, facets: bool = False) -> SearchResult:
        where, params = self._where(q)
        rows = self._select(where, params, f"ORDER BY created_at DESC, event_id, record_version DESC "
                                           f"LIMIT {int(q.limit)} OFFSET {int(q.offset)}")
        if not facets:
            total = self.db.execute(f"SELECT COUNT(*) FROM entries WHERE {where}", params)[0][0]
            return SearchResult(rows, total)
        # the matches once, then every facet counted over them (one statement, both databases)
        cols = ", ".join(_FACET_COLUMN.values())
        counted = " UNION ALL ".join(f"SELECT '{name}', {col}, COUNT(*) FROM m GROUP BY {col}"
                                     for name, col in _FACET_COLUMN.items())
        found = self.db.execute(f"WITH m AS MATERIALIZED (SELECT {cols} FROM entries WHERE {where}) {counted}", params)
        out = SearchResult(rows, sum(n for name, _, n in found if name == "platform"))
        for name in _FACET_COLUMN:
            values = sorted(((v, n) for f, v, n in found if f == name and v is not None), key=lambda vn: (-vn[1], vn[0]))
            out.facets[name] = values[:25]
        return out

    def _where(self, q: Query) -> tuple[str, list]:
        conds, params = ["1 = 1"], []

        def add(cond, *values):
            conds.append(cond)
            params.extend(values)

        terms = core.parse_terms(q.terms)
        if q.version == "latest":
            # with words, SQLite must start from the text index, not walk every latest row
            add("+latest = ?" if terms and self.db.dialect == "sqlite" else "latest = ?", True)
        for col, value in (("organisation", q.organisation), ("platform", q.platform), ("event_type", q.event_type)):
            if value:
                add(f"{col} = ?", value)
        if q.account:
            add("(account_handle = ? OR account_id = ?)", q.account, q.account)
        lo, hi = q.ms_range()
        if lo is not None:
            add("created_at >= ?", lo)
        if hi is not None:
            add("created_at <= ?", hi)
        if q.burgerbrief is not None:
            # webcare's verdict overrules the classifier's label
            add("COALESCE(verdict = 'burgerbrief', burgerbrief) = ?", q.burgerbrief)
        if q.retention:
            add("retention_class = ?" if q.retention in ("B", "V") else "category = ?", q.retention)
        if terms:
            for cond, value in self._text(terms):
                add(cond, value)
        elif core.words(q.terms):   # only stop words: nothing can match them, on either database
            add("1 = 0")
        return " AND ".join(conds), params

    def _text(self, terms) -> list[tuple[str, str]]:
        """(condition on an entries row, its one parameter): the words that must occur, then
        (as `NOT ...`) the words that must not."""
        pos = [t for t in terms if not t.negated]
        neg = [t for t in terms if t.negated]
        out = []
        if self.db.dialect == "postgresql":
            def tsq(ts):
                return " & ".join(t.word + (":*" if t.prefix else "") for t in ts)
            if pos:
                out.append(("tsv @@ to_tsquery('dutch', ?)", tsq(pos)))
            if neg:
                out.append(("NOT tsv @@ to_tsquery('dutch', ?)", " | ".join(t.word + (":*" if t.prefix else "") for t in neg)))
            return out

        def fts(ts, joint):
            return f" {joint} ".join(f'"{core.stem(t.word)}"' + ("*" if t.prefix else "") for t in ts)
        if pos:
            out.append(("id IN (SELECT rowid FROM entries_text WHERE entries_text MATCH ?)", fts(pos, "AND")))
        if neg:
            out.append(("NOT id IN (SELECT rowid FROM entries_text WHERE entries_text MATCH ?)", fts(neg, "OR")))
        return out

    def counts(self) -> dict:
        return {"entries": self.db.execute("SELECT COUNT(*) FROM entries")[0][0],
                "latest": self.db.execute("SELECT COUNT(*) FROM entries WHERE latest = ?", (True,))[0][0],
                "outcomes": self.db.execute("SELECT COUNT(*) FROM outcomes")[0][0],
                "batches": self.db.execute("SELECT COUNT(*) FROM batches")[0][0]}

    def dump(self) -> list[tuple]:
        """Everything indexed, in a fixed order (a rebuilt index must equal the live one)."""
        entries = self.db.execute(f"SELECT {_COLS}, period, body FROM entries ORDER BY event_id, record_version")
        outcomes = self.db.execute('SELECT ledger, "offset", topic, "partition", event_id, kind, reason, detail '
                                   'FROM outcomes ORDER BY ledger, "offset", kind')
        batches = self.db.execute("SELECT ledger, records, outcomes FROM batches ORDER BY ledger")
        return [("entries", *map(tuple, entries)), ("outcomes", *map(tuple, outcomes)), ("batches", *map(tuple, batches))]


def _chunks(items: list, n: int):
    for i in range(0, len(items), n):
        yield items[i:i + n]
