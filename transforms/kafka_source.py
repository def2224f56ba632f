"""Read Kafka partitions with a splittable DoFn (offset restrictions), through kafka-python.

Why our own source: Beam's KafkaIO is a Java cross-language transform whose
expansion service cannot be fetched here; deploy/README.md says how production
may swap it in. This one claims Kafka offsets in an OffsetRange restriction, so
a runner may checkpoint and resume it, and it starts from the consumer group's
committed offset (committed by the sink only after objects are durable).

Time: each partition's watermark follows the event time of what it read (the
`event_time` header the connectors set, see core.envelope.raw_message), minus a
configured slack; see EventClock. Rule holds expire by it, so a replay of old
events decides as the live capture did.

Stopping: `stop_at` bounds each partition (demo mode stops once the sample is
archived); `STOP` (a process-wide event set on SIGTERM) ends every restriction
at the next poll so downstream final timers flush and commit: a drain.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import NamedTuple

import apache_beam as beam
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.metrics import Metrics
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.utils.timestamp import Duration, Timestamp

from archiefstroom import kafka as kafka_clients
from archiefstroom.config import KafkaSettings
from archiefstroom.core.envelope import event_time_ms
from archiefstroom.transforms import metrics, resources

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
    start: int | None = None   # where this read began (committed or earliest offset)
    gaps: tuple = ()           # (first, last) offset ranges Kafka does not have (compaction, transactions)


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


FUTURE_MS = 5 * 60 * 1000


END_OF_TIME_MS = 2**62


class TopicClock:
    """Event time of one topic as read in this process: the latest event time read from
    any partition, and each partition's watermark. `watermark_ms()` (the minimum over
    the partitions; a finished partition counts as the end of time) is what the rule
    holds expire by on the local runner, whose Python direct runner does not take a
    splittable DoFn's watermark estimator into account (transforms/rules.py)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.max_ms: int | None = None
        self.marks: dict[int, int | None] = {}

    def see(self, ms: int) -> None:
        with self.lock:
            if self.max_ms is None or ms > self.max_ms:
                self.max_ms = ms

    def mark(self, partition: int, wm_ms: int | None) -> None:
        with self.lock:
            before = self.marks.get(partition)
            if before != END_OF_TIME_MS and (wm_ms is not None and (before is None or wm_ms > before)):
                self.marks[partition] = wm_ms
            else:
                self.marks.setdefault(partition, None)

    def finish(self, partition: int) -> None:
        with self.lock:
            self.marks[partition] = END_OF_TIME_MS

    def watermark_ms(self) -> int | None:
        with self.lock:
            if not self.marks or any(v is None for v in self.marks.values()):
                return None
            return min(self.marks.values())


def _topic_clock(topic: str) -> TopicClock:
    return resources.shared(("kafka.event_time", topic), TopicClock)


def event_watermark(topic: str) -> dt.datetime | None:
    """The topic's event-time watermark in this process (None: not known yet)."""
    ms = _topic_clock(topic).watermark_ms()
    if ms is None:
        return None
    if ms >= END_OF_TIME_MS:
        return dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)


class EventClock:
    """Event-time watermark of one partition (the policy of KafkaIO's
    CustomTimestampPolicyWithLimitedDelay, with the event time from the `event_time` header):

    - while a partition has records to read, its watermark is the latest event time it
      read minus `slack` (how late, in event time, a record may still arrive: connectors
      capture reactions some hours after they were written);
    - a partition that is caught up must not hold the others back: it follows the latest
      event time read from *any* partition of the topic (minus slack). Not the wall clock:
      then a slow backfill of old events would let every hold expire between two batches;
    - before anything has been read there is no watermark (holds cannot exist yet);
    - an event time more than FUTURE_MS ahead of this machine's clock counts as now + FUTURE_MS.
    The watermark only moves forward (the estimator keeps the maximum)."""

    def __init__(self, topic: TopicClock):
        self.topic = topic
        self.max_ms: int | None = None

    def see(self, ms: int) -> None:
        ms = min(ms, int(time.time() * 1000) + FUTURE_MS)  # a clock error must not expire every hold
        if ms >= 0:
            self.max_ms = ms if self.max_ms is None else max(self.max_ms, ms)
            self.topic.see(ms)

    def watermark_ms(self, *, caught_up: bool, slack_ms: int) -> int | None:
        latest = self.topic.max_ms if caught_up else self.max_ms
        if caught_up and self.max_ms is not None and latest is not None:
            latest = max(latest, self.max_ms)
        return None if latest is None else latest - slack_ms


