"""Run the archiving pipeline: progress while it runs, a drain on SIGTERM/Ctrl-C, a summary at the end."""
from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from dataclasses import dataclass, field

import apache_beam as beam
from kafka import TopicPartition

from archiefstroom import runtimes, stack
from archiefstroom.catalog.feed import BackgroundIndexer
from archiefstroom.ground import kafka as kafka_clients
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
    try:
        ends = end_offsets(cfg, timeout_s=5)
        committed = kafka_clients.committed(cfg.kafka, [TopicPartition(cfg.topics.raw, p) for p in ends])
        return sum(max(0, end - (committed.get(TopicPartition(cfg.topics.raw, p)) or 0)) for p, end in ends.items())
    except Exception as exc:
        log.debug("lag unavailable: %s", exc)
        return None


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

    def report():
        while not done.wait(interval_s):
            c = metrics.read(live["result"]) if "result" in live else {}
            l = lag(cfg)
            print(f"  read {c.get('events_read', 0):>7}  archived {c.get('archived', 0):>7}  "
                  f"dead-lettered {c.get('dead_lettered', 0):>5}  dropped {c.get('dropped', 0):>5}  "
                  f"duplicates {c.get('duplicates', 0):>5} lag {l if l is not None else '?':>6}",
                  flush=True)
    if progress:
        threading.Thread(target=report, daemon=True).start()
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
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        drain.clear()
        if indexer:   # what the run archived is in the catalog when it returns
            indexer.finish()
    summary.seconds = time.monotonic() - started
    summary.lag = lag(cfg)
    return summary
