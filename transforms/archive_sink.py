"""Batch records per Kafka partition, write them to the archive, then commit offsets.

A stateful DoFn keyed by partition: it buffers every item (records and
dispositions), and flushes a contiguous offset range when it is big enough,
when `batch_max_seconds` have passed (processing-time timer), or when input
ends (watermark timer: bounded runs and drains). The writing itself is
archiefstroom.archive.BatchWriter; the offset arithmetic is core.batching.
"""
from __future__ import annotations

import logging
import time

import apache_beam as beam
from apache_beam.coders import PickleCoder, VarIntCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import (BagStateSpec, CombiningValueStateSpec,
                                              ReadModifyWriteStateSpec, TimerSpec, on_timer)
from apache_beam.utils.timestamp import Timestamp

from archiefstroom.core import batching
from archiefstroom.core.envelope import position_of

log = logging.getLogger(__name__)


class _BatchAndCommit(beam.DoFn):
    BUFFER = BagStateSpec("buffer", PickleCoder())
    COUNT = CombiningValueStateSpec("count", VarIntCoder(), sum)
    NEXT = ReadModifyWriteStateSpec("next", PickleCoder())          # next offset to commit
    STALLED = ReadModifyWriteStateSpec("stalled", PickleCoder())    # since when a gap blocks
    FLUSH = TimerSpec("flush", TimeDomain.REAL_TIME)
    FINAL = TimerSpec("final", TimeDomain.WATERMARK)

    def __init__(self, cfg, topic: str):
        self.cfg, self.topic = cfg, topic
        self.archived = Metrics.counter("archiefstroom", "archived")
        self.dropped = Metrics.counter("archiefstroom", "dropped")
        self.duplicates = Metrics.counter("archiefstroom", "duplicates")
        self.objects = Metrics.counter("archiefstroom", "objects_written")
        self.batches = Metrics.counter("archiefstroom", "batches_committed")

    def setup(self):
        from archiefstroom.archive import BatchWriter
        self.writer = BatchWriter(self.cfg, self.topic)
        self.writer.load_archived_ids()
        self._boundary_checked: dict[tuple, int | None] = {}

    def teardown(self):
        if getattr(self, "writer", None):
            self.writer.close()

    def process(self, element, window=beam.DoFn.WindowParam,
                buffer=beam.DoFn.StateParam(BUFFER), count=beam.DoFn.StateParam(COUNT),
                next_=beam.DoFn.StateParam(NEXT), stalled=beam.DoFn.StateParam(STALLED),
                flush=beam.DoFn.TimerParam(FLUSH), final=beam.DoFn.TimerParam(FINAL)):
        partition, item = element
        buffer.add(item)
        count.add(1)
        if count.read() == 1:
            flush.set(Timestamp.now() + self.cfg.pipeline.batch_max_seconds)
            final.set(window.max_timestamp())
        if count.read() >= self.cfg.pipeline.batch_max_records:
            yield from self._flush(partition, buffer, count, next_, stalled, flush, final_=False)

    @on_timer(FLUSH)
    def on_flush(self, key=beam.DoFn.KeyParam, buffer=beam.DoFn.StateParam(BUFFER),
                 count=beam.DoFn.StateParam(COUNT), next_=beam.DoFn.StateParam(NEXT),
                 stalled=beam.DoFn.StateParam(STALLED), flush=beam.DoFn.TimerParam(FLUSH)):
        yield from self._flush(key, buffer, count, next_, stalled, flush, final_=False)

    @on_timer(FINAL)
    def on_final(self, key=beam.DoFn.KeyParam, buffer=beam.DoFn.StateParam(BUFFER),
                 count=beam.DoFn.StateParam(COUNT), next_=beam.DoFn.StateParam(NEXT),
                 stalled=beam.DoFn.StateParam(STALLED), flush=beam.DoFn.TimerParam(FLUSH)):
        yield from self._flush(key, buffer, count, next_, stalled, flush, final_=True)

    def _flush(self, partition, buffer, count, next_, stalled, flush, *, final_: bool):
        items = list(buffer.read())
        while items:
            nxt = next_.read()
            if nxt is None:
                committed = self.writer.committed(partition)
                nxt = committed if committed is not None else min(position_of(i).offset for i in items)
            boundary = self._boundary(partition, nxt)
            waited = stalled.read()
            gap_timeout = max(30.0, 10 * self.cfg.pipeline.batch_max_seconds)
            accept_gaps = final_ or (waited is not None and time.monotonic() - waited > gap_timeout)
            p = batching.plan(items, nxt, max_records=self.cfg.pipeline.batch_max_records,
                              boundary=boundary, accept_gaps=accept_gaps)
            for item in p.late:
                off = position_of(item).offset
                res = self.writer.write(partition, off, off, [item], late=True)
                yield from self._report(res)
            if not p.batch:
                items = p.rest
                if items and waited is None:
                    stalled.write(time.monotonic())
                break
            if p.gaps:
                log.warning("partition %s: committing past missing offsets %s", partition, p.gaps)
            res = self.writer.write(partition, p.start, p.end, p.batch)
            yield from self._report(res)
            next_.write(p.end + 1)
            stalled.clear()
            items = p.rest
        buffer.clear()
        count.clear()
        for item in items:
            buffer.add(item)
            count.add(1)
        if items:
            flush.set(Timestamp.now() + self.cfg.pipeline.batch_max_seconds)

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


class WriteArchive(beam.PTransform):
    """Input: archive record datums and Dispositions of one topic. Output: BatchResults."""

    def __init__(self, cfg, topic: str):
        super().__init__()
        self.cfg, self.topic = cfg, topic

    def expand(self, items):
        return (items
                | "KeyByPartition" >> beam.Map(lambda i: (position_of(i).partition, i))
                | "BatchWriteCommit" >> beam.ParDo(_BatchAndCommit(self.cfg, self.topic)))
