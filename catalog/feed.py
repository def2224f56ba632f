"""Keeping the catalog current: index a committed batch from its ledger and objects, follow the
sink's announcements (`catalog run`), or rebuild everything from the bucket (`catalog rebuild`).

Both paths go through `index_ledgers`, so a rebuilt index equals the live one. The ledger is
the authority (every offset's fate); the announcement only says which ledger to read. A
batch is indexed once (the `batches` table), so announcements repeated after a crash, and
announcements that arrive while a rebuild ran, change nothing.

Metrics (ground/metrics.py, `archiefstroom_catalog_*`, docs/observability.md): what the
follower indexed, announcements still unread per partition, when the broker last answered;
`catalog run` serves them with /healthz and /readyz (`start_metrics`).
"""
from __future__ import annotations

import logging
import multiprocessing
import operator
import threading
import time
from collections import defaultdict, deque
from concurrent.futures import Future, ProcessPoolExecutor, wait
from dataclasses import dataclass

from archiefstroom.archive.register import Register
from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.catalog import overlays
from archiefstroom.catalog.index import Catalog
from archiefstroom.core import catalog as core
from archiefstroom.core.catalog import Entry
from archiefstroom.core import layout
from archiefstroom.ground import kafka as kafka_clients
from archiefstroom.ground import metrics as ground_metrics

log = logging.getLogger(__name__)


@dataclass
class Indexed:
    ledgers: int = 0
    records: int = 0
    outcomes: int = 0
    skipped: int = 0      # ledgers indexed before (repeated announcement, rebuild overlap)


@dataclass
class Batch:
    """One committed batch as the catalog takes it: its archived records' entries and the
    ledger's other fates."""
    ledger: str
    entries: list[Entry]
    outcomes: list[dict]


def read_batch(store: ArchiveStore, ledger_key: str, gone: frozenset[str] = frozenset()) -> Batch:
    """A batch from the bucket: its ledger (every offset's fate) and the objects it names,
    except those `gone` (destroyed by a vernietigingslijst: the ledger still names them, the
    catalog keeps their tombstones)."""
    doc = store.get_json(ledger_key)
    if doc is None:
        raise FileNotFoundError(f"ledger {ledger_key} is not in the bucket")
    wanted: dict[str, set[int]] = defaultdict(set)
    outcomes = []
    for e in doc.get("entries", []):
        if e["kind"] == "archived":
            if e["object"] not in gone:
                wanted[e["object"]].add(e["offset"])
        else:
            outcomes.append({**e, "topic": doc["topic"], "partition": doc["partition"]})
    entries = []
    for key in sorted(wanted):
        records = store.records(key)
        if records is None:
            raise FileNotFoundError(f"object {key} named by ledger {ledger_key} is not in the bucket")
        entries += [core.entry_of(r, key) for r in records if r["source"]["offset"] in wanted[key]]
    return Batch(ledger_key, entries, outcomes)


_worker_store: ArchiveStore | None = None
_worker_gone: frozenset[str] = frozenset()
_as_row = operator.attrgetter(*core.COLUMNS)


def _start_worker(s3_settings, gone: frozenset[str]) -> None:
    global _worker_store, _worker_gone
    _worker_store, _worker_gone = ArchiveStore(s3_settings), gone


def _ready() -> bool:
    return _worker_store is not None


def _read_in_worker(ledger_key: str) -> tuple[list[tuple], list[dict]]:
    b = read_batch(_worker_store, ledger_key, _worker_gone)
    # plain tuples cross the process boundary several times cheaper than dataclasses
    return [_as_row(e) for e in b.entries], b.outcomes