class _ReadPartition(beam.DoFn):
    """Polls one partition per restriction; defers when caught up."""

    def __init__(self, settings: KafkaSettings, poll_max_records: int, idle_resume_s: float = 0.2,
                 legacy_continuation: bool = False, event_time_slack_s: float = 6 * 3600):
        self.settings = settings
        self.slack_ms = int(event_time_slack_s * 1000)
        # the local bundle-based runner checkpoints a running process() itself after a
        # while (keep polling until it does); portable runners (Flink, Dataflow, FnApi)
        # expect the DoFn to return and tracker.defer_remainder()
        self.legacy_continuation = legacy_continuation
        self.poll_max_records = poll_max_records
        self.idle_resume_s = idle_resume_s
        self.read = metrics.counter("archiefstroom", "events_read")
        self.lag = Metrics.gauge("archiefstroom", "lag")

    def _reader(self, spec: PartitionSpec) -> "_PartitionReader":
        key = ("kafka.reader", tuple(self.settings.bootstrap_servers), spec.topic, spec.partition)
        topic_clock = _topic_clock(spec.topic)
        return resources.shared(key, lambda: _PartitionReader(self.settings, spec.topic, spec.partition, topic_clock))

    def process(self, spec: PartitionSpec, tracker, watermark=None):
        """Returns a list, not a generator: the local runner checks the restriction as soon
        as process() returns, so every claim must have been made by then."""
        start = tracker.current_restriction().start
        out: list = []
        position = start
        gaps: list[tuple[int, int]] = []
        batch_max = -1   # latest event time (ms) claimed in this call

        def tick(final: bool):
            out.append(Tick(spec.topic, spec.partition, position, final, start, tuple(gaps)))

        def finish():  # nothing more to read in this restriction
            tracker.try_claim(tracker.current_restriction().stop)
            _topic_clock(spec.topic).finish(spec.partition)
            tick(True)
            return out

        def advance(reader):  # event time: this partition's watermark, for Beam and for the topic clock
            reader.clock.see(batch_max)
            wm = reader.clock.watermark_ms(caught_up=reader.caught_up(position), slack_ms=self.slack_ms)
            reader.clock.topic.mark(spec.partition, wm)
            if watermark is not None and wm is not None:
                current = watermark.current_watermark()
                if current is None or Timestamp.of(wm / 1000) > current:
                    watermark.set_watermark(Timestamp.of(wm / 1000))

        if STOP.is_set() or start >= tracker.current_restriction().stop:
            return finish()
        reader = self._reader(spec)
        deadline = time.monotonic() + 1.0
        while not STOP.is_set():
            stop = tracker.current_restriction().stop
            if position >= stop:
                break  # the runner checkpointed us (or the bounded range is done)
            if not self.legacy_continuation and time.monotonic() >= deadline:
                break  # hand control back to the runner regularly
            batch = reader.fetch(position, timeout_ms=5 if self.legacy_continuation else 100,
                                 max_records=self.poll_max_records)
            if not batch:
                if stop != INFINITY and reader.end() >= stop and reader.consumed_to() >= stop:
                    return finish()  # the rest of the range holds no records (compacted)
                if not self.legacy_continuation:
                    break
                continue
            for i, msg in enumerate(batch):
                if not tracker.try_claim(msg.offset):
                    reader.unread(batch[i:])
                    tick(False)
                    advance(reader)
                    return out  # checkpointed by the runner
                self.read.inc()
                batch_max = max(batch_max, event_time_ms(msg.headers, msg.timestamp) or batch_max)
                if msg.offset > position:
                    gaps.append((position, msg.offset - 1))
                position = msg.offset + 1
                out.append(KafkaRecord(msg.topic, msg.partition, msg.offset, msg.timestamp, msg.key, msg.value))
            self.lag.set(max(0, reader.end() - position))
        if STOP.is_set() or (spec.stop_at is not None and position >= spec.stop_at):
            advance(reader)
            return finish()
        if out or reader.tick_due():
            tick(False)
        advance(reader)
        if not self.legacy_continuation and position < tracker.current_restriction().stop:
            tracker.defer_remainder(Duration.of(self.idle_resume_s))
        return out


