"""Batch records per Kafka partition, write them to the archive, then commit offsets.

A stateful DoFn keyed by partition: it buffers every item (records and
dispositions) and flushes a contiguous offset range when it is big enough,
when the oldest buffered item is `batch_max_seconds` old, or when the source
said the partition is finished (bounded runs, drains). Time is checked on every
arrival, and the source sends a `Tick` per partition at least every second, so
no processing-time timers are needed: the same code runs on every Beam runner.
The writing itself is archiefstroom.archive.BatchWriter; the offset arithmetic
is core.batching.
"""
from __future__ import annotations

import logging
import threading
import time
import typing

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.transforms.userstate import BagStateSpec, ReadModifyWriteStateSpec

from archiefstroom.core import batching
from archiefstroom.transforms import metrics
from archiefstroom.core.envelope import position_of
from archiefstroom.transforms.kafka_source import Tick

log = logging.getLogger(__name__)


_WRITERS: dict = {}
_WRITERS_LOCK = threading.Lock()


def _writer(cfg, topic: str):
    """One BatchWriter per archive, topic and process, kept across DoFn instances: some
    runners set a DoFn up per bundle, and a writer's start (clients, the archived event
    ids from the ledgers) is far too costly for that."""
    from archiefstroom.archive import BatchWriter
    key = (cfg.s3.endpoint_url, cfg.s3.bucket, cfg.s3.prefix, topic, cfg.kafka.consumer_group)
    with _WRITERS_LOCK:
        writer = _WRITERS.get(key)
        if writer is None:
            writer = _WRITERS[key] = BatchWriter(cfg, topic)
            writer.load_archived_ids()
        return writer


def close_writers() -> None:
    with _WRITERS_LOCK:
        for writer in _WRITERS.values():
            writer.close()
        _WRITERS.clear()


class _BatchAndCommit(beam.DoFn):
    BUFFER = BagStateSpec("buffer", PickleCoder())
    META = ReadModifyWriteStateSpec("meta", PickleCoder())  # count, since, next, stalled, drain_to

    def __init__(self, cfg, topic: str):
        self.cfg, self.topic = cfg, topic
        self.archived = metrics.counter("archiefstroom", "archived")
        self.dropped = metrics.counter("archiefstroom", "dropped")
        self.duplicates = metrics.counter("archiefstroom", "duplicates")
        self.objects = metrics.counter("archiefstroom", "objects_written")
        self.batches = metrics.counter("archiefstroom", "batches_committed")

    def setup(self):
        self.writer = _writer(self.cfg, self.topic)
        self._boundary_checked: dict[tuple, int | None] = {}

    def process(self, element, buffer=beam.DoFn.StateParam(BUFFER), meta=beam.DoFn.StateParam(META)):
        partition, item = element
        m = meta.read() or {"count": 0, "since": None, "next": None, "stalled": None, "drain_to": None}
        if isinstance(item, Tick):
            if m["next"] is None and item.start is not None:
                m["start"] = item.start if m.get("start") is None else min(m["start"], item.start)
            if item.final:
                m["drain_to"] = max(item.position, m["drain_to"] or 0)
        else:
            buffer.add(item)
            m["count"] += 1
            if m["since"] is None:
                m["since"] = time.monotonic()
        late = not isinstance(item, Tick) and m["next"] is not None and position_of(item).offset < m["next"]
        due = m["count"] and (
            late  # a released or expired hold of an offset committed before: write it now
            or m["count"] >= self.cfg.pipeline.batch_max_records
            or time.monotonic() - m["since"] >= self.cfg.pipeline.batch_max_seconds
            or m["drain_to"] is not None)
        if due and m["next"] is None and m.get("start") is None and self.writer.committed(partition) is None:
            due = False  # where the partition starts is not known yet: the source's first tick says
        if due:
            yield from self._flush(partition, buffer, m)
        meta.write(m)

    def _flush(self, partition, buffer, m):
        items = list(buffer.read())
        while items:
            nxt = m["next"]
            if nxt is None:
                committed = self.writer.committed(partition)
                nxt = committed if committed is not None else m["start"]
            boundary = self._boundary(partition, nxt)
            waited = m["stalled"]
            # Kafka itself may leave offset gaps (compaction, transactions): accept them
            # only after waiting long enough for an item still in flight
            gap_timeout = max(30.0, 10 * self.cfg.pipeline.batch_max_seconds)
            accept_gaps = waited is not None and time.monotonic() - waited > gap_timeout
            p = batching.plan(items, nxt, max_records=self.cfg.pipeline.batch_max_records,
                              boundary=boundary, accept_gaps=accept_gaps)
            for item in p.late:
                off = position_of(item).offset
                res = self.writer.write(partition, off, off, [item], late=True)
                yield from self._report(res)
            if not p.batch:
                items = p.rest
                if items and waited is None:
                    m["stalled"] = time.monotonic()
                break
            if p.gaps:
                log.warning("partition %s: committing past missing offsets %s", partition, p.gaps)
            res = self.writer.write(partition, p.start, p.end, p.batch)
            yield from self._report(res)
            m["next"] = p.end + 1
            m["stalled"] = None
            items = p.rest
        buffer.clear()
        for item in items:
            buffer.add(item)
        m["count"] = len(items)
        m["since"] = time.monotonic() if items else None
        if m["drain_to"] is not None and m["next"] is not None and m["next"] >= m["drain_to"]:
            m["drain_to"] = None

    def _boundary(self, partition: int, start: int) -> int | None:
        key = (partition, start)
        if key not in self._boundary_checked:
            self._boundary_checked[key] = self.writer.recovered_boundary(partition, start)
        return self._boundary_checked[key]

    def _report(self, res):
        self.archived.inc(res.counts.get("archived", 0))
        self.dropped.inc(res.counts.get("dropped", 0))
        self.duplicates.inc(res.counts.get("duplicate", 0))
        self.objects.inc(len(res.objects))
        self.batches.inc()
        yield res


def _keyed(item):
    return (item.partition if isinstance(item, Tick) else position_of(item).partition, item)


class WriteArchive(beam.PTransform):
    """Input: archive record datums, Dispositions and the source's Ticks of one topic.
    Output: BatchResults."""

    def __init__(self, cfg, topic: str):
        super().__init__()
        self.cfg, self.topic = cfg, topic

    def expand(self, items):
        return (items
                | "KeyByPartition" >> beam.Map(_keyed).with_output_types(typing.Tuple[int, typing.Any])
                | "BatchWriteCommit" >> beam.ParDo(_BatchAndCommit(self.cfg, self.topic)))
