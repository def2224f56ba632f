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
archived); a DrainSignal (transforms/drain.py, requested by `run` on SIGTERM) ends
every restriction at the next poll, so the sink flushes and commits: a drain.

Portable: process() polls for at most POLL_SECONDS, hands back what it read and
defers the rest of its restriction (`defer_remainder`), as every portable runner
(Prism, Flink, Dataflow) expects. Partitions are discovered inside the pipeline,
so building it does no broker I/O.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import NamedTuple

import apache_beam as beam
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.utils.timestamp import Duration, Timestamp
from kafka import TopicPartition

from archiefstroom.core.envelope import event_time_ms
from archiefstroom.ground import kafka as kafka_clients
from archiefstroom.ground.config import KafkaSettings
from archiefstroom.transforms import metrics, resources
from archiefstroom.transforms.drain import DrainSignal

log = logging.getLogger(__name__)

# How long one process() call polls a backlog before it hands its records to the runner: a
# bundle's records reach the next stages when it ends. A caught-up partition returns at once.
POLL_SECONDS = 0.5
# ... and at most this many records (one sink batch at the default rotation): with a deep
# backlog a call would otherwise hand over whatever 0.5 s of fetching brings. 2,000 per call
# was measured too: bundles that small cost 40 % of the bulk throughput on Prism.
MAX_RECORDS_PER_CALL = 10_000

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
    gaps: tuple = ()           # (first, last) offset ranges Kafka does not have (compaction, transactions)


class PartitionSpec(NamedTuple):
    topic: str
    partition: int
    stop_at: int | None = None  # exclusive; None = unbounded (streaming)


class _Restrictions(RestrictionProvider):
    def __init__(self, settings: KafkaSettings):
        self.settings = settings

    def initial_restriction(self, spec: PartitionSpec) -> OffsetRange:
        c = kafka_clients.consumer(self.settings, group=True)
        try:
            start = kafka_clients.resume_offset(c, TopicPartition(spec.topic, spec.partition))
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



class TopicClock:
    """Event time of one topic as read in this process: the latest event time read from
    any partition: a caught-up partition follows it (EventClock), so an idle partition
    does not hold the watermark back. Per worker process: a heuristic for idle
    partitions only; each partition's own watermark is its estimator's."""

    def __init__(self):
        self.lock = threading.Lock()
        self.max_ms: int | None = None

    def see(self, ms: int) -> None:
        with self.lock:
            if self.max_ms is None or ms > self.max_ms:
                self.max_ms = ms


def _topic_clock(topic: str) -> TopicClock:
    return resources.shared(("kafka.event_time", topic), TopicClock)


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
    """Polls one partition per restriction for up to POLL_SECONDS, then defers the rest."""

    def __init__(self, settings: KafkaSettings, poll_max_records: int, drain: DrainSignal | None,
                 idle_resume_s: float = 0.05, event_time_slack_s: float = 6 * 3600):
        self.settings = settings
        self.slack_ms = int(event_time_slack_s * 1000)
        self.poll_max_records = poll_max_records
        self.idle_resume_s = idle_resume_s
        self.drain = drain
        self.read = metrics.counter("events_read")

    def _reader(self, spec: PartitionSpec) -> "_PartitionReader":
        key = ("kafka.reader", tuple(self.settings.bootstrap_servers), spec.topic, spec.partition)
        topic_clock = _topic_clock(spec.topic)
        return resources.shared(key, lambda: _PartitionReader(self.settings, spec.topic, spec.partition, topic_clock))

    def _draining(self) -> bool:
        return self.drain is not None and self.drain.requested()

    def process(self, spec: PartitionSpec, tracker, watermark=None):
        """Returns a list: every claim is made before the runner looks at the restriction."""
        start = tracker.current_restriction().start
        out: list = []
        position = start
        gaps: list[tuple[int, int]] = []
        batch_max = -1   # latest event time (ms) claimed in this call

        def tick(final: bool):
            out.append(Tick(spec.topic, spec.partition, position, final, tuple(gaps)))

        def finish():  # nothing more to read in this restriction
            tracker.try_claim(tracker.current_restriction().stop)
            tick(True)
            return out

        def advance(reader):  # event time: this partition's watermark
            reader.clock.see(batch_max)
            wm = reader.clock.watermark_ms(caught_up=reader.caught_up(position), slack_ms=self.slack_ms)
            if watermark is not None and wm is not None:
                current = watermark.current_watermark()
                if current is None or Timestamp.of(wm / 1000) > current:
                    watermark.set_watermark(Timestamp.of(wm / 1000))

        if self._draining() or start >= tracker.current_restriction().stop:
            return finish()
        reader = self._reader(spec)
        deadline = time.monotonic() + POLL_SECONDS
        stop = tracker.current_restriction().stop
        while position < stop and time.monotonic() < deadline and not self._draining():
            batch = reader.fetch(position, timeout_ms=250, max_records=self.poll_max_records)
            if not batch:
                if stop != INFINITY and reader.end() >= stop and reader.consumed_to() >= stop:
                    advance(reader)
                    return finish()  # the rest of the range holds no records (compacted)
                break
            for i, msg in enumerate(batch):
                if not tracker.try_claim(msg.offset):
                    reader.unread(batch[i:])
                    tick(False)
                    advance(reader)
                    return out  # the runner split the restriction here
                self.read.inc()
                batch_max = max(batch_max, event_time_ms(msg.headers, msg.timestamp) or batch_max)
                if msg.offset > position:
                    gaps.append((position, msg.offset - 1))
                position = msg.offset + 1
                out.append(KafkaRecord(msg.topic, msg.partition, msg.offset, msg.timestamp, msg.key, msg.value))
            stop = tracker.current_restriction().stop
            if len(out) >= MAX_RECORDS_PER_CALL:
                break   # a bundle's worth: the next read waits for this bundle's stages (back-pressure)
            if reader.caught_up(position):
                break   # live traffic: hand these to the next stages now; a backlog polls the full window
        advance(reader)
        if self._draining() or (spec.stop_at is not None and position >= spec.stop_at):
            return finish()
        if out or reader.tick_due():
            tick(False)
        if position < tracker.current_restriction().stop:
            # caught up: come back soon; else at once (the runner may also checkpoint us first)
            tracker.defer_remainder(Duration.of(self.idle_resume_s if not out else 0))
        return out


