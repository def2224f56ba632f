"""The re-identification vault and its audit log in one shared database (issue 16).

Every worker of a cluster writes to the same store, so the way back from a pseudonym to a
person does not live on a pod's disk: PostgreSQL in production, a SQLite file under data_dir
as the embedded default; one code, through the project's one database factory
(ground/catalog_db.open_url).

* `vault_entries`: one row per (token, key id), primary key = the lookup index. The original is
  AES-256-GCM encrypted under the vault key with kind, token and key id as associated data (an
  entry cannot be moved to another token); beside it a keyed fingerprint of the *normalised*
  value, so a second writer of the same person is recognised without decrypting, and a
  different value under an existing token (a collision) is refused, recorded in
  `vault_collisions` (token and key id only), counted and logged without the value, never
  merged. `variant` > 0 only holds the extra values of a legacy token that already stood for
  more than one value in an imported segment vault (6-hex collisions from before issue 16).
* `vault_audit`: the hash-chained audit log, append-only (triggers refuse UPDATE and DELETE;
  `seq` is the primary key, so two concurrent appenders cannot fork the chain).
* `vault_meta`: schema version and a canary sealed with the vault key: a worker configured with
  another key is refused at open instead of writing entries nobody can read.

Durability follows today's contract: each put is committed at once but cheaply (PostgreSQL:
autocommit, one round trip, `synchronous_commit = off`; SQLite: `synchronous = NORMAL`, a
writer's puts grouped for up to 50 ms); `sync()`, called at the end of every bundle (the
bundle's records reach the sink only after it: the sink is behind a shuffle), makes one
durable commit, which carries every earlier commit of the session to disk with it (WAL order).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _json_str
from pathlib import Path
from typing import Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from archiefstroom.core import audit_chain
from archiefstroom.core.audit_chain import GENESIS
from archiefstroom.core.pseudonymise.keys import KeyedHash, normalise
from archiefstroom.core.pseudonymise.vault import Revealed, VaultError
from archiefstroom.ground import catalog_db

log = logging.getLogger(__name__)

SCHEMA_VERSION = "1"
_CANARY = b"archiefstroom vault canary v1"
_CACHE_MAX = 200_000          # (key id, token) -> fingerprint known to be stored, per process
_CHUNK = 400                  # rows per INSERT statement (SQLite allows 32766 parameters)


def plaintext(label: str, value: str) -> bytes:
    """What an entry encrypts: exactly json.dumps({"label": label, "value": value}) (the format
    `lookup` and the segment vault read), built by json's own string encoder without the
    general encoder's per-call set-up (several entries a record)."""
    return f'{{"label": {_json_str(label)}, "value": {_json_str(value)}}}'.encode("ascii")


class TokenCollision(VaultError):
    """A token already stands for another value: refused (the record goes to quarantine)."""


