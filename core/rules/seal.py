"""Sealed threads (issue 17): when a thread's harvest window closes, say what the archive holds of it.

Pure. A keyed Beam DoFn (transforms/rules.py, SealThreads) keeps one `ThreadSeal` per
thread key, fed with the thread's final archived records (after pseudonymisation and
retention: the hash is of what the archive stores) and its events not archived by a
rule. An event-time timer at `closes()` turns the state into a SealedThread datum
(schemas/sealed_thread.avsc) with `seal()`.

Hashes. A record's SHA-256 is over its Avro binary encoding (schemaless, the archive's
writer schema): decoding an archived object and encoding the record again gives the
same bytes, so `verify()` recomputes it from the bucket. The seal's own hash is over the
canonical JSON (sorted keys, compact) of its wire form without the `sha256` field.

Durability. The stage puts a note per item on a compacted topic (`rules.threads_topic`)
before the item reaches the sink, so a record committed by the sink is always noted;
`restore()` rebuilds the states when the pipeline starts again. A seal writes its
marker (`sealed_note`) and tombstones the thread's notes once the seal object is in
the bucket. Everything in a seal is derived from event time and the records, never
from the wall clock, so a seal redone after a crash has the same bytes and the same key.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import Iterable, Literal

import fastavro

from archiefstroom import schemas
from archiefstroom.core.envelope import Disposition, Position, thread_key

RULE = "R-late-reaction"
LATE_REASON = f"{RULE}: arrived after the thread was sealed"   # the ledger's reason for a counted one
LATE_FLAG = "late_addendum"
SCHEMA = "sealed_thread"
Late = Literal["count", "addendum"]


def record_sha256(record: dict) -> str:
    """SHA-256 of the archived record's Avro binary encoding (recomputable from the bucket)."""
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schemas.load_for_files("archive_record"), record)
    return hashlib.sha256(buf.getvalue()).hexdigest()


def seal_id(thread: str) -> str:
    return f"seal:{thread}"


@dataclass(frozen=True)
class NotArchived:
    """An event of a thread that a rule did not archive, on its way to the sink through the
    seal stage (counted in the thread's seal; the Disposition goes on unchanged)."""
    thread: str
    disposition: Disposition
    created_at: dt.datetime
    platform: str
    account_type: str

    @property
    def rule(self) -> str:
        return self.disposition.reason.split(":")[0]


@dataclass(frozen=True)
class Restored:
    """A thread's state read back from the threads topic when the pipeline starts."""
    state: "ThreadSeal"


@dataclass(frozen=True)
class Seal:
    """What the writer stores when a window closes: the datum, the retention of its object
    (the root's) and the threads-topic keys the seal makes obsolete."""
    datum: dict
    retention: dict | None
    note_keys: tuple[str, ...]


@dataclass(frozen=True)
class Forget:
    """A thread whose window closed with nothing archived: no seal, its notes are removed."""
    thread: str
    note_keys: tuple[str, ...]


def merge(state: "ThreadSeal", restored: "ThreadSeal") -> None:
    """Fold a restored state into one this run has started (arrival order is not known)."""
    if restored.sealed is not None:
        state.sealed, state.sealed_ids = restored.sealed, restored.sealed_ids
        state.sealed_closes = restored.sealed_closes
        return
    if state.days is None:
        state.platform, state.account_type, state.days = restored.platform, restored.account_type, restored.days
    state.root = state.root or restored.root
    for k, e in restored.records.items():
        state.records.setdefault(k, e)
    for eid, rule in restored.not_archived.items():
        state.not_archived.setdefault(eid, rule)
    state.first_seen = min(filter(None, (state.first_seen, restored.first_seen)), default=None)
    if restored.root is not None and restored.retention:
        state.retention = restored.retention
    state.retention = state.retention or restored.retention


@dataclass(frozen=True)
class Entry:
    event_id: str
    object_id: str
    event_type: str
    record_version: int
    version: int
    created_at: dt.datetime
    sha256: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.event_id, self.record_version)

    def datum(self) -> dict:
        return {"event_id": self.event_id, "object_id": self.object_id, "event_type": self.event_type,
                "record_version": self.record_version, "version": self.version, "created_at": self.created_at,
                "sha256": self.sha256}


def entry_of(record: dict) -> Entry:
    ev, d = record["event"], record.get("decision") or {}
    return Entry(ev["event_id"], ev["object_id"], ev["event_type"], int(record.get("record_version") or 1),
                 int(d.get("version") or 1), _utc(ev["created_at"]), record_sha256(record))


