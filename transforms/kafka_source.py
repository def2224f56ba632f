"""Read Kafka partitions with a splittable DoFn (offset restrictions), through kafka-python.

Why our own source: Beam's KafkaIO is a Java cross-language transform whose
expansion service cannot be fetched here; deploy/README.md says how production
may swap it in. This one claims Kafka offsets in an OffsetRange restriction, so
a runner may checkpoint and resume it, and it starts from the consumer group's
committed offset (committed by the sink only after objects are durable).

Stopping: `stop_at` bounds each partition (demo mode stops once the sample is
archived); `STOP` (a process-wide event set on SIGTERM) ends every restriction
at the next poll so downstream final timers flush and commit: a drain.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import NamedTuple

import apache_beam as beam
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.metrics import Metrics
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.utils.timestamp import Duration, Timestamp

from archiefstroom import kafka as kafka_clients
from archiefstroom.config import KafkaSettings

log = logging.getLogger(__name__)

STOP = threading.Event()
INFINITY = 2**63 - 1


class KafkaRecord(NamedTuple):
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None


class Tick(NamedTuple):
    """Progress marker of one partition, sent straight to the sink: every offset below
    `position` has been emitted. Lets the sink flush by age without processing-time
    timers (portable to every runner) and, when `final`, drain without waiting."""
    topic: str
    partition: int
    position: int
    final: bool = False


class PartitionSpec(NamedTuple):
    topic: str
    partition: int
    stop_at: int | None = None  # exclusive; None = unbounded (streaming)


class _Restrictions(RestrictionProvider):
    def __init__(self, settings: KafkaSettings):
        self.settings = settings

    def initial_restriction(self, spec: PartitionSpec) -> OffsetRange:
        from kafka import TopicPartition
        tp = TopicPartition(spec.topic, spec.partition)
        start = kafka_clients.committed(self.settings, [tp]).get(tp)
        if start is None:
            c = kafka_clients.consumer(self.settings)
            try:
                start = c.beginning_offsets([tp]).get(tp, 0)
            finally:
                c.close()
        stop = spec.stop_at if spec.stop_at is not None else INFINITY
        return OffsetRange(start, max(start, stop))

    def create_tracker(self, restriction: OffsetRange) -> OffsetRestrictionTracker:
        return OffsetRestrictionTracker(restriction)

    def restriction_size(self, spec, restriction: OffsetRange) -> int:
        # Unbounded ranges would overflow size estimates; a partition is one unit of work.
        return 1 if restriction.stop == INFINITY else restriction.size()

    def split(self, spec, restriction):
        # Never split a partition's range: order within a partition matters to the sink.
        yield restriction


class _ReadPartition(beam.DoFn):
    """Polls one partition per restriction; defers when caught up."""

    def __init__(self, settings: KafkaSettings, poll_max_records: int, idle_resume_s: float = 0.2):
        self.settings = settings
        self.poll_max_records = poll_max_records
        self.idle_resume_s = idle_resume_s
        self.read = Metrics.counter("archiefstroom", "events_read")
        self.lag = Metrics.gauge("archiefstroom", "lag")

    def setup(self):
        self.consumer = kafka_clients.consumer(self.settings)

    def teardown(self):
        consumer = getattr(self, "consumer", None)
        if consumer is not None:
            consumer.close()

    def process(self, spec: PartitionSpec, tracker):
        from kafka import TopicPartition
        restriction = tracker.current_restriction()
        position = restriction.start
        if STOP.is_set() or restriction.start >= restriction.stop:
            tracker.try_claim(restriction.stop)  # nothing more: the restriction is done
            yield Tick(spec.topic, spec.partition, position, final=True)
            return
        tp = TopicPartition(spec.topic, spec.partition)
        self.consumer.assign([tp])
        self.consumer.seek(tp, restriction.start)
        deadline = time.monotonic() + 1.0  # hand control back to the runner regularly
        while time.monotonic() < deadline and not STOP.is_set():
            batch = self.consumer.poll(timeout_ms=200, max_records=self.poll_max_records).get(tp, [])
            hw = self.consumer.highwater(tp)
            if not batch:
                if restriction.stop != INFINITY and hw is not None and hw >= restriction.stop and \
                        self.consumer.position(tp) >= restriction.stop:
                    tracker.try_claim(restriction.stop)
                    yield Tick(spec.topic, spec.partition, position, final=True)
                    return
                break
            for msg in batch:
                if not tracker.try_claim(msg.offset):
                    yield Tick(spec.topic, spec.partition, position, final=True)
                    return
                self.read.inc()
                position = msg.offset + 1
                yield KafkaRecord(msg.topic, msg.partition, msg.offset, msg.timestamp,
                                  msg.key, msg.value)
            if hw is not None:
                self.lag.set(max(0, hw - position))
        if STOP.is_set():
            tracker.try_claim(restriction.stop)
            yield Tick(spec.topic, spec.partition, position, final=True)
            return
        yield Tick(spec.topic, spec.partition, position)
        tracker.defer_remainder(Duration.of(self.idle_resume_s))


class ReadFromKafka(beam.PTransform):
    """All partitions of `topic`, from the group's committed offsets.

    Outputs `records` (KafkaRecord) and `ticks` (Tick: route them straight to the sink).

    `stop_at` maps partition -> exclusive end offset; partitions not in it are read
    unbounded. Partitions are discovered when the pipeline is built."""

    def __init__(self, settings: KafkaSettings, topic: str, *, stop_at: dict[int, int] | None = None,
                 poll_max_records: int = 2000):
        super().__init__()
        self.settings, self.topic = settings, topic
        self.stop_at = stop_at
        self.poll_max_records = poll_max_records

    def expand(self, pbegin):
        c = kafka_clients.consumer(self.settings)
        try:
            parts = [tp.partition for tp in kafka_clients.partitions(c, self.topic)]
        finally:
            c.close()
        specs = [PartitionSpec(self.topic, p, None if self.stop_at is None else self.stop_at.get(p, 0))
                 for p in parts]
        return (pbegin
                | "Partitions" >> beam.Create(specs)
                | "Poll" >> beam.ParDo(_splittable_reader(self.settings, self.poll_max_records))
                | "SplitTicks" >> beam.ParDo(_SplitTicks()).with_outputs(TICKS, main="records"))


TICKS = "ticks"


class _SplitTicks(beam.DoFn):
    def process(self, item):
        yield beam.pvalue.TaggedOutput(TICKS, item) if isinstance(item, Tick) else item


def _splittable_reader(settings: KafkaSettings, poll_max_records: int) -> beam.DoFn:
    """Beam takes the restriction provider from the process() signature, so bind it here."""
    provider = _Restrictions(settings)

    class ReadPartition(_ReadPartition):
        def process(self, spec: PartitionSpec, tracker=beam.DoFn.RestrictionParam(provider)):
            yield from super().process(spec, tracker)

    return ReadPartition(settings, poll_max_records)