def _ddl(dialect: str) -> list[str]:
    blob = "BYTEA" if dialect == "postgresql" else "BLOB"
    rowid = "" if dialect == "postgresql" else " WITHOUT ROWID"
    out = [
        f"""CREATE TABLE IF NOT EXISTS vault_entries (
              token TEXT NOT NULL, key_id TEXT NOT NULL, variant INTEGER NOT NULL DEFAULT 0,
              kind TEXT NOT NULL, fingerprint {blob} NOT NULL, nonce {blob} NOT NULL, ct {blob} NOT NULL,
              created_at TEXT NOT NULL, PRIMARY KEY (token, key_id, variant)){rowid}""",
        """CREATE TABLE IF NOT EXISTS vault_collisions (
              at TEXT NOT NULL, token TEXT NOT NULL, key_id TEXT NOT NULL, writer TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS vault_audit (
              seq BIGINT PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,
              reason TEXT NOT NULL, ref TEXT NOT NULL, outcome TEXT NOT NULL, prev TEXT NOT NULL,
              hash TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS vault_writers (
              writer TEXT PRIMARY KEY, synced_at TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS vault_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    ]
    if dialect == "postgresql":
        out += ["""CREATE OR REPLACE FUNCTION vault_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                   BEGIN RAISE EXCEPTION 'vault: % on % refused (append-only)', TG_OP, TG_TABLE_NAME; END $$""",
                """CREATE OR REPLACE TRIGGER vault_audit_append_only BEFORE UPDATE OR DELETE ON vault_audit
                   FOR EACH ROW EXECUTE FUNCTION vault_append_only()""",
                """CREATE OR REPLACE TRIGGER vault_entries_no_update BEFORE UPDATE ON vault_entries
                   FOR EACH ROW EXECUTE FUNCTION vault_append_only()"""]
    else:
        out += [f"""CREATE TRIGGER IF NOT EXISTS vault_audit_no_{op.lower()} BEFORE {op} ON vault_audit
                    BEGIN SELECT RAISE(ABORT, 'vault: {op} on vault_audit refused (append-only)'); END"""
                for op in ("UPDATE", "DELETE")]
        out.append("""CREATE TRIGGER IF NOT EXISTS vault_entries_no_update BEFORE UPDATE ON vault_entries
                      BEGIN SELECT RAISE(ABORT, 'vault: UPDATE on vault_entries refused'); END""")
    return out


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


def entry_hash(entry: dict) -> str:
    """The chain hash of an audit entry (every field but the hash; the format of the file log
    before issue 16, so imported entries and new ones are checked by one rule)."""
    body = {k: entry[k] for k in ("at", "actor", "role", "reason", "ref", "outcome", "prev")}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class Store:
    """The vault's database: schema, audit log, sync. Needs no vault key (a refusal is audited
    even when the key is missing)."""

    def __init__(self, db: catalog_db.Database):
        self.db = db
        self.lock = threading.RLock()
        self.writer = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._group_since: float | None = None
        self._create()
        if db.dialect == "postgresql":
            # every statement its own transaction (one round trip per put), committed cheaply;
            # sync() and the audit log make the durable commits (module docstring)
            db.conn.autocommit = True
            db.execute("SET synchronous_commit = off")

    @classmethod
    def open(cls, url: str, data_dir: Path, password: str | None = None) -> "Store":
        return cls(catalog_db.open_url(url, data_dir, password))

    @property
    def where(self) -> str:
        return self.db.where

    def _create(self) -> None:
        with self.lock:
            if self.db.dialect == "postgresql":
                # concurrent CREATE ... IF NOT EXISTS can still collide in the catalog: one at a time
                self.db.execute("SELECT pg_advisory_xact_lock(6016)")
            else:
                self.db.execute("BEGIN IMMEDIATE")
            self.db.script(_ddl(self.db.dialect))
            self.db.execute("INSERT INTO vault_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                            ("schema_version", SCHEMA_VERSION))
            self.db.commit()

    def meta(self, name: str) -> str | None:
        rows = self.db.execute("SELECT value FROM vault_meta WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    def set_meta_once(self, name: str, value: str) -> str:
        """Store `value` unless the name has one; returns the stored value (first writer wins)."""
        with self.lock:
            self.db.execute("INSERT INTO vault_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                            (name, value))
            self.commit()
            return self.meta(name)

    # ------------------------------------------------------------ write transactions

    GROUP_SECONDS = 0.05

    def begin_write(self) -> None:
        """SQLite: join this process's group transaction (opened with BEGIN IMMEDIATE: the write
        lock at once, no deadlock-prone upgrade), each call in a savepoint of its own, so a
        failed call never takes the earlier calls' rows with it."""
        if self.db.dialect != "sqlite":
            return
        if self._group_since is None:
            self.db.execute("BEGIN IMMEDIATE")
            self._group_since = time.monotonic()
            # a writer that goes quiet must not keep the lock from the other processes
            timer = threading.Timer(self.GROUP_SECONDS, self._commit_stale, (self._group_since,))
            timer.daemon = True
            timer.start()
        self.db.execute("SAVEPOINT vault_put")

    def end_write(self) -> None:
        if self.db.dialect == "postgresql":
            self.db.commit()
            return
        self.db.execute("RELEASE vault_put")
        if time.monotonic() - self._group_since >= self.GROUP_SECONDS:
            self.commit()

    def abort_write(self) -> None:
        if self.db.dialect == "postgresql" or self._group_since is None:
            self.db.rollback()
            self._group_since = None
            return
        try:
            self.db.execute("ROLLBACK TO vault_put")
            self.db.execute("RELEASE vault_put")
        except Exception:     # the savepoint never began: the group itself failed
            self.db.rollback()
            self._group_since = None

    def _commit_stale(self, since: float) -> None:
        with self.lock:
            if self._group_since == since:
                try:
                    self.commit()
                except Exception as exc:      # the next write or sync() meets it again
                    log.warning("vault: committing a write group failed (%s)", type(exc).__name__)

    def commit(self) -> None:
        """Commit (SQLite: the open group too); other processes see its rows from now on."""
        self.db.commit()
        self._group_since = None

    # ------------------------------------------------------------ audit log

    def audit(self, *, actor: str, role: str, reason: str, ref: str, outcome: str,
              at: dt.datetime | str | None = None) -> dict:
        """Append one entry, chained to the last one, durably committed before returning (the
        caller shows nothing until this returned)."""
        at = at if isinstance(at, str) else (at or dt.datetime.now(dt.timezone.utc)).isoformat()
        for _ in range(50):
            with self.lock:
                self.commit()                  # nothing of a write group may ride on a retried append
                last = self.db.execute("SELECT seq, hash FROM vault_audit ORDER BY seq DESC LIMIT 1")
                seq, prev = (last[0][0] + 1, last[0][1]) if last else (1, GENESIS)
                entry = {"at": at, "actor": actor, "role": role, "reason": reason, "ref": ref,
                         "outcome": outcome, "prev": prev}
                entry["hash"] = entry_hash(entry)
                try:
                    self._durable(True)
                    self.db.execute("INSERT INTO vault_audit (seq, at, actor, role, reason, ref, outcome, prev, hash) "
                                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                    (seq, *(entry[k] for k in ("at", "actor", "role", "reason", "ref",
                                                               "outcome", "prev", "hash"))))
                    self._commit_durably()
                    return {"seq": seq, **entry}
                except self.db.IntegrityError:       # another appender took this seq: chain to its entry
                    self.db.rollback()
                    self._group_since = None
                finally:
                    self._durable(False)
        raise VaultError("audit log: could not append (too much contention)")

    def audit_entries(self) -> list[dict]:
        rows = self.db.execute("SELECT seq, at, actor, role, reason, ref, outcome, prev, hash FROM vault_audit "
                               "ORDER BY seq")
        self.commit()
        return [dict(zip(("seq", "at", "actor", "role", "reason", "ref", "outcome", "prev", "hash"), r)) for r in rows]

    def verify_audit(self) -> tuple[bool, int, str, str | None]:
        """(intact, entries, head hash, first problem): every entry's hash, its link to the one
        before and gap-free sequence numbers (a removed entry breaks one of them)."""
        return audit_chain.verify(self.audit_entries(), entry_hash)

    # ------------------------------------------------------------ durability

    def _durable(self, on: bool) -> None:
        """PostgreSQL: the session's following statements commit synchronously (or not)."""
        if self.db.dialect == "postgresql":
            self.db.execute(f"SET synchronous_commit = {'on' if on else 'off'}")

    def _commit_durably(self) -> None:
        if self.db.dialect == "sqlite":
            self.commit()
            self.db.execute("PRAGMA synchronous=FULL")
            try:    # one fsync'd commit: WAL order carries the earlier ones with it
                self.db.execute("INSERT INTO vault_writers (writer, synced_at) VALUES (?, ?) "
                                "ON CONFLICT (writer) DO UPDATE SET synced_at = excluded.synced_at",
                                (self.writer, _now()))
                self.commit()
            finally:
                self.db.execute("PRAGMA synchronous=NORMAL")
        else:
            self.db.commit()

    def sync(self) -> None:
        """Make every commit of this session durable (one synchronous commit)."""
        with self.lock:
            if self.db.dialect == "postgresql":
                self._durable(True)
                try:        # one synchronous commit: WAL order carries the earlier ones with it
                    self.db.execute("INSERT INTO vault_writers (writer, synced_at) VALUES (?, ?) "
                                    "ON CONFLICT (writer) DO UPDATE SET synced_at = excluded.synced_at",
                                    (self.writer, _now()))
                finally:
                    self._durable(False)
            else:
                self._commit_durably()

    def close(self) -> None:
        with self.lock:
            try:
                self.db.rollback()
            finally:
                self.db.close()


