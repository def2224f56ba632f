"""The archivists' read side: list and read objects, find an event, follow a post's versions,
summarise what the archive holds. Reads the bucket only (objects and ledgers).

`lookup` scans the ledgers: fine for the CLI and for webcare verdicts at their rate
(a few per hour); the catalog (issue 12) replaces it with an index.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from archiefstroom.archive import format as avro
from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.core import layout
from archiefstroom.ground import pseudonymisation


def store(cfg) -> ArchiveStore:
    return ArchiveStore(cfg.s3)


def list_objects(cfg, prefix: str = "") -> list[dict]:
    base = cfg.s3.prefix + "/" + prefix.lstrip("/") if prefix else cfg.s3.prefix + "/"
    return [o for o in store(cfg).objects(base) if o["Key"].endswith(avro.EXTENSION)]


def read_object(cfg, key: str) -> list[dict]:
    body = store(cfg).get(key)
    if body is None:
        raise FileNotFoundError(key)
    return avro.decode(body)


def ledgers(cfg, topic: str | None = None) -> list[dict]:
    s = store(cfg)
    prefix = f"{layout.LEDGER_PREFIX}/" + (f"{layout.safe(topic)}/" if topic else "")
    return [s.get_json(k, {}) for k in s.keys(prefix)]


def lookup(cfg, event_id: str) -> list[dict]:
    """Everything the archive knows of an event id: archived records and ledger entries."""
    token = pseudonymisation.keyring_for(cfg).token
    wanted = {event_id, layout.ledger_event_id(event_id, token)}
    return _find(cfg, lambda eid: eid in wanted, lambda rec: rec["event"]["event_id"] == event_id)


class EventLookup:
    """`lookup` as a picklable callable for a pipeline stage (webcare verdicts)."""

    def __init__(self, cfg):
        self.cfg = cfg

    def __call__(self, event_id: str) -> list[dict]:
        return lookup(self.cfg, event_id)


def history(cfg, object_id: str) -> list[dict]:
    """The archived versions of one post or reaction (original, edits, tombstone), in chain order."""
    def ours(eid: str) -> bool:
        return eid == object_id or eid.startswith(object_id + ":edit:") or eid == object_id + ":delete"
    found = _find(cfg, ours, lambda rec: rec["event"]["object_id"] == object_id and ours(rec["event"]["event_id"]))
    records = [f["record"] for f in found if f["kind"] == "archived"]
    return sorted(records, key=lambda r: ((r.get("decision") or {}).get("version") or 1, r["event"]["event_id"],
                                          r.get("record_version") or 1))


def _find(cfg, wanted, matches) -> list[dict]:
    """Ledger entries whose event id is `wanted`, with the archived records they point at."""
    found = []
    for doc in ledgers(cfg):
        for e in doc.get("entries", []):
            if not e.get("event_id") or not wanted(e["event_id"]):
                continue
            source = {"topic": doc["topic"], "partition": doc["partition"], "offset": e["offset"]}
            if e["kind"] == "archived":
                for rec in read_object(cfg, e["object"]):
                    if matches(rec) and rec["source"]["offset"] == e["offset"]:
                        found.append({"kind": "archived", "object": e["object"], "record": rec, "source": source})
            else:
                found.append({"kind": e["kind"], "reason": e.get("reason"), "detail": e.get("detail", {}),
                              "source": source})
    return found


@dataclass
class Summary:
    """What the archive holds, from the committed ledgers (no object needs to be read)."""
    objects: int = 0
    archived: Counter = field(default_factory=Counter)      # (platform, account, retention dir) -> records
    outcomes: Counter = field(default_factory=Counter)      # kind -> count (archived, dead_letter, dropped, ...)
    reasons: Counter = field(default_factory=Counter)       # (kind, reason) -> count, for everything not archived
    rules: Counter = field(default_factory=Counter)         # archiving rule that decided -> archived records


def summarise(cfg, topic: str | None = None) -> Summary:
    out, objects = Summary(), set()
    for doc in ledgers(cfg, topic):
        for e in doc.get("entries", []):
            out.outcomes[e["kind"]] += 1
            if e["kind"] == "archived":
                objects.add(e["object"])
                parts = layout.parse_object_key(e["object"]) or {}
                ret = "-".join(parts.get("retention", "?").split("-")[:2])  # class-category, without the date
                out.archived[(e.get("platform", "?"), e.get("account", "?"), ret)] += 1
                out.rules[e.get("rule") or "-"] += 1
            else:
                out.reasons[(e["kind"], e.get("reason") or "")] += 1
    out.objects = len(objects)
    return out
