"""The one Kafka client factory. Everything speaks the Kafka protocol through kafka-python,
so production runs on Apache Kafka (TLS/SASL) by configuration alone.

Tansu note: its ListOffsets(latest) answer is unreliable (it lags the log end),
while the high watermark carried by every Fetch response is right; so
`high_watermarks()` takes the larger of the two.
"""
from __future__ import annotations

import logging
import time
from typing import Iterable

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

from archiefstroom.ground.config import KafkaSettings

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # the producer's max_request_size and every topic's max.message.bytes


def _common(k: KafkaSettings) -> dict:
    # reconnect_backoff_max_ms: kafka-python 3 backs off up to 30 s between attempts to reach a
    # broker that went away (the Java client: 1 s), so a run noticed a restarted broker up to
    # ~36 s late (4 s after a 10 s outage, measured). 1 s: one connection attempt a second
    # per client while it is away, and the run goes on about a second after it is back.
    opts = {"bootstrap_servers": list(k.bootstrap_servers), "client_id": k.client_id,
            "security_protocol": k.security_protocol, "reconnect_backoff_max_ms": 1000}
    if k.sasl_mechanism:
        opts.update(sasl_mechanism=k.sasl_mechanism, sasl_plain_username=k.sasl_username,
                    sasl_plain_password=k.sasl_password)
    for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
        if getattr(k, name):
            opts[name] = getattr(k, name)
    return opts


def producer(k: KafkaSettings, **overrides) -> KafkaProducer:
    """Idempotent-safe defaults: wait for all replicas, keep order per partition."""
    opts = dict(acks="all", linger_ms=5, retries=10, max_in_flight_requests_per_connection=1,
                max_request_size=MAX_MESSAGE_BYTES)
    opts.update(overrides)
    return KafkaProducer(**_common(k), **opts)


def consumer(k: KafkaSettings, *, group: bool = False, **overrides) -> KafkaConsumer:
    """A consumer for manual partition assignment (no group rebalance: a group's first
    join is slow on Tansu, and Beam decides which worker reads which partition).
    With group=True it carries the configured group id, used to commit and read offsets."""
    opts = dict(enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=200,
                max_partition_fetch_bytes=8 * 1024 * 1024, request_timeout_ms=30000)
    if group:
        opts["group_id"] = k.consumer_group
    opts.update(overrides)
    return KafkaConsumer(**_common(k), **opts)


def admin(k: KafkaSettings) -> KafkaAdminClient:
    return KafkaAdminClient(**_common(k))


def ensure_topics(k: KafkaSettings, names: Iterable[str], partitions: int, timeout_s: float = 30,
                  compacted: Iterable[str] = ()) -> None:
    """Create missing topics (those in `compacted` with cleanup.policy=compact); waits until
    their metadata is visible. Every topic takes messages up to MAX_MESSAGE_BYTES (Apache
    Kafka's default is 1 MB): the pipeline's own `max_event_bytes` decides what is too
    large and dead-letters it with the reason, so the broker must not refuse it first."""
    names = list(dict.fromkeys(names))
    compacted = set(compacted)
    client = admin(k)
    try:
        existing = set(client.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            size = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}
            try:
                client.create_topics([NewTopic(n, partitions, 1, topic_configs={"cleanup.policy": "compact", **size}
                                               if n in compacted else size) for n in missing])
            except TopicAlreadyExistsError:
                pass
    finally:
        client.close()
    deadline = time.monotonic() + timeout_s
    c = consumer(k)
    try:
        while time.monotonic() < deadline:
            if all(c.partitions_for_topic(n) for n in names):
                return
            time.sleep(0.2)
        raise TimeoutError(f"topics {names} not visible after {timeout_s}s")
    finally:
        c.close()


def partitions(c: KafkaConsumer, topic: str, timeout_s: float = 30) -> list[TopicPartition]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        parts = c.partitions_for_topic(topic)
        if parts:
            return [TopicPartition(topic, p) for p in sorted(parts)]
        time.sleep(0.2)
    raise TimeoutError(f"topic {topic!r} has no partitions (does it exist?)")


def high_watermarks(c: KafkaConsumer, tps: list[TopicPartition], timeout_s: float = 5.0) -> dict[TopicPartition, int]:
    """Log-end offsets, read from a Fetch response (see module docstring). Leaves `c` unassigned.

    One partition at a time: a poll returns as soon as any partition has data, so the
    highwater of the others would still be unknown."""
    listed = c.end_offsets(tps)
    out = {}
    for tp in tps:
        c.assign([tp])
        c.seek(tp, max(0, listed.get(tp, 0) - 1))
        deadline = time.monotonic() + timeout_s
        c.highwater(tp)
        hw = None
        while hw is None and time.monotonic() < deadline:
            c.poll(timeout_ms=200, max_records=1)
            hw = c.highwater(tp)
        out[tp] = max(listed.get(tp, 0), hw or 0)
    c.unsubscribe()
    return out


# Every blocking group call has a ceiling. kafka-python's committed() without one retries
# forever, also on a request whose answer never comes (it keeps waiting on the same future):
# a broker that restarts at the wrong moment could leave a stage waiting silently. With it,
# the call raises KafkaTimeoutError, which the writer waits out and logs like any outage.
CALL_TIMEOUT_MS = 30_000


def committed(k: KafkaSettings, tps: list[TopicPartition]) -> dict[TopicPartition, int | None]:
    c = consumer(k, group=True)
    try:
        return {tp: committed_offset(c, tp) for tp in tps}
    finally:
        c.close()


def committed_offset(c: KafkaConsumer, tp: TopicPartition) -> int | None:
    """The group's committed offset of `tp` (`c` carries the group id), None if none."""
    return c.committed(tp, timeout_ms=CALL_TIMEOUT_MS)


def resume_offset(c: KafkaConsumer, tp: TopicPartition) -> int:
    """Where the group goes on in a partition (`c` carries the group id): its committed
    offset, else the log start. The source starts reading there and the sink starts
    accounting there, so both must ask the same question the same way."""
    committed = committed_offset(c, tp)
    return committed if committed is not None else \
        c.beginning_offsets([tp], timeout_ms=CALL_TIMEOUT_MS).get(tp, 0)


def commit(c: KafkaConsumer, offsets: dict[TopicPartition, int], metadata: str = "") -> None:
    c.commit({tp: OffsetAndMetadata(off, metadata, -1) for tp, off in offsets.items()}, timeout_ms=CALL_TIMEOUT_MS)


def read_compacted(k: KafkaSettings, topic: str, timeout_s: float = 10.0) -> dict[bytes, bytes]:
    """The live content of a compacted topic: last value per key, tombstoned keys left out.
    A topic that does not exist reads as empty (logged)."""
    c = consumer(k)
    try:
        try:
            tps = partitions(c, topic, timeout_s=timeout_s)
        except TimeoutError:
            log.warning("topic %s not found: nothing to restore", topic)
            return {}
        ends = high_watermarks(c, tps)
        c.assign(tps)
        c.seek_to_beginning(*tps)
        latest: dict[bytes, bytes | None] = {}
        todo = {tp for tp in tps if ends.get(tp, 0) > c.position(tp)}
        while todo:
            batch = c.poll(timeout_ms=1000)
            for msgs in batch.values():
                for msg in msgs:
                    latest[msg.key] = msg.value
            todo = {tp for tp in todo if c.position(tp) < ends[tp]}
            if not batch and todo:
                # nothing came although the log says more exists: compaction may have removed the tail
                todo = {tp for tp in todo if c.position(tp) < ends[tp] - 1}
    finally:
        c.close()
    return {key: value for key, value in latest.items() if value}