def is_root(record: dict) -> bool:
    """The thread's original root post (its edits and deletes are versions: listed as records)."""
    ev = record["event"]
    return thread_key(ev) == ev["event_id"] and ev["event_type"] not in ("edit", "delete")


@dataclass
class ThreadSeal:
    """What one thread's harvest window holds so far."""
    thread: str
    platform: str = ""
    account_type: str = ""
    days: int | None = None
    root: Entry | None = None
    records: dict[tuple[str, int], Entry] = field(default_factory=dict)
    not_archived: dict[str, str] = field(default_factory=dict)      # event id -> rule
    first_seen: dt.datetime | None = None                           # earliest created_at of any item
    retention: dict | None = None                                   # the root's (else the first record's)
    sealed: str | None = None                                       # the seal's sha256, once sealed
    sealed_ids: frozenset = frozenset()
    sealed_closes: dt.datetime | None = None

    def opens(self) -> dt.datetime | None:
        """The root's created_at; without an archived root, the earliest archived record's."""
        if self.root is not None:
            return self.root.created_at
        times = [e.created_at for e in self.records.values()]
        return min(times) if times else None

    def closes(self) -> dt.datetime | None:
        o = self.opens()
        return o + dt.timedelta(days=self.days) if o is not None and self.days else None

    def forget_at(self) -> dt.datetime | None:
        """A thread with nothing archived is forgotten a window after its first item."""
        return self.first_seen + dt.timedelta(days=self.days) if self.first_seen and self.days else None

    def forget_sealed_at(self, hours: float) -> dt.datetime | None:
        """When a sealed thread's ids leave the stage's state (its seal object keeps them)."""
        return self.sealed_closes + dt.timedelta(hours=hours) if self.sealed_closes is not None else None

    def next_timer(self, memory_hours: float) -> dt.datetime | None:
        """When the stage's timer for this thread fires: an open thread's close (or, with nothing
        archived, when it is forgotten), a sealed one's end of memory."""
        if self.sealed is not None:
            return self.forget_sealed_at(memory_hours)
        return self.closes() or self.forget_at()

    def note_keys(self) -> list[str]:
        keys = [_rec_key(*e.key) for e in ([self.root] if self.root else []) + list(self.records.values())]
        return sorted(keys + [_drop_key(eid) for eid in self.not_archived])


