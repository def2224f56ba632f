"""`archiefstroom connect PLATFORM --config FILE`: a long-running connector that captures the
configured accounts and produces canonical events into the raw Kafka topic."""
from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

from archiefstroom.connectors.pollers import POLLERS
from archiefstroom.connectors.runtime import KafkaSink, Metrics, StdoutSink, open_checkpoint
from archiefstroom.connectors.settings import PLATFORMS, ConnectorSettings
from archiefstroom.connectors.streams import STREAMS
from archiefstroom.connectors.webhook import MetaWebhook
from archiefstroom.ground import config, registries
from archiefstroom.ground import kafka as kafka_clients
from archiefstroom.ground import metrics as ground_metrics
from archiefstroom.ground.settings import ConfigError, load_yaml

log = logging.getLogger(__name__)


def register(sub):
    p = sub.add_parser("connect", help="run a platform connector (long-running) that feeds the raw topic")
    p.add_argument("platform", choices=PLATFORMS)
    p.add_argument("--config", dest="connector_config", type=Path, required=True,
                   help="connector configuration YAML (see deploy/connectors/*.example.yaml)")
    p.add_argument("--once", action="store_true", help="one poll cycle, then exit (cron-style runs, tests)")
    p.add_argument("--dry-run", action="store_true", help="print events as JSON lines instead of producing to Kafka")
    p.set_defaults(func=run)


def build(settings, cfg, sink, stop: threading.Event):
    """The connector object for a settings file (poller, stream, webhook receiver or importer)."""

    data_dir = settings.data_dir or cfg.data_dir
    metrics = Metrics(settings.connector_name)
    if settings.mode == "webhook":      # Meta retries until we answered: no cursor to keep
        return MetaWebhook(settings, sink, metrics)
    # on the compacted checkpoint topic when producing to Kafka (issue 16), a file in a dry run
    on_kafka = isinstance(sink, KafkaSink)
    checkpoint = open_checkpoint(cfg, settings.connector_name, Path(data_dir), on_kafka=on_kafka,
                                 producer=sink.producer if on_kafka else None)
    if settings.mode == "stream":
        return STREAMS[settings.platform](settings, sink, checkpoint, metrics=metrics, stop=stop)
    # the rules' registries give each thread's harvest window: a poller stops following a thread
    # whose window has closed (issue 17)
    registry = registries.load_for(cfg) if cfg.rules.enabled else None
    return POLLERS[settings.platform](settings, sink, checkpoint, metrics=metrics, stop=stop, registry=registry)


def run(args) -> int:

    settings = load_yaml(args.connector_config, ConnectorSettings)
    if settings.platform != args.platform:
        raise ConfigError(args.connector_config, None, "platform", f"'{args.platform}' (as on the command line)",
                          settings.platform)
    cfg = config.load(args.config)
    sink = StdoutSink(sys.stdout) if args.dry_run else KafkaSink(cfg)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    connector = build(settings, cfg, sink, stop)
    if settings.metrics_port is not None:
        # /metrics, /healthz, /readyz (ready: the broker answers a metadata request, asked every 10 s)
        ready = ({"broker": ground_metrics.polled(lambda meta=kafka_clients.consumer(cfg.kafka): bool(meta.topics()),
                                                  name="broker")} if isinstance(sink, KafkaSink) else {})
        ground_metrics.serve(settings.metrics_host, settings.metrics_port, ready)
    try:
        if settings.mode == "webhook":
            host, port = connector.serve()
            print(f"listening for Meta webhooks on {host}:{port}{settings.webhook.path}", file=sys.stderr)
            stop.wait()
            connector.close()
        elif args.once:
            n = connector.poll_once()
            print(f"{settings.connector_name}: {n} events", file=sys.stderr)
        else:
            connector.run()
    finally:
        if getattr(connector, "cp", None) is not None:
            connector.cp.close()
        sink.close()
    return 0