class _PartitionReader:
    """A consumer of one partition, kept across bundles (runners create DoFn instances
    per bundle, and a fresh consumer's first fetch costs a round of metadata requests),
    with the messages fetched but not yet claimed kept for the next call: when a runner
    checkpoints mid-batch, nothing is fetched twice and progress is guaranteed."""

    def __init__(self, settings: KafkaSettings, topic: str, partition: int, topic_clock: "TopicClock"):
        from kafka import TopicPartition
        self.tp = TopicPartition(topic, partition)
        self.consumer = kafka_clients.consumer(settings)
        self.consumer.assign([self.tp])
        self.pending: list = []
        self.next_fetch: int | None = None   # offset the consumer will return next
        self.clock = EventClock(topic_clock)

    def fetch(self, position: int, *, timeout_ms: int, max_records: int) -> list:
        self.pending = [m for m in self.pending if m.offset >= position]
        if self.pending and self.pending[0].offset == position:
            batch, self.pending = self.pending, []
            return batch
        self.pending = []
        if self.next_fetch != position:
            self.consumer.seek(self.tp, position)
        batch = self.consumer.poll(timeout_ms=timeout_ms, max_records=max_records).get(self.tp, [])
        batch = [m for m in batch if m.offset >= position]
        self.next_fetch = batch[-1].offset + 1 if batch else position
        return batch

    def tick_due(self, every_s: float = 0.5) -> bool:
        """Idle partitions still tick, but not at every (frequent) invocation."""
        now = time.monotonic()
        if now - getattr(self, "_last_tick", 0.0) >= every_s:
            self._last_tick = now
            return True
        return False

    def unread(self, messages: list) -> None:
        self.pending = list(messages)

    def consumed_to(self) -> int:
        return self.pending[0].offset if self.pending else self.consumer.position(self.tp)

    def end(self) -> int:
        return self.consumer.highwater(self.tp) or 0

    def caught_up(self, position: int) -> bool:
        """Nothing left to read in this partition right now (the log end is known)."""
        hw = self.consumer.highwater(self.tp)
        return hw is not None and position >= hw and not self.pending

    def close(self) -> None:
        self.consumer.close()


class ReadFromKafka(beam.PTransform):
    """All partitions of `topic`, from the group's committed offsets.

    Outputs `records` (KafkaRecord) and `ticks` (Tick: route them straight to the sink).

    `stop_at` maps partition -> exclusive end offset; partitions not in it are read
    unbounded. Partitions are discovered when the pipeline is built."""

    def __init__(self, settings: KafkaSettings, topic: str, *, stop_at: dict[int, int] | None = None,
                 poll_max_records: int = 2000, event_time_slack_s: float = 6 * 3600):
        super().__init__()
        self.settings, self.topic = settings, topic
        self.stop_at = stop_at
        self.poll_max_records = poll_max_records
        self.event_time_slack_s = event_time_slack_s

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
                | "Poll" >> beam.ParDo(_splittable_reader(self.settings, self.poll_max_records,
                                                          bundle_based(pbegin.pipeline), self.event_time_slack_s))
                | "SplitTicks" >> beam.ParDo(_SplitTicks()).with_outputs(TICKS, main="records"))


TICKS = "ticks"


class _SplitTicks(beam.DoFn):
    def process(self, item):
        yield beam.pvalue.TaggedOutput(TICKS, item) if isinstance(item, Tick) else item


def bundle_based(pipeline) -> bool:
    from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner
    return isinstance(getattr(pipeline, "runner", None), BundleBasedDirectRunner)


def _splittable_reader(settings: KafkaSettings, poll_max_records: int, legacy: bool,
                       event_time_slack_s: float) -> beam.DoFn:
    """Beam takes the restriction provider from the process() signature, so bind it here."""
    provider = _Restrictions(settings)

    class ReadPartition(_ReadPartition):
        def process(self, spec: PartitionSpec, tracker=beam.DoFn.RestrictionParam(provider),
                    watermark=beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider())):
            return super().process(spec, tracker, watermark)

    return ReadPartition(settings, poll_max_records, legacy_continuation=legacy,
                         event_time_slack_s=event_time_slack_s)