class BatchReader:
    """Reads batches for the indexer. Decoding the Avro objects is most of indexing's work, so
    with `processes` it happens in worker processes while the indexer writes the batches
    before; with 0 it happens inline (the thread inside `run`, whose cores belong to the
    pipeline)."""

    def __init__(self, s3_settings, processes: int = 0):
        self.store = ArchiveStore(s3_settings)
        self.gone = frozenset(overlays.destroyed_objects(Register(self.store)))
        self.pool = (ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start_worker, initargs=(s3_settings, self.gone))
                     if processes else None)
        if self.pool is not None:   # start the workers now: a follower's first batch should not wait for them
            wait([self.pool.submit(_ready) for _ in range(processes)])

    def submit(self, ledger_key: str) -> Future:
        if self.pool is not None:
            return self.pool.submit(_read_in_worker, ledger_key)
        done: Future = Future()
        try:
            done.set_result(read_batch(self.store, ledger_key, self.gone))
        except Exception as exc:
            done.set_exception(exc)
        return done

    @staticmethod
    def batch(ledger_key: str, future: Future) -> Batch:
        got = future.result()
        if isinstance(got, Batch):
            return got
        rows, outcomes = got
        return Batch(ledger_key, [Entry(*row) for row in rows], outcomes)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def index_ledgers(catalog: Catalog, reader: BatchReader, ledger_keys, out: Indexed | None = None,
                  ahead: int = 8) -> Indexed:
    """Index committed batches: each one's archived records and every other fate. Up to
    `ahead` batches are read while earlier ones are written; the batches read by then are
    written together (one index call), and a ledger is marked indexed only after its records."""
    out = out or Indexed()
    pending: deque[tuple[str, Future]] = deque()
    seen: set[str] = set()
    for key in ledger_keys:
        if key in seen or catalog.indexed(key):   # a batch split over several announcements
            out.skipped += 1
            continue
        seen.add(key)
        pending.append((key, reader.submit(key)))
        if len(pending) > ahead:
            _write(catalog, reader, pending, out, everything=False)
    _write(catalog, reader, pending, out, everything=True)
    return out


def _write(catalog: Catalog, reader: BatchReader, pending: deque, out: Indexed, everything: bool) -> None:
    """The oldest pending batch, and those after it that are read already (all, at the end)."""
    batches = []
    while pending and (everything or not batches or pending[0][1].done()):
        batches.append(reader.batch(*pending.popleft()))
    if not batches:
        return
    out.records += catalog.index([e for b in batches for e in b.entries])
    for b in batches:
        catalog.record_outcomes(b.ledger, b.outcomes, len(b.entries))
        out.outcomes += len(b.outcomes)
        out.ledgers += 1


def ledger_keys(store: ArchiveStore) -> list[str]:
    return sorted(k for k in store.keys(layout.LEDGER_PREFIX + "/") if k.endswith(".json"))


def rebuild(cfg, catalog: Catalog) -> Indexed:
    """The index from the bucket alone: every ledger and the objects it names, then what the
    duties register changed since (destructions, hotspots, re-tags: catalog/overlays.py)."""
    reader = BatchReader(cfg.s3, cfg.catalog.read_processes)
    try:
        catalog.clear()
        out = index_ledgers(catalog, reader, ledger_keys(reader.store))
        overlays.apply(catalog, Register(reader.store))
        return out
    finally:
        reader.close()


# name (archiefstroom_catalog_<name>) -> (kind, documentation, labels)
METRICS = {
    "announcements": ("counter", "announcements read from the announcement topic", ()),
    "unreadable_announcements": ("counter", "messages on the announcement topic that are no announcement", ()),
    "batches_indexed": ("counter", "committed batches indexed", ()),
    "batches_skipped": ("counter", "announced batches that were indexed before", ()),
    "records_indexed": ("counter", "archived records indexed", ()),
    "outcomes_indexed": ("counter", "other fates of offsets indexed (dropped, dead letters, ...)", ()),
    "lag": ("gauge", "announcements not yet indexed, per partition of the announcement topic", ("partition",)),
    "last_index_timestamp": ("gauge", "when the follower last indexed or found nothing to index (epoch seconds)", ()),
}
LAG_EVERY_S = 10.0


def _metrics() -> dict:
    out = {name: getattr(ground_metrics, kind)(f"archiefstroom_catalog_{name}", doc, labels)
           for name, (kind, doc, labels) in METRICS.items()}
    for name, (kind, _, labels) in METRICS.items():
        if kind == "counter" and not labels:
            out[name].inc(0)
    return out


