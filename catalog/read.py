"""Reading through the catalog: find an event's records and fates by index, then read only the
objects that hold them (one GET per object, not a scan of the ledgers).

`lookup` answers in the shape `explain` and the webcare-feedback stage use:
  {"kind": "archived", "object": key, "record": archive record, "source": {topic, partition, offset}}
  {"kind": "dropped" | "held" | "dead_letter" | ..., "reason", "detail", "source"}
"""
from __future__ import annotations

import threading

from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.catalog.index import Catalog
from archiefstroom.core import layout
from archiefstroom.core.catalog import Entry
from archiefstroom.ground import pseudonymisation


def records(store: ArchiveStore, entries: list[Entry]) -> list[dict]:
    """The archive records behind `entries`, in their order (each object read once)."""
    objects: dict[str, list[dict]] = {}
    out = []
    for e in entries:
        if e.object_key not in objects:
            objects[e.object_key] = store.records(e.object_key)
            if objects[e.object_key] is None:
                raise FileNotFoundError(f"{e.object_key} is in the catalog but not in the bucket")
        found = [r for r in objects[e.object_key] if r["source"]["offset"] == e.offset
                 and r["event"]["event_id"] == e.event_id and (r.get("record_version") or 1) == e.record_version]
        if not found:
            raise LookupError(f"{e.event_id} v{e.record_version} is not in {e.object_key} at offset {e.offset}")
        out.append(found[0])
    return out


def record(cfg, entry: Entry) -> dict:
    """One archived record in full (decision trace, retention, burgerbrief, raw payload)."""
    return records(ArchiveStore(cfg.s3), [entry])[0]


def lookup(cfg, event_id: str, catalog: Catalog, store: ArchiveStore | None = None) -> list[dict]:
    """Everything the archive knows of an event id: archived record versions and other fates
    (those are indexed under the keyed token of the id, as the ledgers hold them)."""
    store = store or ArchiveStore(cfg.s3)
    entries = catalog.entries(event_id)
    found = [{"kind": "archived", "object": e.object_key, "record": r,
              "source": {"topic": e.topic, "partition": e.partition, "offset": e.offset}}
             for e, r in zip(entries, records(store, entries))]
    token = layout.ledger_event_id(event_id, pseudonymisation.keyring_for(cfg).token)
    for o in catalog.outcomes(sorted({event_id, token})):
        found.append({"kind": o["kind"], "reason": o["reason"], "detail": o["detail"], "source": o["source"]})
    return found


def history(cfg, object_id: str, catalog: Catalog) -> list[dict]:
    """The archived versions of one post or reaction (original, edits, tombstone, webcare
    versions), in chain order."""
    return records(ArchiveStore(cfg.s3), catalog.versions(object_id))


class CatalogLookup:
    """`lookup` as a picklable callable for a pipeline stage (webcare verdicts): the catalog and
    store are opened once per worker process, on first use."""

    def __init__(self, cfg):
        self.cfg = cfg
        self._open = None
        self._lock = threading.Lock()

    def __getstate__(self):
        return {"cfg": self.cfg}

    def __setstate__(self, state):
        self.__init__(state["cfg"])

    def __call__(self, event_id: str) -> list[dict]:
        with self._lock:
            if self._open is None:
                self._open = (Catalog.open(self.cfg), ArchiveStore(self.cfg.s3))
            catalog, store = self._open
            return lookup(self.cfg, event_id, catalog, store)

