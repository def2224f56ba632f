"""Run the archiving pipeline: progress while it runs, a drain on SIGTERM/Ctrl-C, a summary at the end.

While it runs, the runner's metrics (the poll the progress lines use, the same on every
runner) and the raw topic's lag per partition are exported as Prometheus metrics on
`pipeline.metrics_host:metrics_port` (/metrics, /healthz, /readyz; docs/observability.md)."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import apache_beam as beam
from kafka import TopicPartition

from archiefstroom import runtimes, stack
from archiefstroom.catalog.feed import BackgroundIndexer
from archiefstroom.ground import kafka as kafka_clients
from archiefstroom.ground import metrics as ground_metrics
from archiefstroom.ground import registries
from archiefstroom.ground.config import Config
from archiefstroom.pipelines import archive as archive_pipeline
from archiefstroom.transforms import metrics, resources
from archiefstroom.transforms.drain import DrainSignal

log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    counters: dict[str, int] = field(default_factory=dict)
    lag: int | None = None
    seconds: float = 0.0
    drained: bool = False
    runner: str = ""


def drain_signal(cfg: Config) -> DrainSignal:
    """The marker that ends this pipeline's unbounded reads (one per consumer group)."""
    return DrainSignal.for_run(cfg.data_dir, cfg.kafka.consumer_group)


def request_drain(cfg: Config) -> None:
    """Ask a running pipeline (any process, any runner on this machine) to drain."""
    drain_signal(cfg).request()


def stop_process_group(proc, timeout_s: float = 120) -> None:
    """End a `run` started in its own process group (benchmarks, fault tests): SIGTERM drains
    it (writes and commits what is in flight); SIGKILL if the drain does not end in time."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def end_offsets(cfg: Config, topic: str | None = None, timeout_s: float = 10) -> dict[int, int]:
    """partition -> log end offset now: `run(stop_at=...)` then archives exactly what is there."""
    c = kafka_clients.consumer(cfg.kafka)
    try:
        tps = kafka_clients.partitions(c, topic or cfg.topics.raw, timeout_s=timeout_s)
        return {tp.partition: end for tp, end in kafka_clients.high_watermarks(c, tps).items()}
    finally:
        c.close()


def partition_lag(cfg: Config) -> dict[int, int] | None:
    """partition -> unarchived events in the raw topic: log end minus the group's committed
    offset (None when the broker does not answer)."""
    try:
        ends = end_offsets(cfg, timeout_s=5)
        committed = kafka_clients.committed(cfg.kafka, [TopicPartition(cfg.topics.raw, p) for p in ends])
        return {p: max(0, end - (committed.get(TopicPartition(cfg.topics.raw, p)) or 0)) for p, end in ends.items()}
    except Exception as exc:
        log.debug("lag unavailable: %s", exc)
        return None


def lag(cfg: Config) -> int | None:
    """Unarchived events in the raw topic: log end minus the group's committed offsets."""
    per = partition_lag(cfg)
    return None if per is None else sum(per.values())