class Follower:
    """Follows the announcement topic and indexes each announced batch, then commits the
    topic's offsets under the catalog's consumer group (`catalog.consumer_group`): a crash
    re-reads at most the batches since the last commit, which the catalog skips."""

    def __init__(self, cfg, catalog: Catalog, partitions: list[int] | None = None,
                 read_processes: int | None = None):
        self.cfg, self.catalog = cfg, catalog
        self.reader = BatchReader(cfg.s3, cfg.catalog.read_processes if read_processes is None else read_processes)
        self.consumer = kafka_clients.consumer(cfg.kafka, group_id=cfg.catalog.consumer_group)
        self.meta = kafka_clients.consumer(cfg.kafka)      # for log ends (it reassigns itself)
        tps = kafka_clients.partitions(self.consumer, cfg.catalog.announce_topic)
        self.tps = [tp for tp in tps if partitions is None or tp.partition in partitions]
        self.consumer.assign(self.tps)
        for tp in self.tps:
            self.consumer.seek(tp, kafka_clients.resume_offset(self.consumer, tp))
        self.totals = Indexed()
        self.metrics = _metrics()
        self.broker = ground_metrics.recent(3 * LAG_EVERY_S)   # readiness: the broker answered lately
        self.failed: str | None = None   # readiness: the last indexing step's error type
        self._lag_at = 0.0

    def poll_once(self, timeout_ms: int = 500) -> int:
        """Index what one poll brings; returns the number of announcements handled."""
        polled = self.consumer.poll(timeout_ms=timeout_ms, max_records=500)
        ledgers, ends = [], {}
        for tp, messages in polled.items():
            for m in messages:
                try:
                    ann = core.decode_announcement(m.value or b"")
                except Exception:  # not ours: say so once per message, never stop indexing
                    log.error("catalog topic %s/%s/%s: not a catalog_announcement; skipped", tp.topic,
                              tp.partition, m.offset)
                    self.metrics["unreadable_announcements"].inc()
                    ends[tp] = m.offset + 1
                    continue
                ledgers.append(ann["ledger"])
                ends[tp] = m.offset + 1
        before = Indexed(**vars(self.totals))
        try:
            index_ledgers(self.catalog, self.reader, ledgers, self.totals)
        except Exception as exc:
            self.failed = type(exc).__name__
            raise
        self.failed = None
        if ends:
            kafka_clients.commit(self.consumer, ends)
        self._count(len(ledgers), before)
        return len(ledgers)

    def _count(self, announcements: int, before: Indexed) -> None:
        m, now = self.metrics, self.totals
        m["announcements"].inc(announcements)
        m["batches_indexed"].inc(now.ledgers - before.ledgers)
        m["batches_skipped"].inc(now.skipped - before.skipped)
        m["records_indexed"].inc(now.records - before.records)
        m["outcomes_indexed"].inc(now.outcomes - before.outcomes)
        m["last_index_timestamp"].set_to_current_time()
        if time.monotonic() - self._lag_at >= LAG_EVERY_S:
            self._lag_at = time.monotonic()
            try:
                self.partition_lag()
            except Exception as exc:   # the broker did not answer: /readyz says so
                log.debug("catalog lag unavailable: %s", exc)

    def partition_lag(self) -> dict[int, int]:
        """partition -> announcements not yet indexed (also into the lag gauge)."""
        ends = kafka_clients.high_watermarks(self.meta, self.tps)
        out = {tp.partition: max(0, end - self.consumer.position(tp)) for tp, end in ends.items()}
        self.broker.mark()
        for partition, n in out.items():
            self.metrics["lag"].labels(str(partition)).set(n)
        return out

    def checks(self) -> dict:
        """Readiness of `catalog run`: the broker answered lately, the last indexing step worked."""
        return {"broker": self.broker,
                "database": lambda: True if self.failed is None else f"indexing failed: {self.failed}"}

    def lag(self) -> int:
        return sum(self.partition_lag().values())

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
        self.reader.close()
        self.consumer.close()
        self.meta.close()

    def __enter__(self) -> "Follower":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def start_metrics(cfg, follower: Follower):
    """`catalog run`'s endpoint on catalog.metrics_host:metrics_port (None when off)."""
    return ground_metrics.start(cfg.catalog.metrics_host, cfg.catalog.metrics_port, follower.checks(),
                                what="catalog indexer")


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
        delay = 1.0
        while True:
            try:
                with Catalog.open(self.cfg) as catalog, Follower(self.cfg, catalog, read_processes=0) as follower:
                    follower.follow(self.stop)
                    follower.catch_up()
                return
            except Exception as exc:   # the archive is unaffected, only the index is behind: say so, go on
                if self.stop.is_set():
                    log.error("catalog indexer stopped: %s (run `archiefstroom catalog run` to catch up)",
                              type(exc).__name__)
                    return
                # an outage of S3, the broker or the database: start again from the group's offsets
                log.warning("catalog indexer: %s; starting again in %.0f s", type(exc).__name__, delay)
                if self.stop.wait(delay):
                    return
                delay = min(delay * 2, 10.0)

    def finish(self, timeout_s: float = 120.0) -> None:
        self.stop.set()
        self.thread.join(timeout_s)
