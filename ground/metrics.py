"""The one way to count outside Beam: one prometheus_client registry per process, its
metrics declared once by name, and its HTTP endpoint.

A metric is declared where it is first used (`counter`, `gauge`, `histogram`); asking again
for the same name returns the same metric, so two objects of one process count into one
series. Asking for a name with another kind or other labels is a programming error and
raises. The Beam pipeline counts with Beam's own counters (transforms/metrics.py).
"""
from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, start_http_server
from prometheus_client.metrics import MetricWrapperBase, disable_created_metrics

# the `_created` series double every counter's lines and tell a scraper nothing it needs
disable_created_metrics()

REGISTRY = CollectorRegistry()
# open file descriptors, memory and CPU: what a flood of clients shows first
ProcessCollector(registry=REGISTRY)

_lock = threading.Lock()
_declared: dict[str, tuple[type, tuple[str, ...], MetricWrapperBase]] = {}


def counter(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Counter:
    """A counter; exposed as `<name>_total`."""
    return _declare(Counter, name, documentation, labels)


def gauge(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Gauge:
    return _declare(Gauge, name, documentation, labels)


def histogram(name: str, documentation: str, labels: tuple[str, ...] = (),
              buckets: tuple[float, ...] = Histogram.DEFAULT_BUCKETS) -> Histogram:
    return _declare(Histogram, name, documentation, labels, buckets=buckets)


def _declare(kind, name, documentation, labels, **options):
    with _lock:
        known = _declared.get(name)
        if known is None:
            metric = kind(name, documentation, labels, registry=REGISTRY, **options)
            _declared[name] = (kind, tuple(labels), metric)
            return metric
        if known[:2] != (kind, tuple(labels)):
            raise ValueError(f"metric {name} is already declared as a {known[0].__name__} "
                             f"with labels {known[1]}")
        return known[2]


def serve(host: str, port: int):
    """Serve the registry in Prometheus text format on http://host:port/metrics from a daemon
    thread; returns the server (its `server_address` has the bound port, `shutdown()` stops it)."""
    server, _thread = start_http_server(port, addr=host, registry=REGISTRY)
    return server
