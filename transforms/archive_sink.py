"""Batch records per Kafka partition, write them to the archive, then commit offsets.

A stateful DoFn keyed by partition: it buffers every item (records and
dispositions) and flushes a contiguous offset range when it is big enough,
when the oldest buffered item is `batch_max_seconds` old, or when the source
said the partition is finished. Time is checked on every arrival, and the source
sends a `Tick` per partition at least every second, so no processing-time timers
are needed; when the input ends (a bounded run, a drain) the watermark reaches the
end of time and an event-time timer flushes what is left. Both are portable: the
same code runs on Prism, Flink and Dataflow.
Thin: the rotation, naming, write order and commit are the partition's
archiefstroom.archive.writer.TopicPartitionWriter; this DoFn keeps its buffer and
state in Beam state and counts what it reports.
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

from archiefstroom.archive.writer import TopicWriter
from archiefstroom.core import batching
from archiefstroom.core.envelope import position_of
from archiefstroom.transforms import metrics, resources
from archiefstroom.transforms.kafka_source import Tick

log = logging.getLogger(__name__)


def _writer(cfg, topic: str) -> TopicWriter:
    """One TopicWriter per archive, topic and process: its clients and the archived ids it
    has read are far too costly to repeat per bundle."""
    key = ("archive.writer", cfg.s3.endpoint_url, cfg.s3.bucket, cfg.s3.prefix, topic, cfg.kafka.consumer_group)
    return resources.shared(key, lambda: TopicWriter(cfg, topic))


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
        self.bytes = metrics.counter("bytes_written")
        self.batches = metrics.counter("batches_committed")

    def setup(self):
        self.writer = _writer(self.cfg, self.topic)

    def process(self, element, buffer=beam.DoFn.StateParam(BUFFER), meta=beam.DoFn.StateParam(META),
                end=beam.DoFn.TimerParam(END)):
        partition, item = element
        writer = self.writer.partition(partition)
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
        writer.resume(st)
        # the bag is only read when a batch is due; reading it on every element would cost O(n^2)
        if writer.due(st, time.monotonic()):
            yield from self._flush(writer, buffer, st)
        meta.write(st)

    @on_timer(END)
    def end_of_input(self, key=beam.DoFn.KeyParam, buffer=beam.DoFn.StateParam(BUFFER),
                     meta=beam.DoFn.StateParam(META)):
        """The input has ended (bounded run or drain): every upstream stage is done, so
        what is buffered is all there will be; write it."""
        st = meta.read()
        if st and st.count:
            yield from self._flush(self.writer.partition(key), buffer, st)
            meta.write(st)

    def _flush(self, writer, buffer, st):
        results, kept, changed = writer.flush(st, list(buffer.read()), time.monotonic())
        if changed:
            buffer.clear()
            for item in kept:
                buffer.add(item)
        for res in results:
            yield from self._report(res)

    def _report(self, res):
        self.archived.inc(res.counts.get("archived", 0))
        self.dropped.inc(res.counts.get("dropped", 0))
        self.duplicates.inc(res.counts.get("duplicate", 0))
        self.objects.inc(len(res.objects))
        self.bytes.inc(res.bytes_written)
        self.batches.inc()
        yield res


def _keyed(item):
    return (item.partition if isinstance(item, Tick) else position_of(item).partition, item)


class WriteArchive(beam.PTransform):
    """Input: archive record datums, Dispositions and the source's Ticks of one topic.
    Output: archive.ledger.BatchResults."""

    def __init__(self, cfg, topic: str):
        super().__init__()
        self.cfg, self.topic = cfg, topic

    def expand(self, items):
        return (items
                | "KeyByPartition" >> beam.Map(_keyed).with_output_types(typing.Tuple[int, typing.Any])
                | "BatchWriteCommit" >> beam.ParDo(_BatchAndCommit(self.cfg, self.topic)))


class _WriteSeals(beam.DoFn):
    def __init__(self, cfg):
        self.cfg = cfg
        self.written = metrics.counter("seals_written")

    def setup(self):
        self.writer = _writer(self.cfg, self.cfg.topics.raw)

    def process(self, item):
        key = self.writer.write_seal(item)
        if key is not None:
            self.written.inc()
            yield key


class WriteSeals(beam.PTransform):
    """Sealed threads (core.rules.seal Seal / Forget) into the archive through the raw topic's
    writer: their own objects under _sealed/, idempotent. Output: the object keys."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg

    def expand(self, seals):
        return seals | "WriteSealObjects" >> beam.ParDo(_WriteSeals(self.cfg))