@dataclass
class Sealed:
    token: str
    key_id: str
    kind: str
    fingerprint: bytes
    nonce: bytes
    ct: bytes
    variant: int = 0


class SharedVault:
    """Pseudonym -> original, in a shared Store, for the pseudonymiser and `reidentify`.

    The interface of the segment vault it replaces (put_many, put_raw, lookup, sync, close),
    so core.pseudonymise.runtime and the Beam transform use it unchanged."""

    def __init__(self, store: Store, key: bytes, path: Path | None = None):
        if len(key) != 32:
            raise VaultError("vault key: expected 32 bytes (AES-256)")
        self.store, self.aead = store, AESGCM(key)
        self.path = path                     # the embedded default's directory (None on PostgreSQL)
        self._fp = KeyedHash(hmac.new(key, b"archiefstroom vault fingerprint v1", hashlib.sha256).digest())
        self._known: dict[tuple[str, str], bytes] = {}
        self._last_value: dict[tuple[str, str], str] = {}     # spelling last stored or confirmed per token
        self._pending_raw: list[Sealed] = []
        self.written = 0
        self.collisions = 0
        self._check_key()

    @staticmethod
    def new_key() -> bytes:
        return AESGCM.generate_key(bit_length=256)

    def _check_key(self) -> None:
        nonce = secrets.token_bytes(12)
        mine = base64.b64encode(nonce + self.aead.encrypt(nonce, _CANARY, b"canary")).decode()
        stored = base64.b64decode(self.store.set_meta_once("key_canary", mine))
        try:
            self.aead.decrypt(stored[:12], stored[12:], b"canary")
        except Exception:
            raise VaultError(f"the vault at {self.store.where} was made with another vault key: refused") from None

    # ------------------------------------------------------------ sealing

    def fingerprint(self, kind: str, label: str, value: str) -> bytes:
        """Keyed hash of the value as tokens see it (normalised): equal for two notations of one
        person, different for two people."""
        norm = normalise(label, value) if kind == "token" else value
        return self._fp.digest(f"{kind}\x1f{label}\x1f{norm}".encode("utf-8"))[:16]

    def seal(self, kind: str, token: str, key_id: str, label: str, value: str, variant: int = 0,
             fingerprint: bytes | None = None) -> Sealed:
        nonce = os.urandom(12)
        aad = f"{kind}\x1f{token}\x1f{key_id}".encode()
        ct = self.aead.encrypt(nonce, plaintext(label, value), aad)
        return Sealed(token, key_id, kind, fingerprint or self.fingerprint(kind, label, value), nonce, ct, variant)

    def _open(self, kind: str, token: str, key_id: str, nonce: bytes, ct: bytes) -> dict:
        try:
            return json.loads(self.aead.decrypt(bytes(nonce), bytes(ct), f"{kind}\x1f{token}\x1f{key_id}".encode()))
        except Exception as exc:   # wrong key or tampered entry: refuse, do not guess
            raise VaultError("vault entry cannot be decrypted with this vault key") from exc

    # ------------------------------------------------------------ writing

    def put_many(self, key_id: str, mappings: dict[str, tuple[str, str]]) -> int:
        """Store token -> (label, original). Idempotent for the same person; a token that already
        stands for someone else raises TokenCollision after the other entries are stored."""
        before = self.written
        if self.put_batch(key_id, [mappings])[0]:
            raise TokenCollision("a token already stands for another value")
        return self.written - before

    def put_batch(self, key_id: str, items: list[dict[str, tuple[str, str]]]) -> list[set[str]]:
        """Store the mappings of many records (a bundle) in one write; returns, per record, the
        tokens refused because they already stand for another value (empty: all stored or known).

        The database decides who was first (primary key, ON CONFLICT), so a retried bundle, a rival
        writer or two people under one token in the same bundle all end the same way: the first
        value stays, the later record is refused, recorded in vault_collisions and logged without
        its value."""
        refused: list[set[str]] = [set() for _ in items]
        rows: dict[tuple[str, str], Sealed] = {}
        waiting: list[tuple[int, str, str, bytes]] = []        # (record, token, value, fingerprint)
        for n, mappings in enumerate(items):
            for token, (label, value) in mappings.items():
                k = (token, key_id)
                if self._last_value.get(k) == value:          # the same spelling stored before: done
                    continue
                fp = self.fingerprint("token", label, value)
                known = self._known.get(k)
                if known == fp:
                    self._last_value[k] = value
                    continue
                if known is not None:
                    refused[n].add(token)
                    continue
                first = rows.get(k)
                if first is None:
                    rows[k] = self.seal("token", token, key_id, label, value, fingerprint=fp)
                elif first.fingerprint != fp:
                    refused[n].add(token)                    # two people under one token in this batch
                    continue
                waiting.append((n, token, value, fp))
        with self.store.lock:
            raw, self._pending_raw = self._pending_raw, []
            _, found = self._insert([*rows.values(), *raw])
        if len(self._last_value) >= _CACHE_MAX:
            self._last_value.clear()
        for n, token, value, fp in waiting:
            if found.get((token, key_id)):
                self._last_value[(token, key_id)] = value
            else:
                refused[n].add(token)
        for r in raw:
            if found.get((r.token, r.key_id)) is False:      # 128-bit raw refs: only if tampered with
                log.error("vault: raw reference %s already holds another payload: not stored", r.token)
        clash = sorted({(token, key_id) for tokens in refused for token in tokens})
        if clash:
            self._record_collisions(clash)
        return refused

    def put_raw(self, key_id: str, event_id: str, payload: str) -> str:
        """Seal an original raw payload; returns its reference. The reference names the event and
        the payload's hash (a re-fetched event with another payload is another entry). Written
        with the next put or at sync()."""
        digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
        ref = "raw:" + hashlib.sha256(f"{event_id}\x1f{digest}".encode()).hexdigest()[:32]
        if (ref, key_id) not in self._known:
            with self.store.lock:
                self._pending_raw.append(self.seal("raw", ref, key_id, "RAW", payload))
        return ref

    def _insert(self, rows: list[Sealed]) -> tuple[int, dict[tuple[str, str], bool]]:
        """Insert what is new; returns (rows inserted, {(token, key id): same value as stored?}).

        PostgreSQL: one statement and a (cheap, asynchronous) commit per call: a transaction
        held across records could deadlock with another worker inserting the same people in
        another order. SQLite: one writer at a time anyway, so calls are grouped into one
        transaction (BEGIN IMMEDIATE) committed every GROUP_SECONDS, at sync() and before
        any read by another statement of this process that needs it."""
        if not rows:
            return 0, {}
        db = self.store.db
        rows = sorted({(r.token, r.key_id): r for r in rows}.values(), key=lambda r: (r.token, r.key_id))
        inserted: set[tuple[str, str]] = set()
        now = _now()
        try:
            self.store.begin_write()
            for i in range(0, len(rows), _CHUNK):
                chunk = rows[i:i + _CHUNK]
                marks = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
                params = [v for r in chunk for v in (r.token, r.key_id, r.variant, r.kind, r.fingerprint,
                                                     r.nonce, r.ct, now)]
                got = db.execute("INSERT INTO vault_entries (token, key_id, variant, kind, fingerprint, nonce, ct, "
                                 f"created_at) VALUES {marks} ON CONFLICT (token, key_id, variant) DO NOTHING "
                                 "RETURNING token, key_id", params)
                inserted.update((t, k) for t, k in got)
            rest = [(r.token, r.key_id) for r in rows if (r.token, r.key_id) not in inserted]
            # PostgreSQL: the INSERT committed itself, and a rival's row it met is committed too
            # (ON CONFLICT waited for it), so the next statement's snapshot sees it
            stored = self._fingerprints(rest) if rest else {}
            self.store.end_write()
        except BaseException:
            self.store.abort_write()
            raise
        found = {}
        for r in rows:
            k = (r.token, r.key_id)
            same = k in inserted or r.fingerprint in stored.get(k, ())
            found[k] = same
            if same:
                self._remember(k, r.fingerprint)
        self.written += len(inserted)
        return len(inserted), found

    def _fingerprints(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], set[bytes]]:
        out: dict[tuple[str, str], set[bytes]] = {}
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i:i + _CHUNK]
            where = " OR ".join(["(token = ? AND key_id = ?)"] * len(chunk))
            for t, k, fp in self.store.db.execute(f"SELECT token, key_id, fingerprint FROM vault_entries WHERE {where}",
                                                  [v for pair in chunk for v in pair]):
                out.setdefault((t, k), set()).add(bytes(fp))
        return out

    def _remember(self, k: tuple[str, str], fp: bytes) -> None:
        if len(self._known) >= _CACHE_MAX:
            self._known.clear()
        self._known[k] = fp

    def _record_collisions(self, clash: list[tuple[str, str]]) -> None:
        """Record refused collisions (token and key id, never the value)."""
        self.collisions += len(clash)
        with self.store.lock:
            self.store.db.executemany("INSERT INTO vault_collisions (at, token, key_id, writer) VALUES (?, ?, ?, ?)",
                                      [(_now(), t, k, self.store.writer) for t, k in clash])
            self.store.commit()
        for t, k in clash:
            log.warning("vault: token %s (key %s) already stands for another value: refused, not merged", t, k)

    def import_rows(self, rows: Iterable[tuple[str, str, str, str, str]]) -> dict[str, int]:
        """Legacy (kind, token, key_id, label, value) rows: stored like new ones, except that a
        token which already stood for another value keeps it as a further variant (the old vault
        held both; dropping one would lose a person, merging would be wrong)."""
        counts = {"read": 0, "stored": 0, "known": 0, "ambiguous": 0}
        for kind, token, key_id, label, value in rows:
            counts["read"] += 1
            sealed = self.seal(kind, token, key_id, label, value)
            with self.store.lock:
                n, found = self._insert([sealed])
                if n:
                    counts["stored"] += 1
                    continue
                if found[(token, key_id)]:
                    counts["known"] += 1
                    continue
                variants = self.store.db.execute("SELECT max(variant) FROM vault_entries WHERE token = ? AND key_id = ?",
                                                 (token, key_id))
                self.store.commit()
                sealed.variant = (variants[0][0] or 0) + 1
                self._insert([sealed])
                counts["ambiguous"] += 1
        self.sync()
        return counts

    def sync(self) -> None:
        """Pending raw payloads written, and everything durable (end of every bundle)."""
        with self.store.lock:
            raw, self._pending_raw = self._pending_raw, []
            if raw:
                self._insert(raw)
            self.store.sync()

    def close(self) -> None:
        self.sync()

    # ------------------------------------------------------------ reading

    def lookup(self, ref: str, key_id: str | None = None) -> list[Revealed]:
        """The original(s) under a token, by the primary-key index (never a scan). More than one
        only for a legacy token imported with variants, or one token under several key ids."""
        with self.store.lock:
            raw, self._pending_raw = self._pending_raw, []
            if raw:                 # this process's own payloads not yet written
                self._insert(raw)
            if key_id:
                rows = self.store.db.execute("SELECT kind, token, key_id, nonce, ct FROM vault_entries "
                                             "WHERE token = ? AND key_id = ? ORDER BY variant", (ref, key_id))
            else:
                rows = self.store.db.execute("SELECT kind, token, key_id, nonce, ct FROM vault_entries "
                                             "WHERE token = ? ORDER BY key_id, variant", (ref,))
            self.store.commit()
        out = []
        for kind, token, kid, nonce, ct in rows:
            plain = self._open(kind, token, kid, nonce, ct)
            out.append(Revealed(token, kid, plain["label"], plain["value"]))
        return out

    def collision_count(self) -> int:
        with self.store.lock:
            rows = self.store.db.execute("SELECT count(*) FROM vault_collisions")
            self.store.commit()
        return rows[0][0]