def _utc(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def _window_of(state: ThreadSeal, platform: str, account_type: str, days: int, created: dt.datetime) -> None:
    if state.days is None:
        state.platform, state.account_type, state.days = platform, account_type, days
    state.first_seen = min(filter(None, (state.first_seen, created)))


def add_record(state: ThreadSeal, record: dict, days: int, account_type: str, entry: Entry | None = None
               ) -> Literal["added", "known", "late"]:
    """Feed one archived record. "late": created after the window closed (whatever the
    arrival order), or the thread is sealed and the seal does not hold it."""
    e = entry or entry_of(record)
    if state.sealed is not None:
        return "known" if e.key in state.sealed_ids else "late"
    _window_of(state, record["event"]["platform"], account_type, days, e.created_at)
    closes = state.closes()
    if closes is not None and e.created_at > closes:
        return "late"
    known = e.key in state.records or (state.root is not None and state.root.key == e.key)
    if is_root(record) and int(record.get("record_version") or 1) == 1:
        state.root = e
        state.records.pop(e.key, None)
        state.retention = record.get("retention") or state.retention
    else:
        state.records[e.key] = e
        state.retention = state.retention or record.get("retention")
    return "known" if known else "added"


def add_not_archived(state: ThreadSeal, event_id: str, rule: str, created: dt.datetime, platform: str,
                     account_type: str, days: int) -> bool:
    """Feed one event of the thread a rule did not archive; False once the thread is sealed."""
    if state.sealed is not None:
        return False
    _window_of(state, platform, account_type, days, _utc(created))
    state.not_archived[event_id] = rule
    return True


def seal(state: ThreadSeal) -> dict:
    """The SealedThread datum of `state` (its window closed). Deterministic."""
    opens, closes = state.opens(), state.closes()
    counts: dict[str, int] = {}
    for rule in state.not_archived.values():
        counts[rule] = counts.get(rule, 0) + 1
    datum = {"seal_id": seal_id(state.thread), "thread": state.thread,
             "root": state.root.datum() if state.root else None,
             "platform": state.platform, "account_type": state.account_type,
             "window": {"opens": opens, "closes": closes, "days": int(state.days)},
             "reactions": [e.datum() for e in sorted(state.records.values(), key=lambda e: e.key)],
             "not_archived": dict(sorted(counts.items()))}
    datum["sha256"] = digest(datum)
    return datum


def digest(datum: dict) -> str:
    """SHA-256 over the canonical JSON of the seal's wire form, its own `sha256` left out."""
    body = {k: v for k, v in schemas.to_wire({**datum, "sha256": ""}, SCHEMA).items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                          .encode()).hexdigest()


def mark_sealed(state: ThreadSeal, datum: dict) -> None:
    """The thread is sealed: keep only what a later reaction is checked against."""
    state.sealed, state.sealed_ids = datum["sha256"], frozenset(_ids(datum))
    state.sealed_closes = _utc(datum["window"]["closes"])
    state.root, state.records, state.not_archived, state.retention = None, {}, {}, None


def sealed_state(datum: dict) -> ThreadSeal:
    """A sealed thread's state read back from its seal object (a thread the stage forgot)."""
    state = ThreadSeal(datum["thread"])
    mark_sealed(state, datum)
    return state


def forget_sealed(thread: str) -> Forget:
    """The sealed thread leaves the stage's state: its marker on the threads topic goes too."""
    return Forget(thread, (sealed_key(thread),))


def _ids(datum: dict) -> list[tuple[str, int]]:
    rows = ([datum["root"]] if datum.get("root") else []) + list(datum["reactions"])
    return [(r["event_id"], int(r["record_version"])) for r in rows]


def verify(datum: dict, archived: Iterable[dict]) -> list[str]:
    """What does not hold between a seal and the archived records of its thread (empty: all
    holds): the seal's own hash, and each listed record's SHA-256 against the bucket's."""
    problems = []
    if digest(datum) != datum["sha256"]:
        problems.append("the seal's hash does not match its content")
    by_id = {(r["event"]["event_id"], int(r.get("record_version") or 1)): r for r in archived}
    rows = ([datum["root"]] if datum.get("root") else []) + list(datum["reactions"])
    for row in rows:
        rec = by_id.get((row["event_id"], int(row["record_version"])))
        if rec is None:
            problems.append(f"{row['event_id']} (version {row['record_version']}): not in the archive")
        elif record_sha256(rec) != row["sha256"]:
            problems.append(f"{row['event_id']} (version {row['record_version']}): SHA-256 differs")
    return problems


# -- a reaction after the seal --------------------------------------------------

def late_addendum(record: dict, datum_or_id: str, closes: dt.datetime | None) -> dict:
    """`record` archived as a late addendum linked to the seal (flag, context, trace)."""
    sid = datum_or_id
    d = dict(record.get("decision") or {})
    d["flags"] = [*(d.get("flags") or []), *([] if LATE_FLAG in (d.get("flags") or []) else [LATE_FLAG])]
    d["context"] = [*(d.get("context") or []), *([] if sid in (d.get("context") or []) else [sid])]
    inputs = {"seal": sid, "window_closed": closes.isoformat() if closes else ""}
    d["rules"] = [*(d.get("rules") or []), {"rule": RULE, "fired": True, "inputs": inputs,
                                            "outcome": "archived as a late addendum to the sealed thread"}]
    return {**record, "decision": d}


def late_disposition(record: dict, sid: str) -> Disposition:
    ev = record["event"]
    return Disposition(Position.of(record), "dropped", LATE_REASON,
                       event_id=ev["event_id"], detail={"rule": RULE, "seal": sid, "event_type": ev["event_type"]})


def late_reactions(sid: str, outcomes: Iterable[dict], records: Iterable[dict]) -> dict[str, list[str]]:
    """What arrived for the sealed thread `sid` after its seal, by how R-late-reaction dealt with
    it: `counted` (not archived; the ledger's outcomes) and `addendum` (archived, linked to the
    seal) — the count per thread that `archive thread` shows, read back from the archive's own
    fates rather than from a metric per thread."""
    counted = sorted({o["event_id"] for o in outcomes
                      if o.get("reason") == LATE_REASON and (o.get("detail") or {}).get("seal") == sid})
    addenda = sorted({r["event"]["event_id"] for r in records
                      if LATE_FLAG in ((r.get("decision") or {}).get("flags") or [])
                      and sid in ((r.get("decision") or {}).get("context") or [])})
    return {"counted": counted, "addendum": addenda}


# -- the compacted threads topic --------------------------------------------------

def _rec_key(event_id: str, record_version: int) -> str:
    return f"rec|{event_id}|{record_version}"


def _drop_key(event_id: str) -> str:
    return f"drop|{event_id}"


def sealed_key(thread: str) -> str:
    return f"seal|{thread}"


def _dumps(doc: dict) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def record_note(state: ThreadSeal, record: dict, entry: Entry) -> tuple[bytes, bytes]:
    """(key, value) that lets a restarted run know this archived record (no text, no actor)."""
    ret = record.get("retention")
    root = state.root is not None and state.root.key == entry.key
    doc = {"v": 1, "kind": "record", "thread": state.thread, "root": root,
           "platform": state.platform, "account_type": state.account_type, "days": state.days,
           "entry": {**entry.datum(), "created_at": entry.created_at.isoformat()},
           "retention": {**ret, "destroy_after": ret["destroy_after"].isoformat() if ret.get("destroy_after") else None}
           if ret else None}
    return _rec_key(*entry.key).encode(), _dumps(doc)


def dropped_note(state: ThreadSeal, event_id: str, rule: str, created: dt.datetime) -> tuple[bytes, bytes]:
    doc = {"v": 1, "kind": "dropped", "thread": state.thread, "event_id": event_id, "rule": rule,
           "created_at": _utc(created).isoformat(), "platform": state.platform,
           "account_type": state.account_type, "days": state.days}
    return _drop_key(event_id).encode(), _dumps(doc)


def sealed_note(datum: dict) -> tuple[bytes, bytes]:
    doc = {"v": 1, "kind": "sealed", "thread": datum["thread"], "sha256": datum["sha256"],
           "closes": _utc(datum["window"]["closes"]).isoformat(), "ids": [list(i) for i in _ids(datum)]}
    return sealed_key(datum["thread"]).encode(), _dumps(doc)


def restore(values: Iterable[bytes]) -> tuple[dict[str, ThreadSeal], int]:
    """Thread states from the threads topic's values, and how many could not be read."""
    states: dict[str, ThreadSeal] = {}
    sealed: dict[str, dict] = {}
    bad = 0
    for value in values:
        try:
            doc = json.loads(value)
            st = states.setdefault(doc["thread"], ThreadSeal(doc["thread"]))
            if doc["kind"] == "sealed":
                sealed[doc["thread"]] = doc
                continue
            if st.days is None:
                st.platform, st.account_type, st.days = doc["platform"], doc["account_type"], int(doc["days"])
            if doc["kind"] == "record":
                e = doc["entry"]
                entry = Entry(e["event_id"], e["object_id"], e["event_type"], int(e["record_version"]),
                              int(e["version"]), dt.datetime.fromisoformat(e["created_at"]), e["sha256"])
                if doc["root"]:
                    st.root = entry
                    st.retention = _retention(doc.get("retention")) or st.retention
                else:
                    st.records[entry.key] = entry
                    st.retention = st.retention or _retention(doc.get("retention"))
                created = entry.created_at
            elif doc["kind"] == "dropped":
                st.not_archived[doc["event_id"]] = doc["rule"]
                created = dt.datetime.fromisoformat(doc["created_at"])
            else:
                raise ValueError(doc["kind"])
            st.first_seen = min(filter(None, (st.first_seen, created)))
        except (ValueError, KeyError, TypeError):
            bad += 1
    for thread, doc in sealed.items():   # a sealed thread keeps only what late reactions are checked against
        st = states[thread] = ThreadSeal(thread)
        st.sealed, st.sealed_ids = doc["sha256"], frozenset((i[0], int(i[1])) for i in doc["ids"])
        st.sealed_closes = dt.datetime.fromisoformat(doc["closes"])
    return states, bad


def _retention(doc: dict | None) -> dict | None:
    if not doc:
        return None
    until = doc.get("destroy_after")
    return {**doc, "destroy_after": dt.date.fromisoformat(until) if until else None}


def object_key(thread: str) -> str:
    """The seal's object key: one per thread, found again from the thread key alone."""
    return f"_sealed/{hashlib.sha256(thread.encode()).hexdigest()[:32]}.avro"
