"""Keeping the catalog current: index a committed batch from its ledger and objects, follow the
sink's announcements (`catalog run`), or rebuild everything from the bucket (`catalog rebuild`).

Both paths go through `index_ledger`, so a rebuilt index equals the live one. The ledger is
the authority (every offset's fate); the announcement only says which ledger to read. A
batch is indexed once (the `batches` table), so announcements repeated after a crash, and
announcements that arrive while a rebuild ran, change nothing.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.catalog.index import Catalog
from archiefstroom.core import catalog as core
from archiefstroom.core import layout
from archiefstroom.ground import kafka as kafka_clients

log = logging.getLogger(__name__)


@dataclass
class Indexed:
    ledgers: int = 0
    records: int = 0
    outcomes: int = 0
    skipped: int = 0      # ledgers indexed before (repeated announcement, rebuild overlap)


def index_ledger(catalog: Catalog, store: ArchiveStore, ledger_key: str, out: Indexed | None = None) -> Indexed:
    """Index one committed batch: its archived records (read from its objects) and every other fate."""
    out = out or Indexed()
    if catalog.indexed(ledger_key):
        out.skipped += 1
        return out
    doc = store.get_json(ledger_key)
    if doc is None:
        raise FileNotFoundError(f"ledger {ledger_key} is not in the bucket")
    wanted: dict[str, set[int]] = defaultdict(set)
    outcomes = []
    for e in doc.get("entries", []):
        if e["kind"] == "archived":
            wanted[e["object"]].add(e["offset"])
        else:
            outcomes.append({**e, "topic": doc["topic"], "partition": doc["partition"]})
    entries = []
    for key in sorted(wanted):
        records = store.records(key)
        if records is None:
            raise FileNotFoundError(f"object {key} named by ledger {ledger_key} is not in the bucket")
        entries += [core.entry_of(r, key) for r in records if r["source"]["offset"] in wanted[key]]
    out.records += catalog.index(entries)
    catalog.record_outcomes(ledger_key, outcomes, len(entries))
    out.outcomes += len(outcomes)
    out.ledgers += 1
    return out


def ledger_keys(store: ArchiveStore) -> list[str]:
    return sorted(k for k in store.keys(layout.LEDGER_PREFIX + "/") if k.endswith(".json"))


def rebuild(cfg, catalog: Catalog) -> Indexed:
    """The index from the bucket alone: every ledger and the objects it names."""
    store = ArchiveStore(cfg.s3)
    catalog.clear()
    out = Indexed()
    for key in ledger_keys(store):
        index_ledger(catalog, store, key, out)
    return out


class Follower:
    """Follows the announcement topic and indexes each announced batch, then commits the
    topic's offsets under the catalog's consumer group (`catalog.consumer_group`): a crash
    re-reads at most the batches since the last commit, which the catalog skips."""

    def __init__(self, cfg, catalog: Catalog, partitions: list[int] | None = None):
        self.cfg, self.catalog = cfg, catalog
        self.store = ArchiveStore(cfg.s3)
        self.consumer = kafka_clients.consumer(cfg.kafka, group_id=cfg.catalog.consumer_group)
        self.meta = kafka_clients.consumer(cfg.kafka)      # for log ends (it reassigns itself)
        tps = kafka_clients.partitions(self.consumer, cfg.catalog.announce_topic)
        self.tps = [tp for tp in tps if partitions is None or tp.partition in partitions]
        self.consumer.assign(self.tps)
        for tp in self.tps:
            self.consumer.seek(tp, kafka_clients.resume_offset(self.consumer, tp))
        self.totals = Indexed()

    def poll_once(self, timeout_ms: int = 500) -> int:
        """Index what one poll brings; returns the number of announcements handled."""
        polled = self.consumer.poll(timeout_ms=timeout_ms, max_records=500)
        handled, ends = 0, {}
        for tp, messages in polled.items():
            for m in messages:
                try:
                    ann = core.decode_announcement(m.value or b"")
                except Exception:  # not ours: say so once per message, never stop indexing
                    log.error("catalog topic %s/%s/%s: not a catalog_announcement; skipped", tp.topic,
                              tp.partition, m.offset)
                    ends[tp] = m.offset + 1
                    continue
                index_ledger(self.catalog, self.store, ann["ledger"], self.totals)
                ends[tp] = m.offset + 1
                handled += 1
        if ends:
            kafka_clients.commit(self.consumer, ends)
        return handled

    def lag(self) -> int:
        ends = kafka_clients.high_watermarks(self.meta, self.tps)
        return sum(max(0, end - self.consumer.position(tp)) for tp, end in ends.items())

    def catch_up(self, timeout_s: float = 60.0) -> Indexed:
        """Index until the topic's end as it is now (asked once: announcements that arrive
        meanwhile are for the next call)."""
        deadline = time.monotonic() + timeout_s
        ends = kafka_clients.high_watermarks(self.meta, self.tps)
        while any(self.consumer.position(tp) < end for tp, end in ends.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"catalog: announcements still unread after {timeout_s:.0f} s")
            self.poll_once()
        return self.totals

    def follow(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.poll_once()

    def close(self) -> None:
        self.consumer.close()
        self.meta.close()

    def __enter__(self) -> "Follower":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class BackgroundIndexer:
    """`catalog.index_in_run`: the catalog follower on a thread of the `run` process, so the
    embedded default needs no second command; it catches up before `run` returns."""

    def __init__(self, cfg):
        self.cfg, self.stop = cfg, threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True, name="catalog-indexer")

    def start(self) -> "BackgroundIndexer":
        self.thread.start()
        return self

    def _loop(self):
        try:
            with Catalog.open(self.cfg) as catalog, Follower(self.cfg, catalog) as follower:
                follower.follow(self.stop)
                follower.catch_up()
        except Exception as exc:   # the archive is unaffected, only the index is behind: say so, go on
            log.error("catalog indexer stopped: %s (run `archiefstroom catalog run` to catch up)", exc)

    def finish(self, timeout_s: float = 120.0) -> None:
        self.stop.set()
        self.thread.join(timeout_s)