def read_segments(directory: Path, key: bytes) -> Iterable[tuple[str, str, str, str, str]]:
    """The rows of a vault in the segment-file format before issue 16 (`segment-*.jsonl`,
    one JSON object per line: kind, ref, key_id, nonce, ct), decrypted with its vault key."""
    aead = AESGCM(key)
    for seg in sorted(Path(directory).glob("segment-*.jsonl")):
        with open(seg, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    aad = f"{row['kind']}\x1f{row['ref']}\x1f{row['key_id']}".encode()
                    plain = json.loads(aead.decrypt(base64.b64decode(row["nonce"]), base64.b64decode(row["ct"]), aad))
                except json.JSONDecodeError:
                    if lineno > 1 and not line.endswith("\n"):
                        log.warning("%s: last line cut short (a crash while writing): skipped", seg.name)
                        continue
                    raise VaultError(f"{seg.name}:{lineno}: not a vault entry") from None
                except Exception:
                    raise VaultError(f"{seg.name}:{lineno}: cannot be decrypted with this vault key") from None
                yield row["kind"], row["ref"], row["key_id"], plain["label"], plain["value"]


def read_legacy_audit(path: Path) -> tuple[list[dict], bool]:
    """The entries of a JSON-lines audit log before issue 16, and whether its chain is intact."""
    if not Path(path).exists():
        return [], True
    entries = [json.loads(ln) for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip()]
    prev, ok = GENESIS, True
    for e in entries:
        if e.get("prev") != prev or entry_hash(e) != e.get("hash"):
            ok = False
            break
        prev = e["hash"]
    return entries, ok