class Export:
    """The run's metrics endpoint: each poll copies the runner's counters and the raw topic's
    lag into the process registry. Ready while the broker answered the last 30 s and the job
    has been submitted to the runner."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.exporter = metrics.Exporter()
        self.broker = ground_metrics.recent(30.0)
        self.job = {"submitted": False}
        self.server = ground_metrics.start(cfg.pipeline.metrics_host, cfg.pipeline.metrics_port, {
            "broker": self.broker,
            "runner": lambda: True if self.job["submitted"] else "job not submitted yet"}, what="pipeline")

    def poll(self, result) -> tuple[dict[str, int], int | None]:
        c = metrics.read(result) if result is not None else {}
        self.exporter.update(c)
        per = partition_lag(self.cfg)
        if per is not None:
            self.broker.mark()
            self.exporter.lag(self.cfg.topics.raw, per)
        return c, (None if per is None else sum(per.values()))

    def submitted(self) -> None:
        self.job["submitted"] = True
        self.exporter.running(True)

    def close(self, counters: dict[str, int]) -> None:
        self.exporter.update(counters)
        self.exporter.running(False)
        self.job["submitted"] = False
        ground_metrics.stop(self.server)
        for name in ("broker", "runner"):
            ground_metrics.remove_check(name)


def run(cfg: Config, *, stop_at: dict[int, int] | None = None, progress: bool = True,
        interval_s: float = 2.0, argv: list[str] | None = None) -> RunSummary:
    """Run the pipeline on the configured runner until `stop_at` is reached or a drain is
    requested (SIGTERM, Ctrl-C, request_drain). `argv`: Beam options that win over the config.
    Call it from the main thread: Beam's portable job server installs a signal handler."""
    summary = RunSummary()
    drain = drain_signal(cfg)
    drain.clear()
    signals = {"count": 0}

    def on_signal(signum, _frame):
        signals["count"] += 1
        if signals["count"] > 1:
            print("\nsecond signal: exiting without drain (uncommitted records will be re-read)", file=sys.stderr)
            raise SystemExit(130)
        print("\ndraining: finishing in-flight records, writing and committing ...", file=sys.stderr, flush=True)
        drain.request()
        summary.drained = True

    previous = {}
    started = time.monotonic()
    registry = registries.load_for(cfg)   # start-up validation: a wrong registry stops here
    # topics the pipeline reads and writes exist before it starts
    stack.ensure(cfg)
    done = threading.Event()
    live: dict = {}
    export = Export(cfg)

    def report():
        while not done.wait(interval_s):
            try:
                c, l = export.poll(live.get("result"))
            except Exception as exc:   # a failed poll shows in the next one and in /readyz, never stops the run
                log.warning("metrics poll failed: %s", type(exc).__name__)
                continue
            if not progress:
                continue
            print(f"  read {c.get('events_read', 0):>7}  archived {c.get('archived', 0):>7}  "
                  f"dead-lettered {c.get('dead_lettered', 0):>5}  dropped {c.get('dropped', 0):>5}  "
                  f"duplicates {c.get('duplicates', 0):>5} lag {l if l is not None else '?':>6}",
                  flush=True)
    if progress or export.server is not None:
        threading.Thread(target=report, daemon=True, name="progress-metrics").start()
    indexer = (BackgroundIndexer(cfg).start()
               if cfg.catalog.index_in_run and cfg.catalog.announce_topic else None)
    try:
        opts = runtimes.options(cfg.pipeline.runner, cfg.pipeline.beam_options, argv)
        summary.runner = runtimes.runner_for(cfg.pipeline.runner, cfg.pipeline.beam_options, argv)
        p = beam.Pipeline(options=opts)
        feedback_stop = (end_offsets(cfg, cfg.burgerbrief.feedback_topic)
                         if stop_at is not None and cfg.burgerbrief.enabled else None)
        archive_pipeline.build(p, cfg, registry, stop_at=stop_at, feedback_stop_at=feedback_stop, drain=drain)
        if runtimes.workers_in_this_process(opts):  # load the models while the job server starts
            threading.Thread(target=archive_pipeline.prepare, args=(cfg, registry), daemon=True,
                             name="prepare-models").start()
        try:
            result = live["result"] = p.run()
            export.submitted()
            # after p.run(): a portable runner's job server sets its own SIGINT handler when it
            # starts (it would stop the job server, not drain); ours replaces it
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, on_signal)
            result.wait_until_finish()
        finally:
            done.set()
            resources.close_all()
        summary.counters = metrics.read(result)
    finally:
        export.close(summary.counters)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        drain.clear()
        if indexer:   # what the run archived is in the catalog when it returns
            indexer.finish()
    summary.seconds = time.monotonic() - started
    summary.lag = lag(cfg)
    return summary
