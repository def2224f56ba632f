"""One writer per topic-partition: rotation, object names, the write order and the commit.

Like Confluent's S3 sink's TopicPartitionWriter, it owns when a batch is cut
(core.batching.PartitionState: size, age, a finished partition), which items it
holds (core.batching.plan: contiguous offsets from the next uncommitted one), what
the objects are called (core.layout) and the order that makes "nothing lost,
nothing duplicated" hold:
  1. ledger (intent): the batch's offset range, its objects and every offset's fate;
  2. Avro objects, named by partition and offset range (idempotent puts), and the
     batch's archived ids per creation day (archive.seen);
  3. side topics (archive.sides) and the catalog's announcement, flushed and acknowledged;
  4. the consumer group's offset commit (end + 1).
A crash before 4 makes the next run read the batch again; the ledger tells it the
same boundaries, so the same object names are overwritten with the same bytes.

The buffered items and the PartitionState live in the runner's state (Beam state in
transforms/archive_sink.py); the writer is handed them, so the same code runs on
every runner. `TopicWriter` holds what a process shares per topic: the clients, the
archived-ids cache and each partition's writer.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from kafka import TopicPartition
from kafka.errors import BrokerNotAvailableError, KafkaConnectionError, KafkaTimeoutError, RequestTimedOutError

from archiefstroom.archive import format as avro
from archiefstroom.archive import ledger
from archiefstroom.archive.ledger import BatchResult
from archiefstroom.archive.seen import ArchivedIds
from archiefstroom.archive.sides import SideTopics
from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.core import archived_ids, batching, catalog, layout
from archiefstroom.core.envelope import Disposition, position_of
from archiefstroom.core.rules import seal as seal_core
from archiefstroom.ground import failpoints
from archiefstroom.ground import kafka as kafka_clients
from archiefstroom.ground import pseudonymisation

log = logging.getLogger(__name__)

# what an outage of the object store or the broker raises (not a refusal: those are not retried)
KAFKA_OUTAGE = (KafkaConnectionError, KafkaTimeoutError, BrokerNotAvailableError, RequestTimedOutError)
OUTAGE = (EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError, ReadTimeoutError, *KAFKA_OUTAGE)

_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="s3-put")


def through_outage(seconds: float, where: str, step, *args, on_retry=None, **kw):
    """A step of the write, retried while the object store or the broker is unreachable (up to
    pipeline.outage_seconds): a retry is the crash-recovery path without the crash (the ledger's
    intent, idempotent puts, deterministic keys), and while it waits nothing is committed."""
    deadline, delay = time.monotonic() + seconds, 1.0
    while True:
        try:
            return step(*args, **kw)
        except OUTAGE as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("archive: %s unreachable (%s) at %s; retrying in %.0f s",
                        "the broker" if isinstance(exc, KAFKA_OUTAGE) else "the object store",
                        type(exc).__name__, where, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)       # short: the batch goes on soon after the outage ends
            if on_retry is not None:
                on_retry()


class TopicWriter:
    """A process's writing resources for one topic (built once: clients and caches are costly)."""

    def __init__(self, cfg, topic: str):
        self.cfg, self.topic = cfg, topic
        self.store = ArchiveStore(cfg.s3)
        self.producer = kafka_clients.producer(cfg.kafka)
        self.committer = kafka_clients.consumer(cfg.kafka, group=True)
        self.sides = SideTopics(self.producer, cfg)
        self.seen = ArchivedIds(self.store, topic, _POOL)
        self.token = pseudonymisation.keyring_for(cfg).token   # ledger ids (archive.ledger)
        self._partitions: dict[int, TopicPartitionWriter] = {}
        self._lock = threading.Lock()

    def partition(self, partition: int) -> "TopicPartitionWriter":
        with self._lock:
            w = self._partitions.get(partition)
            if w is None:
                w = self._partitions[partition] = TopicPartitionWriter(self, partition)
            return w

    def close(self):
        self.producer.close()
        self.committer.close()

    # -- sealed threads (issue 17) ---------------------------------------------------
    def write_seal(self, item) -> str | None:
        return through_outage(self.cfg.pipeline.outage_seconds, "a thread's seal", self._write_seal, item)

    def _write_seal(self, item) -> str | None:
        """A core.rules.seal Seal: its object (deterministic key, same bytes on a redo, the
        retention and lock of the thread's root), then its marker on the threads topic and
        the thread's notes tombstoned. A Forget only tombstones. Returns the object key."""
        topic = self.cfg.rules.threads_topic
        key = None
        if isinstance(item, seal_core.Seal):
            key = seal_core.object_key(item.datum["thread"])
            body = avro.encode_as(seal_core.SCHEMA, [item.datum], key, self.cfg.pipeline.codec)
            ret = item.retention   # the root's: the seal is kept and locked as long as the thread's post
            tags = layout.object_tags({"retention": ret}, f"sealed-{avro.version_of(seal_core.SCHEMA)}") if ret else {}
            self.store.put_records(key, body, tags=tags, retain_until=layout.object_until(ret) if ret else None,
                                   legal_hold=bool(ret and ret["retention_class"] == "B"), redo=True)
            mk, mv = seal_core.sealed_note(item.datum)
            sent = [self.producer.send(topic, key=mk, value=mv)]
        else:
            sent = []
        sent += [self.producer.send(topic, key=k.encode(), value=None) for k in item.note_keys]
        self.producer.flush()
        for fut in sent:
            fut.get(timeout=30)
        return key


