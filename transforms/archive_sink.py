"""Batch records per Kafka partition, write them to the archive, then commit offsets.

A stateful DoFn keyed by partition: it buffers every item (records and
dispositions) and flushes a contiguous offset range when it is big enough,
when the oldest buffered item is `batch_max_seconds` old, or when the source
said the partition is finished. Time is checked on every arrival, and the source
sends a `Tick` per partition at least every second, so no processing-time timers
are needed; when the input ends (a bounded run, a drain) the watermark reaches the
end of time and an event-time timer flushes what is left. Both are portable: the
same code runs on Prism, Flink and Dataflow.
The writing itself is archiefstroom.archive.BatchWriter; the offset arithmetic
is core.batching.
"""
from __future__ import annotations

import logging
import time
import typing

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import BagStateSpec, ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.transforms.window import GlobalWindow

from archiefstroom.core import batching
from archiefstroom.transforms import metrics, resources
from archiefstroom.core.envelope import position_of
from archiefstroom.transforms.kafka_source import Tick

log = logging.getLogger(__name__)


def _writer(cfg, topic: str):
    """One BatchWriter per archive, topic and process: its clients and the archived ids it
    has read are far too costly to repeat per bundle."""
    from archiefstroom.archive import BatchWriter
    key = ("archive.writer", cfg.s3.endpoint_url, cfg.s3.bucket, cfg.s3.prefix, topic, cfg.kafka.consumer_group)
    return resources.shared(key, lambda: BatchWriter(cfg, topic))


class _BatchAndCommit(beam.DoFn):
    BUFFER = BagStateSpec("buffer", PickleCoder())
    META = ReadModifyWriteStateSpec("meta", PickleCoder())  # count, since, next, drain_to, gaps, have, late
    END = TimerSpec("end_of_input", TimeDomain.WATERMARK)

    def __init__(self, cfg, topic: str):
        self.cfg, self.topic = cfg, topic
        self.archived = metrics.counter("archived")
        self.dropped = metrics.counter("dropped")
        self.duplicates = metrics.counter("duplicates")
        self.objects = metrics.counter("objects_written")
        self.batches = metrics.counter("batches_committed")

    def setup(self):
        self.writer = _writer(self.cfg, self.topic)

    def process(self, element, buffer=beam.DoFn.StateParam(BUFFER), meta=beam.DoFn.StateParam(META),
                end=beam.DoFn.TimerParam(END)):
        partition, item = element
        m = meta.read()
        if m is None:
            m = {"count": 0, "since": None, "next": None, "drain_to": None, "gaps": [], "have": set(), "late": 0}
            end.set(GlobalWindow().max_timestamp())
        if isinstance(item, Tick):
            if item.gaps:
                m["gaps"] = sorted(set(map(tuple, m["gaps"])) | set(item.gaps))
            if item.final:
                m["drain_to"] = max(item.position, m["drain_to"] or 0)
        else:
            offset = position_of(item).offset
            buffer.add(item)
            m["have"].add(offset)
            m["count"] += 1
            if m["since"] is None:
                m["since"] = time.monotonic()
            if m["next"] is not None and offset < m["next"]:
                m["late"] = m.get("late", 0) + 1   # e.g. a held record released: written with the next batch
        nxt = self._next(partition, m)
        # the bag is only read when a batch can start: the next offset to commit is here
        # (or Kafka skipped it), or late items wait; reading it on every element would cost O(n^2)
        ready = nxt in m["have"] or batching._covered(nxt, nxt, m["gaps"]) or m.get("late", 0)
        due = m["count"] and ready and (
            m["count"] >= self.cfg.pipeline.batch_max_records
            or time.monotonic() - m["since"] >= self.cfg.pipeline.batch_max_seconds
            or self._complete_to_drain(m))
        if due:
            yield from self._flush(partition, buffer, m)
        meta.write(m)

    @staticmethod
    def _complete_to_drain(m) -> bool:
        """The source has finished this partition (a bounded run's end, a drain) and every
        offset up to there is buffered: write now. Not before: records still trickle out
        of slower stages, and writing each as it comes would make one object per record."""
        drain_to, nxt = m["drain_to"], m["next"]
        if drain_to is None or nxt is None:
            return False
        gaps = [(max(a, nxt), min(b, drain_to - 1)) for a, b in m["gaps"] if b >= nxt and a < drain_to]
        skipped = sum(b - a + 1 for a, b in gaps)
        if len(m["have"]) + skipped < drain_to - nxt:   # cheap: cannot be complete yet
            return False
        return all(o in m["have"] or batching._covered(o, o, gaps) for o in range(nxt, drain_to))

    @on_timer(END)
    def end_of_input(self, key=beam.DoFn.KeyParam, buffer=beam.DoFn.StateParam(BUFFER),
                     meta=beam.DoFn.StateParam(META)):
        """The input has ended (bounded run or drain): every upstream stage is done, so
        what is buffered is all there will be; write it."""
        m = meta.read()
        if m and m["count"]:
            self._next(key, m)
            yield from self._flush(key, buffer, m)
            meta.write(m)

    def _next(self, partition, m) -> int:
        """Next offset to commit: from this run, else where the source began (asked of Kafka,
        not taken from a tick: ticks of later polls may arrive first, runners reorder)."""
        if m["next"] is None:
            m["next"] = self.writer.resume_offset(partition)
        return m["next"]

    def _flush(self, partition, buffer, m):
        items = list(buffer.read())
        before = len(items)
        written = False
        while items:
            nxt = m["next"]
            boundary = self.writer.recovered_boundary(partition, nxt)
            # a missing offset is waited for (an item may be slow in an earlier stage),
            # unless the source saw Kafka skip it (compaction, transactions)
            p = batching.plan(items, nxt, max_records=self.cfg.pipeline.batch_max_records,
                              boundary=boundary, known_gaps=m["gaps"])
            if p.late:  # already-committed offsets (released holds): one late write for all
                offsets = [position_of(i).offset for i in p.late]
                res = self.writer.write(partition, min(offsets), max(offsets), p.late, late=True)
                yield from self._report(res)
                written = True
            if not p.batch:
                items = p.rest
                break
            if p.gaps:
                log.info("partition %s: offsets %s are not in Kafka (compacted)", partition, p.gaps)
            res = self.writer.write(partition, p.start, p.end, p.batch)
            yield from self._report(res)
            m["next"] = p.end + 1
            m["gaps"] = [g for g in m["gaps"] if g[1] >= m["next"]]
            written = True
            items = p.rest
        if written or len(items) != before:  # rewriting an unchanged buffer costs O(n)
            buffer.clear()
            for item in items:
                buffer.add(item)
            m["since"] = time.monotonic() if items else None
        elif items:
            m["since"] = time.monotonic()  # waiting for a missing offset: look again in a while
        m["have"] = {position_of(i).offset for i in items}
        m["count"] = len(items)
        m["late"] = 0
        if m["drain_to"] is not None and m["next"] is not None and m["next"] >= m["drain_to"]:
            m["drain_to"] = None

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
