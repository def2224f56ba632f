"""Counters that Beam reports as metrics and that the local runner can also read live.

Beam metrics are the production interface (Flink and Dataflow show them); but a
streaming pipeline on the local DirectRunner only hands its result object back
when it has finished, so `archiefstroom run` could not print progress while it
runs. Every counter therefore also increments a process-local mirror, which
the local runner reads; on a cluster the mirror simply stays local to workers.
"""
from __future__ import annotations

import threading
from collections import Counter

from apache_beam.metrics import Metrics

_LOCK = threading.Lock()
_LOCAL: Counter = Counter()


class _Counter:
    def __init__(self, namespace: str, name: str):
        self.key = (namespace, name)
        self.beam = Metrics.counter(namespace, name)

    def inc(self, n: int = 1) -> None:
        if n:
            self.beam.inc(n)
            with _LOCK:
                _LOCAL[self.key] += n


def counter(namespace: str, name: str) -> _Counter:
    return _Counter(namespace, name)


def snapshot(namespace: str | None = None) -> dict[str, int]:
    with _LOCK:
        return {name: v for (ns, name), v in _LOCAL.items() if namespace is None or ns == namespace}


def reset() -> None:
    with _LOCK:
        _LOCAL.clear()