class TopicPartitionWriter:
    def __init__(self, shared: TopicWriter, partition: int):
        self.shared, self.partition = shared, partition
        self.topic = shared.topic
        self.settings = shared.cfg.pipeline
        self.tp = TopicPartition(self.topic, partition)
        self._committed: int | None = None
        self._asked = False
        self._recovered: tuple[int, int | None] | None = None   # (start, the end a crashed run used)

    # -- rotation ---------------------------------------------------------------
    def resume(self, state: batching.PartitionState) -> None:
        """The next offset to commit, from this run, else where the source began (asked of
        Kafka, not taken from a tick: ticks of later polls may arrive first, runners reorder)."""
        if state.next is None:
            state.next = kafka_clients.resume_offset(self.shared.committer, self.tp)

    def due(self, state: batching.PartitionState, now: float) -> bool:
        return state.due(now, self.settings.batch_max_records, self.settings.batch_max_seconds)

    def flush(self, state: batching.PartitionState, items: list, now: float) -> tuple[list[BatchResult], list, bool]:
        """Write every batch the buffered `items` allow. Returns the results, the items still
        buffered and whether the buffer changed (rewriting an unchanged buffer costs O(n))."""
        self._patient(self.resume, state)
        results, before = [], len(items)
        while items:
            # a missing offset is waited for (an item may be slow in an earlier stage),
            # unless the source saw Kafka skip it (compaction, transactions)
            p = batching.plan(items, state.next, max_records=self.settings.batch_max_records,
                              boundary=self._patient(self.recovered_boundary, state.next), known_gaps=state.gaps)
            if p.late:  # already-committed offsets (released holds): one late write for all
                offsets = [position_of(i).offset for i in p.late]
                results.append(self.write(min(offsets), max(offsets), p.late, late=True))
            if not p.batch:
                items = p.rest
                break
            if p.gaps:
                log.info("partition %s: offsets %s are not in Kafka (compacted)", self.partition, p.gaps)
            results.append(self.write(p.start, p.end, p.batch))
            state.committed_through(p.end)
            items = p.rest
        changed = bool(results) or len(items) != before
        state.kept([position_of(i).offset for i in items], changed, now)
        return results, items, changed

    # -- recovery ---------------------------------------------------------------
    def committed(self) -> int | None:
        if not self._asked:
            self._committed, self._asked = kafka_clients.committed_offset(self.shared.committer, self.tp), True
        return self._committed

    def recovered_boundary(self, start: int) -> int | None:
        """End offset of a batch a crashed run started writing at `start`, if any: only
        then can its keys already exist (and are checked, so a redo adds no S3 versions)."""
        if self._recovered is None or self._recovered[0] != start:
            doc = self.shared.store.get_json(layout.ledger_key(self.topic, self.partition, start))
            self._recovered = (start, doc["end"] if doc else None)
        return self._recovered[1]

    # -- writing ----------------------------------------------------------------
    def write(self, start: int, end: int, items: list, *, late: bool = False) -> BatchResult:
        return self._patient(self._write, start, end, items, late=late)

    def _patient(self, step, *args, **kw):
        return through_outage(self.settings.outage_seconds, f"partition {self.topic}/{self.partition}", step, *args,
                              on_retry=self._forget_recovered, **kw)

    def _forget_recovered(self) -> None:
        self._recovered = None        # the ledger may be in the bucket now: ask again

    def _write(self, start: int, end: int, items: list, *, late: bool = False) -> BatchResult:
        """Ledger, objects, archived ids, side topics, then (unless late) the offset commit."""
        shared, prefix = self.shared, self.shared.cfg.s3.prefix
        result = BatchResult(self.topic, self.partition, start, end)
        entries, groups = [], defaultdict(list)
        seen_here: set[tuple[str, int]] = set()
        new_ids: dict[object, list[tuple[str, int]]] = defaultdict(list)   # creation day -> ids
        tag = layout.late_tag(position_of(i).offset for i in items) if late else None
        known = {d: shared.seen.of(self.partition, d, self.committed())
                 for d in sorted({archived_ids.day_of(i) for i in items if not isinstance(i, Disposition)})}
        for item in items:
            if isinstance(item, Disposition):
                entries.append(ledger.disposition_entry(item, shared.token))
                result.counts[item.kind] += 1
                continue
            eid, day = ledger.identity(item), archived_ids.day_of(item)
            if eid in known[day] or eid in seen_here:
                dup = Disposition(position_of(item), "duplicate", "event id already archived", event_id=eid[0],
                                  detail={"record_version": eid[1]})
                entries.append(ledger.disposition_entry(dup, shared.token))
                result.counts["duplicate"] += 1
                continue
            seen_here.add(eid)
            new_ids[day].append(eid)
            key = layout.object_key(prefix, layout.group_of(item), self.topic, self.partition, start, end, late=tag)
            groups[key].append(item)
            entries.append(ledger.archived_entry(item, key))
            result.counts["archived"] += 1
        ledger_key = ledger.key(self.topic, self.partition, start, end, tag)
        redo = late or self.recovered_boundary(start) is not None
        shared.store.put_json(ledger_key, ledger.document(self.topic, self.partition, start, end, late, groups,
                                                          entries, result.counts), redo=redo)
        failpoints.point("archive.after_ledger")
        # the objects of one batch are independent: write them concurrently, all before the commit
        for key, size in _POOL.map(lambda k: self._put_object(k, groups[k], redo), sorted(groups)):
            result.objects.append(key)
            result.bytes_written += size
        shared.seen.record(self.partition, start, end, new_ids, tag, redo)
        failpoints.point("archive.after_objects")
        others = sum(n for kind, n in result.counts.items() if kind != "archived")
        shared.sides.send(items, [r for records in groups.values() for r in records],
                          catalog.announcements(ledger_key, self.topic, self.partition, start, end, late, groups, others))
        shared.sides.end_holds(items)
        failpoints.point("archive.before_commit")
        if not late:
            kafka_clients.commit(shared.committer, {self.tp: end + 1}, metadata=ledger_key)
            self._committed, self._asked = end + 1, True
        for day, ids in new_ids.items():
            known[day].update(ids)
        return result

    def _put_object(self, key: str, records: list[dict], redo: bool) -> tuple[str, int]:
        records = sorted(records, key=lambda r: r["source"]["offset"])
        ret = records[0]["retention"]
        body = avro.encode(records, key, self.shared.cfg.pipeline.codec)
        self.shared.store.put_records(key, body,
                                      tags=layout.object_tags(records[0], avro.SCHEMA_VERSION),
                                      retain_until=layout.object_until(ret), legal_hold=ret["retention_class"] == "B",
                                      redo=redo)
        return key, len(body)


