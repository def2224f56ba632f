"""Which (event id, record version) pairs a topic's partitions have archived, per creation day.

The store (core.archived_ids) keeps one small delta per batch and day, compacted
into snapshots; this cache reads a day the first time a batch meets it, so a
writer's start-up does not depend on the archive's size, only on the days in use.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.core import archived_ids

Ids = set[tuple[str, int]]


class ArchivedIds:
    MAX_DAYS = 400   # (partition, creation day) sets kept in memory (about a year of a live stream)

    def __init__(self, store: ArchiveStore, topic: str, pool: ThreadPoolExecutor):
        self.store, self.topic, self.pool = store, topic, pool
        self.days: OrderedDict[tuple[int, object], Ids] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, partition: int, day, committed: int | None) -> Ids:
        """The ids archived in `partition` of events created on `day` (`committed`: the
        partition's committed offset; deltas beyond it belong to an unfinished batch)."""
        with self._lock:
            ids = self.days.get((partition, day))
            if ids is not None:
                self.days.move_to_end((partition, day))
                return ids
        ids = self._load(partition, day, committed)
        with self._lock:
            self.days[(partition, day)] = ids
            while len(self.days) > self.MAX_DAYS:
                self.days.popitem(last=False)
        return ids

    def _load(self, partition: int, day, committed: int | None) -> Ids:
        keys = list(self.store.keys(archived_ids.day_prefix(self.topic, partition, day)))
        ids: Ids = set()
        through, late_done = -1, set()
        snap = archived_ids.newest_snapshot(keys)
        if snap:
            body = self.store.get_json(snap, {})
            ids.update(map(tuple, body.get("ids", [])))
            through, late_done = body.get("through", -1), set(body.get("late", []))
        deltas = archived_ids.deltas_to_read(keys, committed, through=through, late_in_snapshot=late_done)
        for body in self.pool.map(lambda k: self.store.get_json(k, {}), deltas):
            ids.update(map(tuple, body.get("ids", [])))
        if len(deltas) > archived_ids.COMPACT_AFTER:
            through = max(through, archived_ids.through_of(deltas))
            late = sorted(late_done | {k for k in deltas if ".late-" in k})
            self.store.put_json(archived_ids.snapshot_key(self.topic, partition, day, through),
                                {"through": through, "late": late, "ids": sorted(ids)}, redo=False)
        return ids

    def record(self, partition: int, start: int, end: int, new: dict, late_tag: str | None, redo: bool) -> None:
        """Store a batch's newly archived ids (creation day -> ids) as deltas."""
        def put(day) -> None:
            self.store.put_json(archived_ids.delta_key(self.topic, partition, day, start, end, late=late_tag),
                                {"ids": sorted(new[day])}, redo=redo)
        list(self.pool.map(put, sorted(new)))
