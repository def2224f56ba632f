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
    META = ReadModifyWriteStateSpec("meta", PickleCoder())  # a core.batching.PartitionState
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
        st = meta.read()
        if st is None:
            st = batching.PartitionState()
            end.set(GlobalWindow().max_timestamp())
        if isinstance(item, Tick):
            st.skipped(item.gaps)
            if item.final:
                st.finished_at(item.position)
        else:
            buffer.add(item)
            st.add(position_of(item).offset, time.monotonic())
        self._next(partition, st)
        # the bag is only read when a batch is due; reading it on every element would cost O(n^2)
        if st.due(time.monotonic(), self.cfg.pipeline.batch_max_records, self.cfg.pipeline.batch_max_seconds):
            yield from self._flush(partition, buffer, st)
        meta.write(st)

    @on_timer(END)
    def end_of_input(self, key=beam.DoFn.KeyParam, buffer=beam.DoFn.StateParam(BUFFER),
                     meta=beam.DoFn.StateParam(META)):
        """The input has ended (bounded run or drain): every upstream stage is done, so
        what is buffered is all there will be; write it."""
        st = meta.read()
        if st and st.count:
            self._next(key, st)
            yield from self._flush(key, buffer, st)
            meta.write(st)

    def _next(self, partition, st) -> int:
        """Next offset to commit: from this run, else where the source began (asked of Kafka,
        not taken from a tick: ticks of later polls may arrive first, runners reorder)."""
        if st.next is None:
            st.next = self.writer.resume_offset(partition)
        return st.next

    def _flush(self, partition, buffer, st):
        items = list(buffer.read())
        before = len(items)
        written = False
        while items:
            boundary = self.writer.recovered_boundary(partition, st.next)
            # a missing offset is waited for (an item may be slow in an earlier stage),
            # unless the source saw Kafka skip it (compaction, transactions)
            p = batching.plan(items, st.next, max_records=self.cfg.pipeline.batch_max_records,
                              boundary=boundary, known_gaps=st.gaps)
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
            st.committed_through(p.end)
            written = True
            items = p.rest
        changed = written or len(items) != before
        if changed:  # rewriting an unchanged buffer costs O(n)
            buffer.clear()
            for item in items:
                buffer.add(item)
        st.kept([position_of(i).offset for i in items], changed, time.monotonic())

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
