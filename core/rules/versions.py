"""Rule 10's version chain: which archived version an edit or a tombstone follows.

The engine sees one event at a time, but "linked to the previous version" needs every
version of the object archived so far. A keyed Beam DoFn (transforms/rules.py,
LinkVersions) keeps one `Chain` per object id and calls `link()` for each archived edit
or delete. A chain is ordered by edit time, not by arrival, so a replay links exactly as
the first run did; an edit that arrives after a later one is placed where it belongs
(the later one keeps the link it was archived with: nothing archived is changed, and
the trace of the late one says so).

The original needs no state: by the SocialEvent contract a content item's event id is
its object id. Deletes come last in a chain whatever their timestamps say: nothing is
edited after a delete.

Durability: the sink puts each archived edit and delete on a compacted topic
(`changelog()`: key = its event id, value = object, kind and time; no text, no actor),
and `restore()` rebuilds the chains from that topic when the pipeline starts again.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Iterable

RULE = "R10-versions"
VERSIONED = ("edit", "delete")
_EARLIEST = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Version:
    event_id: str
    kind: str                      # edit | delete
    at: dt.datetime | None         # edit time (edited_at, else created_at)

    def order(self) -> tuple:
        return (self.kind == "delete", self.at or _EARLIEST, self.event_id)


@dataclass
class Chain:
    """The archived edits and deletes of one object (the original is implied)."""
    versions: dict[str, Version] = field(default_factory=dict)

    def add(self, v: Version) -> None:
        self.versions[v.event_id] = v


def version_of(event: dict) -> Version | None:
    kind = event["event_type"]
    if kind not in VERSIONED:
        return None
    at = (event.get("edited_at") or event.get("created_at")) if kind == "edit" else event.get("created_at")
    return Version(event["event_id"], kind, at)


@dataclass(frozen=True)
class Link:
    supersedes: str      # event id of the version this one follows
    original: str        # event id of the original (= object id)
    version: int         # 1 = original, 2 = first edit, ...
    later_seen: int      # versions with a later edit time that were archived before this one


def place(chain: Chain, event: dict) -> Link | None:
    """Where `event` (an edit or delete) sits in `chain`; remembers it. None for other events."""
    v = version_of(event)
    if v is None:
        return None
    others = [x for x in chain.versions.values() if x.event_id != v.event_id]
    earlier = sorted((x for x in others if x.order() < v.order()), key=Version.order)
    later = sum(1 for x in others if x.order() > v.order())
    chain.add(v)
    original = event["object_id"]
    return Link(supersedes=earlier[-1].event_id if earlier else original, original=original,
                version=len(earlier) + 2, later_seen=later)


def link(chain: Chain, record: dict) -> dict:
    """`record` (an archived edit or delete, decision filled) linked into its object's chain."""
    found = place(chain, record["event"])
    if found is None:
        return record
    d = dict(record.get("decision") or {})
    d.update(supersedes=found.supersedes, original=found.original, version=found.version)
    inputs = {"version": str(found.version),
              "follows": "original" if found.supersedes == found.original else "previous edit"}
    if found.later_seen:
        inputs["later_versions_archived_first"] = str(found.later_seen)
    d["rules"] = [{**t, "inputs": {**(t.get("inputs") or {}), **inputs}} if t.get("rule") == RULE and t.get("fired")
                  else t for t in d.get("rules") or []]
    return {**record, "decision": d}


# -- the compacted changelog topic ------------------------------------------------

def changelog(record: dict) -> tuple[bytes, bytes] | None:
    """(key, value) to keep on the versions topic once `record` is durable in the archive."""
    ev = record["event"]
    v = version_of(ev)
    if v is None:
        return None
    doc = {"v": 1, "object_id": ev["object_id"], "event_id": v.event_id, "kind": v.kind,
           "at": v.at.isoformat() if v.at else None}
    return v.event_id.encode(), json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def restore(values: Iterable[bytes]) -> tuple[dict[str, Chain], int]:
    """Chains per object id from changelog values, and how many values could not be read."""
    chains: dict[str, Chain] = {}
    bad = 0
    for value in values:
        try:
            doc = json.loads(value)
            at = dt.datetime.fromisoformat(doc["at"]) if doc.get("at") else None
            v = Version(doc["event_id"], doc["kind"], at)
            chains.setdefault(doc["object_id"], Chain()).add(v)
        except (ValueError, KeyError, TypeError):
            bad += 1
    return chains, bad


def simulate(records: Iterable[dict]) -> list[dict]:
    """Link archived records in arrival order without Beam (for expected outcomes in tests)."""
    chains: dict[str, Chain] = {}
    return [link(chains.setdefault(r["event"]["object_id"], Chain()), r) if version_of(r["event"]) else r
            for r in records]