class _PartitionReader:
    """A consumer of one partition, kept across bundles (runners create DoFn instances
    per bundle, and a fresh consumer's first fetch costs a round of metadata requests),
    with the messages fetched but not yet claimed kept for the next call: when a runner
    checkpoints mid-batch, nothing is fetched twice and progress is guaranteed."""

    def __init__(self, settings: KafkaSettings, topic: str, partition: int, topic_clock: "TopicClock"):
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


class _Discover(beam.DoFn):
    """Topic -> one PartitionSpec per partition, asked of the broker when the pipeline runs."""

    def __init__(self, settings: KafkaSettings, stop_at: dict[int, int] | None):
        self.settings, self.stop_at = settings, stop_at

    def process(self, topic: str):
        c = kafka_clients.consumer(self.settings)
        try:
            parts = [tp.partition for tp in kafka_clients.partitions(c, topic)]
        finally:
            c.close()
        for p in sorted(parts):
            yield PartitionSpec(topic, p, None if self.stop_at is None else self.stop_at.get(p, 0))


class ReadFromKafka(beam.PTransform):
    """All partitions of `topic`, from the group's committed offsets.

    Outputs `records` (KafkaRecord) and `ticks` (Tick: route them straight to the sink).

    `stop_at` maps partition -> exclusive end offset; partitions not in it are read
    unbounded. `drain`: the signal that ends an unbounded read (a drain)."""

    def __init__(self, settings: KafkaSettings, topic: str, *, stop_at: dict[int, int] | None = None,
                 poll_max_records: int = 2000, event_time_slack_s: float = 6 * 3600,
                 drain: DrainSignal | None = None):
        super().__init__()
        self.settings, self.topic = settings, topic
        self.stop_at = stop_at
        self.poll_max_records = poll_max_records
        self.event_time_slack_s = event_time_slack_s
        self.drain = drain

    def expand(self, pbegin):
        return (pbegin
                | "Topic" >> beam.Create([self.topic])
                | "Partitions" >> beam.ParDo(_Discover(self.settings, self.stop_at))
                | "SpreadPartitions" >> beam.Reshuffle()
                | "Poll" >> beam.ParDo(_splittable_reader(self.settings, self.poll_max_records, self.drain,
                                                          self.event_time_slack_s))
                | "SplitTicks" >> beam.ParDo(_SplitTicks()).with_outputs(TICKS, main="records"))


TICKS = "ticks"


class _SplitTicks(beam.DoFn):
    def process(self, item):
        yield beam.pvalue.TaggedOutput(TICKS, item) if isinstance(item, Tick) else item


def _splittable_reader(settings: KafkaSettings, poll_max_records: int, drain: DrainSignal | None,
                       event_time_slack_s: float) -> beam.DoFn:
    """Beam takes the restriction provider from the process() signature, so bind it here."""
    provider = _Restrictions(settings)

    class ReadPartition(_ReadPartition):
        def process(self, spec: PartitionSpec, tracker=beam.DoFn.RestrictionParam(provider),
                    watermark=beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider())):
            return super().process(spec, tracker, watermark)

    return ReadPartition(settings, poll_max_records, drain, event_time_slack_s=event_time_slack_s)
