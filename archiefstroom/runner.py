"""Run the archiving pipeline: progress while it runs, a drain on SIGTERM/Ctrl-C, a summary at the end."""
from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from dataclasses import dataclass, field

from apache_beam.metrics.metric import MetricsFilter

from archiefstroom import kafka as kafka_clients
from archiefstroom.config import Config
from archiefstroom.pipelines import archive as archive_pipeline
from archiefstroom.transforms import kafka_source, metrics, resources

log = logging.getLogger(__name__)
COUNTERS = ("events_read", "archived", "dead_lettered", "dropped", "duplicates", "objects_written",
            "batches_committed")


@dataclass
class RunSummary:
    counters: dict[str, int] = field(default_factory=dict)
    lag: int | None = None
    seconds: float = 0.0
    drained: bool = False


def _counters(result) -> dict[str, int]:
    out = {}
    try:
        res = result.metrics().query(MetricsFilter().with_namespace("archiefstroom"))
    except Exception:  # metrics not available on this runner while running
        return out
    for c in res.get("counters", []):
        out[c.key.metric.name] = out.get(c.key.metric.name, 0) + (c.committed or c.attempted or 0)
    return out


def end_offsets(cfg: Config, topic: str | None = None, timeout_s: float = 10) -> dict[int, int]:
    """partition -> log end offset now: `run(stop_at=...)` then archives exactly what is there."""
    c = kafka_clients.consumer(cfg.kafka)
    try:
        tps = kafka_clients.partitions(c, topic or cfg.topics.raw, timeout_s=timeout_s)
        return {tp.partition: end for tp, end in kafka_clients.high_watermarks(c, tps).items()}
    finally:
        c.close()


def lag(cfg: Config) -> int | None:
    """Unarchived events in the raw topic: log end minus the group's committed offsets."""
    from kafka import TopicPartition
    try:
        ends = end_offsets(cfg, timeout_s=5)
        committed = kafka_clients.committed(cfg.kafka, [TopicPartition(cfg.topics.raw, p) for p in ends])
        return sum(max(0, end - (committed.get(TopicPartition(cfg.topics.raw, p)) or 0)) for p, end in ends.items())
    except Exception as exc:
        log.debug("lag unavailable: %s", exc)
        return None


def run(cfg: Config, *, stop_at: dict[int, int] | None = None, progress: bool = True,
        interval_s: float = 2.0) -> RunSummary:
    kafka_source.STOP.clear()
    summary = RunSummary()
    signals = {"count": 0}

    def drain(signum, _frame):
        signals["count"] += 1
        if signals["count"] > 1:
            print("\nsecond signal: exiting without drain (uncommitted records will be re-read)", file=sys.stderr)
            raise SystemExit(130)
        print("\ndraining: finishing in-flight records, writing and committing ...", file=sys.stderr, flush=True)
        kafka_source.STOP.set()
        summary.drained = True

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, drain)
    started = time.monotonic()
    metrics.reset()
    # topics the pipeline reads and writes exist before partitions are discovered
    from archiefstroom import stack
    stack.ensure(cfg)
    done = threading.Event()

    def report():
        # the local runner returns its result only at the end: read the live mirror
        while not done.wait(interval_s):
            c = metrics.snapshot("archiefstroom")
            l = lag(cfg)
            print(f"  read {c.get('events_read', 0):>7}  archived {c.get('archived', 0):>7}  "
                  f"dead-lettered {c.get('dead_lettered', 0):>5}  dropped {c.get('dropped', 0):>5}  "
                  f"duplicates {c.get('duplicates', 0):>5} lag {l if l is not None else '?':>6}",
                  flush=True)
    if progress:
        threading.Thread(target=report, daemon=True).start()
    try:
        p = archive_pipeline.pipeline(cfg)
        feedback_stop = (end_offsets(cfg, cfg.burgerbrief.feedback_topic)
                         if stop_at is not None and cfg.burgerbrief.enabled else None)
        archive_pipeline.build(p, cfg, stop_at=stop_at, feedback_stop_at=feedback_stop)
        try:
            result = p.run()
            result.wait_until_finish()
        finally:
            done.set()
            resources.close_all()
        # the local runner's Beam metrics miss bundles; its live mirror does not
        local = metrics.snapshot("archiefstroom")
        summary.counters = local if local else _counters(result)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    summary.seconds = time.monotonic() - started
    summary.lag = lag(cfg)
    return summary
